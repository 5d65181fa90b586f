#!/usr/bin/env bash
# HTTPS with certificates issued on demand by a real ACME server (Debian's pebble, with its
# default 5% of nonces rejected on purpose so badNonce retries are exercised): a deployment's
# route gets its certificate over HTTP-01, curl verifies it against pebble's root, keys are 0600,
# plain HTTP redirects to HTTPS while the challenge path stays served, an unknown name gets no
# certificate and places no order, a restart reuses the stored certificate, renewal replaces it,
# and a second deployment is validated over TLS-ALPN-01.
#
#   acme_e2e.sh <peerctl> <peercomputed> <peergateway>
set -uo pipefail
PEERCTL=${1:?usage}
DAEMON=${2:?usage}
GATEWAY=${3:?usage}
IMAGE=127.0.0.1:5055/peercompute/demo-web:2
DOMAIN=pc.test
command -v pebble >/dev/null || { echo "pebble not installed (apt-get install pebble)" >&2; exit 1; }
PC_SUITE=acme-e2e
# shellcheck source=../lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
# shellcheck source=../lib/pebble.sh
source "$(dirname "$0")/../lib/pebble.sh"
dev() { PEERCOMPUTE_HOME=$W/dev "$PEERCTL" "$@"; }
read -r HTTP_PORT HTTPS_PORT PEBBLE_PORT MGMT_PORT DNS_PORT <<<"$(free_ports 5)"

# ---- pebble: its own HTTPS certificate, mock DNS answering 127.0.0.1 for every name ----------
pebble-challtestsrv -dns01 "127.0.0.1:$DNS_PORT" -http01 "" -https01 "" -tlsalpn01 "" \
  -management "127.0.0.1:0" -defaultIPv4 127.0.0.1 -defaultIPv6 "" >"$W/dns.log" 2>&1 &
PIDS+=($!)
start_pebble "$PEBBLE_PORT" "$MGMT_PORT" "$HTTP_PORT" "$HTTPS_PORT" "127.0.0.1:$DNS_PORT" || exit 1
ok "pebble up, its issuing root fetched"

dev init >/dev/null
PEERCOMPUTE_HOME=$W/prov "$PEERCTL" init >/dev/null
PROV=$(PEERCOMPUTE_HOME=$W/prov "$PEERCTL" id)
PEERCOMPUTE_HOME=$W/prov "$PEERCTL" peers add "$(dev id)" --name dev >/dev/null
"$GATEWAY" --data-dir "$W/gw" providers add "$PROV" --name prov >/dev/null

start_gateway() {  # extra flags…
  cat "$W/gw.log" >>"$W/gw-earlier.log" 2>/dev/null
  : >"$W/gw.log"
  "$GATEWAY" --data-dir "$W/gw" --domain "$DOMAIN" --bind 127.0.0.1 --http-port "$HTTP_PORT" \
    --https-port "$HTTPS_PORT" --tunnel-listen "/ip4/127.0.0.1/tcp/${TUN_PORT:-0}" --rate-per-ip 0 \
    --tls acme --acme-directory "https://127.0.0.1:$PEBBLE_PORT/dir" --acme-ca "$W/pebble.crt" \
    --acme-email ops@example.org "$@" >>"$W/gw.log" 2>&1 &
  GPID=$!
  PIDS+=($GPID)
  wait_for "$W/gw.log" "HTTPS listening"
}
start_gateway
GWADDR=$(awk '/Tunnel listening on/ {print $4; exit}' "$W/gw.log")
TUN_PORT=$(sed -n 's|.*/tcp/\([0-9]*\)/p2p/.*|\1|p' <<<"$GWADDR")
[ -n "$TUN_PORT" ] && ok "gateway up with tls = acme" || { ko "gateway: $(cat "$W/gw.log")"; exit 1; }

"$DAEMON" --data-dir "$W/prov" --listen /ip4/127.0.0.1/tcp/0 --allow-registry 127.0.0.1:5055 \
  --gateway "$GWADDR" >"$W/prov.log" 2>&1 &
PIDS+=($!)
wait_for "$W/prov.log" "tunnel: connected" || ko "no tunnel: $(cat "$W/prov.log")"
ADDR=$(awk '/Listening on/ {print $3; exit}' "$W/prov.log")
dev peers add "$PROV" --name prov --addr "${ADDR%/p2p/*}" >/dev/null

