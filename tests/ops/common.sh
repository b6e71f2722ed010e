# Sourced by the ops test scripts: a scratch folder, the processes a test starts, loopback ports.

# $work is the test's scratch folder; what a test starts in the background goes in $pids. On
# exit the processes are killed and the folder removed.
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A port below the ephemeral range that nobody listens on.
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$(( 20000 + RANDOM % 10000 ))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  return 1
}

# Waits up to 10 s until something listens on 127.0.0.1:PORT.
wait_port() {
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "port $1 never opened"
  return 1
}
