#!/usr/bin/env bash
# The example game over real processes: master, 2 gates and 2 backends (scripts/cluster.sh up
# --game), bots playing through both gates, then a check that no session or room is left on
# any node (from the nodes' metrics).
#   tests/game/run.sh TICTACTOE normal|kill
# Exit 77 (ctest: skipped) when node is not installed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=$1 mode=$2
command -v node >/dev/null || { echo "SKIP: node is not installed"; exit 77; }
export NANOCAF_CLUSTER_BIN=$bin
export NANOCAF_RUN_DIR=$(mktemp -d)
# A base port per run, below the ephemeral range (32768 and up) and the other tests. ports.
export NANOCAF_CLUSTER_PORT=$(( 10000 + (RANDOM % 100) * 50 ))
base=$NANOCAF_CLUSTER_PORT
bots=$root/apps/bench/tictactoe_bots.js
gates=tcp://127.0.0.1:$((base + 33)),tcp://127.0.0.1:$((base + 34))
cleanup() {
  "$root/scripts/cluster.sh" down >/dev/null || true
  [ "${keep:-0}" = 1 ] || rm -rf "$NANOCAF_RUN_DIR"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; tail -n 20 "$NANOCAF_RUN_DIR"/*.log; keep=1; exit 1; }

metric() { # port series: its value, 0 when absent
  curl -sf "http://127.0.0.1:$1/metrics" | awk -v s="$2" '$1 == s { print $2; found=1 } END { if (!found) print 0 }'
}
no_leaks() { # every node but those named dead: no sessions, remote sessions or rooms left
  local ok=1
  for node in master:40 gate1:41 gate2:42 backend1:43 backend2:44; do
    local name=${node%:*} port=$((base + ${node#*:}))
    [[ " $* " == *" $name "* ]] && continue
    for series in nanocaf_sessions nanocaf_cluster_remote_sessions tictactoe_rooms tictactoe_lobby_rooms; do
      local v; v=$(metric "$port" "$series")
      if [ "${v%.*}" != 0 ]; then ok=0; last="$name $series = $v"; fi
    done
  done
  [ $ok = 1 ]
}
wait_no_leaks() {
  for _ in $(seq 1 100); do no_leaks "$@" && return 0; sleep 0.2; done
  fail "left behind after the games: $last"
}

"$root/scripts/cluster.sh" up --game -- --turn-seconds 10 --rate-limit 0 --member-heartbeat 0.5 \
  || fail "the cluster did not start"
# Wait until both gates know both backends: a game on a node a gate does not know yet is a 404.
sleep 1.5
case "$mode" in
  normal)
    node "$bots" --gates "$gates" --games 200 || fail "the games"
    wait_no_leaks ;;
  kill)
    node "$bots" --gates "$gates" --games 100 --move-pause 150 \
      --kill "$NANOCAF_RUN_DIR/backend1.pid" --kill-after 300 || fail "the games around the kill"
    wait_no_leaks backend1 ;;
  *) echo "usage: $0 TICTACTOE normal|kill"; exit 2 ;;
esac
echo "PASS"
