#!/usr/bin/env bash
# Faults between the gateway, the provider and the engine, with the real dockerd: kill -9 and
# restart of the gateway under HTTP load; the tunnel's TCP connection reset mid-transfer (ss -K)
# and black-holed mid-transfer, then restored (iptables); a restart of dockerd while deployments
# run. Each case checks that the deployment records, the routes and the audit records survive and
# that every process recovers on its own.
#
#   tunnel_faults.sh <peerctl> <peercomputed> <peergateway>
PC_SUITE=tunnel-faults
source "$(dirname "$0")/lib.sh"
PEERCTL=${1:?usage}
DAEMON=${2:?usage}
GATEWAY=${3:?usage}
HERE=$(cd "$(dirname "$0")" && pwd)
REG=127.0.0.1:5055
WEB=$REG/peercompute/demo-web:2
RULES=()
cleanup_rules() { for r in "${RULES[@]}"; do iptables -D $r 2>/dev/null; done; }
trap 'cleanup_rules; lib_cleanup' EXIT
dev() { PEERCOMPUTE_HOME=$W/dev "$PEERCTL" "$@"; }

dev init >/dev/null
PEERCOMPUTE_HOME=$W/prov "$PEERCTL" init >/dev/null
PROV=$(PEERCOMPUTE_HOME=$W/prov "$PEERCTL" id)
PEERCOMPUTE_HOME=$W/prov "$PEERCTL" peers add "$(dev id)" --name dev >/dev/null
"$GATEWAY" --data-dir "$W/gw" providers add "$PROV" --name prov >/dev/null

GPID=
start_gateway() {
  rotate_log "$W/gw.log"
  "$GATEWAY" --data-dir "$W/gw" --http-port "${1:-0}" --tunnel-listen "/ip4/127.0.0.1/tcp/${2:-0}" \
    --rate-per-ip 0 >>"$W/gw.log" 2>&1 &
  GPID=$!
  PIDS+=($GPID)
  wait_for "$W/gw.log" "HTTP listening"
}
start_gateway || { ko "gateway: $(cat "$W/gw.log")"; finish; }
GWADDR=$(awk '/Tunnel listening on/ {print $4; exit}' "$W/gw.log")
HTTP_PORT=$(sed -n 's|.*HTTP listening on /ip4/[^/]*/tcp/\([0-9]*\);.*|\1|p' "$W/gw.log")
TUN_PORT=$(sed -n 's|.*/tcp/\([0-9]*\)/p2p/.*|\1|p' <<<"$GWADDR")

"$DAEMON" --data-dir "$W/prov" --listen /ip4/127.0.0.1/tcp/0 --allow-registry "$REG" \
  --gateway "$GWADDR" --stop-grace 1s >"$W/prov.log" 2>&1 &
DPID=$!
PIDS+=($DPID)
wait_for "$W/prov.log" "tunnel: connected" || { ko "no tunnel: $(cat "$W/prov.log")"; finish; }
ADDR=$(awk '/Listening on/ {print $3; exit}' "$W/prov.log")
dev peers add "$PROV" --name prov --addr "${ADDR%/p2p/*}" >/dev/null
dev deploy "$WEB" --peer prov --expose 8080 --cpu 0.2 --memory 64M >"$W/web.out" 2>&1
DEP=$(awk '/^Deployment/ {print $2}' "$W/web.out")
URL=$(awk '/url:/ {print $2}' "$W/web.out")
dev deploy "$REG/peercompute/busybox:test" --peer prov --cpu 0.1 --memory 16M -- sleep 3600 >"$W/sleeper.out" 2>&1
DEP2=$(awk '/^Deployment/ {print $2}' "$W/sleeper.out")
curl -sf --max-time 5 "$URL" | grep -q "Peer Compute" && [ -n "$DEP2" ] &&
  ok "gateway, provider and two deployments up ($URL)" || { ko "set-up: $(cat "$W/web.out" "$W/sleeper.out")"; finish; }
state_of() { dev status "$1" -o json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["state"])' 2>/dev/null; }
page_ok() { curl -sf --max-time 2 "$URL" | grep -q "Peer Compute"; }
audit_lines() { audit_ok "$W/prov/audit.jsonl"; }
AUDIT0=$(audit_lines)

# -- kill -9 and restart of the gateway under load ----------------------------------------------
rm -f "$W/stop"
python3 "$HERE/http_load.py" "$URL" 8 "$W/stop" >"$W/load.out" 2>&1 &
LOAD=$!
PIDS+=($LOAD)
sleep 2
info "gateway under load: RSS $(rss_kb "$GPID") KiB, $(fd_count "$GPID") fds, CPU $(cpu_s "$GPID") s"
kill9 "$GPID"
t0=$(date +%s%N)
sleep 0.3
start_gateway "$HTTP_PORT" "$TUN_PORT" || ko "gateway did not restart on its ports"
until_true 100 page_ok
back=$((($(date +%s%N) - t0) / 1000000))
page_ok && ok "route back ${back} ms after kill -9 (incl. 300 ms down) of the gateway under load" || ko "route not back after the gateway restart"
sleep 2
touch "$W/stop"
wait "$LOAD"
read -r _ nok _ nfail _ lastfail _ recovered <"$W/load.out"
[ "${nok:-0}" -gt 0 ] && [ "$recovered" != None ] &&
  ok "load through the restart: $nok requests ok, $nfail failed (while the gateway was down), first success after the outage at ${recovered} ms, last failure at ${lastfail} ms (since load start)" ||
  ko "load: $(cat "$W/load.out")"
