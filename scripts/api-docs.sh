#!/usr/bin/env bash
# The API reference from the public headers (Debian's doxygen): build/api-docs/html/index.html.
# Prints doxygen's warnings and exits 1 when there are any.
#   scripts/api-docs.sh [OUTPUT_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
command -v doxygen >/dev/null || scripts/setup.sh
out=$(mkdir -p "${1:-$root/build/api-docs}" && cd "${1:-$root/build/api-docs}" && pwd)
rm -f "$out/warnings.log"
NANOCAF_API_DOCS_DIR=$out doxygen docs/Doxyfile
if [ -s "$out/warnings.log" ]; then
  cat "$out/warnings.log"
  echo "api docs: $(wc -l < "$out/warnings.log") warning line(s)"
  exit 1
fi
echo "api docs: $out/html/index.html"
