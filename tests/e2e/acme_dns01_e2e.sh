#!/usr/bin/env bash
# One wildcard certificate over DNS-01 answered by the gateway's own DNS: Debian's pebble (its
# default 5% of nonces rejected on purpose) resolves through the gateway's --dns-listen only, and
# validates `*.pc.test` and `pc.test` from the two TXT values the gateway publishes at
# `_acme-challenge.pc.test`. Then: the TXT values are gone, the key is 0600, two deployments are
# served with the same certificate (curl verifies it with pebble's root; the SAN is checked), the
# gateway placed ONE order and none per host, a restart reuses the stored certificate with no
# order, the running gateway renews it when its renewal window opens (a new serial is served), a
# window longer than the certificate's life renews once (no loop), and dns-01 without
# --dns-listen is a configuration error naming both settings.
#
#   acme_dns01_e2e.sh <peerctl> <peercomputed> <peergateway>
set -uo pipefail
PEERCTL=${1:?usage}
DAEMON=${2:?usage}
GATEWAY=${3:?usage}
IMAGE=127.0.0.1:5055/peercompute/demo-web:2
DOMAIN=pc.test
for t in pebble dig openssl curl; do
  command -v $t >/dev/null || { echo "$t not installed (apt-get install pebble dnsutils openssl curl)" >&2; exit 1; }
done
PC_SUITE=acme-dns01-e2e
# shellcheck source=../lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
# shellcheck source=../lib/pebble.sh
source "$(dirname "$0")/../lib/pebble.sh"
dev() { PEERCOMPUTE_HOME=$W/dev "$PEERCTL" "$@"; }
read -r HTTP_PORT HTTPS_PORT PEBBLE_PORT MGMT_PORT DNS_PORT <<<"$(free_ports 5)"
served() {  # host → "serial=…" of the certificate the gateway presents for it
  openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername "$1" </dev/null 2>/dev/null |
    openssl x509 -noout -serial 2>/dev/null
}

# ---- pebble, resolving through the gateway's DNS only ---------------------------------------
start_pebble "$PEBBLE_PORT" "$MGMT_PORT" "$HTTP_PORT" "$HTTPS_PORT" "127.0.0.1:$DNS_PORT" || exit 1
ok "pebble up (-dnsserver 127.0.0.1:$DNS_PORT), its issuing root fetched"

dev init >/dev/null
PEERCOMPUTE_HOME=$W/prov "$PEERCTL" init >/dev/null
PROV=$(PEERCOMPUTE_HOME=$W/prov "$PEERCTL" id)
PEERCOMPUTE_HOME=$W/prov "$PEERCTL" peers add "$(dev id)" --name dev >/dev/null
"$GATEWAY" --data-dir "$W/gw" providers add "$PROV" --name prov >/dev/null

# A configuration error first: dns-01 without the gateway's DNS.
"$GATEWAY" --data-dir "$W/gw-bad" --domain "$DOMAIN" --https-port "$HTTPS_PORT" --tls acme \
  --acme-directory "https://127.0.0.1:$PEBBLE_PORT/dir" --acme-challenge dns-01 >"$W/bad.log" 2>&1
rc=$?
[ $rc != 0 ] && grep -q "dns_listen" "$W/bad.log" && grep -q -- "--domain" "$W/bad.log" &&
  ok "dns-01 without --dns-listen is refused, naming dns_listen and domain" || ko "config error: rc=$rc $(cat "$W/bad.log")"

start_gateway() {  # extra flags…
  cat "$W/gw.log" >>"$W/gw-earlier.log" 2>/dev/null
  : >"$W/gw.log"
  "$GATEWAY" --data-dir "$W/gw" --domain "$DOMAIN" --bind 127.0.0.1 --http-port "$HTTP_PORT" \
    --https-port "$HTTPS_PORT" --tunnel-listen "/ip4/127.0.0.1/tcp/${TUN_PORT:-0}" --rate-per-ip 0 \
    --dns-listen "127.0.0.1:$DNS_PORT" --public-ip 127.0.0.1 \
    --tls acme --acme-challenge dns-01 --acme-directory "https://127.0.0.1:$PEBBLE_PORT/dir" \
    --acme-ca "$W/pebble.crt" --acme-email ops@example.org "$@" >>"$W/gw.log" 2>&1 &
  GPID=$!
  PIDS+=($GPID)
  wait_for "$W/gw.log" "HTTPS listening"
}
T0=$(date +%s.%N)
start_gateway
GWADDR=$(awk '/Tunnel listening on/ {print $4; exit}' "$W/gw.log")
TUN_PORT=$(sed -n 's|.*/tcp/\([0-9]*\)/p2p/.*|\1|p' <<<"$GWADDR")
[ -n "$TUN_PORT" ] && ok "gateway up with tls = acme, dns-01, DNS on 127.0.0.1:$DNS_PORT" ||
  { ko "gateway: $(cat "$W/gw.log")"; exit 1; }
