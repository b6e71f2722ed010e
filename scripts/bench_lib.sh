# Shared by scripts/bench.sh and scripts/versus-pinus.sh (sourced): starting pinned servers,
# stopping them all, and running the load client into the run's JSON lines.
# Needs $tools (where loadgen is) and $json (the results file) set by the caller.

pids=()

stop_all() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
  pids=()
}
trap stop_all EXIT

start() { # core, command...
  local core=$1; shift
  taskset -c "$core" "$@" >/dev/null 2>&1 &
  pids+=($!)
}

wait_port() {
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  echo "bench: nothing listens on port $1" >&2
  return 1
}

load() { # label, loadgen args...
  local label=$1; shift
  echo "  $label"
  taskset -c 1 "$tools/loadgen" --label "$label" --json-out "$json" "$@" >/dev/null 2>&1 ||
    echo "bench: $label: loadgen failed" >&2
}
