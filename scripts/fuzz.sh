#!/usr/bin/env bash
# Builds the codec fuzz target with clang's libFuzzer (+ASan+UBSan) and runs it.
#   scripts/fuzz.sh [--seconds N] [--runs N]     (default: 60 seconds)
# New inputs go to build-fuzz/corpus; the seed corpus in tests/fuzz/corpus is only read.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

seconds=60
runs=-1
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

out=build-fuzz
mkdir -p "$out/corpus"
bin="$out/codec_fuzz"
sources=(tests/fuzz/codec_fuzz.cpp gateway/src/packet.cpp gateway/src/message.cpp
         gateway/src/route_dictionary.cpp gateway/src/codec_error.cpp)
if [ ! -x "$bin" ] || [ -n "$(find "${sources[@]}" gateway/include -newer "$bin" 2>/dev/null | head -n 1)" ]; then
  clang++-14 -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -Igateway/include -o "$bin" "${sources[@]}"
fi
args=(-max_total_time="$seconds" -print_final_stats=1 -max_len=4096)
[ "$runs" = -1 ] || args+=(-runs="$runs")
"$bin" "${args[@]}" "$out/corpus" tests/fuzz/corpus 2>&1 | tee "$out/last-run.log" | grep -E "stat::number_of_executed_units|ERROR|crash|Done" || true
if grep -qE "ERROR: |SUMMARY: |deadly signal" "$out/last-run.log"; then
  echo "fuzz: FAILED (see $out/last-run.log; the crashing input is in the current directory)" >&2
  exit 1
fi
echo "fuzz: ok"
