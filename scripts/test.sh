#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test through CTest.
#   scripts/test.sh          RelWithDebInfo build, all suites, plus a short run of each fuzzer
#   scripts/test.sh --asan   ASan+UBSan build, all suites
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

asan=0
for arg in "$@"; do
  case "$arg" in
    --asan) asan=1 ;;
    *) echo "test.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

scripts/setup.sh
if [ "$asan" = 1 ]; then
  dir=$(scripts/build.sh --asan | tail -n 1)
else
  dir=$(scripts/build.sh | tail -n 1)
fi
ctest --test-dir "$dir" --output-on-failure -j2 --timeout 180
if [ "$asan" = 0 ]; then
  # The fuzzers, briefly: a regression check on the seed corpora plus fresh inputs.
  scripts/fuzz.sh --seconds "${NANOCAF_FUZZ_SECONDS:-20}"
fi
