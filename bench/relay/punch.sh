#!/usr/bin/env bash
# Hole punching through two NATs (tests/nat/lab.sh; root): the time from a relayed connection to
# the direct one DCUtR makes, over N fresh developer connections (median, p90), with the relayed
# round trip of the same runs as the anchor. peergateway in gw, peercomputed in the home LAN,
# peerctl in the office LAN; each run is a new peerctl process (a new port, a new NAT mapping).
#   bench/relay/punch.sh [N=20]   (uses build/dev binaries; builds them if missing)
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N=${1:-20}
B=$ROOT/build/dev/bin
[ -x "$B/peercomputed" ] || cmake --build --preset dev -j2 --target peerctl peercomputed peergateway
# shellcheck source=../../tests/nat/lab.sh
source "$ROOT/tests/nat/lab.sh"
lab_require || exit 77
W=$(mktemp -d)
lab_up || exit 1
trap 'lab_down; [ "${KEEP:-0}" = 1 ] && echo "kept $W" || rm -rf "$W"' EXIT
for h in dev prov; do PEERCOMPUTE_HOME=$W/$h "$B/peerctl" init >/dev/null; done
DEV=$(PEERCOMPUTE_HOME=$W/dev "$B/peerctl" id)
PROV=$(PEERCOMPUTE_HOME=$W/prov "$B/peerctl" id)
PEERCOMPUTE_HOME=$W/prov "$B/peerctl" peers add "$DEV" --name dev >/dev/null
"$B/peergateway" --data-dir "$W/gw" providers add "$PROV" --name prov >/dev/null
lab_spawn gw "$B/peergateway" --data-dir "$W/gw" --bind 198.18.0.1 --http-port 0 \
  --tunnel-listen /ip4/198.18.0.1/tcp/4100 >"$W/gw.log" 2>&1
for _ in $(seq 100); do grep -q 'Tunnel listening' "$W/gw.log" && break; sleep 0.1; done
GWADDR=$(awk '/Tunnel listening on/ {print $4; exit}' "$W/gw.log")
lab_spawn home env SPDLOG_LEVEL=debug "$B/peercomputed" --data-dir "$W/prov" --no-mdns \
  --listen /ip4/0.0.0.0/tcp/4001 --gateway "$GWADDR" >"$W/prov.log" 2>&1
RELADDR="$GWADDR/p2p-circuit/p2p/$PROV"
for _ in $(seq 100); do grep -q "Relayed address" "$W/prov.log" && break; sleep 0.1; done
PEERCOMPUTE_HOME=$W/dev "$B/peerctl" peers add "$PROV" --name prov --addr "$RELADDR" >/dev/null
for i in $(seq "$N"); do
  lab_exec office env PEERCOMPUTE_HOME="$W/dev" SPDLOG_LEVEL="${PC_LOG:-info}" "$B/peerctl" ping prov -c 3 -i 0.3 \
    >"$W/ping$i.out" 2>&1
done
python3 - "$W" "$N" <<'PY'
import re, sys, glob, statistics
w, n = sys.argv[1], int(sys.argv[2])
punch = [int(m) for m in re.findall(r"direct after (\d+) ms", open(f"{w}/prov.log").read())]
first, paths = [], {}
for i in range(1, n + 1):
    out = open(f"{w}/ping{i}.out").read()
    m = re.search(r"seq=1 time=([0-9.]+) ms", out)
    if m: first.append(float(m.group(1)))
    p = re.search(r"path: (.*)", out)
    paths[p.group(1) if p else "none"] = paths.get(p.group(1) if p else "none", 0) + 1
def q(v, f): return sorted(v)[min(len(v) - 1, int(len(v) * f))] if v else float("nan")
print(f"runs {n}; paths: {paths}")
print(f"relayed ping (first reply, ms)      median {q(first, .5):.2f}  p90 {q(first, .9):.2f}")
print(f"relayed -> direct (punch, ms)       median {q(punch, .5):.0f}  p90 {q(punch, .9):.0f}  ({len(punch)} punches)")
PY
