#!/usr/bin/env bash
# Provider benchmarks (issue 5), anchors measured in the same run. Not part of the test suite.
#  1. Deploy round trip excluding the pull (protocol + scheduler + DockerRuntime) vs the Docker
#     API call alone (DockerRuntime::createAndStart), interleaved, N runs (default 20).
#  2. Log delivery: a line written in a container (stamped by the engine) → printed by
#     `peerctl logs -f`, vs the engine's own `docker logs -f` on the same container.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-20}
./scripts/test.d/10-docker.sh >/dev/null
cmake -S . -B build/bench-provider -G Ninja -DCMAKE_BUILD_TYPE=Release -DPC_TESTS=OFF >/dev/null
cmake --build build/bench-provider --target bench_provider_deploy peerctl peercomputed -j "$(nproc)" >/dev/null
B=build/bench-provider/bin

echo "== deploy round trip (excl. pull) vs createAndStart =="
"$B/bench_provider_deploy" "$RUNS"

echo
echo "== log delivery: line written → printed =="
W=$(mktemp -d)
trap 'kill $PID 2>/dev/null; rm -rf "$W"' EXIT
PEERCOMPUTE_HOME=$W/dev "$B/peerctl" init >/dev/null
PEERCOMPUTE_HOME=$W/prov "$B/peerctl" peers add "$(PEERCOMPUTE_HOME=$W/dev "$B/peerctl" id)" >/dev/null
"$B/peercomputed" --data-dir "$W/prov" --listen /ip4/127.0.0.1/tcp/0 --allow-registry 127.0.0.1:5055 >"$W/prov.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do grep -q "Listening on" "$W/prov.log" && break; sleep 0.1; done
ADDR=$(awk '/Listening on/ {print $3; exit}' "$W/prov.log")
PEERCOMPUTE_HOME=$W/dev "$B/peerctl" peers add "${ADDR##*/p2p/}" --name prov --addr "${ADDR%/p2p/*}" >/dev/null
# 20 lines per second from inside the container.
PEERCOMPUTE_HOME=$W/dev "$B/peerctl" deploy 127.0.0.1:5055/peercompute/busybox:test --peer prov \
  -- sh -c 'i=0; while true; do i=$((i+1)); echo tick $i; usleep 50000; done' >"$W/dep.out"
DEP=$(awk '/^Deployment/ {print $2}' "$W/dep.out")
CID=$(docker ps -q --filter "label=peercompute.deployment-id=$DEP")
SECS=${LOG_SECONDS:-20}
printf "peerctl logs -f   : "
python3 bench/provider/logs_latency.py "$SECS" env PEERCOMPUTE_HOME=$W/dev "$B/peerctl" logs -f -t --tail 0 "$DEP"
printf "docker logs -f    : "
python3 bench/provider/logs_latency.py "$SECS" docker logs -f -t --tail 0 "$CID"
PEERCOMPUTE_HOME=$W/dev "$B/peerctl" stop --force "$DEP" >/dev/null
