#!/usr/bin/env bash
# Builds the libFuzzer target (Fuzz/) with address sanitizer and runs it for ${FUZZ_SECONDS:-60} s.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --package-path Fuzz -c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
mkdir -p .build-fuzz-corpus
exec Fuzz/.build/debug/DecodeFuzzer -max_total_time="${FUZZ_SECONDS:-60}" .build-fuzz-corpus
