# Shared by scripts/bench.sh and scripts/versus-pinus.sh (sourced from the project's root):
# their options, the build and the load client, starting pinned servers, stopping them all, and
# running the load client into the run's JSON lines ($json, set by the caller).

# Reads --secs N and --passes N into $secs and $passes (the caller sets their defaults); any
# other argument prints lines 2 to $1 of the calling script (its usage) and exits.
read_run_options() {
  local usage_end=$1; shift
  while [ $# -gt 0 ]; do
    case "$1" in
      --secs) secs=$2; shift 2 ;;
      --passes) passes=$2; shift 2 ;;
      *) sed -n "2,${usage_end}p" "$0"; exit 2 ;;
    esac
  done
}

# Installs what is missing (gnuplot too, for the plot), builds, and sets $dir (the build) and
# $tools (where ../shared/bench's loadgen is built).
prepare_bench() {
  scripts/setup.sh
  command -v gnuplot >/dev/null || { apt-get install -y -qq --no-install-recommends gnuplot-nox >/dev/null 2>&1 || true; }
  dir=$(scripts/build.sh | tail -n 1)
  tools=build/bench-tools
  mkdir -p "$tools"
  [ -x "$tools/loadgen" ] || ../shared/bench/build.sh "$PWD/$tools/loadgen" >/dev/null
}

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
