#!/usr/bin/env bash
# The single-node chat page (apps/chat/web/index.html, on apps/client-js/nanocaf.js) in a real
# browser: starts the chat demo on a free port, then two Chromium pages chat through it, check
# an error reply inside the page, and see the kick reason when the server shuts down.
#   tests/browser/single_chat.sh CHAT_BINARY RESULTS_DIR
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
source "$root/tests/ops/common.sh" # $work, $pids (killed on exit), free_port, wait_port

port=$(free_port)
"$bin" --ws "127.0.0.1:$port" --log-level info > "$work/chat.log" 2>&1 &
pid=$!
pids+=($pid)
wait_port "$port" || { cat "$work/chat.log"; exit 1; }
if ! node "$here/single_chat.js" "http://127.0.0.1:$port/web/" "$out" "$pid"; then
  echo "--- chat log:"; cat "$work/chat.log"
  exit 1
fi
echo "screenshots in $out"
