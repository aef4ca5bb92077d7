"""Helpers for tests (and benches) that run replicas on the compose topology as processes: a
topology that needs PostgreSQL, which replica of analytics or notify follows the feeds, and
killing a process with SIGKILL."""
from __future__ import annotations

import contextlib
import os
import signal
import time

import grpc
import pytest

from conftest import ensure_generated, require_xieshang_bin
from directory_client import postgres_required, postgres_url, principal
from topology import Topology

ensure_generated()
from xieshang.analytics.v1 import analytics_pb2 as apb, analytics_pb2_grpc  # noqa: E402
from xieshang.common.v1 import principal_pb2  # noqa: E402
from xieshang.notify.v1 import notify_pb2 as npb, notify_pb2_grpc  # noqa: E402

ADMIN = principal(2, principal_pb2.ROLE_COMMITTEE_ADMIN)


@contextlib.contextmanager
def postgres_topology(**kwargs):
    """A started Topology (minimal password hashing); skips without a PostgreSQL server, or fails
    when XIESHANG_REQUIRE_POSTGRES=1 says there must be one."""
    require_xieshang_bin()
    if not postgres_url():
        if postgres_required():
            pytest.fail("XIESHANG_TEST_POSTGRES_URL is not set (XIESHANG_REQUIRE_POSTGRES=1)", pytrace=False)
        pytest.skip("no PostgreSQL server (set XIESHANG_TEST_POSTGRES_URL; scripts/pg-server.sh start prints one)")
    t = Topology(password_hashing="minimal", **kwargs)
    try:
        t.up()
    except RuntimeError as e:
        t.down()
        pytest.fail(f"the topology did not start:\n{e}", pytrace=False)
    try:
        yield t
    finally:
        t.down()


def following(topology: Topology, service: str) -> list[int]:
    """The replicas of analytics or notify that say they follow the feeds now (asked directly)."""
    out = []
    for i in range(len(topology.addresses(service))):
        if not topology.alive(service, i):
            continue
        with grpc.insecure_channel(topology.address(service, i)) as ch:
            try:
                if service == "analytics":
                    leads = analytics_pb2_grpc.AnalyticsServiceStub(ch).GetFreshness(apb.FreshnessRequest(), metadata=ADMIN, timeout=5).ingesting
                else:
                    leads = notify_pb2_grpc.NotifyServiceStub(ch).GetStatus(npb.StatusRequest(), metadata=ADMIN, timeout=5).leading
            except grpc.RpcError:
                continue
        if leads:
            out.append(i)
    return out


def the_follower(topology: Topology, service: str, timeout: float = 10) -> int:
    """The one replica following the feeds, waited for."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = following(topology, service)
        if len(found) == 1:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"not exactly one {service} replica follows the feeds: {following(topology, service)}")


def kill9(topology: Topology, service: str, replica: int) -> None:
    """SIGKILL to one process (no shutdown at all); its slot is freed for Topology.start."""
    proc = topology.process(service, replica)
    os.killpg(proc.proc.pid, signal.SIGKILL)
    proc.proc.wait(10)
    topology.stop(service, replica)


@contextlib.contextmanager
def environment(**values: str):
    """Sets variables of this process (which compose reads when a topology starts) and puts back
    what was there."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def wait_until(what: str, probe, timeout: float = 30.0, interval: float = 0.2):
    """Calls `probe()` until the first of the pair it returns is truthy, and returns that; fails
    naming `what` with the second (what was seen) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        found, last = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {timeout:.0f} s; last seen:\n{last}", pytrace=False)
        time.sleep(interval)
