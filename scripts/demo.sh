#!/usr/bin/env bash
# The main job, end to end on this machine: install dependencies, build, and show what Peer Compute
# does today. Until deploy lands (provider issue) this demonstrates identities, mutual trust and
# the libp2p stack: a developer and a provider create Ed25519 identities and trust each other,
# the provider daemon starts, the developer pings it over Noise + yamux, and a stranger is refused.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -B build -G Ninja >/dev/null
# The programs only (tests are built by scripts/test.sh).
cmake --build build -j "$(nproc)" --target peerctl peercomputed peergateway
B=$PWD/build/bin

DEMO=$(mktemp -d /tmp/peercompute-demo.XXXXXX)
DEV=$DEMO/developer
PROV=$DEMO/provider
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

say "peerctl init   (developer)"
PEERCOMPUTE_HOME=$DEV "$B/peerctl" init
say "peerctl init   (provider)"
PEERCOMPUTE_HOME=$PROV "$B/peerctl" init
DEV_ID=$(PEERCOMPUTE_HOME=$DEV "$B/peerctl" id)
PROV_ID=$(PEERCOMPUTE_HOME=$PROV "$B/peerctl" id)

say "peerctl peers add $PROV_ID --name provider --addr /ip4/127.0.0.1/tcp/9000   (developer)"
PEERCOMPUTE_HOME=$DEV "$B/peerctl" peers add "$PROV_ID" --name provider --addr /ip4/127.0.0.1/tcp/9000
say "peerctl peers add $DEV_ID --name developer   (provider)"
PEERCOMPUTE_HOME=$PROV "$B/peerctl" peers add "$DEV_ID" --name developer
say "peerctl peers list   (developer)"
PEERCOMPUTE_HOME=$DEV "$B/peerctl" peers list
say "peerctl peers list -o json   (provider)"
PEERCOMPUTE_HOME=$PROV "$B/peerctl" peers list -o json
say "peerctl id --cid   (developer)"
PEERCOMPUTE_HOME=$DEV "$B/peerctl" id --cid

say "peercomputed --data-dir $PROV --listen /ip4/127.0.0.1/tcp/0   (provider, in the background)"
"$B/peercomputed" --data-dir "$PROV" --listen /ip4/127.0.0.1/tcp/0 >"$DEMO/provider.log" 2>&1 &
PROVIDER_PID=$!
trap 'kill $PROVIDER_PID 2>/dev/null' EXIT
for _ in $(seq 1 100); do grep -q "Listening on" "$DEMO/provider.log" && break; sleep 0.1; done
cat "$DEMO/provider.log"
ADDR=$(awk '/Listening on/ {print $3; exit}' "$DEMO/provider.log")
# The provider listens on an ephemeral port: point the developer's entry for it there.
PEERCOMPUTE_HOME=$DEV "$B/peerctl" peers remove provider >/dev/null
PEERCOMPUTE_HOME=$DEV "$B/peerctl" peers add "$PROV_ID" --name provider --addr "${ADDR%/p2p/*}" >/dev/null

say "peerctl ping provider -c 3   (developer → provider over TCP + Noise + yamux)"
PEERCOMPUTE_HOME=$DEV "$B/peerctl" ping provider -c 3 -i 0.2

STRANGER=$DEMO/stranger
PEERCOMPUTE_HOME=$STRANGER "$B/peerctl" init >/dev/null
PEERCOMPUTE_HOME=$STRANGER "$B/peerctl" peers add "$PROV_ID" --name provider >/dev/null
say "peerctl ping $ADDR   (a stranger the provider does not trust)"
PEERCOMPUTE_HOME=$STRANGER "$B/peerctl" ping "$ADDR" -c 1 || echo "(refused, as it must be)"
sleep 0.3
say "provider log (the refusal is logged with the stranger's Peer ID)"
cat "$DEMO/provider.log"
kill $PROVIDER_PID 2>/dev/null; wait $PROVIDER_PID 2>/dev/null || true
echo
echo "Demo state is in $DEMO (developer/, provider/ and stranger/ homes)."
