#!/usr/bin/env bash
# Overload scenarios with nanocaf-bench against bench-server (issue 5), results in
# results/scenarios-<time>/ (one JSON line per run in runs.jsonl, and summary.md):
#   1. 5,000 clients connecting at once, over TCP and over WebSocket
#   2. a broadcast storm to 200 members where a tenth stop reading: the server closes them at
#      their write-queue bound, its memory stays bounded, the readers keep their latency
#      (compared with the same storm where everybody reads)
#   3. 10,000 idle connections answering heartbeats (every 5 s) for --idle-seconds (600):
#      zero drops, server RSS reported
#   scripts/scenarios.sh [--idle-seconds N]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
idle_seconds=600
while [ $# -gt 0 ]; do
  case "$1" in
    --idle-seconds) idle_seconds=$2; shift 2 ;;
    *) echo "scenarios.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
scripts/setup.sh
dir=$(scripts/build.sh | tail -n 1)
out="results/scenarios-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$out"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "fd limit: $(ulimit -n)" | tee "$out/summary.md"

server_pid=""
start_server() { # extra bench-server flags
  taskset -c 0 "$dir/apps/bench-server" --tcp 127.0.0.1:3250 --ws 127.0.0.1:3251 --log-level warn --rate-limit 0 --fanout-limit 0 "$@" \
    > "$out/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 50); do
    (exec 3<>/dev/tcp/127.0.0.1/3250) 2>/dev/null && return 0
    sleep 0.1
  done
  echo "bench-server did not start"; exit 1
}
stop_server() { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }
trap stop_server EXIT
bench() { # title, nanocaf-bench flags
  local title=$1; shift
  echo "## $title" | tee -a "$out/summary.md"
  taskset -c 1 "$dir/apps/nanocaf-bench" --pid "$server_pid" --json "$out/runs.jsonl" "$@" |
    tee -a "$out/summary.md"
}

start_server
bench "5,000 TCP clients connecting at once" --mode connect --conns 5000
stop_server
start_server
bench "5,000 WebSocket clients connecting at once" --url ws://127.0.0.1:3251/nano --mode connect --conns 5000
stop_server

# 8 KB broadcasts 50 times a second: 400 KB/s to each member, so a member that stops reading
# fills its kernel buffers and then its 256 KiB write queue within seconds.
storm=(--mode broadcast --conns 200 --rate 50 --size 8000 --duration 30)
start_server --write-queue 262144
bench "broadcast storm, 200 members, everyone reads" "${storm[@]}"
stop_server
start_server --write-queue 262144 --metrics 127.0.0.1:3252
bench "broadcast storm, 200 members, a tenth stop reading (write queue bound 256 KiB)" \
  "${storm[@]}" --non-readers 0.1
echo "closed by the server for not reading: $(curl -s 127.0.0.1:3252/metrics | grep '^nanocaf_write_queue_closes_total{transport="tcp"}' | cut -d' ' -f2)" |
  tee -a "$out/summary.md"
stop_server

start_server --heartbeat 5
bench "10,000 idle connections with heartbeats every 5 s for ${idle_seconds} s" --mode idle --conns 10000 \
  --warmup 1 --duration "$idle_seconds"
stop_server
echo "results in $out"
