"""Intake through grpcio against the real binaries: a seeded directory process and an intake
process that checks references against it over HTTP/2."""
import grpc
import pytest

from directory_client import COUNTY, Role, principal, serve_directory, serve_domain, signed, stub
from xieshang.directory.v1 import directory_pb2
from xieshang.intake.v1 import intake_pb2, intake_pb2_grpc

@pytest.fixture(scope="module")
def services(tmp_path_factory):
    data = tmp_path_factory.mktemp("intake")
    directory, dport = serve_directory(data_dir=str(data), extra=["--seed-demo"])
    intake, iport = serve_domain("intake", dport, data_dir=str(data))
    dchannel, d = stub(dport)
    channel = grpc.insecure_channel(f"127.0.0.1:{iport}")
    yield d, intake_pb2_grpc.IntakeServiceStub(channel), channel
    channel.close()
    dchannel.close()
    intake.stop()
    directory.stop()


def test_public_opinion_through_the_life(services):
    d, s, _ = services
    admin = principal(COUNTY, Role.ROLE_COMMITTEE_ADMIN)
    towns = d.ListAreas(directory_pb2.ListAreasRequest(level=directory_pb2.AREA_LEVEL_TOWN, page_size=5), metadata=admin).areas
    unit = d.ListUnits(directory_pb2.ListUnitsRequest(page_size=1), metadata=admin).units[0]
    public = principal(COUNTY, Role.ROLE_PUBLIC, account_id=0, name="")
    staff = principal(COUNTY, Role.ROLE_LIAISON_STAFF, name="联络中心")
    t = s.SubmitPublic(intake_pb2.PublicSubmission(text="楼栋墙体长期漏水，雨天更严重", town_id=towns[0].id,
                                                   name="张三", phone="13800000000"), metadata=public)
    assert t.state == intake_pb2.ITEM_STATE_RECEIVED and len(t.ticket_code) == 10
    found = s.ListItems(intake_pb2.ListItemsRequest(query="漏水"), metadata=staff)
    assert [i.text for i in found.items] == ["楼栋墙体长期漏水，雨天更严重"]
    item = found.items[0]
    assert item.town_id == towns[0].id and item.channel == intake_pb2.CHANNEL_QR_POINT
    s.RegisterItem(intake_pb2.RegisterRequest(id=item.id, category="民生"), metadata=staff)
    routed = s.RouteItem(intake_pb2.RouteRequest(id=item.id, mode=intake_pb2.HANDLING_MODE_PHONE, unit_id=unit.id),
                         metadata=staff)
    assert routed.time_limit_days == 15 and routed.due_date > routed.received_on
    unit_caller = principal(COUNTY, Role.ROLE_HANDLING_UNIT)
    unit_caller = _with_unit(unit_caller[0][1], unit.id)
    s.AcknowledgeItem(intake_pb2.ItemRef(id=item.id), metadata=unit_caller)
    s.ReplyItem(intake_pb2.ReplyRequest(id=item.id, reply="已安排维修"), metadata=unit_caller)
    view = s.GetTicket(intake_pb2.TicketRequest(ticket_code=t.ticket_code), metadata=public)
    assert view.state == intake_pb2.ITEM_STATE_ANSWERED and view.can_rate and view.reply == "已安排维修"
    done = s.RateTicket(intake_pb2.RateTicketRequest(ticket_code=t.ticket_code,
                                                     satisfaction=intake_pb2.SATISFACTION_SATISFIED), metadata=public)
    assert done.state == intake_pb2.ITEM_STATE_CLOSED
    # Another county's staff see nothing of it.
    with pytest.raises(grpc.RpcError) as e:
        s.GetItem(intake_pb2.GetRequest(id=item.id), metadata=principal(3, Role.ROLE_LIAISON_STAFF))
    assert e.value.code() == grpc.StatusCode.NOT_FOUND


def _with_unit(principal_bytes: bytes, unit_id: int) -> tuple:
    from xieshang.common.v1 import principal_pb2
    p = principal_pb2.Principal.FromString(principal_bytes)
    p.unit_id = unit_id
    return signed(p)


def test_bad_input_named_and_nothing_written(services):
    _, s, channel = services
    public = principal(COUNTY, Role.ROLE_PUBLIC, account_id=0, name="")
    staff = principal(COUNTY, Role.ROLE_LIAISON_STAFF)
    before = s.ListItems(intake_pb2.ListItemsRequest(), metadata=staff).total
    cases = [
        (intake_pb2.PublicSubmission(text=""), "text"),
        (intake_pb2.PublicSubmission(text="长" * 5001), "text"),
        (intake_pb2.PublicSubmission(text="意见", channel=99), "channel"),
        (intake_pb2.PublicSubmission(text="意见", town_id=10_000_000), "town_id"),
    ]
    for request, field in cases:
        with pytest.raises(grpc.RpcError) as e:
            s.SubmitPublic(request, metadata=public)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT, (field, e.value.details())
        assert field in e.value.details()
    # Invalid UTF-8 in the text field, sent as raw bytes (field 1, length 2).
    raw = channel.unary_unary("/xieshang.intake.v1.IntakeService/SubmitPublic",
                              request_serializer=lambda b: b, response_deserializer=lambda b: b)
    with pytest.raises(grpc.RpcError) as e:
        raw(b"\x0a\x02\xff\xfe", metadata=public)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "text" in e.value.details()
    with pytest.raises(grpc.RpcError) as e:
        s.RegisterItem(intake_pb2.RegisterRequest(id=987_654, category="民生"), metadata=staff)
    assert e.value.code() == grpc.StatusCode.NOT_FOUND
    assert s.ListItems(intake_pb2.ListItemsRequest(), metadata=staff).total == before
