#!/usr/bin/env bash
# nanocaf side by side with pinus 1.7.4 (apps/bench/pinus-echo: a hybrid-connector app with the
# same bench routes) and the bare-Asio ceiling (raw-echo), alternated in one run with the pinning
# of scripts/bench.sh: echo over TCP and WebSocket at 100 and 1000 connections, broadcast to 100
# and 1000 members with 1 and 4 in flight, idle memory over TCP and WebSocket at 5000.
# Usage: scripts/versus-pinus.sh [--secs N] [--passes N]      (defaults: 5 s, 3 passes)
# Needs Node.js and npm (installed from Debian if missing) and, the first time, the network for
# `npm install` of pinus. Not run by CI. Writes results/versus-pinus-<time>/ as bench.sh does.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

source scripts/bench_lib.sh
secs=5
passes=3
read_run_options 8 "$@"

prepare_bench
command -v npm >/dev/null || apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
pinus_app=apps/bench/pinus-echo
[ -d "$pinus_app/node_modules/pinus" ] ||
  (cd "$pinus_app" && npm install --no-save --no-audit --no-fund pinus@1.7.4 reflect-metadata >/dev/null)
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
out="results/versus-pinus-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$out"
json="$root/$out/results.jsonl"
payload='{"msg":"%PAD%","seq":"%SEQ%"}'

# Each server: its name, then the port its clients use, its route prefix and its server pid.
nanocaf() {
  start 0 "$dir/apps/bench-server" --tcp 127.0.0.1:3250 --ws 127.0.0.1:3251 --threads 1 --rate-limit 0 --fanout-limit 0
  wait_port 3250; wait_port 3251
  tcp=3250 ws=3251 prefix="" pid=${pids[0]}
}
raw() {
  start 0 "$dir/apps/raw-echo" 3270 3271
  wait_port 3270; wait_port 3271
  tcp=3270 ws=3271 prefix="" pid=${pids[0]}
}
pinus() {
  # pinus' master forks the connector, which serves the clients: measure that one. One port
  # takes both transports (the hybrid connector tells them apart by the first bytes).
  # Its start takes seconds and varies: wait for the connector to exist and listen.
  (cd "$pinus_app" && exec taskset -c 0 node app.js >/dev/null 2>&1) &
  pids+=($!)
  pid=""
  for _ in $(seq 1 600); do
    pid=$(pgrep -f "$pinus_app/app.js .*id=connector-server-1" | head -n 1 || true)
    [ -n "$pid" ] && ss -ltn "sport = :3350" | grep -q LISTEN && break
    sleep 0.1
  done
  [ -n "$pid" ] || { echo "versus-pinus: pinus' connector did not start" >&2; return 1; }
  tcp=3350 ws=3350 prefix="connector."
}
stop_pinus() {
  stop_all
  pkill -f "$pinus_app/app.js .*id=connector-server-1" 2>/dev/null || true
  while pgrep -f "$pinus_app/app.js" >/dev/null; do sleep 0.1; done
}
trap stop_pinus EXIT # pinus' connector outlives its master: an interrupted run must not leave it

for pass in $(seq 1 "$passes"); do
  echo "pass $pass/$passes"
  for server in nanocaf pinus raw; do
    "$server"
    for conns in 100 1000; do
      load "$server tcp echo $conns" --port "$tcp" --route "${prefix}bench.echo" --conns "$conns" --duration "$secs" --verify --payload "$payload" --pid "$pid"
      load "$server ws echo $conns" --port "$ws" --ws --path /nano --route "${prefix}bench.echo" --conns "$conns" --duration "$secs" --verify --payload "$payload" --pid "$pid"
    done
    stop_pinus
  done
  for server in nanocaf pinus raw; do
    for members in 100 1000; do
      for window in 1 4; do
        # A fresh server for each group: members join one group and never leave it.
        "$server"
        load "$server broadcast $members window $window" --port "$tcp" --mode broadcast --conns "$members" --window "$window" --duration "$secs" --join-route "${prefix}bench.join" --bcast-route "${prefix}bench.broadcast" --pid "$pid"
        stop_pinus
      done
    done
  done
  for server in nanocaf pinus raw; do
    "$server"
    load "$server idle tcp 5000" --port "$tcp" --mode idle --conns 5000 --settle 3 --duration 5 --pid "$pid"
    stop_pinus
    "$server"
    load "$server idle ws 5000" --port "$ws" --ws --path /nano --mode idle --conns 5000 --settle 3 --duration 5 --pid "$pid"
    stop_pinus
  done
done

scripts/bench_table.py "$json" "$out" "nanocaf, pinus 1.7.4 and raw Asio"
echo "results: $out"
