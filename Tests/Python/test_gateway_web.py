"""The gateway's browser protocols, through the real gateway of `xieshang up`: Connect (curl, JSON
and proto, unary and server streaming), gRPC-Web (binary and text) with a client written here from
the spec, each over HTTP/1.1 and HTTP/2 on the one public port; CORS; X-Forwarded-For from trusted
proxies; and bad HTTP/1.1 input (smuggling shapes, huge headers, a trickling client, pipelining)
that must neither crash nor stall the port.

Every dialect must give the same answers native gRPC gives: the same authentication, policy and
status codes, so each error path is walked in each dialect.
"""
from __future__ import annotations

import json
import re
import socket
import subprocess
import tempfile
import threading
import time

import grpc
import pytest

from conftest import ensure_generated, free_port, start_up
from web_client import TRANSPORTS, connect_stream, connect_unary, frame, grpc_web, post_h1, unframe

ensure_generated()
from xieshang.directory.v1 import directory_pb2 as dpb, directory_pb2_grpc  # noqa: E402
from xieshang.events.v1 import events_pb2  # noqa: E402
from xieshang.gateway.v1 import gateway_pb2, gateway_pb2_grpc  # noqa: E402
from xieshang.intake.v1 import intake_pb2, intake_pb2_grpc  # noqa: E402

ORIGIN = "https://app.example.cn"
PUBLIC_RATE = 30
REQUEST_TIMEOUT = 2.0  # seconds an HTTP/1.1 request may take to arrive (XIESHANG_HTTP_REQUEST_TIMEOUT)
GET_MEMBER = "/xieshang.directory.v1.DirectoryService/GetMember"
LIST_MEMBERS = "/xieshang.directory.v1.DirectoryService/ListMembers"
WATCH = "/xieshang.directory.v1.DirectoryService/Watch"
WHO_AM_I = "/xieshang.gateway.v1.GatewayService/WhoAmI"
SUBMIT_PUBLIC = "/xieshang.intake.v1.IntakeService/SubmitPublic"
ROUTE_ITEM = "/xieshang.intake.v1.IntakeService/RouteItem"
FIVE_MB = 5 * 1024 * 1024


class System:
    def __init__(self):
        self.port = free_port()
        up = start_up(tempfile.mkdtemp(prefix="xieshang-web-"), self.port, env={
            "XIESHANG_CORS_ORIGINS": ORIGIN,
            "XIESHANG_TRUSTED_PROXIES": "127.0.0.0/8",
            "XIESHANG_PUBLIC_RATE": str(PUBLIC_RATE),
            "XIESHANG_HTTP_REQUEST_TIMEOUT": str(REQUEST_TIMEOUT),
        })
        self.server, self.tokens = up.server, up.tokens
        assert {"changshun.liaison", "changshun.admin", "changshun.leader"} <= set(self.tokens), self.server.output()
        self.address = ("127.0.0.1", self.port)
        # One native channel for the tests' grpcio calls.
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        # A member of 长顺 (committee 2), read natively once to compare every dialect's answer with.
        stub = directory_pb2_grpc.DirectoryServiceStub(self.channel)
        listed = stub.ListMembers(dpb.ListMembersRequest(page_size=1), metadata=self.auth("changshun.liaison"))
        self.member = listed.members[0]

    def login(self, username: str, address: str):
        """A session for `username` (demo password), logging in from `address` (a trusted proxy
        forwards it), so each test's logins count against an address of its own."""
        return gateway_pb2_grpc.GatewayServiceStub(self.channel).Login(
            gateway_pb2.LoginRequest(username=username, password="xieshang-demo"),
            metadata=(("x-forwarded-for", address),), timeout=20)

    def auth(self, user: str) -> tuple:
        return (("authorization", f"Bearer {self.tokens[user]}"),)

    def bearer(self, user: str) -> dict[str, str]:
        return {"authorization": f"Bearer {self.tokens[user]}"}

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture(scope="module")
def system():
    s = System()
    yield s
    s.channel.close()
    s.server.stop()
    assert s.server.proc.returncode is not None


def curl(*args: str, timeout: float = 30) -> tuple[int, dict[str, str], str]:
    """curl -i: (HTTP status, headers, body)."""
    out = subprocess.run(["curl", "-sS", "-i", *args], capture_output=True, timeout=timeout)
    assert out.returncode == 0, out.stderr
    head, _, body = out.stdout.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body.decode()


