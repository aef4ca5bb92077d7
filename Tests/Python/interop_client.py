#!/usr/bin/env python3
"""Reference gRPC interop client (grpcio) for Xieshang's interop tests.

    python3 Tests/Python/interop_client.py --host 127.0.0.1 --port 50051 --test_case large_unary
    python3 Tests/Python/interop_client.py --port 50051 --test_case all

Each test case follows the gRPC interop test descriptions
(doc/interop-test-descriptions.md, "Client") and checks everything they
assert. Exit status: 0 if the case (or every case, for "all") passed, 1 if one
failed (the reason is printed), 2 for usage errors.
"""

from __future__ import annotations

import argparse
import queue
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import ensure_generated  # noqa: E402

ensure_generated()

import grpc  # noqa: E402
from grpc.testing import empty_pb2, messages_pb2, test_pb2_grpc  # noqa: E402

ECHO_INITIAL_KEY = "x-grpc-test-echo-initial"
ECHO_INITIAL_VALUE = "test_initial_metadata_value"
ECHO_TRAILING_KEY = "x-grpc-test-echo-trailing-bin"
ECHO_TRAILING_VALUE = b"\xab\xab\xab"

SPECIAL_STATUS_MESSAGE = "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \U0001f608\t\n"

# Request/response sizes from the interop descriptions.
LARGE_REQUEST_SIZE = 271828
LARGE_RESPONSE_SIZE = 314159
STREAM_REQUEST_SIZES = (27182, 8, 1828, 45904)
STREAM_RESPONSE_SIZES = (31415, 9, 2653, 58979)

CALL_TIMEOUT = 30.0  # per call, so that a broken peer cannot hang a case forever


