"""Notifications end to end: the compose topology as processes (PostgreSQL), every call through
the gateway, a real HTTP receiver in this process for the webhooks.

* routing, replies, feedback, co-signing invitations and reminders reach the unit, the bringing
  member, the public ticket and the co-signer, each in their own inbox (a unit sees only its own;
  a county never another county's), live on WatchNotifications too;
* each delivery is signed (HMAC-SHA-256 over timestamp "." body, checked here) and carries the
  notification's key as its Idempotency-Key;
* a receiver that fails, then recovers, gets the delivery on a later attempt with the same key;
  one that keeps failing leaves a dead delivery, which Redeliver sends again;
* `kill -9` of notify while deliveries are in flight loses none and makes no notification twice:
  every expected key arrives (a resend carries the same key), and each inbox holds each once.
"""
from __future__ import annotations

import datetime
import hashlib
import hmac
import http.server
import json
import os
import signal
import threading
import time
from dataclasses import dataclass, field

import grpc
import pytest

from conftest import ensure_generated
from replicas import environment, postgres_topology, wait_until
from topology import Topology

ensure_generated()
from xieshang.consultation.v1 import consultation_pb2 as cpb, consultation_pb2_grpc  # noqa: E402
from xieshang.directory.v1 import directory_pb2 as dpb, directory_pb2_grpc  # noqa: E402
from xieshang.gateway.v1 import gateway_pb2 as gpb, gateway_pb2_grpc  # noqa: E402
from xieshang.intake.v1 import intake_pb2 as ipb, intake_pb2_grpc  # noqa: E402
from xieshang.notify.v1 import notify_pb2 as npb, notify_pb2_grpc  # noqa: E402
from xieshang.proposal.v1 import proposal_pb2 as ppb, proposal_pb2_grpc  # noqa: E402

PASSWORD = "xieshang-demo"
COUNTY = 2  # 长顺县
OTHER = 3   # 都匀市
SECRET = "webhook-secret-for-the-tests-0123"
PUBLIC = (("x-xieshang-committee", str(COUNTY)),)


# ---------------------------------------------------------------------------
# A webhook receiver
# ---------------------------------------------------------------------------


@dataclass
class Received:
    headers: dict
    body: bytes
    payload: dict
    valid: bool


@dataclass
class Receiver:
    """Records every POST; answers 500 while `failures` > 0 (counting down) or `always_fail`,
    after waiting `delay` seconds."""
    got: list = field(default_factory=list)
    failures: int = 0
    always_fail: bool = False
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def keys(self, kind_prefix: str = "") -> list[str]:
        with self.lock:
            return [r.payload["key"] for r in self.got if r.payload["kind"].startswith(kind_prefix)]

    def accepted(self) -> list[Received]:
        with self.lock:
            return [r for r in self.got if r.headers.get("x-answered") == "200"]


def verify(headers: dict, body: bytes) -> bool:
    stamp = headers.get("x-xieshang-timestamp", "")
    want = "sha256=" + hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, headers.get("x-xieshang-signature", ""))


