#!/usr/bin/env python3
"""Directory benchmark: member lookups (GetMember) and filtered listings (ListMembers by sector or
town, 20 a page) from 32 concurrent callers, on SQLite and on PostgreSQL, against the seeded demo
prefecture. The service runs on core 0 with one event-loop thread; the load generator
(xieshang-bench, our own client) on core 1. Writes the figures into BENCHMARKS.md between markers.
"""
import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from bench_rpc import engine_databases, free_port, latency_table, replace_block, wait_port  # noqa: E402

BIN = ROOT / ".build" / "release"


def run_engine(name, db_args, seconds, concurrency):
    env = dict(os.environ, XIESHANG_PASSWORD_HASHING="minimal")
    subprocess.run([BIN / "xieshang", "seed", *db_args], check=True, env=env, stdout=subprocess.DEVNULL)
    port = free_port()
    server = subprocess.Popen(["taskset", "-c", "0", BIN / "xieshang", "serve", "directory", "--port", str(port),
                               "--threads", "1", *db_args], env=env, stdout=subprocess.DEVNULL)
    try:
        wait_port(port, server)
        out = {}
        for workload in ("get", "list"):
            r = subprocess.run(["taskset", "-c", "1", BIN / "xieshang-bench", "directory", "--port", str(port), "--workload", workload,
                                "--seconds", str(seconds), "--concurrency", str(concurrency)],
                               check=True, capture_output=True, text=True)
            out[workload] = json.loads(r.stdout.strip().splitlines()[-1])
            if out[workload]["errors"]:
                raise RuntimeError(f"{name}/{workload}: {out[workload]['errors']} calls failed")
            print(f"{name:10s} {workload:4s} {out[workload]['rps']:10,.0f} req/s  p50 {out[workload]['p50_ms']:.2f} ms"
                  f"  p99 {out[workload]['p99_ms']:.2f} ms", flush=True)
        return out
    finally:
        server.terminate()
        server.wait(10)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    args = ap.parse_args()

    results = {}
    for engine, db in engine_databases("sqlite,postgres", ["directory"], "directory"):
        results[engine] = run_engine(engine, db["directory"], args.seconds, args.concurrency)

    members = results["SQLite"]["get"]["members"]
    lines = [
        "<!-- directory-bench:start -->",
        "## Directory: member lookups and filtered listings",
        "",
        f"`make bench` (`scripts/bench_directory.py`): the seeded demo prefecture (county committee 2, {members} active",
        f"members), {args.concurrency} concurrent callers in a closed loop for {args.seconds:g} s after 1 s of warm-up.",
        "Service on core 0 with one event-loop thread and 8 database connections; load generator (`xieshang-bench`) on core 1.",
        "`get` = GetMember by a random id; `list` = ListMembers filtered by a random sector or town, 20 a page, with the total.",
        "The PostgreSQL server is the throwaway test server (`scripts/pg-server.sh`: fsync off) on the same two cores.",
        "",
    ] + latency_table(results)
    lines.append("<!-- directory-bench:end -->")
    replace_block(Path(args.out), "directory-bench", "\n".join(lines))


if __name__ == "__main__":
    main()
