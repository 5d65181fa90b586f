#!/usr/bin/env bash
# Network stack benchmarks with their anchors measured in the same run (loopback, release build):
#   connect    dial → first ping reply, 200 sequential fresh connections (median / p90)
#   throughput 1 GiB over 1 stream and over 16 streams (Noise + yamux)
#   memory     RSS per idle connection (1000) and per idle stream (10,000), listener side
# Anchor: js-libp2p ↔ js-libp2p through the same harness (tests/interop/js/peer.mjs).
# Prints a summary table; raw JSON lines go to $OUT (default bench/net/last-run.jsonl).
#   CONNECTIONS=200 BYTES=1073741824 SKIP_JS=1 SKIP_MEMORY=1
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
CONNECTIONS=${CONNECTIONS:-200}
BYTES=${BYTES:-1073741824}
OUT=${OUT:-$ROOT/bench/net/last-run.jsonl}
JS=$ROOT/tests/interop/js
cmake --preset release >/dev/null
cmake --build build/release --target pc_interop_peer >/dev/null
PEER=$ROOT/build/release/bin/pc_interop_peer
W=$(mktemp -d)
# Listeners are started inside $(…) subshells, so their pids are kept in files, not a variable.
cleanup() { for f in "$W"/*.pid; do [ -e "$f" ] && kill "$(cat "$f")" 2>/dev/null; done; rm -rf "$W"; }
trap cleanup EXIT
: >"$OUT"

listen() {  # listen NAME CMD... → prints the listener's address
  local name=$1; shift
  "$@" >"$W/$name.out" 2>"$W/$name.err" &
  echo $! >"$W/$name.pid"
  for _ in $(seq 200); do grep -q listening "$W/$name.out" 2>/dev/null && break; sleep 0.05; done
  python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["addrs"][0])' "$W/$name.out"
}
record() { tee -a "$OUT" | grep '"scenario"' | tail -1; }

CPP_ADDR=$(listen cpp "$PEER" listen)
echo "C++ listener $CPP_ADDR" >&2
cpp_connect=$("$PEER" dial "$CPP_ADDR" --scenario bench-connect --connections "$CONNECTIONS" | sed 's/^{/{"impl":"c++",/' | record)
cpp_t1=$("$PEER" dial "$CPP_ADDR" --scenario bench-throughput --bytes "$BYTES" --streams 1 | sed 's/^{/{"impl":"c++",/' | record)
cpp_t16=$("$PEER" dial "$CPP_ADDR" --scenario bench-throughput --bytes "$BYTES" --streams 16 | sed 's/^{/{"impl":"c++",/' | record)

if [ "${SKIP_JS:-0}" != 1 ]; then
  [ -d "$JS/node_modules" ] || ./scripts/test.d/20-npm.sh >&2
  JS_ADDR=$(listen js node "$JS/peer.mjs" listen --ignore-stdin)
  echo "js listener $JS_ADDR" >&2
  js_connect=$(node "$JS/peer.mjs" dial "$JS_ADDR" --scenario bench-connect --connections "$CONNECTIONS" 2>/dev/null | sed 's/^{/{"impl":"js",/' | record)
  js_t1=$(node "$JS/peer.mjs" dial "$JS_ADDR" --scenario bench-throughput --bytes "$BYTES" --streams 1 2>/dev/null | sed 's/^{/{"impl":"js",/' | record)
  js_t16=$(node "$JS/peer.mjs" dial "$JS_ADDR" --scenario bench-throughput --bytes "$BYTES" --streams 16 2>/dev/null | sed 's/^{/{"impl":"js",/' | record)
fi

if [ "${SKIP_MEMORY:-0}" != 1 ]; then
  MEM_ADDR=$(listen mem "$PEER" listen)
  MPID=$(cat "$W/mem.pid")
  rss() { awk '/VmRSS/ {print $2}' "/proc/$MPID/status"; }
  "$PEER" dial "$MEM_ADDR" --scenario bench-memory --connections 1000 --streams-per-conn 10 --pause-ms 1500 >"$W/memdial.out" 2>&1 &
  DPID=$!
  declare -A rss_at
  while kill -0 $DPID 2>/dev/null; do
    for phase in start connections streams; do
      if [ -z "${rss_at[$phase]:-}" ] && grep -q "\"phase\":\"$phase\"" "$W/memdial.out"; then
        sleep 0.7; rss_at[$phase]=$(rss)
      fi
    done
    sleep 0.1
  done
  cat "$W/memdial.out" >>"$OUT"
  mem_conn=$(( (rss_at[connections] - rss_at[start]) * 1024 / 1000 ))
  mem_stream=$(( (rss_at[streams] - rss_at[connections]) * 1024 / 10000 ))
  echo "{\"impl\":\"c++\",\"memory\":{\"listenerRssKiB\":[${rss_at[start]},${rss_at[connections]},${rss_at[streams]}],\"bytesPerConnection\":$mem_conn,\"bytesPerStream\":$mem_stream}}" >>"$OUT"
fi

python3 - "$OUT" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
def get(impl, scen, streams=None):
    for r in rows:
        if r.get("impl") == impl and r.get("scenario") == scen and (streams is None or r.get("streams") == streams):
            return r
    return None
print(f"{'measure':34} {'C++':>12} {'js-libp2p':>12} {'ratio':>8}")
def line(name, c, j, better_low):
    ratio = "-" if (c is None or j is None or c == 0) else f"{(j / c if better_low else c / j):.1f}x"
    fmt = lambda v: "-" if v is None else f"{v:.3f}" if v < 10 else f"{v:.0f}"
    print(f"{name:34} {fmt(c):>12} {fmt(j):>12} {ratio:>8}")
for label, key in (("connect median (ms)", "medianMs"), ("connect p90 (ms)", "p90Ms")):
    c, j = get("c++", "bench-connect"), get("js", "bench-connect")
    line(label, c and c.get(key), j and j.get(key), True)
for n in (1, 16):
    c, j = get("c++", "bench-throughput", n), get("js", "bench-throughput", n)
    line(f"1 GiB over {n} stream(s) (MB/s)", c and c.get("MBps"), j and j.get("MBps"), False)
for r in rows:
    if "memory" in r:
        m = r["memory"]
        print(f"{'listener bytes / idle connection':34} {m['bytesPerConnection']:>12}")
        print(f"{'listener bytes / idle stream':34} {m['bytesPerStream']:>12}")
PY
