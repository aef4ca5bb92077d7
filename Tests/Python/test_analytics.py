"""Analytics through grpcio against the real binaries: a seeded directory, intake, proposals and
consultation, each its own process on SQLite, and an analytics process reading their change feeds
over HTTP/2. A story across the services shows up in the dashboard, the duty records and the
scores; restarting analytics or a source neither loses nor double counts anything; `Rebuild`
replays every feed and reproduces the same figures."""
import datetime
import time

import grpc
import pytest

from conftest import free_port, start_server, xieshang_bin
from directory_client import Role, directory_pb2, serve_directory, serve_domain, stub, who
from xieshang.analytics.v1 import analytics_pb2 as pb, analytics_pb2_grpc
from xieshang.consultation.v1 import consultation_pb2 as cpb, consultation_pb2_grpc
from xieshang.intake.v1 import intake_pb2 as ipb, intake_pb2_grpc
from xieshang.proposal.v1 import proposal_pb2 as ppb, proposal_pb2_grpc

LEADER = who(Role.ROLE_LEADER, name="主席")
STAFF = who(Role.ROLE_COMMITTEE_STAFF, name="办公室")
LIAISON = who(Role.ROLE_LIAISON_STAFF, name="联络中心")
ADMIN = who(Role.ROLE_COMMITTEE_ADMIN, name="管理员")
YEAR = datetime.date.today().year


class System:
    """The four sources and analytics, with stubs; analytics can be restarted on its data."""

    def __init__(self, data):
        self.data = data
        self.directory, self.dport = serve_directory(data_dir=str(data), extra=["--seed-demo"])
        self.processes = {}
        self.ports = {}
        self.channels = []
        for name in ("intake", "proposals", "consultation"):
            self.start(name)
        self.start_analytics()
        dchannel, self.d = stub(self.dport)
        self.channels.append(dchannel)
        self.intake = intake_pb2_grpc.IntakeServiceStub(self.channel(self.ports["intake"]))
        self.proposals = proposal_pb2_grpc.ProposalServiceStub(self.channel(self.ports["proposals"]))
        self.consultation = consultation_pb2_grpc.ConsultationServiceStub(self.channel(self.ports["consultation"]))

    def channel(self, port):
        c = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.channels.append(c)
        return c

    def start(self, name):
        process, port = serve_domain(name, self.dport, data_dir=str(self.data))
        self.processes[name], self.ports[name] = process, port

    def restart(self, name):
        """Stops a source and starts it again on the same port and data."""
        self.processes[name].stop()
        port = self.ports[name]
        argv = [xieshang_bin(), "serve", name, "--port", port, "--directory", f"127.0.0.1:{self.dport}", "--data-dir", str(self.data)]
        self.processes[name] = start_server(argv, port, name)

    def start_analytics(self, port=None):
        port = port or free_port()
        argv = [xieshang_bin(), "serve", "analytics", "--port", port, "--data-dir", str(self.data),
                "--directory", f"127.0.0.1:{self.dport}", "--intake", f"127.0.0.1:{self.ports['intake']}",
                "--proposals", f"127.0.0.1:{self.ports['proposals']}", "--consultation", f"127.0.0.1:{self.ports['consultation']}"]
        self.processes["analytics"], self.ports["analytics"] = start_server(argv, port, "analytics"), port
        self.analytics = analytics_pb2_grpc.AnalyticsServiceStub(self.channel(port))

    def caught_up(self, timeout=30.0):
        """Waits until every source is connected and applied up to its head."""
        deadline = time.time() + timeout
        while True:
            f = self.analytics.GetFreshness(pb.FreshnessRequest(), metadata=LEADER)
            if all(s.connected and s.lag_events == 0 and s.head_sequence > 0 for s in f.sources):
                return f
            assert time.time() < deadline, f"analytics did not catch up: {f}"
            time.sleep(0.1)

    def close(self):
        for c in self.channels:
            c.close()
        for p in self.processes.values():
            p.stop()
        self.directory.stop()


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    s = System(tmp_path_factory.mktemp("analytics"))
    yield s
    s.close()