# ---------------------------------------------------------------------------
# Connect with curl: HTTP/1.1 and HTTP/2, every error path
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("http", ["--http1.1", "--http2-prior-knowledge"])
def test_connect_json_with_curl(system, http):
    m = system.member
    h = ["-H", "content-type: application/json", "-H", f"authorization: Bearer {system.tokens['changshun.liaison']}"]
    status, headers, body = curl(http, "-X", "POST", system.url(GET_MEMBER), *h, "-d", json.dumps({"id": str(m.id)}))
    assert status == 200 and headers["content-type"] == "application/json", body
    got = json.loads(body)
    # proto3 JSON: lowerCamel names, int64 as strings, enums by name, Chinese as it is.
    assert got["id"] == str(m.id) and got["name"] == m.name and got["committeeId"] == "2"
    assert got["status"] == dpb.MemberStatus.Name(m.status)

    # NOT_FOUND: a member of no committee the caller sees.
    status, _, body = curl(http, "-X", "POST", system.url(GET_MEMBER), *h, "-d", '{"id": "999999"}')
    assert status == 404 and json.loads(body)["code"] == "not_found", body
    # UNAUTHENTICATED: no token.
    status, _, body = curl(http, "-X", "POST", system.url(WHO_AM_I), "-H", "content-type: application/json", "-d", "{}")
    assert status == 401 and json.loads(body)["code"] == "unauthenticated", body
    # PERMISSION_DENIED: a leader may not route.
    status, _, body = curl(http, "-X", "POST", system.url(ROUTE_ITEM), "-H", "content-type: application/json",
                           "-H", f"authorization: Bearer {system.tokens['changshun.leader']}", "-d", '{"id": "1"}')
    assert status == 403 and json.loads(body)["code"] == "permission_denied", body
    # INVALID_ARGUMENT naming the field (the service's own check, reached through JSON).
    status, _, body = curl(http, "-X", "POST", system.url(SUBMIT_PUBLIC), "-H", "content-type: application/json",
                           "-H", "x-xieshang-committee: 2", "-H", "x-forwarded-for: 198.51.100.1", "-d", '{"text": ""}')
    err = json.loads(body)
    assert status == 400 and err["code"] == "invalid_argument" and err["message"].startswith("text:"), body
    # A field the message does not have, and a value of the wrong type: INVALID_ARGUMENT naming it.
    status, _, body = curl(http, "-X", "POST", system.url(GET_MEMBER), *h, "-d", '{"idx": "1"}')
    assert status == 400 and "'idx'" in json.loads(body)["message"], body
    status, _, body = curl(http, "-X", "POST", system.url(GET_MEMBER), *h, "-d", '{"id": {"a": 1}}')
    assert status == 400 and json.loads(body)["message"].startswith("id"), body
    # Malformed JSON.
    status, _, body = curl(http, "-X", "POST", system.url(GET_MEMBER), *h, "-d", '{"id": ')
    assert status == 400 and json.loads(body)["code"] == "invalid_argument", body
    # An unknown method and an unknown service.
    status, _, body = curl(http, "-X", "POST", system.url("/xieshang.directory.v1.DirectoryService/Nope"), *h, "-d", "{}")
    assert status == 501 and json.loads(body)["code"] == "unimplemented" and "Nope" in json.loads(body)["message"], body
    status, _, body = curl(http, "-X", "POST", system.url("/no.Such/Method"), *h, "-d", "{}")
    assert status == 501 and json.loads(body)["code"] == "unimplemented", body
    # Not a POST; a content type no dialect has.
    status, headers, _ = curl(http, system.url(GET_MEMBER))
    assert status == 405 and "POST" in headers["allow"]
    status, _, _ = curl(http, "-X", "POST", system.url(GET_MEMBER), "-H", "content-type: text/plain", "-d", "x")
    assert status == 415
    # A streaming method is not Connect unary.
    status, _, body = curl(http, "-X", "POST", system.url(WATCH), *h, "-d", "{}")
    assert status == 501 and "streaming" in json.loads(body)["message"], body


