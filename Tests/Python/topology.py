"""The docker-compose.yml topology as local processes, for tests and for trying it without Docker.

``Topology`` reads docker-compose.yml and starts every Xieshang service in it (each service built
from the image, i.e. every one but PostgreSQL) as ``xieshang`` processes, in ``depends_on`` order,
each with exactly the compose ``command`` and ``environment`` but for these rewrites:

* ``XIESHANG_HOST`` is ``127.0.0.1`` and ``XIESHANG_PORT`` a free port of its own per process;
* a value naming compose services as ``host:port`` (one, or a comma-separated list) names
  ``127.0.0.1:<port>`` of every replica of each of those services instead, so with two proposal
  replicas ``XIESHANG_PROPOSALS=proposals:50063`` becomes ``127.0.0.1:A,127.0.0.1:B`` (the port
  written in compose must be the one that service listens on; otherwise it is an error);
* ``XIESHANG_DATABASE_URL`` (when compose gives one) is the test PostgreSQL server's URL, and
  ``XIESHANG_DATABASE_SCHEMA`` the compose schema (default: the service's name) behind a prefix
  unique to this topology (``t<10 hex>_proposals``), so topologies never share data;
* ``XIESHANG_DATA_DIR`` (``/data`` in the image) is a temporary folder per service, shared by its
  replicas;
* ``${VAR}`` references in compose are filled from this process's environment, as compose fills
  them; ``XIESHANG_PRINCIPAL_SECRET`` is the one passed in, else this process's (conftest.py sets
  one for the tests, so principals signed by directory_client.py are accepted), else random;
* optionally ``XIESHANG_PASSWORD_HASHING=minimal`` for every process (tests only).

Nothing else of this process's environment that starts with ``XIESHANG_`` reaches the children.

PostgreSQL: the URL passed in, else ``$XIESHANG_TEST_POSTGRES_URL`` (what ``scripts/pg-server.sh
start`` prints; ``make test`` sets it), else a throwaway server this topology starts with
``scripts/pg-server.sh`` in a temporary folder on a free port and stops at the end.

    with Topology(replicas={"proposals": 2}, password_hashing="minimal") as t:
        channel = grpc.insecure_channel(t.gateway_address)
        t.stop("proposals", 1)      # a dead replica
        t.start("proposals", 1)     # and its recovery, on the same port

A process is ready when its port accepts connections and ``grpc.health.v1.Health/Check`` answers
SERVING for the whole server.

Command line (prints the addresses, then runs until Ctrl-C):

    python3 Tests/Python/topology.py --replicas proposals=2 [--minimal-hashing]
"""
from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import yaml

import conftest
from conftest import REPO_ROOT, ServerProcess, free_port, port_accepts, xieshang_bin

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"

#: The image every Xieshang service is built as; a compose service with another image (PostgreSQL)
#: is not started by the runner.
IMAGE = "xieshang:latest"

#: `xieshang serve <name>`: the processes there are, with the port each listens on by default.
DEFAULT_PORTS = {
    "gateway": 50060,
    "directory": 50061,
    "intake": 50062,
    "proposals": 50063,
    "consultation": 50064,
    "analytics": 50065,
    "notify": 50066,
}

#: The variables naming where another service is (host:port, or a comma-separated list).
ADDRESS_VARIABLES = {
    "XIESHANG_DIRECTORY": "directory",
    "XIESHANG_INTAKE": "intake",
    "XIESHANG_PROPOSALS": "proposals",
    "XIESHANG_CONSULTATION": "consultation",
    "XIESHANG_ANALYTICS": "analytics",
    "XIESHANG_NOTIFY": "notify",
}

LOOPBACK = "127.0.0.1"
READY_TIMEOUT = 300.0  # the directory creates the demo prefecture before it listens

# ---------------------------------------------------------------------------
# Reading compose (pure)
# ---------------------------------------------------------------------------

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<word>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


