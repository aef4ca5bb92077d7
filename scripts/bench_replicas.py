#!/usr/bin/env python3
"""Replicas behind the gateway on PostgreSQL: intake submissions/s (IntakeService/SubmitItem) and
GetMember/s (DirectoryService/GetMember) through the gateway with one and with two replicas of
intake and the directory, in the same run, on the compose topology as processes. The failover of
analytics and notify is measured by bench_feeds.py. Writes the `replicas-bench` block."""
import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "Tests" / "Python"))
from bench_gateway import SECRET, XIESHANG, load, login  # noqa: E402
from bench_rpc import replace_block  # noqa: E402
from topology import Topology  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    args = ap.parse_args()
    rows = []
    for n in (1, 2):
        print(f"{n} replica(s) of intake and the directory:", flush=True)
        with Topology(replicas={"intake": n, "directory": n}, binary=XIESHANG, password_hashing="minimal", principal_secret=SECRET) as t:
            token = login(t.gateway_address, "changshun.liaison")
            rows.append((n, load(t.gateway_address, token, "write", "", args), load(t.gateway_address, token, "read", "", args)))
    lines = ["<!-- replicas-bench:start -->", "## Replicas behind the gateway (PostgreSQL)", "",
             f"`bash scripts/bench.sh replicas` (`scripts/bench_replicas.py`): the compose topology as processes, {args.concurrency} "
             f"concurrent streams for {args.seconds:.0f} s from one `xieshang-bench gateway` process through the gateway "
             "(a liaison staff token). Write: `IntakeService/SubmitItem`; read: `DirectoryService/GetMember`. The same run, "
             "with one and with two replicas of intake and the directory.", "",
             "| replicas | SubmitItem/s | p99 ms | GetMember/s | p99 ms |", "|---:|---:|---:|---:|---:|"]
    for n, w, r in rows:
        lines.append(f"| {n} | {w['rps']:,.0f} | {w['p99_ms']:.1f} | {r['rps']:,.0f} | {r['p99_ms']:.1f} |")
    lines += ["", "Every process, PostgreSQL and the load generator share the machine's two cores, so a second replica adds "
              "no CPU: what the table shows is that the work spreads over both replicas without losing throughput, "
              "not how far it scales on more machines.", "<!-- replicas-bench:end -->"]
    replace_block(Path(args.out), "replicas-bench", "\n".join(lines))


if __name__ == "__main__":
    main()
