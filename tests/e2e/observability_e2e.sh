#!/usr/bin/env bash
# Observability end to end with the real dockerd, a real Prometheus and a real headless Chromium:
# a gateway and a provider run with admin listeners (the gateway's on 0.0.0.0 with a token, the
# provider's on loopback, logging JSON), the demo image is deployed, Prometheus (Debian's) scrapes
# both every second and its HTTP API must show the series and see them grow after traffic,
# Chromium loads both dashboards (the deployment appears, the chart's data follows the traffic;
# screenshots kept under build/artifacts/), and a client on a non-loopback address of this
# machine is refused without the token and served with it.
#
#   observability_e2e.sh <peerctl> <peercomputed> <peergateway> [artifact dir]
set -uo pipefail
PEERCTL=${1:?usage}
DAEMON=${2:?usage}
GATEWAY=${3:?usage}
ART=${4:-$(pwd)/artifacts}
IMAGE=127.0.0.1:5055/peercompute/demo-web:2
PC_SUITE=obs-e2e
# shellcheck source=../lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
dev() { PEERCOMPUTE_HOME=$W/dev "$PEERCTL" "$@"; }
for tool in prometheus chromium python3; do
  command -v "$tool" >/dev/null || { echo "FAIL - $tool is not installed (scripts/install-deps.sh)"; exit 1; }
done
mkdir -p "$ART"

dev init >/dev/null
PEERCOMPUTE_HOME=$W/prov "$PEERCTL" init >/dev/null
PROV=$(PEERCOMPUTE_HOME=$W/prov "$PEERCTL" id)
PEERCOMPUTE_HOME=$W/prov "$PEERCTL" peers add "$(dev id)" --name dev >/dev/null
"$GATEWAY" --data-dir "$W/gw" providers add "$PROV" --name prov >/dev/null
(umask 077 && openssl rand -hex 32 >"$W/admin.token")

# The gateway's admin listener on every address, with a token; the provider's on loopback only.
"$GATEWAY" --data-dir "$W/gw" --http-port 0 --tunnel-listen /ip4/127.0.0.1/tcp/0 --rate-per-ip 0 \
  --admin-listen 0.0.0.0:0 --admin-token-file "$W/admin.token" >"$W/gw.log" 2>&1 &
PIDS+=($!)
wait_for "$W/gw.log" "Admin listening" || { ko "gateway: $(cat "$W/gw.log")"; exit 1; }
GWADDR=$(awk '/Tunnel listening on/ {print $4; exit}' "$W/gw.log")
GADMIN=$(sed -n 's|Admin listening on http://0.0.0.0:\([0-9]*\) .*|\1|p' "$W/gw.log")
"$DAEMON" --data-dir "$W/prov" --listen /ip4/127.0.0.1/tcp/0 --allow-registry 127.0.0.1:5055 \
  --gateway "$GWADDR" --no-mdns --admin-listen 127.0.0.1:0 --log-format json \
  >"$W/prov.out" 2>"$W/prov.err" &
PIDS+=($!)
wait_for "$W/prov.err" "tunnel: connected" || { ko "no tunnel: $(cat "$W/prov.out" "$W/prov.err")"; exit 1; }
PADMIN=$(sed -n 's|Admin listening on http://127.0.0.1:\([0-9]*\) .*|\1|p' "$W/prov.out")
[ -n "$GADMIN" ] && [ -n "$PADMIN" ] && ok "admin listeners up (gateway :$GADMIN with a token, provider 127.0.0.1:$PADMIN)" ||
  ko "admin ports: '$GADMIN' '$PADMIN'"
ADDR=$(awk '/Listening on/ {print $3; exit}' "$W/prov.out")
dev peers add "$PROV" --name prov --addr "${ADDR%/p2p/*}" >/dev/null
dev deploy "$IMAGE" --peer prov --expose 8080 >"$W/deploy.out" 2>&1
DEP=$(awk '/^Deployment/ {print $2}' "$W/deploy.out")
URL=$(awk '/url:/ {print $2}' "$W/deploy.out")
curl -sf --max-time 10 "$URL" | grep -q "Hello from Peer Compute" && ok "deployed $DEP, served at $URL" ||
  { ko "deploy: $(cat "$W/deploy.out")"; exit 1; }

