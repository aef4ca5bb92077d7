"""Static checks of the container files (no Docker engine runs on these machines): the Dockerfile,
docker-compose.yml, services/<name>/README.md, and the rewriting by which Tests/Python/topology.py
runs the compose topology as local processes. Nothing here starts a process."""
import fnmatch
import glob
import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

import topology
from topology import (ADDRESS_VARIABLES, DEFAULT_PORTS, compose_command, compose_environment, interpolate,
                      process_environment, rewrite_addresses, start_order, xieshang_services)

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
SERVICES = set(DEFAULT_PORTS)  # gateway directory intake proposals consultation analytics notify
SCALABLE = {"gateway", "proposals", "consultation"}

#: Each system library a Sources/C*/module.modulemap links → (the -dev package the build needs,
#: the Debian 12 package with the shared library the binary loads at run time).
LIBRARIES = {
    "nghttp2": ("libnghttp2-dev", "libnghttp2-14"),
    "protobuf-c": ("libprotobuf-c-dev", "libprotobuf-c1"),
    "sqlite3": ("libsqlite3-dev", "libsqlite3-0"),
    "pq": ("libpq-dev", "libpq5"),
    "sodium": ("libsodium-dev", "libsodium23"),
}

#: Which other services each process must be told about.
REQUIRED_ADDRESSES = {
    "directory": set(),
    "intake": {"XIESHANG_DIRECTORY"},
    "proposals": {"XIESHANG_DIRECTORY"},
    "consultation": {"XIESHANG_DIRECTORY"},
    "analytics": {"XIESHANG_DIRECTORY", "XIESHANG_INTAKE", "XIESHANG_PROPOSALS", "XIESHANG_CONSULTATION"},
    "notify": {"XIESHANG_DIRECTORY", "XIESHANG_INTAKE", "XIESHANG_PROPOSALS", "XIESHANG_CONSULTATION"},
    "gateway": set(ADDRESS_VARIABLES),
}

SECRET = "s" * 32


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def services(compose):
    return xieshang_services(compose)


def raw_env(svc) -> dict:
    return compose_environment(svc)


def readme_variables(name: str) -> set:
    text = (ROOT / "services" / name / "README.md").read_text()
    return set(re.findall(r"^\|\s*`(XIESHANG_[A-Z0-9_]+)`\s*\|", text, re.M))


# ---------------------------------------------------------------------------
# docker-compose.yml
# ---------------------------------------------------------------------------


def test_compose_runs_postgres_and_the_six_processes_from_the_one_image(compose, services):
    assert set(services) == SERVICES, f"compose runs {sorted(services)}, expected {sorted(SERVICES)}"
    assert set(compose["services"]) - set(services) == {"postgres"}, "only PostgreSQL besides the Xieshang processes"
    for name, svc in services.items():
        assert svc.get("build") == ".", f"{name}: build from the top-level Dockerfile"
        assert svc.get("image") == "xieshang:latest", name
        assert svc.get("restart") == "unless-stopped", name
        assert isinstance(svc.get("command"), list) and svc["command"], f"{name}: command as a list"
        assert "healthcheck" in svc, name


def test_postgres_has_a_volume_and_a_pg_isready_health_check(compose):
    pg = compose["services"]["postgres"]
    assert pg["image"].split(":")[0] == "postgres" and pg["image"].split(":")[1].startswith("15")
    assert any(str(v).split(":")[1] == "/var/lib/postgresql/data" for v in pg.get("volumes", [])), "postgres needs a data volume"
    test = pg["healthcheck"]["test"]
    assert "pg_isready" in (test if isinstance(test, str) else " ".join(test))
    assert pg.get("restart") == "unless-stopped"


def test_named_volumes_are_declared(compose):
    declared = set((compose.get("volumes") or {}).keys())
    for name, svc in compose["services"].items():
        for volume in svc.get("volumes", []):
            source = str(volume).split(":")[0]
            if not source.startswith((".", "/", "~")):
                assert source in declared, f"{name}: volume {source} is not declared under volumes:"


def test_every_command_is_serve_with_its_own_service_and_no_host_or_port_flag(services):
    for name, svc in services.items():
        command = compose_command(svc)
        assert command[0] == "serve", f"{name}: unknown subcommand {command[0]}"
        assert command[1] == name, f"compose service {name} runs `serve {command[1]}`"
        assert command[1] in DEFAULT_PORTS
        for arg in command[2:]:
            assert arg.startswith("--"), f"{name}: stray argument {arg}"
            assert arg.split("=")[0] not in ("--host", "--port", "--database-url", "--directory"), (
                f"{name}: {arg} belongs in the environment, where the local runner can rewrite it")


