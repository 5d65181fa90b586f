#!/usr/bin/env bash
# Interop against js-libp2p, both directions, run concurrently:
#   1. js listens (seeded: known PeerId), the C++ peer dials it and runs every scenario;
#   2. the C++ peer listens, js dials it and runs every scenario.
# Each side's listener reports what it saw (identify of the dialer, resets), which is checked too.
# usage: run_interop.sh path/to/pc_interop_peer
set -uo pipefail
CPP=${1:?usage: run_interop.sh path/to/pc_interop_peer}
HERE=$(cd "$(dirname "$0")" && pwd)
JS=$HERE/js
HOLD=${INTEROP_HOLD_SECONDS:-15}   # past js's 10 s ping monitor
SCENARIOS=ping,identify,echo,echo-concurrent,transfer,reset,hold
KAT_SEED=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
KAT_ID=12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB
if [ ! -d "$JS/node_modules" ]; then
  echo "js-libp2p is not installed: run scripts/test.d/20-npm.sh" >&2
  exit 1
fi
W=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$W"; }
trap cleanup EXIT

# Starts a listener writing JSON lines to $2 and waits (≤ 20 s) for its "listening" line.
start_listener() {
  local name=$1 out=$2; shift 2
  "$@" >"$out" 2>"$W/$name.err" &
  pids+=($!)
  for _ in $(seq 1 200); do
    grep -q '"listening"' "$out" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "$name listener did not start:" >&2; cat "$W/$name.err" >&2; return 1
}
addr_of() { python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["addrs"][0])' "$1"; }

start_listener js "$W/js.out" node "$JS/peer.mjs" listen --ignore-stdin --seed "$KAT_SEED" || exit 1
start_listener cpp "$W/cpp.out" "$CPP" listen || exit 1
JS_ADDR=$(addr_of "$W/js.out")
CPP_ADDR=$(addr_of "$W/cpp.out")
echo "js  listener: $JS_ADDR"
echo "C++ listener: $CPP_ADDR"

"$CPP" dial "$JS_ADDR" --scenario "$SCENARIOS" --seconds "$HOLD" >"$W/cpp-dial.out" 2>"$W/cpp-dial.err" &
d1=$!
node "$JS/peer.mjs" dial "$CPP_ADDR" --scenario "$SCENARIOS" --seconds "$HOLD" >"$W/js-dial.out" 2>"$W/js-dial.err" &
d2=$!
# 3. js without the Noise muxer extension: the muxer is then negotiated with multistream-select.
node "$JS/peer.mjs" dial "$CPP_ADDR" --no-noise-muxers --scenario ping,echo,echo-concurrent >"$W/js-nomux.out" 2>"$W/js-nomux.err" &
d3=$!
wait $d1; rc1=$?
wait $d2; rc2=$?
wait $d3; rc3=$?
sleep 0.5  # let the listeners print their last events

python3 - "$W" "$KAT_ID" "$rc1" "$rc2" "$SCENARIOS" "$rc3" <<'PY'
import json, sys, os
w, kat, rc1, rc2, scen = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5].split(",")
rc3 = int(sys.argv[6])
def lines(name):
    out = []
    for l in open(os.path.join(w, name)):
        l = l.strip()
        if l.startswith("{"):
            out.append(json.loads(l))
    return out
fails = 0
def check(cond, what, detail=""):
    global fails
    print(("ok   - " if cond else "FAIL - ") + what + ("" if cond or not detail else f" ({detail})"))
    if not cond: fails += 1
for label, name, rc in (("C++ dials js", "cpp-dial.out", rc1), ("js dials C++", "js-dial.out", rc2)):
    res = {r["scenario"]: r for r in lines(name) if "scenario" in r}
    for s in scen:
        r = res.get(s)
        extra = ""
        if r and s == "transfer": extra = f" {r.get('bytes')} bytes, sha256 {r.get('sha256Received','')[:16]}…"
        check(r is not None and r.get("ok") is True, f"{label}: {s}{extra}", json.dumps(r)[:300] if r else "no result")
    check(rc == 0, f"{label}: dialer exit status 0", f"rc={rc}")
res = {r["scenario"]: r for r in lines("js-nomux.out") if "scenario" in r}
for s in ("ping", "echo", "echo-concurrent"):
    check(res.get(s, {}).get("ok") is True, f"js dials C++ without Noise muxer extension: {s}", json.dumps(res.get(s))[:300])
check(rc3 == 0, "js dials C++ without Noise muxer extension: exit status 0", f"rc={rc3}")
early = [l for l in lines("js-dial.out") if l.get("event") == "connected"]
check(bool(early) and early[0].get("earlyMuxerNegotiation") is True, "js and C++ settled yamux in the Noise handshake (early muxer negotiation)", json.dumps(early)[:300])
js_ev = lines("js.out"); cpp_ev = lines("cpp.out")
check(js_ev[0].get("peerId") == kat, "js listener has the known-answer PeerId", js_ev[0].get("peerId"))
ids = [e for e in js_ev if e.get("event") == "identify"]
check(any(e.get("agentVersion", "").startswith("peercompute/") and "/echo/1.0.0" in e.get("protocols", [])
          and "/ipfs/ping/1.0.0" in e.get("protocols", []) and e.get("publicKeyMatches") for e in ids),
      "js identified the C++ peer correctly", json.dumps(ids)[:300])
ids = [e for e in cpp_ev if e.get("event") == "identify"]
check(any(e.get("agentVersion", "").startswith("js-libp2p/") and "/ipfs/ping/1.0.0" in e.get("protocols", []) for e in ids),
      "C++ identified the js peer correctly", json.dumps(ids)[:300])
check(any(e.get("event") == "reset" for e in js_ev), "js saw the C++ peer's stream reset")
check(any(e.get("event") == "reset" for e in cpp_ev), "C++ saw the js peer's stream reset")
check(not any(e.get("event") == "error" for e in js_ev), "js listener reported no errors")
print("interop: all checks passed" if fails == 0 else f"interop: {fails} checks failed")
sys.exit(1 if fails else 0)
PY
status=$?
if [ $status -ne 0 ]; then
  for f in cpp-dial.err js-dial.err js-nomux.err js.err cpp.err; do echo "--- $f"; tail -20 "$W/$f"; done
fi
exit $status