def test_connect_refuses_a_five_megabyte_message(system):
    for post in TRANSPORTS.values():
        big = json.dumps({"text": "路" * (FIVE_MB // 3)}).encode()
        r = connect_unary(post, system.address, SUBMIT_PUBLIC, big, headers={"x-xieshang-committee": "2"})
        assert r.status == 429 and r.json()["code"] == "resource_exhausted", (post, r.status, r.body[:200])
        # The port still answers.
        r = connect_unary(post, system.address, WHO_AM_I, b"{}", headers=system.bearer("changshun.liaison"))
        assert r.status == 200 and r.json()["committeeName"] == "政协长顺县委员会"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_connect_proto_unary_and_trailers(system, transport):
    post = TRANSPORTS[transport]
    req = dpb.GetRequest(id=system.member.id).SerializeToString()
    r = connect_unary(post, system.address, GET_MEMBER, req, json_body=False, headers=system.bearer("changshun.liaison"))
    assert r.status == 200 and r.headers["content-type"] == "application/proto"
    got = dpb.Member.FromString(r.body)
    assert got == system.member


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_connect_server_stream_and_deadline(system, transport):
    post = TRANSPORTS[transport]
    admin = system.bearer("changshun.admin")
    s = connect_stream(post, system.address, WATCH, {"entityKinds": ["committee"], "historyOnly": True}, headers=admin)
    assert s.http_status == 200 and s.headers["content-type"] == "application/connect+json"
    assert s.error is None, s.end
    assert s.messages and all(e["entityKind"] == "committee" for e in s.messages), s.messages
    assert [int(e["sequence"]) for e in s.messages] == sorted(int(e["sequence"]) for e in s.messages)
    # A live watch outlives its deadline: DEADLINE_EXCEEDED in the end-of-stream message.
    started = time.monotonic()
    s = connect_stream(post, system.address, WATCH, {"entityKinds": ["committee"]}, headers={**admin, "connect-timeout-ms": "400"})
    assert s.error and s.error["code"] == "deadline_exceeded", s.end
    assert time.monotonic() - started < 10
    # Errors in a stream are end-of-stream messages with HTTP 200.
    s = connect_stream(post, system.address, WATCH, {"historyOnly": True}, headers=system.bearer("changshun.leader"))
    assert s.http_status == 200 and s.error["code"] == "permission_denied" and not s.messages
    s = connect_stream(post, system.address, WATCH, {"historyOnly": True})
    assert s.error["code"] == "unauthenticated"
    s = connect_stream(post, system.address, WATCH, {"historyOnly": "yes"}, headers=admin)
    assert s.error["code"] == "invalid_argument" and "historyOnly" in s.error["message"], s.end


# ---------------------------------------------------------------------------
# gRPC-Web, binary and text, over both transports
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("text", [False, True], ids=["binary", "text"])
def test_grpc_web(system, transport, text):
    post = TRANSPORTS[transport]
    liaison = system.bearer("changshun.liaison")
    call = lambda path, msg, headers=None, **kw: grpc_web(post, system.address, path, msg.SerializeToString(), text=text,  # noqa: E731
                                                          headers=headers, **kw)
    r = call(GET_MEMBER, dpb.GetRequest(id=system.member.id), liaison)
    assert r.http_status == 200 and r.headers["content-type"].startswith("application/grpc-web")
    assert r.code == 0 and len(r.messages) == 1, r.trailers
    assert dpb.Member.FromString(r.messages[0]) == system.member

    cases = [
        (GET_MEMBER, dpb.GetRequest(id=999_999), liaison, grpc.StatusCode.NOT_FOUND, "not found"),
        (WHO_AM_I, gateway_pb2.WhoAmIRequest(), None, grpc.StatusCode.UNAUTHENTICATED, "Bearer"),
        (ROUTE_ITEM, intake_pb2.RouteRequest(id=1), system.bearer("changshun.leader"), grpc.StatusCode.PERMISSION_DENIED, "RouteItem"),
        (SUBMIT_PUBLIC, intake_pb2.PublicSubmission(text=""), {"x-xieshang-committee": "2", "x-forwarded-for": "198.51.100.2"},
         grpc.StatusCode.INVALID_ARGUMENT, "text:"),
        ("/xieshang.directory.v1.DirectoryService/Nope", dpb.GetRequest(), liaison, grpc.StatusCode.UNIMPLEMENTED, "Nope"),
    ]
    for path, msg, headers, code, fragment in cases:
        r = call(path, msg, headers)
        assert r.http_status == 200 and r.code == code.value[0], (path, r.trailers)
        assert fragment in r.message, (path, r.message)
        assert not r.messages

    # A server stream, then a deadline on a live one.
    w = call(WATCH, events_pb2.WatchRequest(entity_kinds=["committee"], history_only=True), system.bearer("changshun.admin"))
    assert w.code == 0 and w.messages
    assert all(events_pb2.Event.FromString(m).entity_kind == "committee" for m in w.messages)
    w = call(WATCH, events_pb2.WatchRequest(entity_kinds=["committee"]), {**system.bearer("changshun.admin"), "grpc-timeout": "400m"})
    assert w.code == grpc.StatusCode.DEADLINE_EXCEEDED.value[0], w.trailers

    # Five megabytes: RESOURCE_EXHAUSTED, and the port goes on.
    big = intake_pb2.PublicSubmission(text="x" * FIVE_MB)
    r = call(SUBMIT_PUBLIC, big, {"x-xieshang-committee": "2"})
    assert r.code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0], (r.http_status, r.trailers)
    r = call(WHO_AM_I, gateway_pb2.WhoAmIRequest(), liaison)
    assert r.code == 0


def test_grpc_web_text_body_split_across_chunks(system):
    """A text body whose base64 is sent as padded chunks (what a client streaming pieces does)."""
    msg = frame(dpb.GetRequest(id=system.member.id).SerializeToString())
    import base64
    body = base64.b64encode(msg[:3]) + base64.b64encode(msg[3:])
    r = post_h1(*system.address, GET_MEMBER, body, {"content-type": "application/grpc-web-text", **system.bearer("changshun.liaison")})
    assert r.status == 200
    from web_client import decode_text_body
    frames = unframe(decode_text_body(r.body))
    assert dpb.Member.FromString(frames[0][1]) == system.member and frames[-1][0] == 0x80


# ---------------------------------------------------------------------------
# CORS and proxies
# ---------------------------------------------------------------------------


def test_cors(system):
    status, headers, _ = curl("-X", "OPTIONS", system.url(GET_MEMBER), "-H", f"origin: {ORIGIN}",
                              "-H", "access-control-request-method: POST",
                              "-H", "access-control-request-headers: content-type, authorization, x-grpc-web")
    assert status == 204
    assert headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in headers["access-control-allow-methods"]
    assert "authorization" in headers["access-control-allow-headers"]
    # A site not configured gets no grant.
    status, headers, _ = curl("-X", "OPTIONS", system.url(GET_MEMBER), "-H", "origin: https://evil.example",
                              "-H", "access-control-request-method: POST")
    assert status == 403 and "access-control-allow-origin" not in headers
    # The real call from the allowed origin exposes the status headers.
    r = grpc_web(post_h1, system.address, GET_MEMBER, dpb.GetRequest(id=system.member.id).SerializeToString(),
                 headers={**system.bearer("changshun.liaison"), "origin": ORIGIN})
    assert r.headers["access-control-allow-origin"] == ORIGIN
    assert "grpc-status" in r.headers["access-control-expose-headers"]
    r = connect_unary(post_h1, system.address, WHO_AM_I, b"{}", headers={"origin": "https://evil.example"})
    assert r.status == 401 and "access-control-allow-origin" not in r.headers


def test_forwarded_for_from_a_trusted_proxy_keys_the_public_rate_limit(system):
    """The gateway trusts 127.0.0.0/8 here: the address a proxy forwards is the client's, for the
    public's rate limit. A client cannot escape its bucket by writing another address in front."""
    def submit(forwarded: str):
        body = json.dumps({"text": "路灯坏了"}).encode()
        return connect_unary(post_h1, system.address, SUBMIT_PUBLIC, body,
                             headers={"x-xieshang-committee": "2", "x-forwarded-for": forwarded})

    codes = [submit("203.0.113.7").status for _ in range(PUBLIC_RATE + 1)]
    assert codes[:PUBLIC_RATE - 1].count(200) == PUBLIC_RATE - 1 and codes[-1] == 429, codes
    # The same client behind a spoofed entry: still its own, exhausted bucket.
    assert submit("192.0.2.99, 203.0.113.7").status == 429
    # Another client is unaffected.
    assert submit("203.0.113.8").status == 200


# ---------------------------------------------------------------------------
# Bad HTTP/1.1 input never crashes or stalls the port
# ---------------------------------------------------------------------------


def raw(system, data: bytes, read_for: float = 3.0) -> bytes:
    s = socket.create_connection(system.address, timeout=read_for)
    try:
        s.sendall(data)
        out = b""
        end = time.monotonic() + read_for
        while time.monotonic() < end:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


def still_serving(system):
    r = connect_unary(post_h1, system.address, WHO_AM_I, b"{}", headers=system.bearer("changshun.liaison"), timeout=10)
    assert r.status == 200, r.body
    # A new connection: the port still accepts them.
    with grpc.insecure_channel(f"127.0.0.1:{system.port}") as channel:
        stub = directory_pb2_grpc.DirectoryServiceStub(channel)
        assert stub.GetMember(dpb.GetRequest(id=system.member.id), metadata=system.auth("changshun.liaison"), timeout=10).id


def test_request_smuggling_shapes_are_refused(system):
    token = system.tokens["changshun.liaison"]
    body = b'{"id": "1"}'
    shapes = {
        "content-length and chunked": b"POST %s HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nauthorization: Bearer %s\r\n"
                                      b"content-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n" % (GET_MEMBER.encode(), token.encode()),
        "two content-lengths": b"POST %s HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 11\r\n"
                               b"content-length: 3\r\n\r\n%s" % (GET_MEMBER.encode(), body),
        "bad chunk size": b"POST %s HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
                          b"zz\r\n%s\r\n0\r\n\r\n" % (GET_MEMBER.encode(), body),
        "obfuscated transfer-encoding": b"POST %s HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                                        b"transfer-encoding: xchunked\r\ncontent-length: 11\r\n\r\n%s" % (GET_MEMBER.encode(), body),
        "space before colon": b"POST %s HTTP/1.1\r\nhost: x\r\ncontent-length : 11\r\n\r\n%s" % (GET_MEMBER.encode(), body),
        "bare LF and a smuggled request": b"POST %s HTTP/1.1\nhost: x\ncontent-type: application/json\ncontent-length: 0\n\n"
                                          b"GET /admin HTTP/1.1\r\n\r\n" % GET_MEMBER.encode(),
    }
    for name, data in shapes.items():
        out = raw(system, data)
        status = int(out.split(b" ", 2)[1]) if out.startswith(b"HTTP/1.1 ") else None
        # Refused (400/501) or, for a shape the parser reads one way only, answered once: never two answers.
        assert status is None or status >= 400, (name, out[:300])
        assert out.count(b"HTTP/1.1 ") <= 1, (name, out[:500])
        still_serving(system)


def test_huge_headers_are_refused(system):
    data = (b"POST %s HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-big: %s\r\ncontent-length: 2\r\n\r\n{}"
            % (GET_MEMBER.encode(), b"a" * (100 * 1024)))
    out = raw(system, data)
    assert out.startswith(b"HTTP/1.1 4"), out[:200]
    data = (b"POST %s HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n%scontent-length: 2\r\n\r\n{}"
            % (GET_MEMBER.encode(), b"".join(b"x-h%d: %s\r\n" % (i, b"v" * 100) for i in range(300))))
    out = raw(system, data)
    assert out.startswith(b"HTTP/1.1 431"), out[:200]
    still_serving(system)


def test_a_trickling_client_is_cut_off_and_others_are_served(system):
    """Slowloris: a request head sent a byte at a time is cut off after the request timeout while
    other callers keep being answered."""
    s = socket.create_connection(system.address, timeout=REQUEST_TIMEOUT * 4)
    head = b"POST %s HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-slow: " % GET_MEMBER.encode()
    s.sendall(head)
    started = time.monotonic()
    closed_after = None
    for _ in range(int(REQUEST_TIMEOUT * 10)):
        try:
            s.sendall(b"a")
        except OSError:
            closed_after = time.monotonic() - started
            break
        if _ % 4 == 0:
            still_serving(system)
        time.sleep(0.25)
        s.settimeout(0.01)
        try:
            got = s.recv(4096)
            if got == b"" or got.startswith(b"HTTP/1.1 408"):
                closed_after = time.monotonic() - started
                break
        except socket.timeout:
            pass
        except OSError:
            closed_after = time.monotonic() - started
            break
    s.close()
    assert closed_after is not None and closed_after < REQUEST_TIMEOUT + 3, closed_after
    # A connection that opens and says nothing is closed too.
    idle = socket.create_connection(system.address, timeout=REQUEST_TIMEOUT + 5)
    started = time.monotonic()
    assert idle.recv(1) == b""
    assert time.monotonic() - started < REQUEST_TIMEOUT + 3
    idle.close()
    still_serving(system)


def test_pipelined_requests_are_answered_in_order(system):
    token = system.tokens["changshun.liaison"]
    reqs = b""
    ids = [system.member.id, 999_999, system.member.id]
    for i in ids:
        body = json.dumps({"id": str(i)}).encode()
        reqs += (b"POST %s HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nauthorization: Bearer %s\r\n"
                 b"content-length: %d\r\n\r\n%s" % (GET_MEMBER.encode(), token.encode(), len(body), body))
    out = raw(system, reqs, read_for=3)
    # Each answer follows the previous body directly (no separator): find the status lines.
    statuses = [int(code) for code in re.findall(rb"HTTP/1\.1 (\d{3}) ", out)]
    assert statuses == [200, 404, 200], out[:1000]


def test_many_concurrent_browser_calls(system):
    """Connect and gRPC-Web callers at once on both transports, alongside native gRPC."""
    errors: list = []

    def worker(k: int):
        try:
            for j in range(10):
                post = list(TRANSPORTS.values())[(k + j) % 2]
                if j % 2:
                    r = connect_unary(post, system.address, GET_MEMBER, json.dumps({"id": str(system.member.id)}).encode(),
                                      headers=system.bearer("changshun.liaison"))
                    assert r.status == 200 and r.json()["name"] == system.member.name
                else:
                    g = grpc_web(post, system.address, GET_MEMBER, dpb.GetRequest(id=system.member.id).SerializeToString(),
                                 headers=system.bearer("changshun.liaison"))
                    assert g.code == 0 and dpb.Member.FromString(g.messages[0]).name == system.member.name
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors[:3]
    still_serving(system)


# ---------------------------------------------------------------------------
# Password guessing meets a brake: per username (the directory) and per address (the gateway)
# ---------------------------------------------------------------------------

LOGIN = "/xieshang.gateway.v1.GatewayService/Login"


def login(system, username: str, password: str, address: str):
    body = json.dumps({"username": username, "password": password}).encode()
    started = time.monotonic()
    r = connect_unary(post_h1, system.address, LOGIN, body, headers={"x-forwarded-for": address})
    return r, time.monotonic() - started


def test_wrong_passwords_lock_the_username(system):
    answers = [login(system, "changshun.member3", f"guess-{i}", "203.0.113.60") for i in range(1, 30)]
    codes = [(r.status, r.json()["code"]) for r, _ in answers]
    assert codes[:5] == [(401, "unauthenticated")] * 5, codes
    assert "locked for 30 s after 5 wrong passwords" in answers[4][0].json()["message"]
    assert codes[5:] == [(429, "resource_exhausted")] * 24, codes
    # Answers slow down before the lock (the address's brake): the 4th and 5th wait.
    assert answers[3][1] >= 0.2 and answers[4][1] >= 0.4, [round(t, 2) for _, t in answers[:6]]
    # Locked: the right password is refused too.
    r, _ = login(system, "changshun.member3", "xieshang-demo", "203.0.113.60")
    assert r.status == 429 and "locked" in r.json()["message"], r.body
    # Another account from another address is not affected.
    r, _ = login(system, "changshun.member2", "xieshang-demo", "203.0.113.62")
    assert r.status == 200 and r.json()["token"]


def test_wrong_passwords_from_one_address_lock_the_address(system):
    """A guesser trying a different username each time never trips a username's lock; its
    address is refused after ten."""
    answers = [login(system, f"nobody{i}", "guess", "203.0.113.61")[0] for i in range(10)]
    assert [r.status for r in answers[:9]] == [401] * 9
    assert answers[9].status == 429 and "refused for 60 s" in answers[9].json()["message"], answers[9].body
    r, _ = login(system, "changshun.member1", "xieshang-demo", "203.0.113.61")
    assert r.status == 429 and "from this address" in r.json()["message"]
    assert "security: gateway: address 203.0.113.61 refused" in system.server.output()


# ---------------------------------------------------------------------------
# U+0000 inside a string is refused naming the field, before anything is stored
# ---------------------------------------------------------------------------


def test_a_nul_character_is_invalid_argument_and_nothing_is_stored(system):
    channel = system.channel
    intake = intake_pb2_grpc.IntakeServiceStub(channel)
    with pytest.raises(grpc.RpcError) as e:
        intake.SubmitPublic(intake_pb2.PublicSubmission(text="路灯\x00坏了"),
                            metadata=(("x-xieshang-committee", "2"), ("x-forwarded-for", "203.0.113.70")), timeout=10)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and e.value.details().startswith("text:"), e.value.details()
    directory = directory_pb2_grpc.DirectoryServiceStub(channel)
    admin = system.auth("changshun.admin")
    before = directory.GetMember(dpb.GetRequest(id=system.member.id), metadata=admin, timeout=10)
    changed = dpb.Member()
    changed.CopyFrom(before)
    changed.name = before.name + "\x00后缀"
    with pytest.raises(grpc.RpcError) as e:
        directory.UpdateMember(changed, metadata=admin, timeout=10)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and e.value.details().startswith("name:"), e.value.details()
    after = directory.GetMember(dpb.GetRequest(id=system.member.id), metadata=admin, timeout=10)
    assert after.name == before.name and after.version == before.version
    # The same through Connect JSON: "\u0000" in the JSON string.
    r = connect_unary(post_h1, system.address, SUBMIT_PUBLIC, b'{"text": "\\u8def\\u0000x"}',
                      headers={"x-xieshang-committee": "2", "x-forwarded-for": "203.0.113.71"})
    assert r.status == 400 and r.json()["message"].startswith("text:"), r.body


# ---------------------------------------------------------------------------
# Revoked, disabled and expired tokens stop working at once
# ---------------------------------------------------------------------------


def who(system, token: str) -> int:
    r = connect_unary(post_h1, system.address, WHO_AM_I, b"{}", headers={"authorization": f"Bearer {token}"})
    return r.status


def until_refused(system, token: str, within: float) -> float:
    """Seconds until WhoAmI with `token` is 401 (polling), or an assertion error after `within`."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        if who(system, token) == 401:
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError(f"the token still worked {within} s later")


def test_revoked_disabled_and_expired_tokens_stop_at_once(system):
    channel = system.channel
    gateway = gateway_pb2_grpc.GatewayServiceStub(channel)
    directory = directory_pb2_grpc.DirectoryServiceStub(channel)
    # Revoked: the holder revokes its own session token.
    session = system.login("changshun.staff", "203.0.113.80")
    assert who(system, session.token) == 200 and who(system, session.token) == 200  # now cached
    mine = (("authorization", f"Bearer {session.token}"),)
    tokens = directory.ListTokens(dpb.ListTokensRequest(account_id=session.principal.account_id), metadata=mine, timeout=10).tokens
    newest = max(tokens, key=lambda t: t.id)
    directory.RevokeToken(dpb.GetRequest(id=newest.id), metadata=mine, timeout=10)
    assert until_refused(system, session.token, within=2.0) < 1.0

    # Disabled: an admin disables the account; its cached token stops.
    unit = system.login("changshun.unit2", "203.0.113.80")
    assert who(system, unit.token) == 200
    admin = system.auth("changshun.admin")
    account = directory.GetAccount(dpb.GetRequest(id=unit.principal.account_id), metadata=admin, timeout=10)
    account.disabled = True
    account = directory.UpdateAccount(account, metadata=admin, timeout=10)
    assert until_refused(system, unit.token, within=2.0) < 1.0
    account.disabled = False
    directory.UpdateAccount(account, metadata=admin, timeout=10)

    # Expired: a token that lives 1.5 s is refused once it has, though it was cached.
    leader = system.auth("changshun.leader")
    me = gateway.WhoAmI(gateway_pb2.WhoAmIRequest(), metadata=leader, timeout=10).principal
    short = directory.CreateToken(dpb.CreateTokenRequest(account_id=me.account_id, name="短期",
                                                         expires_at_unix_ms=int(time.time() * 1000) + 1500), metadata=leader, timeout=10)
    assert who(system, short.secret) == 200
    time.sleep(1.6)
    assert who(system, short.secret) == 401


# ---------------------------------------------------------------------------
# A lead proposer corrects a joint proposal and closes its signing through the gateway
# ---------------------------------------------------------------------------


def test_a_lead_proposer_corrects_and_closes_signing_through_the_gateway(system):
    from xieshang.proposal.v1 import proposal_pb2 as ppb, proposal_pb2_grpc
    import datetime
    proposals = proposal_pb2_grpc.ProposalServiceStub(system.channel)
    lead = system.auth("changshun.member1")
    member2 = system.login("changshun.member2", "203.0.113.91")
    deadline = (datetime.date.today() + datetime.timedelta(days=5)).isoformat()
    p = proposals.SubmitProposal(ppb.Proposal(
        proposer_kind=ppb.PROPOSER_KIND_JOINT, session=ppb.SESSION_PLENARY, session_name="九届五次会议",
        title="关于规范校外培训的提案", reasons="校外培训收费不透明。", suggestions="建立监管平台。", category="教育",
        co_signers=[ppb.CoSigner(member_id=member2.principal.member_id)], signing_deadline=deadline), metadata=lead, timeout=20)
    assert p.state == ppb.PROPOSAL_STATE_SIGNING
    p.suggestions = "建立监管平台，公开收费标准。"
    p = proposals.UpdateProposal(p, metadata=lead, timeout=20)
    assert p.suggestions == "建立监管平台，公开收费标准。" and p.steps[-1].action == "revised"
    p = proposals.SignProposal(ppb.SignRequest(id=p.id, confirm=True), metadata=(("authorization", f"Bearer {member2.token}"),), timeout=20)
    closed = proposals.CloseSigning(ppb.ProposalRef(id=p.id, version=p.version), metadata=lead, timeout=20)
    assert closed.state == ppb.PROPOSAL_STATE_SUBMITTED
    # A leader is not a proposer: refused by the gateway's table.
    with pytest.raises(grpc.RpcError) as e:
        proposals.UpdateProposal(closed, metadata=system.auth("changshun.leader"), timeout=20)
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_expect_100_continue_is_answered(system):
    """curl asks before sending a body over 1 MiB; without an interim 100 it waits a second."""
    body = json.dumps({"text": "路" * 400_000}).encode()
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        f.write(body)
        f.flush()
        started = time.monotonic()
        out = subprocess.run(["curl", "-sS", "-v", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", system.url(SUBMIT_PUBLIC),
                              "-H", "content-type: application/json", "-H", "x-xieshang-committee: 2",
                              "-H", "x-forwarded-for: 203.0.113.95", "--data-binary", f"@{f.name}"],
                             capture_output=True, text=True, timeout=30)
        took = time.monotonic() - started
    assert "Expect: 100-continue" in out.stderr and "< HTTP/1.1 100 Continue" in out.stderr, out.stderr[-2000:]
    # Without the interim answer curl gives up waiting after a second and says so.
    assert "Done waiting for 100-continue" not in out.stderr, (took, out.stderr[-2000:])
    assert out.stdout == "400", out.stdout  # read whole, then refused by the service: text over 5,000 characters


def test_the_public_reads_and_posts_on_an_open_online_page_through_the_gateway(system):
    """码上协商 by QR code: no account, the committee in a header; only an open page, only published posts."""
    from xieshang.consultation.v1 import consultation_pb2 as cpb, consultation_pb2_grpc
    channel = system.channel
    c = consultation_pb2_grpc.ConsultationServiceStub(channel)
    staff = system.auth("changshun.staff")
    host = gateway_pb2_grpc.GatewayServiceStub(channel).WhoAmI(gateway_pb2.WhoAmIRequest(), metadata=system.auth("changshun.member1"),
                                                               timeout=10).principal
    topic = c.ProposeTopic(cpb.Topic(title="城区公园建设", source=cpb.TOPIC_SOURCE_PARTY_COMMITTEE, category="城建"), metadata=staff, timeout=10)
    c.ChooseTopic(cpb.TopicAction(id=topic.id), metadata=staff, timeout=10)
    online = c.CreateConsultation(cpb.Consultation(topic_id=topic.id, form=cpb.FORM_ONLINE, level=cpb.LEVEL_COUNTY,
                                                   host_member_id=host.member_id), metadata=staff, timeout=10)
    public = (("x-xieshang-committee", "2"), ("x-forwarded-for", "203.0.113.100"))
    page = c.GetConsultation(cpb.GetRequest(id=online.id), metadata=public, timeout=10)
    assert page.id == online.id and page.page_open
    post = c.PostOpinion(cpb.OpinionPost(consultation_id=online.id, text="希望多种树", author_name="张先生"), metadata=public, timeout=10)
    assert post.state == cpb.POST_STATE_PENDING and post.author_name == "张先生"
    assert list(c.ListPosts(cpb.ListPostsRequest(consultation_id=online.id), metadata=public, timeout=10).posts) == []
    c.ModeratePost(cpb.ModerationRequest(id=post.id, version=post.version, publish=True), metadata=staff, timeout=10)
    shown = c.ListPosts(cpb.ListPostsRequest(consultation_id=online.id), metadata=public, timeout=10).posts
    assert [p.text for p in shown] == ["希望多种树"]
    # A consultation without an open page is not there for the public.
    internal_topic = c.ProposeTopic(cpb.Topic(title="内部议题", source=cpb.TOPIC_SOURCE_PARTY_COMMITTEE), metadata=staff, timeout=10)
    c.ChooseTopic(cpb.TopicAction(id=internal_topic.id), metadata=staff, timeout=10)
    internal = c.CreateConsultation(cpb.Consultation(topic_id=internal_topic.id, form=cpb.FORM_THEMATIC, level=cpb.LEVEL_COUNTY,
                                                     host_member_id=host.member_id), metadata=staff, timeout=10)
    for call in (lambda: c.GetConsultation(cpb.GetRequest(id=internal.id), metadata=public, timeout=10),
                 lambda: c.PostOpinion(cpb.OpinionPost(consultation_id=internal.id, text="x"), metadata=public, timeout=10)):
        with pytest.raises(grpc.RpcError) as e:
            call()
        assert e.value.code() == grpc.StatusCode.NOT_FOUND, e.value.details()
    # Everything else stays closed to the public.
    with pytest.raises(grpc.RpcError) as e:
        c.ListConsultations(cpb.ListConsultationsRequest(), metadata=public, timeout=10)
    assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_a_member_feeds_back_an_item_they_brought_through_the_gateway(system):
    """带下去: the bringing member tells the public the answer; another member may not."""
    channel = system.channel
    intake = intake_pb2_grpc.IntakeServiceStub(channel)
    gateway = gateway_pb2_grpc.GatewayServiceStub(channel)
    member, liaison, unit = system.auth("changshun.member1"), system.auth("changshun.liaison"), system.auth("changshun.unit1")
    unit_id = gateway.WhoAmI(gateway_pb2.WhoAmIRequest(), metadata=unit, timeout=10).principal.unit_id
    item = intake.SubmitItem(intake_pb2.Item(text="村道护栏缺失存在安全隐患", channel=intake_pb2.CHANNEL_SPOKEN), metadata=member, timeout=10)
    item = intake.RegisterItem(intake_pb2.RegisterRequest(id=item.id, version=item.version, category="交通"), metadata=liaison, timeout=10)
    item = intake.RouteItem(intake_pb2.RouteRequest(id=item.id, version=item.version, mode=intake_pb2.HANDLING_MODE_PHONE, unit_id=unit_id),
                            metadata=liaison, timeout=10)
    intake.AcknowledgeItem(intake_pb2.ItemRef(id=item.id), metadata=unit, timeout=10)
    intake.ReplyItem(intake_pb2.ReplyRequest(id=item.id, reply="已列入本月维修计划"), metadata=unit, timeout=10)
    other = system.login("changshun.member2", "203.0.113.110")
    with pytest.raises(grpc.RpcError) as e:
        intake.FeedBackItem(intake_pb2.FeedBackRequest(id=item.id, content="x", audience="村民", audience_size=1),
                            metadata=(("authorization", f"Bearer {other.token}"),), timeout=10)
    assert e.value.code() in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND), e.value
    fed = intake.FeedBackItem(intake_pb2.FeedBackRequest(id=item.id, content="已在村民会上告知维修安排", audience="村民", audience_size=30),
                              metadata=member, timeout=10)
    assert fed.state == intake_pb2.ITEM_STATE_FED_BACK and fed.steps[-1].action == "fed_back"
