"""The directory service as a process, called by a stock grpcio client.

The event-log test runs two service processes against one PostgreSQL schema, writes through both
at once, and checks that a Watch consumer receives every committed event exactly once, in order.
"""
import threading
import time

import grpc
import pytest

from conftest import bin_required, xieshang_bin
from directory_client import (Role, directory_pb2, events_pb2, postgres_required, postgres_url, principal,
                              serve_directory, stub, unique_schema)

pytestmark = pytest.mark.skipif(not xieshang_bin().exists() and not bin_required(),
                                reason="xieshang binary not built")

SYSTEM = principal(1, Role.ROLE_SYSTEM, account_id=0, name="test")


def needs_postgres():
    if postgres_url():
        return postgres_url()
    if postgres_required():
        pytest.fail("XIESHANG_TEST_POSTGRES_URL is not set but XIESHANG_REQUIRE_POSTGRES=1")
    pytest.skip("no PostgreSQL server (XIESHANG_TEST_POSTGRES_URL)")


def make_committee(s, code):
    return s.CreateCommittee(directory_pb2.Committee(code=code, name=f"政协{code}委员会", level=1), metadata=SYSTEM)


def test_seeded_directory_over_grpcio(tmp_path):
    proc, port = serve_directory(data_dir=str(tmp_path), extra=["--seed-demo"])
    try:
        channel, s = stub(port)
        out = proc.stdout_path.read_text()
        assert "9 committees" in out, out
        admin = principal(2, Role.ROLE_COMMITTEE_ADMIN)  # 长顺县 is the second committee created
        page = s.ListMembers(directory_pb2.ListMembersRequest(page_size=50), metadata=admin)
        assert 250 <= page.total <= 300
        assert all(m.committee_id == 2 for m in page.members)
        assert all(len(m.name) >= 2 for m in page.members)  # Chinese names round-trip
        sectors = s.ListSectors(directory_pb2.ListRequest(), metadata=admin).sectors
        assert len(sectors) == 17 and sectors[0].name == "中共"
        # The seeded accounts log in with the demo password.
        ok = s.Authenticate(directory_pb2.AuthenticateRequest(username="changshun.admin", password="xieshang-demo"),
                            metadata=SYSTEM)
        assert ok.principal.committee_id == 2
        with pytest.raises(grpc.RpcError) as e:
            s.GetMember(directory_pb2.GetRequest(id=page.members[0].id), metadata=principal(3, Role.ROLE_LEADER))
        assert e.value.code() == grpc.StatusCode.NOT_FOUND
        due = s.AddWorkingDays(directory_pb2.AddWorkingDaysRequest(date="2026-02-13", days=1), metadata=admin)
        assert due.date == "2026-02-14"  # a make-up Saturday of the Spring Festival table
        channel.close()
    finally:
        proc.stop()


def test_two_processes_one_postgres_every_event_exactly_once():
    url = needs_postgres()
    schema = unique_schema("evt")
    a, port_a = serve_directory(database_url=url, schema=schema)
    b, port_b = serve_directory(database_url=url, schema=schema)
    try:
        ch_a, sa = stub(port_a)
        ch_b, sb = stub(port_b)
        committee = make_committee(sa, "evt").id
        admin = principal(committee, Role.ROLE_COMMITTEE_ADMIN, name="并发写入")
        sector = sa.CreateSector(directory_pb2.Sector(name="教育"), metadata=admin).id

        received = []
        stop = threading.Event()

        def consume():
            call = sb.Watch(events_pb2.WatchRequest(after_cursor=0), metadata=SYSTEM)
            try:
                for e in call:
                    received.append(e.sequence)
                    if stop.is_set():
                        break
            except grpc.RpcError as err:
                if err.code() != grpc.StatusCode.CANCELLED:
                    raise
            finally:
                call.cancel()

        consumer = threading.Thread(target=consume, daemon=True)
        consumer.start()

        writers, each = 8, 40
        errors = []

        def write(w):
            s = sa if w % 2 == 0 else sb
            try:
                for i in range(each):
                    m = s.CreateMember(directory_pb2.Member(code=f"W{w}-{i}", name=f"委员{w}之{i}", sector_id=sector),
                                       metadata=admin)
                    if i % 4 == 0:
                        m.phone = "13800000000"
                        s.UpdateMember(m, metadata=admin)
            except Exception as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors

        expected = 2 + writers * each + writers * (each // 4)  # committee, sector, members, updates
        deadline = time.time() + 30
        while len(received) < expected and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # anything extra (a duplicate) would arrive now
        stop.set()
        assert len(received) == expected, f"{len(received)} of {expected}"
        assert received == list(range(1, expected + 1)), "events out of order, missing or repeated"

        # A second pass from a cursor in the middle, on the other process, gets exactly the rest.
        mid = expected // 2
        rest = [e.sequence for e in sa.Watch(events_pb2.WatchRequest(after_cursor=mid, history_only=True),
                                             metadata=SYSTEM)]
        assert rest == list(range(mid + 1, expected + 1))
        ch_a.close()
        ch_b.close()
    finally:
        a.stop()
        b.stop()


def test_bad_input_is_named():
    url = postgres_url() or ""
    proc, port = serve_directory(database_url=url, schema=unique_schema("bad") if url else "",
                                 data_dir="" if url else "/tmp/xieshang-test-bad-" + unique_schema("d"))
    try:
        channel, s = stub(port)
        with pytest.raises(grpc.RpcError) as e:
            s.ListSectors(directory_pb2.ListRequest())
        assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
        committee = make_committee(s, "bad").id
        admin = principal(committee, Role.ROLE_COMMITTEE_ADMIN)
        with pytest.raises(grpc.RpcError) as e:
            s.CreateMember(directory_pb2.Member(code="X", name="张三"), metadata=admin)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "sector_id" in e.value.details()
        with pytest.raises(grpc.RpcError) as e:
            make_committee(s, "bad")
        assert e.value.code() == grpc.StatusCode.ALREADY_EXISTS and "code" in e.value.details()
        r = s.ImportMembers(directory_pb2.ImportRequest(csv="编号,姓名,界别\nA1,张三,没有\n".encode()), metadata=admin)
        assert [(x.row, x.column) for x in r.errors] == [(2, "界别")]
        channel.close()
    finally:
        proc.stop()