# --log-format json: every stderr line of the provider is one JSON object with the four fields.
python3 - "$W/prov.err" <<'EOF' && ok "provider log: $(wc -l <"$W/prov.err") lines, each one JSON object" || ko "provider log is not JSON lines"
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
assert lines
for l in lines:
    o = json.loads(l)
    assert set(o) == {"time", "level", "logger", "message"}, o
EOF

# A real Prometheus scraping both admin listeners each second (loopback: no token needed).
PROM=$(free_ports 1)
cat >"$W/prometheus.yml" <<EOF
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: gateway
    static_configs: [{targets: ['127.0.0.1:$GADMIN']}]
  - job_name: provider
    static_configs: [{targets: ['127.0.0.1:$PADMIN']}]
EOF
prometheus --config.file="$W/prometheus.yml" --storage.tsdb.path="$W/tsdb" \
  --web.listen-address="127.0.0.1:$PROM" >"$W/prometheus.log" 2>&1 &
PIDS+=($!)
# query EXPR: the value of the first sample of an instant query ("" when none).
query() {
  curl -s --max-time 5 "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode "query=$1" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null
}
# until EXPR: waits (up to 15 s) for an instant query to return a sample; prints its value.
until_sample() {
  local v=""
  for _ in $(seq 1 75); do
    v=$(query "$1")
    [ -n "$v" ] && { echo "$v"; return 0; }
    sleep 0.2
  done
  return 1
}
t0=$(date +%s%N)
if until_sample 'up{job="gateway"} == 1 and on() up{job="provider"} == 1' >/dev/null; then
  ok "Prometheus scrapes both daemons (up == 1 after $((($(date +%s%N) - t0) / 1000000)) ms)"
else
  ko "Prometheus never scraped both: $(curl -s "http://127.0.0.1:$PROM/api/v1/targets" | head -c 600)"
fi
for series in \
  "peergateway_http_requests_total{deployment=\"$DEP\",code=\"2xx\"}" \
  'peergateway_http_request_duration_seconds_bucket{le="+Inf"}' \
  'peergateway_http_received_bytes_total' 'peergateway_http_sent_bytes_total' \
  'peergateway_http_open_connections' "peergateway_tunnels_up{provider=\"$PROV\"}" \
  "peergateway_routes{provider=\"$PROV\"}" 'peergateway_relay_reservations' \
  'peergateway_relay_circuits' 'peergateway_refusals_total{reason="no_route"}' \
  'peercomputed_deployments{state="running"}' "peercomputed_deployment_memory_bytes{deployment=\"$DEP\"}" \
  "peercomputed_deployment_cpu_seconds_total{deployment=\"$DEP\"}" \
  "peercomputed_deployment_network_receive_bytes_total{deployment=\"$DEP\"}" \
  'peercomputed_image_pull_duration_seconds_count' 'peercomputed_deployment_start_duration_seconds_count' \
  'peercomputed_audit_events_total{event="deploy_accepted"}' 'peercomputed_p2p_connections' \
  'peercomputed_p2p_streams' 'peercomputed_tunnels_up' 'peercomputed_gateways'; do
  v=$(until_sample "$series") && ok "series $series = $v" || ko "no series $series"
done
[ "$(query 'peercomputed_deployments{state="running"}')" = 1 ] && ok "one deployment running" || ko "running: $(query 'peercomputed_deployments{state="running"}')"
[ "$(query "peergateway_tunnels_up{provider=\"$PROV\"}")" = 1 ] && ok "the provider's tunnel is up" || ko "tunnels_up"

# Traffic: 40 requests through the gateway; the scraped counters must grow by at least that.
before=$(query "sum(peergateway_http_requests_total{deployment=\"$DEP\"})")
sent_before=$(query 'peergateway_http_sent_bytes_total')
codes=""
for _ in $(seq 1 40); do codes+="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$URL") "; done
[ "$(tr ' ' '\n' <<<"$codes" | grep -c '^200$')" = 40 ] && ok "40 requests through the gateway: 200 each" ||
  ko "40 requests: $(tr ' ' '\n' <<<"$codes" | sort | uniq -c | tr '\n' ' '); gateway: $(grep -v '^\[' "$W/gw.log" | tail -3); refusals: $(curl -s "http://127.0.0.1:$GADMIN/metrics" | grep -E '^peergateway_refusals_total.* [1-9]')"
