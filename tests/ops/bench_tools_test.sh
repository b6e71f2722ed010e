#!/usr/bin/env bash
# The bench tools against each other over real sockets: nanocaf-bench (the load client users
# point at their own servers) drives bench-server and raw-echo (the in-run ceiling) in echo,
# broadcast and idle modes, over TCP and WebSocket. Checks what the benchmarks rely on: every
# request answered, every broadcast delivered to every member, no connection lost.
#   tests/ops/bench_tools_test.sh NANOCAF_BENCH BENCH_SERVER RAW_ECHO
set -uo pipefail
client=$1 server=$2 raw=$3
source "$(dirname "$0")/common.sh"
failures=0

# check NAME PYTHON_CONDITION -- CLIENT ARGS...: the condition is tested on the client's JSON
# report (r); the client must exit 0.
check() {
  local name=$1 condition=$2; shift 3
  rm -f "$work/report.json"
  if ! "$client" --duration 1 --warmup 0.3 --json "$work/report.json" "$@" > "$work/out" 2>&1; then
    echo "FAIL $name: the client failed:"; cat "$work/out"
    failures=$((failures + 1))
    return
  fi
  if ! python3 - "$work/report.json" "$condition" <<'PY'; then
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
if not eval(sys.argv[2]):
    sys.exit(f"not true: {sys.argv[2]}\nreport: {json.dumps(r)}")
PY
    failures=$((failures + 1))
    echo "FAIL $name"
  else
    echo "ok   $name"
  fi
}

tcp=$(free_port); ws=$(free_port); raw_tcp=$(free_port); raw_ws=$(free_port)
"$server" --tcp "127.0.0.1:$tcp" --ws "127.0.0.1:$ws" --log-level warn --rate-limit 0 --fanout-limit 0 > "$work/server.log" 2>&1 &
server_pid=$!
pids+=($server_pid)
"$raw" "$raw_tcp" "$raw_ws" > "$work/raw.log" 2>&1 &
pids+=($!)
wait_port "$tcp" && wait_port "$ws" && wait_port "$raw_tcp" && wait_port "$raw_ws" || exit 1

answered='r["ready"] == r["conns"] and r["dropped"] == 0 and r["error_replies"] == 0 and r["requests_per_sec"] > 100 and r["replies_per_connection"]["min"] > 0'
for target in "tcp://127.0.0.1:$tcp" "ws://127.0.0.1:$ws/nano" "tcp://127.0.0.1:$raw_tcp" \
              "ws://127.0.0.1:$raw_ws/nano"; do
  check "echo, $target" "$answered" -- --url "$target" --mode echo --conns 20 --window 2
done
check "open loop: the rate offered, everything answered" \
  'abs(r["offered_per_sec"] - 2000) < 300 and r["unanswered"] == 0 and r["requests_per_sec"] > 1500' -- \
  --url "tcp://127.0.0.1:$tcp" --mode echo --conns 10 --rate 2000
check "JSON route re-encoded" "$answered" -- --url "tcp://127.0.0.1:$tcp" --mode echo \
  --conns 5 --route bench.echojson --payload '{"msg":"hello","n":[1,2]}'
check "bytes that are not JSON refused by the JSON route" 'r["error_replies"] > 0' -- \
  --url "tcp://127.0.0.1:$tcp" --mode echo --conns 2 --route bench.echojson
check "unknown route answered with an error" 'r["error_replies"] > 0 and r["dropped"] == 0' -- \
  --url "tcp://127.0.0.1:$tcp" --mode echo --conns 2 --route bench.nosuch

# Each broadcast run joins a group that outlives it on bench-server: a fresh server for each.
delivered='r["ready"] == r["conns"] and r["dropped"] == 0 and r["broadcasts"] > 10 and r["deliveries"] == r["expected_deliveries"]'
kill "$server_pid"; wait "$server_pid" 2>/dev/null
for target in tcp ws; do
  tcp=$(free_port); ws=$(free_port)
  "$server" --tcp "127.0.0.1:$tcp" --ws "127.0.0.1:$ws" --log-level warn --rate-limit 0 --fanout-limit 0 >> "$work/server.log" 2>&1 &
  server_pid=$!
  pids+=($server_pid)
  wait_port "$tcp" && wait_port "$ws" || exit 1
  url="tcp://127.0.0.1:$tcp"
  [ "$target" = ws ] && url="ws://127.0.0.1:$ws/nano"
  check "broadcast to 50 members over $target" "$delivered" -- --url "$url" --mode broadcast \
    --conns 50 --rate 100
  kill "$server_pid"; wait "$server_pid" 2>/dev/null
done
# raw-echo's members leave when they disconnect: one server serves both runs.
check "raw-echo broadcast over tcp" "$delivered" -- --url "tcp://127.0.0.1:$raw_tcp" \
  --mode broadcast --conns 50 --rate 100
check "raw-echo broadcast over ws" "$delivered" -- --url "ws://127.0.0.1:$raw_ws/nano" \
  --mode broadcast --conns 50 --rate 100

tcp=$(free_port)
"$server" --tcp "127.0.0.1:$tcp" --ws "" --log-level warn --rate-limit 0 --fanout-limit 0 >> "$work/server.log" 2>&1 &
server_pid=$!
pids+=($server_pid)
wait_port "$tcp" || exit 1
check "idle connections and the server's memory" \
  'r["ready"] == 500 and r["dropped"] == 0 and 0 < r["server_kib_per_conn"] < 64' -- \
  --url "tcp://127.0.0.1:$tcp" --mode idle --conns 500 --pid "$server_pid"

if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed; server log:"
  cat "$work/server.log"
  exit 1
fi
echo "all bench tool checks passed"
