#!/usr/bin/env bash
# The provider end to end against the real dockerd, through the CLI: deploy a web image pulled
# from the local registry, fetch it, status, logs (and --follow seeing a line written after it
# began), stop; refusals (untrusted peer, forged / replayed / stale / misattributed requests,
# over capacity, per-peer quota, another peer's deployment); kill -9 of the provider while a
# deployment runs, restart, and the deployment is still listed, running, reachable and stoppable.
# Then the image quota, and the pull policy (--pull missing|always|never) with a dead registry.
#
#   provider_e2e.sh <peerctl> <peercomputed> <provider_probe>
set -uo pipefail
PEERCTL=${1:?usage}
DAEMON=${2:?usage}
PROBE=${3:?usage}
IMAGE=127.0.0.1:5055/peercompute/demo-web:2
PC_SUITE=e2e
# shellcheck source=../lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
DPID=
# References the engine holds under registries nothing answers on (ports 1 and 2 of loopback).
DEAD=127.0.0.1:1/peercompute/pull:$$
DENIED=127.0.0.1:2/peercompute/pull:$$
suite_cleanup() {
  docker rmi "$DEAD" "$DENIED" >/dev/null 2>&1
  [ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null
  for id in $(dep_ids); do docker rm -f "pc-$id" >/dev/null 2>&1; done
  return 0
}
as() { local who=$1; shift; PEERCOMPUTE_HOME=$W/$who "$PEERCTL" "$@"; }

for who in alice bob carol mallory; do as $who init >/dev/null; done
# Not cached locally, so the first deploy really pulls it from the registry (with progress).
docker rmi "$IMAGE" >/dev/null 2>&1 || true
PROV_HOME=$W/prov
for who in alice bob carol; do
  PEERCOMPUTE_HOME=$PROV_HOME "$PEERCTL" peers add "$(as $who id)" --name $who >/dev/null
done

start_provider() {
  # Emptied here, not by the child's redirection: waiting on a log that still holds the last
  # run's "listening" line would return before the new process listens.
  : >"$W/prov.log"
  "$DAEMON" --data-dir "$PROV_HOME" --listen "${1:-/ip4/127.0.0.1/tcp/0}" \
    --allow-registry 127.0.0.1:5055 --max-deployments 3 --max-per-peer 2 --stop-grace 2s \
    >"$W/prov.log" 2>&1 &
  DPID=$!
  for _ in $(seq 1 100); do grep -q "Listening on" "$W/prov.log" && break; sleep 0.1; done
}
start_provider
ADDR=$(awk '/Listening on/ {print $3; exit}' "$W/prov.log")
PROV=$(awk '/Peer ID/ {print $3; exit}' "$W/prov.log")
[ -n "$ADDR" ] && ok "provider started at $ADDR" || { ko "provider did not start: $(cat "$W/prov.log")"; exit 1; }
for who in alice bob carol mallory; do as $who peers add "$PROV" --name prov --addr "${ADDR%/p2p/*}" >/dev/null; done

# -- untrusted peer ---------------------------------------------------------------------------
out=$(as mallory status --peer prov 2>&1) && ko "untrusted peer got an answer: $out" || {
  grep -q "does not trust us" <<<"$out" && ok "untrusted peer refused before any protocol" || ko "untrusted: $out"; }
sleep 0.2
grep -q "\"event\":\"connection_refused\",\"peer\":\"$(as mallory id)\"" "$PROV_HOME/audit.jsonl" &&
  ok "refused connection in audit.jsonl" || ko "no connection_refused audit record"

# -- deploy, fetch, status, logs ---------------------------------------------------------------
as alice deploy "$IMAGE" --peer prov --expose 8080 --env GREETING=hi >"$W/deploy.out" 2>&1
rc=$?
DEP=$(grep -o 'dep-[a-z2-7]\{16\}' "$W/deploy.out" | head -1)
URL=$(awk '/url:/ {print $2}' "$W/deploy.out")
if [ $rc -eq 0 ] && grep -q "state: running" "$W/deploy.out" && [ -n "$URL" ]; then
  ok "deploy: $DEP running at $URL"
else
  ko "deploy (rc $rc): $(cat "$W/deploy.out")"
fi
grep -q "pulling image" "$W/deploy.out" && grep -q "100%" "$W/deploy.out" &&
  ok "deploy showed pull progress" || ko "no pull progress: $(cat "$W/deploy.out")"
page=$(curl -sf --max-time 5 "$URL")
grep -q "Hello from Peer Compute" <<<"$page" && ok "fetched the page from the container" || ko "page: $page"
port=${URL#http://127.0.0.1:}; port=${port%/}
for ip in $(hostname -I 2>/dev/null); do
  curl -s --max-time 2 "http://$ip:$port/" >/dev/null && ko "published port answers on $ip" || true
done
ok "published port not reachable off loopback"

as alice status >"$W/status.out" 2>&1
grep -q "$DEP.*running" "$W/status.out" && grep -q "iB / 256 MiB" "$W/status.out" &&
  ok "status table: running, memory use shown" || ko "status: $(cat "$W/status.out")"
as alice status "$DEP" -o json >"$W/status-json.out" 2>&1
python3 - "$W/status-json.out" "$DEP" <<'PY' && ok "status -o json" || ko "status json: $(cat "$W/status-json.out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d) == 1 and d[0]["deployment_id"] == sys.argv[2] and d[0]["state"] == "running"
assert d[0]["memory_bytes"] > 0 and d[0]["memory_limit"] == 256 << 20 and "cpu_usage_millicores" in d[0]
assert d[0]["net_rx_bytes"] > 0 and d[0]["net_tx_bytes"] > 0
PY
# top: use now, and traffic between two refreshes shown as a rate.
as alice top --no-stream >"$W/top1.out" 2>&1
grep -q "^$DEP .*iB / 256 MiB" "$W/top1.out" && ok "top --no-stream: CPU, memory, network" ||
  ko "top --no-stream: $(cat "$W/top1.out")"
# The provider samples a deployment at most every 5 s (its stats cache) and says when; a rate
# spans two of its samples, so 8 refreshes a second apart see at least two, with requests
# flowing all along.
as alice top --interval 1s -n 8 >"$W/top2.out" 2>&1 &
topp=$!
while kill -0 "$topp" 2>/dev/null; do curl -s --max-time 2 "$URL" >/dev/null; sleep 0.2; done
wait "$topp"
[ "$(grep -c "^$DEP " "$W/top2.out")" = 8 ] && grep "^$DEP " "$W/top2.out" | tail -1 | grep -Eq "B/s +[0-9.]+ (B|KiB)/s$" &&
  ok "top -n 8: the requests show as network rates" || ko "top: $(cat "$W/top2.out")"
as alice logs "$DEP" >"$W/logs.out" 2>&1
grep -q "response:200" "$W/logs.out" && ok "logs show the request" || ko "logs: $(cat "$W/logs.out")"
as alice logs "$DEP" --tail 0 >"$W/tail0.out" 2>&1
[ ! -s "$W/tail0.out" ] && ok "logs --tail 0 is empty" || ko "tail 0: $(cat "$W/tail0.out")"

as alice logs "$DEP" --follow >"$W/follow.out" 2>&1 &
FPID=$!
for _ in $(seq 1 50); do grep -q "response:200" "$W/follow.out" && break; sleep 0.1; done
before=$(grep -c "response:404" "$W/follow.out")
curl -s --max-time 5 "${URL}written-after-follow-began" >/dev/null
for _ in $(seq 1 50); do [ "$(grep -c "response:404" "$W/follow.out")" -gt "$before" ] && break; sleep 0.1; done
[ "$(grep -c "response:404" "$W/follow.out")" -gt "$before" ] &&
  ok "logs --follow printed a line written after following began" || ko "follow: $(cat "$W/follow.out")"
kill $FPID 2>/dev/null; wait $FPID 2>/dev/null

# -- forged, replayed, stale, misattributed requests against the real daemon -------------------
out=$("$PROBE" "$W/alice" "$ADDR" forged)
grep -q "^error bad_signature" <<<"$out" && ok "forged signature refused" || ko "forged: $out"
out=$("$PROBE" "$W/alice" "$ADDR" replay)
[ "$(sed -n 1p <<<"$out")" = "ok status_response" ] && grep -q "^error replay" <<<"$(sed -n 2p <<<"$out")" &&
  ok "replayed request refused" || ko "replay: $out"
out=$("$PROBE" "$W/alice" "$ADDR" stale)
grep -q "^error clock_skew" <<<"$out" && ok "stale timestamp refused" || ko "stale: $out"
out=$("$PROBE" "$W/bob" "$ADDR" mismatch "$W/alice")
grep -q "^error requester_mismatch" <<<"$out" && ok "request signed by another peer refused" || ko "mismatch: $out"
for ev in bad_signature replay clock_skew requester_mismatch; do
  grep -q "\"event\":\"$ev\"" "$PROV_HOME/audit.jsonl" || ko "no $ev audit record"
done

# -- isolation and capacity --------------------------------------------------------------------
out=$(as bob stop "$DEP" --peer prov 2>&1) && ko "bob stopped alice's deployment" || {
  grep -q "not_found" <<<"$out" && ok "another peer cannot stop it" || ko "bob stop: $out"; }
out=$(as bob logs "$DEP" --peer prov 2>&1) && ko "bob read alice's logs" || ok "another peer cannot read its logs"
out=$(as bob status --peer prov 2>&1)
grep -q "$DEP" <<<"$out" && ko "bob sees alice's deployment" || ok "another peer does not see it in status"

as alice deploy "$IMAGE" --peer prov >"$W/deploy2.out" 2>&1 && ok "second deployment" || ko "deploy 2: $(cat "$W/deploy2.out")"
out=$(as alice deploy "$IMAGE" --peer prov 2>&1) && ko "third deployment of one peer accepted" || {
  grep -q "max_per_peer" <<<"$out" && ok "per-peer quota refused, naming max_per_peer" || ko "quota: $out"; }
as bob deploy "$IMAGE" --peer prov >"$W/deploy-bob.out" 2>&1 && ok "bob deploys" || ko "bob deploy: $(cat "$W/deploy-bob.out")"
out=$(as carol deploy "$IMAGE" --peer prov 2>&1) && ko "over capacity accepted" || {
  grep -q "max_deployments" <<<"$out" && ok "over capacity refused, naming max_deployments" || ko "capacity: $out"; }
grep -q '"event":"deploy_refused"' "$PROV_HOME/audit.jsonl" && ok "refusals audited" || ko "no deploy_refused record"

# -- kill -9 and restart ------------------------------------------------------------------------
kill -9 "$DPID"; wait "$DPID" 2>/dev/null; DPID=
curl -sf --max-time 5 "$URL" >/dev/null && ok "container keeps serving while the provider is down" || ko "container died with the provider"
start_provider "${ADDR%/p2p/*}"
out=$(as alice status "$DEP" 2>&1)
grep -q "$DEP.*running" <<<"$out" && ok "after kill -9 and restart: still listed and running" || ko "after restart: $out; provider log: $(cat "$W/prov.log")"
grep -q "$DEP adopted" "$W/prov.log" && ok "provider re-adopted the container" || ko "no adoption log"
curl -sf --max-time 5 "$URL" | grep -q "Hello" && ok "still reachable after restart" || ko "not reachable after restart"
as alice status -w >"$W/watch.out" 2>&1 &
watchp=$!
wait_for "$W/watch.out" "$DEP" 50 || true
t0=$(date +%s%N)
out=$(as alice stop "$DEP" 2>&1)
t1=$(date +%s%N)
wait_for "$W/watch.out" "$DEP .* → stopped" 50 && ok "status -w printed the change: $(grep -o "$DEP .* → stopped" "$W/watch.out" | tail -1)" ||
  ko "status -w: $(cat "$W/watch.out")"
kill "$watchp" 2>/dev/null; wait "$watchp" 2>/dev/null
grep -q "$DEP stopped" <<<"$out" && ok "stoppable after restart (graceful stop took $(((t1 - t0) / 1000000)) ms)" || ko "stop: $out"
[ -z "$(docker ps -aq --filter "label=peercompute.deployment-id=$DEP")" ] && ok "container removed" || ko "container left behind"
curl -s --max-time 2 "$URL" >/dev/null && ko "stopped deployment still answers" || ok "stopped deployment no longer answers"
out=$(as alice status "$DEP" 2>&1)
grep -q "stopped" <<<"$out" && ok "status says stopped" || ko "status after stop: $out"

# -- a program that exits on its own: status says failed, with the exit code and why -----------
as carol deploy "$IMAGE" --peer prov -- sh -c 'echo bye; exit 3' >"$W/deploy-carol.out" 2>&1
CDEP=$(grep -o 'dep-[a-z2-7]\{16\}' "$W/deploy-carol.out" | head -1)
for _ in $(seq 1 50); do as carol status "$CDEP" >"$W/status-carol.out" 2>&1; grep -q failed "$W/status-carol.out" && break; sleep 0.1; done
grep -q "$CDEP.*failed (exit 3)" "$W/status-carol.out" && grep -q "^$CDEP: .*code 3" "$W/status-carol.out" &&
  ok "status of a program that exited: failed (exit 3), with the reason" || ko "failed status: $(cat "$W/status-carol.out")"
as carol status "$CDEP" -o json | python3 -c 'import json,sys; d=json.load(sys.stdin)[0]; assert d["state"]=="failed" and d["exit_code"]==3 and "3" in d["error"]' &&
  ok "status -o json carries exit_code and error" || ko "failed status json"

# Clean up the rest through the product itself.
for f in deploy2 deploy-bob deploy-carol; do
  id=$(grep -o 'dep-[a-z2-7]\{16\}' "$W/$f.out" | head -1)
  who=alice; [ $f = deploy-bob ] && who=bob; [ $f = deploy-carol ] && who=carol
  [ -n "$id" ] && as $who stop "$id" --force >/dev/null 2>&1
done
kill -TERM "$DPID"; wait "$DPID"; rc=$?; DPID=
[ $rc -eq 0 ] && ok "SIGTERM stops the provider cleanly" || ko "provider exit $rc"

# -- image quota and removal of unused images (issue 14 item 9) ---------------------------------
# Two references this engine does not have (new tags of the test image in the local registry):
# the provider pulls them, so they are its own to remove. 1.98 MB each; the quota is 3 MiB a peer.
BASE=127.0.0.1:5055/peercompute/busybox:test
QA=127.0.0.1:5055/peercompute/quota-a:$$
QB=127.0.0.1:5055/peercompute/quota-b:$$
for q in "$QA" "$QB"; do
  docker tag "$BASE" "$q" && docker push -q "$q" >/dev/null && docker rmi "$q" >/dev/null ||
    ko "could not prepare $q in the local registry"
done
P2=$W/prov2
mkdir -m 700 "$P2"
printf 'max_image_size = "2M"\nmax_image_bytes_per_peer = "3M"\n' >"$P2/config.toml"
PEERCOMPUTE_HOME=$P2 "$PEERCTL" peers add "$(as alice id)" --name alice >/dev/null
"$DAEMON" --data-dir "$P2" --listen /ip4/127.0.0.1/tcp/0 --allow-registry 127.0.0.1:5055 \
  --allow-registry 127.0.0.1:1 --no-mdns >"$W/prov2.log" 2>&1 &
DPID=$!
for _ in $(seq 1 100); do grep -q "Listening on" "$W/prov2.log" && break; sleep 0.1; done
A2=$(awk '/Listening on/ {print $3; exit}' "$W/prov2.log")
as alice peers add "$(awk '/Peer ID/ {print $3; exit}' "$W/prov2.log")" --name prov2 \
  --addr "${A2%/p2p/*}" >/dev/null
as alice deploy "$QA" --peer prov2 >"$W/quota-a.out" 2>&1 && grep -q "state: running" "$W/quota-a.out" &&
  ok "deploy within the image quota runs" || ko "quota-a: $(cat "$W/quota-a.out")"
as alice deploy "$QB" --peer prov2 >"$W/quota-b.out" 2>&1
grep -q "max_image_bytes_per_peer" "$W/quota-b.out" && ! grep -q "state: running" "$W/quota-b.out" &&
  ok "deploy over the peer's image quota refused: $(grep -o 'image [^ ]* is .*max_image_bytes_per_peer' "$W/quota-b.out" | head -1)" ||
  ko "quota-b: $(cat "$W/quota-b.out")"
docker image inspect "$QB" >/dev/null 2>&1 && ko "refused image $QB left on disk" ||
  ok "the refused image, pulled by the provider, was removed"
QDEP=$(grep -o 'dep-[a-z2-7]\{16\}' "$W/quota-a.out" | head -1)
docker image inspect "$QA" >/dev/null 2>&1 && ok "image in use is kept" || ko "$QA removed while in use"
as alice stop "$QDEP" --peer prov2 --force >/dev/null 2>&1
docker image inspect "$QA" >/dev/null 2>&1 && ko "$QA left after its last deployment stopped" ||
  ok "unused image removed after stop"
docker image inspect "$BASE" >/dev/null 2>&1 && ok "the operator's image (same layers) is kept" ||
  ko "the operator's image $BASE was removed"

# -- pull policy (issue 16 item 4) ---------------------------------------------------------------
# The engine holds $DEAD, whose registry does not answer: --pull missing (the default) uses the
# local image, --pull always fails on the registry; --pull never of an absent image fails naming
# it; $DENIED, held too but off the allowlist, is refused whatever --pull says.
docker tag "$BASE" "$DEAD" && docker tag "$BASE" "$DENIED" || ko "could not tag $BASE"
as alice deploy "$DEAD" --peer prov2 -- sleep 600 >"$W/pull-missing.out" 2>&1
grep -q "state: running" "$W/pull-missing.out" && grep -q "not pulled" "$W/pull-missing.out" &&
  ok "--pull missing with the registry unreachable: the local image is used" ||
  ko "pull missing: $(cat "$W/pull-missing.out")"
grep -q '"event":"deploy_accepted".*"pull":"missing"' "$P2/audit.jsonl" &&
  ok "the pull policy is in the audit record" || ko "no pull policy in deploy_accepted"
out=$(as alice deploy "$DEAD" --peer prov2 --pull always -- sleep 600 2>&1)
grep -q "state: failed" <<<"$out" && grep -q "connection refused" <<<"$out" &&
  ok "--pull always fails on the registry: $(grep -o 'dial tcp.*' <<<"$out")" ||
  ko "pull always: $out"
out=$(as alice deploy "$DEAD-absent" --peer prov2 --pull never 2>&1)
grep -q "is not present on the provider and --pull never was asked" <<<"$out" &&
  ok "--pull never of an absent image fails naming it" || ko "pull never: $out"
for pull in never missing; do
  out=$(as alice deploy "$DENIED" --peer prov2 --pull $pull 2>&1)
  grep -q "allowed_registries" <<<"$out" && ! grep -q "state:" <<<"$out" &&
    ok "a disallowed image held locally is refused with --pull $pull" || ko "denied ($pull): $out"
done
as alice stop "$(grep -o 'dep-[a-z2-7]\{16\}' "$W/pull-missing.out" | head -1)" --peer prov2 --force >/dev/null 2>&1
docker image inspect "$DEAD" >/dev/null 2>&1 && ok "the local image used (not pulled) is kept after the stop" ||
  ko "$DEAD was removed: the provider counted it as pulled by itself"
kill -TERM "$DPID"; wait "$DPID"; DPID=
[ $fails -eq 0 ] && echo "all provider e2e checks passed" || echo "$fails provider e2e checks failed"
exit $((fails > 0))
