"""Keepalive: an idle connection gets a PING; one that never acknowledges it is closed,
while one that does stays open."""
import socket
import struct
import time

import pytest

from conftest import free_port, require_xieshang_bin, start_server

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SETTINGS, PING, GOAWAY = 0x4, 0x6, 0x7
ACK = 0x1


def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload


def read_frames(sock, deadline):
    """Yields (type, flags, payload) until the peer closes or the deadline passes."""
    buf = b""
    while time.time() < deadline:
        sock.settimeout(max(0.05, deadline - time.time()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return
        if not chunk:
            yield ("closed", 0, b"")
            return
        buf += chunk
        while len(buf) >= 9:
            length = int.from_bytes(buf[:3], "big")
            if len(buf) < 9 + length:
                break
            yield (buf[3], buf[4], buf[9:9 + length])
            buf = buf[9 + length:]


@pytest.fixture(scope="module")
def keepalive_server():
    binary = require_xieshang_bin()
    port = free_port()
    server = start_server([binary, "interop-server", "--port", port, "--keepalive-interval", "0.3",
                           "--keepalive-timeout", "0.5"], port, "xieshang interop-server (keepalive)")
    yield server
    server.stop()


def open_connection(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    s.sendall(PREFACE + frame(SETTINGS, 0, 0))
    return s


def test_unanswered_ping_closes_the_connection(keepalive_server):
    s = open_connection(keepalive_server.port)
    seen = []
    try:
        for ftype, flags, payload in read_frames(s, time.time() + 5):
            seen.append(ftype)
            if ftype == SETTINGS and not flags & ACK:
                s.sendall(frame(SETTINGS, ACK, 0))
            if ftype == "closed":
                break
    finally:
        s.close()
    assert PING in seen, f"no keepalive PING within 5 s (frames: {seen})"
    assert seen[-1] in ("closed", GOAWAY), f"connection not closed after an unanswered PING (frames: {seen})"


def test_answered_pings_keep_the_connection(keepalive_server):
    s = open_connection(keepalive_server.port)
    pings = 0
    try:
        for ftype, flags, payload in read_frames(s, time.time() + 2.5):
            assert ftype != "closed", "connection closed although every PING was acknowledged"
            if ftype == SETTINGS and not flags & ACK:
                s.sendall(frame(SETTINGS, ACK, 0))
            if ftype == PING and not flags & ACK:
                pings += 1
                s.sendall(frame(PING, ACK, 0, payload))
    finally:
        s.close()
    assert pings >= 2, f"expected repeated keepalive PINGs, got {pings}"
