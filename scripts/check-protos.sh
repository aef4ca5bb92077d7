#!/usr/bin/env bash
# Regenerates the generated code and fails when that changes the tree (stale or hand-edited files).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/gen-protos.sh >/dev/null
if ! git diff --quiet -- Sources/XieshangProtoC/Generated Sources/XieshangAPI/Generated \
   || [ -n "$(git status --porcelain -- Sources/XieshangProtoC/Generated Sources/XieshangAPI/Generated)" ]; then
  echo "check-protos: generated code is stale; run 'make protos' and commit the result:" >&2
  git status --short -- Sources/XieshangProtoC/Generated Sources/XieshangAPI/Generated >&2
  exit 1
fi
echo "check-protos: generated code is up to date"
