#!/usr/bin/env bash
# The gateway's authoritative DNS against NSD (Debian's nsd, a real authoritative server) serving
# the same zone, in the same run, with dnsperf from the same machine (issue 17's speed goal: at
# least as many queries/s as the anchor).
#   throughput  dnsperf at full speed (-q outstanding queries) for SECONDS: queries/s, lost
#   latency     dnsperf at a fixed RATE (-Q) with -v: p50 and p99 of each query's latency
# Both servers run one thread (the gateway runs one io_context thread; NSD server-count 1) on
# loopback; NSD's RRL and the gateway's response budget are lifted (every query comes from one
# source, which is exactly what they exist to throttle). Release build.
# Installs dnsperf and nsd from Debian when missing (they are not test dependencies).
# Throughput runs alternate between the two servers ROUNDS times (a shared machine is noisy);
# the table shows the median of each.
#   SECONDS_RUN=10 ROUNDS=3 RATE=20000 OUTSTANDING=100 SKIP_BUILD=1 (use the release binary)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
SECONDS_RUN=${SECONDS_RUN:-10}
ROUNDS=${ROUNDS:-3}
RATE=${RATE:-20000}
OUTSTANDING=${OUTSTANDING:-100}
OUT=${OUT:-$ROOT/bench/dns/last-run.jsonl}
missing=()
command -v dnsperf >/dev/null || missing+=(dnsperf)
[ -x /usr/sbin/nsd ] || missing+=(nsd)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  cmake --preset release >/dev/null
  cmake --build build/release --target peergateway >/dev/null
