#!/usr/bin/env bash
# The wildcard certificate, measured (issue 17's speed goals), every anchor in the same run:
#   issuance    peergateway --tls acme --acme-challenge dns-01 (its own DNS answers pebble's
#               queries) from process start to "issued", against lego (Debian's ACME client)
#               getting the same two names (*.example.test, example.test) over dns-01 from a
#               second pebble that asks pebble-challtestsrv, lego's TXT records set by its exec
#               hook (its waits cut to the least it takes: sequence and polling interval 1 s;
#               the exec provider sets one TXT value at a time, so the two names go one after
#               the other): whole run, account registration included on both sides. ROUNDS each.
#   handshakes  full TLS handshakes/s (no resumption) + one tiny request per connection, by
#               bench/tls/handshakes.c with THREADS threads, against the gateway serving the
#               wildcard (one io_context thread; the host is unknown, so it answers 404) and
#               nginx serving the same certificate and key with `return 404` (worker_processes
#               1, and auto for the ceiling). Alternated ROUNDS times; medians.
# Not part of the test suite; installs nginx-light, lego, dnsutils and pebble when missing.
#   SECONDS_RUN=10 ROUNDS=3 THREADS=4 SKIP_BUILD=1
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
SECONDS_RUN=${SECONDS_RUN:-10}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-4}
OUT=${OUT:-$ROOT/bench/tls/last-run.jsonl}
need=()
for p in nginx-light lego dnsutils pebble; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  cmake --preset release >/dev/null
  cmake --build build/release --target peergateway >/dev/null
