#!/usr/bin/env bash
# The cost of metrics on the gateway's request path (issue 18): requests/s through
# wrk → peergateway → tunnel → peercomputed → container, with the admin listener off and on, in
# the same run — the same gateway restarted on the same ports between rounds, rounds alternating
# (off, on, off, on, …) so that drift on the shared machine hits both alike; with metrics on, a
# scraper reads /metrics every second as Prometheus would. Then the time to render /metrics with
# 1,000 deployments (bench_metrics_exposition). Not part of the test suite; installs wrk.
#
#   BENCH_SECONDS=10 ROUNDS=3 bench/metrics/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SECS=${BENCH_SECONDS:-10}
ROUNDS=${ROUNDS:-3}
./scripts/test.d/10-docker.sh >/dev/null
dpkg-query -W -f='${Status}' wrk 2>/dev/null | grep -q "install ok installed" ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null
cmake -S . -B build/bench-gateway -G Ninja -DCMAKE_BUILD_TYPE=Release -DPC_TESTS=OFF >/dev/null
cmake --build build/bench-gateway --target peerctl peercomputed peergateway bench_metrics_exposition \
  -j "${JOBS:-2}" >/dev/null
B=$ROOT/build/bench-gateway/bin
W=$(mktemp -d /tmp/pc-bench-metrics.XXXXXX)
PIDS=()
cleanup() {
  [ -n "${DEP:-}" ] && PEERCOMPUTE_HOME=$W/dev "$B/peerctl" stop --force "$DEP" >/dev/null 2>&1 || true
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT

# The workload: the static epoll HTTP server of bench/gateway, in a scratch image.
IMG=127.0.0.1:5055/peercompute/tinyhttp:bench
gcc -O2 -static -o "$W/tinyhttp" bench/gateway/tinyhttp.c
mkdir -p "$W/img" && cp "$W/tinyhttp" "$W/img/tinyhttp"
tar -C "$W/img" -c . | docker import -c 'CMD ["/tinyhttp", "8080"]' - "$IMG" >/dev/null
docker push "$IMG" >/dev/null

dev() { PEERCOMPUTE_HOME=$W/dev "$B/peerctl" "$@"; }
dev init >/dev/null
PEERCOMPUTE_HOME=$W/prov "$B/peerctl" init >/dev/null
PROV=$(PEERCOMPUTE_HOME=$W/prov "$B/peerctl" id)
PEERCOMPUTE_HOME=$W/prov "$B/peerctl" peers add "$(dev id)" >/dev/null
"$B/peergateway" --data-dir "$W/gw" providers add "$PROV" >/dev/null

GPID=""
# start_gateway on|off HTTP_PORT TUNNEL_PORT
start_gateway() {
  if [ -n "$GPID" ]; then
    kill "$GPID" 2>/dev/null || true
    wait "$GPID" 2>/dev/null || true
  fi
  : >"$W/gw.log"
  local admin=()
  [ "$1" = on ] && admin=(--admin-listen 127.0.0.1:0)
  "$B/peergateway" --data-dir "$W/gw" --http-port "$2" --tunnel-listen "/ip4/127.0.0.1/tcp/$3" \
    --rate-per-ip 0 --rate-per-host 0 "${admin[@]}" >"$W/gw.log" 2>&1 &
  GPID=$!
  PIDS+=($GPID)
  for _ in $(seq 1 100); do grep -q "Allowed providers" "$W/gw.log" && break; sleep 0.05; done
}
start_gateway off 0 0
GWADDR=$(awk '/Tunnel listening on/ {print $4; exit}' "$W/gw.log")
GW_PORT=$(sed -n 's|.*HTTP listening on /ip4/[^/]*/tcp/\([0-9]*\);.*|\1|p' "$W/gw.log")
TUN_PORT=$(sed -n 's|.*/tcp/\([0-9]*\)/p2p/.*|\1|p' <<<"$GWADDR")
"$B/peercomputed" --data-dir "$W/prov" --listen /ip4/127.0.0.1/tcp/0 --allow-registry 127.0.0.1:5055 \
  --gateway "$GWADDR" >"$W/prov.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q "tunnel: connected" "$W/prov.log" && break; sleep 0.05; done
ADDR=$(awk '/Listening on/ {print $3; exit}' "$W/prov.log")
dev peers add "$PROV" --name prov --addr "${ADDR%/p2p/*}" >/dev/null
dev deploy "$IMG" --peer prov --expose 8080 --cpu 1 --memory 256M >"$W/deploy.out"
DEP=$(awk '/^Deployment/ {print $2}' "$W/deploy.out")
URL="http://127.0.0.1:$GW_PORT/"

# round on|off: restarts the gateway, waits for the route, warms up, measures; sets RESULT (req/s).
# (Not run in a command substitution: the gateway it starts must stay this shell's.)
round() {
  start_gateway "$1" "$GW_PORT" "$TUN_PORT"
  for _ in $(seq 1 200); do
    curl -sf -o /dev/null -H "Host: $DEP.localhost" "$URL" && break
    sleep 0.05
  done
  local scraper=""
  if [ "$1" = on ]; then
    local admin
    admin=$(sed -n 's|Admin listening on \(http://[0-9.:]*\) .*|\1|p' "$W/gw.log")
    (while :; do curl -s -o /dev/null "$admin/metrics"; sleep 1; done) &
    scraper=$!
  fi
  wrk -t2 -c64 -d2s -H "Host: $DEP.localhost" "$URL" >/dev/null
  RESULT=$(wrk -t2 -c64 -d"${SECS}s" -H "Host: $DEP.localhost" "$URL" | awk '/Requests\/sec/ {print $2}')
  if [ -n "$scraper" ]; then
    kill "$scraper" 2>/dev/null || true
    wait "$scraper" 2>/dev/null || true
  fi
}
off=()
on=()
for r in $(seq 1 "$ROUNDS"); do
  round off
  off+=("$RESULT")
  round on
  on+=("$RESULT")
  echo "round $r: metrics off ${off[-1]} req/s, on ${on[-1]} req/s"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
m_off=$(median "${off[@]}")
m_on=$(median "${on[@]}")
echo "median of $ROUNDS rounds of ${SECS}s (wrk -t2 -c64): metrics off $m_off req/s, on $m_on req/s," \
  "on/off $(awk -v a="$m_on" -v b="$m_off" 'BEGIN {printf "%.3f", a / b}')"
"$B/bench_metrics_exposition" --benchmark_min_time=1
