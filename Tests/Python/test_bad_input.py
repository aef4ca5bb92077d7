"""Hostile and malformed input against `xieshang interop-server`.

Every attack is followed by two checks:

* the attacked connection/stream reaches a definite end (connection closed,
  GOAWAY, RST_STREAM or a gRPC error status) within a few seconds, never a hang
  (all sockets have timeouts);
* a normal grpcio UnaryCall on a fresh channel still succeeds, i.e. the server
  keeps serving everybody else.

Raw HTTP/2 is spoken with the pure-Python `h2` package (plus `hpack`, its
dependency) or with hand-built frames.

The server is started once for the module; if an attack kills it, that test
fails and the server is restarted so that the remaining tests stay meaningful.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field

import grpc
import pytest

from conftest import skip_or_fail, start_our_interop_server

try:
    import h2.config
    import h2.connection
    import h2.errors
    import h2.events
    import h2.exceptions
    import h2.settings
    import hpack
except ImportError:  # reported by the autouse fixture below
    h2 = None

ATTACK_TIMEOUT = 10.0   # seconds the server gets to end an attacked stream/connection
CALL_TIMEOUT = 10.0     # seconds for the "still serving" calls
MAX_MESSAGE = 4 * 1024 * 1024

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
UNARY_PATH = "/grpc.testing.TestService/UnaryCall"
STREAMING_OUTPUT_PATH = "/grpc.testing.TestService/StreamingOutputCall"

# HTTP/2 frame types and flags (RFC 9113)
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE = 0x0, 0x1, 0x3, 0x4, 0x6, 0x7, 0x8
END_STREAM, END_HEADERS = 0x1, 0x4
H2_ERRORS = {0: "NO_ERROR", 1: "PROTOCOL_ERROR", 2: "INTERNAL_ERROR", 3: "FLOW_CONTROL_ERROR",
             4: "SETTINGS_TIMEOUT", 5: "STREAM_CLOSED", 6: "FRAME_SIZE_ERROR", 7: "REFUSED_STREAM",
             8: "CANCEL", 9: "COMPRESSION_ERROR", 10: "CONNECT_ERROR", 11: "ENHANCE_YOUR_CALM",
             12: "INADEQUATE_SECURITY", 13: "HTTP_1_1_REQUIRED"}


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def _require_h2():
    if h2 is None:
        skip_or_fail("the `h2` Python package is needed for raw HTTP/2 tests (pip install h2)")


class _ServerHolder:
    def __init__(self):
        self.current = None

    def get(self):
        if self.current is None or not self.current.alive():
            if self.current is not None:
                self.current.stop()
            try:
                self.current = start_our_interop_server()
            except RuntimeError as e:
                pytest.fail(str(e), pytrace=False)
        return self.current

    def stop(self):
        if self.current is not None:
            self.current.stop()
            self.current.cleanup_logs()


@pytest.fixture(scope="module")
def _holder(generated):
    holder = _ServerHolder()
    yield holder
    holder.stop()


@pytest.fixture
def server(_holder):
    """The module's interop server (restarted if an earlier test killed it)."""
    srv = _holder.get()
    yield srv
    if not srv.alive():
        pytest.fail(f"the server died during this test\n{srv.output()}", pytrace=False)


# ---------------------------------------------------------------------------
# Helpers: "still serving", raw frames, an h2 client
# ---------------------------------------------------------------------------


def assert_still_serving(server, pb, what: str = "") -> None:
    """A normal UnaryCall on a fresh grpcio channel must succeed."""
    assert server.alive(), f"server process died {what}\n{server.output()}"
    messages_pb2 = pb.messages_pb2
    with grpc.insecure_channel(server.address) as channel:
        stub = pb.test_pb2_grpc.TestServiceStub(channel)
        try:
            response = stub.UnaryCall(
                messages_pb2.SimpleRequest(response_size=1234, payload=messages_pb2.Payload(body=b"ok" * 50)),
                timeout=CALL_TIMEOUT,
            )
        except grpc.RpcError as err:
            pytest.fail(f"server no longer serves normal calls {what}: {err.code()} {err.details()!r}\n"
                        f"{server.output()}", pytrace=False)
    assert response.payload.body == bytes(1234), f"wrong answer from the server {what}"


