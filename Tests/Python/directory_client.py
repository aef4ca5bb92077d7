"""Helpers for calling the directory service from grpcio: principals, stubs, a served process."""
import hashlib
import hmac
import os
import uuid

import grpc

from conftest import ensure_generated, free_port, start_server, xieshang_bin

ensure_generated()
from xieshang.common.v1 import principal_pb2  # noqa: E402
from xieshang.directory.v1 import directory_pb2, directory_pb2_grpc  # noqa: E402
from xieshang.events.v1 import events_pb2  # noqa: E402

Role = principal_pb2.Role
PRINCIPAL_KEY = "x-xieshang-principal-bin"
SIGNATURE_KEY = "x-xieshang-signature-bin"


def signed(p, secret: str | None = None) -> tuple:
    """Metadata carrying principal `p` signed as the gateway signs it: HMAC-SHA-256 of its bytes
    under the SHA-256 of the shared secret."""
    body = p.SerializeToString()
    key = hashlib.sha256((secret or os.environ["XIESHANG_PRINCIPAL_SECRET"]).encode()).digest()
    return ((PRINCIPAL_KEY, body), (SIGNATURE_KEY, hmac.new(key, body, hashlib.sha256).digest()))


def principal(committee_id: int, *roles: int, account_id: int = 1, name: str = "测试") -> tuple:
    """Call metadata naming a principal (what the gateway will forward)."""
    p = principal_pb2.Principal(committee_id=committee_id, roles=list(roles), account_id=account_id,
                                display_name=name)
    return signed(p)


COUNTY = 2  # 长顺县, the second committee the demo creates


def who(role: int, member_id: int = 0, unit_id: int = 0, name: str = "测试", committee_id: int = COUNTY) -> tuple:
    """Call metadata for one role of the demo county, with the member or unit its account belongs to."""
    p = principal_pb2.Principal(committee_id=committee_id, roles=[role], account_id=0 if role == Role.ROLE_PUBLIC else 1,
                                member_id=member_id, unit_id=unit_id, display_name=name)
    return signed(p)


def serve_domain(service: str, directory_port: int, data_dir: str = "", database_url: str = "", schema: str = ""):
    """Start `xieshang serve <service>` against the directory on `directory_port`, on SQLite under
    `data_dir` or on a PostgreSQL schema; returns (process, port)."""
    port = free_port()
    argv = [xieshang_bin(), "serve", service, "--port", port, "--directory", f"127.0.0.1:{directory_port}"]
    if data_dir:
        argv += ["--data-dir", data_dir]
    if database_url:
        argv += ["--database-url", database_url, "--database-schema", schema]
    return start_server(argv, port, service), port


def postgres_url() -> str | None:
    return os.environ.get("XIESHANG_TEST_POSTGRES_URL") or None


def postgres_required() -> bool:
    return os.environ.get("XIESHANG_REQUIRE_POSTGRES") == "1"


def serve_directory(database_url: str = "", schema: str = "", data_dir: str = "", extra: list | None = None):
    """Start `xieshang serve directory` on a free port; returns (process, port)."""
    port = free_port()
    argv = [xieshang_bin(), "serve", "directory", "--port", port, "--password-hashing", "minimal"]
    if database_url:
        argv += ["--database-url", database_url]
    if schema:
        argv += ["--database-schema", schema]
    if data_dir:
        argv += ["--data-dir", data_dir]
    argv += extra or []
    return start_server(argv, port, "directory"), port


def stub(port: int):
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    return channel, directory_pb2_grpc.DirectoryServiceStub(channel)


def unique_schema(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"