def start_receiver() -> tuple[http.server.ThreadingHTTPServer, Receiver]:
    state = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            if state.delay:
                time.sleep(state.delay)
            with state.lock:
                fail = state.always_fail or state.failures > 0
                if state.failures > 0:
                    state.failures -= 1
                headers["x-answered"] = "500" if fail else "200"
                state.got.append(Received(headers, body, json.loads(body), verify(headers, body)))
            self.send_response(500 if fail else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256  # notify opens up to 32 connections at once

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, state


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------


class System:
    def __init__(self, topology: Topology):
        self.topology = topology
        self.channel = grpc.insecure_channel(topology.gateway_address)
        self.gateway = gateway_pb2_grpc.GatewayServiceStub(self.channel)
        self.directory = directory_pb2_grpc.DirectoryServiceStub(self.channel)
        self.intake = intake_pb2_grpc.IntakeServiceStub(self.channel)
        self.proposals = proposal_pb2_grpc.ProposalServiceStub(self.channel)
        self.consultation = consultation_pb2_grpc.ConsultationServiceStub(self.channel)
        self.notify = notify_pb2_grpc.NotifyServiceStub(self.channel)
        self.principals: dict[str, object] = {}
        self.tokens: dict[str, str] = {}

    def md(self, username: str) -> tuple:
        if username not in self.tokens:
            r = self.gateway.Login(gpb.LoginRequest(username=username, password=PASSWORD), timeout=30)
            self.tokens[username], self.principals[username] = r.token, r.principal
        return (("authorization", f"Bearer {self.tokens[username]}"),)

    def principal(self, username: str):
        self.md(username)
        return self.principals[username]

    def inbox(self, username: str, **kw) -> npb.ListNotificationsResponse:
        return self.notify.ListNotifications(npb.ListNotificationsRequest(page_size=1000, **kw), metadata=self.md(username), timeout=20)

    def routed_item(self, text: str, liaison: str = "changshun.liaison", unit: str = "changshun.unit1",
                    member: str | None = None, limit: int = 0) -> ipb.Item:
        """An opinion submitted (by the public, or brought by `member`), registered and routed to `unit`."""
        if member:
            item = self.intake.SubmitItem(ipb.Item(text=text, channel=ipb.CHANNEL_SPOKEN), metadata=self.md(member), timeout=20)
        else:
            committee = self.principal(liaison).committee_id
            ticket = self.intake.SubmitPublic(ipb.PublicSubmission(text=text, name="张三", phone="13800000000", channel=ipb.CHANNEL_QR_POINT),
                                              metadata=(("x-xieshang-committee", str(committee)),), timeout=20)
            found = self.intake.ListItems(ipb.ListItemsRequest(query=text[:6]), metadata=self.md(liaison), timeout=20)
            item = next(i for i in found.items if i.ticket_code == ticket.ticket_code)
        reg = self.intake.RegisterItem(ipb.RegisterRequest(id=item.id, version=item.version, category="民生"), metadata=self.md(liaison), timeout=20)
        return self.intake.RouteItem(ipb.RouteRequest(id=item.id, version=reg.version, mode=ipb.HANDLING_MODE_PHONE, time_limit_days=limit,
                                                      unit_id=self.principal(unit).unit_id), metadata=self.md(liaison), timeout=20)


@pytest.fixture(scope="module")
def topology():
    # Compose reads these: three attempts, 200 ms after the first failure.
    with environment(XIESHANG_WEBHOOK_ATTEMPTS="3", XIESHANG_WEBHOOK_BACKOFF_MS="200"), postgres_topology(services=["gateway"]) as t:
        yield t


@pytest.fixture(scope="module")
def system(topology):
    s = System(topology)
    yield s
    s.channel.close()


@pytest.fixture(scope="module")
def receiver(system):
    server, state = start_receiver()
    hook = system.notify.SetWebhook(npb.Webhook(url=f"http://127.0.0.1:{server.server_address[1]}/hooks/xieshang", secret=SECRET,
                                                label="短信平台"), metadata=system.md("changshun.admin"), timeout=20)
    assert hook.id > 0 and hook.has_secret and not hook.secret
    state.webhook = hook
    yield state
    server.shutdown()


def of_entity(notes, kind: str, entity_id: int) -> list:
    return [n for n in notes if n.kind == kind and n.entity_id == str(entity_id)]


# ---------------------------------------------------------------------------
# Stories
# ---------------------------------------------------------------------------


def test_an_item_tells_the_unit_the_member_and_the_public(system, receiver):
    unit, unit2, member = "changshun.unit1", "changshun.unit2", "changshun.member1"
    before = system.inbox(unit).unread_count
    item = system.routed_item("村口路灯损坏多日，夜间出行不便", member=member)
    wait_until("the unit's inbox has the routing", lambda: (
        of_entity(system.inbox(unit).notifications, "item.routed", item.id), system.inbox(unit)))
    routed = system.inbox(unit)
    note = of_entity(routed.notifications, "item.routed", item.id)[0]
    assert note.recipient.kind == npb.RECIPIENT_KIND_UNIT and note.recipient.id == system.principal(unit).unit_id
    assert "交办" in note.title and item.due_date in note.body and not note.read
    assert routed.unread_count == before + 1
    # Another unit, and the other county's unit, see nothing of it.
    assert not of_entity(system.inbox(unit2).notifications, "item.routed", item.id)
    assert not system.inbox("duyun.unit1").notifications or all(n.committee_id == OTHER for n in system.inbox("duyun.unit1").notifications)

    # The webhook got it, signed, with the notification's key and the unit's name from the directory.
    got = wait_until("the webhook got the routing", lambda: (
        [r for r in receiver.accepted() if r.payload["key"] == note.key], receiver.got))
    r = got[0]
    assert r.valid, r.headers
    assert r.headers["idempotency-key"] == note.key
    assert (r.payload["kind"], r.payload["committee_id"], r.payload["recipient"]["kind"]) == ("item.routed", COUNTY, "unit")
    assert r.payload["recipient"]["name"] and r.payload["entity"] == {"kind": "item", "id": str(item.id)}

    # Read: the unread count drops; marking someone else's id is NOT_FOUND.
    marked = system.notify.MarkRead(npb.MarkReadRequest(ids=[note.id]), metadata=system.md(unit), timeout=20)
    assert (marked.marked, marked.unread_count) == (1, before)
    with pytest.raises(grpc.RpcError) as e:
        system.notify.MarkRead(npb.MarkReadRequest(ids=[note.id]), metadata=system.md(unit2), timeout=20)
    assert e.value.code() == grpc.StatusCode.NOT_FOUND

    # The unit answers: the member who brought it is told to take the answer back.
    system.intake.AcknowledgeItem(ipb.ItemRef(id=item.id), metadata=system.md(unit), timeout=20)
    system.intake.ReplyItem(ipb.ReplyRequest(id=item.id, reply="已安排维修，三日内修复"), metadata=system.md(unit), timeout=20)
    told = wait_until("the member heard of the reply", lambda: (
        of_entity(system.inbox(member).notifications, "item.replied", item.id), system.inbox(member)))
    assert "已安排维修" in told[0].body and told[0].recipient.kind == npb.RECIPIENT_KIND_MEMBER


def test_the_public_ticket_shows_what_changed_since_it_last_read(system):
    text = "小区门口垃圾清运不及时，气味难闻"
    ticket = system.intake.SubmitPublic(ipb.PublicSubmission(text=text, channel=ipb.CHANNEL_QR_POINT), metadata=PUBLIC, timeout=20)
    found = system.intake.ListItems(ipb.ListItemsRequest(query="垃圾清运"), metadata=system.md("changshun.liaison"), timeout=20)
    item = next(i for i in found.items if i.ticket_code == ticket.ticket_code)
    reg = system.intake.RegisterItem(ipb.RegisterRequest(id=item.id, version=item.version, category="生态"), metadata=system.md("changshun.liaison"))
    system.intake.RouteItem(ipb.RouteRequest(id=item.id, version=reg.version, mode=ipb.HANDLING_MODE_PHONE,
                                             unit_id=system.principal("changshun.unit1").unit_id), metadata=system.md("changshun.liaison"))
    system.intake.AcknowledgeItem(ipb.ItemRef(id=item.id), metadata=system.md("changshun.unit1"), timeout=20)
    system.intake.ReplyItem(ipb.ReplyRequest(id=item.id, reply="已增加清运频次"), metadata=system.md("changshun.unit1"), timeout=20)
    news = wait_until("the ticket has news", lambda: (
        (lambda r: (r if r.unread_count == 1 else None, r))(system.notify.GetTicketNews(npb.TicketNewsRequest(ticket_code=ticket.ticket_code), metadata=PUBLIC))))
    assert news.notifications[0].kind == "item.replied" and "已增加清运频次" in news.notifications[0].body
    # Nothing internal: no unit or staff names, only the ticket as recipient.
    assert news.notifications[0].recipient.kind == npb.RECIPIENT_KIND_TICKET
    again = system.notify.GetTicketNews(npb.TicketNewsRequest(ticket_code=ticket.ticket_code), metadata=PUBLIC)
    assert again.unread_count == 0 and again.notifications[0].read
    # Another county's QR code does not read this ticket's news.
    other = system.notify.GetTicketNews(npb.TicketNewsRequest(ticket_code=ticket.ticket_code), metadata=(("x-xieshang-committee", str(OTHER)),))
    assert list(other.notifications) == []
    system.intake.FeedBackItem(ipb.FeedBackRequest(id=item.id, content="已告知群众", audience="居民", audience_size=1),
                               metadata=system.md("changshun.liaison"), timeout=20)
    fed = wait_until("the feedback reached the ticket", lambda: (
        (lambda r: (r if r.unread_count == 1 else None, r))(system.notify.GetTicketNews(npb.TicketNewsRequest(ticket_code=ticket.ticket_code), metadata=PUBLIC))))
    assert fed.notifications[0].kind == "item.fed_back"


def test_a_co_signer_is_invited_and_told_when_signing_closes(system):
    lead, co = "changshun.member1", "changshun.member2"
    deadline = (datetime.date.today() + datetime.timedelta(days=10)).isoformat()
    p = system.proposals.SubmitProposal(ppb.Proposal(
        proposer_kind=ppb.PROPOSER_KIND_JOINT, session=ppb.SESSION_PLENARY, session_name="九届五次会议",
        title="关于加快农村寄递物流建设的提案", reasons="农村快递进村难。", suggestions="整合站点资源。", category="经济",
        co_signers=[ppb.CoSigner(member_id=system.principal(co).member_id)], signing_deadline=deadline), metadata=system.md(lead), timeout=20)
    invited = wait_until("the co-signer was invited", lambda: (
        of_entity(system.inbox(co).notifications, "proposal.cosign_invited", p.id), None))
    assert deadline in invited[0].body
    signed = system.proposals.SignProposal(ppb.SignRequest(id=p.id, confirm=True), metadata=system.md(co), timeout=20)
    system.proposals.CloseSigning(ppb.ProposalRef(id=p.id, version=signed.version), metadata=system.md(lead), timeout=20)
    for who in (lead, co):
        wait_until(f"{who} heard signing closed", lambda who=who: (
            of_entity(system.inbox(who).notifications, "proposal.signing_closed", p.id), None))


def test_a_member_hears_of_the_invitation_its_changes_the_leave_and_the_cancellation(system):
    staff, guest = system.md("changshun.staff"), "changshun.member2"
    c = system.consultation
    topic = c.ProposeTopic(cpb.Topic(title="老旧小区加装电梯", source=cpb.TOPIC_SOURCE_PARTY_COMMITTEE, category="城建"), metadata=staff)
    c.ChooseTopic(cpb.TopicAction(id=topic.id), metadata=staff)
    con = c.CreateConsultation(cpb.Consultation(topic_id=topic.id, form=cpb.FORM_THEMATIC, level=cpb.LEVEL_COUNTY,
                                                host_member_id=system.principal("changshun.member1").member_id), metadata=staff)
    c.MakeConsultationPlan(cpb.MakePlanRequest(id=con.id, work_plan="走访小区，召开协商会"), metadata=staff)
    venue = system.directory.ListWorkStations(dpb.ListWorkStationsRequest(page_size=1), metadata=staff).work_stations[0]
    day = datetime.date.today() + datetime.timedelta(days=20)
    m = c.ScheduleMeeting(cpb.Meeting(consultation_id=con.id, title="加装电梯协商会", venue_id=venue.id,
                                      starts_at=f"{day}T09:00", ends_at=f"{day}T11:00",
                                      invitations=[cpb.Invitation(kind=cpb.INVITEE_KIND_MEMBER, member_id=system.principal(guest).member_id)]),
                          metadata=staff)
    mine = lambda kind: of_entity(system.inbox(guest).notifications, kind, m.id)  # noqa: E731
    invited = wait_until("the member was invited", lambda: (mine("meeting.invited"), None))
    assert f"{day} 09:00" in invited[0].body
    m = c.RescheduleMeeting(cpb.RescheduleRequest(id=m.id, version=m.version, venue_id=venue.id,
                                                  starts_at=f"{day}T14:00", ends_at=f"{day}T16:00"), metadata=staff)
    changed = wait_until("the member heard of the change", lambda: (mine("meeting.changed"), None))
    assert f"{day} 14:00" in changed[0].body
    number = m.invitations[0].number
    c.RequestLeave(cpb.LeaveRequest(meeting_id=m.id, number=number, reason="出差"), metadata=system.md(guest))
    c.DecideLeave(cpb.LeaveDecision(meeting_id=m.id, number=number, approve=True, note="同意"), metadata=staff)
    decided = wait_until("the member heard of the leave", lambda: (mine("meeting.leave_decided"), None))
    assert "已批准" in decided[0].title
    m = c.GetMeeting(cpb.GetRequest(id=m.id), metadata=staff)
    c.CancelMeeting(cpb.CancelRequest(id=m.id, version=m.version, reason="议题调整"), metadata=staff)
    cancelled = wait_until("the member heard of the cancellation", lambda: (mine("meeting.cancelled"), None))
    assert "议题调整" in cancelled[0].body
    # Each once.
    assert [len(mine(k)) for k in ("meeting.invited", "meeting.changed", "meeting.leave_decided", "meeting.cancelled")] == [1, 1, 1, 1]


def test_watch_streams_new_notifications_live(system):
    unit = "changshun.unit1"
    stream = system.notify.WatchNotifications(npb.WatchNotificationsRequest(), metadata=system.md(unit), timeout=60)
    got: list = []

    def read():
        try:
            for n in stream:
                got.append(n)
                if n.kind == "item.routed":
                    return
        except grpc.RpcError:
            pass

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(0.5)
    item = system.routed_item("河道护栏松动存在安全隐患")
    reader.join(30)
    stream.cancel()
    assert [n.entity_id for n in got if n.kind == "item.routed"] == [str(item.id)]


def test_reminders_once_per_due_date(system):
    item = system.routed_item("学校门口缺少减速带", limit=1)
    unit = "changshun.unit1"
    wait_until("routed", lambda: (of_entity(system.inbox(unit).notifications, "item.routed", item.id), None))
    first = system.notify.RunReminders(npb.RunRemindersRequest(), metadata=system.md("changshun.admin"), timeout=30)
    assert first.made >= 2 and first.run_on == datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).date().isoformat()
    soon = of_entity(system.inbox(unit).notifications, "reminder.due_soon", item.id)
    assert len(soon) == 1 and item.due_date in soon[0].body
    staff = of_entity(system.inbox("changshun.liaison").notifications, "reminder.due_soon", item.id)
    assert len(staff) == 1
    again = system.notify.RunReminders(npb.RunRemindersRequest(), metadata=system.md("changshun.admin"), timeout=30)
    assert again.made == 0
    # Only the admin runs them; the other county's admin makes none of this county's.
    with pytest.raises(grpc.RpcError) as e:
        system.notify.RunReminders(npb.RunRemindersRequest(), metadata=system.md(unit), timeout=30)
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_a_failing_receiver_gets_it_later_with_the_same_key(system, receiver):
    receiver.failures = 2
    item = system.routed_item("农贸市场占道经营严重")
    got = wait_until("delivered on the third attempt", lambda: (
        [r for r in receiver.accepted() if r.payload["kind"] == "item.routed" and r.payload["entity"]["id"] == str(item.id)], receiver.got))
    key = got[0].payload["key"]
    tries = [r for r in receiver.got if r.payload["key"] == key]
    assert [r.headers["x-answered"] for r in tries] == ["500", "500", "200"]
    assert [r.payload["attempt"] for r in tries] == [1, 2, 3] and all(r.valid for r in tries)
    deliveries = system.notify.ListDeliveries(npb.ListDeliveriesRequest(webhook_id=receiver.webhook.id), metadata=system.md("changshun.admin"))
    mine = [d for d in deliveries.deliveries if d.key == key]
    assert [(d.state, d.attempts, d.last_status) for d in mine] == [(npb.DELIVERY_STATE_DELIVERED, 3, 200)]