def test_each_process_listens_on_its_port_on_all_interfaces(services):
    for name, svc in services.items():
        env = raw_env(svc)
        assert env.get("XIESHANG_HOST") == "0.0.0.0", f"{name} must bind all interfaces in a container"
        assert env.get("XIESHANG_PORT") == str(DEFAULT_PORTS[name]), f"{name}: XIESHANG_PORT"


def test_health_checks_ask_the_process_itself(services):
    for name, svc in services.items():
        hc = svc["healthcheck"]
        assert hc["test"] == ["CMD", "xieshang", "health", "--address", f"127.0.0.1:{DEFAULT_PORTS[name]}"], name
        for key in ("interval", "timeout", "retries"):
            assert key in hc, f"{name}: healthcheck.{key}"
    # The directory creates the demo data before it listens: its start period must cover that.
    assert services["directory"]["healthcheck"]["start_period"] in ("300s", "5m")


def test_every_process_requires_the_principal_secret(services):
    for name, svc in services.items():
        value = raw_env(svc).get("XIESHANG_PRINCIPAL_SECRET")
        assert value, f"{name}: XIESHANG_PRINCIPAL_SECRET"
        with pytest.raises(ValueError):
            interpolate(value, {})  # compose refuses to start without it
        assert interpolate(value, {"XIESHANG_PRINCIPAL_SECRET": SECRET}) == SECRET


def test_variables_are_documented_in_the_service_readme(services):
    for name, svc in services.items():
        documented = readme_variables(name)
        assert documented, f"services/{name}/README.md has no table of XIESHANG_* variables"
        used = {k for k in raw_env(svc) if k.startswith("XIESHANG_")}
        assert used <= documented, f"{name}: {sorted(used - documented)} used in compose but not in services/{name}/README.md"
        assert "XIESHANG_PRINCIPAL_SECRET" in documented and "XIESHANG_PORT" in documented


def test_readmes_name_command_port_health_check_and_scaling():
    for name, port in DEFAULT_PORTS.items():
        text = (ROOT / "services" / name / "README.md").read_text()
        assert f"xieshang serve {name}" in text, name
        assert str(port) in text, name
        assert f"xieshang health --address 127.0.0.1:{port}" in text, name
        for heading in ("## Environment", "## Volumes", "## Health check", "## Scaling"):
            assert heading in text, f"services/{name}/README.md lacks {heading}"


def test_addresses_name_compose_services_on_their_ports(compose, services):
    for name, svc in services.items():
        env = raw_env(svc)
        present = {k for k in env if k in ADDRESS_VARIABLES}
        assert REQUIRED_ADDRESSES[name] <= present, f"{name} lacks {sorted(REQUIRED_ADDRESSES[name] - present)}"
        deps = svc.get("depends_on") or {}
        for var in present:
            target = ADDRESS_VARIABLES[var]
            for entry in env[var].split(","):
                host, _, port = entry.strip().rpartition(":")
                assert host == target, f"{name}: {var}={env[var]} should name the compose service {target}"
                assert int(port) == DEFAULT_PORTS[target], f"{name}: {var}={env[var]}: {target} listens on {DEFAULT_PORTS[target]}"
            assert deps.get(target, {}).get("condition") == "service_healthy", f"{name} must wait for {target} to be healthy"


def test_databases_are_one_schema_each_on_the_postgres_service(compose, services):
    pg_env = compose_environment(compose["services"]["postgres"], {})
    schemas = {}
    for name, svc in services.items():
        env = raw_env(svc)
        if name == "gateway":
            assert "XIESHANG_DATABASE_URL" not in env, "the gateway keeps no database"
            continue
        url = urlsplit(interpolate(env["XIESHANG_DATABASE_URL"], {}))
        assert url.scheme in ("postgres", "postgresql"), name
        assert (url.hostname, url.port) == ("postgres", 5432), f"{name}: the database is the postgres service"
        assert url.username == pg_env["POSTGRES_USER"] and url.path == "/" + pg_env["POSTGRES_DB"], name
        assert url.password == pg_env["POSTGRES_PASSWORD"], f"{name}: the password must be postgres's"
        schemas[name] = env.get("XIESHANG_DATABASE_SCHEMA")
        assert schemas[name] == name, f"{name}: XIESHANG_DATABASE_SCHEMA"
        assert svc["depends_on"]["postgres"]["condition"] == "service_healthy", name
    assert len(set(schemas.values())) == len(schemas), "schemas must differ"