dev deploy "$IMAGE" --peer prov --expose 8080 >"$W/deploy.out" 2>&1
DEP=$(awk '/^Deployment/ {print $2}' "$W/deploy.out")
HOST=$DEP.$DOMAIN
URL=$(awk '/url:/ {print $2}' "$W/deploy.out")
[ "$URL" = "https://$HOST:$HTTPS_PORT/" ] && ok "deploy printed the https URL $URL" || ko "deploy: $(cat "$W/deploy.out")"
CURL=(curl -s --max-time 90 --resolve "$HOST:$HTTPS_PORT:127.0.0.1" --resolve "$HOST:$HTTP_PORT:127.0.0.1")
# Sent at once: the handshake is held until the certificate exists, then completes.
"${CURL[@]}" --cacert "$W/root.pem" -f "$URL" | grep -q "Hello from Peer Compute" &&
  ok "HTTPS through a pebble-issued certificate, verified by curl" || ko "HTTPS failed: $(tail -5 "$W/gw.log")"
grep -q "certificate for $HOST issued" "$W/gw.log" && ok "issued over http-01" || ko "no issuance in the log"
serial1=$(openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername "$HOST" </dev/null 2>/dev/null |
  openssl x509 -noout -serial)
[ -n "$serial1" ] && ok "certificate served ($serial1)" || ko "no certificate served"

perm_ok=1
for f in "$W/gw/acme/account.key" "$W/gw/acme/certs/$HOST.key"; do
  [ "$(stat -c %a "$f" 2>/dev/null)" = 600 ] || perm_ok=0
done
[ $perm_ok = 1 ] && ok "account and certificate keys are 0600" || ko "key modes: $(ls -l "$W/gw/acme" "$W/gw/acme/certs")"

code=$("${CURL[@]}" -o /dev/null -w '%{http_code} %{redirect_url}' "http://$HOST:$HTTP_PORT/x?y")
[ "$code" = "308 https://$HOST:$HTTPS_PORT/x?y" ] && ok "plain HTTP redirects to HTTPS" || ko "redirect: $code"
code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' "http://$HOST:$HTTP_PORT/.well-known/acme-challenge/nope")
[ "$code" = 404 ] && ok "the challenge path is served on HTTP (unknown token → 404)" || ko "challenge path: $code"

# A name that is no live route: refused in the handshake, and no order reaches the CA.
curl -s --max-time 10 --resolve "dep-aaaaaaaaaaaaaaaa.$DOMAIN:$HTTPS_PORT:127.0.0.1" --cacert "$W/root.pem" \
  "https://dep-aaaaaaaaaaaaaaaa.$DOMAIN:$HTTPS_PORT/" >/dev/null 2>&1 && ko "unknown name got a certificate" ||
  ok "unknown name refused in the handshake"
grep -q "certificate for dep-aaaaaaaaaaaaaaaa" "$W/gw.log" && ko "an order was placed for an unknown name" ||
  ok "no order placed for it (flood guard)"
openssl s_client -connect "127.0.0.1:$HTTPS_PORT" </dev/null >/dev/null 2>&1 && ko "no-SNI handshake accepted" ||
  ok "a handshake without SNI is refused"

# Restart: the stored certificate is served again without a new order.
kill "$GPID"; wait "$GPID" 2>/dev/null
start_gateway
wait_for "$W/gw.log" "stored certificate(s) loaded" && ok "stored certificate loaded at start" || ko "not loaded: $(cat "$W/gw.log")"
wait_for "$W/prov.log" "route.*$DEP\|registered" 50 >/dev/null
for _ in $(seq 1 50); do "${CURL[@]}" --cacert "$W/root.pem" -sf "$URL" >/dev/null && break; sleep 0.1; done
serial2=$(openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername "$HOST" </dev/null 2>/dev/null |
  openssl x509 -noout -serial)
[ "$serial2" = "$serial1" ] && ! grep -q "ordering a certificate for $HOST" "$W/gw.log" &&
  ok "same certificate after restart, no new order" || ko "after restart: $serial2 vs $serial1"

