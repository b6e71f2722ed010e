#!/usr/bin/env bash
# Instructions per echo request, counted by callgrind: a figure that stays the same run after
# run on a noisy machine (time does not). The server runs twice under callgrind, serving N1 and
# then N2 sequential bench.echo requests on one TCP connection; the difference divided by
# N2 - N1 cancels start-up and shut-down. nanocaf is counted under two scheduler policies:
# "sharing" (the actors on a CAF worker whose idle turns sleep instead of polling, which would
# make the count depend on timing; the series the README tracks) and "io" (the actors on the
# Asio thread, what a server pinned to one core runs). raw-echo, the same framing on bare Asio,
# is counted the same way: the ceiling of our stack.
# Usage: scripts/callgrind.sh [N1 N2]     (defaults: 2000 6000)
# With NANOCAF_CALLGRIND_KEEP=DIR the profiles stay in DIR, for callgrind_annotate.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
n1=${1:-2000}
n2=${2:-6000}
command -v valgrind >/dev/null || apt-get install -y -qq --no-install-recommends valgrind >/dev/null
dir=$(scripts/build.sh | tail -n 1)
out=$(mktemp -d)
port=3290

count() { # requests, server command... -> total instructions of the server process
  local n=$1 file="$out/callgrind.$1.$RANDOM"
  shift
  valgrind --tool=callgrind --callgrind-out-file="$file" "$@" > "$out/server.$n.log" 2>&1 &
  local pid=$!
  python3 - "$port" "$n" <<'PY'
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
def packet(t, body=b""):
    return bytes([t]) + len(body).to_bytes(3, "big") + body
for _ in range(300):  # valgrind starts slowly
    try:
        s = socket.create_connection(("127.0.0.1", port)); break
    except OSError:
        time.sleep(0.1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
buf = b""
def read_packet():
    global buf
    while True:
        if len(buf) >= 4:
            size = int.from_bytes(buf[1:4], "big")
            if len(buf) >= 4 + size:
                p, buf = buf[:4 + size], buf[4 + size:]
                return p
        chunk = s.recv(65536)
        if not chunk:
            raise SystemExit("server closed")
        buf += chunk
s.sendall(packet(1, b'{"sys":{"type":"callgrind"}}'))
read_packet()
s.sendall(packet(2))
route = b"bench.echo"
payload = b'{"msg":"xxxxxxxxxxxxxxxxxxxxxx"}'
for i in range(1, n + 1):
    vid, x = bytearray(), i
    while True:
        b = x & 0x7F; x >>= 7
        vid.append(b | (0x80 if x else 0))
        if not x: break
    s.sendall(packet(4, bytes([0]) + bytes(vid) + bytes([len(route)]) + route + payload))
    while read_packet()[0] != 4:
        pass
s.close()
PY
  kill -INT "$pid"
  wait "$pid" || true
  awk '/^(summary|totals):/ {print $2; exit}' "$file"
}

nanocaf=("$dir/apps/bench-server" --tcp "127.0.0.1:$port" --ws "" --threads 1)
raw=("$dir/apps/raw-echo" "$port")
i1=$(count "$n1" "${nanocaf[@]}" --scheduler sharing)
i2=$(count "$n2" "${nanocaf[@]}" --scheduler sharing)
o1=$(count "$n1" "${nanocaf[@]}" --scheduler io)
o2=$(count "$n2" "${nanocaf[@]}" --scheduler io)
r1=$(count "$n1" "${raw[@]}")
r2=$(count "$n2" "${raw[@]}")
echo "nanocaf, sharing: $n1 requests -> $i1 instructions, $n2 -> $i2"
echo "nanocaf, io: $n1 requests -> $o1 instructions, $n2 -> $o2"
echo "raw-echo: $n1 requests -> $r1 instructions, $n2 -> $r2"
echo "instructions per echo request: nanocaf $(( (i2 - i1) / (n2 - n1) )) (sharing)," \
  "$(( (o2 - o1) / (n2 - n1) )) (io), raw-echo $(( (r2 - r1) / (n2 - n1) ))"
if [ -n "${NANOCAF_CALLGRIND_KEEP:-}" ]; then
  mkdir -p "$NANOCAF_CALLGRIND_KEEP"
  mv "$out"/callgrind.* "$NANOCAF_CALLGRIND_KEEP"/
  echo "profiles in $NANOCAF_CALLGRIND_KEEP (callgrind_annotate --inclusive=yes FILE)"
fi
rm -rf "$out"
