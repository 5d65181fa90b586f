#!/usr/bin/env bash
# SC2154: NAME_ID/NAME_ADDR/NAME_RC are set by relay_lib.sh with printf -v; SC2015: `cond && ok || ko`
# is intended (ok never fails).
# shellcheck disable=SC2154,SC2015
# js↔js self-test of the circuit relay interop scripts, all on loopback: a js relay, a js peer that
# reserves on it, a js peer that dials the first one through it (ping, identify, echo), the same
# with js's default circuit limits (a limited connection), a reservation the relay refuses
# (RESERVE-FAILED 202), a dial to a peer with no reservation (DIAL-FAILED), and clean SIGTERM exits.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=relay_lib.sh
. "$HERE/relay_lib.sh"
rl_init
SEED_T=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
ID_T=12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB

got=$(rl_js_id "$SEED_T")
[ "$got" = "$ID_T" ] && ok "seed 00..1f gives $ID_T" || ko "seed 00..1f gave $got"

# Checks a dialer's output: connected (limited or unlimited), identify of a js peer serving echo,
# 3 pings, the echo of $4 bytes, DONE, exit 0.
check_dial() {
  local name=$1 want_limit=$2 target=$3 bytes=$4 out="$RL_W/$1.out"
  local rc_var="${name}_RC"
  [ "${!rc_var}" = 0 ] && ok "$name: exit 0" || ko "$name: exit ${!rc_var}"
  grep -Eq "^CONNECTED $target .*/p2p-circuit/p2p/$target $want_limit\$" "$out" &&
    ok "$name: connected through the relay ($want_limit)" || ko "$name: no CONNECTED ... $want_limit"
  grep -Eq '^IDENTIFY js-libp2p/[^ ]+ .*/echo/1\.0\.0' "$out" && grep -q '/ipfs/ping/1.0.0' "$out" &&
    ok "$name: identify: $(cut -d' ' -f2 <<<"$(grep '^IDENTIFY' "$out")")" || ko "$name: identify"
  local pings
  pings=$(grep -c '^PING [0-9.]*$' "$out" || true)
  [ "$pings" = 3 ] && ok "$name: 3 pings ($(awk '/^PING/ {printf "%s ms ", $2}' "$out"))" || ko "$name: $pings pings"
  grep -q "^ECHO $bytes\$" "$out" && grep -q '^DONE$' "$out" && ok "$name: $bytes bytes echoed" || ko "$name: echo"
}

# The three relays and then the three reservers start in parallel (a js node takes ~1 s to start).
NOBODY=$(rl_js_id 2020202020202020202020202020202020202020202020202020202020202020)
rl_spawn_relay relay
rl_spawn_relay relay_lim --default-limit
rl_spawn_relay relay_acl --allow "$ID_T"
for r in relay relay_lim relay_acl; do rl_await_relay "$r"; done
rl_spawn_reserver target "$relay_ADDR" --seed "$SEED_T"
rl_spawn_reserver target_lim "$relay_lim_ADDR"
rl_spawn_reserver stranger "$relay_acl_ADDR"

# 1. Unlimited circuits (applyDefaultLimit off).
rl_await_reserver target || ko "reserver: ${target_FAIL:-no READY}"
[[ ${target_ADDR:-} == "$relay_ADDR/p2p-circuit/p2p/$ID_T" ]] &&
  ok "reserved: $target_ADDR" || ko "circuit address ${target_ADDR:-none}"
grep -q "^RESERVE $ID_T allowed\$" "$RL_W/relay.out" && ok "relay saw the RESERVE" || ko "relay: no RESERVE line"
rl_await_reserver target_lim || ko "reserver on limited relay: ${target_lim_FAIL:-no READY}"
dpids=()
rl_run_dialer dial1 "${target_ADDR:-none}" --count 3 --echo 70000 &
dpids+=($!)
rl_run_dialer dial_none "$relay_ADDR/p2p-circuit/p2p/$NOBODY" --timeout 3000 &
dpids+=($!)
rl_run_dialer dial_lim "${target_lim_ADDR:-none}" --count 3 --echo 20000 &
dpids+=($!)
rl_run_dialer dial_over "${target_lim_ADDR:-none}" --count 0 --echo 70000 &
dpids+=($!)
wait "${dpids[@]}"
for d in dial1 dial_none dial_lim dial_over; do rl_rc "$d"; done
check_dial dial1 unlimited "$ID_T" 70000
DIALER=$(grep -m1 "^CIRCUIT .* $ID_T\$" "$RL_W/relay.out" | cut -d' ' -f2)
[ "$(grep -c "^CIRCUIT .* $ID_T\$" "$RL_W/relay.out")" = 1 ] &&
  ok "relay carried exactly one circuit to the target" || ko "relay circuits: $(grep -c '^CIRCUIT' "$RL_W/relay.out")"
rl_wait_line "$RL_W/target.out" "^ECHO $DIALER 70000\$" 20 &&
  grep -q "^CONNECTION $DIALER .*/p2p-circuit/p2p/$DIALER unlimited\$" "$RL_W/target.out" &&
  ok "target saw the relayed connection and the echo" || ko "target events"

# 2. A peer with no reservation on the relay.
[ "$dial_none_RC" = 4 ] && grep -q '^DIAL-FAILED .*NO_RESERVATION' "$RL_W/dial_none.out" &&
  ok "no reservation: $(head -1 "$RL_W/dial_none.out")" || ko "dial_none rc=$dial_none_RC"

# 3. js's default limits: the circuit is limited; echo still works (runOnLimitedConnection), but
#    the relay's 128 KiB budget (both directions together) cuts a 2 x 70000-byte echo.
check_dial dial_lim limited "${target_lim_ID:-none}" 20000
[ "$dial_over_RC" = 5 ] && grep -q '^ECHO-FAILED ' "$RL_W/dial_over.out" &&
  ok "the 128 KiB data limit cut a 140000-byte exchange: $(head -c 100 <<<"$(grep ECHO-FAILED "$RL_W/dial_over.out")")" ||
  ko "dial_over rc=$dial_over_RC"

# 4. A relay that allows only someone else refuses the reservation: 202.
rc=0
rl_await_reserver stranger || rc=$?
[ "$rc" = 3 ] && [ "${stranger_FAIL:-}" = "202 PERMISSION_DENIED" ] &&
  ok "refused reservation: RESERVE-FAILED $stranger_FAIL" || ko "stranger: rc=$rc ${stranger_FAIL:-}"
rl_stop stranger
[ "$stranger_RC" = 3 ] && ok "refused reserver exited 3" || ko "refused reserver exit $stranger_RC"

# 5. SIGTERM: the long-running roles exit 0.
rl_stop target target_lim relay relay_lim relay_acl
for n in target target_lim relay relay_lim relay_acl; do
  rc_var="${n}_RC"
  [ "${!rc_var}" = 0 ] && ok "$n exits 0 on SIGTERM" || ko "$n exit ${!rc_var} on SIGTERM"
done
rl_finish relay_selftest