def interpolate(value: str, variables: Mapping[str, str]) -> str:
    """Compose's variable substitution: ``$$``, ``$VAR``, ``${VAR}``, ``${VAR:-default}``,
    ``${VAR-default}``, ``${VAR:?error}``, ``${VAR?error}``, ``${VAR:+other}``, ``${VAR+other}``.
    A missing required variable raises ValueError with compose's message."""

    def substitute(m: re.Match) -> str:
        if m.group("escaped"):
            return "$"
        name = m.group("bare") or m.group("braced")
        op, word = m.group("op"), m.group("word") or ""
        present = name in variables
        current = variables.get(name, "")
        if op is None:
            return current
        empty_counts = op.startswith(":")
        unset = (not present) or (empty_counts and current == "")
        kind = op[-1]
        if kind == "-":
            return word if unset else current
        if kind == "?":
            if unset:
                raise ValueError(f"required variable {name} is missing a value: {word}")
            return current
        return "" if unset else word  # "+"

    return _VARIABLE.sub(substitute, value)


def load_compose(path: Path | str = COMPOSE_FILE) -> dict:
    """docker-compose.yml as data (YAML anchors and merge keys resolved)."""
    with open(path, encoding="utf-8") as f:
        compose = yaml.safe_load(f)
    if not isinstance(compose, dict) or not isinstance(compose.get("services"), dict):
        raise ValueError(f"{path}: no services")
    return compose


def _scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def compose_environment(service: Mapping, variables: Mapping[str, str] | None = None) -> dict[str, str]:
    """A compose service's `environment` (mapping or list form) as strings. With `variables`,
    values are interpolated and pass-through entries (a name without a value) are taken from
    them; without, values are the raw text of the file and pass-through entries are left out."""
    raw = service.get("environment") or {}
    items: list[tuple[str, object]] = []
    if isinstance(raw, Mapping):
        items = list(raw.items())
    else:
        for entry in raw:
            name, sep, value = str(entry).partition("=")
            items.append((name, value if sep else None))
    env: dict[str, str] = {}
    for name, value in items:
        if value is None:
            if variables is not None and name in variables:
                env[name] = variables[name]
            continue
        text = _scalar(value)
        env[name] = interpolate(text, variables) if variables is not None else text
    return env


def compose_command(service: Mapping) -> list[str]:
    command = service.get("command")
    if isinstance(command, str):
        import shlex

        return shlex.split(command)
    return [_scalar(a) for a in (command or [])]


def is_xieshang_service(service: Mapping) -> bool:
    """A service run from the Xieshang image (the rest, PostgreSQL, the runner replaces)."""
    return service.get("image") == IMAGE or "build" in service


def xieshang_services(compose: Mapping) -> dict[str, dict]:
    return {name: svc for name, svc in compose["services"].items() if is_xieshang_service(svc)}


def served_name(service: Mapping) -> str:
    """The `xieshang serve <name>` a service runs (its default port and database schema)."""
    command = compose_command(service)
    if len(command) < 2 or command[0] != "serve":
        raise ValueError(f"command {command} is not `serve <service>`")
    return command[1]


def container_port(service: Mapping) -> int:
    """The port a compose service listens on inside its container."""
    env = compose_environment(service)
    if "XIESHANG_PORT" in env:
        return int(env["XIESHANG_PORT"])
    return DEFAULT_PORTS[served_name(service)]


def depends_on(service: Mapping) -> list[str]:
    deps = service.get("depends_on") or []
    return list(deps.keys()) if isinstance(deps, Mapping) else list(deps)


def start_order(compose: Mapping) -> list[str]:
    """The Xieshang services, each after everything it depends on (compose order among equals)."""
    services = xieshang_services(compose)
    names = list(services)
    sorter = TopologicalSorter()
    for name in names:
        for dep in depends_on(services[name]):
            if dep not in compose["services"]:
                raise ValueError(f"{name} depends on {dep}, which is not a compose service")
        sorter.add(name, *[d for d in depends_on(services[name]) if d in services])
    try:
        sorter.prepare()
    except CycleError as e:
        raise ValueError(f"depends_on has a cycle: {e.args[1]}") from None
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=names.index)
        order.extend(ready)
        sorter.done(*ready)
    return order


