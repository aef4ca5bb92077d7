#!/usr/bin/env bash
# The whole test suite: generated-code freshness, Swift tests, and the Python conformance suite
# (grpcio peers, malformed input), with every store test on SQLite and on a real PostgreSQL server
# that scripts/pg-server.sh starts. Prerequisites come from scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== generated code"
bash scripts/check-protos.sh

echo "== swift build"
swift build --build-tests

echo "== postgresql (throwaway server for the store and service tests)"
XIESHANG_TEST_POSTGRES_URL=$(bash scripts/pg-server.sh start)
export XIESHANG_TEST_POSTGRES_URL XIESHANG_REQUIRE_POSTGRES=1
echo "$XIESHANG_TEST_POSTGRES_URL"

echo "== swift test"
log=$(mktemp)
set +e
swift test --skip-build >"$log" 2>&1
rc=$?
set -e
grep -E "^Test Suite 'All tests'|Executed [0-9]+ tests|error:" "$log" | tail -5 || true
if [ "$rc" -ne 0 ]; then
  echo "swift test failed (exit $rc); full log:" >&2
  cat "$log" >&2
  exit "$rc"
fi

echo "== python conformance suite"
export XIESHANG_BIN="$PWD/.build/debug/xieshang" XIESHANG_REQUIRE_BIN=1
python3 -m pytest -q Tests/Python