def frame(ftype: int, flags: int, stream_id: int, payload: bytes = b"", length: int | None = None) -> bytes:
    """One HTTP/2 frame; `length` may lie about the payload size."""
    n = len(payload) if length is None else length
    return n.to_bytes(3, "big") + bytes([ftype, flags]) + (stream_id & 0x7FFFFFFF).to_bytes(4, "big") + payload


def grpc_message(payload: bytes, compressed: bool = False, length: int | None = None) -> bytes:
    """A gRPC length-prefixed message; `length` may lie about the payload size."""
    n = len(payload) if length is None else length
    return bytes([1 if compressed else 0]) + n.to_bytes(4, "big") + payload


def request_headers(port: int, path: str = UNARY_PATH, content_type: str | None = "application/grpc",
                    method: str = "POST", extra=()) -> list[tuple[str, str]]:
    headers = [(":method", method), (":scheme", "http"), (":path", path),
               (":authority", f"127.0.0.1:{port}")]
    if content_type is not None:
        headers.append(("content-type", content_type))
    headers.append(("te", "trailers"))
    headers.extend(extra)
    return headers


def raw_connect(port: int, timeout: float = ATTACK_TIMEOUT) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.settimeout(timeout)
    return sock


def connection_end(sock: socket.socket, timeout: float = ATTACK_TIMEOUT) -> str:
    """Read until the server closes the connection or sends GOAWAY.

    Returns a description of how it ended; fails the test if neither happens
    within `timeout` seconds. An HTTP/1.x response also counts as an answer.
    """
    deadline = time.monotonic() + timeout
    buf = bytearray()
    parsed = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            pytest.fail(f"server neither closed the connection nor sent GOAWAY within {timeout:.0f} s "
                        f"(received {len(buf)} bytes: {bytes(buf[:80])!r})", pytrace=False)
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return "connection reset"
        if not chunk:
            return "connection closed"
        buf += chunk
        if buf.startswith(b"HTTP/1."):
            return "HTTP/1.x response: " + bytes(buf.split(b"\r\n", 1)[0]).decode("latin-1")
        while len(buf) - parsed >= 9:
            length = int.from_bytes(buf[parsed:parsed + 3], "big")
            ftype = buf[parsed + 3]
            if len(buf) - parsed < 9 + length:
                break
            if ftype == GOAWAY and length >= 8:
                code = int.from_bytes(buf[parsed + 13:parsed + 17], "big")
                return f"GOAWAY {H2_ERRORS.get(code, code)}"
            parsed += 9 + length


@dataclass
class StreamResult:
    headers: dict = field(default_factory=dict)   # first header block (str -> str)
    trailers: dict = field(default_factory=dict)
    data: bytearray = field(default_factory=bytearray)
    ended: bool = False
    trailers_only: bool = False
    reset_code: int | None = None

    @property
    def done(self) -> bool:
        return self.ended or self.reset_code is not None

    @property
    def http_status(self) -> str | None:
        return self.headers.get(":status")

    @property
    def grpc_status(self) -> str | None:
        if "grpc-status" in self.trailers:
            return self.trailers["grpc-status"]
        return self.headers.get("grpc-status") if self.trailers_only else None

    def describe(self) -> str:
        parts = []
        if self.headers:
            parts.append(f"headers={self.headers}")
        if self.data:
            parts.append(f"{len(self.data)} data bytes")
        if self.trailers:
            parts.append(f"trailers={self.trailers}")
        if self.trailers_only:
            parts.append("trailers-only")
        if self.reset_code is not None:
            parts.append(f"RST_STREAM {H2_ERRORS.get(self.reset_code, self.reset_code)}")
        if not self.done:
            parts.append("not ended")
        return ", ".join(parts) or "nothing"


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