# ---------------------------------------------------------------------------
# The rewrite (pure): compose environment in, process environment out
# ---------------------------------------------------------------------------

_ADDRESS = re.compile(r"^(?P<host>[A-Za-z0-9][A-Za-z0-9._-]*):(?P<port>[0-9]{1,5})$")


def rewrite_addresses(value: str, replica_ports: Mapping[str, Sequence[int]],
                      container_ports: Mapping[str, int], host: str = LOOPBACK) -> str:
    """`value` with every `service:port` entry naming a compose service replaced by
    `host:<port>` of each of that service's replicas. A value that is not a comma-separated
    list of host:port entries, or names no compose service, comes back as it is. A compose
    service named with a port it does not listen on, or one the runner does not start,
    is a ValueError."""
    entries = [e.strip() for e in value.split(",")]
    matches = [_ADDRESS.match(e) for e in entries]
    if not entries or not all(matches) or not any(m.group("host") in container_ports or m.group("host") in replica_ports
                                                     for m in matches):
        return value
    out: list[str] = []
    for m in matches:
        name, port = m.group("host"), int(m.group("port"))
        if name not in replica_ports:
            if name in container_ports:
                raise ValueError(f"'{value}' names {name}, which the runner does not start")
            out.append(m.group(0))
            continue
        if port != container_ports[name]:
            raise ValueError(f"'{value}' names {name}:{port}, but {name} listens on {container_ports[name]}")
        for p in replica_ports[name]:
            address = f"{host}:{p}"
            if address not in out:
                out.append(address)
    return ",".join(out)


def process_environment(compose_env: Mapping[str, str], *, serve_as: str, port: int,
                        replica_ports: Mapping[str, Sequence[int]], container_ports: Mapping[str, int],
                        database_url: str, schema_prefix: str, data_dir: str,
                        password_hashing: str | None = None) -> dict[str, str]:
    """The environment of one process of a compose service, from that service's (interpolated)
    compose environment:

    * XIESHANG_HOST=127.0.0.1, XIESHANG_PORT=`port`;
    * service:port values → 127.0.0.1:<port> of each replica (``rewrite_addresses``);
    * a non-empty XIESHANG_DATABASE_URL → `database_url`, and then XIESHANG_DATABASE_SCHEMA →
      `<schema_prefix>_<compose schema, or serve_as>`;
    * XIESHANG_DATA_DIR → `data_dir`;
    * XIESHANG_PASSWORD_HASHING → `password_hashing` when given;
    * everything else as compose has it.
    """
    env: dict[str, str] = {}
    for name, value in compose_env.items():
        if name in ("XIESHANG_DATABASE_URL", "XIESHANG_DATABASE_SCHEMA"):
            continue
        env[name] = rewrite_addresses(value, replica_ports, container_ports)
    compose_url = compose_env.get("XIESHANG_DATABASE_URL", "")
    if compose_url.strip():
        if not compose_url.startswith(("postgres://", "postgresql://")):
            raise ValueError(f"XIESHANG_DATABASE_URL '{compose_url}' is not a PostgreSQL URL")
        env["XIESHANG_DATABASE_URL"] = database_url
        schema = compose_env.get("XIESHANG_DATABASE_SCHEMA") or serve_as
        env["XIESHANG_DATABASE_SCHEMA"] = f"{schema_prefix}_{schema}"
    else:
        if "XIESHANG_DATABASE_URL" in compose_env:
            env["XIESHANG_DATABASE_URL"] = compose_url
        if "XIESHANG_DATABASE_SCHEMA" in compose_env:
            env["XIESHANG_DATABASE_SCHEMA"] = compose_env["XIESHANG_DATABASE_SCHEMA"]
    env["XIESHANG_HOST"] = LOOPBACK
    env["XIESHANG_PORT"] = str(port)
    env["XIESHANG_DATA_DIR"] = data_dir
    if password_hashing is not None:
        env["XIESHANG_PASSWORD_HASHING"] = password_hashing
    return env