def test_a_dead_delivery_is_redelivered(system, receiver):
    receiver.always_fail = True
    try:
        item = system.routed_item("公交站台缺少遮雨棚")
        admin = system.md("changshun.admin")

        note = wait_until("routed", lambda: (of_entity(system.inbox("changshun.unit1").notifications, "item.routed", item.id), None))[0]

        def dead():
            ds = system.notify.ListDeliveries(npb.ListDeliveriesRequest(state=npb.DELIVERY_STATE_DEAD), metadata=admin).deliveries
            return [d for d in ds if d.key == note.key and d.attempts == 3], ds
        found = wait_until("the delivery died after three attempts", dead)
        assert found[0].last_status == 500 and system.notify.GetStatus(npb.StatusRequest(), metadata=admin).dead_deliveries >= 1
    finally:
        receiver.always_fail = False
    d = system.notify.Redeliver(npb.RedeliverRequest(delivery_id=found[0].id), metadata=admin)
    assert d.state == npb.DELIVERY_STATE_PENDING and d.attempts == 0
    wait_until("redelivered", lambda: ([r for r in receiver.accepted() if r.payload["key"] == found[0].key], None))
    # The other county's admin cannot see or redeliver it.
    with pytest.raises(grpc.RpcError) as e:
        system.notify.Redeliver(npb.RedeliverRequest(delivery_id=found[0].id), metadata=system.md("duyun.admin"))
    assert e.value.code() == grpc.StatusCode.NOT_FOUND


