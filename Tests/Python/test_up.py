"""`xieshang up`: the whole system in one process, through its gateway, as an operator starts it."""
import json
import os
import signal
import subprocess
import tempfile

import grpc

from conftest import UP_TOKEN_LINE, ensure_generated, free_port, require_xieshang_bin, start_up

ensure_generated()
from xieshang.gateway.v1 import gateway_pb2, gateway_pb2_grpc  # noqa: E402
from xieshang.intake.v1 import intake_pb2, intake_pb2_grpc  # noqa: E402

def _up(data_dir: str, port: int):
    return start_up(data_dir, port).server


def _tokens(output: str) -> dict:
    return {m.group(2): m.group(3) for m in UP_TOKEN_LINE.finditer(output)}


def _interrupt(server) -> int:
    os.killpg(server.proc.pid, signal.SIGINT)
    return server.proc.wait(timeout=30)


def test_up_serves_everything_through_the_gateway_and_keeps_data_across_starts():
    data_dir = tempfile.mkdtemp(prefix="xieshang-up-")
    port = free_port()
    server = _up(data_dir, port)
    try:
        out = server.output()
        assert f"gateway listening on 127.0.0.1:{port}" in out
        tokens = _tokens(out)
        assert set(tokens) >= {"changshun.admin", "changshun.liaison", "changshun.staff", "changshun.leader",
                               "changshun.member1", "changshun.unit1", "qiannan.admin"}, out
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        gateway = gateway_pb2_grpc.GatewayServiceStub(channel)
        me = gateway.WhoAmI(gateway_pb2.WhoAmIRequest(), metadata=(("authorization", f"Bearer {tokens['changshun.liaison']}"),))
        assert me.committee_name == "政协长顺县委员会" and me.principal.committee_id == 2
        login = gateway.Login(gateway_pb2.LoginRequest(username="changshun.member1", password="xieshang-demo"))
        assert login.token and login.principal.member_id > 0
        intake = intake_pb2_grpc.IntakeServiceStub(channel)
        ticket = intake.SubmitPublic(intake_pb2.PublicSubmission(text="路灯坏了三个月没人修"),
                                     metadata=(("x-xieshang-committee", "2"),))
        assert ticket.ticket_code
        # The operator's client: JSON in, JSON out, errors as CODE: message.
        call = [str(require_xieshang_bin()), "call", "--address", f"127.0.0.1:{port}"]
        who = subprocess.run(call + ["GatewayService/WhoAmI", "--token", tokens["changshun.leader"]],
                             capture_output=True, text=True, timeout=30)
        assert who.returncode == 0, who.stderr
        assert json.loads(who.stdout)["principal"]["roles"] == ["ROLE_LEADER"]
        denied = subprocess.run(call + ["IntakeService/RouteItem", "--token", tokens["changshun.leader"], "--data", '{"id": "1"}'],
                                capture_output=True, text=True, timeout=30)
        assert denied.returncode == 1 and denied.stderr.startswith("PERMISSION_DENIED: IntakeService/RouteItem"), denied.stderr
        channel.close()
        assert _interrupt(server) == 0, server.output()
        assert "stopping" in server.output()
    finally:
        server.stop()

    # A second start keeps the data and prints the same tokens.
    again = _up(data_dir, port)
    try:
        assert _tokens(again.output()) == tokens
        assert "already has committees" in again.output()
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        intake = intake_pb2_grpc.IntakeServiceStub(channel)
        view = intake.GetTicket(intake_pb2.TicketRequest(ticket_code=ticket.ticket_code), metadata=(("x-xieshang-committee", "2"),))
        assert view.text == "路灯坏了三个月没人修"
        found = intake.ListItems(intake_pb2.ListItemsRequest(query="路灯"),
                                 metadata=(("authorization", f"Bearer {tokens['changshun.liaison']}"),))
        assert [i.text for i in found.items] == ["路灯坏了三个月没人修"]
        channel.close()
        assert _interrupt(again) == 0
    finally:
        again.stop()
