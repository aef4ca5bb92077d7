#!/usr/bin/env bash
# Builds and runs Xieshang on its embedded default.
# So far the RPC foundation is in place: this serves the gRPC conformance service and health
# on 127.0.0.1:${XIESHANG_PORT:-50051}; the domain services and `xieshang up` come next.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product xieshang
exec .build/release/xieshang interop-server --host 127.0.0.1 --port "${XIESHANG_PORT:-50051}"
