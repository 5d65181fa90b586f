#!/usr/bin/env bash
# Hostile public clients against the gateway, with a real provider and dockerd behind it: request
# smuggling shapes (Content-Length with Transfer-Encoding, Transfer-Encoding variants, duplicate
# and malformed Content-Length, bad chunk sizes), oversized headers and request lines, slowloris,
# WebSocket clients that never read while the container streams at them, and one address holding
# more idle connections than max_connections_per_ip allows. Each must get a
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
ws_root() {
  cat >"$1/ws.sh" <<'SH'
#!/bin/sh
while read -r line; do [ -z "$(printf '%s' "$line" | tr -d '\r')" ] && break; done
printf 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'
exec cat /dev/zero
SH
  chmod 755 "$1/ws.sh"
}
test_image "$WS_IMAGE" ws_root 'CMD ["/bin/nc", "-ll", "-p", "8080", "-e", "/ws.sh"]' 'EXPOSE 8080'

# A server that answers every request with the request head it received, as its body: what a
# deployment sees of the client's header fields.
ECHO_IMAGE=$REG/peercompute/echo-head:1
echo_root() {
  cat >"$1/echo.sh" <<'SH'
#!/bin/sh
head=""
while IFS= read -r line; do
  line=$(printf '%s' "$line" | tr -d '\r')
  [ -z "$line" ] && break
  head="$head$line
"
done
n=$(printf '%s' "$head" | wc -c)
printf 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %s\r\nConnection: close\r\n\r\n%s' "$n" "$head"
SH
  chmod 755 "$1/echo.sh"
}
test_image "$ECHO_IMAGE" echo_root 'CMD ["/bin/nc", "-ll", "-p", "8080", "-e", "/echo.sh"]' 'EXPOSE 8080'

dev init >/dev/null
PEERCOMPUTE_HOME=$W/prov "$PEERCTL" init >/dev/null
PROV=$(PEERCOMPUTE_HOME=$W/prov "$PEERCTL" id)
PEERCOMPUTE_HOME=$W/prov "$PEERCTL" peers add "$(dev id)" --name dev >/dev/null
"$GATEWAY" --data-dir "$W/gw" providers add "$PROV" --name prov >/dev/null
rotate_log "$W/gw.log"
"$GATEWAY" --data-dir "$W/gw" --http-port 0 --tunnel-listen /ip4/127.0.0.1/tcp/0 --rate-per-ip 0 \
  --header-timeout 2s --max-connections-per-ip 256 --max-streams-per-tunnel 64 \
  --max-streams-per-client 16 --client-write-timeout 3s >"$W/gw.log" 2>&1 &
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
dev deploy "$WEB" --peer prov --expose 8080 --cpu 0.2 --memory 64M >"$W/web2.out" 2>&1
dev deploy "$ECHO_IMAGE" --peer prov --expose 8080 --cpu 0.2 --memory 64M >"$W/echo.out" 2>&1
DEP=$(awk '/^Deployment/ {print $2}' "$W/web.out")
DEP2=$(awk '/^Deployment/ {print $2}' "$W/web2.out")
ECHODEP=$(awk '/^Deployment/ {print $2}' "$W/echo.out")
HOST2=$DEP2.localhost:$PORT
WSDEP=$(awk '/^Deployment/ {print $2}' "$W/ws.out")
HOST=$DEP.localhost:$PORT
WSHOST=$WSDEP.localhost:$PORT
curl -sf --max-time 5 "http://$HOST/" | grep -q "Peer Compute" && [ -n "$WSDEP" ] && [ -n "$DEP2" ] && [ -n "$ECHODEP" ] &&
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
grep -q "^case chunk-bad-size: status=400" "$W/smuggle.out" && ok "malformed chunked body answered 400 (the client's fault, not a 502)" ||
  ko "chunk-bad-size: $(grep chunk-bad-size "$W/smuggle.out")"
