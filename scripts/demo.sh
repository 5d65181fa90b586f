#!/usr/bin/env bash
# The main job, end to end on this machine: install dependencies, build, and show what Peer Compute
# does today. Until the provider daemon lands this demonstrates identities and mutual trust:
# a developer and a provider each create an Ed25519 identity and trust each other by Peer ID.
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
say "ls -l $DEV"
ls -l "$DEV"
echo
echo "Demo state is in $DEMO (developer/ and provider/ homes)."
