"""Minimal browser-protocol clients, written from the specs so the tests do not trust our server's
own idea of them:

* gRPC-Web (grpc/grpc doc/PROTOCOL-WEB.md): binary and text (base64) bodies, the status in a
  trailer frame flagged 0x80;
* Connect (connectrpc.com/docs/protocol): unary with a bare JSON or proto body and the status in the
  HTTP status plus a JSON error; server streaming with enveloped messages and an end-of-stream
  envelope (flag 0x02).

Each speaks HTTP/1.1 through http.client, or HTTP/2 through the `h2` package (prior knowledge, as
a browser would after TLS ALPN), so every dialect is tried over both transports.
"""
from __future__ import annotations

import base64
import http.client
import json
import socket
import ssl
import struct
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


def frame(payload: bytes, flags: int = 0) -> bytes:
    return struct.pack(">BI", flags, len(payload)) + payload


def unframe(body: bytes) -> list[tuple[int, bytes]]:
    """(flags, payload) of each 5-byte-prefixed frame; a truncated body is an assertion error."""
    out, i = [], 0
    while i < len(body):
        assert i + 5 <= len(body), f"truncated frame prefix at {i}: {body[i:]!r}"
        flags, n = struct.unpack(">BI", body[i:i + 5])
        assert i + 5 + n <= len(body), f"truncated frame at {i}: wants {n} bytes"
        out.append((flags, body[i + 5:i + 5 + n]))
        i += 5 + n
    return out


def decode_text_body(body: bytes) -> bytes:
    """gRPC-Web text: base64 chunks, each padded, joined."""
    out, chunk = b"", b""
    for c in body.replace(b"\r", b"").replace(b"\n", b""):
        chunk += bytes([c])
        if len(chunk) % 4 == 0 and chunk.endswith(b"="):
            out += base64.b64decode(chunk)
            chunk = b""
    if chunk:
        out += base64.b64decode(chunk)
    return out


# ---------------------------------------------------------------------------
# transports
# ---------------------------------------------------------------------------


def post_h1(host: str, port: int, path: str, body: bytes, headers: dict[str, str], timeout: float = 30,
            tls: ssl.SSLContext | None = None, method: str = "POST") -> Reply:
    if tls is not None:
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=tls)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        return Reply(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    finally:
        conn.close()


def post_h2(host: str, port: int, path: str, body: bytes, headers: dict[str, str], timeout: float = 30,
            tls: ssl.SSLContext | None = None, method: str = "POST") -> Reply:
    sock = socket.create_connection((host, port), timeout=timeout)
    if tls is not None:
        sock = tls.wrap_socket(sock, server_hostname=host)
        assert sock.selected_alpn_protocol() == "h2", sock.selected_alpn_protocol()
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
    conn.initiate_connection()
    conn.increment_flow_control_window(16 << 20)
    sid = conn.get_next_available_stream_id()
    hs = [(":method", method), (":path", path), (":scheme", "https" if tls else "http"), (":authority", f"{host}:{port}")]
    hs += [(k.lower(), v) for k, v in headers.items()]
    conn.send_headers(sid, hs, end_stream=not body)
    sock.sendall(conn.data_to_send())
    pending = body
    status, resp_headers, data, done = 0, {}, b"", False
    try:
        while not done:
            while pending and conn.local_flow_control_window(sid) > 0:
                n = min(len(pending), conn.local_flow_control_window(sid), conn.max_outbound_frame_size)
                conn.send_data(sid, pending[:n], end_stream=(n == len(pending)))
                pending = pending[n:]
                sock.sendall(conn.data_to_send())
            chunk = sock.recv(65536)
            if not chunk:
                break
            for ev in conn.receive_data(chunk):
                if isinstance(ev, h2.events.ResponseReceived):
                    for k, v in ev.headers:
                        if k == ":status":
                            status = int(v)
                        else:
                            resp_headers[k] = v
                elif isinstance(ev, h2.events.TrailersReceived):
                    for k, v in ev.headers:
                        resp_headers["trailer:" + k] = v
                elif isinstance(ev, h2.events.DataReceived):
                    data += ev.data
                    conn.acknowledge_received_data(ev.flow_controlled_length, sid)
                elif isinstance(ev, (h2.events.StreamEnded, h2.events.StreamReset)):
                    if ev.stream_id == sid:
                        done = True
            sock.sendall(conn.data_to_send())
    finally:
        sock.close()
    return Reply(status, resp_headers, data)


TRANSPORTS = {"http1": post_h1, "http2": post_h2}


# ---------------------------------------------------------------------------
# dialects
# ---------------------------------------------------------------------------


@dataclass
class GrpcWebResult:
    http_status: int
    headers: dict[str, str]
    messages: list[bytes] = field(default_factory=list)
    trailers: dict[str, str] = field(default_factory=dict)

    @property
    def code(self) -> int:
        return int(self.trailers.get("grpc-status", "-1"))

    @property
    def message(self) -> str:
        from urllib.parse import unquote
        return unquote(self.trailers.get("grpc-message", ""))


def grpc_web(post, address: tuple[str, int], path: str, request: bytes, *, text: bool = False,
             headers: dict[str, str] | None = None, **kw) -> GrpcWebResult:
    body = frame(request)
    ct = "application/grpc-web-text+proto" if text else "application/grpc-web+proto"
    if text:
        body = base64.b64encode(body)
    h = {"content-type": ct, "x-grpc-web": "1", "accept": ct}
    h.update(headers or {})
    r = post(address[0], address[1], path, body, h, **kw)
    result = GrpcWebResult(r.status, r.headers)
    if r.status != 200:
        return result
    raw = decode_text_body(r.body) if text else r.body
    for flags, payload in unframe(raw):
        if flags & 0x80:
            for line in payload.decode().split("\r\n"):
                if line:
                    k, _, v = line.partition(":")
                    result.trailers[k.strip().lower()] = v.strip()
        else:
            assert not result.trailers, "a message after the trailer frame"
            result.messages.append(payload)
    # Trailers-only responses may carry the status in headers.
    if not result.trailers and "grpc-status" in r.headers:
        result.trailers = {k: v for k, v in r.headers.items() if k.startswith("grpc-")}
    return result


def connect_unary(post, address: tuple[str, int], path: str, body: bytes, *, json_body: bool = True,
                  headers: dict[str, str] | None = None, **kw) -> Reply:
    h = {"content-type": "application/json" if json_body else "application/proto", "connect-protocol-version": "1"}
    h.update(headers or {})
    return post(address[0], address[1], path, body, h, **kw)


@dataclass
class ConnectStreamResult:
    http_status: int
    headers: dict[str, str]
    messages: list = field(default_factory=list)
    end: dict = field(default_factory=dict)

    @property
    def error(self) -> dict | None:
        return self.end.get("error")


def connect_stream(post, address: tuple[str, int], path: str, request: dict, *, headers: dict[str, str] | None = None,
                   **kw) -> ConnectStreamResult:
    h = {"content-type": "application/connect+json", "connect-protocol-version": "1"}
    h.update(headers or {})
    r = post(address[0], address[1], path, frame(json.dumps(request).encode()), h, **kw)
    result = ConnectStreamResult(r.status, r.headers)
    frames = unframe(r.body)
    assert frames and frames[-1][0] == 0x02, f"no end-of-stream envelope: {r.body[-200:]!r}"
    for flags, payload in frames[:-1]:
        assert flags == 0, flags
        result.messages.append(json.loads(payload))
    result.end = json.loads(frames[-1][1])
    return result
