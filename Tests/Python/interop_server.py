#!/usr/bin/env python3
"""Reference gRPC interop server (grpcio) for Xieshang's interop tests.

    python3 Tests/Python/interop_server.py --port 50051 [--host 127.0.0.1]

Implements grpc.testing.TestService the way the gRPC interop test
descriptions specify for servers (doc/interop-test-descriptions.md, "Server"):

* EmptyCall            returns Empty.
* UnaryCall            payload of response_size zero bytes; Echo Status;
                       Echo Metadata; response_compressed honoured.
* CacheableUnaryCall   payload = current time in ns (ASCII), cache-control.
* StreamingOutputCall  one response per ResponseParameters (size, interval_us
                       slept *before* each response); Echo Status.
* StreamingInputCall   aggregated_payload_size = sum of payload body sizes,
                       returned on half-close.
* FullDuplexCall       per request, one response per ResponseParameters;
                       Echo Metadata; Echo Status (closes immediately with the
                       requested status, ignoring later messages).
* HalfDuplexCall       buffers requests until half-close, then responds.
* UnimplementedCall    UNIMPLEMENTED (TestService; UnimplementedService is not
                       registered, so grpcio answers UNIMPLEMENTED for it too).

Also serves grpc.health.v1.Health ("" and "grpc.testing.TestService" are
SERVING) and server reflection. Prints "listening on PORT" once ready; SIGTERM
or SIGINT stops it. With --port 0 an ephemeral port is chosen and printed.

Not supported: CompressedRequest's expect_compressed check (grpcio does not
tell a handler whether a request message arrived compressed).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from concurrent import futures
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import ensure_generated  # noqa: E402

ensure_generated()

import grpc  # noqa: E402
from grpc.testing import empty_pb2, messages_pb2, test_pb2, test_pb2_grpc  # noqa: E402
from grpc_health.v1 import health, health_pb2, health_pb2_grpc  # noqa: E402

ECHO_INITIAL_KEY = "x-grpc-test-echo-initial"
ECHO_TRAILING_KEY = "x-grpc-test-echo-trailing-bin"

# Numeric status code -> grpc.StatusCode
_CODES = {c.value[0]: c for c in grpc.StatusCode}


def _status_code(number: int) -> grpc.StatusCode:
    return _CODES.get(number, grpc.StatusCode.UNKNOWN)


def _echo_metadata(context: grpc.ServicerContext) -> None:
    """Echo Metadata: initial key back as initial metadata, -bin key as trailers."""
    initial, trailing = [], []
    for key, value in context.invocation_metadata():
        if key == ECHO_INITIAL_KEY:
            initial.append((key, value))
        elif key == ECHO_TRAILING_KEY:
            trailing.append((key, value))
    if initial:
        context.send_initial_metadata(initial)
    if trailing:
        context.set_trailing_metadata(trailing)


def _maybe_echo_status(context: grpc.ServicerContext, request) -> None:
    """Echo Status: end the call with the requested code and message (never returns)."""
    if request.HasField("response_status") and request.response_status.code != 0:
        context.abort(_status_code(request.response_status.code), request.response_status.message)


def _check_response_type(context: grpc.ServicerContext, response_type: int) -> None:
    if response_type != messages_pb2.COMPRESSABLE:
        context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                      f"unsupported response_type {response_type}")


def _payload(context: grpc.ServicerContext, size: int) -> messages_pb2.Payload:
    if size < 0:
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"negative response size {size}")
    return messages_pb2.Payload(type=messages_pb2.COMPRESSABLE, body=bytes(size))


def _stream_responses(context: grpc.ServicerContext, request):
    """Responses for one StreamingOutputCallRequest (Observe interval_us)."""
    _check_response_type(context, request.response_type)
    for params in request.response_parameters:
        if params.interval_us > 0:
            time.sleep(params.interval_us / 1_000_000)
        if params.HasField("compressed") and not params.compressed.value:
            context.disable_next_message_compression()
        yield messages_pb2.StreamingOutputCallResponse(payload=_payload(context, params.size))


def _wants_compression(request) -> bool:
    return any(p.HasField("compressed") and p.compressed.value for p in request.response_parameters)


class TestService(test_pb2_grpc.TestServiceServicer):
    def EmptyCall(self, request, context):
        return empty_pb2.Empty()

    def UnaryCall(self, request, context):
        _echo_metadata(context)
        _maybe_echo_status(context, request)
        _check_response_type(context, request.response_type)
        if request.HasField("response_compressed"):
            context.set_compression(
                grpc.Compression.Gzip if request.response_compressed.value else grpc.Compression.NoCompression
            )
        return messages_pb2.SimpleResponse(payload=_payload(context, request.response_size))

    def CacheableUnaryCall(self, request, context):
        context.send_initial_metadata([("cache-control", "max-age=60, public")])
        body = str(time.time_ns()).encode("ascii")
        return messages_pb2.SimpleResponse(
            payload=messages_pb2.Payload(type=messages_pb2.COMPRESSABLE, body=body))

    def StreamingOutputCall(self, request, context):
        _maybe_echo_status(context, request)
        if _wants_compression(request):
            context.set_compression(grpc.Compression.Gzip)
        yield from _stream_responses(context, request)

    def StreamingInputCall(self, request_iterator, context):
        total = 0
        for request in request_iterator:
            total += len(request.payload.body)
        return messages_pb2.StreamingInputCallResponse(aggregated_payload_size=total)

    def FullDuplexCall(self, request_iterator, context):
        _echo_metadata(context)
        for request in request_iterator:
            _maybe_echo_status(context, request)
            if _wants_compression(request):
                context.set_compression(grpc.Compression.Gzip)
            yield from _stream_responses(context, request)

    def HalfDuplexCall(self, request_iterator, context):
        _echo_metadata(context)
        requests = list(request_iterator)  # wait for the client's half-close
        for request in requests:
            _maybe_echo_status(context, request)
            yield from _stream_responses(context, request)

    def UnimplementedCall(self, request, context):
        context.abort(grpc.StatusCode.UNIMPLEMENTED,
                      "grpc.testing.TestService/UnimplementedCall is not implemented")


def build_server(host: str, port: int, max_workers: int = 64, max_metadata_size: int | None = None):
    extra_options = []
    if max_metadata_size:
        extra_options = [("grpc.max_metadata_size", max_metadata_size),
                         ("grpc.absolute_max_metadata_size", max_metadata_size)]
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="interop"),
        options=extra_options + [
            ("grpc.so_reuseport", 0),
            # grpc-core cancels calls queued beyond these limits (defaults 1000 / 3000);
            # the tests put thousands of calls in flight at once.
            ("grpc.server.max_pending_requests", 100000),
            ("grpc.server.max_pending_requests_hard_limit", 100000),
        ],
    )
    test_pb2_grpc.add_TestServiceServicer_to_server(TestService(), server)

    health_servicer = health.HealthServicer()
    health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    health_servicer.set("grpc.testing.TestService", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)

    service_names = [
        test_pb2.DESCRIPTOR.services_by_name["TestService"].full_name,
        health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
    ]
    try:
        from grpc_reflection.v1alpha import reflection

        reflection.enable_server_reflection(service_names + [reflection.SERVICE_NAME], server)
    except ImportError:  # reflection is a convenience only
        pass

    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise SystemExit(f"interop_server: cannot bind {host}:{port}")
    return server, bound


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True, help="port to listen on (0: pick one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--use_tls", default="false", choices=["false"],
                        help="accepted for compatibility; only plaintext is supported")
    parser.add_argument("--max_workers", type=int, default=64, help="handler thread pool size")
    parser.add_argument("--max_metadata_size", type=int, default=None,
                        help="limit on request metadata in bytes (grpcio's default accepts very large headers)")
    args = parser.parse_args(argv)

    server, port = build_server(args.host, args.port, args.max_workers, args.max_metadata_size)
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    server.start()
    print(f"listening on {port}", flush=True)
    while not stop.wait(0.5):
        pass
    server.stop(grace=1.0).wait(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