@dataclass
class ProcessPlan:
    """How one replica of one compose service is started."""

    service: str
    replica: int
    port: int
    arguments: list[str]  # after the executable: exactly compose's command, addresses rewritten
    environment: dict[str, str]  # exactly what the child gets under XIESHANG_*
    data_dir: str

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"


def plan(compose: Mapping, *, replica_ports: Mapping[str, Sequence[int]], database_url: str,
         schema_prefix: str, data_root: str, principal_secret: str,
         password_hashing: str | None = None, variables: Mapping[str, str] | None = None) -> dict[str, list[ProcessPlan]]:
    """Every process of the services in `replica_ports` (their start order), without starting
    any. `variables` fill compose's ${...} (default: this process's environment);
    XIESHANG_PRINCIPAL_SECRET is always `principal_secret`."""
    services = xieshang_services(compose)
    values = dict(os.environ if variables is None else variables)
    values["XIESHANG_PRINCIPAL_SECRET"] = principal_secret
    container_ports = {name: container_port(svc) for name, svc in services.items()}
    # Compose services the runner replaces (PostgreSQL): known hosts, never rewritten.
    for name in compose["services"]:
        container_ports.setdefault(name, -1)
    result: dict[str, list[ProcessPlan]] = {}
    for name in start_order(compose):
        if name not in replica_ports:
            continue
        svc = services[name]
        command = compose_command(svc)
        for flag in ("--host", "--port"):
            if any(a == flag or a.startswith(flag + "=") for a in command):
                raise ValueError(f"{name}: the command sets {flag}; compose must configure it by environment")
        serve_as = served_name(svc)
        env_in = compose_environment(svc, values)
        arguments = [rewrite_addresses(interpolate(a, values), replica_ports, container_ports) for a in command]
        data_dir = str(Path(data_root) / name)
        result[name] = [
            ProcessPlan(
                service=name, replica=i, port=port, arguments=arguments, data_dir=data_dir,
                environment=process_environment(
                    env_in, serve_as=serve_as, port=port, replica_ports=replica_ports,
                    container_ports=container_ports, database_url=database_url,
                    schema_prefix=schema_prefix, data_dir=data_dir, password_hashing=password_hashing),
            )
            for i, port in enumerate(replica_ports[name])
        ]
    return result


# ---------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------


class ServiceProcess(ServerProcess):
    """A ServerProcess whose XIESHANG_* environment is exactly `env`: nothing starting with
    XIESHANG_ is inherited from this process."""

    def __init__(self, argv: list, host: str, port: int, name: str, env: Mapping[str, str]):
        self.argv = [str(a) for a in argv]
        self.host = host
        self.port = port
        self.name = name
        self.environment = dict(env)
        self._logdir = Path(tempfile.mkdtemp(prefix="xieshang-srv-"))
        self.stdout_path = self._logdir / "stdout"
        self.stderr_path = self._logdir / "stderr"
        self._out = open(self.stdout_path, "wb")
        self._err = open(self.stderr_path, "wb")
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("XIESHANG_")}
        full_env.update(self.environment)
        self.proc = subprocess.Popen(
            self.argv, stdin=subprocess.DEVNULL, stdout=self._out, stderr=self._err, env=full_env,
            cwd=str(REPO_ROOT), start_new_session=True,
        )
        with conftest._live_lock:  # killed at exit like every server the tests start
            conftest._live_processes.append(self)


def health_serving(address: str, timeout: float = 2.0) -> bool | None:
    """Whether grpc.health.v1.Health/Check("") at `address` answers SERVING; None when grpcio's
    health package is not installed (then an accepting port has to do)."""
    try:
        import grpc
        from grpc_health.v1 import health_pb2, health_pb2_grpc
    except ImportError:
        return None
    channel = grpc.insecure_channel(address)
    try:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
        return reply.status == health_pb2.HealthCheckResponse.SERVING
    except grpc.RpcError:
        return False
    finally:
        channel.close()


