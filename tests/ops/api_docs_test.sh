#!/usr/bin/env bash
# The API reference builds from the public headers without a doxygen warning
# (scripts/api-docs.sh). Skipped (77) without doxygen.
set -uo pipefail
command -v doxygen >/dev/null || { echo "SKIP: doxygen is not installed"; exit 77; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$(dirname "$0")/../../scripts/api-docs.sh" "$out" || exit 1
for page in classnanocaf_1_1server.html classnanocaf_1_1session.html classnanocaf_1_1component.html \
            structnanocaf_1_1cluster_1_1options.html; do
  [ -s "$out/html/$page" ] || { echo "FAIL: no $page in the reference"; exit 1; }
done
if ls "$out/html" | grep -q "detail"; then
  echo "FAIL: the reference shows detail:: names:"; ls "$out/html" | grep detail | head; exit 1
fi
echo "PASS"
