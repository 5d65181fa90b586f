#!/usr/bin/env bash
# SC2154: NAME_ID/NAME_ADDR/NAME_RC are set by relay_lib.sh with printf -v; SC2015: `cond && ok || ko`
# is intended (ok never fails).
# shellcheck disable=SC2154,SC2015
# Circuit relay v2 interop with js-libp2p (@libp2p/circuit-relay-v2 4.2.13, libp2p 3.3.11) in every
# role, on loopback with ephemeral ports (issue 15, deliverable 5; research note §6.3):
#   (a) our provider reserves on a js relay; peerctl pings it through the js relay;
#   (b) a js peer reserves on our gateway (allowlisted); peerctl pings it through the gateway;
#       the same js peer without the allowlist entry gets RESERVE-FAILED 202;
#   (c) a js peer dials our provider through our gateway: identify and pings; an untrusted js
#       peer is refused by the provider.
#
#   relay_interop.sh [BIN_DIR]     BIN_DIR holds peerctl, peercomputed, peergateway
#                                  (default: <repo>/build/dev/bin)
#   RELAY_CASES="a b c"            which cases to run (default all)
#   RL_KEEP=1                      keep the log directory
#   RELAY_FORCE=1                  run the cases even without --relay (to debug a partial build)
# Exit: 0 all run cases passed, 1 a check failed, 77 every case skipped (ctest SKIP_RETURN_CODE).
#
# DEPENDS ON C++ RELAY SUPPORT NOT YET IN THE TREE (lines marked "[needs relay]"): the gateway's
# hop service on its tunnel listener (RESERVE for allowlisted providers, CONNECT for anyone),
# `peercomputed --relay <multiaddr>` (reserve and print `<relay-addr>/p2p-circuit/p2p/<id>`), the
# provider reserving on its --gateway, peerctl dialing /p2p-circuit addresses, and `peerctl ping`
# printing `path: relayed via <relay-id>`. Until `peercomputed --help` lists --relay, every case
# is skipped with a message.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BIN=${1:-$REPO/build/dev/bin}
CASES=${RELAY_CASES:-a b c}
# shellcheck source=js/relay_lib.sh
. "$HERE/js/relay_lib.sh"

for b in peerctl peercomputed peergateway; do
  [ -x "$BIN/$b" ] || { echo "no $BIN/$b: build it (cmake --build --preset dev --target $b)" >&2; exit 1; }
done
# [needs relay] The only feature probe: the provider's --relay flag.
if [ "${RELAY_FORCE:-0}" != 1 ] && ! "$BIN/peercomputed" --help 2>&1 | grep -q -- '--relay'; then
  for c in $CASES; do echo "SKIP - case ($c): $BIN/peercomputed has no --relay (C++ relay support not built)"; done
  exit 77
fi
rl_init

SEED_JS=3131313131313131313131313131313131313131313131313131313131313131      # (b) the allowlisted js reserver
SEED_DIALER=3333333333333333333333333333333333333333333333333333333333333333  # (c) the js dialer the provider trusts
SEED_STRANGER=3232323232323232323232323232323232323232323232323232323232323232 # never allowlisted or trusted
JS_ID=$(rl_js_id "$SEED_JS")
DIALER_ID=$(rl_js_id "$SEED_DIALER")
STRANGER_ID=$(rl_js_id "$SEED_STRANGER")

W=$RL_W
dev() { PEERCOMPUTE_HOME=$W/dev "$BIN/peerctl" "$@"; }
prov_ctl() { PEERCOMPUTE_HOME=$W/prov "$BIN/peerctl" "$@"; }   # the provider's trust list
dev init >/dev/null
prov_ctl init >/dev/null
DEV=$(dev id)
PROV=$(prov_ctl id)
dev peers add "$PROV" --name prov >/dev/null
prov_ctl peers add "$DEV" --name dev >/dev/null

