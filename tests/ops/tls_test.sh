#!/usr/bin/env bash
# Client TLS with a self-signed certificate made now by openssl: the chat node serves TLS on
# its TCP port and HTTPS/WSS on its WebSocket port; nanocaf-cli and curl talk to it.
#   tests/ops/tls_test.sh NANOCAF_CLI CHAT
set -uo pipefail
cli=$1 chat=$2
for tool in openssl curl; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
source "$(dirname "$0")/common.sh"
failures=0
expect() { # NAME EXPECTED_RC ACTUAL_RC
  if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: rc=$3, wanted $2"; failures=$((failures + 1)); fi
}

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
  -keyout "$work/key.pem" -out "$work/cert.pem" > "$work/openssl.log" 2>&1 ||
  { cat "$work/openssl.log"; exit 1; }
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=other \
  -keyout "$work/other-key.pem" -out "$work/other.pem" > /dev/null 2>&1

tcp=$(free_port) ws=$(free_port)
"$chat" --tcp "127.0.0.1:$tcp" --ws "127.0.0.1:$ws" --tls-cert "$work/cert.pem" \
  --tls-key "$work/key.pem" --http-timeout 1 --log-level info > "$work/chat.log" 2>&1 &
pids+=($!)
wait_port "$ws" || exit 1

q() { "$cli" --quiet --timeout 3 "$@" > "$work/out" 2>&1; }
q --url "tls://127.0.0.1:$tcp" --ca "$work/cert.pem" --exec 'request room.join {}'
expect "request over TLS" 0 $?
grep -q '^response room.join {"code":0' "$work/out" || { echo "FAIL TLS reply"; cat "$work/out"; failures=$((failures + 1)); }
q --url "wss://127.0.0.1:$ws/nano" --ca "$work/cert.pem" --exec 'request room.join {}'
expect "request over WSS" 0 $?
q --url "wss://127.0.0.1:$ws/nano" --ca "$work/other.pem" --exec 'request room.join {}'
expect "a certificate the client does not trust is refused" 1 $?
q --url "tcp://127.0.0.1:$tcp" --exec 'request room.join {}'
expect "plain TCP to the TLS port gets nothing" 1 $?
q --url "ws://127.0.0.1:$ws/nano" --exec 'request room.join {}'
expect "plain WebSocket to the WSS port gets nothing" 1 $?

page=$(curl -s --cacert "$work/cert.pem" "https://127.0.0.1:$ws/web/")
grep -q "<title>" <<<"$page"
expect "the page over HTTPS (curl)" 0 $?

# A client that connects and never starts the TLS handshake is closed at the HTTP timeout.
start=$(date +%s%N)
timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$tcp; cat <&3 >/dev/null"
took=$(( ($(date +%s%N) - start) / 1000000 ))
if [ "$took" -lt 4500 ]; then echo "ok   silent TLS client closed after ${took} ms"; else echo "FAIL silent TLS client kept open"; failures=$((failures + 1)); fi

# The server is still serving after all that.
q --url "tls://127.0.0.1:$tcp" --ca "$work/cert.pem" --exec 'request room.join {}'
expect "still serving" 0 $?
[ "$failures" = 0 ] && echo PASS || { cat "$work/chat.log"; echo "$failures failed"; exit 1; }