def test_kill_9_mid_delivery_loses_nothing_and_makes_nothing_twice(system, topology, receiver):
    receiver.delay = 0.3  # deliveries are in flight when notify dies
    unit = "changshun.unit2"
    items = [system.routed_item(f"第{i}号：路面破损需修补", unit=unit) for i in range(12)]
    ids = {str(i.id) for i in items}
    try:
        wait_until("some deliveries arrived", lambda: (
            len({r.payload["entity"]["id"] for r in receiver.got if r.payload["entity"]["id"] in ids}) >= 2, len(receiver.got)))
        proc = topology.process("notify")
        os.killpg(proc.proc.pid, signal.SIGKILL)
        proc.proc.wait(10)
        # More work while it is down: the feeds keep it.
        items += [system.routed_item(f"第{i}号：井盖缺失", unit=unit) for i in range(12, 16)]
        ids = {str(i.id) for i in items}
        topology.stop("notify")
        topology.start("notify")
    finally:
        receiver.delay = 0.0

    def inbox():
        notes = [n for n in system.inbox(unit).notifications if n.kind == "item.routed" and n.entity_id in ids]
        return notes if len(notes) >= len(items) else None, notes
    notes = wait_until("every routing is in the unit's inbox", inbox, timeout=60)
    assert sorted(n.entity_id for n in notes) == sorted(ids), "one notification per routed item, none twice"
    keys = {n.key for n in notes}
    wait_until("every key delivered", lambda: (
        keys <= {r.payload["key"] for r in receiver.accepted()}, keys - {r.payload["key"] for r in receiver.accepted()}), timeout=60)
    # Resends after the kill carry the same key and signature scheme; no key outside the set.
    for r in receiver.got:
        if r.payload["entity"]["id"] in ids and r.payload["kind"] == "item.routed":
            assert r.payload["key"] in keys and r.valid