n=$(grep -c "security: http" "$W/gw.log")
[ "$n" -ge 10 ] && ok "refusals logged by the gateway ($n 'security: http' lines)" || ko "gateway log has $n refusal lines"
curl -sf --max-time 5 "http://$HOST/" | grep -q "Peer Compute" && ok "the deployment still serves normal requests" || ko "normal request after the smuggling attempts"
for c in two-hosts two-hosts-other-first http10-chunked; do
  grep -q "^case $c: status=400 .*closed=1 smuggled=0" "$W/smuggle.out" && ok "$c: 400 (RFC 9112), nothing forwarded" ||
    ko "$c: $(grep "^case $c:" "$W/smuggle.out")"
done

# -- forged forwarding fields ------------------------------------------------------------------------
# The gateway is the edge: what a client writes in Forwarded, X-Forwarded-*, X-Real-IP (or their
# '_' spellings) never reaches the deployment; the gateway's own values do.
python3 "$HERE/http_hostile.py" forwarding "$PORT" "$ECHODEP.localhost:$PORT" >"$W/fwd.out" 2>&1
if grep -q "^GET /echo" "$W/fwd.out"; then
  if grep -qiE "6\.6\.6\.6|evil\.example|/admin|X-Forwarded-Ssl|X_Forwarded|X-Client-IP|X-Forwarded-Port: 1$" "$W/fwd.out"; then
    ko "a forged forwarding field reached the deployment: $(tr '\n' '|' <"$W/fwd.out")"
  else
    ok "no forged forwarding field reached the deployment"
  fi
  grep -q "^X-Real-IP: 127.0.0.1$" "$W/fwd.out" && grep -q "^Forwarded: for=127.0.0.1;proto=http;" "$W/fwd.out" &&
    grep -q "^X-Forwarded-Port: $PORT$" "$W/fwd.out" && ok "the deployment sees the gateway's own X-Real-IP, Forwarded and X-Forwarded-Port" ||
    ko "gateway forwarding fields: $(tr '\n' '|' <"$W/fwd.out")"
else
  ko "echo deployment: $(cat "$W/fwd.out")"
fi

# -- clients that ask for a large body and never read --------------------------------------------------
# Each would hold a tunnel stream for ever. One address holds at most its share (16 of 64 here), one
# deployment at most three quarters, and a client that takes nothing for client_write_timeout (3 s
# here) is cut: the provider's other deployment (and other clients of this one) are served at once.
probe() {  # prints "<status> <seconds>" for one GET from 127.0.0.3
  curl -s -o /dev/null --interface 127.0.0.3 --max-time 30 -w '%{http_code} %{time_total}' "http://$1/"
}
for wave in "64 1 one address" "64 16 16 addresses"; do
  read -r n src _ <<<"$wave"
  python3 "$HERE/http_hostile.py" noread "$PORT" "$HOST" "/cgi-bin/zero?100000000000" "$n" "$src" 60 \
    >"$W/noread-$src.out" 2>&1 &
  S=$!
  wait_for "$W/noread-$src.out" "^sent" 100
  sleep 0.5
  read -r other_code other_s <<<"$(probe "$HOST2")"
  [ "$src" = 1 ] && read -r same_code same_s <<<"$(probe "$HOST")"
  wait $S
  info "non-reading clients from ${wave#* * }: $(tail -1 "$W/noread-$src.out"); meanwhile the other deployment answered $other_code in $other_s s"
  [ "$other_code" = 200 ] && ok "$n non-reading clients from ${wave#* * }: the provider's other deployment is served at once ($other_s s)" ||
    ko "other deployment starved: $other_code after $other_s s"
  grep -q "open 0" "$W/noread-$src.out" && grep -qE "cut [1-9]" "$W/noread-$src.out" &&
    ok "the non-reading clients holding streams were cut ($(tail -1 "$W/noread-$src.out"))" ||
    ko "non-reading clients: $(cat "$W/noread-$src.out")"
done
[ "$same_code" = 200 ] && ok "while one address held its share, another client of the same deployment was served ($same_s s)" ||
  ko "attacked deployment, other client: $same_code"
grep -q "refused 48 (429 48, 503 0)" "$W/noread-1.out" && ok "one address got its 16 streams; its other 48 requests 429" ||
  ko "per-address share: $(tail -1 "$W/noread-1.out")"
grep -qE "refused 16 \(429 0, 503 16\)" "$W/noread-16.out" && ok "one deployment got its 48 streams; 16 more requests 503" ||
  ko "per-deployment share: $(tail -1 "$W/noread-16.out")"
