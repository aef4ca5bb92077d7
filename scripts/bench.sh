#!/usr/bin/env bash
# Benchmarks (not part of the tests): builds release binaries and the grpc-swift-2 peer,
# then runs each benchmark, writing BENCHMARKS.md.
#   scripts/bench.sh            everything
#   scripts/bench.sh rpc        the RPC transport against grpcio and grpc-swift-2
#   scripts/bench.sh directory  directory lookups and listings on SQLite and PostgreSQL
#   scripts/bench.sh intake     submissions, routing and search (also over 1,000,000 items)
#   scripts/bench.sh proposals  a plenary day: 2,000 proposals submitted, registered and assigned
#   scripts/bench.sh consultation  conflict checks and free slots over a county year of 5,000 meetings
#   scripts/bench.sh gateway    a read and a write RPC through the gateway and straight to the service, 64 streams;
#                               GetMember by native gRPC, Connect and gRPC-Web through the gateway (h2load)
#   scripts/bench.sh analytics  ingest of a recorded prefecture year (about 1,000,000 events) and dashboards
#   scripts/bench.sh notify     events turned into inbox notifications and webhook deliveries, lag at 1,000 events/s
#   scripts/bench.sh feeds      Watch lag across processes (LISTEN/NOTIFY and the poll) and the failover of analytics and notify
#   scripts/bench.sh replicas   SubmitItem/s and GetMember/s through the gateway with 1 and 2 replicas of intake and the directory
set -euo pipefail
cd "$(dirname "$0")/.."
# The secret the bench and the processes it starts share (services refuse unsigned principals).
export XIESHANG_PRINCIPAL_SECRET=${XIESHANG_PRINCIPAL_SECRET:-xieshang-bench-principal-secret}
what=${1:-all}
[ $# -gt 0 ] && shift
swift build -c release --product xieshang
swift build -c release --product xieshang-bench
if [ "$what" = all ] || [ "$what" = rpc ]; then
  swift build -c release --package-path Benchmarks/GRPCSwiftPeer
  python3 scripts/bench_rpc.py "$@"
fi
if [ "$what" = all ] || [ "$what" = directory ]; then
  python3 scripts/bench_directory.py "$@"
fi
if [ "$what" = all ] || [ "$what" = intake ]; then
  python3 scripts/bench_intake.py "$@"
fi
if [ "$what" = all ] || [ "$what" = proposals ]; then
  python3 scripts/bench_proposals.py "$@"
fi
if [ "$what" = all ] || [ "$what" = consultation ]; then
  python3 scripts/bench_consultation.py "$@"
fi
if [ "$what" = all ] || [ "$what" = gateway ]; then
  python3 scripts/bench_gateway.py "$@"
  python3 scripts/bench_gateway_web.py
fi
if [ "$what" = all ] || [ "$what" = analytics ]; then
  python3 scripts/bench_analytics.py "$@"
fi
if [ "$what" = all ] || [ "$what" = notify ]; then
  python3 scripts/bench_notify.py "$@"
fi
if [ "$what" = all ] || [ "$what" = feeds ]; then
  python3 scripts/bench_feeds.py "$@"
fi
if [ "$what" = all ] || [ "$what" = replicas ]; then
  python3 scripts/bench_replicas.py "$@"
fi
