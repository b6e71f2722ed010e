#!/usr/bin/env bash
# The cluster chat page in a real browser: starts a local cluster with scripts/cluster.sh
# (ports from 24667, its own run folder), then two Chromium pages chat through it.
#   tests/browser/run.sh CLUSTER_CHAT_BINARY RESULTS_DIR
# Exit 77 (ctest: skipped) only when chromium or node is not installed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=$1
out=$2
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { echo "SKIP: chromium is not installed (scripts/setup.sh installs it)"; exit 77; }
mkdir -p "$out"
if [ ! -d "$here/node_modules/playwright-core" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

export NANOCAF_RUN_DIR
NANOCAF_RUN_DIR=$(mktemp -d)
export NANOCAF_CLUSTER_PORT=24667 NANOCAF_CLUSTER_BIN=$bin
trap '"$root/scripts/cluster.sh" down >/dev/null; rm -rf "$NANOCAF_RUN_DIR"' EXIT
"$root/scripts/cluster.sh" up
# The gate serves the page once it has learned the chat node from the master.
sleep 1
if ! node "$here/cluster_chat.js" "http://127.0.0.1:24690/web/cluster.html" "$out"; then
  "$root/scripts/cluster.sh" logs
  exit 1
fi
echo "screenshots in $out"