grep -q "client_write_timeout" "$W/gw.log" && ok "the cuts are logged as security events" || ko "no client_write_timeout line in the gateway log"

# -- slowloris ---------------------------------------------------------------------------------------
python3 "$HERE/http_hostile.py" slowloris "$PORT" "$HOST" 200 15 >"$W/slow.out" 2>&1 &
S=$!
sleep 1
FDS=$(fd_count "$GPID")
wait $S
read -r _ cut _ of _ _ last _ < <(tr -d , <"$W/slow.out")
[ "${cut:-0}" = "${of:-x}" ] && ok "slowloris: all $of trickling clients cut at the 2 s header timeout (last after $last ms; gateway held $FDS fds meanwhile)" ||
  ko "slowloris: $(cat "$W/slow.out")"
grep -q "slow client cut" "$W/gw.log" && ok "slowloris cuts are logged as security events" || ko "no slowloris line in the gateway log"
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
# -- more keep-alive clients than the tunnel has streams ---------------------------------------------
# Each keep-alive connection holds a proxy stream while idle. With 64 streams per tunnel, the 65th
# client's request closes the oldest idle connection instead of getting a 503.
python3 "$HERE/http_hostile.py" idle "$PORT" "$HOST" / 100 100 "$W/stop-evict" 10 >"$W/evict.out" 2>&1 &
S=$!
wait_for "$W/evict.out" "^held" 300
curl -sf --max-time 5 "http://$HOST/" | grep -q "Peer Compute" &&
  ok "a new client is served while 100 keep-alive clients sit on a 64-stream tunnel" ||
  ko "new client not served with the tunnel's streams held by idle clients"
touch "$W/stop-evict"
wait $S
grep -q "^held 100 (keepalive 100 ok)" "$W/evict.out" &&
  ok "100 keep-alive clients each got their answer through a 64-stream tunnel (oldest idle ones closed to make room)" ||
  ko "keep-alive clients over the stream bound: $(cat "$W/evict.out")"

# -- one address holding many idle connections -------------------------------------------------------
# One address may hold at most max_connections_per_ip connections (256 here), so one host cannot
# take every descriptor of the gateway.
python3 "$HERE/http_hostile.py" idle "$PORT" "$HOST" / 300 16 "$W/stop-perip" >"$W/perip.out" 2>&1 &
S=$!
wait_for "$W/perip.out" "^held" 300
sleep 1
curl -sf --max-time 5 --interface 127.0.0.2 "http://$HOST/" | grep -q "Peer Compute" &&
  ok "another address is served while one holds 300 connections" || ko "another address not served"
curl -s --max-time 5 "http://$HOST/" >"$W/perip-curl.out" 2>&1
rc=$?
[ "$rc" != 0 ] && ok "the address holding 256 connections gets no 257th (curl exit $rc)" ||
  ko "a 257th connection from one address was served"
touch "$W/stop-perip"
wait $S
grep -q "still-open 256; reused 16 of 16" "$W/perip.out" &&
  ok "exactly 256 of 300 connections from one address stayed open; its 16 keep-alive ones reused" ||
  ko "per-address limit: $(tail -1 "$W/perip.out")"
grep -q "max_connections_per_ip" "$W/gw.log" && ok "refusals over the per-address limit are logged" ||
  ko "no per-address refusal in the gateway log"

# -- a provider taken off the allowlist ---------------------------------------------------------------
# Its live tunnel is cut and its routes dropped at once (not at its next reconnect).
"$GATEWAY" --data-dir "$W/gw" providers remove prov >/dev/null
gone() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$HOST2/")" = 404 ]; }
until_true 50 gone
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$HOST2/")
[ "$code" = 404 ] && ok "after 'providers remove', the provider's deployments answer 404 at once" ||
  ko "removed provider still served: $code"
grep -q "removed from the allowlist: connection closed" "$W/gw.log" && ok "its tunnel was closed (logged)" ||
  ko "no allowlist cut in the gateway log"

for d in $DEP $DEP2 $ECHODEP $WSDEP; do dev stop "$d" --force >/dev/null 2>&1; done
finish
