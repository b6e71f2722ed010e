#!/usr/bin/env bash
# Runs the chat demo: installs what is missing, builds if needed, starts the server and prints
# the URL of its page. Ctrl-C stops it. Extra arguments go to the chat program (see --help).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/setup.sh
dir=$(scripts/build.sh | tail -n 1)
exec "$dir/apps/chat" "$@"
