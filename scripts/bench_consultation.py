#!/usr/bin/env python3
"""Consultation benchmark, a county year: the seeded county is topped up to 300 members and 250
venues (work stations); 500 consultations are started and 5,000 meetings scheduled over the
working days of 2026, each booking a venue, a host and four required members (a refused slot is
retried elsewhere). Then conflict checks (a 2-hour slot for a venue and five members) and
free-slot searches (a venue and five members over ten working days, two hours, up to ten slots)
run for a fixed time each at 32 concurrent callers, on SQLite and PostgreSQL. The consultation
service runs on core 0 with one event-loop thread; the directory and the load generator
(`xieshang-bench consultation`) on core 1. Writes the figures into BENCHMARKS.md between markers.
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


def run_engine(name, dir_args, consultation_args, args):
    subprocess.run([BIN / "xieshang", "seed", *dir_args], check=True, env=ENV, stdout=subprocess.DEVNULL)
    directory, dport = serve("directory", "1", dir_args)
    try:
        service, port = serve("consultation", "0", consultation_args, ["--directory", f"127.0.0.1:{dport}"])
        try:
            r = subprocess.run(["taskset", "-c", "1", BIN / "xieshang-bench", "consultation", "--port", str(port),
                                "--directory-port", str(dport), "--meetings", str(args.meetings), "--members", str(args.members),
                                "--venues", str(args.venues), "--seconds", str(args.seconds), "--concurrency", str(args.concurrency)],
                               check=True, capture_output=True, text=True)
        finally:
            service.terminate()
            service.wait(30)
    finally:
        directory.terminate()
        directory.wait(30)
    out = json.loads(r.stdout.strip().splitlines()[-1])
    if out["meetings"] != args.meetings:
        raise RuntimeError(f"{name}: only {out['meetings']} of {args.meetings} meetings scheduled")
    for k in ("conflicts", "free_slots"):
        if out[k]["errors"]:
            raise RuntimeError(f"{name}/{k}: {out[k]['errors']} calls failed")
    print(f"{name:10s} {out['meetings']:,} meetings in {out['setup_seconds']:.1f} s ({out['refused_attempts']:,} slots refused); "
          f"conflicts p99 {out['conflicts']['p99_ms']:.2f} ms; free slots p99 {out['free_slots']['p99_ms']:.2f} ms", flush=True)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--meetings", type=int, default=5000)
    ap.add_argument("--members", type=int, default=300)
    ap.add_argument("--venues", type=int, default=250)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--engines", default="sqlite,postgres")
    ap.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    args = ap.parse_args()

    results = {}
    for engine, db in engine_databases(args.engines, ["directory", "consultation"], "consultation"):
        results[engine] = run_engine(engine, db["directory"], db["consultation"], args)

    lines = [
        "<!-- consultation-bench:start -->",
        "## Consultation: conflict checks and free slots over a county year",
        "",
        f"`make bench` (`scripts/bench_consultation.py`): county committee 2 of the seeded demo, topped up to {args.members} members",
        f"and {args.venues} venues; {args.meetings:,} meetings scheduled over the working days of 2026 (a venue, a host and four",
        "required members each, 1–3 hours between 08:30 and 17:30; a slot refused for a double booking is retried elsewhere).",
        f"Then, for {args.seconds:.0f} s each at {args.concurrency} concurrent callers: CheckConflicts (a 2-hour slot, a venue and five",
        "members) and FindFreeSlots (a venue and five members over ten working days, two hours, up to ten slots; the working",
        "days from the directory's calendar). Consultation on core 0 (one event-loop thread); the directory and the load",
        "generator (`xieshang-bench consultation`) on core 1. SQLite runs with `synchronous=FULL`; the PostgreSQL server is",
        "the throwaway test server (fsync off). Target: p99 < 20 ms for both.",
        "",
        "| engine | meetings | slots refused while scheduling | setup s |",
        "|---|---:|---:|---:|",
    ]
    for engine, r in results.items():
        lines.append(f"| {engine} | {r['meetings']:,} | {r['refused_attempts']:,} | {r['setup_seconds']:.1f} |")
    lines += [""]
    lines += latency_table({e: {"CheckConflicts": r["conflicts"], "FindFreeSlots": r["free_slots"]} for e, r in results.items()})
    lines.append("<!-- consultation-bench:end -->")
    replace_block(Path(args.out), "consultation-bench", "\n".join(lines))


if __name__ == "__main__":
    main()
