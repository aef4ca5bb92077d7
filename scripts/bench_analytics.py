#!/usr/bin/env python3
"""Analytics benchmark, a prefecture year: a generated year of ten counties (3,000 members, about
a million change events: opinions through their lifecycle, relays, reports, proposals,
consultations, meetings, rosters) is recorded into one feed log per source and served as the
sources' Watch; analytics ingests it over HTTP/2 into an empty projection (timed), then asks for
dashboards (county, prefecture roll-up, sector, town, station, member, an odd period; each with
last year and the ranking) at a fixed concurrency. One process (`xieshang-bench analytics`), on
SQLite and PostgreSQL. Writes the figures into BENCHMARKS.md between markers."""
import argparse
import json
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from bench_intake import BIN, ENV  # noqa: E402
from bench_rpc import latency_table, replace_block  # noqa: E402


def run(database: list, args) -> dict:
    with tempfile.TemporaryDirectory(prefix="xieshang-bench-analytics-") as feeds:
        if database[0] == "sqlite":
            database = ["--database", f"sqlite:{feeds}/analytics.sqlite3"]
        base = [BIN / "xieshang-bench", "analytics", "--feeds", feeds, *database, "--counties", str(args.counties),
                "--items", str(args.items), "--seconds", str(args.seconds)]

        def once(concurrency, *extra):
            r = subprocess.run(base + ["--concurrency", str(concurrency), *extra], check=True, capture_output=True, text=True, env=ENV)
            return json.loads(r.stdout.strip().splitlines()[-1])

        out = once(args.concurrency)
        # The same projection asked by fewer and more callers (no second ingest).
        out["sweep"] = {c: once(c, "--reuse")["dashboard"] for c in args.sweep}
        out["sweep"][args.concurrency] = out["dashboard"]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--counties", type=int, default=10)
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--sweep", type=lambda v: [int(c) for c in v.split(",") if c], default=[1, 2, 8],
                    help="other numbers of dashboard callers measured on the same projection")
    ap.add_argument("--engines", default="sqlite,postgres")
    ap.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    args = ap.parse_args()

    results = {}
    if "sqlite" in args.engines:
        results["SQLite"] = run(["sqlite"], args)
    if "postgres" in args.engines:
        url = subprocess.run(["bash", str(ROOT / "scripts" / "pg-server.sh"), "start"], check=True, capture_output=True, text=True).stdout.strip()
        schema = f"bench_analytics_{uuid.uuid4().hex[:8]}"
        try:
            results["PostgreSQL"] = run(["--database", url, "--schema", schema], args)
        finally:
            subprocess.run(["psql", url, "-qc", f'DROP SCHEMA "{schema}" CASCADE'], check=False, capture_output=True)
    for engine, r in results.items():
        d = r["dashboard"]
        if d["errors"]:
            raise RuntimeError(f"{engine}: {d['errors']} dashboard calls failed")
        print(f"{engine:10s} {r['events']:,} events ingested in {r['ingest_seconds']:.1f} s ({r['ingest_rate']:,.0f}/s); "
              f"dashboard p99 {d['p99_ms']:.2f} ms at {d['rps']:,.0f}/s", flush=True)

    lines = [
        "<!-- analytics-bench:start -->",
        "## Analytics: ingest and dashboards over a prefecture year",
        "",
        "`make bench` (`scripts/bench_analytics.py`, one `xieshang-bench analytics` process): a generated year of "
        f"{args.counties} counties ({next(iter(results.values()))['members']:,} members) recorded into one feed log per source "
        "(SQLite) and served as the sources' `Watch`; analytics reads the four feeds over HTTP/2 into an empty projection "
        "(the feeds send 1,024 events per read; up to 10,000 events per transaction, with the cursor, not synced: a batch lost "
        "with the machine is read again; the next batch is read while one is applied). Then dashboards for "
        f"{args.seconds:.0f} s at {args.concurrency} concurrent callers, in turn: a county's year, the prefecture roll-up, a "
        "sector, a town, a station, a member, and a county over 10 February – 20 September; each answer carries last year, "
        "the top and bottom five by points and the freshness. Feeds, analytics and the load share the two cores. "
        "Targets: ≥ 50,000 events/s ingested, dashboard p99 < 20 ms.",
        "",
        "| engine | events | by source | ingest s | events/s |",
        "|---|---:|---|---:|---:|",
    ]
    for engine, r in results.items():
        by = ", ".join(f"{k} {v:,}" for k, v in sorted(r["events_by_source"].items()))
        lines.append(f"| {engine} | {r['events']:,} | {by} | {r['ingest_seconds']:.1f} | {r['ingest_rate']:,.0f} |")
    lines += [""]
    lines += latency_table({e: {"GetDashboard (mixed)": r["dashboard"]} for e, r in results.items()})
    lines += ["", "| engine | " + " | ".join(sorted(next(iter(results.values()))["dashboard"]["by_kind"])) + " |",
              "|---|" + "---:|" * len(next(iter(results.values()))["dashboard"]["by_kind"])]
    for engine, r in results.items():
        kinds = r["dashboard"]["by_kind"]
        lines.append(f"| {engine} p50 / p99 ms | " + " | ".join(f"{kinds[k]['p50_ms']:.1f} / {kinds[k]['p99_ms']:.1f}" for k in sorted(kinds)) + " |")
    lines += ["", "Dashboards by number of concurrent callers (the same projection; mixed kinds as above):", "",
              "| engine | callers | req/s | p50 ms | p90 ms | p99 ms |", "|---|---:|---:|---:|---:|---:|"]
    for engine, r in results.items():
        for c, d in sorted(r["sweep"].items()):
            lines.append(f"| {engine} | {c} | {d['rps']:,.0f} | {d['p50_ms']:.2f} | {d['p90_ms']:.2f} | {d['p99_ms']:.2f} |")
    lines.append("<!-- analytics-bench:end -->")
    replace_block(Path(args.out), "analytics-bench", "\n".join(lines))


if __name__ == "__main__":
    main()
