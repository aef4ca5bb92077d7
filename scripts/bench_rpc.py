#!/usr/bin/env python3
"""RPC benchmark: h2load drives grpc.testing.TestService/UnaryCall against our interop server,
a grpcio (Python) server and a grpc-swift-2 server, alternating, for several rounds.

Each server is pinned to core 0 and h2load to core 1 (taskset). Every answer is checked: h2load
counts HTTP 2xx, so the run also requires the DATA bytes received to equal succeeded x the exact
framed SimpleResponse size (a failed call has no body or a different one), and before each round
one call is verified end to end with grpcio (grpc-status OK, right body).
Writes the figures into BENCHMARKS.md between markers.
"""
import argparse
import os
import re
import socket
import statistics
import subprocess
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "Tests" / "Python"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} did not open")


def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def ld(field, body):
    return bytes([field << 3 | 2]) + varint(len(body)) + body


def request_bytes(payload, response):
    # SimpleRequest{response_size=response, payload=Payload{body=zeros(payload)}}
    msg = bytes([2 << 3]) + varint(response) + ld(3, ld(2, b"\0" * payload))
    return b"\0" + len(msg).to_bytes(4, "big") + msg


def framed_response_size(response):
    msg = ld(1, ld(2, b"\0" * response))
    return 5 + len(msg)


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick


def rss_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def verify_with_grpcio(port, response):
    from conftest import ensure_generated
    ensure_generated()
    import grpc
    from grpc.testing import messages_pb2, test_pb2_grpc
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        stub = test_pb2_grpc.TestServiceStub(ch)
        r = stub.UnaryCall(messages_pb2.SimpleRequest(response_size=response,
                                                      payload=messages_pb2.Payload(body=b"\0" * 100)), timeout=10)
        assert len(r.payload.body) == response and not any(r.payload.body), "wrong body"


