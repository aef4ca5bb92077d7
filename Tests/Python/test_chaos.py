"""Chaos: the compose topology as processes with two replicas of every service and two gateways
on one PostgreSQL, under a mixed load of writes and reads through both gateways, while one
replica of each service in turn (for analytics and notify: the one following the feeds) is killed
with SIGKILL and started again.

What must hold: a caller gets success or UNAVAILABLE, never a wrong answer; every acknowledged
write is still there afterwards; the feed consumers saw every event exactly once (each routing is
in the unit's inbox once; analytics counts every item once: its figure equals intake's list)."""
from __future__ import annotations

import collections
import random
import threading
import time

import grpc
import pytest

from conftest import ensure_generated
from replicas import environment, kill9, postgres_topology, the_follower
from topology import Topology

ensure_generated()
from xieshang.analytics.v1 import analytics_pb2 as apb, analytics_pb2_grpc  # noqa: E402
from xieshang.directory.v1 import directory_pb2 as dpb, directory_pb2_grpc  # noqa: E402
from xieshang.gateway.v1 import gateway_pb2 as gpb, gateway_pb2_grpc  # noqa: E402
from xieshang.intake.v1 import intake_pb2 as ipb, intake_pb2_grpc  # noqa: E402
from xieshang.notify.v1 import notify_pb2 as npb, notify_pb2_grpc  # noqa: E402

COUNTY = 2
PUBLIC = (("x-xieshang-committee", str(COUNTY)),)
SERVICES = ["directory", "intake", "proposals", "consultation", "analytics", "notify", "gateway"]
#: Allowed failures while a replica dies: the call did not happen (or is not known to have).
ALLOWED = {grpc.StatusCode.UNAVAILABLE}


@pytest.fixture(scope="module")
def topology():
    # The load's public calls all come from this address: above the per-address limit they would
    # be refused (RESOURCE_EXHAUSTED), which is the limiter working, not what this test is about.
    with environment(XIESHANG_PUBLIC_RATE="1000000"), postgres_topology(replicas={s: 2 for s in SERVICES}) as t:
        yield t


class Stubs:
    def __init__(self, address: str):
        self.channel = grpc.insecure_channel(address)
        self.gateway = gateway_pb2_grpc.GatewayServiceStub(self.channel)
        self.directory = directory_pb2_grpc.DirectoryServiceStub(self.channel)
        self.intake = intake_pb2_grpc.IntakeServiceStub(self.channel)
        self.notify = notify_pb2_grpc.NotifyServiceStub(self.channel)
        self.analytics = analytics_pb2_grpc.AnalyticsServiceStub(self.channel)


