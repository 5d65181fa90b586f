#!/usr/bin/env bash
# Relayed vs direct, on loopback, release build, anchor in the same run (issue 15's speed goals):
#   connect     cold dial → first ping reply, N times: direct (TCP + Noise + yamux) and relayed
#               through a real peergateway (TCP + Noise + yamux to the relay, HOP CONNECT, STOP,
#               Noise + yamux over the circuit); median and p90
#   throughput  BYTES over one stream: direct, and relayed through the gateway
# The gateway's new-circuit rate limit is lifted (the bench dials circuits back to back).
# The target is pc_interop_peer listening on loopback and holding a reservation on the gateway.
# Prints a table with the ratios; raw JSON lines go to $OUT (default bench/relay/last-run.jsonl).
#   CONNECTIONS=100 BYTES=536870912 SKIP_BUILD=1 (use the release binaries as they are)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
CONNECTIONS=${CONNECTIONS:-100}
BYTES=${BYTES:-536870912}
OUT=${OUT:-$ROOT/bench/relay/last-run.jsonl}
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  cmake --preset release >/dev/null
  cmake --build build/release --target pc_interop_peer peergateway >/dev/null
fi
BIN=$ROOT/build/release/bin
W=$(mktemp -d)
cleanup() { for f in "$W"/*.pid; do [ -e "$f" ] && kill "$(cat "$f")" 2>/dev/null; done; rm -rf "$W"; }
trap cleanup EXIT
: >"$OUT"
wait_line() { for _ in $(seq 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }

"$BIN/peergateway" --data-dir "$W/gw" --bind 127.0.0.1 --http-port 0 \
  --tunnel-listen /ip4/127.0.0.1/tcp/0 --relay-new-circuits-per-second 100000 >"$W/gw.out" 2>&1 &
echo $! >"$W/gw.pid"
wait_line "$W/gw.out" 'HTTP listening' || { cat "$W/gw.out"; exit 1; }
GW=$(awk '/Tunnel listening on/ {print $4; exit}' "$W/gw.out")

"$BIN/pc_interop_peer" listen --relay "$GW" >"$W/t.out" 2>"$W/t.err" &
echo $! >"$W/t.pid"
wait_line "$W/t.out" '"listening"' || { cat "$W/t.err"; exit 1; }
TID=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["peerId"])' "$W/t.out")
DIRECT=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["addrs"][0])' "$W/t.out")
"$BIN/peergateway" --data-dir "$W/gw" providers add "$TID" --name bench >/dev/null
wait_line "$W/t.out" '"reserved","addrs":\["' || { cat "$W/t.err"; exit 1; }
RELAYED=$(python3 -c '
import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("event") == "reserved" and r["addrs"]: print(r["addrs"][0]); break' "$W/t.out")
echo "direct  $DIRECT" >&2
echo "relayed $RELAYED" >&2

run() {  # run PATH ADDR SCENARIO ARGS...
  local path=$1 addr=$2; shift 2
  "$BIN/pc_interop_peer" dial "$addr" "$@" 2>/dev/null | grep '"scenario"' |
    sed "s/^{/{\"path\":\"$path\",/" | tee -a "$OUT" >/dev/null
}
for path in direct relayed; do
  addr=$DIRECT; [ $path = relayed ] && addr=$RELAYED
  run $path "$addr" --scenario bench-connect --connections "$CONNECTIONS"
  run $path "$addr" --scenario bench-throughput --bytes "$BYTES" --streams 1
done

python3 - "$OUT" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
def get(path, scen):
    return next((r for r in rows if r.get("path") == path and r.get("scenario") == scen), {})
print(f"{'measure':34} {'direct':>10} {'relayed':>10} {'relayed/direct':>15}")
for label, scen, key in (("connect median (ms)", "bench-connect", "medianMs"),
                         ("connect p90 (ms)", "bench-connect", "p90Ms"),
                         ("throughput, 1 stream (MB/s)", "bench-throughput", "MBps")):
    d, r = get("direct", scen).get(key), get("relayed", scen).get(key)
    ratio = "-" if not d or r is None else f"{r / d:.2f}"
    print(f"{label:34} {d if d is not None else '-':>10} {r if r is not None else '-':>10} {ratio:>15}")
PY
