"""Two replicas each of analytics and notify on one PostgreSQL (the compose topology as
processes): exactly one of each follows the feeds (the holder of a PostgreSQL advisory lock), the
others answer reads; `kill -9` of the one that follows hands the work to the other within
seconds, and nothing is applied twice or skipped: analytics' figures equal what intake lists, and
the unit's inbox holds each routing once."""
from __future__ import annotations

import time

import grpc
import pytest

from conftest import ensure_generated
from replicas import following as leaders, kill9, postgres_topology, wait_until

ensure_generated()
from xieshang.analytics.v1 import analytics_pb2 as apb, analytics_pb2_grpc  # noqa: E402
from xieshang.gateway.v1 import gateway_pb2 as gpb, gateway_pb2_grpc  # noqa: E402
from xieshang.intake.v1 import intake_pb2 as ipb, intake_pb2_grpc  # noqa: E402
from xieshang.notify.v1 import notify_pb2 as npb, notify_pb2_grpc  # noqa: E402

COUNTY = 2


@pytest.fixture(scope="module")
def topology():
    with postgres_topology(replicas={"analytics": 2, "notify": 2}) as t:
        yield t


class Gateway:
    def __init__(self, address: str):
        self.channel = grpc.insecure_channel(address)
        gw = gateway_pb2_grpc.GatewayServiceStub(self.channel)
        self.intake = intake_pb2_grpc.IntakeServiceStub(self.channel)
        self.notify = notify_pb2_grpc.NotifyServiceStub(self.channel)
        self.analytics = analytics_pb2_grpc.AnalyticsServiceStub(self.channel)
        self.logins = {u: gw.Login(gpb.LoginRequest(username=u, password="xieshang-demo"), timeout=30)
                       for u in ("changshun.liaison", "changshun.unit1", "changshun.leader")}

    def md(self, username: str) -> tuple:
        return (("authorization", f"Bearer {self.logins[username].token}"),)

    def route(self, n: int, tag: str) -> list[int]:
        liaison = self.md("changshun.liaison")
        ids = []
        for i in range(n):
            item = self.intake.SubmitItem(ipb.Item(text=f"{tag}第{i}号：路灯不亮", channel=ipb.CHANNEL_PHONE,
                                                   raiser=ipb.Raiser(name="王五", phone="13700000000")), metadata=liaison, timeout=20)
            reg = self.intake.RegisterItem(ipb.RegisterRequest(id=item.id, version=item.version, category="民生"), metadata=liaison, timeout=20)
            self.intake.RouteItem(ipb.RouteRequest(id=item.id, version=reg.version, mode=ipb.HANDLING_MODE_PHONE,
                                                   unit_id=self.logins["changshun.unit1"].principal.unit_id), metadata=liaison, timeout=20)
            ids.append(item.id)
        return ids

    def routed_in_inbox(self) -> list[str]:
        r = self.notify.ListNotifications(npb.ListNotificationsRequest(page_size=1000), metadata=self.md("changshun.unit1"), timeout=20)
        return [n.entity_id for n in r.notifications if n.kind == "item.routed"]


def test_one_replica_follows_and_the_other_takes_over_when_it_dies(topology):
    gw = Gateway(topology.gateway_address)
    for service in ("analytics", "notify"):
        wait_until(f"one {service} replica follows the feeds", lambda s=service: (
            (lambda l: l if len(l) == 1 else None)(leaders(topology, s)), leaders(topology, s)))

    ids = gw.route(5, "甲")
    wait_until("the first routings in the inbox", lambda: (sorted(gw.routed_in_inbox()) == sorted(map(str, ids)) or None, gw.routed_in_inbox()))

    takeovers = {}
    for service in ("notify", "analytics"):
        [leader] = leaders(topology, service)
        kill9(topology, service, leader)
        started = time.monotonic()
        wait_until(f"the other {service} replica took over", lambda s=service, dead=leader: (
            leaders(topology, s) == [1 - dead] or None, leaders(topology, s)), timeout=30)
        takeovers[service] = time.monotonic() - started
        # Work done while (and after) it changed hands.
        ids += gw.route(4, f"{service}乙")
        topology.start(service, leader)
    print(f"takeover: notify {takeovers['notify']:.1f} s, analytics {takeovers['analytics']:.1f} s")
    assert all(t < 15 for t in takeovers.values()), takeovers

    # Each routing once in the inbox: none lost, none made twice.
    wait_until("every routing in the inbox", lambda: (sorted(gw.routed_in_inbox()) == sorted(map(str, ids)) or None,
                                                     (len(gw.routed_in_inbox()), len(ids))), timeout=60)
    # Still exactly one follows, after the killed ones came back.
    for service in ("analytics", "notify"):
        assert len(leaders(topology, service)) == 1

    # Analytics counted every item once: its figure equals intake's list.
    listed = gw.intake.ListItems(ipb.ListItemsRequest(page_size=1), metadata=gw.md("changshun.liaison")).total

    def counted():
        d = gw.analytics.GetDashboard(apb.DashboardRequest(), metadata=gw.md("changshun.leader"), timeout=10)
        return (d.current.intake.received == listed) or None, (d.current.intake.received, listed)
    wait_until("analytics counted each item once", counted, timeout=60)
