#!/usr/bin/env bash
# peercomputed + peerctl ping over real sockets: mutual trust is required in both directions,
# refusals say what to do, and trust changes reach a running daemon without a restart.
set -uo pipefail
PEERCTL=${1:?usage: ping_test.sh peerctl peercomputed}
DAEMON=${2:?usage: ping_test.sh peerctl peercomputed}
PC_SUITE=cli-ping
# shellcheck source=../lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
DPID=
suite_cleanup() {
  [ -n "$DPID" ] && kill "$DPID" 2>/dev/null
  return 0
}
export PEERCOMPUTE_HOME=$W/dev
"$PEERCTL" init >/dev/null
DEV=$("$PEERCTL" id)

PEERCOMPUTE_HOME=$W/prov "$DAEMON" --listen /ip4/127.0.0.1/tcp/0 >"$W/prov.log" 2>&1 &
DPID=$!
for _ in $(seq 1 100); do grep -q Listening "$W/prov.log" && break; sleep 0.1; done
ADDR=$(awk '/Listening on/ {print $3}' "$W/prov.log")
PROV=$(awk '/Peer ID/ {print $3}' "$W/prov.log")
[[ $PROV == 12D3KooW* && $ADDR == /ip4/127.0.0.1/tcp/*/p2p/$PROV ]] && ok "daemon prints its id and address" || ko "daemon output: $(cat "$W/prov.log")"
[ "$(stat -c %a "$W/prov/identity.key")" = 600 ] && ok "daemon created a 0600 identity" || ko "daemon key mode"

out=$("$PEERCTL" ping "$ADDR" -c 1 2>&1) && ko "ping of an untrusted provider succeeded" || \
  { grep -q "not a trusted peer" <<<"$out" && ok "dialer refuses an untrusted provider" || ko "untrusted provider: $out"; }
"$PEERCTL" peers add "$PROV" --name prov --addr "${ADDR%/p2p/*}" >/dev/null
out=$("$PEERCTL" ping prov -c 1 2>&1) && ko "provider accepted an untrusted developer" || \
  { grep -q "does not trust us" <<<"$out" && ok "provider refuses an untrusted developer, message says why" || ko "untrusted developer: $(tr "\n" " " <<<"$out")"; }
grep -q "refused.*$DEV.*not trusted" "$W/prov.log" && ok "provider logged the refusal with the peer id" || ko "no refusal log"

PEERCOMPUTE_HOME=$W/prov "$PEERCTL" peers add "$DEV" --name dev >/dev/null   # daemon still running
out=$("$PEERCTL" ping prov -c 3 -i 0.1 2>&1)
if [ $? -eq 0 ] && grep -q "security /noise, muxer /yamux/1.0.0" <<<"$out" && [ "$(grep -c "reply from $PROV" <<<"$out")" = 3 ]; then
  ok "mutual trust: 3 pings by name, security and muxer shown (trust reloaded live)"
else
  ko "ping: $out"
fi
out=$("$PEERCTL" ping "$ADDR" -c 1 2>&1) && ok "ping by multiaddr" || ko "ping by multiaddr: $out"
out=$("$PEERCTL" status --peer prov 2>&1) && [ "$out" = "no deployments" ] && ok "status of a provider with nothing of ours" || ko "status: $out"
out=$("$PEERCTL" status --peer prov -o json 2>&1) && [ "$out" = "[]" ] && ok "status -o json: an empty array" || ko "status json: $out"
out=$("$PEERCTL" status --peer prov -q 2>&1) && [ -z "$out" ] && ok "status -q: no ids" || ko "status -q: $out"
OTHER=$(PEERCOMPUTE_HOME=$W/x "$PEERCTL" init | awk '/Peer ID/ {print $3}')
out=$("$PEERCTL" ping "${ADDR%/p2p/*}/p2p/$OTHER" -c 1 2>&1) && ko "wrong /p2p id accepted" || \
  { grep -q "proved" <<<"$out" && ok "dialing the wrong /p2p id fails with the proven id" || ko "mismatch: $out"; }

# A peer that accepts TCP and then says nothing: the command ends at its deadline with one clear
# error (under ASan: and leaves nothing behind).
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
held = []
end = time.time() + 30
while time.time() < end:
    s.settimeout(0.5)
    try: held.append(s.accept())
    except OSError: pass
' >"$W/silent.port" &
SILENT=$!
for _ in $(seq 1 50); do [ -s "$W/silent.port" ] && break; sleep 0.1; done
out=$("$PEERCTL" ping "/ip4/127.0.0.1/tcp/$(head -1 "$W/silent.port")/p2p/$PROV" -c 1 --timeout 1 2>&1) && ko "ping of a silent peer succeeded" || {
  [ "$(wc -l <<<"$out")" = 1 ] && grep -q "no answer from .* within 1 s" <<<"$out" &&
    ok "a silent peer: one clear timeout error" || ko "silent peer: $out"; }
kill $SILENT 2>/dev/null; wait $SILENT 2>/dev/null

PEERCOMPUTE_HOME=$W/prov "$PEERCTL" peers remove dev >/dev/null
out=$("$PEERCTL" ping prov -c 1 2>&1) && ko "removed peer still accepted" || ok "removing trust takes effect without restart"

kill -TERM $DPID; wait $DPID; rc=$?
DPID=
[ $rc -eq 0 ] && grep -q "peercomputed stopped" "$W/prov.log" && ok "SIGTERM stops the daemon cleanly" || ko "shutdown rc=$rc"
[ $fails -eq 0 ] && echo "all ping checks passed" || echo "$fails ping checks failed"
exit $((fails > 0))
