#!/usr/bin/env bash
# The JavaScript client's tests (Node's built-in test runner): its codec, a scripted server, and
# real servers of the build over TCP and WebSocket.
#   tests/js/run.sh [CHAT BENCH_SERVER]     (default: build/apps/chat and build/apps/bench-server)
# Exit 77 (ctest: skipped) when node is not installed or older than 18.13.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v node >/dev/null || { echo "SKIP: node is not installed"; exit 77; }
# The tests use t.after (Node 18.13); the library itself runs on Node 18.
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 18 || (a === 18 && b >= 13) ? 0 : 1)' ||
  { echo "SKIP: node $(node --version) is older than 18.13"; exit 77; }
major=$(node -p 'process.versions.node.split(".")[0]')
absolute() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
if [ $# -ge 2 ]; then
  NANOCAF_CHAT=$(absolute "$1") NANOCAF_BENCH_SERVER=$(absolute "$2")
  export NANOCAF_CHAT NANOCAF_BENCH_SERVER
fi
# Node 22 has a global WebSocket, Node 20 behind a flag: with one, the tests also take the
# WebSocket-API path that browsers take.
flags=()
has_ws='process.exit(typeof WebSocket === "function" ? 0 : 1)'
if ! node -e "$has_ws" 2>/dev/null && node --experimental-websocket -e "$has_ws" 2>/dev/null; then
  flags+=(--experimental-websocket)
fi
[ "$major" -ge 20 ] && flags+=(--test-reporter=spec)
cd "$here"
exec node "${flags[@]}" --test protocol.test.js fake_server.test.js server.test.js