def test_depends_on_names_exist_and_wait_for_health(compose):
    for name, svc in compose["services"].items():
        deps = svc.get("depends_on") or {}
        assert isinstance(deps, dict), f"{name}: depends_on with conditions"
        for dep, spec in deps.items():
            assert dep in compose["services"], f"{name} depends on unknown {dep}"
            assert spec.get("condition") == "service_healthy", f"{name} → {dep}"
    order = start_order(compose)
    assert order[0] == "directory" and order[-1] == "gateway"
    assert order.index("analytics") > max(order.index(s) for s in ("intake", "proposals", "consultation"))
    assert order.index("notify") > max(order.index(s) for s in ("intake", "proposals", "consultation"))


def test_scaling_is_possible_and_only_the_gateway_publishes(compose, services):
    for name, svc in compose["services"].items():
        assert "container_name" not in svc, f"{name}: a fixed container_name prevents --scale"
        if name != "gateway":
            assert "ports" not in svc, f"{name} must not publish a port"
    ports = services["gateway"]["ports"]
    assert len(ports) == 1 and str(ports[0]).rsplit(":", 1)[1] == "50060"
    for name in SCALABLE - {"gateway"}:
        assert "ports" not in services[name] and "container_name" not in services[name]


def test_the_runner_and_compose_agree_on_every_variable(compose, services):
    """What topology.plan gives each process is compose's environment but for the documented rewrites."""
    ports = {name: [40000 + 10 * i + r for r in range(2 if name == "proposals" else 1)]
             for i, name in enumerate(start_order(compose))}
    plans = topology.plan(compose, replica_ports=ports, database_url="postgresql://t@127.0.0.1:1/x",
                          schema_prefix="tabc", data_root="/tmp/d", principal_secret=SECRET, variables={})
    assert list(plans) == start_order(compose)
    for name, svc in services.items():
        compose_env = compose_environment(svc, {"XIESHANG_PRINCIPAL_SECRET": SECRET})
        for p in plans[name]:
            assert p.arguments == compose_command(svc)
            env = p.environment
            assert env["XIESHANG_PORT"] == str(ports[name][p.replica]) and env["XIESHANG_HOST"] == "127.0.0.1"
            assert env["XIESHANG_PRINCIPAL_SECRET"] == SECRET
            for var, value in compose_env.items():
                if var in ADDRESS_VARIABLES:
                    target = ADDRESS_VARIABLES[var]
                    assert env[var] == ",".join(f"127.0.0.1:{q}" for q in ports[target]), (name, var)
                elif var == "XIESHANG_DATABASE_URL":
                    assert env[var] == "postgresql://t@127.0.0.1:1/x"
                elif var == "XIESHANG_DATABASE_SCHEMA":
                    assert env[var] == f"tabc_{value}"
                elif var not in ("XIESHANG_HOST", "XIESHANG_PORT"):
                    assert env[var] == value, (name, var)
    assert plans["analytics"][0].environment["XIESHANG_PROPOSALS"] == "127.0.0.1:40020,127.0.0.1:40021"


# ---------------------------------------------------------------------------
# The rewrite (pure)
# ---------------------------------------------------------------------------

CONTAINER_PORTS = {"directory": 50061, "proposals": 50063, "postgres": -1}


def test_process_environment_rewrites_exactly_the_documented_variables():
    compose_env = {
        "XIESHANG_HOST": "0.0.0.0",
        "XIESHANG_PORT": "50063",
        "XIESHANG_PRINCIPAL_SECRET": SECRET,
        "XIESHANG_DATABASE_URL": "postgres://xieshang:pw@postgres:5432/xieshang",
        "XIESHANG_DATABASE_SCHEMA": "proposals",
        "XIESHANG_DIRECTORY": "directory:50061",
        "XIESHANG_PROPOSALS": "proposals:50063",
        "XIESHANG_DB_CONNECTIONS": "4",
        "XIESHANG_NOTE": "directory",  # not an address: left alone
        "OTHER": "external.example:443",  # not a compose service: left alone
    }
    env = process_environment(
        compose_env, serve_as="proposals", port=41001,
        replica_ports={"directory": [41000], "proposals": [41001, 41002]}, container_ports=CONTAINER_PORTS,
        database_url="postgresql://xieshang@127.0.0.1:55432/xieshang", schema_prefix="t0123456789",
        data_dir="/tmp/topo/proposals", password_hashing="minimal")
    assert env == {
        "XIESHANG_HOST": "127.0.0.1",
        "XIESHANG_PORT": "41001",
        "XIESHANG_PRINCIPAL_SECRET": SECRET,
        "XIESHANG_DATABASE_URL": "postgresql://xieshang@127.0.0.1:55432/xieshang",
        "XIESHANG_DATABASE_SCHEMA": "t0123456789_proposals",
        "XIESHANG_DIRECTORY": "127.0.0.1:41000",
        "XIESHANG_PROPOSALS": "127.0.0.1:41001,127.0.0.1:41002",
        "XIESHANG_DB_CONNECTIONS": "4",
        "XIESHANG_NOTE": "directory",
        "OTHER": "external.example:443",
        "XIESHANG_DATA_DIR": "/tmp/topo/proposals",
        "XIESHANG_PASSWORD_HASHING": "minimal",
    }