class H2Client:
    """A minimal HTTP/2 client on a blocking socket with timeouts."""

    def __init__(self, port: int, *, timeout: float = ATTACK_TIMEOUT, rcvbuf: int | None = None,
                 settings: dict | None = None, connection_window: int | None = None):
        self.port = port
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        config = h2.config.H2Configuration(
            client_side=True, header_encoding=None,
            validate_outbound_headers=False, normalize_outbound_headers=False,
            validate_inbound_headers=False,
        )
        self.conn = h2.connection.H2Connection(config=config)
        # Accept big response headers (e.g. an echoed 100 KB header) so the
        # test can report them instead of choking on them.
        self.conn.decoder.max_header_list_size = 1 << 26
        self.conn.initiate_connection()
        if settings:
            self.conn.update_settings(settings)
        if connection_window:
            self.conn.increment_flow_control_window(connection_window)
        self.streams: dict[int, StreamResult] = {}
        self.goaway: h2.events.ConnectionTerminated | None = None
        self.closed = False
        self.flush()

    # -- sending --------------------------------------------------------------

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data and not self.closed:
            try:
                self.sock.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                self.closed = True

    def start(self, path: str = UNARY_PATH, *, content_type: str | None = "application/grpc",
              extra=(), end_stream: bool = False, method: str = "POST") -> int:
        sid = self.conn.get_next_available_stream_id()
        self.streams[sid] = StreamResult()
        self.conn.send_headers(sid, request_headers(self.port, path, content_type, method, extra),
                               end_stream=end_stream)
        self.flush()
        return sid

    def send(self, sid: int, data: bytes, end_stream: bool = True) -> bool:
        """Send DATA respecting flow control. False if the stream/connection ended first."""
        view = memoryview(data)
        deadline = time.monotonic() + self.timeout
        while True:
            if self.closed or self.goaway is not None or self.streams[sid].done:
                return False
            try:
                if not view:
                    if end_stream:
                        self.conn.end_stream(sid)
                        self.flush()
                    return True
                window = min(self.conn.local_flow_control_window(sid), self.conn.max_outbound_frame_size)
                if window <= 0:
                    if time.monotonic() > deadline:
                        pytest.fail("server never opened its flow-control window", pytrace=False)
                    self.pump(0.5)
                    continue
                chunk, view = view[:window], view[window:]
                self.conn.send_data(sid, bytes(chunk), end_stream=end_stream and not view)
                self.flush()
                if not view:
                    return True
            except (h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError):
                return False

    def request(self, path: str = UNARY_PATH, body: bytes = b"", **kw) -> int:
        sid = self.start(path, **kw)
        self.send(sid, body, end_stream=True)
        return sid

    def reset(self, sid: int, code: int = 8) -> None:
        try:
            self.conn.reset_stream(sid, error_code=code)
        except (h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError):
            pass
        self.flush()

    # -- receiving ------------------------------------------------------------

    def pump(self, timeout: float) -> bool:
        """Receive once (up to `timeout` s) and process events. False on timeout."""
        if self.closed:
            return True
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(1 << 20)
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            self.closed = True
            return True
        if not data:
            self.closed = True
            return True
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError as e:
            pytest.fail(f"server sent something the h2 client rejects: {e!r}", pytrace=False)
        for ev in events:
            self._on_event(ev)
        self.flush()
        return True

    def _on_event(self, ev) -> None:
        sid = getattr(ev, "stream_id", None)
        res = self.streams.setdefault(sid, StreamResult()) if sid else None
        if isinstance(ev, h2.events.ResponseReceived):
            res.headers = {_text(k): _text(v) for k, v in ev.headers}
            if ev.stream_ended is not None:
                res.trailers_only = True
        elif isinstance(ev, h2.events.TrailersReceived):
            res.trailers = {_text(k): _text(v) for k, v in ev.headers}
        elif isinstance(ev, h2.events.DataReceived):
            res.data += ev.data
            if ev.flow_controlled_length:
                try:
                    self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                except (h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError):
                    pass
        elif isinstance(ev, h2.events.StreamEnded):
            res.ended = True
        elif isinstance(ev, h2.events.StreamReset):
            res.reset_code = int(ev.error_code)
        elif isinstance(ev, h2.events.ConnectionTerminated):
            self.goaway = ev

    def drain(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not self.closed:
            self.pump(min(0.1, max(end - time.monotonic(), 0.001)))

    def wait(self, sid: int, timeout: float | None = None) -> StreamResult:
        """Wait until the stream ends, is reset, or the connection goes away."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        res = self.streams[sid]
        while not res.done:
            if self.closed:
                break
            if self.goaway is not None and sid > (self.goaway.last_stream_id or 0):
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"stream {sid} got no definite end within {timeout:.0f} s "
                            f"(so far: {res.describe()})", pytrace=False)
            self.pump(remaining)
        return res

    def connection_state(self) -> str:
        if self.goaway is not None:
            return f"GOAWAY {H2_ERRORS.get(int(self.goaway.error_code), self.goaway.error_code)}"
        return "closed" if self.closed else "open"

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def rejected(client: H2Client, res: StreamResult) -> str | None:
    """How the server refused a request, or None if it accepted it."""
    if res.reset_code is not None:
        return f"RST_STREAM {H2_ERRORS.get(res.reset_code, res.reset_code)}"
    if res.http_status is not None and res.http_status != "200":
        return f"HTTP {res.http_status}"
    if res.grpc_status not in (None, "0"):
        return f"grpc-status {res.grpc_status} {res.headers.get('grpc-message') or res.trailers.get('grpc-message', '')!r}"
    if not res.done and (client.goaway is not None or client.closed):
        return f"connection {client.connection_state()}"
    return None


def simple_request_bytes(pb, size: int = 10) -> bytes:
    return pb.messages_pb2.SimpleRequest(response_size=size).SerializeToString()


# ---------------------------------------------------------------------------
# Connection-level garbage
# ---------------------------------------------------------------------------


def test_garbage_instead_of_preface(server, pb):
    sock = raw_connect(server.port)
    try:
        sock.sendall(b"GARBAGE that is not the HTTP/2 connection preface\r\n\r\n" + bytes(range(256)) * 4)
        how = connection_end(sock)
    finally:
        sock.close()
    print("garbage preface ->", how)
    assert_still_serving(server, pb, "after a garbage connection preface")


def test_http1_request(server, pb):
    sock = raw_connect(server.port)
    try:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: xieshang-tests\r\n\r\n")
        how = connection_end(sock)
    finally:
        sock.close()
    print("HTTP/1.1 GET ->", how)
    assert_still_serving(server, pb, "after an HTTP/1.1 request")


def _truncated_variants():
    enc = hpack.Encoder()
    block = enc.encode(request_headers(1, UNARY_PATH))
    settings = frame(SETTINGS, 0, 0)
    return {
        "half a preface": PREFACE[:12],
        "half a frame header": PREFACE + settings + frame(HEADERS, END_HEADERS, 1, block)[:5],
        "HEADERS claims 1000 bytes, 10 sent": PREFACE + settings + frame(HEADERS, END_HEADERS, 1, block[:10], length=1000),
        "DATA claims 500 bytes, 20 sent": PREFACE + settings + frame(HEADERS, END_HEADERS, 1, block)
        + frame(DATA, 0, 1, grpc_message(b"x" * 15), length=500),
    }


@pytest.mark.parametrize("variant", list(_truncated_variants()) if h2 is not None else ["h2 missing"])
def test_truncated_frame_then_close(server, pb, variant):
    sock = raw_connect(server.port)
    try:
        sock.sendall(_truncated_variants()[variant])
        time.sleep(0.2)
        # The server is waiting for the rest of the frame; others must not wait with it.
        assert_still_serving(server, pb, f"while a connection sits on a truncated frame ({variant})")
    finally:
        sock.close()
    time.sleep(0.2)
    assert_still_serving(server, pb, f"after a truncated frame and close ({variant})")


def test_many_idle_and_half_open_connections(server, pb):
    """300 connections that never complete a request must not starve a real client."""
    socks = []
    try:
        for i in range(300):
            s = raw_connect(server.port)
            if i % 3 == 1:
                s.sendall(PREFACE[:7])
            elif i % 3 == 2:
                s.sendall(PREFACE + frame(SETTINGS, 0, 0))
            socks.append(s)
        assert_still_serving(server, pb, "while 300 idle connections are open")
    finally:
        for s in socks:
            s.close()
    assert_still_serving(server, pb, "after 300 idle connections closed")


# ---------------------------------------------------------------------------
# Malformed gRPC requests
# ---------------------------------------------------------------------------


def test_length_prefix_claims_more_than_sent(server, pb):
    """Message prefix says 100 bytes, 10 arrive, then END_STREAM: an error, not a hang."""
    client = H2Client(server.port)
    try:
        sid = client.request(UNARY_PATH, grpc_message(b"\x10\x05" + b"\x00" * 8, length=100))
        res = client.wait(sid)
    finally:
        client.close()
    print("short message ->", res.describe())
    assert res.grpc_status not in (None, "0"), (
        f"expected a non-zero grpc-status (INTERNAL) for a truncated message, got: {res.describe()} "
        f"[connection {client.connection_state()}]")
    assert_still_serving(server, pb, "after a truncated gRPC message")


def test_undecodable_request_is_internal(server, pb):
    """Bytes that are not a SimpleRequest (field 3 claims 100 bytes, 3 follow)."""
    client = H2Client(server.port)
    try:
        sid = client.request(UNARY_PATH, grpc_message(b"\x1a\x64abc"))
        res = client.wait(sid)
    finally:
        client.close()
    print("undecodable ->", res.describe())
    assert res.grpc_status == "13", f"expected grpc-status 13 (INTERNAL), got: {res.describe()}"
    assert_still_serving(server, pb, "after an undecodable request")


def test_compressed_flag_without_encoding(server, pb):
    """Compressed-flag 1 but no grpc-encoding header: must fail (INTERNAL per the gRPC spec)."""
    client = H2Client(server.port)
    try:
        sid = client.request(UNARY_PATH, grpc_message(simple_request_bytes(pb), compressed=True))
        res = client.wait(sid)
    finally:
        client.close()
    print("compressed flag, no encoding ->", res.describe())
    assert res.grpc_status not in (None, "0"), f"expected a non-zero grpc-status, got: {res.describe()}"
    assert_still_serving(server, pb, "after a compressed message without grpc-encoding")


@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_wrong_content_type_is_415(server, pb, content_type):
    client = H2Client(server.port)
    try:
        sid = client.request(UNARY_PATH, b'{"responseSize": 10}', content_type=content_type)
        res = client.wait(sid)
    finally:
        client.close()
    print(f"content-type {content_type} ->", res.describe())
    assert res.http_status == "415", f"expected HTTP :status 415, got: {res.describe()}"
    assert_still_serving(server, pb, f"after a {content_type} request")


@pytest.mark.parametrize("path", [
    "/grpc.testing.TestService/NoSuchMethod",
    "/no.such.Service/Call",
    "/grpc.testing.UnimplementedService/UnimplementedCall",
])
def test_unknown_method_is_trailers_only_unimplemented(server, pb, path):
    client = H2Client(server.port)
    try:
        sid = client.request(path, grpc_message(b""))
        res = client.wait(sid)
    finally:
        client.close()
    print(f"{path} ->", res.describe())
    assert res.reset_code is None, f"expected a response, got {res.describe()}"
    assert res.trailers_only, f"expected a trailers-only response (one HEADERS with END_STREAM), got: {res.describe()}"
    assert res.http_status == "200", f"expected :status 200, got: {res.describe()}"
    assert res.headers.get("content-type", "").startswith("application/grpc"), res.describe()
    assert res.grpc_status == "12", f"expected grpc-status 12 (UNIMPLEMENTED), got: {res.describe()}"
    assert not res.data, f"a trailers-only response has no DATA, got: {res.describe()}"
    assert_still_serving(server, pb, f"after calling {path}")


# ---------------------------------------------------------------------------
# Header abuse
# ---------------------------------------------------------------------------


def _header_attacks():
    return {
        # one 100 KB header value (spread over HEADERS + CONTINUATION frames)
        "100 KB header value": [("x-big", "a" * 100_000)],
        # 5,000 distinct small headers (~265 KB of header list)
        "5000 headers": [(f"x-flood-{i:05d}", "v" * 20) for i in range(5000)],
        # HPACK bomb: a 4 KB header indexed once, then repeated 2,000 times at
        # ~2 bytes each on the wire: ~8 MB of decoded headers
        "HPACK bomb": [("x-bomb", "b" * 4000)] * 2000,
    }


@pytest.mark.parametrize("attack", list(_header_attacks()))
def test_oversized_headers_are_refused(server, pb, attack):
    client = H2Client(server.port)
    try:
        sid = client.start(UNARY_PATH, extra=_header_attacks()[attack])
        client.send(sid, grpc_message(simple_request_bytes(pb)), end_stream=True)
        res = client.wait(sid)
        how = rejected(client, res)
    finally:
        client.close()
    print(f"{attack} ->", how or res.describe())
    assert how is not None, (
        f"server accepted the request with {attack} ({res.describe()}); it should enforce a "
        f"header-list size limit (gRPC implementations allow 8-16 KiB of metadata by default)")
    assert_still_serving(server, pb, f"after {attack}")


# ---------------------------------------------------------------------------
# Oversized messages
# ---------------------------------------------------------------------------


def test_message_over_4mib_is_resource_exhausted(server, pb):
    messages_pb2 = pb.messages_pb2
    request = messages_pb2.SimpleRequest(response_size=1, payload=messages_pb2.Payload(body=bytes(MAX_MESSAGE + 1)))
    assert request.ByteSize() > MAX_MESSAGE
    with grpc.insecure_channel(server.address) as channel:
        stub = pb.test_pb2_grpc.TestServiceStub(channel)
        with pytest.raises(grpc.RpcError) as info:
            stub.UnaryCall(request, timeout=30)
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, (
        f"expected RESOURCE_EXHAUSTED (8), got {info.value.code()} {info.value.details()!r}")
    assert_still_serving(server, pb, "after a message over 4 MiB")


def test_huge_length_prefix_is_refused_early(server, pb):
    """A prefix claiming ~2 GiB must be refused at once, without waiting for (or
    buffering) the body: the client sends 16 KB and then waits."""
    client = H2Client(server.port)
    try:
        sid = client.start(UNARY_PATH)
        client.send(sid, grpc_message(bytes(16384), length=0x7FFFFFFF), end_stream=False)
        res = client.wait(sid)
    finally:
        client.close()
    print("2 GiB length prefix ->", res.describe())
    assert res.grpc_status == "8", f"expected grpc-status 8 (RESOURCE_EXHAUSTED), got: {res.describe()}"
    assert_still_serving(server, pb, "after a 2 GiB length prefix")


# ---------------------------------------------------------------------------
# A client that never reads
# ---------------------------------------------------------------------------

STALLED_STREAMS = 50
STALLED_RESPONSES = 32           # per stream
STALLED_RESPONSE_SIZE = 512 * 1024
RSS_GROWTH_LIMIT = 256 * 1024 * 1024  # what was asked for totals 800 MiB


@pytest.mark.parametrize("window", ["http2-flow-control", "tcp-buffers"])
def test_stalled_reader_does_not_block_others(server, pb, window):
    """50 streams each asking for 32 x 512 KiB of server-streaming responses,
    on a connection whose client never reads. With "http2-flow-control" the
    client keeps the default 64 KiB windows (the server is stopped by HTTP/2
    flow control); with "tcp-buffers" it opens huge windows and shrinks its
    receive buffer (the server is stopped by the socket). Meanwhile another
    client's calls must succeed, and the server must not buffer everything it
    was asked for (resident memory may grow by less than 256 MiB of the 800 MiB
    requested)."""
    messages_pb2 = pb.messages_pb2
    req = messages_pb2.StreamingOutputCallRequest()
    for _ in range(STALLED_RESPONSES):
        req.response_parameters.add(size=STALLED_RESPONSE_SIZE)
    body = grpc_message(req.SerializeToString())

    rss_before = server.rss_bytes()
    if window == "tcp-buffers":
        client = H2Client(server.port, rcvbuf=4096,
                          settings={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 2**31 - 1},
                          connection_window=2**31 - 1 - 65535)
    else:
        client = H2Client(server.port)
    try:
        for _ in range(STALLED_STREAMS):
            sid = client.start(STREAMING_OUTPUT_PATH)
            client.send(sid, body, end_stream=True)
        # From here on the stalled client never reads. Give the server time to
        # fill every window and buffer it has.
        peak = rss_before or 0
        end = time.monotonic() + 3.0
        while time.monotonic() < end:
            peak = max(peak, server.rss_bytes() or 0)
            time.sleep(0.1)

        # Another client is served meanwhile: unary calls and a server stream.
        with grpc.insecure_channel(server.address) as channel:
            stub = pb.test_pb2_grpc.TestServiceStub(channel)
            for i in range(20):
                try:
                    r = stub.UnaryCall(messages_pb2.SimpleRequest(response_size=1000 + i), timeout=CALL_TIMEOUT)
                except grpc.RpcError as err:
                    pytest.fail(f"call {i} from another client failed while a reader is stalled "
                                f"({window}): {err.code()} {err.details()!r}", pytrace=False)
                assert len(r.payload.body) == 1000 + i
            sreq = messages_pb2.StreamingOutputCallRequest()
            for _ in range(8):
                sreq.response_parameters.add(size=100_000)
            try:
                got = list(stub.StreamingOutputCall(sreq, timeout=CALL_TIMEOUT))
            except grpc.RpcError as err:
                pytest.fail(f"server stream from another client failed while a reader is stalled "
                            f"({window}): {err.code()} {err.details()!r}", pytrace=False)
            assert [len(r.payload.body) for r in got] == [100_000] * 8
        peak = max(peak, server.rss_bytes() or 0)
    finally:
        client.close()

    if rss_before is not None:
        growth = peak - rss_before
        print(f"stalled reader ({window}): server RSS {rss_before >> 20} MiB -> peak {peak >> 20} MiB")
        assert growth < RSS_GROWTH_LIMIT, (
            f"server RSS grew by {growth >> 20} MiB while a client did not read ({window}); "
            f"it buffers responses instead of applying back-pressure")
    time.sleep(0.5)
    assert_still_serving(server, pb, f"after a stalled reader went away ({window})")


# ---------------------------------------------------------------------------
# Resets and cancellations
# ---------------------------------------------------------------------------


def test_many_rst_streams(server, pb):
    """1,500 streams reset by the client at various points on one connection
    (the "rapid reset" pattern), then a normal request on that same connection.
    Answering it, or refusing the abuser with GOAWAY, are both fine."""
    request = grpc_message(simple_request_bytes(pb, 100))
    stream_req = pb.messages_pb2.StreamingOutputCallRequest()
    for _ in range(20):
        stream_req.response_parameters.add(size=50_000, interval_us=1000)
    stream_body = grpc_message(stream_req.SerializeToString())

    client = H2Client(server.port)
    try:
        for i in range(1500):
            if client.goaway is not None or client.closed:
                break
            kind = i % 3
            if kind == 0:    # reset right after HEADERS
                sid = client.start(UNARY_PATH)
            elif kind == 1:  # reset after a complete request
                sid = client.request(UNARY_PATH, request)
            else:            # reset a server stream that is producing data
                sid = client.request(STREAMING_OUTPUT_PATH, stream_body)
            client.reset(sid)
            if i % 50 == 49:
                client.drain(0.02)
        client.drain(0.5)
        outcome = client.connection_state()
        if outcome == "open":
            sid = client.request(UNARY_PATH, request)
            res = client.wait(sid)
            if client.goaway is None and not client.closed:
                assert res.grpc_status == "0" and len(res.data) > 5, (
                    f"after many resets a normal request on the same connection failed: {res.describe()}")
            outcome = f"normal request afterwards: {res.describe()}"
    finally:
        client.close()
    print("rapid reset ->", outcome)
    assert_still_serving(server, pb, "after 1,500 reset streams")


def test_many_cancelled_grpc_calls(server, pb):
    """grpcio cancels 200 unary calls right away and 200 bidi calls after
    their first response, on one channel; the server must stay healthy."""
    messages_pb2 = pb.messages_pb2
    with grpc.insecure_channel(server.address) as channel:
        stub = pb.test_pb2_grpc.TestServiceStub(channel)
        futures_ = [stub.UnaryCall.future(messages_pb2.SimpleRequest(response_size=100_000), timeout=30)
                    for _ in range(200)]
        for f in futures_:
            f.cancel()

        def bidi_requests(stop: threading.Event):
            req = messages_pb2.StreamingOutputCallRequest()
            req.response_parameters.add(size=1000)
            yield req
            stop.wait(30)  # keep the call open until cancelled

        stops = []
        for _ in range(200):
            stop = threading.Event()
            stops.append(stop)
            call = stub.FullDuplexCall(bidi_requests(stop), timeout=30)
            first = next(call)
            assert len(first.payload.body) == 1000
            call.cancel()
            stop.set()
        for f in futures_:
            assert f.cancelled() or f.done()
    assert_still_serving(server, pb, "after 400 cancelled calls")