class InteropFailure(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise InteropFailure(message)


def zeros(n: int) -> bytes:
    return bytes(n)


def check_payload(payload, size: int, what: str) -> None:
    check(payload.type == messages_pb2.COMPRESSABLE,
          f"{what}: payload type is {payload.type}, expected COMPRESSABLE (0)")
    check(len(payload.body) == size,
          f"{what}: payload body is {len(payload.body)} bytes, expected {size}")
    check(payload.body == zeros(size), f"{what}: payload body is not all zero bytes")


def check_rpc_error(err: grpc.RpcError, code: grpc.StatusCode, what: str, details: str | None = None) -> None:
    got = err.code()
    check(got == code, f"{what}: status is {got} ({err.details()!r}), expected {code}")
    if details is not None:
        check(err.details() == details,
              f"{what}: status message is {err.details()!r}, expected {details!r}")


def check_metadata(metadata, key: str, value, what: str) -> None:
    values = [v for k, v in (metadata or ()) if k == key]
    check(values == [value],
          f"{what}: metadata {key!r} is {values!r}, expected exactly [{value!r}]"
          f" (all metadata: {list(metadata or ())!r})")


class RequestPipe:
    """A request iterator the test feeds one message at a time (for bidi calls)."""

    _END = object()

    def __init__(self):
        self._queue: queue.Queue = queue.Queue()

    def send(self, message) -> None:
        self._queue.put(message)

    def close(self) -> None:  # half-close; safe to call more than once
        self._queue.put(self._END)

    def __iter__(self):
        return self

    def __next__(self):
        item = self._queue.get()
        if item is self._END:
            self._queue.put(self._END)
            raise StopIteration
        return item


def streaming_request(response_size: int | None = None, payload_size: int | None = None, status=None):
    request = messages_pb2.StreamingOutputCallRequest(response_type=messages_pb2.COMPRESSABLE)
    if response_size is not None:
        request.response_parameters.add(size=response_size)
    if payload_size is not None:
        request.payload.body = zeros(payload_size)
    if status is not None:
        request.response_status.CopyFrom(status)
    return request


# ---------------------------------------------------------------------------
# Test cases
# ---------------------------------------------------------------------------


def empty_unary(channel):
    stub = test_pb2_grpc.TestServiceStub(channel)
    response = stub.EmptyCall(empty_pb2.Empty(), timeout=CALL_TIMEOUT)
    check(response is not None, "EmptyCall: response is null")
    check(isinstance(response, empty_pb2.Empty), f"EmptyCall: response has type {type(response)}")
    check(response.ByteSize() == 0, "EmptyCall: response is not the empty message")


def large_unary(channel):
    stub = test_pb2_grpc.TestServiceStub(channel)
    request = messages_pb2.SimpleRequest(
        response_type=messages_pb2.COMPRESSABLE,
        response_size=LARGE_RESPONSE_SIZE,
        payload=messages_pb2.Payload(body=zeros(LARGE_REQUEST_SIZE)),
    )
    response = stub.UnaryCall(request, timeout=CALL_TIMEOUT)
    check_payload(response.payload, LARGE_RESPONSE_SIZE, "UnaryCall")


def client_streaming(channel):
    stub = test_pb2_grpc.TestServiceStub(channel)
    requests = [messages_pb2.StreamingInputCallRequest(payload=messages_pb2.Payload(body=zeros(n)))
                for n in STREAM_REQUEST_SIZES]
    response = stub.StreamingInputCall(iter(requests), timeout=CALL_TIMEOUT)
    check(response.aggregated_payload_size == 74922,
          f"StreamingInputCall: aggregated_payload_size is {response.aggregated_payload_size}, expected 74922")


def server_streaming(channel):
    stub = test_pb2_grpc.TestServiceStub(channel)
    request = messages_pb2.StreamingOutputCallRequest(response_type=messages_pb2.COMPRESSABLE)
    for size in STREAM_RESPONSE_SIZES:
        request.response_parameters.add(size=size)
    call = stub.StreamingOutputCall(request, timeout=CALL_TIMEOUT)
    responses = list(call)
    check(len(responses) == len(STREAM_RESPONSE_SIZES),
          f"StreamingOutputCall: got {len(responses)} responses, expected {len(STREAM_RESPONSE_SIZES)}")
    for i, (response, size) in enumerate(zip(responses, STREAM_RESPONSE_SIZES)):
        check_payload(response.payload, size, f"StreamingOutputCall response #{i + 1}")
    check(call.code() == grpc.StatusCode.OK, f"StreamingOutputCall: status {call.code()}, expected OK")


def ping_pong(channel):
    stub = test_pb2_grpc.TestServiceStub(channel)
    pipe = RequestPipe()
    call = stub.FullDuplexCall(pipe, timeout=CALL_TIMEOUT)
    try:
        for i, (response_size, payload_size) in enumerate(zip(STREAM_RESPONSE_SIZES, STREAM_REQUEST_SIZES)):
            pipe.send(streaming_request(response_size, payload_size))
            try:
                response = next(call)
            except StopIteration:
                raise InteropFailure(f"FullDuplexCall: stream ended before response #{i + 1}") from None
            check_payload(response.payload, response_size, f"FullDuplexCall response #{i + 1}")
        pipe.close()
        extra = list(call)
        check(not extra, f"FullDuplexCall: {len(extra)} unexpected responses after half-close")
        check(call.code() == grpc.StatusCode.OK, f"FullDuplexCall: status {call.code()}, expected OK")
    finally:
        pipe.close()


def empty_stream(channel):
    stub = test_pb2_grpc.TestServiceStub(channel)
    call = stub.FullDuplexCall(iter(()), timeout=CALL_TIMEOUT)
    responses = list(call)
    check(not responses, f"FullDuplexCall: got {len(responses)} responses, expected none")
    check(call.code() == grpc.StatusCode.OK, f"FullDuplexCall: status {call.code()}, expected OK")


def timeout_on_sleeping_server(channel):
    stub = test_pb2_grpc.TestServiceStub(channel)
    pipe = RequestPipe()
    try:
        call = stub.FullDuplexCall(pipe, timeout=0.001)
        pipe.send(streaming_request(payload_size=27182))
        try:
            responses = list(call)
        except grpc.RpcError as err:
            check_rpc_error(err, grpc.StatusCode.DEADLINE_EXCEEDED, "FullDuplexCall with 1 ms deadline")
        else:
            raise InteropFailure(
                f"FullDuplexCall with 1 ms deadline: completed with {call.code()} and "
                f"{len(responses)} responses, expected DEADLINE_EXCEEDED")
    finally:
        pipe.close()


def cancel_after_begin(channel):
    stub = test_pb2_grpc.TestServiceStub(channel)
    pipe = RequestPipe()
    try:
        future = stub.StreamingInputCall.future(pipe, timeout=CALL_TIMEOUT)
        future.cancel()
        code = future.code()
        check(code == grpc.StatusCode.CANCELLED, f"StreamingInputCall: status {code}, expected CANCELLED")
        check(future.cancelled(), "StreamingInputCall: call does not report itself cancelled")
    finally:
        pipe.close()


def cancel_after_first_response(channel):
    stub = test_pb2_grpc.TestServiceStub(channel)
    pipe = RequestPipe()
    try:
        call = stub.FullDuplexCall(pipe, timeout=CALL_TIMEOUT)
        pipe.send(streaming_request(31415, 27182))
        try:
            response = next(call)
        except StopIteration:
            raise InteropFailure("FullDuplexCall: stream ended without a response") from None
        check_payload(response.payload, 31415, "FullDuplexCall response #1")
        call.cancel()
        code = call.code()
        check(code == grpc.StatusCode.CANCELLED, f"FullDuplexCall: status {code}, expected CANCELLED")
        try:
            next(call)
        except grpc.RpcError as err:
            check_rpc_error(err, grpc.StatusCode.CANCELLED, "FullDuplexCall after cancel")
        except StopIteration:
            raise InteropFailure("FullDuplexCall: stream ended normally after cancel") from None
        else:
            raise InteropFailure("FullDuplexCall: got another response after cancel")
    finally:
        pipe.close()


def custom_metadata(channel):
    stub = test_pb2_grpc.TestServiceStub(channel)
    metadata = ((ECHO_INITIAL_KEY, ECHO_INITIAL_VALUE), (ECHO_TRAILING_KEY, ECHO_TRAILING_VALUE))

    # 1. UnaryCall
    request = messages_pb2.SimpleRequest(
        response_type=messages_pb2.COMPRESSABLE,
        response_size=LARGE_RESPONSE_SIZE,
        payload=messages_pb2.Payload(body=zeros(LARGE_REQUEST_SIZE)),
    )
    response, call = stub.UnaryCall.with_call(request, metadata=metadata, timeout=CALL_TIMEOUT)
    check_payload(response.payload, LARGE_RESPONSE_SIZE, "UnaryCall")
    check_metadata(call.initial_metadata(), ECHO_INITIAL_KEY, ECHO_INITIAL_VALUE, "UnaryCall initial metadata")
    check_metadata(call.trailing_metadata(), ECHO_TRAILING_KEY, ECHO_TRAILING_VALUE,
                   "UnaryCall trailing metadata")

    # 2. FullDuplexCall, one request, then half-close
    call = stub.FullDuplexCall(iter([streaming_request(LARGE_RESPONSE_SIZE, LARGE_REQUEST_SIZE)]),
                               metadata=metadata, timeout=CALL_TIMEOUT)
    initial = call.initial_metadata()
    responses = list(call)
    check(len(responses) == 1, f"FullDuplexCall: got {len(responses)} responses, expected 1")
    check_payload(responses[0].payload, LARGE_RESPONSE_SIZE, "FullDuplexCall response")
    check(call.code() == grpc.StatusCode.OK, f"FullDuplexCall: status {call.code()}, expected OK")
    check_metadata(initial, ECHO_INITIAL_KEY, ECHO_INITIAL_VALUE, "FullDuplexCall initial metadata")
    check_metadata(call.trailing_metadata(), ECHO_TRAILING_KEY, ECHO_TRAILING_VALUE,
                   "FullDuplexCall trailing metadata")


def _expect_echoed_status(channel, code: int, message: str, full_duplex: bool):
    stub = test_pb2_grpc.TestServiceStub(channel)
    status = messages_pb2.EchoStatus(code=code, message=message)
    expected = {c.value[0]: c for c in grpc.StatusCode}[code]

    try:
        stub.UnaryCall(messages_pb2.SimpleRequest(response_status=status), timeout=CALL_TIMEOUT)
    except grpc.RpcError as err:
        check_rpc_error(err, expected, "UnaryCall", details=message)
    else:
        raise InteropFailure(f"UnaryCall: succeeded, expected status {expected}")

    if not full_duplex:
        return
    call = stub.FullDuplexCall(iter([streaming_request(status=status)]), timeout=CALL_TIMEOUT)
    try:
        responses = list(call)
    except grpc.RpcError as err:
        check_rpc_error(err, expected, "FullDuplexCall", details=message)
    else:
        raise InteropFailure(f"FullDuplexCall: succeeded with {len(responses)} responses, "
                             f"expected status {expected}")


def status_code_and_message(channel):
    _expect_echoed_status(channel, 2, "test status message", full_duplex=True)


def special_status_message(channel):
    _expect_echoed_status(channel, 2, SPECIAL_STATUS_MESSAGE, full_duplex=False)


def unimplemented_method(channel):
    stub = test_pb2_grpc.TestServiceStub(channel)
    try:
        stub.UnimplementedCall(empty_pb2.Empty(), timeout=CALL_TIMEOUT)
    except grpc.RpcError as err:
        check_rpc_error(err, grpc.StatusCode.UNIMPLEMENTED, "TestService/UnimplementedCall")
    else:
        raise InteropFailure("TestService/UnimplementedCall: succeeded, expected UNIMPLEMENTED")


def unimplemented_service(channel):
    stub = test_pb2_grpc.UnimplementedServiceStub(channel)
    try:
        stub.UnimplementedCall(empty_pb2.Empty(), timeout=CALL_TIMEOUT)
    except grpc.RpcError as err:
        check_rpc_error(err, grpc.StatusCode.UNIMPLEMENTED, "UnimplementedService/UnimplementedCall")
    else:
        raise InteropFailure("UnimplementedService/UnimplementedCall: succeeded, expected UNIMPLEMENTED")


TEST_CASES = {
    f.__name__: f
    for f in (
        empty_unary,
        large_unary,
        client_streaming,
        server_streaming,
        ping_pong,
        empty_stream,
        timeout_on_sleeping_server,
        cancel_after_begin,
        cancel_after_first_response,
        custom_metadata,
        status_code_and_message,
        special_status_message,
        unimplemented_method,
        unimplemented_service,
    )
}


def run_case(host: str, port: int, name: str) -> tuple[bool, str]:
    """Run one case on a fresh channel. Returns (passed, message)."""
    started = time.monotonic()
    channel = grpc.insecure_channel(f"{host}:{port}")
    try:
        TEST_CASES[name](channel)
    except InteropFailure as failure:
        return False, f"FAIL {name}: {failure}"
    except grpc.RpcError as err:
        return False, f"FAIL {name}: unexpected RPC error {err.code()}: {err.details()!r}"
    except Exception:  # a bug or a protocol surprise: show everything
        return False, f"FAIL {name}: unexpected exception\n{traceback.format_exc()}"
    finally:
        channel.close()
    return True, f"PASS {name} ({(time.monotonic() - started) * 1000:.0f} ms)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", "--server_host", dest="host", default="127.0.0.1")
    parser.add_argument("--port", "--server_port", dest="port", type=int, required=True)
    parser.add_argument("--test_case", required=True, choices=[*TEST_CASES, "all"])
    parser.add_argument("--use_tls", default="false", choices=["false"],
                        help="accepted for compatibility; only plaintext is supported")
    args = parser.parse_args(argv)

    names = list(TEST_CASES) if args.test_case == "all" else [args.test_case]
    failed = 0
    for name in names:
        passed, message = run_case(args.host, args.port, name)
        print(message, flush=True)
        failed += not passed
    if len(names) > 1:
        print(f"{len(names) - failed}/{len(names)} passed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