grew=""
for _ in $(seq 1 50); do
  now=$(query "sum(peergateway_http_requests_total{deployment=\"$DEP\"})")
  if [ -n "$now" ] && [ "${now%.*}" -ge $((${before%.*} + 40)) ]; then grew=$now; break; fi
  sleep 0.2
done
[ -n "$grew" ] && ok "peergateway_http_requests_total{deployment=$DEP} grew $before → $grew after 40 requests" ||
  ko "requests did not grow by 40 (before $before, now $(query "sum(peergateway_http_requests_total{deployment=\"$DEP\"})"))"
sent_now=$(query 'peergateway_http_sent_bytes_total')
[ "${sent_now%.*}" -gt "${sent_before%.*}" ] && ok "peergateway_http_sent_bytes_total grew $sent_before → $sent_now" ||
  ko "sent bytes did not grow ($sent_before → $sent_now)"
rate=$(until_sample "rate(peergateway_http_requests_total{deployment=\"$DEP\"}[5s]) > 0") &&
  ok "Prometheus computes a request rate for $DEP ($rate/s)" || ko "no request rate"

# Headless Chromium loads both dashboards after their JS ran (virtual time: several polls).
chrome() {
  timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --user-data-dir="$W/chrome" --virtual-time-budget=4000 --window-size=1280,1100 "$@" 2>>"$W/chrome.log"
}
attr() { sed -n "s/.*$1=\"\\([0-9]*\\)\".*/\\1/p" | head -1; }
chrome --dump-dom "http://127.0.0.1:$GADMIN/" >"$W/gw1.html"
updates=$(attr data-updates <"$W/gw1.html")
req1=$(grep -o '<svg id="chart"[^>]*>' "$W/gw1.html" | attr data-requests)
grep -q "$DEP" "$W/gw1.html" && [ "${updates:-0}" -ge 2 ] &&
  ok "gateway dashboard: $DEP routed, $updates updates, chart at $req1 requests" ||
  ko "gateway dashboard: updates=${updates:-none} dep=$(grep -c "$DEP" "$W/gw1.html") $(tail -c 400 "$W/gw1.html")"
for _ in $(seq 1 20); do curl -sf --max-time 5 "$URL" >/dev/null; curl -s -o /dev/null -H "Host: dep-aaaaaaaaaaaaaaaa.localhost" "${URL%/}/"; done
chrome --dump-dom "http://127.0.0.1:$GADMIN/" >"$W/gw2.html"
req2=$(grep -o '<svg id="chart"[^>]*>' "$W/gw2.html" | attr data-requests)
points=$(grep -o '<svg id="chart"[^>]*>' "$W/gw2.html" | attr data-points)
lines=$(grep -o '<polyline' "$W/gw2.html" | wc -l)
[ -n "$req1" ] && [ -n "$req2" ] && [ "$req2" -ge $((req1 + 40)) ] && [ "${points:-0}" -ge 2 ] && [ "$lines" -eq 2 ] &&
  ok "the chart follows the traffic: $req1 → $req2 requests, $points points, 2 lines drawn" ||
  ko "chart did not update: ${req1:-?} → ${req2:-?}, points ${points:-?}, lines $lines"
grep -q "no_route" "$W/gw2.html" && ok "recent refusals list the requests for a deployment without a route" ||
  ko "no refusal listed"
chrome --screenshot="$ART/gateway-dashboard.png" "http://127.0.0.1:$GADMIN/" >/dev/null
chrome --dump-dom "http://127.0.0.1:$PADMIN/" >"$W/prov.html"
updates=$(attr data-updates <"$W/prov.html")
grep -q "$DEP" "$W/prov.html" && grep -q 'state-running' "$W/prov.html" && grep -q deploy_accepted "$W/prov.html" &&
  [ "${updates:-0}" -ge 2 ] && ok "provider dashboard: $DEP running, deploy_accepted in the audit list, $updates updates" ||
  ko "provider dashboard: $(tail -c 600 "$W/prov.html")"
