#!/usr/bin/env bash
# Two gateways of one domain (--peer-gateway both ways), each with its own DNS and
# --tls acme --acme-challenge dns-01, against Debian's pebble. pebble resolves through the DNS of
# the gateway that does NOT order (the one with the higher peer id), so the validation only
# passes if the orderer's TXT values reached its peer. Then: one wildcard order in all, the same
# certificate (serial) served by both and verified with pebble's root, the key 0600 at the peer
# too; each DNS names both gateways with the short TTL; the orderer killed (-9) leaves the
# survivor's answers within seconds; restarted without its stored certificate it fetches the
# peer's instead of ordering, and both are named again; a renewal window opening on both renews
# once, at the orderer, and the peer serves the new serial.
# A provider with --gateway for each serves a deployment through both over HTTPS with the
# shared certificate; with the orderer killed the survivor keeps serving it, and once the
# orderer is back the provider registers there again and it serves again.
#
#   gateway_peers_e2e.sh <peerctl> <peergateway> <peercomputed>
set -uo pipefail
PEERCTL=${1:?usage}
GATEWAY=${2:?usage}
DAEMON=${3:?usage}
DOMAIN=pc.test
for t in pebble dig openssl curl python3; do
  command -v $t >/dev/null || { echo "$t not installed (apt-get install pebble dnsutils openssl curl)" >&2; exit 1; }
done
PC_SUITE=gw-peers-e2e
# shellcheck source=../lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
# shellcheck source=../lib/pebble.sh
source "$(dirname "$0")/../lib/pebble.sh"
now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2])-float(sys.argv[1]):.2f}')" "$1" "$(now)"; }
suite_cleanup() {
  [ -n "${DEP:-}" ] && docker ps -aq --filter "label=peercompute.deployment-id=$DEP" | xargs -r docker rm -f >/dev/null 2>&1
  [ -n "${DEP:-}" ] && docker network rm "pc-$DEP" >/dev/null 2>&1
  return 0
}

# ---- two identities, so each gateway can name the other; the lower id orders ----------------
read -r PEBBLE_PORT MGMT_PORT <<<"$(free_ports 2)"
declare -A ID DNS HTTP HTTPS TUN IP
IP[a]=127.0.0.1
IP[b]=127.0.0.2
for g in a b; do
  PEERCOMPUTE_HOME=$W/gw-$g "$PEERCTL" init >/dev/null
  ID[$g]=$(PEERCOMPUTE_HOME=$W/gw-$g "$PEERCTL" id)
  read -r DNS[$g] HTTP[$g] HTTPS[$g] TUN[$g] <<<"$(free_ports 4)"
done
# Peer ids compare as their bytes; Ed25519 ids have one length, and base58 keeps that order.
if [[ "${ID[a]}" < "${ID[b]}" ]]; then ORD=a FOL=b; else ORD=b FOL=a; fi
other() { [ "$1" = a ] && echo b || echo a; }

start_pebble "$PEBBLE_PORT" "$MGMT_PORT" "${HTTP[a]}" "${HTTPS[a]}" "127.0.0.1:${DNS[$FOL]}" || exit 1
ok "pebble up, resolving through the DNS of the gateway that does not order ($FOL)"

declare -A GPID
start_gateway() {  # a|b, extra flags…
  local g=$1 o
  o=$(other "$1")
  shift
  cat "$W/$g.log" >>"$W/$g-earlier.log" 2>/dev/null
  : >"$W/$g.log"
  "$GATEWAY" --data-dir "$W/gw-$g" --domain "$DOMAIN" --bind 127.0.0.1 --http-port "${HTTP[$g]}" \
    --https-port "${HTTPS[$g]}" --tunnel-listen "/ip4/127.0.0.1/tcp/${TUN[$g]}" --rate-per-ip 0 \
    --dns-listen "127.0.0.1:${DNS[$g]}" --public-ip "${IP[$g]}" \
    --peer-gateway "/ip4/127.0.0.1/tcp/${TUN[$o]}/p2p/${ID[$o]}" \
    --tls acme --acme-challenge dns-01 --acme-directory "https://127.0.0.1:$PEBBLE_PORT/dir" \
    --acme-ca "$W/pebble.crt" --acme-issuer-ca "$W/root.pem" --acme-email ops@example.org \
    "$@" >>"$W/$g.log" 2>&1 &
  GPID[$g]=$!
  PIDS+=($!)
  wait_for "$W/$g.log" "HTTPS listening" || ko "gateway $g did not start: $(cat "$W/$g.log")"
}
served() {  # a|b, sni → "serial=…" of the certificate that gateway presents
  openssl s_client -connect "127.0.0.1:${HTTPS[$1]}" -servername "$2" </dev/null 2>/dev/null |
    openssl x509 -noout -serial 2>/dev/null
}
verified() {  # a|b, sni → 0 when the presented chain verifies with pebble's root for that name
  openssl s_client -connect "127.0.0.1:${HTTPS[$1]}" -servername "$2" -verify_hostname "$2" \
    -CAfile "$W/root.pem" -verify_return_error </dev/null >/dev/null 2>&1
}
answers() {  # a|b → the A records its DNS gives for a deployment host, sorted, one line
  dig +short +time=1 +tries=1 @127.0.0.1 -p "${DNS[$1]}" A "dep-x.$DOMAIN" | sort | tr '\n' ' '
}
WILD="certificate for \*.$DOMAIN and $DOMAIN"