# Renewal: a window longer than the certificate's life makes it due; the route's return renews it.
kill "$GPID"; wait "$GPID" 2>/dev/null
start_gateway --acme-challenge tls-alpn-01 --config <(echo 'acme_renew_before = "36500d"')
wait_for "$W/gw.log" "certificate for $HOST issued" 200 && ok "renewed when due" || ko "no renewal: $(cat "$W/gw.log")"
serial3=$(openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername "$HOST" </dev/null 2>/dev/null |
  openssl x509 -noout -serial)
[ -n "$serial3" ] && [ "$serial3" != "$serial1" ] && ok "renewed certificate served ($serial3)" || ko "serial after renewal: $serial3"

# A second deployment validated over TLS-ALPN-01 (this gateway now runs with that challenge).
dev deploy "$IMAGE" --peer prov --expose 8080 >"$W/deploy2.out" 2>&1
DEP2=$(awk '/^Deployment/ {print $2}' "$W/deploy2.out")
URL2=$(awk '/url:/ {print $2}' "$W/deploy2.out")
curl -s --max-time 90 --resolve "$DEP2.$DOMAIN:$HTTPS_PORT:127.0.0.1" --cacert "$W/root.pem" -f "$URL2" |
  grep -q "Hello from Peer Compute" && ok "HTTPS for a certificate issued over tls-alpn-01" ||
  ko "tls-alpn-01: $(tail -5 "$W/gw.log")"
grep -q "badNonce" "$W/gw.log" && echo "     (pebble rejected a nonce; it was retried)"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 --resolve "$DEP2.$DOMAIN:$HTTPS_PORT:127.0.0.1" \
  --cacert "$W/root.pem" -H "Host: $HOST:$HTTPS_PORT" "$URL2")
[ "$code" = 421 ] && ok "a request for $DEP over the connection made for $DEP2 → 421" || ko "SNI/Host mismatch (acme): $code"

# --tls static: one wildcard certificate from files serves every deployment name.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=*.$DOMAIN" \
  -addext "subjectAltName=DNS:*.$DOMAIN" -keyout "$W/wild.key" -out "$W/wild.crt" 2>/dev/null
read -r SHTTP SHTTPS <<<"$(free_ports 2)"
"$GATEWAY" --data-dir "$W/gw2" --domain "$DOMAIN" --bind 127.0.0.1 --http-port "$SHTTP" --https-port "$SHTTPS" \
  --tunnel-listen /ip4/127.0.0.1/tcp/0 --tls static --cert "$W/wild.crt" --key "$W/wild.key" >"$W/gw2.log" 2>&1 &
PIDS+=($!)
wait_for "$W/gw2.log" "HTTPS listening"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$W/wild.crt" \
  --resolve "dep-bbbbbbbbbbbbbbbb.$DOMAIN:$SHTTPS:127.0.0.1" "https://dep-bbbbbbbbbbbbbbbb.$DOMAIN:$SHTTPS/")
[ "$code" = 404 ] && ok "--tls static serves the wildcard certificate (verified; unknown deployment → 404)" ||
  ko "static TLS: $code $(cat "$W/gw2.log")"
# A connection made for one name carries no request for another (the wildcard covers both).
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$W/wild.crt" \
  --resolve "dep-bbbbbbbbbbbbbbbb.$DOMAIN:$SHTTPS:127.0.0.1" -H "Host: dep-cccccccccccccccc.$DOMAIN:$SHTTPS" \
  "https://dep-bbbbbbbbbbbbbbbb.$DOMAIN:$SHTTPS/")
[ "$code" = 421 ] && ok "Host not the TLS server name → 421 Misdirected Request" || ko "SNI/Host mismatch: $code"

dev stop "$DEP" >/dev/null 2>&1
dev stop "$DEP2" >/dev/null 2>&1
kill "$GPID"; wait "$GPID" 2>/dev/null
cat "$W/gw.log" >>"$W/gw-earlier.log"
# Under the sanitizer presets every gateway that shut down must have done so cleanly.
grep -q "Sanitizer" "$W"/*.log && ko "sanitizer report: $(grep -h -A5 Sanitizer "$W"/*.log | head -20)" ||
  ok "no sanitizer report from any process"
echo "acme e2e: $fails failure(s)"
[ "$fails" = 0 ]
