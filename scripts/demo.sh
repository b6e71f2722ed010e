#!/usr/bin/env bash
# The main job: installs what is missing, builds if needed, starts a local cluster serving the
# chat demo (master, a chat node, a gate) and prints the URL of its page. Ctrl-C stops it.
#   scripts/demo.sh [--chat N]     the cluster (nano's cluster demo)
#   scripts/demo.sh --single       the single-node chat instead (page at :3250/web/)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ "${1:-}" = "--single" ]; then
  shift
  scripts/setup.sh
  dir=$(scripts/build.sh | tail -n 1)
  exec "$dir/apps/chat" "$@"
fi
scripts/cluster.sh up "$@"
trap 'scripts/cluster.sh down; exit 0' INT TERM
echo "logs: scripts/cluster.sh logs; Ctrl-C stops the cluster"
while true; do sleep 3600 & wait $!; done