T0=$(now)
start_gateway a
start_gateway b
wait_for "$W/$ORD.log" "$WILD issued" 300 && ok "the orderer ($ORD, lower peer id) got the wildcard ($(since "$T0") s from start)" ||
  ko "no wildcard: $(tail -5 "$W/$ORD.log")"
wait_for "$W/$FOL.log" "$WILD received from peer gateway ${ID[$ORD]}" 50 &&
  ok "its peer received it ($(since "$T0") s from start)" || ko "not shared: $(grep -E 'acme|peers' "$W/$FOL.log")"
grep -q "not ordering the certificate for \*.$DOMAIN: peer gateway ${ID[$ORD]} orders it" "$W/$FOL.log" &&
  ok "the peer left the order to the lowest live id" || ko "follower: $(grep acme "$W/$FOL.log")"
orders=$(cat "$W/a.log" "$W/b.log" | grep -c "acme: ordering the certificate for")
[ "$orders" = 1 ] && ok "one order for the domain" || ko "orders: $orders"
valid=$(grep -c "set VALID by completed challenge" "$W/pebble.log")
[ "$valid" = 2 ] && grep -q "TXT _acme-challenge.$DOMAIN published for peer gateway" "$W/$FOL.log" &&
  ok "pebble validated both names through the peer's DNS (the TXT values were pushed to it)" ||
  ko "validations: $valid; $(grep -i txt "$W/$FOL.log")"
sa=$(served a "x.$DOMAIN")
sb=$(served b "y.$DOMAIN")
[ -n "$sa" ] && [ "$sa" = "$sb" ] && [ "$(served b "$DOMAIN")" = "$sa" ] &&
  ok "the same certificate served by both ($sa)" || ko "served: a '$sa' b '$sb'"
verified a "x.$DOMAIN" && verified b "y.$DOMAIN" && ok "both chains verify with pebble's root" ||
  ko "chain verification failed"
[ "$(stat -c %a "$W/gw-$FOL/acme/wildcard/$DOMAIN.key" 2>/dev/null)" = 600 ] &&
  ok "the peer stored the key 0600" || ko "key mode: $(ls -l "$W/gw-$FOL/acme/wildcard/" 2>&1)"
[ -z "$(dig +short @127.0.0.1 -p "${DNS[$FOL]}" TXT "_acme-challenge.$DOMAIN")" ] &&
  ok "the TXT values were withdrawn at the peer" || ko "TXT left at the peer"

both="127.0.0.1 127.0.0.2 "
[ "$(answers a)" = "$both" ] && [ "$(answers b)" = "$both" ] &&
  ok "each DNS names both gateways" || ko "answers: a '$(answers a)' b '$(answers b)'"
ttl=$(dig +noall +answer @127.0.0.1 -p "${DNS[a]}" A "dep-x.$DOMAIN" | awk '{print $2; exit}')
[ "$ttl" = 5 ] && ok "A records carry a TTL of $ttl s (peer_dns_ttl)" || ko "TTL: $ttl"

# ---- a provider on both gateways -------------------------------------------------------------
dev() { PEERCOMPUTE_HOME=$W/dev "$PEERCTL" "$@"; }
dev init >/dev/null
PEERCOMPUTE_HOME=$W/prov "$PEERCTL" init >/dev/null
PROV=$(PEERCOMPUTE_HOME=$W/prov "$PEERCTL" id)
PEERCOMPUTE_HOME=$W/prov "$PEERCTL" peers add "$(dev id)" --name dev >/dev/null
for g in a b; do "$GATEWAY" --data-dir "$W/gw-$g" providers add "$PROV" --name prov >/dev/null; done
"$DAEMON" --data-dir "$W/prov" --listen /ip4/127.0.0.1/tcp/0 --allow-registry 127.0.0.1:5055 --no-mdns \
  --gateway "/ip4/127.0.0.1/tcp/${TUN[a]}/p2p/${ID[a]}" \
  --gateway "/ip4/127.0.0.1/tcp/${TUN[b]}/p2p/${ID[b]}" >"$W/prov.log" 2>&1 &
