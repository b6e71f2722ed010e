#!/usr/bin/env bash
# Every bundled program answers --help with its usage and exit code 0, and a bad argument with
# usage text on stderr and exit code 2 (raw-echo aborted on both: an uncaught std::stoi).
# Usage: help_test.sh PROGRAM...
set -u
failed=0
for program in "$@"; do
  name=$(basename "$program")
  out=$("$program" --help 2>&1); rc=$?
  if [ $rc -ne 0 ] || ! grep -qi "usage\|--" <<<"$out"; then
    echo "FAIL $name --help: exit $rc"; failed=$((failed + 1))
  fi
  for bad in --no-such-flag-here not-a-port; do
    err=$("$program" "$bad" 2>&1 >/dev/null </dev/null); rc=$?
    if [ $rc -ne 2 ] || [ -z "$err" ]; then
      echo "FAIL $name $bad: exit $rc, stderr: ${err:0:200}"; failed=$((failed + 1))
    fi
  done
done
total=$(( $# * 3 ))
echo "$((total - failed)) passed, $failed failed"
[ $failed -eq 0 ]
