#!/usr/bin/env bash
# Provider faults against the real dockerd: kill -9 of peercomputed during an image pull, during
# a container start and while a deployment runs; the data dir's disk full; a corrupted and a
# truncated provider.db and trust file. After each fault the provider is started again with no
# manual step (except for damaged state, which it must refuse with a message saying how to
# recover) and the test checks that no deployment record and no audit record was lost, that no
# container was orphaned, and that the provider serves requests again.
#
#   provider_faults.sh <peerctl> <peercomputed>
PC_SUITE=provider-faults
source "$(dirname "$0")/lib.sh"
PEERCTL=${1:?usage}
DAEMON=${2:?usage}
HERE=$(cd "$(dirname "$0")" && pwd)
REG=127.0.0.1:5055
WEB=$REG/peercompute/demo-web:2
dev() { PEERCOMPUTE_HOME=$W/dev "$PEERCTL" "$@"; }

# -- a slow pull ------------------------------------------------------------------------------
# An image with a layer of its own (random content, so no other image shares it and the engine
# must download it), served through a proxy that sends blobs at 1 MiB/s: a pull takes seconds.
SLOW_REPO=peercompute/slowpull
slow_root() { head -c $((4 << 20)) /dev/urandom >"$1/ballast"; }
test_image "$REG/$SLOW_REPO:1" slow_root 'CMD ["/bin/sleep", "3600"]'
python3 "$HERE/slow_registry.py" 0 "$REG" $((1 << 20)) >"$W/slowreg.log" 2>&1 &
PIDS+=($!)
wait_for "$W/slowreg.log" "^listening" || { ko "slow registry: $(cat "$W/slowreg.log")"; finish; }
SLOW=127.0.0.1:$(awk '/^listening/ {print $2}' "$W/slowreg.log")
SLOW_IMAGE=$SLOW/$SLOW_REPO:1
forget_slow_image() {
  for ref in "$SLOW_IMAGE" "$REG/$SLOW_REPO:1"; do docker rmi -f "$ref" >/dev/null 2>&1; done
}

