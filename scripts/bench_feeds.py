#!/usr/bin/env python3
"""Change feeds across processes and failover, on the compose topology as processes (PostgreSQL).

* Event to consumer across processes: proposals runs two replicas; proposals are submitted to
  replica 0 (paced, --events at --rate a second) while a Watch stream is open on replica 1; the lag
  is the event's time (`at_unix_ms`, its transaction's start) to its arrival on the stream. With
  LISTEN/NOTIFY (the default) and without (XIESHANG_DB_LISTEN=off: the 0.2 s poll).
* Failover: analytics and notify run two replicas; the one following the feeds is killed
  (SIGKILL) --kills times each, and the time until the other says it follows is measured.

Writes the `feeds-bench` block of BENCHMARKS.md."""
import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import grpc

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "Tests" / "Python"))
from bench_intake import BIN  # noqa: E402
from bench_rpc import replace_block  # noqa: E402
from conftest import ensure_generated  # noqa: E402

os.environ.setdefault("XIESHANG_PRINCIPAL_SECRET", "xieshang-bench-principal-secret")
ensure_generated()
from directory_client import principal, signed  # noqa: E402
from replicas import following, kill9, the_follower  # noqa: E402
from topology import Topology  # noqa: E402
from xieshang.common.v1 import principal_pb2  # noqa: E402
from xieshang.directory.v1 import directory_pb2 as dpb, directory_pb2_grpc  # noqa: E402
from xieshang.events.v1 import events_pb2  # noqa: E402
from xieshang.proposal.v1 import proposal_pb2 as ppb, proposal_pb2_grpc  # noqa: E402

COUNTY = 2
ADMIN = principal(COUNTY, principal_pb2.ROLE_COMMITTEE_ADMIN)
SYSTEM = principal(COUNTY, principal_pb2.ROLE_SYSTEM)


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * p))]


def feed_lag(t: Topology, events: int, rate: float) -> dict:
    with grpc.insecure_channel(t.address("directory")) as d:
        m = directory_pb2_grpc.DirectoryServiceStub(d).ListMembers(dpb.ListMembersRequest(page_size=1), metadata=ADMIN).members[0]
    member = signed(principal_pb2.Principal(committee_id=COUNTY, roles=[principal_pb2.ROLE_MEMBER], account_id=9, member_id=m.id,
                                            display_name=m.name))
    writer = grpc.insecure_channel(t.address("proposals", 0))
    reader = grpc.insecure_channel(t.address("proposals", 1))
    got: list[float] = []
    start_ms = time.time() * 1000
    stream = proposal_pb2_grpc.ProposalServiceStub(reader).Watch(events_pb2.WatchRequest(entity_kinds=["proposal"]), metadata=SYSTEM)

    def read():
        try:
            for e in stream:
                if e.at_unix_ms >= start_ms:
                    got.append(time.time() * 1000 - e.at_unix_ms)
                    if len(got) >= events:
                        return
        except grpc.RpcError:
            pass

    th = threading.Thread(target=read, daemon=True)
    th.start()
    time.sleep(1)
    stub = proposal_pb2_grpc.ProposalServiceStub(writer)
    begin = time.time()
    for i in range(events):
        wait = begin + i / rate - time.time()
        if wait > 0:
            time.sleep(wait)
        stub.SubmitProposal(ppb.Proposal(proposer_kind=ppb.PROPOSER_KIND_MEMBER, session=ppb.SESSION_PLENARY, session_name="九届五次会议",
                                         title=f"关于第{i}项工作的提案", reasons="情况说明。", suggestions="具体建议。", category="经济"),
                            metadata=member, timeout=20)
    th.join(60)
    stream.cancel()
    writer.close()
    reader.close()
    return {"events": len(got), "p50": statistics.median(got), "p99": pct(got, 0.99), "max": max(got)}


def failovers(t: Topology, service: str, kills: int) -> list[float]:
    out = []
    for _ in range(kills):
        current = the_follower(t, service, timeout=60)
        killed = time.monotonic()
        kill9(t, service, current)
        while following(t, service) != [1 - current]:
            time.sleep(0.02)
        out.append(time.monotonic() - killed)
        t.start(service, current)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=400)
    ap.add_argument("--rate", type=float, default=50)
    ap.add_argument("--kills", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    args = ap.parse_args()
    results = {}
    for listen in ("on", "off"):
        os.environ["XIESHANG_DB_LISTEN"] = listen
        replicas = {"proposals": 2, "analytics": 2, "notify": 2} if listen == "on" else {"proposals": 2}
        services = None if listen == "on" else ["proposals"]
        with Topology(replicas=replicas, services=services, binary=BIN / "xieshang", password_hashing="minimal") as t:
            results[listen] = feed_lag(t, args.events, args.rate)
            print(f"  listen {listen}: p50 {results[listen]['p50']:.1f} ms, p99 {results[listen]['p99']:.1f} ms", flush=True)
            if listen == "on":
                results["analytics"] = failovers(t, "analytics", args.kills)
                results["notify"] = failovers(t, "notify", args.kills)
                print(f"  failover: analytics {results['analytics']}, notify {results['notify']}", flush=True)
    os.environ.pop("XIESHANG_DB_LISTEN", None)
    on, off = results["on"], results["off"]
    lines = ["<!-- feeds-bench:start -->", "## Change feeds across processes, and failover", "",
             "`bash scripts/bench.sh feeds` (`scripts/bench_feeds.py`): the compose topology as processes on PostgreSQL. "
             f"{args.events} proposals submitted to proposals replica 0 at {args.rate:.0f} a second while a Watch stream is open on replica 1; "
             "lag from each event's time to its arrival on the stream.", "",
             "| wake-up | events | p50 | p99 | max |", "|---|---:|---:|---:|---:|",
             f"| LISTEN/NOTIFY (default) | {on['events']} | {on['p50']:.1f} ms | {on['p99']:.1f} ms | {on['max']:.1f} ms |",
             f"| poll every 0.2 s (`XIESHANG_DB_LISTEN=off`) | {off['events']} | {off['p50']:.1f} ms | {off['p99']:.1f} ms | {off['max']:.1f} ms |", "",
             f"Target: event to consumer across processes p99 < 50 ms: **{'met' if on['p99'] < 50 else 'missed'}** ({on['p99']:.1f} ms).", "",
             f"Failover (two replicas each; the one following the feeds killed with SIGKILL {args.kills} times; time until the other says it follows, "
             "polling its status every 20 ms):", "",
             "| service | takeovers | each |", "|---|---:|---|"]
    for s in ("analytics", "notify"):
        lines.append(f"| {s} | {len(results[s])} | {', '.join(f'{x:.2f} s' for x in results[s])} |")
    lines += ["", "A replica tries the PostgreSQL advisory lock every second; the lock is free as soon as the killed process's session ends.",
              "<!-- feeds-bench:end -->"]
    replace_block(Path(args.out), "feeds-bench", "\n".join(lines))


if __name__ == "__main__":
    main()