grep -q "route $DEP → provider" "$W/gw.log" && ok "provider re-registered its route at the new gateway" || ko "no route registration in the gateway log"
kill -0 "$DPID" && [ "$(state_of "$DEP")" = running ] && ok "provider and deployment unaffected" || ko "provider or deployment hurt by the gateway crash"

# -- the tunnel connection reset mid-transfer ------------------------------------------------------
BIG=$((256 << 20))
curl -s --max-time 60 --limit-rate 20M "${URL}cgi-bin/zero?$BIG" -o "$W/cut.bin" 2>"$W/cut.err" &
C=$!
sleep 1.5
ss -K dst 127.0.0.1 dport = "$TUN_PORT" >/dev/null 2>&1
t0=$(date +%s%N)
wait "$C"
rc=$?
got=$(stat -c %s "$W/cut.bin" 2>/dev/null || echo 0)
[ $rc -ne 0 ] && [ "$got" -lt "$BIG" ] &&
  ok "tunnel reset mid-transfer: the client sees an error (curl rc $rc after $((got >> 20)) MiB), not a short 'complete' body" ||
  ko "tunnel reset: curl rc $rc, $got of $BIG bytes"
until_true 100 page_ok
back=$((($(date +%s%N) - t0) / 1000000))
page_ok && ok "provider redialled; route back ${back} ms after the reset" || ko "route not back after the tunnel reset: $(tail -5 "$W/prov.log")"
want=$(head -c $((20 << 20)) /dev/zero | sha256sum | cut -c1-64)
got=$(curl -s --max-time 30 "${URL}cgi-bin/zero?$((20 << 20))" | sha256sum | cut -c1-64)
[ "$got" = "$want" ] && ok "20 MiB through the new tunnel, hash checked" || ko "transfer after the reset: hash differs"

# -- the tunnel black-holed mid-transfer, then restored ------------------------------------------------
MID=$((40 << 20))
curl -s --max-time 60 --limit-rate 10M "${URL}cgi-bin/zero?$MID" -o "$W/hole.bin" &
C=$!
sleep 1
for r in "INPUT -i lo -p tcp --dport $TUN_PORT -j DROP" "INPUT -i lo -p tcp --sport $TUN_PORT -j DROP"; do
  iptables -I $r && RULES+=("$r")
done
sleep 3
cleanup_rules
RULES=()
wait "$C"
rc=$?
got=$(sha256sum <"$W/hole.bin" | cut -c1-64)
want=$(head -c "$MID" /dev/zero | sha256sum | cut -c1-64)
[ $rc -eq 0 ] && [ "$got" = "$want" ] && ok "tunnel black-holed 3 s mid-transfer, then restored: the 40 MiB transfer completed intact" ||
  ko "black-holed transfer: curl rc $rc, hash $got"
page_ok && ok "route still served after the black hole" || ko "route lost after the black hole"
AUDIT1=$(audit_lines)
[ "$AUDIT1" -ge "$AUDIT0" ] && ok "provider audit log intact ($AUDIT0 → $AUDIT1 records)" || ko "audit records lost"

# -- dockerd restarted while deployments run ---------------------------------------------------------
# Restarted the way scripts/test.d/10-docker.sh starts it.
DLOG=${DOCKERD_LOG:-/var/log/peercompute-dockerd.log}
dpid=$(cat /var/run/docker.pid 2>/dev/null)
if [ -n "$dpid" ] && grep -q dockerd "/proc/$dpid/comm" 2>/dev/null; then
  t0=$(date +%s%N)
  kill -TERM "$dpid"
  for _ in $(seq 1 300); do [ -d "/proc/$dpid" ] || break; sleep 0.1; done
  [ -d "/proc/$dpid" ] && ko "dockerd did not stop within 30 s"
  rm -f /var/run/docker.pid
  setsid dockerd >>"$DLOG" 2>&1 </dev/null &
  until_true 600 curl -sf --max-time 2 --unix-socket /var/run/docker.sock http://localhost/_ping
  info "dockerd restarted in $((($(date +%s%N) - t0) / 1000000)) ms"
  wait_for "$W/prov.log" "lost the container engine's event stream" 100 &&
    ok "provider noticed the engine going away" || ko "provider did not notice the engine restart"
  until_true 300 bash -c "[ \"\$(PEERCOMPUTE_HOME=$W/dev $PEERCTL status $DEP -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0][\"state\"])')\" = running ] && curl -sf --max-time 2 $URL >/dev/null"
  s1=$(state_of "$DEP")
  s2=$(state_of "$DEP2")
  [ "$s1" = running ] && [ "$s2" = running ] && page_ok &&
    ok "after the engine restart both deployments are running again and $URL answers" ||
    ko "after the engine restart: $DEP $s1, $DEP2 $s2; $(dev status 2>&1); $(grep -i "$DEP\|engine" "$W/prov.log" | tail -5)"
else
  ko "no dockerd pid in /var/run/docker.pid: cannot restart the engine"
fi
kill -0 "$DPID" && kill -0 "$GPID" && ok "provider and gateway alive throughout" || ko "a daemon died"
AUDIT2=$(audit_lines)
[ "$AUDIT2" -ge "$AUDIT1" ] && ok "audit log intact after the engine restart ($AUDIT2 records)" || ko "audit records lost"

for d in $DEP $DEP2; do dev stop "$d" --force >/dev/null 2>&1; done
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$URL")
[ "$code" = 404 ] && ok "stopped: route gone (404)" || ko "after stop: HTTP $code"
finish
