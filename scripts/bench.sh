#!/usr/bin/env bash
# Benchmarks (not part of the tests): builds release binaries and the grpc-swift-2 peer,
# then runs each benchmark, writing BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product xieshang
swift build -c release --package-path Benchmarks/GRPCSwiftPeer
python3 scripts/bench_rpc.py "$@"
