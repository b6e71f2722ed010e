#!/usr/bin/env bash
# nanocaf-cli against real nodes: its output lines and its exit codes.
#   tests/ops/cli_test.sh NANOCAF_CLI CLUSTER_TEST_NODE CHAT
set -uo pipefail
cli=$1 node=$2 chat=$3
source "$(dirname "$0")/common.sh"
failures=0

# check NAME EXPECTED_RC EXPECTED_OUTPUT_REGEX -- CLI ARGS... (commands from $input)
check() {
  local name=$1 want_rc=$2 want_out=$3; shift 4
  local out rc
  out=$(printf '%b' "$input" | "$cli" --quiet "$@" 2>"$work/err")
  rc=$?
  if [ "$rc" != "$want_rc" ] || ! grep -Eq -- "$want_out" <<<"$out"; then
    echo "FAIL $name: rc=$rc (want $want_rc), output:"; echo "$out"; cat "$work/err"
    failures=$((failures + 1))
  else
    echo "ok   $name"
  fi
}

grpc=$(free_port); tcp=$(free_port); ws=$(free_port)
"$node" --role master --service probe --listen "127.0.0.1:$grpc" --tcp "127.0.0.1:$tcp" \
  --log-level warn > "$work/node.log" 2>&1 &
pids+=($!)
"$chat" --ws "127.0.0.1:$ws" --log-level warn > "$work/chat.log" 2>&1 &
pids+=($!)
wait_port "$tcp" && wait_port "$ws" || exit 1
url=tcp://127.0.0.1:$tcp

input='request probe.echo {"a":1}\n'
check "request over tcp" 0 '^response probe.echo \{"a":1\}$' -- --url "$url"
input='request probe.push {"n":2}\n'
check "pushes before the response" 0 '^push onPush \{"i":1\}$' -- --url "$url"
input='notify probe.push {"n":1}\nwait 0.5\n'
check "notify, then pushes during wait" 0 '^push onPush \{"i":0\}$' -- --url "$url"
input='request probe.nosuch {}\n'
check "error reply gives 3" 3 '^response probe.nosuch \{"code":404' -- --url "$url"
input='expect-error 404 probe.nosuch {}\n'
check "an expected error reply gives 0" 0 '^response probe.nosuch \{"code":404' -- --url "$url"
input='expect-error 404 probe.echo {"a":1}\n'
check "success where an error was expected gives 3" 3 '^response probe.echo' -- --url "$url"
input='notify probe.push {"n":1}\nexpect-push onPush 3\n'
check "expect-push waits for the push" 0 '^push onPush \{"i":0\}$' -- --url "$url"
input='request probe.push {"n":2}\nexpect-push onPush\nexpect-push onPush\n'
check "pushes printed before expect-push count" 0 '^push onPush \{"i":1\}$' -- --url "$url"
input='request probe.echo {}\nexpect-push onNothing 0.3\n'
check "a push that does not come gives 5" 5 '' -- --url "$url"
input='request probe.never {}\n'
check "timeout gives 3" 3 '' -- --url "$url" --timeout 0.5
input='request probe.kick {}\n'
check "kick gives 4" 4 '^kicked ' -- --url "$url"
input='frobnicate\n'
check "bad command gives 2" 2 '' -- --url "$url"
input='request probe.echo not-json\n'
check "bad JSON gives 2" 2 '' -- --url "$url"
input='request probe.echo {}\n'
check "refused connection gives 1" 1 '' -- --url "tcp://127.0.0.1:$(free_port)"
check "--exec instead of stdin" 0 '^response probe.echo \{"b":2\}$' -- --url "$url" \
  --exec 'request probe.echo {"b":2}'
input='request room.join {}\n'
check "request over websocket" 0 '^response room.join \{"code":0,"result":"success"\}$' -- \
  --url "ws://127.0.0.1:$ws/nano"
input='request room.join {}\n'
check "websocket upgrade on a wrong path gives 1" 1 '' -- --url "ws://127.0.0.1:$ws/wrong"

[ "$failures" = 0 ] && echo PASS || { echo "$failures failed"; exit 1; }
