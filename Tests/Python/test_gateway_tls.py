"""TLS on the gateway's public port (ALPN h2 and http/1.1) and between services: grpcio with a
root certificate, curl and the browser dialects over HTTPS, `xieshang call --tls-ca`, and a
gateway that reaches the directory over TLS (--peer-tls-ca). The certificate is made here by
openssl for localhost and 127.0.0.1.
"""
from __future__ import annotations

import json
import secrets
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

import grpc
import pytest

from conftest import ensure_generated, free_port, require_xieshang_bin, start_server, start_up
from web_client import TRANSPORTS, connect_unary, grpc_web

ensure_generated()
from xieshang.directory.v1 import directory_pb2 as dpb, directory_pb2_grpc  # noqa: E402
from xieshang.events.v1 import events_pb2  # noqa: E402
from xieshang.gateway.v1 import gateway_pb2, gateway_pb2_grpc  # noqa: E402

WHO_AM_I = "/xieshang.gateway.v1.GatewayService/WhoAmI"
GET_MEMBER = "/xieshang.directory.v1.DirectoryService/GetMember"


def make_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


@pytest.fixture(scope="module")
def tls_system():
    folder = Path(tempfile.mkdtemp(prefix="xieshang-tls-"))
    cert, key = make_certificate(folder)
    port = free_port()
    up = start_up(str(folder / "data"), port, env={"XIESHANG_TLS_CERT": str(cert), "XIESHANG_TLS_KEY": str(key)})
    yield {"port": port, "cert": cert, "key": key, "tokens": up.tokens, "server": up.server, "folder": folder}
    up.server.stop()


def credentials(system) -> grpc.ChannelCredentials:
    return grpc.ssl_channel_credentials(root_certificates=system["cert"].read_bytes())


def test_grpcio_over_tls(tls_system):
    token = tls_system["tokens"]["changshun.liaison"]
    md = (("authorization", f"Bearer {token}"),)
    with grpc.secure_channel(f"localhost:{tls_system['port']}", credentials(tls_system)) as channel:
        me = gateway_pb2_grpc.GatewayServiceStub(channel).WhoAmI(gateway_pb2.WhoAmIRequest(), metadata=md, timeout=20)
        assert me.committee_name == "政协长顺县委员会"
        directory = directory_pb2_grpc.DirectoryServiceStub(channel)
        with pytest.raises(grpc.RpcError) as e:
            directory.GetMember(dpb.GetRequest(id=999_999), metadata=md, timeout=20)
        assert e.value.code() == grpc.StatusCode.NOT_FOUND
        admin = (("authorization", f"Bearer {tls_system['tokens']['changshun.admin']}"),)
        events = list(directory.Watch(events_pb2.WatchRequest(entity_kinds=["committee"], history_only=True), metadata=admin, timeout=20))
        assert events and all(ev.entity_kind == "committee" for ev in events)
        with pytest.raises(grpc.RpcError) as e:
            list(directory.Watch(events_pb2.WatchRequest(entity_kinds=["committee"]), metadata=admin, timeout=0.5))
        assert e.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    # By address too: the certificate names 127.0.0.1.
    with grpc.secure_channel(f"127.0.0.1:{tls_system['port']}", credentials(tls_system)) as channel:
        assert gateway_pb2_grpc.GatewayServiceStub(channel).WhoAmI(gateway_pb2.WhoAmIRequest(), metadata=md, timeout=20).principal.committee_id == 2


def test_an_untrusted_certificate_and_plaintext_are_refused(tls_system):
    other, _ = make_certificate(Path(tempfile.mkdtemp(prefix="xieshang-tls-other-")))
    creds = grpc.ssl_channel_credentials(root_certificates=other.read_bytes())
    with grpc.secure_channel(f"localhost:{tls_system['port']}", creds) as channel:
        with pytest.raises(grpc.RpcError) as e:
            gateway_pb2_grpc.GatewayServiceStub(channel).WhoAmI(gateway_pb2.WhoAmIRequest(), timeout=5)
        assert e.value.code() == grpc.StatusCode.UNAVAILABLE
    with grpc.insecure_channel(f"127.0.0.1:{tls_system['port']}") as channel:
        with pytest.raises(grpc.RpcError) as e:
            gateway_pb2_grpc.GatewayServiceStub(channel).WhoAmI(gateway_pb2.WhoAmIRequest(), timeout=5)
        assert e.value.code() == grpc.StatusCode.UNAVAILABLE
    assert tls_system["server"].alive()