# Starts our gateway NAME on loopback (data dir $W/NAME); GW_ADDR = its tunnel
# address (ends in /p2p/<gateway id>), GW_ID.
start_gateway() {
  local name=$1
  rl_spawn_merged "$name" "$BIN/peergateway" --data-dir "$W/$name" --bind 127.0.0.1 --http-port 0 \
    --tunnel-listen /ip4/127.0.0.1/tcp/0 --rate-per-ip 0
  if ! rl_wait_line "$RL_W/$name.out" 'HTTP listening'; then ko "gateway did not start"; return 1; fi
  GW_ADDR=$(awk '/Tunnel listening on/ {print $4; exit}' "$RL_W/$name.out")
  GW_ID=${GW_ADDR##*/p2p/}
  ok "gateway up at $GW_ADDR"
}

# Starts our provider NAME (data dir $W/prov) with extra flags; waits for its Listening line.
start_provider() {
  local name=$1
  shift
  rl_spawn_merged "$name" "$BIN/peercomputed" --data-dir "$W/prov" --listen /ip4/127.0.0.1/tcp/0 --no-mdns "$@"
  rl_wait_line "$RL_W/$name.out" 'Listening on' || { ko "provider did not start"; return 1; }
}

# `peerctl ping` through a relay: 3 replies from $2, first over a circuit of relay $3.
check_relayed_ping() {
  local label=$1 target=$2 relay_id=$3 addr=$4 out rc=0
  out=$(dev ping "$addr" -c 3 -i 0.2 --timeout 10 2>&1) || rc=$?
  echo "$out" >"$W/ping-$label.out"
  [ "$rc" = 0 ] && [ "$(grep -c "reply from $target" <<<"$out")" = 3 ] &&
    ok "($label) peerctl ping through the relay: $(grep -o 'time=[0-9.]* ms' <<<"$out" | tr '\n' ' ')" ||
    ko "($label) peerctl ping rc=$rc: $(tr '\n' ' ' <<<"$out" | head -c 400)"
  # The first connection goes through the relay; on loopback our provider may then punch a
  # direct one (DCUtR: its unilateral dial reaches peerctl's listen port), which ping reports.
  grep -q "^PING $target at .*/p2p/$relay_id/p2p-circuit" <<<"$out" &&
    ok "($label) the connection was relayed by $relay_id" || ko "($label) not relayed: $out"
  grep -Eq "path: (relayed via $relay_id|direct \(upgraded from relay\))" <<<"$out" &&
    ok "($label) $(grep 'path:' <<<"$out")" || ko "($label) no path line for relay $relay_id"
}

case_a() {
  rl_start_relay jsrelay || return 0
  # [needs relay] peercomputed --relay: reserve on the js relay and print the circuit address.
  start_provider prov_a --relay "$jsrelay_ADDR" || return 0
  local want="$jsrelay_ADDR/p2p-circuit/p2p/$PROV"
  rl_wait_line "$RL_W/prov_a.out" "$want" &&
    ok "(a) provider reserved on the js relay and printed $want" || ko "(a) provider did not print $want"
  grep -q "^RESERVE $PROV allowed\$" "$RL_W/jsrelay.out" && ok "(a) js relay saw the provider's RESERVE" ||
    ko "(a) no RESERVE from the provider at the js relay"
  check_relayed_ping a "$PROV" "$jsrelay_ID" "$want"
  grep -q "^CIRCUIT $DEV $PROV\$" "$RL_W/jsrelay.out" && ok "(a) the js relay carried peerctl -> provider" ||
    ko "(a) no CIRCUIT $DEV $PROV at the js relay"
  rl_stop prov_a jsrelay
}

case_b() {
  "$BIN/peergateway" --data-dir "$W/gw_b" providers add "$JS_ID" --name jsres >/dev/null
  # [needs relay] the gateway answers RESERVE from an allowlisted peer.
  start_gateway gw_b || return 0
  local rc=0
  rl_start_reserver jsres "$GW_ADDR" --seed "$SEED_JS" || rc=$?
  if [ "$rc" = 0 ] && [ "$jsres_ADDR" = "$GW_ADDR/p2p-circuit/p2p/$JS_ID" ]; then
    ok "(b) js peer reserved on our gateway: $jsres_ADDR"
  else
    ko "(b) js reservation on our gateway: rc=$rc ${jsres_FAIL:-} ${jsres_ADDR:-}"
    return 0
  fi
  # A relayed address without the trailing /p2p/<id>: peerctl adds the peer's own id to dial it.
  dev peers add "$JS_ID" --name jsres --addr "$GW_ADDR/p2p-circuit" >/dev/null
  # peerctl dials a /p2p-circuit address (HOP CONNECT at our gateway, STOP at js), by address
  # and by the name of a peer stored with one.
  check_relayed_ping b "$JS_ID" "$GW_ID" "$jsres_ADDR"
  check_relayed_ping b-name "$JS_ID" "$GW_ID" jsres
  grep -q "^CONNECTION $DEV .*/p2p-circuit.* unlimited\$" "$RL_W/jsres.out" &&
    ok "(b) js saw peerctl arrive over an unlimited relayed connection" || ko "(b) js saw no relayed connection from peerctl"
  rl_stop jsres
  rc=0
  rl_start_reserver jsstranger "$GW_ADDR" --seed "$SEED_STRANGER" || rc=$?
  [ "$rc" = 3 ] && [ "${jsstranger_FAIL:-}" = "202 PERMISSION_DENIED" ] &&
    ok "(b) a js peer not on the allowlist: RESERVE-FAILED $jsstranger_FAIL" ||
    ko "(b) not-allowlisted js peer: rc=$rc ${jsstranger_FAIL:-} (want 202 PERMISSION_DENIED)"
  rl_stop jsstranger
  # [needs relay] the gateway logs the refused reservation with the peer id.
  grep -q "$STRANGER_ID" "$RL_W/gw_b.out" && ok "(b) the gateway logged the refused peer" ||
    ko "(b) the gateway log does not name $STRANGER_ID"
  rl_stop gw_b
}

case_c() {
  "$BIN/peergateway" --data-dir "$W/gw_c" providers add "$PROV" --name prov >/dev/null
  start_gateway gw_c || return 0
  prov_ctl peers add "$DIALER_ID" --name jsdialer >/dev/null
  start_provider prov_c --gateway "$GW_ADDR" || return 0
  # [needs relay] the provider reserves on its gateway (over the tunnel connection) and prints
  # the relayed address.
  local addr="$GW_ADDR/p2p-circuit/p2p/$PROV"
  rl_wait_line "$RL_W/prov_c.out" "$addr" && ok "(c) provider reserved on the gateway: $addr" ||
    ko "(c) provider did not print $addr"
  # [needs relay] the gateway lets a non-provider js peer in for hop CONNECT, identify and ping.
  rl_run_dialer jsdial "$addr" --seed "$SEED_DIALER" --count 3
  [ "$jsdial_RC" = 0 ] && grep -q "^CONNECTED $PROV $addr " "$RL_W/jsdial.out" &&
    ok "(c) js dialed the provider through our gateway ($(awk '/^CONNECTED/ {print $4}' "$RL_W/jsdial.out"))" ||
    ko "(c) js dial rc=$jsdial_RC: $(head -3 "$RL_W/jsdial.out" | tr '\n' ' ')"
  grep -Eq '^IDENTIFY peercomputed/[^ ]* .*/ipfs/ping/1\.0\.0' "$RL_W/jsdial.out" &&
    ok "(c) js identified the provider: $(cut -d' ' -f2 <<<"$(grep '^IDENTIFY' "$RL_W/jsdial.out")")" ||
    ko "(c) identify: $(grep '^IDENTIFY' "$RL_W/jsdial.out" || echo none)"
  # The provider advertises its relayed address in identify (listenAddrs), as js peers expect.
  grep -q "^LISTEN .*$GW_ADDR/p2p-circuit" "$RL_W/jsdial.out" &&
    ok "(c) identify lists the relayed address $GW_ADDR/p2p-circuit" ||
    ko "(c) identify listenAddrs: $(grep '^LISTEN' "$RL_W/jsdial.out" || echo none)"
  [ "$(grep -c '^PING ' "$RL_W/jsdial.out")" = 3 ] &&
    ok "(c) 3 pings: $(awk '/^PING/ {printf "%s ms ", $2}' "$RL_W/jsdial.out")" || ko "(c) pings"
  # An untrusted js peer: the provider refuses it after Noise (over the relay too).
  rl_run_dialer jsdial_stranger "$addr" --seed "$SEED_STRANGER" --count 1 --timeout 10000
  [ "$jsdial_stranger_RC" != 0 ] && ! grep -q '^PING ' "$RL_W/jsdial_stranger.out" &&
    ok "(c) an untrusted js peer is refused: $(head -1 "$RL_W/jsdial_stranger.out" | head -c 160)" ||
    ko "(c) untrusted js peer rc=$jsdial_stranger_RC"
  grep -q "refused.*$STRANGER_ID" "$RL_W/prov_c.out" &&
    ok "(c) the provider logged the refusal" || ko "(c) no refusal of $STRANGER_ID in the provider log"
  rl_stop prov_c gw_c
}

for c in $CASES; do
  case $c in
    a) case_a ;;
    b) case_b ;;
    c) case_c ;;
    *) echo "unknown case $c (a, b or c)" >&2; exit 2 ;;
  esac
done
rl_finish relay_interop
