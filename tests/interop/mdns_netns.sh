#!/usr/bin/env bash
# mDNS discovery between two network namespaces joined by a veth pair (made here, removed on
# exit): C++ ↔ C++ and C++ ↔ js-libp2p (@libp2p/mdns), in both directions.
#
#   ns A (10.231.0.1/24): peercomputed "A" (mDNS on), peercomputed "quiet" (--no-mdns),
#                         peerctl home HA
#   ns B (10.231.0.2/24): peercomputed "B", peerctl home HB, js "listener", js "pinger" (last)
#
# Checked: peerctl in B lists A (untrusted, then trusted by name) and pings A by name with no
# stored address; "quiet" is never seen; A and B log each other as discovered trusted peers;
# nothing is ever added to a trust list; peerctl in A finds the js listener and pings it by
# name; a js peer discovers A and pings it (A trusts it); A learns the js listener.
#
# usage: mdns_netns.sh PEERCTL PEERCOMPUTED
# Exit 77 (ctest SKIP_RETURN_CODE) when network namespaces cannot be made here.
set -uo pipefail
PEERCTL=${1:?usage: mdns_netns.sh PEERCTL PEERCOMPUTED}
PEERCOMPUTED=${2:?usage: mdns_netns.sh PEERCTL PEERCOMPUTED}
HERE=$(cd "$(dirname "$0")" && pwd)
JS=$HERE/js
skip() { echo "SKIP: $*"; exit 77; }

[ "$(id -u)" = 0 ] || skip "network namespaces need root (run as root to test mDNS across a veth pair)"
command -v ip >/dev/null || skip "iproute2 (ip) is not installed"
[ -d "$JS/node_modules/@libp2p/mdns" ] || { echo "js-libp2p is not installed: run scripts/test.d/20-npm.sh" >&2; exit 1; }

NA=pcmdnsA$$
NB=pcmdnsB$$
VA=pcva$$
VB=pcvb$$
W=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  ip netns del "$NA" 2>/dev/null
  ip netns del "$NB" 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT
ip netns add "$NA" 2>"$W/netns.err" || skip "cannot create network namespaces: $(cat "$W/netns.err")"
ip netns add "$NB" || skip "cannot create a second network namespace"
ip link add "$VA" type veth peer name "$VB" 2>"$W/veth.err" || skip "cannot create a veth pair: $(cat "$W/veth.err")"
ip link set "$VA" netns "$NA"
ip link set "$VB" netns "$NB"
ip -n "$NA" addr add 10.231.0.1/24 dev "$VA"
ip -n "$NB" addr add 10.231.0.2/24 dev "$VB"
for ns in "$NA" "$NB"; do ip -n "$ns" link set lo up; done
ip -n "$NA" link set "$VA" up
ip -n "$NB" link set "$VB" up
# Our service picks the interface per packet (IP_MULTICAST_IF); js's multicast-dns sends on the
# default multicast interface, which needs a route for the group in a namespace with no default
# route.
ip -n "$NA" route add 224.0.0.0/4 dev "$VA"
ip -n "$NB" route add 224.0.0.0/4 dev "$VB"