fi
BIN=$ROOT/build/release/bin
W=$(mktemp -d /tmp/pc-dns-bench.XXXXXX)
cleanup() {
  for f in "$W"/*.pid; do [ -e "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
  wait 2>/dev/null  # NSD writes its state files as it exits
  rm -rf "$W"
}
trap cleanup EXIT
: >"$OUT"
wait_line() { for _ in $(seq 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The zone: apex SOA/NS/A/AAAA, and every name under it A/AAAA (a wildcard in NSD).
"$BIN/peergateway" --data-dir "$W/gw" --bind 127.0.0.1 --http-port 0 \
  --tunnel-listen /ip4/127.0.0.1/tcp/0 --domain example.test --dns-listen 127.0.0.1:0 \
  --public-ip 192.0.2.10 --public-ip 192.0.2.11 --public-ip 2001:db8::10 \
  --dns-responses-per-second 1000000000 --dns-response-burst 1000000000 >"$W/gw.out" 2>&1 &
echo $! >"$W/gw.pid"
wait_line "$W/gw.out" 'DNS listening' || { cat "$W/gw.out"; exit 1; }
GW_PORT=$(sed -n 's|^DNS listening on 127.0.0.1:\([0-9]*\) .*|\1|p' "$W/gw.out")

NSD_PORT=$(free_port)
SERIAL=$(dig @127.0.0.1 -p "$GW_PORT" +short example.test SOA | awk '{print $3}')
cat >"$W/example.test.zone" <<EOF
\$ORIGIN example.test.
\$TTL 60
@ 3600 IN SOA ns1.example.test. hostmaster.example.test. $SERIAL 3600 600 1209600 60
@ 3600 IN NS ns1.example.test.
@ IN A 192.0.2.10
@ IN A 192.0.2.11
@ IN AAAA 2001:db8::10
* IN A 192.0.2.10
* IN A 192.0.2.11
* IN AAAA 2001:db8::10
EOF
cat >"$W/nsd.conf" <<EOF
server:
  ip-address: 127.0.0.1
  port: $NSD_PORT
  server-count: 1
  username: ""
  zonesdir: "$W"
  database: ""
  pidfile: "$W/nsd.pidfile"
  xfrdfile: "$W/xfrd.state"
  zonelistfile: "$W/zone.list"
  logfile: "$W/nsd.log"
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: example.test
  zonefile: example.test.zone
EOF
/usr/sbin/nsd -d -c "$W/nsd.conf" >"$W/nsd.out" 2>&1 &
echo $! >"$W/nsd.pid"
for _ in $(seq 100); do dig @127.0.0.1 -p "$NSD_PORT" +short +tries=1 +time=1 example.test SOA >/dev/null 2>&1 && break; sleep 0.1; done

# The same answers from both (the check that they serve the same zone).
for s in "$GW_PORT" "$NSD_PORT"; do
  dig @127.0.0.1 -p "$s" +short dep-abc.example.test A | sort | tr '\n' ' '
  echo
done | sort -u | wc -l | grep -qx 1 || { echo "the two servers answer differently"; exit 1; }

# Queries: deployment names (A), some AAAA, the apex SOA and NS.
python3 - "$W/queries.txt" <<'PY'
import random, sys
random.seed(17)
with open(sys.argv[1], "w") as f:
    for i in range(10000):
        r = random.random()
        name = "dep-%016x.example.test" % random.getrandbits(64)
        f.write("%s A\n" % name if r < 0.7 else "%s AAAA\n" % name if r < 0.9
                else "example.test SOA\n" if r < 0.95 else "example.test NS\n")
PY

throughput() {  # name port
  dnsperf -s 127.0.0.1 -p "$2" -d "$W/queries.txt" -l "$SECONDS_RUN" -q "$OUTSTANDING" >"$W/$1.tp" 2>&1
  python3 - "$1" "$W/$1.tp" <<'PY'
import json, re, sys
t = open(sys.argv[2]).read()
qps = float(re.search(r"Queries per second:\s+([\d.]+)", t).group(1))
lost = re.search(r"Queries lost:\s+(\d+)", t).group(1)
print(json.dumps({"server": sys.argv[1], "metric": "qps", "value": qps, "lost": int(lost)}))
PY
}
latency() {  # name port
  dnsperf -s 127.0.0.1 -p "$2" -d "$W/queries.txt" -l 5 -Q "$RATE" -v >"$W/$1.lat" 2>&1
  python3 - "$1" "$W/$1.lat" "$RATE" <<'PY'
import json, sys
lat = sorted(float(l.split()[-1]) for l in open(sys.argv[2]) if l.startswith("> NOERROR"))
pick = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1e6
print(json.dumps({"server": sys.argv[1], "metric": "latency_us", "rate": int(sys.argv[3]),
                  "n": len(lat), "p50": round(pick(0.5), 1), "p99": round(pick(0.99), 1)}))
PY
}
for _ in $(seq "$ROUNDS"); do
  for s in gateway:$GW_PORT nsd:$NSD_PORT; do throughput "${s%%:*}" "${s##*:}" >>"$OUT"; done
done
for s in gateway:$GW_PORT nsd:$NSD_PORT; do latency "${s%%:*}" "${s##*:}" >>"$OUT"; done

python3 - "$OUT" "$SECONDS_RUN" "$OUTSTANDING" "$RATE" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
qps = lambda s: [r["value"] for r in rows if r["server"] == s and r["metric"] == "qps"]
lost = lambda s: sum(r["lost"] for r in rows if r["server"] == s and r["metric"] == "qps")
lat = lambda s: next(r for r in rows if r["server"] == s and r["metric"] == "latency_us")
print("DNS, loopback, one server thread each; dnsperf %s s at -q %s (median of %d rounds); "
      "latency at %s queries/s" % (sys.argv[2], sys.argv[3], len(qps("gateway")), sys.argv[4]))
print("%-10s %12s %24s %8s %10s %10s" % ("server", "queries/s", "rounds", "lost", "p50 us", "p99 us"))
for s in ("gateway", "nsd"):
    l = lat(s)
    print("%-10s %12.0f %24s %8d %10.1f %10.1f" % (s, statistics.median(qps(s)),
          " ".join("%.0f" % v for v in qps(s)), lost(s), l["p50"], l["p99"]))
print("gateway/nsd queries/s: %.2f" % (statistics.median(qps("gateway")) / statistics.median(qps("nsd"))))
PY