PIDS+=($!)
wait_for "$W/prov.log" "Listening on" 100
PADDR=$(awk '/Listening on/ {print $3; exit}' "$W/prov.log")
dev peers add "$PROV" --name prov --addr "${PADDR%/p2p/*}" >/dev/null
tunnels() { grep -c "tunnel: connected to gateway" "$W/prov.log"; }
for _ in $(seq 1 100); do [ "$(tunnels)" -ge 2 ] && break; sleep 0.1; done
dev deploy 127.0.0.1:5055/peercompute/demo-web:2 --peer prov --expose 8080 >"$W/deploy.out" 2>&1
DEP=$(awk '/^Deployment/ {print $2}' "$W/deploy.out")
HOST=$DEP.$DOMAIN
page() {  # a|b → 0 when that gateway serves the deployment's page over HTTPS, chain verified
  curl -sf --max-time 5 --cacert "$W/root.pem" --resolve "$HOST:${HTTPS[$1]}:127.0.0.1" \
    "https://$HOST:${HTTPS[$1]}/" | grep -q "Hello from Peer Compute"
}
[ -n "$DEP" ] && page a && page b &&
  ok "a provider with --gateway for each: $DEP served by both over HTTPS (the shared certificate)" ||
  ko "served by both: $(cat "$W/deploy.out"); $(tail -5 "$W/prov.log")"

# ---- the orderer dies ------------------------------------------------------------------------
{
  kill -9 "${GPID[$ORD]}"
  wait "${GPID[$ORD]}"
} 2>/dev/null
T1=$(now)
left=0
for _ in $(seq 1 200); do [ "$(answers "$FOL")" = "${IP[$FOL]} " ] && { left=1; break; }; sleep 0.05; done
[ $left = 1 ] && ok "the survivor's DNS stopped naming the killed gateway after $(since "$T1") s" ||
  ko "survivor still answers: $(answers "$FOL")"
[ "$(served "$FOL" "x.$DOMAIN")" = "$sa" ] && ok "the survivor keeps serving the certificate" ||
  ko "survivor serves: $(served "$FOL" "x.$DOMAIN")"
page "$FOL" && ok "the survivor keeps serving the deployment" || ko "survivor does not serve $HOST"

# ---- it restarts without its certificate: it fetches the peer's, it does not order -----------
rm -rf "$W/gw-$ORD/acme/wildcard"
start_gateway "$ORD"
wait_for "$W/$ORD.log" "$WILD received from peer gateway ${ID[$FOL]}" 100 &&
  ok "restarted without a certificate, it fetched its peer's" || ko "no fetch: $(grep -E 'acme|peers' "$W/$ORD.log")"
! grep -q "acme: ordering the certificate" "$W/$ORD.log" && [ "$(served "$ORD" "x.$DOMAIN")" = "$sa" ] &&
  ok "no new order; the same serial served" || ko "restart: $(grep acme "$W/$ORD.log")"
back=0
for _ in $(seq 1 200); do [ "$(answers "$FOL")" = "$both" ] && { back=1; break; }; sleep 0.05; done
[ $back = 1 ] && [ "$(answers "$ORD")" = "$both" ] && ok "both named again" ||
  ko "answers: $ORD '$(answers "$ORD")' $FOL '$(answers "$FOL")'"
served_again=0
for _ in $(seq 1 100); do page "$ORD" && { served_again=1; break; }; sleep 0.1; done
[ $served_again = 1 ] && ok "the provider registered on the restarted gateway: it serves $HOST again" ||
  ko "restarted gateway does not serve $HOST: $(grep tunnel "$W/prov.log" | tail -3)"
dev stop "$DEP" >/dev/null 2>&1 && ok "deployment stopped" || ko "stop $DEP"

# ---- renewal: a window that opens on both; the orderer renews once, the peer gets it ----------
end=$(openssl x509 -noout -enddate -in "$W/gw-$FOL/acme/wildcard/$DOMAIN.crt" | cut -d= -f2)
rb=$(($(date -d "$end" +%s) - $(date +%s) - 3))
for g in "$FOL" "$ORD"; do kill "${GPID[$g]}"; wait "${GPID[$g]}" 2>/dev/null; done
start_gateway "$ORD" --config <(echo "acme_renew_before = \"${rb}s\"")
start_gateway "$FOL" --config <(echo "acme_renew_before = \"${rb}s\"")
wait_for "$W/$ORD.log" "renewing the $WILD" 150 && wait_for "$W/$ORD.log" "$WILD issued" 300 &&
  wait_for "$W/$FOL.log" "$WILD received from peer gateway ${ID[$ORD]}" 50 &&
  ok "renewed by the orderer when due, the new one sent to its peer" || ko "renewal: $(grep acme "$W/$ORD.log" "$W/$FOL.log")"
s2=$(served "$FOL" "x.$DOMAIN")
[ -n "$s2" ] && [ "$s2" != "$sa" ] && [ "$(served "$ORD" "x.$DOMAIN")" = "$s2" ] &&
  ! grep -q "acme: renewing\|acme: ordering" "$W/$FOL.log" &&
  ok "both serve the renewed certificate ($s2); the peer placed no order" || ko "after renewal: $s2 (was $sa)"

for g in a b; do kill "${GPID[$g]}" 2>/dev/null; wait "${GPID[$g]}" 2>/dev/null; done
grep -q "Sanitizer" "$W"/*.log && ko "sanitizer report: $(grep -h -A5 Sanitizer "$W"/*.log | head -20)" ||
  ok "no sanitizer report from any process"
echo "gateway peers e2e: $fails failure(s)"
[ "$fails" = 0 ]
