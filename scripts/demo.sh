#!/usr/bin/env bash
# The main job: installs what is missing, builds if needed, starts a local cluster serving the
# tic-tac-toe game (a master with the lobby, 2 gates serving the page, 2 backends with the
# rooms) and prints the URLs of its page. Ctrl-C stops it.
#   scripts/demo.sh                the game's cluster (scripts/cluster.sh up --game)
#   scripts/demo.sh --single       the game on one node (page at http://127.0.0.1:3250/web/)
#   scripts/demo.sh --chat [N]     nano's cluster chat demo instead (master, N chat nodes, a gate)
#   scripts/demo.sh --single-chat  the single-node chat (page at http://127.0.0.1:3250/web/)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
single() { # program, flags...
  scripts/setup.sh
  dir=$(scripts/build.sh | tail -n 1)
  local program=$1; shift
  exec "$dir/apps/$program" "$@"
}
case "${1:-}" in
  --single) shift; single tictactoe "$@" ;;
  --single-chat) shift; single chat "$@" ;;
  --chat) shift; scripts/cluster.sh up --chat "${1:-1}" ;;
  "") scripts/cluster.sh up --game ;;
  *) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
trap 'scripts/cluster.sh down; exit 0' INT TERM
echo "logs: scripts/cluster.sh logs; Ctrl-C stops the cluster"
while true; do sleep 3600 & wait $!; done