@pytest.mark.parametrize("http", ["--http1.1", "--http2"])
def test_curl_connect_over_https(tls_system, http):
    token = tls_system["tokens"]["changshun.liaison"]
    out = subprocess.run(["curl", "-sS", http, "--cacert", str(tls_system["cert"]), "-w", "\n%{http_version} %{http_code}",
                          "-X", "POST", f"https://localhost:{tls_system['port']}{WHO_AM_I}",
                          "-H", "content-type: application/json", "-H", f"authorization: Bearer {token}", "-d", "{}"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    body, _, tail = out.stdout.rpartition("\n")
    version, code = tail.split()
    assert code == "200" and version == ("1.1" if http == "--http1.1" else "2"), out.stdout
    assert json.loads(body)["committeeName"] == "政协长顺县委员会"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_browser_dialects_over_tls(tls_system, transport):
    ctx = ssl.create_default_context(cafile=str(tls_system["cert"]))
    ctx.set_alpn_protocols(["h2"] if transport == "http2" else ["http/1.1"])
    post = TRANSPORTS[transport]
    auth = {"authorization": f"Bearer {tls_system['tokens']['changshun.liaison']}"}
    r = connect_unary(post, ("localhost", tls_system["port"]), WHO_AM_I, b"{}", headers=auth, tls=ctx)
    assert r.status == 200 and r.json()["principal"]["committeeId"] == "2"
    g = grpc_web(post, ("localhost", tls_system["port"]), GET_MEMBER, dpb.GetRequest(id=999_999).SerializeToString(),
                 text=True, headers=auth, tls=ctx)
    assert g.code == grpc.StatusCode.NOT_FOUND.value[0], g.trailers


def test_xieshang_call_with_tls(tls_system):
    base = [str(require_xieshang_bin()), "call", "GatewayService/WhoAmI", "--address", f"localhost:{tls_system['port']}",
            "--token", tls_system["tokens"]["changshun.leader"], "--timeout", "10"]
    ok = subprocess.run(base + ["--tls-ca", str(tls_system["cert"])], capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["principal"]["roles"] == ["ROLE_LEADER"]
    # The system's roots do not know this certificate.
    refused = subprocess.run(base + ["--tls"], capture_output=True, text=True, timeout=30)
    assert refused.returncode == 1 and refused.stderr.startswith("UNAVAILABLE"), refused.stderr
    # The health probe too (what a container's health check runs).
    health = [str(require_xieshang_bin()), "health", "--address", f"localhost:{tls_system['port']}"]
    probe = subprocess.run(health + ["--tls-ca", str(tls_system["cert"])], capture_output=True, text=True, timeout=30)
    assert probe.returncode == 0 and probe.stdout.strip() == "SERVING", probe.stdout + probe.stderr
    plain = subprocess.run(health, capture_output=True, text=True, timeout=30)
    assert plain.returncode == 2 and plain.stdout.startswith("unreachable"), plain.stdout


def test_the_gateway_reaches_a_service_over_tls(tls_system):
    """A directory serving TLS, and a gateway whose peer channels use TLS (--peer-tls-ca): Login
    goes gateway → directory over TLS."""
    folder = tls_system["folder"]
    env = {"XIESHANG_PRINCIPAL_SECRET": secrets.token_hex(16), "XIESHANG_PASSWORD_HASHING": "minimal"}
    dport, gport = free_port(), free_port()
    directory = start_server([require_xieshang_bin(), "serve", "directory", "--port", dport, "--seed-demo",
                              "--database-url", f"sqlite:{folder}/peer-directory.sqlite3",
                              "--tls-cert", tls_system["cert"], "--tls-key", tls_system["key"]], dport, "directory", timeout=180, env=env)
    gateway = start_server([require_xieshang_bin(), "serve", "gateway", "--port", gport, "--directory", f"localhost:{dport}",
                            "--peer-tls-ca", tls_system["cert"]], gport, "gateway", env=env)
    try:
        deadline = time.time() + 120
        while "listening" not in directory.output() and time.time() < deadline:
            time.sleep(0.2)
        with grpc.insecure_channel(f"127.0.0.1:{gport}") as channel:
            login = gateway_pb2_grpc.GatewayServiceStub(channel).Login(
                gateway_pb2.LoginRequest(username="changshun.staff", password="xieshang-demo"), timeout=30)
            assert login.token and login.principal.committee_id == 2
        # The directory's own port refuses plaintext.
        with grpc.insecure_channel(f"127.0.0.1:{dport}") as channel:
            with pytest.raises(grpc.RpcError):
                gateway_pb2_grpc.GatewayServiceStub(channel).WhoAmI(gateway_pb2.WhoAmIRequest(), timeout=3)
    finally:
        gateway.stop()
        directory.stop()
