"""Shared helpers and fixtures for Xieshang's Python-side tests.

Two kinds of users:

* pytest, through the fixtures below;
* the standalone scripts in this folder (interop_server.py, interop_client.py,
  kinds_fixture.py), which do ``from conftest import ensure_generated`` and call
  it before importing any generated module.

Generated code
--------------
``ensure_generated()`` runs ``grpc_tools.protoc -I protos --python_out
--grpc_python_out`` over the repository's protos into a temporary directory and
makes the modules importable:

    from grpc.testing import empty_pb2, messages_pb2, test_pb2, test_pb2_grpc
    from xieshang.testing.v1 import kinds_pb2

Because the proto package ``grpc.testing`` lives under ``grpc/``, which is also
the name of the installed grpcio package, the generated ``grpc/`` directory is
appended to ``grpc.__path__`` so that ``grpc.testing`` resolves to it while
``grpc`` itself stays the real library.

grpc/health/v1/health.proto is deliberately *not* generated: the
grpcio-health-checking package already registers the same message names
(grpc.health.v1.*) in the protobuf descriptor pool, and registering them twice
is an error. Use ``grpc_health.v1.health_pb2`` / ``health_pb2_grpc`` instead;
they are wire-identical.

The output directory is exported as XIESHANG_PY_GEN_DIR so that child processes
(the standalone scripts started by the tests) reuse it instead of running protoc
again. Set XIESHANG_PY_GEN_DIR yourself to keep the generated code somewhere
permanent (for example Tests/Python/gen, which .gitignore already ignores).

Environment
-----------
XIESHANG_BIN            path of the xieshang executable
                        (default: <repo>/.build/debug/xieshang)
XIESHANG_REQUIRE_BIN=1  a missing executable (or a missing ``h2`` package) is a
                        test failure instead of a skip; CI sets this.
XIESHANG_SELFTEST_PY_SERVER=1
                        for developing these tests only: the "our server"
                        fixture starts interop_server.py (grpcio) instead of
                        ``xieshang interop-server``.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
PROTO_ROOT = REPO_ROOT / "protos"

# Proto files (relative to PROTO_ROOT) compiled for the tests. See the module
# docstring for why grpc/health/v1/health.proto is not in this list.
PROTO_FILES = (
    "grpc/testing/empty.proto",
    "grpc/testing/messages.proto",
    "grpc/testing/test.proto",
    "xieshang/testing/v1/kinds.proto",
    "xieshang/common/v1/principal.proto",
    "xieshang/events/v1/events.proto",
    "xieshang/directory/v1/directory.proto",
    "xieshang/intake/v1/intake.proto",
    "xieshang/consultation/v1/consultation.proto",
    "xieshang/proposal/v1/proposal.proto",
    "xieshang/analytics/v1/analytics.proto",
    "xieshang/notify/v1/notify.proto",
    "xieshang/gateway/v1/gateway.proto",
)

# The secret every `xieshang serve` process started by the tests shares (children inherit it);
# principals the tests send straight to a service are signed with it, as the gateway signs them.
PRINCIPAL_SECRET_ENV = "XIESHANG_PRINCIPAL_SECRET"
os.environ.setdefault(PRINCIPAL_SECRET_ENV, "xieshang-test-principal-secret")

GEN_ENV = "XIESHANG_PY_GEN_DIR"
_MARKER = ".xieshang-generated"

SERVER_READY_TIMEOUT = 30.0

# ---------------------------------------------------------------------------
# Code generation
# ---------------------------------------------------------------------------

_gen_lock = threading.Lock()
_gen_dir: Path | None = None


def _protos_fingerprint() -> str:
    import hashlib

    digest = hashlib.sha256()
    for name in PROTO_FILES:
        digest.update(name.encode())
        digest.update((PROTO_ROOT / name).read_bytes())
    return digest.hexdigest()


def _is_current(out: Path) -> bool:
    try:
        return (out / _MARKER).read_text().strip() == _protos_fingerprint()
    except OSError:
        return False


def _run_protoc(out: Path) -> None:
    from grpc_tools import protoc  # imported lazily: only needed here

    well_known = Path(protoc.__file__).resolve().parent / "_proto"
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        *(str(PROTO_ROOT / f) for f in PROTO_FILES),
    ]
    rc = protoc.main(args)
    if rc != 0:
        raise RuntimeError(f"grpc_tools.protoc failed with exit code {rc}: {' '.join(args)}")
    # Regular packages for the generated tree (grpc/ itself gets none: it is
    # grafted onto the real grpc package instead).
    for pkg in ("grpc/testing", "xieshang", "xieshang/testing", "xieshang/testing/v1", "xieshang/common",
                "xieshang/common/v1", "xieshang/events", "xieshang/events/v1", "xieshang/directory",
                "xieshang/directory/v1"):
        (out / pkg / "__init__.py").touch()
    (out / _MARKER).write_text(_protos_fingerprint() + "\n")


def _install_on_path(out: Path) -> None:
    if str(out) not in sys.path:
        sys.path.insert(0, str(out))
    import grpc

    grpc_part = str(out / "grpc")
    if grpc_part not in list(grpc.__path__):
        grpc.__path__.append(grpc_part)


def ensure_generated() -> Path:
    """Generate (once per process) the Python modules for the repo's protos.

    Returns the output directory, already importable. Idempotent and cheap on
    repeated calls; reuses $XIESHANG_PY_GEN_DIR when it already holds a
    complete generation.
    """
    global _gen_dir
    with _gen_lock:
        if _gen_dir is not None:
            return _gen_dir
        out: Path
        preset = os.environ.get(GEN_ENV)
        if preset and _is_current(Path(preset)):
            out = Path(preset)
        elif preset:  # missing, or generated from older protos
            out = Path(preset)
            out.mkdir(parents=True, exist_ok=True)
            _run_protoc(out)
        else:
            out = Path(tempfile.mkdtemp(prefix="xieshang-pygen-"))
            atexit.register(shutil.rmtree, out, True)
            _run_protoc(out)
            os.environ[GEN_ENV] = str(out)  # inherited by child processes
        _install_on_path(out)
        _gen_dir = out
        return out


def generated_modules() -> SimpleNamespace:
    """All generated modules (plus grpcio's health modules) in one namespace."""
    ensure_generated()
    from grpc.testing import empty_pb2, messages_pb2, test_pb2, test_pb2_grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from xieshang.testing.v1 import kinds_pb2

    return SimpleNamespace(
        empty_pb2=empty_pb2,
        messages_pb2=messages_pb2,
        test_pb2=test_pb2,
        test_pb2_grpc=test_pb2_grpc,
        health_pb2=health_pb2,
        health_pb2_grpc=health_pb2_grpc,
        kinds_pb2=kinds_pb2,
    )


# ---------------------------------------------------------------------------
# The xieshang executable
# ---------------------------------------------------------------------------


def xieshang_bin() -> Path:
    """Path of the xieshang executable: $XIESHANG_BIN or <repo>/.build/debug/xieshang."""
    env = os.environ.get("XIESHANG_BIN")
    return Path(env) if env else REPO_ROOT / ".build" / "debug" / "xieshang"


def bin_required() -> bool:
    return os.environ.get("XIESHANG_REQUIRE_BIN") == "1"


def skip_or_fail(reason: str) -> None:
    """Fail when XIESHANG_REQUIRE_BIN=1 (CI), otherwise skip."""
    if bin_required():
        pytest.fail(reason + " (XIESHANG_REQUIRE_BIN=1, so this is a failure)", pytrace=False)
    pytest.skip(reason)


def require_xieshang_bin() -> Path:
    path = xieshang_bin()
    if not (path.is_file() and os.access(path, os.X_OK)):
        skip_or_fail(
            f"xieshang executable not found at {path} "
            "(build it with `swift build` or set XIESHANG_BIN)"
        )
    return path


def selftest_python_server() -> bool:
    return os.environ.get("XIESHANG_SELFTEST_PY_SERVER") == "1"


# ---------------------------------------------------------------------------
# Processes and ports
# ---------------------------------------------------------------------------


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_accepts(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


_live_processes: list["ServerProcess"] = []
_live_lock = threading.Lock()


class ServerProcess:
    """A subprocess server; stdout/stderr go to temp files (never a pipe that
    could fill up and block the server)."""

    def __init__(self, argv: list[str], host: str, port: int, name: str, env: dict | None = None):
        self.argv = [str(a) for a in argv]
        self.host = host
        self.port = port
        self.name = name
        self._logdir = Path(tempfile.mkdtemp(prefix="xieshang-srv-"))
        self.stdout_path = self._logdir / "stdout"
        self.stderr_path = self._logdir / "stderr"
        self._out = open(self.stdout_path, "wb")
        self._err = open(self.stderr_path, "wb")
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=self._err,
            env=full_env,
            cwd=str(REPO_ROOT),
            start_new_session=True,  # its own process group, killed as a unit
        )
        with _live_lock:
            _live_processes.append(self)

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def output(self) -> str:
        def tail(p: Path, limit: int = 20000) -> str:
            try:
                data = p.read_bytes()
            except OSError:
                return ""
            text = data[-limit:].decode("utf-8", "replace")
            return ("...[truncated]...\n" if len(data) > limit else "") + text

        return (
            f"--- {self.name} command: {' '.join(self.argv)}\n"
            f"--- {self.name} exit code: {self.proc.poll()}\n"
            f"--- {self.name} stderr:\n{tail(self.stderr_path)}\n"
            f"--- {self.name} stdout:\n{tail(self.stdout_path)}"
        )

    def wait_ready(self, timeout: float = SERVER_READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                msg = f"{self.name} exited before accepting connections on {self.address}\n{self.output()}"
                self.stop()
                raise RuntimeError(msg)
            if port_accepts(self.host, self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"{self.name} did not accept connections on {self.address} within {timeout:.0f} s\n{self.output()}"
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def rss_bytes(self) -> int | None:
        """Resident set size of the server process (Linux), or None."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            return None
        return None

    def stop(self) -> None:
        if self.proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        else:
            # The leader is gone; make sure nothing it started lingers.
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for f in (self._out, self._err):
            try:
                f.close()
            except OSError:
                pass
        with _live_lock:
            if self in _live_processes:
                _live_processes.remove(self)

    def cleanup_logs(self) -> None:
        shutil.rmtree(self._logdir, ignore_errors=True)


def start_server(argv: list, port: int, name: str, host: str = "127.0.0.1",
                 timeout: float = SERVER_READY_TIMEOUT, env: dict | None = None) -> ServerProcess:
    """Start a server subprocess and wait until host:port accepts connections.

    Raises RuntimeError (showing the process's stderr) if it exits or does not
    become ready within `timeout` seconds; the process is killed in that case.
    """
    server = ServerProcess(list(argv), host, port, name, env=env)
    server.wait_ready(timeout)
    return server


UP_TOKEN_LINE = re.compile(r"^  (.+?)\s{2,}(\S+)\s+(xst_\S+)$", re.M)
UP_SERVICE_LINE = re.compile(r"^  (\w+) on (\S+)$", re.M)


class UpProcess(SimpleNamespace):
    """`xieshang up` started by ``start_up``: the server process, and what it printed."""

    @property
    def tokens(self) -> dict[str, str]:
        """Username → the demo API token `up` printed for it."""
        return {m.group(2): m.group(3) for m in UP_TOKEN_LINE.finditer(self.server.output())}

    @property
    def addresses(self) -> dict[str, str]:
        """Service name → the loopback address `up` started it on."""
        return dict(UP_SERVICE_LINE.findall(self.server.output()))


def start_up(data_dir: str, port: int, env: dict | None = None, secret: str | None = None) -> UpProcess:
    """`xieshang up` on `port` and `data_dir` with minimal password hashing, once it has printed
    its demo tokens. `up` makes its own principal secret unless `secret` is given; `env` adds
    variables (XIESHANG_CORS_ORIGINS, XIESHANG_TLS_CERT, …)."""
    full = dict(os.environ)
    full.pop("XIESHANG_PRINCIPAL_SECRET", None)
    if secret:
        full["XIESHANG_PRINCIPAL_SECRET"] = secret
    full.update(env or {})
    argv = [require_xieshang_bin(), "up", "--port", port, "--data-dir", data_dir, "--password-hashing", "minimal"]
    server = start_server(argv, port, "up", timeout=180, env=full)
    deadline = time.time() + 60
    while "demo tokens" not in server.output() and time.time() < deadline:
        time.sleep(0.1)
    return UpProcess(server=server, port=port)


def _kill_all() -> None:
    with _live_lock:
        procs = list(_live_processes)
    for p in procs:
        p.stop()


atexit.register(_kill_all)


def start_python_interop_server() -> ServerProcess:
    ensure_generated()
    port = free_port()
    return start_server(
        [sys.executable, HERE / "interop_server.py", "--port", port],
        port, "python interop_server.py",
    )


def start_our_interop_server() -> ServerProcess:
    """`xieshang interop-server --port N` (or, for self-tests, the Python one)."""
    if selftest_python_server():
        return start_python_interop_server()
    binary = require_xieshang_bin()
    port = free_port()
    return start_server([binary, "interop-server", "--port", port], port, "xieshang interop-server")


def run_checked(argv: list, timeout: float, what: str) -> subprocess.CompletedProcess:
    """Run a client subprocess; fail the test (with its output) unless it exits 0."""
    argv = [str(a) for a in argv]
    try:
        cp = subprocess.run(argv, capture_output=True, timeout=timeout, cwd=str(REPO_ROOT))
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace")
        err = (e.stderr or b"").decode("utf-8", "replace")
        pytest.fail(f"{what} did not finish within {timeout} s\n$ {' '.join(argv)}\n"
                    f"--- stdout:\n{out}\n--- stderr:\n{err}", pytrace=False)
    if cp.returncode != 0:
        pytest.fail(
            f"{what} exited with {cp.returncode}\n$ {' '.join(argv)}\n"
            f"--- stdout:\n{cp.stdout.decode('utf-8', 'replace')}\n"
            f"--- stderr:\n{cp.stderr.decode('utf-8', 'replace')}",
            pytrace=False,
        )
    return cp


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def generated() -> SimpleNamespace:
    """The generated protobuf/gRPC modules (see generated_modules())."""
    return generated_modules()


@pytest.fixture(scope="session")
def pb(generated) -> SimpleNamespace:
    return generated


@pytest.fixture(scope="session")
def xieshang() -> Path:
    """Path of the xieshang executable (skip, or fail under XIESHANG_REQUIRE_BIN=1)."""
    return require_xieshang_bin()


def _server_fixture(starter):
    try:
        server = starter()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        yield server
    finally:
        server.stop()
        server.cleanup_logs()


@pytest.fixture(scope="module")
def our_server(generated):
    """`xieshang interop-server`, started once per test module."""
    yield from _server_fixture(start_our_interop_server)


@pytest.fixture(scope="module")
def py_server(generated):
    """interop_server.py (grpcio reference), started once per test module."""
    yield from _server_fixture(start_python_interop_server)


@pytest.fixture(scope="session", autouse=True)
def _kill_leftover_processes():
    yield
    _kill_all()