def wait_ready(process: ServerProcess, timeout: float) -> None:
    """Until `process` accepts connections and reports SERVING; RuntimeError (with its output)
    if it exits or takes longer than `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.proc.poll() is not None:
            raise RuntimeError(f"{process.name} exited before it was ready on {process.address}\n{process.output()}")
        if port_accepts(process.host, process.port) and health_serving(process.address) is not False:
            return
        time.sleep(0.1)
    raise RuntimeError(f"{process.name} was not ready on {process.address} within {timeout:.0f} s\n{process.output()}")


def _psql() -> str | None:
    found = shutil.which("psql")
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/psql"))
    return str(candidates[-1]) if candidates else None


class Topology:
    """docker-compose.yml's services as local processes (see the module's description).

    `replicas`: processes per service (default 1 each). `services`: start only these and what
    they depend on (default: every Xieshang service in compose). `database_url`: the PostgreSQL
    server (default $XIESHANG_TEST_POSTGRES_URL, else one started here). `password_hashing`:
    "minimal" for tests. `principal_secret`: the shared signing secret (default
    $XIESHANG_PRINCIPAL_SECRET, else random).
    """

    def __init__(self, replicas: Mapping[str, int] | None = None, *, services: Iterable[str] | None = None,
                 compose_file: Path | str = COMPOSE_FILE, binary: Path | str | None = None,
                 database_url: str | None = None, password_hashing: str | None = None,
                 principal_secret: str | None = None, ready_timeout: float = READY_TIMEOUT,
                 keep_logs: bool = False, drop_schemas: bool = True):
        self.compose = load_compose(compose_file)
        known = xieshang_services(self.compose)
        replicas = dict(replicas or {})
        for name, n in replicas.items():
            if name not in known:
                raise ValueError(f"no Xieshang service '{name}' in {compose_file} (there are: {', '.join(known)})")
            if int(n) < 1:
                raise ValueError(f"{name}: at least one replica")
        wanted = set(known) if services is None else self._with_dependencies(services, known)
        self.replicas = {name: int(replicas.get(name, 1)) for name in start_order(self.compose) if name in wanted}
        self.binary = Path(binary) if binary else xieshang_bin()
        self.password_hashing = password_hashing
        self.principal_secret = (principal_secret or os.environ.get("XIESHANG_PRINCIPAL_SECRET")
                                 or secrets.token_hex(32))
        self.ready_timeout = ready_timeout
        self.keep_logs = keep_logs
        self.drop_schemas = drop_schemas
        self.schema_prefix = "t" + uuid.uuid4().hex[:10]
        self._database_url = database_url or os.environ.get("XIESHANG_TEST_POSTGRES_URL") or None
        self._own_pg: dict[str, str] | None = None
        self._tmp: Path | None = None
        self.plans: dict[str, list[ProcessPlan]] = {}
        self.processes: dict[str, list[ServiceProcess | None]] = {}
        self._lock = threading.RLock()

    @staticmethod
    def _with_dependencies(services: Iterable[str], known: Mapping[str, dict]) -> set[str]:
        wanted: set[str] = set()
        todo = list(services)
        while todo:
            name = todo.pop()
            if name not in known:
                raise ValueError(f"no Xieshang service '{name}' in compose")
            if name not in wanted:
                wanted.add(name)
                todo.extend(d for d in depends_on(known[name]) if d in known)
        return wanted

    # -- lifecycle ---------------------------------------------------------

    def __enter__(self) -> "Topology":
        self.up()
        return self

    def __exit__(self, *exc) -> None:
        self.down()

    def up(self) -> None:
        """Starts PostgreSQL if needed, then every service in dependency order, each ready
        before the next; on failure stops what it started and raises RuntimeError."""
        try:
            self._tmp = Path(tempfile.mkdtemp(prefix="xieshang-topology-"))
            if not self._database_url:
                self._database_url = self._start_postgres()
            ports = self._allocate_ports()
            self.plans = plan(self.compose, replica_ports=ports, database_url=self._database_url,
                              schema_prefix=self.schema_prefix, data_root=str(self._tmp / "data"),
                              principal_secret=self.principal_secret, password_hashing=self.password_hashing)
            for name, plans in self.plans.items():
                self.processes[name] = [None] * len(plans)
                Path(plans[0].data_dir).mkdir(parents=True, exist_ok=True)
                for p in plans:
                    self._spawn(p)
                for p in plans:
                    self._wait(p)
        except BaseException:
            self.down()
            raise

    def down(self) -> None:
        """Stops every process (dependents first), the own PostgreSQL server, removes temporary
        files. Safe to call twice."""
        with self._lock:
            for name in reversed(list(self.processes)):
                for process in self.processes[name]:
                    if process is not None:
                        process.stop()
                        if not self.keep_logs:
                            process.cleanup_logs()
            self.processes = {}
        if self._own_pg is not None:
            subprocess.run(["bash", str(REPO_ROOT / "scripts" / "pg-server.sh"), "stop"],
                           env={**os.environ, **self._own_pg}, capture_output=True, timeout=120)
            shutil.rmtree(self._own_pg["XIESHANG_PG_DIR"], ignore_errors=True)
            self._own_pg = None
            self._database_url = None
        elif self.drop_schemas and self.plans and self._database_url:
            self._drop_schemas()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def stop(self, service: str, replica: int = 0) -> None:
        """Stops one process (SIGTERM, then SIGKILL after 5 s); its port stays reserved for start()."""
        with self._lock:
            process = self._slot(service, replica)
            if process is not None:
                process.stop()
                if not self.keep_logs:
                    process.cleanup_logs()
                self.processes[service][replica] = None

    def start(self, service: str, replica: int = 0) -> None:
        """Starts a stopped process again with the same command, environment and port, and waits
        until it is ready. A running one is left alone."""
        with self._lock:
            if self._slot(service, replica) is not None:
                return
            p = self.plans[service][replica]
            self._spawn(p)
        self._wait(p)

    def restart(self, service: str, replica: int = 0) -> None:
        self.stop(service, replica)
        self.start(service, replica)

    # -- what tests read ---------------------------------------------------

    @property
    def gateway_address(self) -> str:
        return self.address("gateway")

    @property
    def database_url(self) -> str | None:
        return self._database_url

    def address(self, service: str, replica: int = 0) -> str:
        return self.plans[service][replica].address

    def addresses(self, service: str) -> list[str]:
        return [p.address for p in self.plans[service]]

    def port(self, service: str, replica: int = 0) -> int:
        return self.plans[service][replica].port

    def environment(self, service: str, replica: int = 0) -> dict[str, str]:
        return dict(self.plans[service][replica].environment)

    def schema(self, service: str) -> str | None:
        return self.plans[service][0].environment.get("XIESHANG_DATABASE_SCHEMA")

    def process(self, service: str, replica: int = 0) -> ServiceProcess | None:
        """The running process, or None while it is stopped."""
        return self._slot(service, replica)

    def alive(self, service: str, replica: int = 0) -> bool:
        process = self._slot(service, replica)
        return process is not None and process.alive()

    def logs(self, service: str, replica: int = 0) -> str:
        process = self._slot(service, replica)
        return process.output() if process is not None else f"{service}[{replica}] is stopped"

    # -- internals ---------------------------------------------------------

    def _slot(self, service: str, replica: int) -> ServiceProcess | None:
        if service not in self.plans or not 0 <= replica < len(self.plans[service]):
            raise KeyError(f"no process {service}[{replica}] in this topology")
        return self.processes[service][replica]

    def _allocate_ports(self) -> dict[str, list[int]]:
        taken: set[int] = set()
        ports: dict[str, list[int]] = {}
        for name, n in self.replicas.items():
            ports[name] = []
            for _ in range(n):
                port = free_port()
                while port in taken:
                    port = free_port()
                taken.add(port)
                ports[name].append(port)
        return ports

    def _spawn(self, p: ProcessPlan) -> None:
        name = p.service if len(self.plans[p.service]) == 1 else f"{p.service}[{p.replica}]"
        process = ServiceProcess([self.binary, *p.arguments], LOOPBACK, p.port, name, p.environment)
        self.processes[p.service][p.replica] = process

    def _wait(self, p: ProcessPlan) -> None:
        process = self.processes[p.service][p.replica]
        try:
            wait_ready(process, self.ready_timeout)
        except RuntimeError:
            process.stop()
            raise

    def _start_postgres(self) -> str:
        settings = {"XIESHANG_PG_DIR": f"/tmp/xieshang-topology-pg-{uuid.uuid4().hex[:10]}",
                    "XIESHANG_PG_PORT": str(free_port())}
        self._own_pg = settings
        done = subprocess.run(["bash", str(REPO_ROOT / "scripts" / "pg-server.sh"), "start"],
                              env={**os.environ, **settings}, capture_output=True, text=True, timeout=180)
        if done.returncode != 0:
            raise RuntimeError(f"scripts/pg-server.sh start failed ({done.returncode}):\n{done.stderr}{done.stdout}")
        return done.stdout.strip().splitlines()[-1]

    def _drop_schemas(self) -> None:
        psql = _psql()
        schemas = {p[0].environment.get("XIESHANG_DATABASE_SCHEMA") for p in self.plans.values()} - {None}
        if not psql or not schemas:
            return
        sql = "; ".join(f'DROP SCHEMA IF EXISTS "{s}" CASCADE' for s in sorted(schemas))
        try:
            subprocess.run([psql, self._database_url, "-qAt", "-c", sql], capture_output=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            pass  # best effort: the names are unique anyway


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def _parse_replicas(values: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for value in values:
        for item in value.split(","):
            name, sep, n = item.strip().partition("=")
            if not sep or not n.isdigit():
                raise argparse.ArgumentTypeError(f"'{item}' is not service=N")
            out[name] = int(n)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run docker-compose.yml's topology as local processes until Ctrl-C.")
    parser.add_argument("--replicas", action="append", default=[], metavar="SERVICE=N",
                        help="replicas of a service (repeatable, or comma-separated), e.g. proposals=2")
    parser.add_argument("--services", default="", help="comma-separated services to start (with what they depend on)")
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL server (default $XIESHANG_TEST_POSTGRES_URL, else a throwaway one)")
    parser.add_argument("--minimal-hashing", action="store_true", help="XIESHANG_PASSWORD_HASHING=minimal (tests only)")
    parser.add_argument("--principal-secret", default=None,
                        help="shared signing secret (default $XIESHANG_PRINCIPAL_SECRET, else random)")
    parser.add_argument("--bin", default=None, help="the xieshang executable (default $XIESHANG_BIN or .build/debug/xieshang)")
    parser.add_argument("--keep-logs", action="store_true", help="keep each process's stdout/stderr files")
    args = parser.parse_args(argv)
    try:
        replicas = _parse_replicas(args.replicas)
    except argparse.ArgumentTypeError as e:
        parser.error(str(e))
    services = [s for s in args.services.split(",") if s.strip()] or None

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    topology = Topology(replicas, services=services, binary=args.bin, database_url=args.database_url,
                        password_hashing="minimal" if args.minimal_hashing else None,
                        principal_secret=args.principal_secret, keep_logs=args.keep_logs)
    try:
        print("starting " + ", ".join(f"{n}×{k}" if k > 1 else n for n, k in topology.replicas.items()), flush=True)
        topology.up()
        print(f"database  {topology.database_url} (schemas {topology.schema_prefix}_*)")
        print(f"principal secret  {topology.principal_secret}")
        for name, plans in topology.plans.items():
            for p in plans:
                process = topology.process(name, p.replica)
                print(f"{name:<13} [{p.replica}]  {p.address:<21} pid {process.pid:<7} log {process.stderr_path}")
        if "gateway" in topology.plans:
            print(f"gateway: {topology.gateway_address}")
        print("Ctrl-C stops everything.", flush=True)
        reported: set[tuple[str, int]] = set()
        while not stopping.wait(1.0):
            for name, plans in topology.plans.items():
                for p in plans:
                    process = topology.process(name, p.replica)
                    if process is not None and not process.alive() and (name, p.replica) not in reported:
                        reported.add((name, p.replica))
                        print(f"{name}[{p.replica}] exited:\n{process.output()}", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        pass
    except (RuntimeError, ValueError) as e:
        print(e, file=sys.stderr)
        return 1
    finally:
        topology.down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