def test_process_environment_defaults_the_schema_to_the_service_and_keeps_sqlite():
    env = process_environment(
        {"XIESHANG_DATABASE_URL": "postgres://u@postgres:5432/d"}, serve_as="intake", port=1,
        replica_ports={}, container_ports=CONTAINER_PORTS, database_url="postgresql://x@h:2/y",
        schema_prefix="tp", data_dir="/d")
    assert env["XIESHANG_DATABASE_SCHEMA"] == "tp_intake"
    assert "XIESHANG_PASSWORD_HASHING" not in env
    sqlite = process_environment({"XIESHANG_DATABASE_URL": ""}, serve_as="intake", port=1, replica_ports={},
                                 container_ports=CONTAINER_PORTS, database_url="postgresql://x@h:2/y",
                                 schema_prefix="tp", data_dir="/d")
    assert sqlite["XIESHANG_DATABASE_URL"] == "" and "XIESHANG_DATABASE_SCHEMA" not in sqlite
    assert sqlite["XIESHANG_DATA_DIR"] == "/d"


def test_rewrite_addresses_lists_every_replica_and_refuses_wrong_ports():
    replicas = {"directory": [41000], "proposals": [41001, 41002]}
    assert rewrite_addresses("proposals:50063", replicas, CONTAINER_PORTS) == "127.0.0.1:41001,127.0.0.1:41002"
    assert rewrite_addresses("directory:50061, proposals:50063", replicas, CONTAINER_PORTS) == \
        "127.0.0.1:41000,127.0.0.1:41001,127.0.0.1:41002"
    assert rewrite_addresses("proposals:50063,proposals:50063", replicas, CONTAINER_PORTS) == \
        "127.0.0.1:41001,127.0.0.1:41002"
    assert rewrite_addresses("10.0.0.5:50063", replicas, CONTAINER_PORTS) == "10.0.0.5:50063"
    assert rewrite_addresses("--seed-demo", replicas, CONTAINER_PORTS) == "--seed-demo"
    with pytest.raises(ValueError, match="listens on 50063"):
        rewrite_addresses("proposals:50064", replicas, CONTAINER_PORTS)
    with pytest.raises(ValueError, match="does not start"):
        rewrite_addresses("postgres:5432", replicas, CONTAINER_PORTS)


def test_interpolate_follows_compose():
    v = {"A": "a", "E": ""}
    assert interpolate("${A}-$A-$$A", v) == "a-a-$A"
    assert interpolate("${B:-d}|${E:-d}|${E-d}|${B-d}", v) == "d|d||d"
    assert interpolate("${A:+x}|${E:+x}|${E+x}", v) == "x||x"
    assert interpolate("${A:?no}", v) == "a"
    with pytest.raises(ValueError, match="set it"):
        interpolate("${E:?set it}", v)
    with pytest.raises(ValueError):
        interpolate("${B?}", v)


def test_topology_validates_replicas_without_starting_anything():
    t = topology.Topology({"proposals": 2}, services=["proposals"], database_url="postgresql://x@h:1/y")
    assert t.replicas == {"directory": 1, "proposals": 2}
    with pytest.raises(ValueError):
        topology.Topology({"nosuch": 1})
    with pytest.raises(ValueError):
        topology.Topology({"proposals": 0})


# ---------------------------------------------------------------------------
# Dockerfile
# ---------------------------------------------------------------------------


