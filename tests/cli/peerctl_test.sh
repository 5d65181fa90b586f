#!/usr/bin/env bash
# Drives the real peerctl binary the way a user does: identity creation, trust list edits, bad
# input that must fail with a message and leave the trust file byte-for-byte unchanged, and
# concurrent writers that must not lose entries.
set -uo pipefail
PEERCTL=${1:?usage: peerctl_test.sh path/to/peerctl}
PC_SUITE=cli-peerctl
# shellcheck source=../lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
export PEERCOMPUTE_HOME=$W/home
expect_fail() {  # expect_fail "description" "needle in stderr" cmd...
  local what=$1 needle=$2; shift 2
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [ $rc -ne 0 ] && grep -qF -- "$needle" <<<"$out"; then ok "$what"; else ko "$what (rc=$rc: $out)"; fi
}
KAT=12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB
OTHER=12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA

out=$("$PEERCTL" init) && grep -qE '^Peer ID: 12D3KooW[1-9A-HJ-NP-Za-km-z]{44}$' <<<"$out" \
  && ok "init prints a 12D3KooW peer id" || ko "init: $out"
[ "$(stat -c %a "$PEERCOMPUTE_HOME")" = 700 ] && ok "home is 0700" || ko "home mode"
[ "$(stat -c %a "$PEERCOMPUTE_HOME/identity.key")" = 600 ] && ok "key is 0600" || ko "key mode"
SELF=$("$PEERCTL" id)
grep -qF "$SELF" <<<"$out" && ok "id matches init" || ko "id $SELF"
expect_fail "init refuses to overwrite" "--force" "$PEERCTL" init
[ "$("$PEERCTL" id)" = "$SELF" ] && ok "identity unchanged" || ko "identity changed"
"$PEERCTL" init --force >/dev/null && [ "$("$PEERCTL" id)" != "$SELF" ] && ok "init --force replaces" || ko "--force"
SELF=$("$PEERCTL" id)

"$PEERCTL" peers add "$KAT" --name alice --addr /ip4/127.0.0.1/tcp/9000 >/dev/null && ok "add alice" || ko "add alice"
TRUST=$PEERCOMPUTE_HOME/trusted_peers.json
[ "$(stat -c %a "$TRUST")" = 600 ] && ok "trust file 0600" || ko "trust file mode"
before=$(sha256sum <"$TRUST")
expect_fail "invalid id" "peer id" "$PEERCTL" peers add 12D3KooWnotanid --name x
expect_fail "duplicate name" "already used" "$PEERCTL" peers add "$OTHER" --name alice
expect_fail "duplicate id" "already trusted" "$PEERCTL" peers add "$KAT" --name bob
expect_fail "bad multiaddr names component" "tcp port" "$PEERCTL" peers add "$OTHER" --addr /ip4/1.2.3.4/tcp/70000
expect_fail "bad name" "may contain only" "$PEERCTL" peers add "$OTHER" --name 'bad name'
expect_fail "own id" "own Peer ID" "$PEERCTL" peers add "$SELF"
expect_fail "remove unknown" "no trusted peer" "$PEERCTL" peers remove nobody
[ "$(sha256sum <"$TRUST")" = "$before" ] && ok "trust file byte-for-byte unchanged" || ko "trust file changed"

"$PEERCTL" peers add "$OTHER" --name bob >/dev/null || ko "add bob"
"$PEERCTL" peers list | grep -q "^bob .*$OTHER" && ok "list shows bob" || ko "list"
json=$("$PEERCTL" peers list -o json)
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert [p["name"] for p in d]==["alice","bob"]; assert d[0]["addrs"]==["/ip4/127.0.0.1/tcp/9000"]' "$json" \
  && ok "list -o json" || ko "json: $json"
"$PEERCTL" peers remove "$OTHER" >/dev/null && ok "remove by id" || ko "remove by id"
"$PEERCTL" peers remove alice >/dev/null && ok "remove by name" || ko "remove by name"

# 16 concurrent writers, one peer each: nothing lost, file stays valid.
pids=()
for i in $(seq 1 16); do
  key=$(mktemp -d)
  ( PEERCOMPUTE_HOME=$key "$PEERCTL" init >/dev/null && id=$(PEERCOMPUTE_HOME=$key "$PEERCTL" id) \
    && "$PEERCTL" peers add "$id" --name "c$i" >/dev/null; rm -rf "$key" ) &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || ko "concurrent writer failed"; done
n=$("$PEERCTL" peers list -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" = 16 ] && ok "16 concurrent adds, 16 entries" || ko "concurrent adds kept $n of 16"

# Docker's spellings of deploy flags reach the same checks as ours (refused before any dialing).
expect_fail "deploy -e is --env" "--env BAD: expected NAME=value" "$PEERCTL" deploy img --peer x -e BAD
expect_fail "deploy -m is --memory" "--memory: '12Q'" "$PEERCTL" deploy img --peer x -m 12Q
expect_fail "deploy --cpus is --cpu" "--cpu: '0x'" "$PEERCTL" deploy img --peer x --cpus 0x
expect_fail "deploy --pull takes missing, always or never" "--pull: sometimes not in {missing,always,never}" \
  "$PEERCTL" deploy img --peer x --pull sometimes
"$PEERCTL" deploy --help | grep -q -- "--pull TEXT:{missing,always,never}=missing" &&
  ok "deploy --help shows --pull and its default" || ko "deploy --help has no --pull"
out=$("$PEERCTL" status -q 2>/dev/null); rc=$?
[ $rc -eq 0 ] && [ -z "$out" ] && ok "status -q with no deployments prints nothing" || ko "status -q: rc=$rc $out"
expect_fail "status -q and -o exclude each other" "excludes" "$PEERCTL" status -q -o json

chmod 644 "$PEERCOMPUTE_HOME/identity.key"
expect_fail "world-readable key refused with fix" "chmod 600" "$PEERCTL" id
chmod 600 "$PEERCOMPUTE_HOME/identity.key"
echo '{"version":1,"peers":[' >"$TRUST"
expect_fail "corrupt trust file refused" "corrupt" "$PEERCTL" peers list

[ $fails -eq 0 ] && echo "all peerctl checks passed" || echo "$fails peerctl checks failed"
exit $((fails > 0))
