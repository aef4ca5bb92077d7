"""gRPC interop tests between Xieshang and grpcio, in three directions.

(a) interop_client.py (grpcio)          -> xieshang interop-server
(b) xieshang interop-client             -> interop_server.py (grpcio)
(c) xieshang interop-client             -> xieshang interop-server

plus many concurrent calls over one connection and the health service.
Servers are started once per module (see the fixtures in conftest.py).
"""

from __future__ import annotations

import sys
import time

import grpc
import pytest

from conftest import HERE, run_checked

INTEROP_CASES = [
    "empty_unary",
    "large_unary",
    "client_streaming",
    "server_streaming",
    "ping_pong",
    "empty_stream",
    "timeout_on_sleeping_server",
    "cancel_after_begin",
    "cancel_after_first_response",
    "custom_metadata",
    "status_code_and_message",
    "special_status_message",
    "unimplemented_method",
    "unimplemented_service",
]

CLIENT_TIMEOUT = 60.0  # seconds for one client process running one case


@pytest.mark.parametrize("case", INTEROP_CASES)
def test_python_client_to_our_server(case, our_server):
    run_checked(
        [sys.executable, HERE / "interop_client.py",
         "--host", our_server.host, "--port", our_server.port, "--test_case", case],
        CLIENT_TIMEOUT, f"interop_client.py --test_case {case} against {our_server.name}",
    )
    assert our_server.alive(), f"server died during {case}\n{our_server.output()}"


@pytest.mark.parametrize("case", INTEROP_CASES)
def test_our_client_to_python_server(case, xieshang, py_server):
    run_checked(
        [xieshang, "interop-client",
         "--host", py_server.host, "--port", py_server.port, "--test_case", case],
        CLIENT_TIMEOUT, f"xieshang interop-client --test_case {case} against {py_server.name}",
    )


@pytest.mark.parametrize("case", INTEROP_CASES)
def test_our_client_to_our_server(case, xieshang, our_server):
    run_checked(
        [xieshang, "interop-client",
         "--host", our_server.host, "--port", our_server.port, "--test_case", case],
        CLIENT_TIMEOUT, f"xieshang interop-client --test_case {case} against {our_server.name}",
    )
    assert our_server.alive(), f"server died during {case}\n{our_server.output()}"


CONCURRENT_CALLS = 2000


def test_concurrent_unary_calls_on_one_channel(our_server, pb):
    """2,000 UnaryCalls in flight at once on ONE grpcio channel (one HTTP/2
    connection). Each asks for a different response size and carries its own
    echo metadata, so every answer is checked against its own request."""
    messages_pb2 = pb.messages_pb2
    channel = grpc.insecure_channel(
        our_server.address,
        options=[("grpc.use_local_subchannel_pool", 1)],  # do not share a connection with other channels
    )
    try:
        grpc.channel_ready_future(channel).result(timeout=10)
        stub = pb.test_pb2_grpc.TestServiceStub(channel)

        def request(i: int):
            # Distinct response sizes 1..~26 KB (some cross 16 KB DATA frames)
            # and distinct request payloads.
            return messages_pb2.SimpleRequest(
                response_type=messages_pb2.COMPRESSABLE,
                response_size=1 + 13 * i,
                payload=messages_pb2.Payload(body=i.to_bytes(4, "big") * (1 + i % 50)),
            )

        started = time.monotonic()
        calls = [
            stub.UnaryCall.future(request(i), metadata=(("x-grpc-test-echo-initial", f"call-{i}"),),
                                  timeout=120)
            for i in range(CONCURRENT_CALLS)
        ]
        failures = []
        for i, call in enumerate(calls):
            try:
                response = call.result()
            except grpc.RpcError as err:
                failures.append(f"call {i}: {err.code()} {err.details()!r}")
                continue
            size = 1 + 13 * i
            if response.payload.body != bytes(size):
                failures.append(f"call {i}: payload of {len(response.payload.body)} bytes, expected {size} zeros")
            echoed = [v for k, v in call.initial_metadata() if k == "x-grpc-test-echo-initial"]
            if echoed != [f"call-{i}"]:
                failures.append(f"call {i}: echoed initial metadata {echoed!r}, expected ['call-{i}']")
        elapsed = time.monotonic() - started
    finally:
        channel.close()
    assert not failures, (
        f"{len(failures)} of {CONCURRENT_CALLS} concurrent calls failed (first 20):\n" + "\n".join(failures[:20])
    )
    assert our_server.alive(), our_server.output()
    print(f"{CONCURRENT_CALLS} concurrent UnaryCalls in {elapsed:.2f} s")


def test_health_check_serving(our_server, pb):
    health_pb2 = pb.health_pb2
    with grpc.insecure_channel(our_server.address) as channel:
        stub = pb.health_pb2_grpc.HealthStub(channel)
        response = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
    assert response.status == health_pb2.HealthCheckResponse.SERVING, (
        f"Health/Check(\"\") returned {health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)}"
    )


def test_health_check_unknown_service_is_not_found(our_server, pb):
    """grpc.health.v1: Check for a service the server does not know fails with NOT_FOUND."""
    health_pb2 = pb.health_pb2
    with grpc.insecure_channel(our_server.address) as channel:
        stub = pb.health_pb2_grpc.HealthStub(channel)
        with pytest.raises(grpc.RpcError) as info:
            stub.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=10)
    assert info.value.code() == grpc.StatusCode.NOT_FOUND, (
        f"expected NOT_FOUND, got {info.value.code()} {info.value.details()!r}"
    )
