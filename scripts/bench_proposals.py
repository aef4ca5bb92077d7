#!/usr/bin/env python3
"""Proposal benchmark, a plenary day: 2,000 proposals submitted, registered (numbered, gap-free)
and assigned to a lead unit and a co-unit (the due date from the directory's working-day calendar
over gRPC) by 32 concurrent callers, on SQLite and PostgreSQL. The proposal service runs on core 0
with one event-loop thread; the directory and the load generator (`xieshang-bench proposals`) on
core 1. Writes the figures into BENCHMARKS.md between markers.
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from bench_intake import BIN, ENV, serve  # noqa: E402
from bench_rpc import engine_databases, latency_table, replace_block  # noqa: E402


def run_engine(name, dir_args, proposal_args, count, concurrency):
    subprocess.run([BIN / "xieshang", "seed", *dir_args], check=True, env=ENV, stdout=subprocess.DEVNULL)
    directory, dport = serve("directory", "1", dir_args)
    try:
        service, port = serve("proposals", "0", proposal_args, ["--directory", f"127.0.0.1:{dport}"])
        try:
            r = subprocess.run(["taskset", "-c", "1", BIN / "xieshang-bench", "proposals", "--port", str(port),
                                "--directory-port", str(dport), "--proposals", str(count), "--concurrency", str(concurrency)],
                               check=True, capture_output=True, text=True)
        finally:
            service.terminate()
            service.wait(30)
    finally:
        directory.terminate()
        directory.wait(30)
    out = json.loads(r.stdout.strip().splitlines()[-1])
    if not out["numbers_gap_free"] or out["assigned"] != count:
        raise RuntimeError(f"{name}: numbers not 1..{count} ({out['assigned']} assigned)")
    print(f"{name:10s} {count:,} proposals in {out['seconds']:.1f} s ({out['proposals_per_s']:.0f}/s); "
          f"per proposal p50 {out['proposal']['p50_ms']:.1f} ms p99 {out['proposal']['p99_ms']:.1f} ms", flush=True)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--proposals", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--engines", default="sqlite,postgres")
    ap.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    args = ap.parse_args()

    results = {}
    for engine, db in engine_databases(args.engines, ["directory", "proposals"], "proposals"):
        results[engine] = run_engine(engine, db["directory"], db["proposals"], args.proposals, args.concurrency)

    lines = [
        "<!-- proposals-bench:start -->",
        "## Proposals: a plenary day",
        "",
        f"`make bench` (`scripts/bench_proposals.py`): {args.proposals:,} proposals, each submitted (SubmitProposal, checked",
        "against the directory), registered (RegisterProposal: the next number of the committee and term, drawn in the same",
        "transaction) and assigned (AssignProposal: a lead unit and a co-unit, the reply due three months on, moved to a",
        f"working day by the directory over gRPC), by {args.concurrency} concurrent callers going as fast as they can, against",
        "county committee 2 of the seeded demo. Proposals on core 0 (one event-loop thread); the directory and the load",
        "generator (`xieshang-bench proposals`) on core 1. After the run the numbers are checked to be exactly 1…N.",
        "SQLite runs with `synchronous=FULL`; the PostgreSQL server is the throwaway test server (fsync off).",
        "",
        "| engine | proposals | wall time s | proposals/s | per proposal p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for engine, r in results.items():
        lines.append(f"| {engine} | {r['proposals']:,} | {r['seconds']:.1f} | {r['proposals_per_s']:.0f} "
                     f"| {r['proposal']['p50_ms']:.1f} | {r['proposal']['p99_ms']:.1f} |")
    lines += ["", "Each step (req/s is calls of that step over the whole run):", ""]
    lines += latency_table({e: {k: r[k] for k in ("submit", "register", "assign")} for e, r in results.items()})
    lines.append("<!-- proposals-bench:end -->")
    replace_block(Path(args.out), "proposals-bench", "\n".join(lines))


if __name__ == "__main__":
    main()