def dockerfile_stages():
    """[(FROM line, [instructions])] with continuation lines joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    lines, current = [], ""
    for raw in text.splitlines():
        if raw.strip().startswith("#") and not current:
            continue
        current += raw.rstrip()[:-1] + " " if raw.rstrip().endswith("\\") else raw
        if not raw.rstrip().endswith("\\"):
            if current.strip():
                lines.append(" ".join(current.split()))
            current = ""
    stages = []
    for line in lines:
        if line.upper().startswith("FROM "):
            stages.append((line, []))
        else:
            assert stages, "instruction before FROM"
            stages[-1][1].append(line)
    return stages


def apt_installs(instructions) -> set:
    packages = set()
    for line in instructions:
        for m in re.finditer(r"apt-get install ((?:[^&;|])*)", line):
            packages |= {w for w in m.group(1).split() if not w.startswith("-")}
    return packages


def modulemap_links() -> set:
    links = set()
    for path in ROOT.glob("Sources/C*/module.modulemap"):
        links |= set(re.findall(r'^\s*link\s+"([^"]+)"', path.read_text(), re.M))
    return links


def package_swift_apt_providers() -> set:
    groups = re.findall(r'\.apt\(\[([^\]]*)\]\)', (ROOT / "Package.swift").read_text())
    return {p.strip().strip('"') for group in groups for p in group.split(",") if p.strip()}


def test_dockerfile_has_a_build_and_a_runtime_stage():
    stages = dockerfile_stages()
    assert len(stages) == 2
    assert re.match(r"FROM swift:6\.\d+(\.\d+)?-bookworm AS build$", stages[0][0]), stages[0][0]
    assert stages[1][0] == "FROM debian:bookworm-slim", "runtime on the same Debian release as the build"


def test_build_stage_installs_a_dev_package_for_every_linked_library():
    links = modulemap_links()
    assert links >= {"nghttp2", "protobuf-c", "sqlite3", "pq", "sodium"}, links
    unknown = links - set(LIBRARIES)
    assert not unknown, f"new system library {unknown}: add its packages to the Dockerfile and to LIBRARIES here"
    build = apt_installs(dockerfile_stages()[0][1])
    for link in links:
        assert LIBRARIES[link][0] in build, f"build stage lacks {LIBRARIES[link][0]} (module links {link})"
    assert package_swift_apt_providers() <= build, "every apt provider Package.swift names is installed"
    assert "pkg-config" in build, "the system-library targets find their flags with pkg-config"


def test_runtime_stage_installs_the_shared_libraries_and_no_dev_package():
    runtime = apt_installs(dockerfile_stages()[1][1])
    for link in modulemap_links():
        assert LIBRARIES[link][1] in runtime, f"runtime image lacks {LIBRARIES[link][1]} (lib{link})"
    assert not [p for p in runtime if p.endswith("-dev")], "no -dev packages at run time"


def test_dockerfile_copies_only_what_exists_and_is_in_the_context():
    ignore = [l.strip() for l in (ROOT / ".dockerignore").read_text().splitlines() if l.strip() and not l.startswith("#")]
    copies = 0
    for _, instructions in dockerfile_stages():
        for line in instructions:
            if not line.upper().startswith(("COPY ", "ADD ")):
                continue
            words = shlex.split(line)[1:]
            if any(a.startswith("--from") for a in words):
                continue
            args = [a for a in words if not a.startswith("--")]
            copies += 1
            for source in args[:-1]:
                matches = glob.glob(str(ROOT / source))
                assert matches, f"COPY source {source} does not exist in the repository"
                for pattern in ignore:
                    assert not fnmatch.fnmatch(source.rstrip("/"), pattern.rstrip("/")), f"{source} is excluded by .dockerignore ({pattern})"
    assert copies >= 3


def test_dockerfile_builds_xieshang_and_runs_it_unprivileged_with_a_data_volume():
    build, runtime = [s[1] for s in dockerfile_stages()]
    text = "\n".join(build)
    assert "swift build -c release --product xieshang" in text
    assert "COPY Sources ./Sources" in build
    assert "COPY Tests ./Tests" in build, "Package.swift declares targets under Tests/: SwiftPM needs the folders"
    assert any(l.startswith("COPY Package.") for l in build)
    runtime_text = "\n".join(runtime)
    assert 'ENTRYPOINT ["/usr/local/bin/xieshang"]' in runtime
    assert "COPY --from=build /usr/local/bin/xieshang /usr/local/bin/xieshang" in runtime
    users = [l.split()[1] for l in runtime if l.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the process must not run as root"
    assert re.search(r"chown \S*xieshang\S* /data", runtime_text), "/data owned by the runtime user"
    assert any(l.startswith("VOLUME") and "/data" in l for l in runtime)
    assert "XIESHANG_DATA_DIR=/data" in runtime_text and "XIESHANG_HOST=0.0.0.0" in runtime_text


def test_setup_installs_pyyaml():
    assert re.search(r"PIP_PACKAGES=\([^)]*\bpyyaml\b", (ROOT / "scripts" / "setup.sh").read_text())
