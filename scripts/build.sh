#!/usr/bin/env bash
# Configures and builds nanocaf. Usage: scripts/build.sh [--asan] [--release]
#   default: RelWithDebInfo in build/;  --asan: Debug with ASan+UBSan in build-asan/
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

mode=release
for arg in "$@"; do
  case "$arg" in
    --asan) mode=asan ;;
    --release) mode=release ;;
    *) echo "build.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

# ccache hits across checkouts need these (the -g paths differ otherwise).
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=true

if [ "$mode" = asan ]; then
  dir=build-asan
  flags=(-DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O0 -g1" -DNANOCAF_SANITIZE=ON)
else
  dir=build
  flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
fi
# Build output goes to stderr: stdout carries only the build folder, for the other scripts.
if [ ! -f "$dir/build.ninja" ]; then
  cmake -S . -B "$dir" -G Ninja "${flags[@]}" >&2
fi
cmake --build "$dir" -j2 >&2
echo "$dir"
