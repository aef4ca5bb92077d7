#!/usr/bin/env python3
"""Intake benchmark: public submissions (SubmitPublic), register-and-route pairs (RegisterItem +
RouteItem, whose due date comes from the directory's calendar over gRPC) and text searches
(ListItems with a Chinese query, 20 a page, with the total) from 32 concurrent callers, on SQLite
and PostgreSQL; then searches again after loading 1,000,000 items. The intake service runs on
core 0 with one event-loop thread; the directory and the load generator (`xieshang-bench`) on
core 1. Writes the figures into BENCHMARKS.md between markers.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from bench_rpc import engine_databases, free_port, latency_table, replace_block, wait_port  # noqa: E402

BIN = ROOT / ".build" / "release"
ENV = dict(os.environ, XIESHANG_PASSWORD_HASHING="minimal")


def serve(service, cpu, db_args, extra=()):
    port = free_port()
    proc = subprocess.Popen(["taskset", "-c", cpu, BIN / "xieshang", "serve", service, "--port", str(port), "--threads", "1",
                             *db_args, *extra], env=ENV, stdout=subprocess.DEVNULL)
    wait_port(port, proc)
    return proc, port


def load(name, workload, port, seconds, concurrency, extra=()):
    r = subprocess.run(["taskset", "-c", "1", BIN / "xieshang-bench", "intake", "--port", str(port), "--workload", workload,
                        "--seconds", str(seconds), "--concurrency", str(concurrency), *extra],
                       check=True, capture_output=True, text=True)
    out = json.loads(r.stdout.strip().splitlines()[-1])
    if out["errors"]:
        raise RuntimeError(f"{name}/{workload}: {out['errors']} calls failed")
    print(f"{name:10s} {workload:14s} {out['rps']:10,.0f} req/s  p50 {out['p50_ms']:.2f} ms  p99 {out['p99_ms']:.2f} ms", flush=True)
    return out


def run_engine(name, dir_args, intake_args, seconds, concurrency, large, connections):
    subprocess.run([BIN / "xieshang", "seed", *dir_args], check=True, env=ENV, stdout=subprocess.DEVNULL)
    directory, dport = serve("directory", "1", dir_args)
    out = {}
    try:
        intake, port = serve("intake", "0", intake_args,
                             ["--directory", f"127.0.0.1:{dport}", "--db-connections", str(connections)])
        try:
            out["submit"] = load(name, "submit", port, seconds, concurrency)
            out["register+route"] = load(name, "route", port, seconds, concurrency, ["--directory-port", str(dport)])
            out["search"] = load(name, "search", port, seconds, concurrency)
        finally:
            intake.terminate()
            intake.wait(30)
        t0 = time.time()
        subprocess.run([BIN / "xieshang-bench", "intake-load", "--items", str(large), *intake_args], check=True,
                       stdout=subprocess.DEVNULL)
        out["load_seconds"] = time.time() - t0
        print(f"{name:10s} loaded {large:,} items in {out['load_seconds']:.0f} s", flush=True)
        intake, port = serve("intake", "0", intake_args,
                             ["--directory", f"127.0.0.1:{dport}", "--db-connections", str(connections)])
        try:
            out["search (large)"] = load(name, "search", port, seconds, concurrency)
        finally:
            intake.terminate()
            intake.wait(30)
    finally:
        directory.terminate()
        directory.wait(30)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--items", type=int, default=1_000_000, help="items stored for the large search run")
    ap.add_argument("--engines", default="sqlite,postgres")
    ap.add_argument("--db-connections", type=int, default=2,
                    help="intake's database connections (one core: two keep queries first-come, first-served)")
    ap.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    args = ap.parse_args()

    results = {}
    for engine, db in engine_databases(args.engines, ["directory", "intake"], "intake"):
        results[engine] = run_engine(engine, db["directory"], db["intake"], args.seconds, args.concurrency, args.items,
                                     args.db_connections)

    lines = [
        "<!-- intake-bench:start -->",
        "## Intake: submissions, routing, Chinese text search",
        "",
        f"`make bench` (`scripts/bench_intake.py`): {args.concurrency} concurrent callers in a closed loop for {args.seconds:g} s",
        "after 1 s of warm-up, against county committee 2 of the seeded demo. Intake on core 0 (one event-loop thread,",
        f"{args.db_connections} database connections: on one core more connections only time-slice the CPU between queries,",
        "which lets long ones stretch the tail); the directory and the load generator (`xieshang-bench intake`) on core 1.",
        "`submit` = SubmitPublic (stored, indexed and answered with a ticket); `register+route` = RegisterItem then RouteItem",
        "on the items `submit` left (one request = the pair; routing asks the directory for the due date over gRPC);",
        "`search` = ListItems with a Chinese query (a problem word such as 漏水, a place word, or two words), 20 a page with",
        "the total (counted over the first 1,000 candidates, up to 500), a fifth of them also filtered by state.",
        "`search (large)` repeats it after",
        f"`xieshang-bench intake-load` added {args.items:,} items (each query word matches about 5% of them).",
        "SQLite runs with `synchronous=FULL` (every acknowledged submission is on disk); the PostgreSQL server is the",
        "throwaway test server (`scripts/pg-server.sh`: fsync off) on the same two cores.",
        "",
    ] + latency_table(results)
    # Search latency by kind of query (the load generator's `by_kind`).
    kinds = sorted({k for rs in results.values() for w in ("search", "search (large)") for k in rs.get(w, {}).get("by_kind", {})})
    if kinds:
        lines += ["", "Search by kind of query, p50 / p99 ms (`+state`: also filtered by state):", "",
                  "| engine | workload | " + " | ".join(kinds) + " |", "|---|---|" + "---:|" * len(kinds)]
        for engine, rs in results.items():
            for w in ("search", "search (large)"):
                by = rs.get(w, {}).get("by_kind", {})
                if by:
                    lines.append(f"| {engine} | {w} | " + " | ".join(
                        f"{by[k]['p50_ms']:.1f} / {by[k]['p99_ms']:.1f}" if k in by else "" for k in kinds) + " |")
    lines.append("")
    for engine, rs in results.items():
        lines.append(f"{engine}: loading {args.items:,} items took {rs['load_seconds']:.0f} s "
                     f"(`xieshang-bench intake-load`, 2,000 items a transaction).")
    lines.append("<!-- intake-bench:end -->")
    replace_block(Path(args.out), "intake-bench", "\n".join(lines))


if __name__ == "__main__":
    main()
