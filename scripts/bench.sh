#!/usr/bin/env bash
# The standard benchmark matrix, with the server pinned to core 0 and the load client to core 1,
# alternating nanocaf with the bare-Asio ceiling (raw-echo) in the same run:
#   echo over TCP and over WebSocket (100 and 1000 connections each), broadcast (100 and 1000
#   members, 1 and 4 broadcasts in flight), idle memory (TCP and WebSocket at 5000, and TCP at
#   as many connections as the machine allows, up to 100,000), and the cluster (gate ->
#   backend -> gate), batched and, as the in-run stand-in for nano's forwarding, one unary call
#   per message.
# Usage: scripts/bench.sh [--secs N] [--passes N]      (defaults: 10 s, 2 passes)
# Writes results/<time>/results.jsonl, table.md and plot.png (gnuplot) and prints the table.
# The load client is ../shared/bench's loadgen, built into build/bench-tools.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

source scripts/bench_lib.sh
secs=10
passes=2
read_run_options 9 "$@"

prepare_bench
# The server and the load client inherit this: as many descriptors as the machine allows. The
# idle row at the limit also stays within the local port range (one client address).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 1048576 2>/dev/null || true
fd_limit=$(ulimit -n)
[ "$fd_limit" = unlimited ] && fd_limit=1048576
read -r port_lo port_hi < /proc/sys/net/ipv4/ip_local_port_range
max_idle=100000
[ $((fd_limit - 100)) -lt "$max_idle" ] && max_idle=$((fd_limit - 100))
[ $((port_hi - port_lo - 100)) -lt "$max_idle" ] && max_idle=$((port_hi - port_lo - 100))
echo "descriptor limit $fd_limit, local ports $port_lo-$port_hi: idle row at $max_idle connections"
out="results/$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$out"
json="$root/$out/results.jsonl"
payload='{"msg":"%PAD%","seq":"%SEQ%"}'
single() { start 0 "$dir/apps/bench-server" --tcp 127.0.0.1:3250 --ws 127.0.0.1:3251 --threads 1 --rate-limit 0 --fanout-limit 0; wait_port 3250; wait_port 3251; }
raw() { start 0 "$dir/apps/raw-echo" 3270 3271; wait_port 3270; wait_port 3271; }

for pass in $(seq 1 "$passes"); do
  echo "pass $pass/$passes"
  for conns in 100 1000; do
    single
    load "nanocaf tcp echo $conns" --port 3250 --route bench.echo --conns "$conns" --duration "$secs" --verify --payload "$payload" --pid "${pids[0]}"
    load "nanocaf ws echo $conns" --port 3251 --ws --path /nano --route bench.echo --conns "$conns" --duration "$secs" --verify --payload "$payload" --pid "${pids[0]}"
    stop_all
    raw
    load "raw-asio tcp echo $conns" --port 3270 --route bench.echo --conns "$conns" --duration "$secs" --verify --payload "$payload" --pid "${pids[0]}"
    load "raw-asio ws echo $conns" --port 3271 --ws --path /nano --route bench.echo --conns "$conns" --duration "$secs" --verify --payload "$payload" --pid "${pids[0]}"
    stop_all
  done
  # One broadcast in flight (each member gets one push per write), then four: the pushes a
  # member is due meanwhile then share one write. raw-echo's bench.join and bench.broadcast are
  # the ceiling here too.
  for server in nanocaf raw-asio; do
    if [ "$server" = nanocaf ]; then single; port=3250; else raw; port=3270; fi
    for members in 100 1000; do
      load "$server broadcast $members" --port "$port" --mode broadcast --conns "$members" --window 1 --duration "$secs" --pid "${pids[0]}"
      load "$server broadcast $members window 4" --port "$port" --mode broadcast --conns "$members" --window 4 --duration "$secs" --pid "${pids[0]}"
    done
    stop_all
  done
  single
  load "nanocaf idle tcp 5000" --port 3250 --mode idle --conns 5000 --settle 3 --duration 5 --pid "${pids[0]}"
  stop_all
  single
  load "nanocaf idle ws 5000" --port 3251 --ws --path /nano --mode idle --conns 5000 --settle 3 --duration 5 --pid "${pids[0]}"
  stop_all
  single
  load "nanocaf idle tcp $max_idle (fd limit $fd_limit)" --port 3250 --mode idle --conns "$max_idle" --settle 3 --duration 5 --pid "${pids[0]}"
  stop_all
  # Cluster: master anywhere, gate and backend on core 0; batched (our Relay path), then one
  # unary gRPC call per message as nano forwards (--cluster-batches 0), in the same run.
  for batches in 1 0; do
    label="nanocaf cluster echo"
    [ "$batches" = 0 ] && label="nanocaf cluster unary"
    start 1 "$dir/apps/bench-server" --role master --listen 127.0.0.1:24600 --tcp "" --ws ""
    wait_port 24600
    start 0 "$dir/apps/bench-server" --role backend --listen 127.0.0.1:24601 --master 127.0.0.1:24600 --tcp "" --ws "" --threads 1 --rate-limit 0 --fanout-limit 0 --cluster-batches "$batches"
    start 0 "$dir/apps/bench-server" --role gate --listen 127.0.0.1:24602 --master 127.0.0.1:24600 --tcp 127.0.0.1:3260 --ws "" --threads 1 --rate-limit 0 --fanout-limit 0 --cluster-batches "$batches"
    wait_port 3260
    sleep 2 # registration
    load "$label 100" --port 3260 --route bench.echo --conns 100 --duration "$secs" --verify --payload "$payload" --pid "${pids[2]},${pids[1]}"
    load "$label 1000" --port 3260 --route bench.echo --conns 1000 --duration "$secs" --verify --payload "$payload" --pid "${pids[2]},${pids[1]}"
    [ "$batches" = 1 ] && load "$label 1" --port 3260 --route bench.echo --conns 1 --duration "$secs"
    stop_all
  done
done

scripts/bench_table.py "$json" "$out" "nanocaf bench matrix"
echo "results: $out"
