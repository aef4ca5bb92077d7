"""Consultation through grpcio against the real binaries: a seeded directory process and
consultation processes that check references and the working-day calendar against it over HTTP/2.
Two replicas on one database race to book one room at one time and exactly one wins, on SQLite and
on PostgreSQL; a consultation walks the eight steps, and the public posts on its online page."""
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from directory_client import (Role, directory_pb2, events_pb2, postgres_required, postgres_url, serve_directory, serve_domain, stub,
                              unique_schema, who)
from xieshang.consultation.v1 import consultation_pb2 as pb, consultation_pb2_grpc

STAFF = who(Role.ROLE_COMMITTEE_STAFF, name="专委会办公室")


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    data = tmp_path_factory.mktemp("directory")
    process, port = serve_directory(data_dir=str(data), extra=["--seed-demo"])
    channel, d = stub(port)
    admin = who(Role.ROLE_COMMITTEE_ADMIN)
    members = d.ListMembers(directory_pb2.ListMembersRequest(page_size=6), metadata=admin).members
    units = d.ListUnits(directory_pb2.ListUnitsRequest(page_size=2), metadata=admin).units
    rooms = d.ListWorkStations(directory_pb2.ListWorkStationsRequest(page_size=2), metadata=admin).work_stations
    yield port, members, units, rooms
    channel.close()
    process.stop()


def start(s, title: str, host: int, form=pb.FORM_THEMATIC) -> pb.Consultation:
    topic = s.ProposeTopic(pb.Topic(title=title, source=pb.TOPIC_SOURCE_PARTY_COMMITTEE, category="民生"), metadata=STAFF)
    s.ChooseTopic(pb.TopicAction(id=topic.id), metadata=STAFF)
    return s.CreateConsultation(pb.Consultation(topic_id=topic.id, form=form, level=pb.LEVEL_COUNTY, host_member_id=host),
                                metadata=STAFF)


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_two_replicas_never_double_book(directory, tmp_path, engine):
    dport, members, _, rooms = directory
    if engine == "postgres":
        url = postgres_url()
        if not url:
            if postgres_required():
                pytest.fail("XIESHANG_TEST_POSTGRES_URL is not set")
            pytest.skip("no PostgreSQL server (set XIESHANG_TEST_POSTGRES_URL)")
        schema = unique_schema("consultation")
        replicas = [serve_domain("consultation", dport, database_url=url, schema=schema) for _ in range(2)]
    else:
        replicas = [serve_domain("consultation", dport, data_dir=str(tmp_path)) for _ in range(2)]
    channels = [grpc.insecure_channel(f"127.0.0.1:{port}") for _, port in replicas]
    stubs = [consultation_pb2_grpc.ConsultationServiceStub(c) for c in channels]
    try:
        n = 24
        ids = [start(stubs[i % 2], f"议题{i}", members[i % len(members)].id).id for i in range(n)]

        def book(i: int, starts: str, ends: str):
            try:
                return stubs[i % 2].ScheduleMeeting(pb.Meeting(consultation_id=ids[i], venue_id=rooms[0].id, starts_at=starts, ends_at=ends),
                                                    metadata=STAFF).id
            except grpc.RpcError as e:
                assert e.code() == grpc.StatusCode.FAILED_PRECONDITION, e.details()
                return e.details()

        with ThreadPoolExecutor(max_workers=12) as pool:
            outcomes = list(pool.map(lambda i: book(i, "2026-06-01T09:00", "2026-06-01T11:00"), range(n)))
        won = [o for o in outcomes if isinstance(o, int)]
        assert len(won) == 1
        # Every refusal names the meeting that holds the room.
        assert all(f"meeting {won[0]}" in o for o in outcomes if isinstance(o, str))
        # Back-to-back two-hour slots all fit, whichever replica books them.
        with ThreadPoolExecutor(max_workers=12) as pool:
            slots = list(pool.map(lambda i: book(i, f"2026-06-{2 + i // 4:02d}T{8 + 2 * (i % 4):02d}:00",
                                                 f"2026-06-{2 + i // 4:02d}T{10 + 2 * (i % 4):02d}:00"), range(n)))
        assert all(isinstance(o, int) for o in slots), slots
        taken = stubs[1].CheckConflicts(pb.SlotRequest(venue_id=rooms[0].id, starts_at="2026-06-02T09:00", ends_at="2026-06-02T13:00"),
                                        metadata=STAFF).conflicts
        assert [c.meeting_id for c in taken] == [slots[0], slots[1], slots[2]]
    finally:
        for c in channels:
            c.close()
        for process, _ in replicas:
            process.stop()