inA() { ip netns exec "$NA" "$@"; }
inB() { ip netns exec "$NB" "$@"; }
fails=0
check() {
  if [ "$1" = 0 ]; then echo "ok   - $2"; else echo "FAIL - $2"; fails=$((fails + 1)); fi
}
json_has() {  # json_has FILE PYTHON-EXPR-over-`peers`
  python3 -c 'import json,sys; peers=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2"
}
wait_log() {  # wait_log FILE PATTERN SECONDS
  for _ in $(seq 1 $(($3 * 10))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
id_of_home() { "$PEERCTL" --home "$1" id; }

SEED_PINGER=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
SEED_LISTENER=1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100
JS_PINGER=$(node "$JS/peer.mjs" id --seed $SEED_PINGER | python3 -c 'import json,sys; print(json.load(sys.stdin)["peerId"])')
JS_LISTENER=$(node "$JS/peer.mjs" id --seed $SEED_LISTENER | python3 -c 'import json,sys; print(json.load(sys.stdin)["peerId"])')

# Identities: providers create theirs on first start; make them now to set up trust first.
for h in A B quiet HA HB; do mkdir -p "$W/$h"; "$PEERCTL" --home "$W/$h" init >/dev/null || exit 1; done
A=$(id_of_home "$W/A"); B=$(id_of_home "$W/B"); QUIET=$(id_of_home "$W/quiet")
HA=$(id_of_home "$W/HA"); HB=$(id_of_home "$W/HB")
trust() { "$PEERCTL" --home "$W/$1" peers add "$2" --name "$3" >/dev/null || exit 1; }
trust A "$HB" dev-b; trust A "$B" prov-b; trust A "$JS_PINGER" js-pinger; trust A "$JS_LISTENER" js-listener
trust B "$A" prov-a
trust quiet "$HB" dev-b
count_trusted() { python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["peers"]))' "$W/$1/trusted_peers.json"; }
A_TRUSTED=$(count_trusted A)

start() {  # start NAME NS CMD...
  local name=$1 ns=$2; shift 2
  ip netns exec "$ns" "$@" >"$W/$name.out" 2>"$W/$name.err" &
  pids+=($!)
}
start A "$NA" "$PEERCOMPUTED" --data-dir "$W/A" --listen /ip4/0.0.0.0/tcp/0
start quiet "$NA" "$PEERCOMPUTED" --data-dir "$W/quiet" --listen /ip4/0.0.0.0/tcp/0 --no-mdns
start B "$NB" "$PEERCOMPUTED" --data-dir "$W/B" --listen /ip4/0.0.0.0/tcp/0
start js-listener "$NB" node "$JS/mdns.mjs" --seed $SEED_LISTENER --host 10.231.0.2 --seconds 120
for n in A quiet B; do
  wait_log "$W/$n.out" "Capacity:" 20 || { echo "peercomputed $n did not start:"; cat "$W/$n.err"; exit 1; }
done
wait_log "$W/js-listener.out" '"listening"' 20 || { echo "js listener did not start:"; cat "$W/js-listener.err"; exit 1; }
grep -q "mDNS: answering" "$W/A.out"; check $? "peercomputed announces that mDNS is on"
grep -q "mDNS: answering" "$W/quiet.out"; check $((1 - $?)) "peercomputed --no-mdns does not start mDNS"

echo "# C++ <-> C++"
inB "$PEERCTL" --home "$W/HB" peers discover --timeout 3s -o json >"$W/discover1.json" 2>"$W/discover1.err"
check $? "peerctl peers discover runs in namespace B"
json_has "$W/discover1.json" "any(p['peer_id']=='$A' and not p['trusted'] and '/ip4/10.231.0.1/' in p['addrs'][0] for p in peers)"
check $? "peerctl (B) discovers peercomputed A, untrusted, at its veth address"
json_has "$W/discover1.json" "not any(p['peer_id']=='$QUIET' for p in peers)"
check $? "peercomputed --no-mdns is not discovered"
json_has "$W/discover1.json" "all('127.0.0.1' not in a for p in peers for a in p['addrs'])"
check $? "no loopback address is announced or learned"
trust HB "$A" prov-a   # trusted by id alone: no address stored
inB "$PEERCTL" --home "$W/HB" peers discover --timeout 2s >"$W/discover2.txt" 2>&1
grep -q "$A  *prov-a" "$W/discover2.txt"; check $? "peerctl peers discover marks the trusted peer with its name"
inB timeout 20 "$PEERCTL" --home "$W/HB" ping prov-a -c 1 >"$W/ping-a.out" 2>&1
check $? "peerctl (B) pings peercomputed A by name, address found with mDNS"
grep -q "at /ip4/10.231.0.1/tcp/" "$W/ping-a.out"; check $? "... over the veth address"
wait_log "$W/A.err" "discovered trusted peer $B" 10; check $? "peercomputed A discovers trusted peercomputed B"
wait_log "$W/B.err" "discovered trusted peer $A" 10; check $? "peercomputed B discovers trusted peercomputed A"
[ "$(count_trusted A)" = "$A_TRUSTED" ] && [ "$(count_trusted B)" = 1 ]
check $? "discovery added nothing to any trust list"

echo "# C++ -> js (C++ discovers js-libp2p and pings it)"
inA "$PEERCTL" --home "$W/HA" peers discover --timeout 3s -o json >"$W/discover-js.json" 2>&1
json_has "$W/discover-js.json" "any(p['peer_id']=='$JS_LISTENER' and '/ip4/10.231.0.2/' in p['addrs'][0] for p in peers)"
check $? "peerctl (A) discovers the js-libp2p peer"
trust HA "$JS_LISTENER" js
inA timeout 20 "$PEERCTL" --home "$W/HA" ping js -c 1 >"$W/ping-js.out" 2>&1
check $? "peerctl (A) pings the js-libp2p peer by name, address found with mDNS"
wait_log "$W/A.err" "discovered trusted peer $JS_LISTENER" 10
check $? "peercomputed A discovers the trusted js-libp2p peer"

echo "# js -> C++ (js-libp2p discovers peercomputed and pings it)"
grep -q "\"discovered\".*$A" "$W/js-listener.out"; check $? "js-libp2p (B) discovers peercomputed A"
inB timeout 40 node "$JS/mdns.mjs" --seed $SEED_PINGER --host 10.231.0.2 --ping "$A" --seconds 30 \
  >"$W/js-pinger.out" 2>"$W/js-pinger.err"
check $? "js-libp2p (B) discovers peercomputed A by peer id and pings it"
grep -q '"event":"ping".*"ok":true' "$W/js-pinger.out"; check $? "... ping reply received"

if [ $fails -ne 0 ]; then
  for f in "$W"/*.out "$W"/*.err "$W"/*.json "$W"/*.txt; do echo "--- $f"; tail -20 "$f"; done
  echo "$fails check(s) failed"
  exit 1
fi
echo "all mDNS checks passed"