fi
BIN=${BIN:-$ROOT/build/release/bin}
W=$(mktemp -d /tmp/pc-tls-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$W/nginx.pid" ] && kill "$(cat "$W/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
: >"$OUT"
cc -O2 -o "$W/handshakes" bench/tls/handshakes.c -lssl -lcrypto -lpthread
wait_line() { for _ in $(seq 600); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }
free_ports() { python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
DOMAIN=example.test
read -r HTTP HTTPS PEB PEBM DNS PEB2 PEBM2 CTS_DNS CTS_MGMT NGX <<<"$(free_ports 10)"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$W/pebble.key" -out "$W/pebble.crt" \
  2>/dev/null
start_pebble() {  # name port mgmt dnsserver
  cat >"$W/$1.json" <<EOF
{ "pebble": { "listenAddress": "127.0.0.1:$2", "managementListenAddress": "127.0.0.1:$3",
  "certificate": "$W/pebble.crt", "privateKey": "$W/pebble.key",
  "httpPort": $HTTP, "tlsPort": $HTTPS, "ocspResponderURL": "",
  "externalAccountBindingRequired": false } }
EOF
  PEBBLE_VA_NOSLEEP=1 pebble -config "$W/$1.json" -dnsserver "$4" >"$W/$1.log" 2>&1 &
  PIDS+=($!)
  wait_line "$W/$1.log" "Listening on" || { cat "$W/$1.log"; exit 1; }
}
start_pebble pebble "$PEB" "$PEBM" "127.0.0.1:$DNS"
start_pebble pebble2 "$PEB2" "$PEBM2" "127.0.0.1:$CTS_DNS"
pebble-challtestsrv -dns01 "127.0.0.1:$CTS_DNS" -management "127.0.0.1:$CTS_MGMT" -http01 "" \
  -https01 "" -tlsalpn01 "" >"$W/cts.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do dig +short +time=1 +tries=1 @127.0.0.1 -p "$CTS_DNS" "$DOMAIN" A | grep -q . && break; sleep 0.05; done

# ---- issuance ---------------------------------------------------------------------------------
gw_issue() {  # round: appends the seconds from start to "issued" to gw_t; leaves the gateway running as $GW
  local d=$W/gw$1 t0
  t0=$(date +%s.%N)
  "$BIN/peergateway" --data-dir "$d" --domain "$DOMAIN" --bind 127.0.0.1 --http-port 0 \
    --https-port "$HTTPS" --tunnel-listen /ip4/127.0.0.1/tcp/0 --rate-per-ip 0 \
    --dns-listen "127.0.0.1:$DNS" --public-ip 127.0.0.1 --tls acme --acme-challenge dns-01 \
    --acme-directory "https://127.0.0.1:$PEB/dir" --acme-ca "$W/pebble.crt" \
    --acme-email ops@example.org >"$d.log" 2>&1 &
  GW=$!
  PIDS+=($GW)
  wait_line "$d.log" "certificate for \*.$DOMAIN and $DOMAIN issued" || { tail "$d.log" >&2; exit 1; }
  gw_t+=("$(python3 -c "import sys; print(f'{float(sys.argv[2])-float(sys.argv[1]):.3f}')" "$t0" "$(date +%s.%N)")")
}
cat >"$W/exec.sh" <<EOF
#!/bin/sh
# lego's exec hook: present|cleanup FQDN VALUE → pebble-challtestsrv's TXT records.
case "\$1" in
  present) curl -sf -d "{\"host\":\"\$2\",\"value\":\"\$3\"}" http://127.0.0.1:$CTS_MGMT/set-txt ;;
  cleanup) curl -sf -d "{\"host\":\"\$2\"}" http://127.0.0.1:$CTS_MGMT/clear-txt ;;
esac
EOF
chmod +x "$W/exec.sh"
lego_issue() {  # round → seconds for the whole lego run
  local t0
  t0=$(date +%s.%N)
  LEGO_CA_CERTIFICATES=$W/pebble.crt EXEC_PATH=$W/exec.sh EXEC_SEQUENCE_INTERVAL=1 \
    EXEC_POLLING_INTERVAL=1 EXEC_PROPAGATION_TIMEOUT=30 \
    lego --server "https://127.0.0.1:$PEB2/dir" --email ops@example.org --accept-tos \
    --path "$W/lego$1" --domains "*.$DOMAIN" --domains "$DOMAIN" --dns exec \
    --dns.resolvers "127.0.0.1:$CTS_DNS" --dns.disable-cp run >"$W/lego$1.log" 2>&1 ||
    { tail "$W/lego$1.log" >&2; exit 1; }
  python3 -c "import sys; print(f'{float(sys.argv[2])-float(sys.argv[1]):.3f}')" "$t0" "$(date +%s.%N)"
}
gw_t=() lego_t=()
for r in $(seq "$ROUNDS"); do
  [ -n "${GW:-}" ] && { kill "$GW"; wait "$GW" 2>/dev/null || true; }
  gw_issue "$r"
  lego_t+=("$(lego_issue "$r")")
done
GWM=$(printf '%s\n' "${gw_t[@]}" | median)
LEGOM=$(printf '%s\n' "${lego_t[@]}" | median)
echo "{\"what\":\"wildcard issuance\",\"peergateway_s\":[$(IFS=,; echo "${gw_t[*]}")],\"lego_s\":[$(IFS=,; echo "${lego_t[*]}")]}" >>"$OUT"

# ---- handshakes -------------------------------------------------------------------------------
CRT=$W/gw$ROUNDS/acme/wildcard/$DOMAIN.crt
KEY=$W/gw$ROUNDS/acme/wildcard/$DOMAIN.key
curl -s -o /dev/null --cacert <(curl -sf --cacert "$W/pebble.crt" "https://127.0.0.1:$PEBM/roots/0") \
  --resolve "bench.$DOMAIN:$HTTPS:127.0.0.1" "https://bench.$DOMAIN:$HTTPS/" ||
  { echo "the gateway's wildcard does not verify" >&2; exit 1; }
nginx_start() {  # workers
  cat >"$W/nginx.conf" <<EOF
worker_processes $1;
pid $W/nginx.pid;
error_log $W/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$NGX ssl;
    ssl_certificate $CRT;
    ssl_certificate_key $KEY;
    ssl_session_cache off;
    ssl_session_tickets off;
    location / { return 404; }
  }
}
EOF
  nginx -c "$W/nginx.conf" -p "$W"
  for _ in $(seq 100); do [ -s "$W/nginx.pid" ] && break; sleep 0.05; done
}
nginx_stop() { kill "$(cat "$W/nginx.pid")"; for _ in $(seq 100); do [ -e "$W/nginx.pid" ] || break; sleep 0.05; done; }
hs() { "$W/handshakes" 127.0.0.1 "$1" "bench.$DOMAIN" "$THREADS" "$SECONDS_RUN"; }
g=() n1=() na=()
for r in $(seq "$ROUNDS"); do
  l=$(hs "$HTTPS"); echo "{\"server\":\"peergateway\",\"round\":$r,\"result\":$l}" >>"$OUT"
  g+=("$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["handshakes_per_s"])' "$l")")
  nginx_start 1
  l=$(hs "$NGX"); echo "{\"server\":\"nginx-1\",\"round\":$r,\"result\":$l}" >>"$OUT"
  n1+=("$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["handshakes_per_s"])' "$l")")
  nginx_stop
  nginx_start auto
  l=$(hs "$NGX"); echo "{\"server\":\"nginx-auto\",\"round\":$r,\"result\":$l}" >>"$OUT"
  na+=("$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["handshakes_per_s"])' "$l")")
  nginx_stop
done
G=$(printf '%s\n' "${g[@]}" | median)
N1=$(printf '%s\n' "${n1[@]}" | median)
NA=$(printf '%s\n' "${na[@]}" | median)
NEG=$(grep -m1 -o '"negotiated": "[^"]*"' "$OUT" | cut -d'"' -f4)
printf '\n%-44s %12s\n' "wildcard issuance (median of $ROUNDS)" "seconds"
printf '%-44s %12s\n' "peergateway (own DNS, dns-01)" "$GWM" "lego + pebble-challtestsrv" "$LEGOM"
printf '\n%-44s %12s  (%s, %s threads)\n' "full TLS handshakes/s (median of $ROUNDS)" "per s" "$NEG" "$THREADS"
printf '%-44s %12s\n' "peergateway (1 thread)" "$G" "nginx worker_processes 1" "$N1" \
  "nginx worker_processes auto ($(nproc))" "$NA"
python3 -c "import sys; print(f'ratio gateway/nginx-1 = {float(sys.argv[1])/float(sys.argv[2]):.2f}')" "$G" "$N1"
echo "raw results: $OUT"
