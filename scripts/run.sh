#!/usr/bin/env bash
# Builds and runs Xieshang on its embedded default: the directory service on
# 127.0.0.1:${XIESHANG_PORT:-50061}, SQLite under ${XIESHANG_DATA_DIR:-./data}, and the demo
# prefecture (黔南州 and eight counties) created on first start. The other services, the gateway
# and `xieshang up` join it as they are built.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product xieshang
exec .build/release/xieshang serve directory --seed-demo --port "${XIESHANG_PORT:-50061}" "$@"