class Load:
    """Writers and readers over both gateways, recording what was acknowledged and every failure."""

    def __init__(self, topology: Topology):
        self.gateways = [Stubs(topology.address("gateway", i)) for i in range(2)]
        login = self.gateways[0].gateway.Login
        self.tokens = {u: login(gpb.LoginRequest(username=u, password="xieshang-demo"), timeout=30)
                       for u in ("changshun.liaison", "changshun.unit1", "changshun.leader")}
        self.unit_id = self.tokens["changshun.unit1"].principal.unit_id
        self.member = self.gateways[0].directory.ListMembers(dpb.ListMembersRequest(page_size=1), metadata=self.md("changshun.liaison")).members[0]
        self.tickets: dict[str, str] = {}   # acknowledged: code → text
        self.routed: set[int] = set()        # acknowledged routings
        self.failures: collections.Counter = collections.Counter()
        self.wrong: list[str] = []
        self.calls = 0
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def md(self, username: str) -> tuple:
        return (("authorization", f"Bearer {self.tokens[username].token}"),)

    def gw(self) -> Stubs:
        return random.choice(self.gateways)

    def attempt(self, what: str, call):
        """Runs `call`; None when it failed in an allowed way (counted), raising nothing."""
        with self.lock:
            self.calls += 1
        try:
            return call()
        except grpc.RpcError as e:
            with self.lock:
                self.failures[(what, e.code().name)] += 1
                if e.code() not in ALLOWED:
                    self.wrong.append(f"{what}: {e.code().name} {e.details()}")
            return None

    def public_writer(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            text = f"混沌测试第{n}条：小区路灯不亮"
            t = self.attempt("SubmitPublic", lambda: self.gw().intake.SubmitPublic(
                ipb.PublicSubmission(text=text, channel=ipb.CHANNEL_QR_POINT), metadata=PUBLIC, timeout=10))
            if t is not None:
                with self.lock:
                    self.tickets[t.ticket_code] = text

    def staff_writer(self):
        liaison = self.md("changshun.liaison")
        n = 0
        while not self.stop.is_set():
            n += 1
            item = self.attempt("SubmitItem", lambda: self.gw().intake.SubmitItem(ipb.Item(
                text=f"混沌测试交办第{n}件：道路破损", channel=ipb.CHANNEL_PHONE, raiser=ipb.Raiser(name="赵六", phone="13600000000")),
                metadata=liaison, timeout=10))
            if item is None:
                continue
            reg = None
            while reg is None and not self.stop.is_set():
                current = self.attempt("GetItem", lambda: self.gw().intake.GetItem(ipb.GetRequest(id=item.id), metadata=liaison, timeout=10))
                if current is None:
                    continue
                if current.state != ipb.ITEM_STATE_RECEIVED:
                    reg = current
                    break
                reg = self.attempt("RegisterItem", lambda: self.gw().intake.RegisterItem(
                    ipb.RegisterRequest(id=item.id, version=current.version, category="交通"), metadata=liaison, timeout=10))
            if reg is None or reg.state != ipb.ITEM_STATE_REGISTERED:
                continue
            routed = self.attempt("RouteItem", lambda: self.gw().intake.RouteItem(ipb.RouteRequest(
                id=item.id, version=reg.version, mode=ipb.HANDLING_MODE_PHONE, unit_id=self.unit_id), metadata=liaison, timeout=10))
            if routed is not None:
                with self.lock:
                    self.routed.add(item.id)

    def reader(self):
        while not self.stop.is_set():
            with self.lock:
                known = random.choice(list(self.tickets.items())) if self.tickets else None
            if known:
                code, text = known
                t = self.attempt("GetTicket", lambda: self.gw().intake.GetTicket(ipb.TicketRequest(ticket_code=code), metadata=PUBLIC, timeout=10))
                if t is not None and (t.text != text or t.ticket_code != code):
                    self.wrong.append(f"GetTicket {code}: {t.text!r}")
            m = self.attempt("GetMember", lambda: self.gw().directory.GetMember(dpb.GetRequest(id=self.member.id),
                                                                                  metadata=self.md("changshun.liaison"), timeout=10))
            if m is not None and (m.id, m.name) != (self.member.id, self.member.name):
                self.wrong.append(f"GetMember {self.member.id}: {m.name!r}")
            self.attempt("ListNotifications", lambda: self.gw().notify.ListNotifications(
                npb.ListNotificationsRequest(page_size=5), metadata=self.md("changshun.unit1"), timeout=10))


def test_killing_a_replica_of_each_service_loses_nothing_and_counts_nothing_twice(topology):
    load = Load(topology)
    workers = [threading.Thread(target=f, daemon=True) for f in (load.public_writer, load.staff_writer, load.reader)]
    for w in workers:
        w.start()
    time.sleep(2)
    killed = []
    try:
        for service in SERVICES:
            replica = the_follower(topology, service) if service in ("analytics", "notify") else random.randrange(2)
            kill9(topology, service, replica)
            killed.append(f"{service}[{replica}]")
            time.sleep(2)
            topology.start(service, replica)
            time.sleep(1)
    finally:
        load.stop.set()
        for w in workers:
            w.join(30)
    print(f"chaos: killed {', '.join(killed)}; {load.calls} calls, {len(load.tickets)} submissions and {len(load.routed)} routings "
          f"acknowledged; failures {dict(load.failures)}")
    assert not load.wrong, load.wrong[:10]
    assert len(load.tickets) > 20 and len(load.routed) > 5, (len(load.tickets), len(load.routed))

    gw = load.gateways[0]
    # Every acknowledged submission is there, with its text.
    for code, text in load.tickets.items():
        assert gw.intake.GetTicket(ipb.TicketRequest(ticket_code=code), metadata=PUBLIC, timeout=10).text == text
    # Notify saw each routing once.
    routed = {str(i) for i in load.routed}

    def inbox():
        notes = gw.notify.ListNotifications(npb.ListNotificationsRequest(page_size=1000), metadata=load.md("changshun.unit1"), timeout=10).notifications
        return [n.entity_id for n in notes if n.kind == "item.routed"]
    deadline = time.monotonic() + 60
    while not routed <= set(inbox()) and time.monotonic() < deadline:
        time.sleep(0.5)
    seen = collections.Counter(inbox())
    assert routed <= set(seen), sorted(routed - set(seen))[:10]
    assert all(n == 1 for n in seen.values()), [k for k, n in seen.items() if n > 1][:10]
    # Analytics counted every item once.
    # (Counted page by page: a list's total stops counting at 500.)
    listed, token = 0, ""
    while True:
        page = gw.intake.ListItems(ipb.ListItemsRequest(page_size=1000, page_token=token), metadata=load.md("changshun.liaison"), timeout=30)
        listed += len(page.items)
        token = page.next_page_token
        if not token:
            break
    assert listed >= len(load.tickets) + len(load.routed)
    deadline = time.monotonic() + 60
    while True:
        received = gw.analytics.GetDashboard(apb.DashboardRequest(), metadata=load.md("changshun.leader"), timeout=10).current.intake.received
        if received == listed or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert received == listed
