#!/usr/bin/env python3
"""Gateway benchmark: one read RPC (DirectoryService/GetMember) and one write RPC
(IntakeService/SubmitItem) at 64 concurrent streams through the gateway with a liaison staff
token, and the same calls straight to the service with the same principal signed, which gives
the gateway's overhead. Embedded (`xieshang up`: one process, SQLite) and with PostgreSQL (the
compose topology started as OS processes by Tests/Python/topology.py). Writes BENCHMARKS.md."""
import argparse
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "Tests" / "Python"))
from bench_intake import BIN, ENV  # noqa: E402
from bench_rpc import latency_table, replace_block  # noqa: E402

XIESHANG = BIN / "xieshang"
BENCH = BIN / "xieshang-bench"
SECRET = os.environ.setdefault("XIESHANG_PRINCIPAL_SECRET", "xieshang-bench-principal-secret")


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def login(gateway: str, username: str) -> str:
    out = subprocess.run([str(XIESHANG), "call", "GatewayService/Login", "--address", gateway, "--data",
                          json.dumps({"username": username, "password": "xieshang-demo"})],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["token"]


def load(gateway: str, token: str, workload: str, direct: str, args) -> dict:
    argv = [str(BENCH), "gateway", "--gateway", gateway, "--token", token, "--workload", workload,
            "--concurrency", str(args.concurrency), "--seconds", str(args.seconds)]
    if direct:
        argv += ["--direct", direct]
    out = subprocess.run(argv, check=True, capture_output=True, text=True, env={**ENV, "XIESHANG_PRINCIPAL_SECRET": SECRET}).stdout
    r = json.loads(out.strip().splitlines()[-1])
    print(f"  {workload:5s} {r['path']:7s} {r['rps']:8,.0f} req/s  p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms  errors {r['errors']}", flush=True)
    if r["errors"]:
        raise RuntimeError(f"{r['errors']} calls failed: {workload} {r['path']}")
    return r


def measure(gateway: str, directory: str, intake: str, token: str, args) -> dict:
    out = {}
    for workload, direct in (("read", directory), ("write", intake)):
        out[f"{workload} via gateway"] = load(gateway, token, workload, "", args)
        out[f"{workload} direct"] = load(gateway, token, workload, direct, args)
    return out


@contextlib.contextmanager
def embedded_up():
    """`xieshang up` on a fresh data folder: yields its gateway port, each service's address and
    the liaison staff token it printed; stopped with Ctrl-C after."""
    data = tempfile.mkdtemp(prefix="xieshang-bench-up-")
    port = free_port()
    proc = subprocess.Popen([str(XIESHANG), "up", "--port", str(port), "--data-dir", data, "--password-hashing", "minimal"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
                            env={**ENV, "XIESHANG_PRINCIPAL_SECRET": SECRET})
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("try:"):
                break
        text = "".join(lines)
        addr = dict(re.findall(r"^  (\w+) on (\S+)$", text, re.M))
        token = re.search(r"changshun\.liaison\s+(xst_\S+)", text).group(1)
        yield port, addr, token
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)


def embedded(args) -> dict:
    with embedded_up() as (port, addr, token):
        return measure(f"127.0.0.1:{port}", addr["directory"], addr["intake"], token, args)


def postgres(args) -> dict:
    from topology import Topology
    with Topology(binary=XIESHANG, password_hashing="minimal", principal_secret=SECRET) as t:
        gateway = t.gateway_address
        token = login(gateway, "changshun.liaison")
        return measure(gateway, t.address("directory"), t.address("intake"), token, args)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engines", default="sqlite,postgres")
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    args = ap.parse_args()
    results = {}
    if "sqlite" in args.engines:
        print("embedded (xieshang up, SQLite):", flush=True)
        results["embedded (SQLite)"] = embedded(args)
    if "postgres" in args.engines:
        print("compose topology (PostgreSQL):", flush=True)
        results["PostgreSQL"] = postgres(args)
    lines = [
        "<!-- gateway-bench:start -->",
        "## Gateway: a read and a write RPC through the gateway and straight to the service",
        "",
        f"`make bench` (`scripts/bench_gateway.py`): {args.concurrency} concurrent streams for {args.seconds:.0f} s "
        "(after 1 s of warm-up) from one `xieshang-bench gateway` process on one HTTP/2 connection. Read: "
        "`DirectoryService/GetMember` of a random member of 长顺县; write: `IntakeService/SubmitItem` (a member's "
        "opinion: validated against the directory, stored with its event). Through the gateway the call carries a "
        "liaison staff token (resolved once, then cached) and is checked against the policy, signed and forwarded; "
        "direct calls carry the same principal signed. Embedded: `xieshang up` (every service and the gateway in one "
        "process, SQLite); PostgreSQL: the compose topology as OS processes. Everything shares the two cores.",
        "",
    ]
    lines += latency_table(results)
    lines += ["", "| engine | workload | gateway req/s | direct req/s | added p50 ms | added p99 ms |", "|---|---|---:|---:|---:|---:|"]
    for engine, r in results.items():
        for w in ("read", "write"):
            g, d = r[f"{w} via gateway"], r[f"{w} direct"]
            lines.append(f"| {engine} | {w} | {g['rps']:,.0f} | {d['rps']:,.0f} | {g['p50_ms'] - d['p50_ms']:.2f} | {g['p99_ms'] - d['p99_ms']:.2f} |")
    lines.append("<!-- gateway-bench:end -->")
    replace_block(Path(args.out), "gateway-bench", "\n".join(lines))


if __name__ == "__main__":
    main()
