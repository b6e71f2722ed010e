#!/usr/bin/env bash
# Instructions per echo request, counted by callgrind: a figure that stays the same run after
# run on a noisy machine (time does not). The server runs twice under callgrind, serving N1 and
# then N2 sequential bench.echo requests on one TCP connection; the difference divided by
# N2 - N1 cancels start-up and shut-down. nanocaf is counted under two scheduler policies:
# "sharing" (the actors on a CAF worker whose idle turns sleep instead of polling, which would
# make the count depend on timing; the series the README tracks) and "io" (the actors on the
# Asio thread, what a server pinned to one core runs). raw-echo, the same framing on bare Asio,
# is counted the same way: the ceiling of our stack. Then nanocaf under "io" and raw-echo once
# more over WebSocket (one masked frame per packet, as browsers send them).
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
ws_port=3291

count() { # transport (tcp|ws), requests, server command... -> total instructions of the server
  local transport=$1 n=$2 file="$out/callgrind.$1.$2.$RANDOM"
  shift 2
  valgrind --tool=callgrind --callgrind-out-file="$file" "$@" > "$out/server.$n.log" 2>&1 &
  local pid=$!
  python3 - "$port" "$ws_port" "$transport" "$n" <<'PY'
import base64, os, socket, sys, time
port, ws_port, transport, n = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
websocket = transport == "ws"
def packet(t, body=b""):
    return bytes([t]) + len(body).to_bytes(3, "big") + body
for _ in range(300):  # valgrind starts slowly
    try:
        s = socket.create_connection(("127.0.0.1", ws_port if websocket else port)); break
    except OSError:
        time.sleep(0.1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
raw = b""  # bytes read, not yet unframed (WebSocket)
buf = b""  # the packet stream
def fill():
    global raw, buf
    chunk = s.recv(65536)
    if not chunk:
        raise SystemExit("server closed")
    if not websocket:
        buf += chunk
        return
    raw += chunk
    while len(raw) >= 2:  # the server's frames: unmasked, binary, lengths up to 64 KiB here
        size, head = raw[1] & 0x7F, 2
        if size == 126:
            if len(raw) < 4: return
            size, head = int.from_bytes(raw[2:4], "big"), 4
        if len(raw) < head + size: return
        buf += raw[head:head + size]
        raw = raw[head + size:]
def send(data):
    if websocket:  # one masked binary frame per packet, as browsers send them
        mask = os.urandom(4)
        head = bytes([0x82, 0x80 | len(data)]) if len(data) < 126 else bytes([0x82, 0xFE]) + len(data).to_bytes(2, "big")
        data = head + mask + bytes(b ^ mask[i & 3] for i, b in enumerate(data))
    s.sendall(data)
def read_packet():
    global buf
    while True:
        if len(buf) >= 4:
            size = int.from_bytes(buf[1:4], "big")
            if len(buf) >= 4 + size:
                p, buf = buf[:4 + size], buf[4 + size:]
                return p
        fill()
if websocket:
    key = base64.b64encode(os.urandom(16))
    s.sendall(b"GET /nano HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    if b" 101 " not in head.split(b"\r\n")[0]:
        raise SystemExit("upgrade refused: " + head.decode(errors="replace"))
send(packet(1, b'{"sys":{"type":"callgrind"}}'))
read_packet()
send(packet(2))
route = b"bench.echo"
payload = b'{"msg":"xxxxxxxxxxxxxxxxxxxxxx"}'
for i in range(1, n + 1):
    vid, x = bytearray(), i
    while True:
        b = x & 0x7F; x >>= 7
        vid.append(b | (0x80 if x else 0))
        if not x: break
    send(packet(4, bytes([0]) + bytes(vid) + bytes([len(route)]) + route + payload))
    while read_packet()[0] != 4:
        pass
s.close()
PY
  kill -INT "$pid"
  wait "$pid" || true
  awk '/^(summary|totals):/ {print $2; exit}' "$file"
}

nanocaf=("$dir/apps/bench-server" --tcp "127.0.0.1:$port" --ws "127.0.0.1:$ws_port" --threads 1 --rate-limit 0 --fanout-limit 0)
raw=("$dir/apps/raw-echo" "$port" "$ws_port")
per_request() { # label, transport, server command... -> "label: N1 -> I1 instructions, N2 -> I2"
  local label=$1 transport=$2 i1 i2
  shift 2
  i1=$(count "$transport" "$n1" "$@")
  i2=$(count "$transport" "$n2" "$@")
  echo "$label: $n1 requests -> $i1 instructions, $n2 -> $i2" >&2
  echo $(( (i2 - i1) / (n2 - n1) ))
}
sharing=$(per_request "nanocaf, sharing, tcp" tcp "${nanocaf[@]}" --scheduler sharing)
io=$(per_request "nanocaf, io, tcp" tcp "${nanocaf[@]}" --scheduler io)
ceiling=$(per_request "raw-echo, tcp" tcp "${raw[@]}")
io_ws=$(per_request "nanocaf, io, websocket" ws "${nanocaf[@]}" --scheduler io)
ceiling_ws=$(per_request "raw-echo, websocket" ws "${raw[@]}")
echo "instructions per echo request over TCP: nanocaf $sharing (sharing), $io (io), raw-echo $ceiling"
echo "instructions per echo request over WebSocket: nanocaf $io_ws (io), raw-echo $ceiling_ws"
if [ -n "${NANOCAF_CALLGRIND_KEEP:-}" ]; then
  mkdir -p "$NANOCAF_CALLGRIND_KEEP"
  mv "$out"/callgrind.* "$NANOCAF_CALLGRIND_KEEP"/
  echo "profiles in $NANOCAF_CALLGRIND_KEEP (callgrind_annotate --inclusive=yes FILE)"
fi
rm -rf "$out"
