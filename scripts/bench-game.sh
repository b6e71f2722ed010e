#!/usr/bin/env bash
# The game benchmark (issue 21): tic-tac-toe bots (apps/bench/tictactoe_bots.js, Node) play
# game after game, 2,000 clients in 1,000 rooms, against one node and against master + 2 gates
# + 2 backends, the players of a room on different gates. Every server process is pinned to
# core 0 and the bots to core 1, as scripts/bench.sh pins. Prints moves per second, move
# latency (p50, p99, request to reply, as the bots see it) and the servers' CPU per move.
# Usage: scripts/bench-game.sh [--secs N] [--pairs N]        (defaults: 15 s, 1000 pairs)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
secs=15 pairs=1000
while [ $# -gt 0 ]; do
  case "$1" in
    --secs) secs=$2; shift 2 ;;
    --pairs) pairs=$2; shift 2 ;;
    *) sed -n '2,8p' "$0"; exit 2 ;;
  esac
done
scripts/setup.sh
dir=$(scripts/build.sh | tail -n 1)
bin=$root/$dir/apps/tictactoe
bots=$root/apps/bench/tictactoe_bots.js
clk=$(getconf CLK_TCK)
ulimit -n 65536 2>/dev/null || true
# The budget per client is for hostile clients; the bots are many per process, not hostile.
flags=(--rate-limit 0 --fanout-limit 0 --turn-seconds 30 --log-level warn)
run_dir=$(mktemp -d)
export NANOCAF_RUN_DIR=$run_dir NANOCAF_CLUSTER_BIN=$bin NANOCAF_CLUSTER_PORT=31000
trap 'scripts/cluster.sh down >/dev/null 2>&1 || true; kill "${single_pid:-0}" 2>/dev/null || true; rm -rf "$run_dir"' EXIT

row() { # name, gates, pids: one JSON line from the bots
  sleep 2
  taskset -c 1 node "$bots" --gates "$2" --bench "$secs" --pairs "$pairs" --pids "$3" --clk-tck "$clk"
}

taskset -c 0 "$bin" --tcp 127.0.0.1:31990 --ws 127.0.0.1:31991 --threads 1 "${flags[@]}" > "$run_dir/single.log" 2>&1 &
single_pid=$!
single=$(row single tcp://127.0.0.1:31990 "$single_pid")
kill "$single_pid"; wait "$single_pid" 2>/dev/null || true

taskset -c 0 scripts/cluster.sh up --game -- --threads 1 "${flags[@]}" > /dev/null
pids=$(cat "$run_dir"/*.pid | paste -sd,)
cluster=$(row cluster tcp://127.0.0.1:31033,tcp://127.0.0.1:31034 "$pids")
scripts/cluster.sh down > /dev/null

echo "| topology | moves/s | p50 ms | p99 ms | server CPU per move |"
echo "|---|---|---|---|---|"
for r in "single node:$single" "master + 2 gates + 2 backends:$cluster"; do
  name=${r%%:\{*} j=${r#*:}
  node -e 'const r = JSON.parse(process.argv[2]); console.log(`| ${process.argv[1]} | ${r.moves_per_s} | ${r.p50_ms} | ${r.p99_ms} | ${r.cpu_us_per_move} µs |`)' "$name" "$j"
done
node -e 'const [a, b] = process.argv.slice(1).map(JSON.parse); console.log(`cluster / single CPU per move: ${(b.cpu_us_per_move / a.cpu_us_per_move).toFixed(2)}x`)' "$single" "$cluster"
