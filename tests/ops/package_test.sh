#!/usr/bin/env bash
# Installs nanocaf from a build tree, builds apps/external_example against the install with
# find_package(nanocaf), runs it, and talks to it with nanocaf-cli.
#   tests/ops/package_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$(dirname "$0")/common.sh"

echo "--- cmake --install"
cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
echo "--- only public headers are installed"
private=$(cd "$work/prefix/include" && find . -path '*/detail/*' -o -path '*/wiring/*' -o -path '*/src/*' \
  -o -name 'chat.pb.h' -o -name 'deferred_writes.hpp')
if [ -n "$private" ]; then
  echo "FAIL: private headers installed:"; echo "$private"; exit 1
fi
echo "--- configure and build the example against $work/prefix"
cmake -S "$root/apps/external_example" -B "$work/example" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release > "$work/configure.log" ||
  { cat "$work/configure.log"; exit 1; }
cmake --build "$work/example" -j2 > "$work/build.log" 2>&1 || { tail -n 40 "$work/build.log"; exit 1; }

tcp=$(free_port) ws=$(free_port)
"$work/example/greeter" --tcp "127.0.0.1:$tcp" --ws "127.0.0.1:$ws" > "$work/greeter.log" 2>&1 &
pids+=($!)
wait_port "$ws"

echo "--- the installed nanocaf-cli talks to the example"
out=$("$work/prefix/bin/nanocaf-cli" --quiet --url "tcp://127.0.0.1:$tcp" \
      --exec 'request greeter.hello {"name":"ci"}')
echo "$out"
grep -qx 'response greeter.hello {"code":0,"greeting":"hello, ci"}' <<<"$out"
out=$("$work/prefix/bin/nanocaf-cli" --quiet --url "ws://127.0.0.1:$ws/nano" \
      --exec 'request greeter.count {}')
echo "$out"
grep -qx 'response greeter.count {"code":0,"count":0}' <<<"$out"
echo PASS