# -- provider --------------------------------------------------------------------------------
dev init >/dev/null
P=$W/prov
PEERCOMPUTE_HOME=$P "$PEERCTL" peers add "$(dev id)" --name dev >/dev/null
DPID=
start_provider() {  # start_provider DATA_DIR [LISTEN]
  rotate_log "$W/prov.log"
  "$DAEMON" --data-dir "$1" --listen "${2:-/ip4/127.0.0.1/tcp/0}" --allow-registry "$REG" \
    --allow-registry "$SLOW" --stop-grace 1s >>"$W/prov.log" 2>&1 &
  DPID=$!
  PIDS+=($DPID)
  wait_for "$W/prov.log" "Listening on"
}
start_provider "$P" || { ko "provider did not start: $(cat "$W/prov.log")"; finish; }
ADDR=$(awk '/Listening on/ {print $3; exit}' "$W/prov.log")
LISTEN=${ADDR%/p2p/*}
dev peers add "$(awk '/Peer ID/ {print $3; exit}' "$W/prov.log")" --name prov --addr "$LISTEN" >/dev/null
ok "provider up at $ADDR"
deployment_of() { grep -o 'dep-[a-z2-7]\{16\}' "$1" | head -1; }
state_of() { dev status "$1" -o json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["state"])' 2>/dev/null; }
containers_of() { docker ps -aq --filter "label=peercompute.deployment-id=$1"; }
# Audit records written so far must survive every fault: the file after is the file before
# plus new records, and every line is complete JSON.
audit_snapshot() { cp "$P/audit.jsonl" "$W/audit.before"; }
audit_kept() {
  local n
  n=$(stat -c %s "$W/audit.before")
  cmp -s -n "$n" "$W/audit.before" "$P/audit.jsonl" && lines=$(audit_ok "$P/audit.jsonl") &&
    ok "$1: audit.jsonl kept every earlier record ($lines complete records)" ||
    ko "$1: audit records lost or torn"
}

# -- kill -9 during the pull ------------------------------------------------------------------
forget_slow_image
audit_snapshot
dev deploy "$SLOW_IMAGE" --peer prov --cpu 0.1 --memory 32M >"$W/pull.out" 2>&1 &
CLI=$!
wait_for "$W/pull.out" "pulling image" 150 && sleep 0.5
DEP_PULL=$(deployment_of "$W/pull.out")
kill9 "$DPID"
wait "$CLI"
rc=$?
[ -n "$DEP_PULL" ] && [ $rc -ne 0 ] && ok "kill -9 during the pull of $DEP_PULL: peerctl failed (rc $rc): $(tail -1 "$W/pull.out")" ||
  ko "kill during pull: rc $rc, $(cat "$W/pull.out")"
start_provider "$P" "$LISTEN" || ko "provider did not restart after kill -9 during a pull"
until_true 50 grep -q "$DEP_PULL: interrupted" "$W/prov.log"
st=$(state_of "$DEP_PULL")
[ "$st" = failed ] && grep -q "$DEP_PULL: interrupted: the provider restarted while deploying it" "$W/prov.log" &&
  ok "after restart: $DEP_PULL kept, failed, logged as interrupted by the restart" || ko "pull deployment after restart: '$st' $(dev status "$DEP_PULL" 2>&1)"
[ -z "$(containers_of "$DEP_PULL")" ] && ok "no container left for the interrupted pull" || ko "container left for $DEP_PULL"
audit_kept "kill during pull"
dev deploy "$SLOW_IMAGE" --peer prov --cpu 0.1 --memory 32M >"$W/pull2.out" 2>&1 &&
  grep -q "state: running" "$W/pull2.out" && ok "the same image deploys after the restart (capacity released)" ||
  ko "redeploy after pull fault: $(cat "$W/pull2.out")"
DEP_RUN=$(deployment_of "$W/pull2.out")

# -- kill -9 during the container start --------------------------------------------------------
docker pull -q "$WEB" >/dev/null 2>&1  # cached: the deploy goes straight to starting
audit_snapshot
dev deploy "$WEB" --peer prov --expose 8080 --cpu 0.1 --memory 32M >"$W/start.out" 2>&1 &
CLI=$!
for _ in $(seq 1 300); do grep -q "starting dep-" "$W/start.out" && break; sleep 0.01; done
kill9 "$DPID"
wait "$CLI"
rc=$?
DEP_START=$(deployment_of "$W/start.out")
grep -q "starting dep-" "$W/start.out" && [ $rc -ne 0 ] && ok "kill -9 while $DEP_START was starting: peerctl failed (rc $rc)" ||
  ko "kill during start: rc $rc, $(cat "$W/start.out")"
# The engine may still create and start the container after its client died: give it time to.
sleep 2
start_provider "$P" "$LISTEN" || ko "provider did not restart after kill -9 during a start"
until_true 50 grep -q "$DEP_START: interrupted" "$W/prov.log"
st=$(state_of "$DEP_START")
[ "$st" = failed ] && ok "after restart: $DEP_START kept, failed (interrupted)" || ko "start deployment after restart: '$st'"
until_true 50 test -z "$(containers_of "$DEP_START")" && ok "the half-started container was removed" ||
  ko "container left for $DEP_START: $(containers_of "$DEP_START")"
audit_kept "kill during start"

# -- kill -9 while running ---------------------------------------------------------------------
audit_snapshot
kill9 "$DPID"
[ "$(docker inspect -f '{{.State.Running}}' "$(containers_of "$DEP_RUN")" 2>/dev/null)" = true ] &&
  ok "container of $DEP_RUN keeps running while the provider is down" || ko "container died with the provider"
start_provider "$P" "$LISTEN" || ko "provider did not restart after kill -9 while running"
[ "$(state_of "$DEP_RUN")" = running ] && grep -q "$DEP_RUN adopted" "$W/prov.log" &&
  ok "after restart: $DEP_RUN re-adopted and running" || ko "running deployment after restart: $(dev status "$DEP_RUN" 2>&1)"
audit_kept "kill while running"

# -- disk full ------------------------------------------------------------------------------------
# The data dir on a 4 MiB tmpfs, filled up while the provider runs.
FULL=$W/full
mkdir -p "$FULL"
if mount -t tmpfs -o size=4m,mode=0700 tmpfs "$FULL"; then
  trap 'umount -l "$FULL" 2>/dev/null; lib_cleanup' EXIT
  cp -p "$P/identity.key" "$P/trusted_peers.json" "$FULL/"
  kill -TERM "$DPID"
  wait "$DPID"
  start_provider "$FULL" "$LISTEN" || ko "provider on the small disk did not start: $(cat "$W/prov.log")"
  dev deploy "$WEB" --peer prov --cpu 0.1 --memory 32M >"$W/full1.out" 2>&1 &&
    ok "deploy on the small disk" || ko "deploy on the small disk: $(cat "$W/full1.out")"
  DEP_FULL=$(deployment_of "$W/full1.out")
  dd if=/dev/zero of="$FULL/filler" bs=64k 2>/dev/null
  dd if=/dev/zero of="$FULL/filler2" bs=1 2>/dev/null  # the last partial block
  out=$(dev deploy "$WEB" --peer prov --cpu 0.1 --memory 32M 2>&1) && ko "deploy succeeded on a full disk: $out" || {
    grep -qi "full\|space" <<<"$out" && ok "deploy on a full disk refused clearly: $(tail -1 <<<"$out")" ||
      ko "deploy on a full disk: unclear error: $out"; }
  out=$(dev status --peer prov 2>&1)
  info "status on a full disk: $(tail -1 <<<"$out")"
  kill -0 "$DPID" 2>/dev/null && ok "provider still alive with its disk full" || ko "provider died when its disk filled: $(tail -5 "$W/prov.log")"
  rm -f "$FULL/filler" "$FULL/filler2"
  out=$(dev status "$DEP_FULL" 2>&1)
  grep -q "$DEP_FULL.*running" <<<"$out" && ok "space back: status answers, $DEP_FULL still running" || ko "status after space came back: $out"
  dev deploy "$WEB" --peer prov --cpu 0.1 --memory 32M >"$W/full2.out" 2>&1 &&
    ok "space back: deploy works again without a restart" || ko "deploy after space came back: $(cat "$W/full2.out")"
  lines=$(audit_ok "$FULL/audit.jsonl") && ok "audit.jsonl on the filled disk: $lines complete records, none torn" ||
    ko "audit.jsonl torn by the full disk: $(tail -c 300 "$FULL/audit.jsonl")"
  python3 - "$FULL/provider.db" <<'PY' && ok "provider.db passes integrity_check after the full disk" || ko "provider.db damaged by the full disk"
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
PY
  kill -TERM "$DPID"
  wait "$DPID"
  start_provider "$FULL" "$LISTEN" && [ "$(state_of "$DEP_FULL")" = running ] &&
    ok "restart after the full disk: $DEP_FULL still there and running" || ko "restart after full disk: $(tail -5 "$W/prov.log")"
  for f in full1 full2; do
    id=$(deployment_of "$W/$f.out")
    [ -n "$id" ] && dev stop "$id" --force >/dev/null 2>&1
  done
  kill -TERM "$DPID"
  wait "$DPID"
  umount -l "$FULL"
else
  ko "cannot mount a tmpfs for the disk-full case (needs root)"
fi

# -- damaged state files ------------------------------------------------------------------------
start_provider "$P" "$LISTEN" >/dev/null
kill -TERM "$DPID"
wait "$DPID"
before=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from deployments").fetchone()[0])' "$P/provider.db")
cp "$P/provider.db" "$W/db.good"
cp "$P/trusted_peers.json" "$W/trust.good"
dbsize=$(stat -c %s "$W/db.good")
refuses() {  # refuses WHAT FILE-PATTERN: the provider must exit non-zero, saying how to recover
  rotate_log "$W/prov.log"
  timeout 20 "$DAEMON" --data-dir "$P" --listen "$LISTEN" --allow-registry "$REG" >"$W/prov.log" 2>&1
  rc=$?
  if [ $rc -ne 0 ] && [ $rc -ne 124 ] && ! grep -q "Listening on" "$W/prov.log" &&
    grep -q "$2" "$W/prov.log" && grep -qi "move it aside\|move .* aside\|restore" "$W/prov.log"; then
    ok "$1: refused to start (rc $rc): $(grep -m1 error "$W/prov.log" | cut -c1-160)…"
  else
    ko "$1: rc $rc: $(cat "$W/prov.log")"
  fi
  cp "$W/db.good" "$P/provider.db"
  cp "$W/trust.good" "$P/trusted_peers.json"
  rm -f "$P/provider.db-wal" "$P/provider.db-shm"
}
: >"$P/provider.db"
refuses "provider.db truncated to 0 bytes" "provider.db"
truncate -s $((dbsize / 2)) "$P/provider.db"
refuses "provider.db truncated to half" "provider.db"
truncate -s 4096 "$P/provider.db"
refuses "provider.db truncated to its first page" "provider.db"
dd if=/dev/urandom of="$P/provider.db" bs=1 seek=$((dbsize / 2)) count=512 conv=notrunc 2>/dev/null
refuses "provider.db with scribbled pages" "provider.db"
dd if=/dev/urandom of="$P/provider.db" bs=1 seek=0 count=100 conv=notrunc 2>/dev/null
refuses "provider.db with a scribbled header" "provider.db"
: >"$P/trusted_peers.json"
refuses "trusted_peers.json truncated to 0 bytes" "trusted_peers.json"
truncate -s $(($(stat -c %s "$W/trust.good") / 2)) "$P/trusted_peers.json"
refuses "trusted_peers.json truncated to half" "trusted_peers.json"
sed -i 's/"peer_id":"12D3KooW/"peer_id":"12D3KooX/' "$P/trusted_peers.json"
refuses "trusted_peers.json with a corrupted peer id" "trusted_peers.json"

start_provider "$P" "$LISTEN" || ko "provider did not start from the restored files"
after=$(dev status --peer prov -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$after" = "$before" ] && ok "restored files: all $after deployment records back" || ko "records: $before before, $after after"
[ "$(state_of "$DEP_RUN")" = running ] && ok "$DEP_RUN still running after all of it" || ko "$DEP_RUN: $(state_of "$DEP_RUN")"
dev stop "$DEP_RUN" --force >/dev/null 2>&1 && ok "stopped $DEP_RUN" || ko "stop $DEP_RUN"
kill -TERM "$DPID"
wait "$DPID"
forget_slow_image
finish
