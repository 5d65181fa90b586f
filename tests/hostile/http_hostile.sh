#!/usr/bin/env bash
# Hostile public clients against the gateway, with a real provider and dockerd behind it: request
# smuggling shapes (Content-Length with Transfer-Encoding, Transfer-Encoding variants, duplicate
# and malformed Content-Length, bad chunk sizes), oversized headers and request lines, slowloris,
# and WebSocket clients that never read while the container streams at them. Each must get a
# clear error (or be cut), nothing may reach the container as a second, smuggled request, and the
# gateway's memory and descriptors stay bounded (measured; generous bounds, no timing asserted).
#
#   http_hostile.sh <peerctl> <peercomputed> <peergateway>
PC_SUITE=hostile-http
source "$(dirname "$0")/../faults/lib.sh"
PEERCTL=${1:?usage}
DAEMON=${2:?usage}
GATEWAY=${3:?usage}
HERE=$(cd "$(dirname "$0")" && pwd)
REG=127.0.0.1:5055
WEB=$REG/peercompute/demo-web:2
dev() { PEERCOMPUTE_HOME=$W/dev "$PEERCTL" "$@"; }

# A WebSocket "server" that answers 101 and then streams zeros for as long as the socket takes
# them (busybox nc runs one script per connection).
WS_IMAGE=$REG/peercompute/ws-flood:1
if ! curl -sf --max-time 5 "http://$REG/v2/peercompute/ws-flood/manifests/1" \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' >/dev/null; then
  R=$W/wsroot
  mkdir -p "$R"
  cid=$(docker create peercompute/busybox:test /bin/true)
  docker export "$cid" | tar -C "$R" -x
  docker rm "$cid" >/dev/null
  cat >"$R/ws.sh" <<'SH'
#!/bin/sh
while read -r line; do [ -z "$(printf '%s' "$line" | tr -d '\r')" ] && break; done
printf 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'
exec cat /dev/zero
SH
  chmod 755 "$R/ws.sh"
  tar -C "$R" -c . | docker import -c 'CMD ["/bin/nc", "-ll", "-p", "8080", "-e", "/ws.sh"]' \
    -c 'EXPOSE 8080' - "$WS_IMAGE" >/dev/null
  docker push "$WS_IMAGE" >/dev/null || { ko "cannot push $WS_IMAGE"; finish; }
  docker rmi "$WS_IMAGE" >/dev/null
  rm -rf "$R"
fi

dev init >/dev/null
PEERCOMPUTE_HOME=$W/prov "$PEERCTL" init >/dev/null
PROV=$(PEERCOMPUTE_HOME=$W/prov "$PEERCTL" id)
PEERCOMPUTE_HOME=$W/prov "$PEERCTL" peers add "$(dev id)" --name dev >/dev/null
"$GATEWAY" --data-dir "$W/gw" providers add "$PROV" --name prov >/dev/null
rotate_log "$W/gw.log"
"$GATEWAY" --data-dir "$W/gw" --http-port 0 --tunnel-listen /ip4/127.0.0.1/tcp/0 --rate-per-ip 0 \
  --header-timeout 2s >"$W/gw.log" 2>&1 &
GPID=$!
PIDS+=($GPID)
wait_for "$W/gw.log" "HTTP listening" || { ko "gateway: $(cat "$W/gw.log")"; finish; }
GWADDR=$(awk '/Tunnel listening on/ {print $4; exit}' "$W/gw.log")
PORT=$(sed -n 's|.*HTTP listening on /ip4/[^/]*/tcp/\([0-9]*\);.*|\1|p' "$W/gw.log")
"$DAEMON" --data-dir "$W/prov" --listen /ip4/127.0.0.1/tcp/0 --allow-registry "$REG" \
  --gateway "$GWADDR" >"$W/prov.log" 2>&1 &
DPID=$!
PIDS+=($DPID)
wait_for "$W/prov.log" "tunnel: connected" || { ko "no tunnel: $(cat "$W/prov.log")"; finish; }
ADDR=$(awk '/Listening on/ {print $3; exit}' "$W/prov.log")
dev peers add "$PROV" --name prov --addr "${ADDR%/p2p/*}" >/dev/null
dev deploy "$WEB" --peer prov --expose 8080 --cpu 0.2 --memory 64M >"$W/web.out" 2>&1
dev deploy "$WS_IMAGE" --peer prov --expose 8080 --cpu 0.2 --memory 64M >"$W/ws.out" 2>&1
DEP=$(awk '/^Deployment/ {print $2}' "$W/web.out")
WSDEP=$(awk '/^Deployment/ {print $2}' "$W/ws.out")
HOST=$DEP.localhost:$PORT
WSHOST=$WSDEP.localhost:$PORT
curl -sf --max-time 5 "http://$HOST/" | grep -q "Peer Compute" && [ -n "$WSDEP" ] &&
  ok "gateway, provider, web and WebSocket deployments up" || { ko "set-up: $(cat "$W/web.out" "$W/ws.out")"; finish; }
