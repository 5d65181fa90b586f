#!/usr/bin/env bash
# Gateway benchmarks (issue 6), every anchor in the same run, on loopback:
#   direct           wrk → the container's published port (through the engine's userland proxy)
#   direct-ip        wrk → the container's own address (what the provider dials)
#   peergateway      wrk → peergateway → libp2p tunnel (Noise + yamux) → peercomputed → container
#   nginx + ssh -R   wrk → nginx reverse proxy → an `ssh -R` reverse tunnel → container (its
#                    own address, like the provider)
#                    (what a user would otherwise build)
#   nginx-only       wrk → nginx reverse proxy → container: one proxy process, no tunnel, no
#                    encryption — the ceiling any proxy in the path can reach on this machine
# Measures requests/s (wrk, 64 connections), 1 MiB bodies (MB/s), latency at a constant
# 1000 requests/s (p50/p90/p99, from the scheduled send time), memory of gateway + provider per
# idle proxied connection (1000 connections), and the time until a route is back after a
# gateway kill -9 + restart. Not part of the test suite; installs wrk, nginx and openssh.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SECS=${BENCH_SECONDS:-10}
./scripts/test.d/10-docker.sh >/dev/null
need=()
for p in wrk nginx-light openssh-server openssh-client python3; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
cmake -S . -B build/bench-gateway -G Ninja -DCMAKE_BUILD_TYPE=Release -DPC_TESTS=OFF >/dev/null
cmake --build build/bench-gateway --target peerctl peercomputed peergateway -j "$(nproc)" >/dev/null
B=$ROOT/build/bench-gateway/bin
W=$(mktemp -d /tmp/pc-bench-gw.XXXXXX)
PIDS=()
cleanup() {
  # The deployment first, while its provider still runs; then the processes.
  [ -n "${DEP:-}" ] && PEERCOMPUTE_HOME=$W/dev "$B/peerctl" stop --force "$DEP" >/dev/null 2>&1 || true
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$W/nginx.pid" ] && kill "$(cat "$W/nginx.pid")" 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT

# The workload: a static epoll HTTP server in a scratch image, served by the local registry.
IMG=127.0.0.1:5055/peercompute/tinyhttp:bench
gcc -O2 -static -o "$W/tinyhttp" bench/gateway/tinyhttp.c
mkdir -p "$W/img"
cp "$W/tinyhttp" "$W/img/tinyhttp"
tar -C "$W/img" -c . | docker import -c 'CMD ["/tinyhttp", "8080"]' - "$IMG" >/dev/null
docker push "$IMG" >/dev/null

dev() { PEERCOMPUTE_HOME=$W/dev "$B/peerctl" "$@"; }
dev init >/dev/null
PEERCOMPUTE_HOME=$W/prov "$B/peerctl" init >/dev/null
PROV=$(PEERCOMPUTE_HOME=$W/prov "$B/peerctl" id)
PEERCOMPUTE_HOME=$W/prov "$B/peerctl" peers add "$(dev id)" >/dev/null
"$B/peergateway" --data-dir "$W/gw" providers add "$PROV" >/dev/null
start_gateway() {
  # Emptied here, not by the child's redirection: waiting on a log that still holds the last
  # run's "listening" line would return before the new process listens.
  : >"$W/gw.log"
  "$B/peergateway" --data-dir "$W/gw" --http-port "${1:-0}" --tunnel-listen "/ip4/127.0.0.1/tcp/${2:-0}" \
    --rate-per-ip 0 --rate-per-host 0 >"$W/gw.log" 2>&1 &
  GPID=$!
  PIDS+=($GPID)
  for _ in $(seq 1 100); do grep -q "HTTP listening" "$W/gw.log" && break; sleep 0.05; done
}
start_gateway
GWADDR=$(awk '/Tunnel listening on/ {print $4; exit}' "$W/gw.log")
GW_PORT=$(sed -n 's|.*HTTP listening on /ip4/[^/]*/tcp/\([0-9]*\);.*|\1|p' "$W/gw.log")
TUN_PORT=$(sed -n 's|.*/tcp/\([0-9]*\)/p2p/.*|\1|p' <<<"$GWADDR")
"$B/peercomputed" --data-dir "$W/prov" --listen /ip4/127.0.0.1/tcp/0 --allow-registry 127.0.0.1:5055 \
  --gateway "$GWADDR" >"$W/prov.log" 2>&1 &
PPID_=$!
PIDS+=($PPID_)
for _ in $(seq 1 100); do grep -q "tunnel: connected" "$W/prov.log" && break; sleep 0.05; done
ADDR=$(awk '/Listening on/ {print $3; exit}' "$W/prov.log")
dev peers add "$PROV" --name prov --addr "${ADDR%/p2p/*}" >/dev/null
dev deploy "$IMG" --peer prov --expose 8080 --cpu 1 --memory 256M >"$W/deploy.out"
DEP=$(awk '/^Deployment/ {print $2}' "$W/deploy.out")
HOSTHDR="$DEP.localhost"
CIP=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$(docker ps -q --filter "label=peercompute.deployment-id=$DEP")")
DIRECT_PORT=$(docker port "$(docker ps -q --filter "label=peercompute.deployment-id=$DEP")" 8080/tcp | head -1 | sed 's/.*://')

# nginx + ssh -R: sshd on loopback, a reverse tunnel to the container port, nginx in front.
SSH_PORT=22022
RPORT=19090
NGX_PORT=18088
NGX_DIRECT_PORT=18089
ssh-keygen -q -t ed25519 -N '' -f "$W/hostkey"
ssh-keygen -q -t ed25519 -N '' -f "$W/userkey"
mkdir -p /run/sshd
cat >"$W/sshd_config" <<CFG
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $W/hostkey
PermitRootLogin prohibit-password
AuthorizedKeysFile $W/userkey.pub
AllowTcpForwarding yes
PidFile $W/sshd.pid
StrictModes no
CFG
/usr/sbin/sshd -f "$W/sshd_config" -D -e 2>"$W/sshd.log" &
PIDS+=($!)
sleep 0.5
ssh -N -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ExitOnForwardFailure=yes \
  -i "$W/userkey" -p $SSH_PORT -R 127.0.0.1:$RPORT:$CIP:8080 root@127.0.0.1 2>"$W/ssh.log" &
PIDS+=($!)
cat >"$W/nginx.conf" <<CFG
worker_processes 1;
pid $W/nginx.pid;
error_log $W/nginx.err;
events { worker_connections 4096; }
http {
  access_log off;
  upstream tunnel { server 127.0.0.1:$RPORT; keepalive 128; }
  upstream container { server $CIP:8080; keepalive 128; }
  server {
    listen 127.0.0.1:$NGX_PORT;
    location / {
      proxy_pass http://tunnel;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$remote_addr;
      proxy_buffering off;
    }
  }
  # The ceiling reference: the same proxy with no tunnel at all (one process, no encryption),
  # reading up to 64 KiB per call from the container instead of nginx's default 4–8 KiB.
  server {
    listen 127.0.0.1:$NGX_DIRECT_PORT;
    location / {
      proxy_pass http://container;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$remote_addr;
      proxy_buffering off;
      proxy_buffer_size 64k;
      proxy_buffers 4 64k;
      proxy_busy_buffers_size 128k;
    }
  }
}
CFG
nginx -c "$W/nginx.conf"
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$NGX_PORT/" >/dev/null 2>&1 && break; sleep 0.1; done

declare -A URL=([direct]="http://127.0.0.1:$DIRECT_PORT" [direct-ip]="http://$CIP:8080"
  [peergateway]="http://127.0.0.1:$GW_PORT" [nginx+ssh]="http://127.0.0.1:$NGX_PORT"
  [nginx-only]="http://127.0.0.1:$NGX_DIRECT_PORT")
CASES="direct direct-ip peergateway nginx+ssh nginx-only"
for k in $CASES; do
  curl -sf -H "Host: $HOSTHDR" "${URL[$k]}/" | grep -q hello || { echo "$k does not answer"; exit 1; }
done

echo "== requests/s (wrk -t2 -c64 -d${SECS}s, 13-byte body) =="
declare -A RPS
for k in $CASES; do
  if [ "$k" = peergateway ] && [ "${PERF:-}" = 1 ]; then
    # PERF=1 (requests/s) or PERF=1m (1 MiB bodies): CPU profile of gateway and provider during
    # that run (for development).
    perf record -q -g -p "$GPID,$PPID_" -o "${PERF_OUT:-/tmp/pc-gw.perf}" -- sleep "$SECS" 2>/dev/null &
  fi
  out=$(wrk -t2 -c64 -d"${SECS}s" --latency -H "Host: $HOSTHDR" "${URL[$k]}/")
  RPS[$k]=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  printf "%-12s %10s req/s   p50 %8s  p99 %8s\n" "$k" "${RPS[$k]}" \
    "$(awk '$1=="50%" {print $2}' <<<"$out")" "$(awk '$1=="99%" {print $2}' <<<"$out")"
done
python3 - "${RPS[direct]}" "${RPS[direct-ip]}" "${RPS[peergateway]}" "${RPS[nginx+ssh]}" "${RPS[nginx-only]}" <<'PY'
import sys
d, di, g, n, no = map(float, sys.argv[1:])
print(f"peergateway / nginx+ssh = {g/n:.2f}x   peergateway / direct = {100*g/d:.0f}%"
      f"   (/ direct to the container address = {100*g/di:.0f}%; / nginx-only = {100*g/no:.0f}%)")
PY

echo
echo "== 1 MiB bodies (wrk -t2 -c8 -d${SECS}s) =="
for k in $CASES; do
  if [ "$k" = peergateway ] && [ "${PERF:-}" = 1m ]; then
    perf record -q -g -p "$GPID,$PPID_" -o "${PERF_OUT:-/tmp/pc-gw.perf}" -- sleep "$SECS" 2>/dev/null &
  fi
  out=$(wrk -t2 -c8 -d"${SECS}s" -H "Host: $HOSTHDR" "${URL[$k]}/1m")
  printf "%-12s %10s/s  (%s req/s)\n" "$k" "$(awk '/Transfer\/sec/ {print $2}' <<<"$out")" \
    "$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
done

echo
echo "== latency at a constant 1000 req/s, one keep-alive connection (µs: n p50 p90 p99 max) =="
for k in $CASES; do
  port=${URL[$k]##*:}
  hp=${URL[$k]#http://}
  printf "%-12s %s\n" "$k" "$(python3 bench/gateway/latency.py "${hp%:*}" "$port" "$HOSTHDR" 1000 "$SECS")"
done

echo
echo "== memory per idle proxied connection (1000 connections, gateway + provider RSS) =="
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
before=$(( $(rss $GPID) + $(rss $PPID_) ))
coproc HOLD { python3 bench/gateway/hold.py 127.0.0.1 "$GW_PORT" "$HOSTHDR" 1000; }
read -r line <&"${HOLD[0]}"
sleep 1
after=$(( $(rss $GPID) + $(rss $PPID_) ))
echo "before ${before} KiB, with 1000 connections ${after} KiB: $(( (after - before) * 1024 / 1000 )) bytes per connection"
exec {HOLD[1]}>&-
wait "$HOLD_PID" 2>/dev/null || true

echo
echo "== route back after kill -9 + restart of the gateway =="
kill -9 "$GPID"; wait "$GPID" 2>/dev/null || true
start_gateway "$GW_PORT" "$TUN_PORT"
t0=$(date +%s%N)
until curl -sf --max-time 1 -H "Host: $HOSTHDR" "http://127.0.0.1:$GW_PORT/" >/dev/null 2>&1; do sleep 0.01; done
echo "route back after $(( ($(date +%s%N) - t0) / 1000000 )) ms (from the restart command)"