def test_eight_steps_and_online_page(directory, tmp_path):
    dport, members, units, rooms = directory
    process, port = serve_domain("consultation", dport, data_dir=str(tmp_path))
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    s = consultation_pb2_grpc.ConsultationServiceStub(channel)
    try:
        host, invited = members[0], members[1]
        c = start(s, "城区背街小巷改造", host.id)
        assert c.step == pb.STEP_TOPIC_CHOSEN and c.host_name == host.name
        s.MakeConsultationPlan(pb.MakePlanRequest(id=c.id, work_plan="调研三条街巷，召开专题协商会"), metadata=STAFF)
        m = s.ScheduleMeeting(pb.Meeting(consultation_id=c.id, venue_id=rooms[1].id, starts_at="2020-01-06T09:00",
                                         ends_at="2020-01-06T11:00",
                                         invitations=[pb.Invitation(kind=pb.INVITEE_KIND_MEMBER, member_id=invited.id, required=True),
                                                      pb.Invitation(kind=pb.INVITEE_KIND_EXPERT, name="规划专家")]),
                              metadata=STAFF)
        # 不调研不协商: the meeting cannot be held before the research report.
        with pytest.raises(grpc.RpcError) as e:
            s.HoldMeeting(pb.MeetingRef(id=m.id), metadata=STAFF)
        assert e.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "不调研不协商" in e.value.details()
        s.RecordResearch(pb.ResearchRequest(id=c.id, activity=pb.ResearchActivity(on="2020-01-02", summary="走访沿街商户")),
                         metadata=STAFF)
        s.SubmitResearchReport(pb.ReportRequest(id=c.id, text="调研报告"), metadata=STAFF)
        held = s.HoldMeeting(pb.MeetingRef(id=m.id), metadata=STAFF)
        # Nobody signed in: the invited member is flagged for a talk, the expert is not a member.
        assert [i.talk_needed for i in held.invitations] == [True, False]
        s.SubmitResults(pb.ResultsRequest(id=c.id, suggestions=["统一规划管线入地", "分批实施"]), metadata=STAFF)
        s.AssignResponsibilities(pb.ResponsibilitiesRequest(id=c.id, responsibilities=[
            pb.Responsibility(suggestion_number=1, unit_id=units[0].id), pb.Responsibility(suggestion_number=2, unit_id=units[1].id)]),
            metadata=STAFF)
        for n, u in ((1, units[0]), (2, units[1])):
            s.RecordFeedback(pb.FeedbackRequest(id=c.id, suggestion_number=n, text="已落实"),
                             metadata=who(Role.ROLE_HANDLING_UNIT, unit_id=u.id, name=u.name))
        s.FeedBackResults(pb.ReportRequest(id=c.id, text="已向群众公示"), metadata=STAFF)
        done = s.ArchiveConsultation(pb.ConsultationRef(id=c.id), metadata=STAFF)
        assert done.step == pb.STEP_ARCHIVED
        archive = s.GetArchive(pb.GetRequest(id=c.id), metadata=who(Role.ROLE_LEADER))
        assert archive.attendance[0].absent == [invited.name]
        assert [x.unit_id for x in archive.consultation.suggestions] == [units[0].id, units[1].id]

        events = list(s.Watch(events_pb2.WatchRequest(history_only=True, entity_kinds=["consultation"]), metadata=STAFF))
        mine = [e.event_type for e in events if e.entity_id == str(c.id)]
        assert mine == ["consultation.created", "consultation.planned", "consultation.research_recorded", "consultation.researched",
                        "consultation.meeting_held", "consultation.results_submitted", "consultation.responsibilities_assigned",
                        "consultation.feedback_recorded", "consultation.feedback_recorded", "consultation.fed_back",
                        "consultation.archived"]
        assert pb.Consultation.FromString(events[-1].after).step == pb.STEP_ARCHIVED

        # 码上协商: the public posts without an account; only published posts are shown to them.
        online = start(s, "城区公园建设", host.id, form=pb.FORM_ONLINE)
        public = who(Role.ROLE_PUBLIC)
        post = s.PostOpinion(pb.OpinionPost(consultation_id=online.id, text="希望多种树", author_name="张先生"), metadata=public)
        assert post.state == pb.POST_STATE_PENDING
        assert list(s.ListPosts(pb.ListPostsRequest(consultation_id=online.id), metadata=public).posts) == []
        s.ModeratePost(pb.ModerationRequest(id=post.id, publish=True), metadata=STAFF)
        shown = s.ListPosts(pb.ListPostsRequest(consultation_id=online.id), metadata=public).posts
        assert [p.text for p in shown] == ["希望多种树"]

        report = s.CheckQuotas(pb.QuotaRequest(year=2020, behind_only=True), metadata=who(Role.ROLE_LEADER))
        assert report.as_of == "2020-12-31" and report.behind == len(report.rows) > 0
        thematic = [r for r in s.CheckQuotas(pb.QuotaRequest(year=2020), metadata=STAFF).rows if r.quota.startswith("专题协商")]
        assert [(r.done, r.required, r.behind) for r in thematic] == [(1, 4, True)]
    finally:
        channel.close()
        process.stop()
