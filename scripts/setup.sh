#!/usr/bin/env bash
# Installs every Debian package nanocaf uses. Idempotent, and quick when all is there.
set -euo pipefail

packages=(
  cmake g++ make ninja-build pkgconf ccache
  libcaf-dev libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc
  libboost-dev nlohmann-json3-dev libspdlog-dev libssl-dev zlib1g-dev
  curl python3 prometheus   # the metrics test scrapes a node with a real Prometheus
  openssl                   # certificates for the TLS tests
  libgtest-dev libgmock-dev
  libcli11-dev doxygen          # flags and config files for servers; the API reference
  clang-14 libclang-rt-14-dev   # libFuzzer for the codec fuzz target
  chromium                      # the browser test (driven by npm's playwright-core)
)
# Node.js and npm for the browser test: the machine's own when present, else Debian's.
command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "setup: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