chrome --screenshot="$ART/provider-dashboard.png" "http://127.0.0.1:$PADMIN/" >/dev/null
[ -s "$ART/gateway-dashboard.png" ] && [ -s "$ART/provider-dashboard.png" ] &&
  ok "screenshots kept: $ART/gateway-dashboard.png, $ART/provider-dashboard.png" || ko "no screenshots ($(tail -3 "$W/chrome.log"))"

# The admin listener from a non-loopback address of this machine: refused without the token.
OWN=$(ip -4 -o addr show scope global | awk '{split($4, a, "/"); print a[1]; exit}')
if [ -z "$OWN" ]; then
  ko "this machine has no non-loopback IPv4 address to test from"
else
  code=$(curl -s -o "$W/refused.txt" -w '%{http_code}' --max-time 5 --interface "$OWN" "http://$OWN:$GADMIN/metrics")
  [ "$code" = 403 ] && grep -q "Bearer" "$W/refused.txt" && ok "$OWN without the token: 403 ($(head -c 90 "$W/refused.txt"))" ||
    ko "$OWN without the token: HTTP $code"
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --interface "$OWN" \
    -H "Authorization: Bearer 0000000000000000000000000000000000" "http://$OWN:$GADMIN/metrics")
  [ "$code" = 403 ] && ok "$OWN with a wrong token: 403" || ko "$OWN with a wrong token: HTTP $code"
  code=$(curl -s -o "$W/allowed.txt" -w '%{http_code}' --max-time 5 --interface "$OWN" \
    -H "Authorization: Bearer $(cat "$W/admin.token")" "http://$OWN:$GADMIN/metrics")
  [ "$code" = 200 ] && grep -q peergateway_http_requests_total "$W/allowed.txt" &&
    ok "$OWN with the token: 200 and the metrics" || ko "$OWN with the token: HTTP $code"
  grep -q "admin listener refused $OWN" "$W/gw.log" && ok "the refusal is logged" || ko "no refusal in the log"
  v=$(until_sample 'peergateway_admin_refusals_total >= 2') && ok "peergateway_admin_refusals_total = $v" ||
    ko "admin refusals not counted"
  # The provider's listener is on loopback: nothing answers on the machine's own address.
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --interface "$OWN" "http://$OWN:$PADMIN/metrics")
  [ "$code" = 000 ] && ok "the provider's loopback listener is not reachable on $OWN" || ko "provider admin on $OWN: HTTP $code"
fi

# peerctl top (one table) and status -w (a line for each change of state) against the provider.
dev top --no-stream >"$W/top.out" 2>&1
grep "$DEP" "$W/top.out" | grep -q " / 256 MiB .* / " &&
  ok "peerctl top: $(grep "$DEP" "$W/top.out" | tr -s ' ')" || ko "top: $(cat "$W/top.out")"
# peerctl itself in the background (not the dev function: its subshell would outlive a kill).
PEERCOMPUTE_HOME=$W/dev "$PEERCTL" status -w >"$W/watch.out" 2>&1 &
WPID=$!
PIDS+=($WPID)
wait_for "$W/watch.out" "$DEP" || ko "status -w printed no table: $(cat "$W/watch.out")"
dev stop "$DEP" --force >/dev/null
wait_for "$W/watch.out" "$DEP .* → stopped" && ok "status -w: $(grep -- '→ stopped' "$W/watch.out" | tr -s ' ')" ||
  ko "status -w saw no stop: $(cat "$W/watch.out")"
kill "$WPID" 2>/dev/null
v=$(until_sample 'peercomputed_deployments{state="stopped"} == 1') && ok "the stop shows in Prometheus (stopped = $v)" || ko "stop not seen"

[ $fails -eq 0 ] && echo "all observability e2e checks passed" || echo "$fails observability e2e checks failed"
exit $((fails > 0))