sleep 0.5
RSS0=$(rss_kb "$GPID")
FD0=$(fd_count "$GPID")
info "gateway baseline: RSS $RSS0 KiB, $FD0 fds"

# -- smuggling and oversized headers ---------------------------------------------------------------
python3 "$HERE/http_hostile.py" smuggle "$PORT" "$HOST" >"$W/smuggle.out" 2>&1
while read -r _ name rest; do
  name=${name%:}
  st=$(sed -n 's/.*status=\([^ ]*\).*/\1/p' <<<"$rest")
  if grep -q "smuggled=1" <<<"$rest"; then
    ko "$name: a second request reached the container ($rest)"
  elif [ "$name" = lf-only-line-ends ]; then
    grep -q "smuggled=0" <<<"$rest" && ok "$name: one response, nothing smuggled ($rest)" || ko "$name: $rest"
  elif [[ "$st" =~ ^[45][0-9][0-9]$ ]] && grep -q "closed=1" <<<"$rest"; then
    ok "$name: refused with $st and the connection closed"
  else
    ko "$name: not refused ($rest)"
  fi
done < <(grep "^case" "$W/smuggle.out")
[ "$(grep -c "^case" "$W/smuggle.out")" -ge 28 ] || ko "smuggle: not every case ran: $(cat "$W/smuggle.out")"
grep -q "^case header-20k: status=431" "$W/smuggle.out" && ok "oversized header answered 431" || ko "header-20k: $(grep header-20k "$W/smuggle.out")"
n=$(grep -c "security: http" "$W/gw.log")
[ "$n" -ge 10 ] && ok "refusals logged by the gateway ($n 'security: http' lines)" || ko "gateway log has $n refusal lines"
curl -sf --max-time 5 "http://$HOST/" | grep -q "Peer Compute" && ok "the deployment still serves normal requests" || ko "normal request after the smuggling attempts"

# -- slowloris ---------------------------------------------------------------------------------------
python3 "$HERE/http_hostile.py" slowloris "$PORT" "$HOST" 200 15 >"$W/slow.out" 2>&1 &
S=$!
sleep 1
FDS=$(fd_count "$GPID")
wait $S
read -r _ cut _ of _ _ last _ < <(tr -d , <"$W/slow.out")
[ "${cut:-0}" = "${of:-x}" ] && ok "slowloris: all $of trickling clients cut at the 2 s header timeout (last after $last ms; gateway held $FDS fds meanwhile)" ||
  ko "slowloris: $(cat "$W/slow.out")"
until_true 50 test "$(fd_count "$GPID")" -le $((FD0 + 2))
FD1=$(fd_count "$GPID")
[ "$FD1" -le $((FD0 + 2)) ] && ok "gateway descriptors back to baseline ($FD0 → $FDS → $FD1)" || ko "gateway fds $FD0 → $FD1"

# -- WebSocket clients that never read ---------------------------------------------------------------
PRSS0=$(rss_kb "$DPID")
python3 "$HERE/http_hostile.py" ws-noread "$PORT" "$WSHOST" /ws 10 8 >"$W/ws-noread.out" 2>&1 &
S=$!
wait_for "$W/ws-noread.out" "^upgraded" 150
sleep 3
RSS_A=$(rss_kb "$GPID")
sleep 4
RSS_B=$(rss_kb "$GPID")
PRSS=$(rss_kb "$DPID")
wait $S
grep -q "^upgraded 10 of 10" "$W/ws-noread.out" && ok "10 WebSocket clients upgraded (101 through the tunnel)" || ko "ws: $(cat "$W/ws-noread.out")"
info "gateway RSS with 10 non-reading WebSocket clients: $RSS0 → $RSS_A → $RSS_B KiB; provider $PRSS0 → $PRSS KiB"
# The bound by design: one tunnel's receive windows together reach at most 64 MiB
# (yamux maxSessionWindow), whatever the clients do.
[ "$RSS_B" -le $((RSS0 + 81920 * MEM_SCALE)) ] && [ "$RSS_B" -le $((RSS_A + 8192 * MEM_SCALE)) ] &&
  ok "gateway memory bounded while clients never read (+$(((RSS_B - RSS0) / 1024)) MiB, within the 64 MiB tunnel window bound + 16; not growing: $RSS_A → $RSS_B KiB)" ||
  ko "gateway memory grew: $RSS0 → $RSS_A → $RSS_B KiB"
[ "$PRSS" -le $((PRSS0 + 49152 * MEM_SCALE)) ] && ok "provider memory bounded too (+$(((PRSS - PRSS0) / 1024)) MiB)" || ko "provider memory grew $PRSS0 → $PRSS KiB"
curl -sf --max-time 5 "http://$HOST/" | grep -q "Peer Compute" && ok "gateway still serves after the attacks" || ko "gateway unusable after the attacks"
info "gateway after all attacks: RSS $(rss_kb "$GPID") KiB, $(fd_count "$GPID") fds, CPU $(cpu_s "$GPID") s"
for d in $DEP $WSDEP; do dev stop "$d" --force >/dev/null 2>&1; done
finish