def test_inbox_needs_an_account_and_webhooks_an_admin(system):
    with pytest.raises(grpc.RpcError) as e:
        system.notify.ListNotifications(npb.ListNotificationsRequest(), metadata=PUBLIC)
    assert e.value.code() in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)
    with pytest.raises(grpc.RpcError) as e:
        system.notify.SetWebhook(npb.Webhook(url="http://127.0.0.1:9/", secret=SECRET), metadata=system.md("changshun.staff"))
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
    for url, fragment in (("http://10.1.2.3/hook", "XIESHANG_WEBHOOK_HOSTS"), ("ftp://127.0.0.1/", "http")):
        with pytest.raises(grpc.RpcError) as e:
            system.notify.SetWebhook(npb.Webhook(url=url, secret=SECRET), metadata=system.md("changshun.admin"))
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and fragment in e.value.details()
    with pytest.raises(grpc.RpcError) as e:
        system.notify.SetWebhook(npb.Webhook(url="http://127.0.0.1:9/", secret="short"), metadata=system.md("changshun.admin"))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "secret" in e.value.details()
    # The other county lists no webhook of this one.
    assert [w.committee_id for w in system.notify.ListWebhooks(npb.ListWebhooksRequest(), metadata=system.md("duyun.admin")).webhooks] == []
