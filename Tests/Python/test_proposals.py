"""Proposals through grpcio against the real binaries: a seeded directory process and proposal
processes that check references against it over HTTP/2. Two replicas on one database register at
the same moment and the numbers stay gap-free and unique, on SQLite and on PostgreSQL."""
import csv
import io
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from directory_client import (Role, directory_pb2, events_pb2, postgres_required, postgres_url, serve_directory, serve_domain, stub,
                              unique_schema, who)
from xieshang.proposal.v1 import proposal_pb2, proposal_pb2_grpc

STAFF = who(Role.ROLE_COMMITTEE_STAFF, name="提案委")


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    data = tmp_path_factory.mktemp("directory")
    process, port = serve_directory(data_dir=str(data), extra=["--seed-demo"])
    channel, d = stub(port)
    admin = who(Role.ROLE_COMMITTEE_ADMIN)
    members = d.ListMembers(directory_pb2.ListMembersRequest(page_size=3), metadata=admin).members
    units = d.ListUnits(directory_pb2.ListUnitsRequest(page_size=2), metadata=admin).units
    yield port, members, units
    channel.close()
    process.stop()


def proposal(title: str, member_id: int) -> proposal_pb2.Proposal:
    return proposal_pb2.Proposal(proposer_kind=proposal_pb2.PROPOSER_KIND_MEMBER, lead_member_id=member_id,
                                 session=proposal_pb2.SESSION_PLENARY, session_name="九届四次会议", title=title,
                                 reasons="城区停车位严重不足，占道停车影响通行。", suggestions="规划建设立体停车场。", category="城建")


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_two_replicas_register_gap_free(directory, tmp_path, engine):
    dport, members, _ = directory
    if engine == "postgres":
        url = postgres_url()
        if not url:
            if postgres_required():
                pytest.fail("XIESHANG_TEST_POSTGRES_URL is not set")
            pytest.skip("no PostgreSQL server (set XIESHANG_TEST_POSTGRES_URL)")
        schema = unique_schema("proposals")
        replicas = [serve_domain("proposals", dport, database_url=url, schema=schema) for _ in range(2)]
    else:
        replicas = [serve_domain("proposals", dport, data_dir=str(tmp_path)) for _ in range(2)]
    channels = [grpc.insecure_channel(f"127.0.0.1:{port}") for _, port in replicas]
    stubs = [proposal_pb2_grpc.ProposalServiceStub(c) for c in channels]
    try:
        n = 60
        ids = [stubs[i % 2].SubmitProposal(proposal(f"关于停车难问题的提案{i}", members[0].id), metadata=STAFF).id
               for i in range(n)]

        def register(i: int) -> int:
            return stubs[i % 2].RegisterProposal(proposal_pb2.RegisterRequest(id=ids[i]), metadata=STAFF).number

        with ThreadPoolExecutor(max_workers=16) as pool:
            numbers = list(pool.map(register, range(n)))
        assert sorted(numbers) == list(range(1, n + 1))
        listed = stubs[0].ListProposals(proposal_pb2.ListProposalsRequest(page_size=100), metadata=STAFF).proposals
        assert sorted(p.number for p in listed) == list(range(1, n + 1))
        assert {p.number_label for p in listed} == {f"第{i}号" for i in range(1, n + 1)}
    finally:
        for c in channels:
            c.close()
        for process, _ in replicas:
            process.stop()


def test_story_and_export(directory, tmp_path):
    dport, members, units = directory
    process, port = serve_domain("proposals", dport, data_dir=str(tmp_path))
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    s = proposal_pb2_grpc.ProposalServiceStub(channel)
    try:
        member = who(Role.ROLE_MEMBER, member_id=members[1].id, name=members[1].name)
        unit = who(Role.ROLE_HANDLING_UNIT, unit_id=units[0].id, name=units[0].name)
        p = s.SubmitProposal(proposal("关于规划建设城区立体停车场的提案", 0), metadata=member)
        assert p.state == proposal_pb2.PROPOSAL_STATE_SUBMITTED and p.proposer_name == members[1].name
        p = s.RegisterProposal(proposal_pb2.RegisterRequest(id=p.id), metadata=STAFF)
        p = s.AssignProposal(proposal_pb2.AssignRequest(id=p.id, lead_unit_id=units[0].id, co_unit_ids=[units[1].id]),
                             metadata=STAFF)
        assert p.state == proposal_pb2.PROPOSAL_STATE_ASSIGNED and p.due_date > p.assigned_on
        s.RecordContact(proposal_pb2.ContactRequest(id=p.id, method=proposal_pb2.CONTACT_METHOD_PHONE), metadata=unit)
        s.ReplyProposal(proposal_pb2.ReplyRequest(id=p.id, text="已纳入城建计划", grade=proposal_pb2.REPLY_GRADE_A),
                        metadata=unit)
        done = s.EvaluateProposal(proposal_pb2.EvaluateRequest(id=p.id, satisfaction=proposal_pb2.SATISFACTION_SATISFIED),
                                  metadata=member)
        assert done.state == proposal_pb2.PROPOSAL_STATE_EVALUATED
        found = s.ListProposals(proposal_pb2.ListProposalsRequest(query="停车场"), metadata=STAFF)
        assert [x.id for x in found.proposals] == [p.id]

        # The export opens as UTF-8 in spreadsheet programs: a byte-order mark, then the Chinese.
        exported = s.ExportProposals(proposal_pb2.ListProposalsRequest(), metadata=who(Role.ROLE_LEADER))
        assert exported.csv.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(exported.csv.decode("utf-8-sig"))))
        assert rows[0][:3] == ["案号", "届次", "标题"]
        assert rows[1][0] == "第1号" and rows[1][2] == "关于规划建设城区立体停车场的提案"
        assert rows[1][9] == units[0].name and rows[1][14] == "满意"

        # The change feed holds every step, with the proposal before and after.
        events = list(s.Watch(events_pb2.WatchRequest(history_only=True, entity_kinds=["proposal"]), metadata=STAFF))
        mine = [e.event_type for e in events if e.entity_id == str(p.id)]
        assert mine == ["proposal.created", "proposal.registered", "proposal.assigned", "proposal.contacted",
                        "proposal.replied", "proposal.evaluated"]
        last = proposal_pb2.Proposal.FromString(events[-1].after)
        assert last.state == proposal_pb2.PROPOSAL_STATE_EVALUATED
        assert proposal_pb2.Proposal.FromString(events[-1].before).state == proposal_pb2.PROPOSAL_STATE_REPLIED

        # A wrong state is FAILED_PRECONDITION naming it; another county sees nothing.
        with pytest.raises(grpc.RpcError) as e:
            s.RegisterProposal(proposal_pb2.RegisterRequest(id=p.id), metadata=STAFF)
        assert e.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "evaluated" in e.value.details()
        other = who(Role.ROLE_COMMITTEE_STAFF, committee_id=3)
        with pytest.raises(grpc.RpcError) as e:
            s.GetProposal(proposal_pb2.GetRequest(id=p.id), metadata=other)
        assert e.value.code() == grpc.StatusCode.NOT_FOUND
    finally:
        channel.close()
        process.stop()
