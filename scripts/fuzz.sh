#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (+ASan+UBSan) and runs them one after the other:
#   codec    the stream and message decoders, with a round-trip oracle
#   session  one session's state machine through the real runtime (handshake, ack,
#            heartbeats, data to a component that replies, pushes, kicks, closes, throws)
#   ws_frame our WebSocket framing, checked to give the same result however reads cut it
#   scripts/fuzz.sh [--seconds N] [--runs N] [--target codec|session|ws_frame|all]   (default: 60 s each)
# New inputs go to build-fuzz/corpus-<target>; the seed corpora in tests/fuzz are only read.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

seconds=60
runs=-1
targets=(codec session ws_frame)
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --target) [ "$2" = all ] || targets=("$2"); shift 2 ;;
    *) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

out=build-fuzz
mkdir -p "$out"
if [ ! -f "$out/build.ninja" ]; then
  cmake -S . -B "$out" -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DNANOCAF_FUZZ=ON -DNANOCAF_BUILD_TESTS=OFF > "$out/configure.log" 2>&1 ||
    { cat "$out/configure.log"; exit 1; }
fi
cmake --build "$out" -j2 --target codec_fuzz session_fuzz ws_frame_fuzz >&2

export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$root/tools/ubsan.supp"
export ASAN_OPTIONS="detect_leaks=1"
status=0
for t in "${targets[@]}"; do
  seeds=tests/fuzz/corpus
  [ "$t" = session ] && seeds=tests/fuzz/session_corpus
  [ "$t" = ws_frame ] && seeds=tests/fuzz/ws_corpus
  mkdir -p "$out/corpus-$t"
  args=(-max_total_time="$seconds" -print_final_stats=1 -max_len=4096)
  [ "$runs" = -1 ] || args+=(-runs="$runs")
  log="$out/last-run-$t.log"
  echo "fuzz: $t"
  "$out/tests/fuzz/${t}_fuzz" "${args[@]}" "$out/corpus-$t" "$seeds" > "$log" 2>&1 || true
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb|Done" "$log" || true
  if grep -qE "ERROR: |SUMMARY: |deadly signal|out-of-memory" "$log"; then
    echo "fuzz: $t FAILED (see $log; the crashing input is in the current directory)" >&2
    status=1
  fi
done
[ "$status" = 0 ] && echo "fuzz: ok"
exit $status