def parse_h2load(out):
    res = {}
    m = re.search(r"finished in ([\d.]+)(m?s), ([\d.]+) req/s", out)
    res["rps"] = float(m.group(3))
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored", out)
    res["succeeded"], res["failed"], res["errored"] = int(m.group(4)), int(m.group(5)), int(m.group(6))
    m = re.search(r"[\d.]+[KMG]?B \((\d+)\) data", out)
    res["data_bytes"] = int(m.group(1))
    m = re.search(r"time for request:\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)", out)
    unit = {"us": 1, "ms": 1000, "s": 1_000_000}
    vals = [float(m.group(i)) * unit[m.group(i + 1)] for i in (1, 3, 5, 7)]
    res["min_us"], res["max_us"], res["mean_us"], res["sd_us"] = vals
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--duration", type=int, default=8, help="seconds measured per run")
    ap.add_argument("--xieshang", default=str(ROOT / ".build/release/xieshang"))
    ap.add_argument("--peer", default=str(ROOT / "Benchmarks/GRPCSwiftPeer/.build/release/GRPCSwiftPeer"))
    ap.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    args = ap.parse_args()

    data = tempfile.NamedTemporaryFile(delete=False, suffix=".bin")
    data.write(request_bytes(100, 100))
    data.close()
    expected = framed_response_size(100)

    servers = {
        "xieshang": lambda p: [args.xieshang, "interop-server", "--port", str(p), "--threads", "1"],
        "grpcio": lambda p: [sys.executable, str(ROOT / "Tests/Python/interop_server.py"), "--port", str(p)],
    }
    if Path(args.peer).exists():
        servers["grpc-swift-2"] = lambda p: [args.peer, str(p)]
    else:
        print(f"bench: grpc-swift-2 peer not built at {args.peer}; skipping it", file=sys.stderr)

    results = {name: [] for name in servers}
    for rnd in range(1, args.rounds + 1):
        for name, cmd in servers.items():
            port = free_port()
            proc = subprocess.Popen(["taskset", "-c", "0"] + cmd(port), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                wait_port(port, proc)
                verify_with_grpcio(port, 100)
                def h2(seconds):
                    return ["taskset", "-c", "1", "h2load", "-c", "8", "-m", "32", "-D", str(seconds), "-d", data.name,
                            "-H", "content-type: application/grpc", "-H", "te: trailers",
                            f"http://127.0.0.1:{port}/grpc.testing.TestService/UnaryCall"]
                subprocess.run(h2(2), capture_output=True, timeout=60)  # warm-up, not measured
                cpu0 = cpu_seconds(proc.pid)
                out = subprocess.run(h2(args.duration), capture_output=True, text=True, timeout=args.duration + 60).stdout
                cpu1 = cpu_seconds(proc.pid)
                r = parse_h2load(out)
                if r["failed"] or r["errored"]:
                    raise RuntimeError(f"{name}: {r['failed']} failed, {r['errored']} errored\n{out}")
                if r["data_bytes"] != r["succeeded"] * expected:
                    raise RuntimeError(f"{name}: {r['data_bytes']} DATA bytes for {r['succeeded']} calls, "
                                       f"expected exactly {expected} per call")
                r["cpu_us_per_call"] = (cpu1 - cpu0) / max(r["succeeded"], 1) * 1e6
                r["rss_mb"] = rss_mb(proc.pid)
                results[name].append(r)
                print(f"round {rnd} {name:13s} {r['rps']:>10.0f} req/s  mean {r['mean_us']:.0f} us  "
                      f"sd {r['sd_us']:.0f} us  max {r['max_us']:.0f} us  cpu {r['cpu_us_per_call']:.1f} us/call  "
                      f"rss {r['rss_mb']:.1f} MB", flush=True)
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
    os.unlink(data.name)
    write_report(args, results, expected)


def med(rs, key):
    return statistics.median(r[key] for r in rs)


def write_report(args, results, expected):
    lines = [
        "<!-- rpc-bench:start -->",
        "## RPC: unary calls through h2load",
        "",
        f"`make bench` ({args.rounds} alternating rounds, {args.duration} s each). h2load "
        "`-c 8 -m 32` (after an unmeasured 2 s warm-up run) posts `grpc.testing.TestService/UnaryCall` (100-byte payload, response_size 100); "
        "server pinned to core 0, h2load to core 1. Every call checked: DATA bytes per call equal the framed "
        f"SimpleResponse ({expected} bytes) exactly, no failures, one grpcio call verified per round.",
        "",
        "| server | req/s (median) | mean latency | sd | max | server CPU per call | server RSS after |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, rs in results.items():
        if not rs:
            continue
        lines.append(f"| {name} | {med(rs, 'rps'):,.0f} | {med(rs, 'mean_us'):,.0f} µs | {med(rs, 'sd_us'):,.0f} µs | "
                     f"{med(rs, 'max_us'):,.0f} µs | {med(rs, 'cpu_us_per_call'):.1f} µs | {med(rs, 'rss_mb'):.1f} MB |")
    lines.append("")
    ours = results.get("xieshang")
    for name, rs in results.items():
        if name != "xieshang" and rs and ours:
            lines.append(f"- xieshang / {name}: {med(ours, 'rps') / med(rs, 'rps'):.2f}× requests/s, "
                         f"{med(ours, 'mean_us') / med(rs, 'mean_us'):.2f}× mean latency.")
    lines.append("")
    lines.append("Notes: our server runs with `--threads 1` and handlers on the connection's event loop (the default). "
                 "The grpc-swift-2 peer (`Benchmarks/GRPCSwiftPeer`, grpc-swift-2 2.4.3 + grpc-swift-nio-transport 2.9.2) "
                 "uses a minimal hand-written codec instead of swift-protobuf, so its figures are an upper bound for a "
                 "grpc-swift-2 + swift-protobuf server. The grpcio server is `Tests/Python/interop_server.py`.")
    lines.append("")
    lines.append("Per round:")
    lines.append("")
    lines.append("| round | " + " | ".join(results) + " |")
    lines.append("|---|" + "---|" * len(results))
    for i in range(max(len(v) for v in results.values())):
        cells = [f"{rs[i]['rps']:,.0f}" if i < len(rs) else "" for rs in results.values()]
        lines.append(f"| {i + 1} | " + " | ".join(cells) + " |")
    lines.append("<!-- rpc-bench:end -->")
    out = Path(args.out)
    replace_block(out, "rpc-bench", "\n".join(lines))
    print(f"bench: wrote {out}")


def latency_table(results: dict) -> list:
    """Markdown rows for {engine: {workload: xieshang-bench figures}} (other values are skipped)."""
    lines = ["| engine | workload | req/s | mean ms | p50 ms | p90 ms | p99 ms | max ms |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for engine, rs in results.items():
        for w, r in rs.items():
            if isinstance(r, dict):
                lines.append(f"| {engine} | {w} | {r['rps']:,.0f} | {r['mean_ms']:.2f} | {r['p50_ms']:.2f} | {r['p90_ms']:.2f} "
                             f"| {r['p99_ms']:.2f} | {r['max_ms']:.2f} |")
    return lines


def engine_databases(engines: str, services: list, label: str):
    """Yields (engine name, {service: database flags}) for each engine named in `engines`: SQLite in
    one temporary folder, and a fresh schema per service on the throwaway PostgreSQL server
    (scripts/pg-server.sh); each is removed after its run."""
    if "sqlite" in engines:
        data = Path(tempfile.mkdtemp(prefix=f"xieshang-bench-{label}-"))
        try:
            yield "SQLite", {s: ["--data-dir", str(data)] for s in services}
        finally:
            shutil.rmtree(data, True)
    if "postgres" in engines:
        url = subprocess.run(["bash", str(Path(__file__).resolve().parent / "pg-server.sh"), "start"], check=True,
                             capture_output=True, text=True).stdout.strip()
        tag = uuid.uuid4().hex[:8]
        schemas = {s: f"bench_{s}_{tag}" for s in services}
        try:
            yield "PostgreSQL", {s: ["--database-url", url, "--database-schema", schemas[s]] for s in services}
        finally:
            for schema in schemas.values():
                subprocess.run(["psql", url, "-qc", f'DROP SCHEMA "{schema}" CASCADE'], check=False, capture_output=True)


def replace_block(out: Path, marker: str, block: str):
    """Puts `block` (which starts and ends with the `marker` comments) into `out`, replacing the
    previous one; BENCHMARKS.md is shared by every benchmark."""
    text = out.read_text() if out.exists() else "# Benchmarks\n\nFigures from `make bench` on this project's 2-core machine.\n\n"
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    if start in text:
        text = re.sub(re.escape(start) + ".*" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    out.write_text(text)


if __name__ == "__main__":
    main()
