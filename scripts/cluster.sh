#!/usr/bin/env bash
# A local nanocaf cluster on 127.0.0.1: the tic-tac-toe game (master, 2 gates, 2 backends) or
# nano's cluster demo (master, N chat nodes and a gate).
#   scripts/cluster.sh up --game [-- FLAGS]  the game; FLAGS go to every node (--turn-seconds 5)
#   scripts/cluster.sh up [--chat N]   the chat demo; build if needed, start, wait for the gate
#   scripts/cluster.sh down            stop every node (SIGTERM, then SIGKILL after 5 s)
#   scripts/cluster.sh status          which nodes run
#   scripts/cluster.sh logs [-f]       the nodes' logs
# Pid files and logs go to $NANOCAF_RUN_DIR (default: run/ in the repository).
# Tests set NANOCAF_CLUSTER_PORT (master port; the others follow it, default 34567) and
# NANOCAF_CLUSTER_BIN (the cluster-chat or tictactoe binary to use instead of building one).
# Game ports from the master's (base): gates' WebSocket base+23 and base+24, their TCP
# base+33 and base+34, metrics base+40 (master), +41/+42 (gates), +43/+44 (backends).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
run=${NANOCAF_RUN_DIR:-$root/run}
base=${NANOCAF_CLUSTER_PORT:-34567}
master_addr=127.0.0.1:$base
gate_addr=127.0.0.1:$((base + 3))
chat_base_port=$((base + 13))
gate_clients=127.0.0.1:$((base + 23))

usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_node() { # name, args...
  local name=$1; shift
  if alive "$run/$name.pid"; then
    echo "$name already running (pid $(cat "$run/$name.pid"))"
    return
  fi
  nohup "$bin" "$@" > "$run/$name.log" 2>&1 &
  echo $! > "$run/$name.pid"
  echo "started $name (pid $!)"
}

wait_port() { # host:port, seconds
  local host=${1%:*} port=${1##*:}
  for _ in $(seq 1 $(( $2 * 10 ))); do
    (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

cmd_up() {
  local chats=1 game=0 extra=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --chat) chats=$2; shift 2 ;;
      --game) game=1; shift ;;
      --) shift; extra=("$@"); break ;;
      *) usage ;;
    esac
  done
  local program=cluster-chat
  [ $game = 1 ] && program=tictactoe
  if [ -n "${NANOCAF_CLUSTER_BIN:-}" ]; then
    bin=$NANOCAF_CLUSTER_BIN
  else
    scripts/setup.sh
    local dir
    dir=$(scripts/build.sh | tail -n 1)
    bin="$root/$dir/apps/$program"
  fi
  if [ $game = 1 ]; then
    up_game "${extra[@]}"
    return
  fi
  mkdir -p "$run"
  # Every node of this cluster shares one secret, made here on first use (--nano-cluster on
  # each node instead would let anyone who reaches the gRPC ports in).
  local secret=("--secret-file" "$run/cluster-secret")
  start_node master --role master --listen "$master_addr" "${secret[@]}"
  wait_port "$master_addr" 10 || { echo "master did not start; see $run/master.log"; exit 1; }
  for i in $(seq 1 "$chats"); do
    start_node "chat$i" --role chat --listen "127.0.0.1:$((chat_base_port + i - 1))" --master "$master_addr" "${secret[@]}"
  done
  start_node gate --role gate --listen "$gate_addr" --master "$master_addr" --gate-address "$gate_clients" "${secret[@]}"
  wait_port "$gate_clients" 10 || { echo "gate did not start; see $run/gate.log"; exit 1; }
  echo "cluster up: open http://$gate_clients/web/cluster.html"
}

up_game() { # extra flags for every node
  mkdir -p "$run"
  local common=("--secret-file" "$run/cluster-secret" "--master" "$master_addr" "$@")
  start_node master --role master --listen "$master_addr" --metrics "127.0.0.1:$((base + 40))" "${common[@]}"
  wait_port "$master_addr" 10 || { echo "master did not start; see $run/master.log"; exit 1; }
  for i in 1 2; do
    start_node "backend$i" --role backend --listen "127.0.0.1:$((base + 12 + i))" \
      --metrics "127.0.0.1:$((base + 42 + i))" "${common[@]}"
  done
  for i in 1 2; do
    start_node "gate$i" --role gate --listen "127.0.0.1:$((base + 2 + i))" \
      --ws "127.0.0.1:$((base + 22 + i))" --tcp "127.0.0.1:$((base + 32 + i))" \
      --metrics "127.0.0.1:$((base + 40 + i))" "${common[@]}"
  done
  for i in 1 2; do
    wait_port "127.0.0.1:$((base + 22 + i))" 10 || { echo "gate$i did not start; see $run/gate$i.log"; exit 1; }
  done
  echo "game up: open http://127.0.0.1:$((base + 23))/web/ and http://127.0.0.1:$((base + 24))/web/"
}

cmd_down() {
  [ -d "$run" ] || return 0
  local pids=()
  for f in "$run"/*.pid; do
    [ -e "$f" ] || continue
    if alive "$f"; then
      kill -TERM "$(cat "$f")" 2>/dev/null || true
      pids+=("$(cat "$f")")
    fi
  done
  for _ in $(seq 1 50); do
    local left=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && left=1; done
    [ $left = 0 ] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -f "$run"/*.pid
  echo "cluster down"
}

cmd_status() {
  local any=0
  for f in "$run"/*.pid; do
    [ -e "$f" ] || continue
    any=1
    local name
    name=$(basename "$f" .pid)
    if alive "$f"; then echo "$name: running (pid $(cat "$f"))"; else echo "$name: dead"; fi
  done
  [ $any = 1 ] || echo "no nodes"
}

cmd_logs() {
  if [ "${1:-}" = "-f" ]; then
    tail -n 20 -f "$run"/*.log
  else
    tail -n 50 "$run"/*.log
  fi
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  logs) shift; cmd_logs "$@" ;;
  *) usage ;;
esac
