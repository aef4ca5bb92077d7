#!/usr/bin/env bash
# Builds and runs Xieshang on its embedded default: `xieshang up` runs every service and the
# gateway in one process (gateway on 127.0.0.1:${XIESHANG_PORT:-50060}), SQLite under
# ${XIESHANG_DATA_DIR:-./data}, the demo prefecture (黔南州 and eight counties) and a token per
# role created on first start and printed on every start. Ctrl-C stops it gracefully.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product xieshang
exec .build/release/xieshang up "$@"
