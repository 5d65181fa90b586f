#!/usr/bin/env bash
# The main job, end to end on this machine: install what is needed (packages, a running dockerd,
# the demo web image in a loopback registry), build the three programs, then: a gateway starts; a
# developer and a provider create identities and trust each other; the provider daemon starts and
# dials out to the gateway (it opens no inbound port for the public); the developer deploys a web
# container on it, gets its public URL, sees its status and logs, fetches the page through the
# gateway, and stops it. A stranger's attempt is refused and logged.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
# dockerd (started by hand when none answers: no systemd here), the busybox-based demo web image
# and a registry on 127.0.0.1:5055 that serves it (Docker Hub is not needed).
./scripts/test.d/10-docker.sh
cmake -B build -G Ninja >/dev/null
# The programs only (tests are built by scripts/test.sh).
cmake --build build -j "$(nproc)" --target peerctl peercomputed peergateway
B=$PWD/build/bin
IMAGE=127.0.0.1:5055/peercompute/demo-web:2

DEMO=$(mktemp -d /tmp/peercompute-demo.XXXXXX)
DEV=$DEMO/developer
PROV=$DEMO/provider
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
dev() { PEERCOMPUTE_HOME=$DEV "$B/peerctl" "$@"; }

say "peerctl init   (developer)"
dev init
say "peerctl init   (provider)"
PEERCOMPUTE_HOME=$PROV "$B/peerctl" init
DEV_ID=$(dev id)
PROV_ID=$(PEERCOMPUTE_HOME=$PROV "$B/peerctl" id)
say "peerctl peers add $DEV_ID --name developer   (provider trusts the developer)"
PEERCOMPUTE_HOME=$PROV "$B/peerctl" peers add "$DEV_ID" --name developer

GW=$DEMO/gateway
say "peergateway providers add $PROV_ID --name provider --data-dir $GW   (the gateway allows the provider)"
"$B/peergateway" --data-dir "$GW" providers add "$PROV_ID" --name provider
say "peergateway --data-dir $GW --http-port 0 --tunnel-listen /ip4/127.0.0.1/tcp/0 --admin-listen 127.0.0.1:0 &"
"$B/peergateway" --data-dir "$GW" --http-port 0 --tunnel-listen /ip4/127.0.0.1/tcp/0 \
  --admin-listen 127.0.0.1:0 >"$DEMO/gateway.log" 2>&1 &
GATEWAY_PID=$!
trap 'kill $GATEWAY_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q "HTTP listening" "$DEMO/gateway.log" && break; sleep 0.1; done
cat "$DEMO/gateway.log"
GW_ADDR=$(awk '/Tunnel listening on/ {print $4; exit}' "$DEMO/gateway.log")

say "peercomputed --data-dir $PROV --listen /ip4/127.0.0.1/tcp/0 --allow-registry 127.0.0.1:5055 --gateway $GW_ADDR --admin-listen 127.0.0.1:0 &"
"$B/peercomputed" --data-dir "$PROV" --listen /ip4/127.0.0.1/tcp/0 \
  --allow-registry 127.0.0.1:5055 --gateway "$GW_ADDR" --admin-listen 127.0.0.1:0 \
  >"$DEMO/provider.log" 2>&1 &
PROVIDER_PID=$!
trap 'kill $PROVIDER_PID $GATEWAY_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q "tunnel: connected" "$DEMO/provider.log" && break; sleep 0.1; done
cat "$DEMO/provider.log"
ADDR=$(awk '/Listening on/ {print $3; exit}' "$DEMO/provider.log")

say "peerctl peers add $PROV_ID --name provider --addr ${ADDR%/p2p/*}   (developer trusts the provider)"
dev peers add "$PROV_ID" --name provider --addr "${ADDR%/p2p/*}"
say "peerctl ping provider -c 2"
dev ping provider -c 2 -i 0.2

# The provider also holds a Circuit Relay v2 reservation on the gateway: a developer who cannot
# reach it directly (NAT, no inbound port) dials it through the gateway; on a network that allows
# it, the two then punch a direct connection (DCUtR) and ping's path line says so.
for _ in $(seq 1 100); do grep -q "Relayed address:" "$DEMO/provider.log" && break; sleep 0.1; done
RELAYED=$(awk '/Relayed address:/ {print $3; exit}' "$DEMO/provider.log")
say "peerctl ping $RELAYED -c 2   (through the gateway's relay)"
dev ping "$RELAYED" -c 2 -i 0.2

say "peerctl deploy $IMAGE --peer provider --expose 8080 --cpu 0.5 --memory 64M"
dev deploy "$IMAGE" --peer provider --expose 8080 --cpu 0.5 --memory 64M | tee "$DEMO/deploy.out"
DEP=$(awk '/^Deployment/ {print $2}' "$DEMO/deploy.out")
URL=$(awk '/url:/ {print $2}' "$DEMO/deploy.out")

say "curl $URL   (public URL: gateway → tunnel → container)"
curl -sS --max-time 10 "$URL"
say "peerctl status"
dev status
say "peerctl top --no-stream   (CPU, memory and network of your deployments)"
dev top --no-stream
say "peerctl logs $DEP"
dev logs "$DEP"
GW_ADMIN=$(grep -o 'Admin listening on http://[0-9.:]*' "$DEMO/gateway.log" | head -1 | cut -d' ' -f4)
PROV_ADMIN=$(grep -o 'Admin listening on http://[0-9.:]*' "$DEMO/provider.log" | head -1 | cut -d' ' -f4)
say "curl $GW_ADMIN/metrics | grep requests_total   (the operator's view; dashboards at $GW_ADMIN/ and $PROV_ADMIN/)"
curl -sS --max-time 5 "$GW_ADMIN/metrics" | grep '^peergateway_http_requests_total' || true
curl -sS --max-time 5 "$PROV_ADMIN/metrics" | grep '^peercomputed_deployments{' || true

STRANGER=$DEMO/stranger
PEERCOMPUTE_HOME=$STRANGER "$B/peerctl" init >/dev/null
PEERCOMPUTE_HOME=$STRANGER "$B/peerctl" peers add "$PROV_ID" --name provider --addr "${ADDR%/p2p/*}" >/dev/null
say "peerctl stop $DEP --peer provider   (a stranger the provider does not trust)"
PEERCOMPUTE_HOME=$STRANGER "$B/peerctl" stop "$DEP" --peer provider || echo "(refused, as it must be)"

say "peerctl stop $DEP"
dev stop "$DEP"
say "peerctl status $DEP"
dev status "$DEP"
say "tail -4 $PROV/audit.jsonl   (the provider's audit log)"
tail -4 "$PROV/audit.jsonl"
say "curl -i $URL   (after the stop: the route is gone)"
curl -sS -i --max-time 10 "$URL" | head -1
kill $PROVIDER_PID $GATEWAY_PID 2>/dev/null; wait $PROVIDER_PID $GATEWAY_PID 2>/dev/null || true
echo
echo "Demo state is in $DEMO (developer/, provider/, gateway/ and stranger/ homes, provider.log, gateway.log)."