def bring_item(s, member, unit, text):
    """A member brings an opinion; it is registered, routed, answered, relayed back and closed 满意."""
    as_member = who(Role.ROLE_MEMBER, member_id=member.id, name=member.name)
    item = s.intake.SubmitItem(ipb.Item(text=text, bringing_member_id=member.id, channel=ipb.CHANNEL_SPOKEN), metadata=as_member)
    s.intake.RegisterItem(ipb.RegisterRequest(id=item.id, category="民生"), metadata=LIAISON)
    s.intake.RouteItem(ipb.RouteRequest(id=item.id, mode=ipb.HANDLING_MODE_PHONE, unit_id=unit.id), metadata=LIAISON)
    as_unit = who(Role.ROLE_HANDLING_UNIT, unit_id=unit.id, name=unit.name)
    s.intake.AcknowledgeItem(ipb.ItemRef(id=item.id), metadata=as_unit)
    s.intake.ReplyItem(ipb.ReplyRequest(id=item.id, reply="已安排维修"), metadata=as_unit)
    s.intake.FeedBackItem(ipb.FeedBackRequest(id=item.id, content="已向村民说明", audience="村民代表", audience_size=30), metadata=as_member)
    s.intake.CloseItem(ipb.CloseRequest(id=item.id, satisfaction=ipb.SATISFACTION_SATISFIED), metadata=LIAISON)
    return item


def dashboard(s, **kw):
    """The county dashboard for this year, without its freshness (which moves on)."""
    d = s.analytics.GetDashboard(pb.DashboardRequest(**kw), metadata=LEADER)
    d.ClearField("freshness")
    return d


def kinds(record):
    return sorted(pb.DutyKind.Name(e.kind) for e in record.entries)


