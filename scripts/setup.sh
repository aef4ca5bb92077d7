#!/usr/bin/env bash
# Installs everything Xieshang needs on a fresh Debian 12 machine (run as root).
# Idempotent: skips what is already present.
set -euo pipefail

APT_PACKAGES=(libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler
  libsqlite3-dev libpq-dev libsodium-dev nghttp2-client postgresql curl openssl)
PIP_PACKAGES=(grpcio grpcio-tools grpcio-health-checking grpcio-reflection protobuf pytest h2 pyyaml kubernetes-validate)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! python3 -c "import grpc, grpc_tools, grpc_health, grpc_reflection, pytest, h2, yaml, kubernetes_validate" 2>/dev/null; then
  echo "setup: installing Python packages: ${PIP_PACKAGES[*]}"
  python3 -m pip install -q --disable-pip-version-check "${PIP_PACKAGES[@]}"
fi

if ! command -v swift >/dev/null 2>&1; then
  if [ -x /opt/swift/usr/bin/swift ]; then
    echo "setup: add /opt/swift/usr/bin to PATH" >&2
  else
    echo "setup: a Swift 6 toolchain is required (swift not found)" >&2
    exit 1
  fi
fi
echo "setup: ready"
