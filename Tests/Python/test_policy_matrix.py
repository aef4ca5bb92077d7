"""Every method × every role: the gateway's table (`xieshang policy --json`) against each
service's own role checks for the same caller, called straight with a signed principal and an
empty request (`xieshang up`, SQLite).

A service's role check refuses with PERMISSION_DENIED and a message naming who may ("… needs one
of: …", "… are for …", "… needs a staff account"); refusals about whose record it is ("another
account's …", "other accounts' …") and every other answer (INVALID_ARGUMENT, NOT_FOUND, …) mean its role check let the
caller by. DRIFT lists, exactly, the pairs the table admits and a service's role check refuses:
each is a defect of one side (the issue: one source of truth for who may call what), so fixing one,
or making a new one, fails this test until the list says so. The other direction (the table
refuses what a service would allow) is not seen here: services validate many requests before
they look at roles, so an empty request does not reach their role checks.
"""
from __future__ import annotations

import json
import re
import subprocess
import tempfile

import grpc
import pytest

from conftest import ensure_generated, free_port, require_xieshang_bin, start_up
from directory_client import signed

ensure_generated()
from xieshang.common.v1 import principal_pb2  # noqa: E402
from xieshang.gateway.v1 import gateway_pb2, gateway_pb2_grpc  # noqa: E402

SECRET = "policy-matrix-principal-secret"
ROLE_TOKENS = {
    "member": "changshun.member1", "liaison_staff": "changshun.liaison", "committee_staff": "changshun.staff",
    "handling_unit": "changshun.unit1", "leader": "changshun.leader", "committee_admin": "changshun.admin",
    "prefecture_admin": "qiannan.admin",
}
SERVICES = {"DirectoryService": "directory", "IntakeService": "intake", "ProposalService": "proposals",
            "ConsultationService": "consultation", "AnalyticsService": "analytics", "NotifyService": "notify"}

# (method, role) the gateway's table admits and the service's role check refuses, as found.
DRIFT: set[tuple[str, str]] = {
    ("AnalyticsService/GetDashboard", "member"),
    ("ConsultationService/CheckConflicts", "committee_admin"),
    ("ConsultationService/CheckConflicts", "leader"),
    ("ConsultationService/CheckConflicts", "liaison_staff"),
    ("ConsultationService/CheckConflicts", "prefecture_admin"),
    ("ConsultationService/CheckQuotas", "liaison_staff"),
    ("ConsultationService/CreateConsultation", "committee_admin"),
    ("ConsultationService/CreateConsultation", "leader"),
    ("ConsultationService/CreatePlan", "leader"),
    ("ConsultationService/FindFreeSlots", "committee_admin"),
    ("ConsultationService/FindFreeSlots", "leader"),
    ("ConsultationService/FindFreeSlots", "liaison_staff"),
    ("ConsultationService/FindFreeSlots", "prefecture_admin"),
    ("ConsultationService/Invite", "committee_admin"),
    ("ConsultationService/Invite", "leader"),
    ("ConsultationService/ListChase", "liaison_staff"),
    ("ConsultationService/ListChase", "member"),
    ("ConsultationService/ModeratePost", "committee_admin"),
    ("ConsultationService/ModeratePost", "leader"),
    ("ConsultationService/PlanRoster", "committee_admin"),
    ("ConsultationService/PlanRoster", "liaison_staff"),
    ("ConsultationService/ProposeTopic", "committee_admin"),
    ("ConsultationService/ProposeTopic", "liaison_staff"),
    ("ConsultationService/RecordLiaisonActivity", "committee_admin"),
    ("ConsultationService/RecordLiaisonActivity", "liaison_staff"),
    ("ConsultationService/ScheduleMeeting", "committee_admin"),
    ("ConsultationService/ScheduleMeeting", "leader"),
    ("IntakeService/AddFollowUp", "committee_admin"),
    ("IntakeService/AddInstruction", "committee_admin"),
    ("IntakeService/CreateRelay", "committee_admin"),
    ("IntakeService/CreateReport", "committee_admin"),
    ("IntakeService/GetReport", "handling_unit"),
    ("IntakeService/GetReport", "member"),
    ("IntakeService/IssueBulletin", "committee_admin"),
    ("IntakeService/ListChase", "committee_staff"),
    ("IntakeService/ListChase", "member"),
    ("IntakeService/ListRelays", "handling_unit"),
    ("IntakeService/ListReports", "handling_unit"),
    ("IntakeService/ListReports", "member"),
    ("IntakeService/RecordAdoption", "committee_admin"),
    ("IntakeService/RouteItem", "committee_admin"),
    ("IntakeService/SendReport", "committee_admin"),
    ("IntakeService/SubmitItem", "committee_admin"),
    ("IntakeService/UpdateReport", "committee_admin"),
    ("ProposalService/AssignProposal", "committee_admin"),
    ("ProposalService/DecideReassignment", "committee_admin"),
    ("ProposalService/ListAppraisals", "member"),
    ("ProposalService/ListChase", "liaison_staff"),
    ("ProposalService/ListChase", "member"),
    ("ProposalService/MergeProposal", "committee_admin"),
    ("ProposalService/ScoreUnits", "liaison_staff"),
    ("ProposalService/SetKeyProposal", "committee_admin"),
    ("ProposalService/SubmitProposal", "committee_admin"),
}