def test_story_restarts_and_rebuild(system):
    s = system
    members = s.d.ListMembers(directory_pb2.ListMembersRequest(page_size=3), metadata=ADMIN).members
    units = s.d.ListUnits(directory_pb2.ListUnitsRequest(page_size=2), metadata=ADMIN).units
    rooms = s.d.ListWorkStations(directory_pb2.ListWorkStationsRequest(page_size=1), metadata=ADMIN).work_stations
    a, b = members[0], members[1]

    # Intake: an opinion brought by A, answered and closed 满意, then carried in an adopted report
    # with a leader's instruction.
    item = bring_item(s, a, units[0], "村道路灯损坏，夜间出行不便")
    report = s.intake.CreateReport(ipb.OpinionReport(title="关于村道照明的社情民意", body="建议统一维修", item_ids=[item.id]), metadata=LIAISON)
    s.intake.IssueBulletin(ipb.IssueBulletinRequest(title="社情民意简报", report_ids=[report.id]), metadata=LIAISON)
    s.intake.SendReport(ipb.SendReportRequest(id=report.id, recipients=["县委办"]), metadata=LIAISON)
    s.intake.RecordAdoption(ipb.AdoptionRequest(id=report.id, adopted_by="县委办"), metadata=LIAISON)
    s.intake.AddInstruction(ipb.InstructionRequest(id=report.id, instruction=ipb.Instruction(leader="县委书记", text="请交通局办理")),
                            metadata=LIAISON)

    # Proposals: B's proposal registered, assigned, answered on time and rated 满意.
    as_b = who(Role.ROLE_MEMBER, member_id=b.id, name=b.name)
    p = s.proposals.SubmitProposal(ppb.Proposal(proposer_kind=ppb.PROPOSER_KIND_MEMBER, session=ppb.SESSION_PLENARY, session_name="九届四次会议",
                                                title="关于改善农村供水的提案", reasons="供水不稳定", suggestions="改造管网", category="农业"),
                                   metadata=as_b)
    s.proposals.RegisterProposal(ppb.RegisterRequest(id=p.id), metadata=STAFF)
    s.proposals.AssignProposal(ppb.AssignRequest(id=p.id, lead_unit_id=units[1].id), metadata=STAFF)
    s.proposals.ReplyProposal(ppb.ReplyRequest(id=p.id, text="已列入计划", grade=ppb.REPLY_GRADE_A),
                              metadata=who(Role.ROLE_HANDLING_UNIT, unit_id=units[1].id, name=units[1].name))
    s.proposals.EvaluateProposal(ppb.EvaluateRequest(id=p.id, satisfaction=ppb.SATISFACTION_SATISFIED), metadata=as_b)

    # Consultation: A hosts, B researches, is invited and stays away without leave.
    topic = s.consultation.ProposeTopic(cpb.Topic(title="农村饮水安全", source=cpb.TOPIC_SOURCE_PARTY_COMMITTEE, category="民生"), metadata=STAFF)
    s.consultation.ChooseTopic(cpb.TopicAction(id=topic.id), metadata=STAFF)
    c = s.consultation.CreateConsultation(cpb.Consultation(topic_id=topic.id, form=cpb.FORM_THEMATIC, level=cpb.LEVEL_COUNTY, host_member_id=a.id),
                                          metadata=STAFF)
    s.consultation.MakeConsultationPlan(cpb.MakePlanRequest(id=c.id, work_plan="调研后协商"), metadata=STAFF)
    s.consultation.RecordResearch(cpb.ResearchRequest(id=c.id, activity=cpb.ResearchActivity(on=f"{YEAR}-01-05", summary="走访", member_ids=[b.id])),
                                  metadata=STAFF)
    s.consultation.SubmitResearchReport(cpb.ReportRequest(id=c.id, text="调研报告"), metadata=STAFF)
    m = s.consultation.ScheduleMeeting(cpb.Meeting(consultation_id=c.id, venue_id=rooms[0].id, starts_at=f"{YEAR}-01-06T09:00", ends_at=f"{YEAR}-01-06T11:00",
                                                   invitations=[cpb.Invitation(kind=cpb.INVITEE_KIND_MEMBER, member_id=b.id, required=True)]),
                                       metadata=STAFF)
    s.consultation.HoldMeeting(cpb.MeetingRef(id=m.id), metadata=STAFF)

    # Staff record a practical deed (办实事) for A by hand (analytics knows members from the
    # directory's feed: once it has caught up).
    s.caught_up()
    s.analytics.RecordDuty(pb.ManualDuty(member_id=a.id, kind=pb.DUTY_KIND_PRACTICAL_DEED, note="修缮村小学围墙"), metadata=STAFF)

    s.caught_up()
    d = dashboard(s)
    assert d.current.intake.received == 1 and d.current.intake.handled.per_mille == 1000
    assert [(x.key, x.count) for x in d.current.intake.by_state] == [("closed", 1)]
    assert d.current.intake.satisfied.numerator == 1 and d.current.intake.reports_adopted == 1 and d.current.intake.instructions == 1
    assert d.current.intake.relays == 1 and d.current.intake.relay_audience == 30
    assert d.current.proposals.submitted == 1 and d.current.proposals.registered.per_mille == 1000
    assert d.current.proposals.handled.numerator == 1 and d.current.proposals.satisfied.numerator == 1
    assert d.current.consultations.started == 1 and d.current.consultations.meetings_held == 1
    assert (d.current.consultations.invited, d.current.consultations.absent) == (1, 1)
    assert d.last_year.intake.received == 0
    assert d.current.members.members > 0 and d.current.members.towns >= d.current.members.towns_covered > 0

    rec_a = s.analytics.GetDutyRecord(pb.DutyRecordRequest(member_id=a.id), metadata=LEADER)
    assert kinds(rec_a) == sorted(["DUTY_KIND_OPINION_BROUGHT", "DUTY_KIND_RELAY", "DUTY_KIND_OPINION_ADOPTED", "DUTY_KIND_INSTRUCTION_WON",
                                   "DUTY_KIND_CONSULTATION_HOSTED", "DUTY_KIND_PRACTICAL_DEED"])
    # Default table: 5 + 3 + 10 + 15 + 8 + 10.
    assert rec_a.score.points == 51
    rec_b = s.analytics.GetDutyRecord(pb.DutyRecordRequest(member_id=b.id), metadata=who(Role.ROLE_MEMBER, member_id=b.id))
    assert kinds(rec_b) == sorted(["DUTY_KIND_PROPOSAL_LEAD", "DUTY_KIND_PROPOSAL_REGISTERED", "DUTY_KIND_RESEARCH", "DUTY_KIND_ABSENCE_UNEXCUSED"])
    assert rec_b.score.points == 10 + 5 + 5 - 10
    assert "一件提案" not in rec_b.score.five_ones_missing and "一件实事" in rec_b.score.five_ones_missing
    # A member reads only their own record.
    with pytest.raises(grpc.RpcError) as e:
        s.analytics.GetDutyRecord(pb.DutyRecordRequest(member_id=a.id), metadata=who(Role.ROLE_MEMBER, member_id=b.id))
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED

    # The admin lowers the pass mark: A is 称职, B (negative after the deduction counts) is not.
    rules = s.analytics.GetPointRules(pb.PointRulesRequest(), metadata=ADMIN)
    rules.pass_mark = 40
    s.analytics.SetPointRules(rules, metadata=ADMIN)
    flagged = s.analytics.ListMemberScores(pb.ScoresRequest(not_competent_only=True), metadata=LEADER).scores
    assert b.id in [x.member_id for x in flagged] and a.id not in [x.member_id for x in flagged]
    top = dashboard(s).top
    assert top[0].member_id == a.id and top[0].grade == pb.GRADE_COMPETENT

    # Another county sees nothing of this one; the prefecture sees it and rolls it up.
    with pytest.raises(grpc.RpcError) as e:
        s.analytics.GetDashboard(pb.DashboardRequest(committee_id=2), metadata=who(Role.ROLE_LEADER, committee_id=3))
    assert e.value.code() == grpc.StatusCode.NOT_FOUND
    prefecture = s.analytics.GetDashboard(pb.DashboardRequest(), metadata=who(Role.ROLE_PREFECTURE_ADMIN, committee_id=1))
    assert prefecture.current.intake.received == 1
    assert [r.items_received for r in prefecture.counties if r.committee_id == 2] == [1]

    before = dashboard(s)
    # Analytics restarts: nothing is counted twice.
    s.processes["analytics"].stop()
    s.start_analytics(port=s.ports["analytics"])
    s.caught_up()
    assert dashboard(s) == before
    # Intake restarts under a running analytics: it reconnects and sees what comes after.
    s.restart("intake")
    bring_item(s, b, units[0], "集市周边垃圾清运不及时")
    s.caught_up()
    after = dashboard(s)
    assert after.current.intake.received == 2 and after.current.intake.relays == 2

    # Rebuild replays every feed from the start and reproduces the same figures.
    progress = list(s.analytics.Rebuild(pb.RebuildRequest(), metadata=who(Role.ROLE_PREFECTURE_ADMIN, committee_id=1)))
    assert progress[-1].done and progress[-1].applied > 0
    s.caught_up()
    assert dashboard(s) == after
    rebuilt_a = s.analytics.GetDutyRecord(pb.DutyRecordRequest(member_id=a.id), metadata=LEADER)
    rec_a.ClearField("freshness")
    rebuilt_a.ClearField("freshness")
    assert rebuilt_a.entries == rec_a.entries
    f = s.analytics.GetFreshness(pb.FreshnessRequest(), metadata=LEADER)
    assert 'xieshang_analytics_lag_events{source="intake"} 0' in f.metrics_text


def test_bad_input_is_named(system):
    s = system
    cases = [
        (pb.DashboardRequest(**{"from": "2026-13-01"}), "from"),
        (pb.DashboardRequest(**{"from": "2026-05-01", "to": "2026-04-01"}), "to"),
        (pb.DashboardRequest(scope=pb.SCOPE_SECTOR), "scope_id"),
    ]
    for request, field in cases:
        with pytest.raises(grpc.RpcError) as e:
            s.analytics.GetDashboard(request, metadata=LEADER)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and field in e.value.details(), e.value.details()
    with pytest.raises(grpc.RpcError) as e:
        s.analytics.RecordDuty(pb.ManualDuty(member_id=1, kind=pb.DUTY_KIND_PROPOSAL_LEAD), metadata=STAFF)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "kind" in e.value.details()
    with pytest.raises(grpc.RpcError) as e:
        s.analytics.SetPointRules(pb.PointRules(rules=[pb.PointRule(kind=pb.DUTY_KIND_RELAY, points=500)]), metadata=ADMIN)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "rules[0].points" in e.value.details()
    with pytest.raises(grpc.RpcError) as e:
        s.analytics.SetPointRules(pb.PointRules(pass_mark=10), metadata=STAFF)
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