WILD="certificate for \*.$DOMAIN and $DOMAIN"
wait_for "$W/gw.log" "$WILD issued" 300 &&
  ok "wildcard issued at start over dns-01 ($(python3 -c "import sys; print(f'{float(sys.argv[2])-float(sys.argv[1]):.2f}')" "$T0" "$(date +%s.%N)") s from start)" ||
  ko "no wildcard: $(tail -5 "$W/gw.log")"
txt=$(dig +short +time=2 +tries=1 @127.0.0.1 -p "$DNS_PORT" TXT "_acme-challenge.$DOMAIN")
[ -z "$txt" ] && ok "the _acme-challenge TXT values are withdrawn after the order" || ko "TXT left behind: $txt"
# Its only resolver is the gateway's DNS, and a wildcard can only be validated over dns-01.
valid=$(grep -c "set VALID by completed challenge" "$W/pebble.log")
[ "$valid" = 2 ] && ok "pebble validated both authorizations (*.$DOMAIN and $DOMAIN, one TXT name)" ||
  ko "pebble validations: $valid"

perm_ok=1
for f in "$W/gw/acme/account.key" "$W/gw/acme/wildcard/$DOMAIN.key"; do
  [ "$(stat -c %a "$f" 2>/dev/null)" = 600 ] || perm_ok=0
done
[ $perm_ok = 1 ] && ok "account and wildcard keys are 0600" || ko "key modes: $(ls -lR "$W/gw/acme")"

"$DAEMON" --data-dir "$W/prov" --listen /ip4/127.0.0.1/tcp/0 --allow-registry 127.0.0.1:5055 \
  --gateway "$GWADDR" >"$W/prov.log" 2>&1 &
PIDS+=($!)
wait_for "$W/prov.log" "tunnel: connected" 100 || ko "no tunnel: $(cat "$W/prov.log")"
ADDR=$(awk '/Listening on/ {print $3; exit}' "$W/prov.log")
dev peers add "$PROV" --name prov --addr "${ADDR%/p2p/*}" >/dev/null

HOSTS=()
URLS=()
for n in 1 2; do
  dev deploy "$IMAGE" --peer prov --expose 8080 >"$W/deploy$n.out" 2>&1
  dep=$(awk '/^Deployment/ {print $2}' "$W/deploy$n.out")
  HOSTS+=("$dep.$DOMAIN")
  URLS+=("$(awk '/url:/ {print $2}' "$W/deploy$n.out")")
done
[ "${URLS[0]}" = "https://${HOSTS[0]}:$HTTPS_PORT/" ] && [ "${URLS[1]}" = "https://${HOSTS[1]}:$HTTPS_PORT/" ] &&
  ok "two deployments with https URLs" || ko "deploy: $(cat "$W"/deploy*.out)"
fetch() {  # index → curl verifying against pebble's root
  curl -s --max-time 30 --cacert "$W/root.pem" --resolve "${HOSTS[$1]}:$HTTPS_PORT:127.0.0.1" -f "${URLS[$1]}"
}
for i in 0 1; do
  fetch $i | grep -q "Hello from Peer Compute" && ok "HTTPS to ${HOSTS[$i]}, verified by curl with pebble's root" ||
    ko "HTTPS to ${HOSTS[$i]}: $(tail -5 "$W/gw.log")"
done
s1=$(served "${HOSTS[0]}")
s2=$(served "${HOSTS[1]}")
sa=$(served "$DOMAIN")
[ -n "$s1" ] && [ "$s1" = "$s2" ] && [ "$s1" = "$sa" ] &&
  ok "one certificate for both deployments and the apex ($s1)" || ko "served: '$s1' '$s2' apex '$sa'"
san=$(openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername "${HOSTS[0]}" </dev/null 2>/dev/null |
  openssl x509 -noout -ext subjectAltName 2>/dev/null | tail -1)