@pytest.fixture(scope="module")
def system():
    port = free_port()
    up = start_up(tempfile.mkdtemp(prefix="xieshang-matrix-"), port, secret=SECRET)
    tokens = up.tokens
    principals = {}
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        gw = gateway_pb2_grpc.GatewayServiceStub(channel)
        for role, user in ROLE_TOKENS.items():
            principals[role] = gw.WhoAmI(gateway_pb2.WhoAmIRequest(), metadata=(("authorization", f"Bearer {tokens[user]}"),),
                                         timeout=20).principal
    public = principal_pb2.Principal(committee_id=2, roles=[principal_pb2.ROLE_PUBLIC], display_name="群众")
    principals["public"] = public
    yield {"addresses": up.addresses, "principals": principals}
    up.server.stop()


ROLE_REFUSAL = re.compile(r"needs one of:|needs an? [a-z, ]*account|are for |is for ")


def role_check_lets_by(channel: grpc.Channel, path: str, streaming: bool, principal) -> bool:
    md = signed(principal, secret=SECRET)
    try:
        if streaming:
            stream = channel.unary_stream(path)(b"", metadata=md, timeout=1.5)
            for _ in stream:
                break
            stream.cancel()
        else:
            channel.unary_unary(path)(b"", metadata=md, timeout=5)
    except grpc.RpcError as e:
        refused = e.code() == grpc.StatusCode.PERMISSION_DENIED and ROLE_REFUSAL.search(e.details() or "")
        return not (refused and "other account" not in e.details())  # whose record, not which role
    return True


def test_gateway_table_and_services_agree(system):
    table = [json.loads(line) for line in subprocess.run([str(require_xieshang_bin()), "policy", "--json"], check=True,
                                                         capture_output=True, text=True).stdout.splitlines()]
    streaming = set(subprocess.run([str(require_xieshang_bin()), "call", "--list"], check=True, capture_output=True,
                                   text=True).stdout.split("\n"))
    streaming = {line.split()[0] for line in streaming if line.endswith("(stream)")}
    channels = {name: grpc.insecure_channel(addr) for name, addr in system["addresses"].items() if name in SERVICES.values()}
    found: set[tuple[str, str]] = set()
    checked = 0
    try:
        for row in table:
            service = row["method"].split("/")[1].split(".")[-1]
            if service not in SERVICES:
                continue  # the gateway's own calls have no service behind them
            short = f"{service}/{row['method'].split('/')[2]}"
            lets_by = role_check_lets_by(channels[SERVICES[service]], row["method"], short in streaming or row["method"][1:] in streaming,
                                      system["principals"][row["role"]])
            checked += 1
            if row["allowed"] and not lets_by:
                found.add((short, row["role"]))
    finally:
        for c in channels.values():
            c.close()
    assert checked > 1000, checked
    assert found == DRIFT, "\n".join(
        [f"new drift: {m} × {r}" for m, r in sorted(found - DRIFT)] + [f"fixed (drop it from DRIFT): {m} × {r}" for m, r in sorted(DRIFT - found)])