grep -q "DNS:\*\.$DOMAIN" <<<"$san" && grep -q "DNS:$DOMAIN\b" <<<"$san" &&
  ok "its subjectAltName:$san" || ko "SAN: $san"
orders=$(grep -c "ordering the certificate for" "$W/gw.log")
[ "$orders" = 1 ] && ! grep -q "ordering a certificate for" "$W/gw.log" &&
  ok "one order in all, none per deployment host" || ko "orders: $orders; $(grep ordering "$W/gw.log")"
[ -z "$(served "a.${HOSTS[0]}")" ] && [ -z "$(served "example.org")" ] &&
  ok "no certificate for names outside the wildcard" || ko "a name outside the wildcard got a certificate"

# Restart: the stored certificate is served again, no order.
kill "$GPID"; wait "$GPID" 2>/dev/null
start_gateway
wait_for "$W/gw.log" "stored $WILD loaded" && ok "stored wildcard loaded at start" || ko "not loaded: $(cat "$W/gw.log")"
for _ in $(seq 1 100); do fetch 1 >/dev/null && break; sleep 0.1; done
fetch 1 | grep -q "Hello from Peer Compute" && [ "$(served "${HOSTS[1]}")" = "$s1" ] &&
  ! grep -q "ordering" "$W/gw.log" && ok "same certificate after restart, no new order" ||
  ko "after restart: $(served "${HOSTS[1]}") vs $s1; $(grep -i acme "$W/gw.log")"

# Renewal while running: a window that makes the certificate due a few seconds from now; the
# running gateway renews it on its own (its loop sleeps until the due time).
end=$(openssl x509 -noout -enddate -in "$W/gw/acme/wildcard/$DOMAIN.crt" | cut -d= -f2)
rb=$(($(date -d "$end" +%s) - $(date +%s) - 3))
kill "$GPID"; wait "$GPID" 2>/dev/null
start_gateway --config <(echo "acme_renew_before = \"${rb}s\"")
wait_for "$W/gw.log" "renewing the $WILD" 150 && wait_for "$W/gw.log" "$WILD issued" 300 &&
  ok "renewed before expiry by the running gateway (window: due ~3 s after start)" ||
  ko "no renewal: $(cat "$W/gw.log")"
s3=$(served "${HOSTS[0]}")
[ -n "$s3" ] && [ "$s3" != "$s1" ] && [ "$(served "${HOSTS[1]}")" = "$s3" ] &&
  ok "the renewed certificate is served for both ($s3)" || ko "serial after renewal: $s3 (was $s1)"

# A window longer than the certificate's life: due at once and again right after the order —
# renewed once, not in a loop.
kill "$GPID"; wait "$GPID" 2>/dev/null
start_gateway --config <(echo 'acme_renew_before = "36500d"')
wait_for "$W/gw.log" "renewing the $WILD" 50 && wait_for "$W/gw.log" "$WILD issued" 300 &&
  ok "renewed when due at start" || ko "no renewal: $(cat "$W/gw.log")"
s4=$(served "${HOSTS[0]}")
[ -n "$s4" ] && [ "$s4" != "$s3" ] && ok "a new certificate served ($s4)" || ko "serial: $s4 (was $s3)"
for _ in $(seq 1 100); do fetch 0 >/dev/null && break; sleep 0.1; done
fetch 0 | grep -q "Hello from Peer Compute" && ok "the renewed certificate verifies with pebble's root" ||
  ko "HTTPS after renewal: $(tail -5 "$W/gw.log")"
[ "$(grep -c "ordering\|renewing" "$W/gw.log")" = 1 ] && ok "one renewal order (no loop while due)" ||
  ko "orders after renewal: $(grep "ordering\|renewing" "$W/gw.log")"
grep -q "badNonce" "$W/gw.log" "$W/gw-earlier.log" 2>/dev/null && echo "     (pebble rejected a nonce; it was retried)"

for h in "${HOSTS[@]}"; do dev stop "${h%%.*}" >/dev/null 2>&1; done
kill "$GPID"; wait "$GPID" 2>/dev/null
cat "$W/gw.log" >>"$W/gw-earlier.log"
grep -q "Sanitizer" "$W"/*.log && ko "sanitizer report: $(grep -h -A5 Sanitizer "$W"/*.log | head -20)" ||
  ok "no sanitizer report from any process"
echo "acme dns-01 e2e: $fails failure(s)"
[ "$fails" = 0 ]
