#!/usr/bin/env bash
# js-libp2p ↔ js-libp2p anchor numbers on loopback, measured by the same harness
# (tests/interop/js/peer.mjs) that the C++ stack is compared with.
# Prints one JSON line per measurement on stdout (the peer's scenario objects plus "anchor" and
# "loadavg"); progress on stderr. Exit status is non-zero if any measurement failed.
#
#   CONNECTIONS=N   bench-connect connections (default 200)
#   BYTES=SIZE      bench-throughput bytes (default 1G)
#   STREAMS="1 16"  stream counts for bench-throughput
#   TARGET=MADDR    measure against an already running listener instead of starting js's
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
JS=$ROOT/tests/interop/js
CONNECTIONS=${CONNECTIONS:-200}
BYTES=${BYTES:-1G}
STREAMS=${STREAMS:-"1 16"}

[ -d "$JS/node_modules" ] || "$ROOT/scripts/test.d/20-npm.sh" >&2

WORK=$(mktemp -d)
LISTENER=
cleanup() {
  if [ "${status:-0}" != 0 ] && [ -f "$WORK/listen.err" ]; then
    echo "--- listener stderr (tail)" >&2; tail -20 "$WORK/listen.err" >&2
  fi
  exec 9>&- 2>/dev/null || true
  if [ -n "$LISTENER" ]; then kill "$LISTENER" 2>/dev/null || true; wait "$LISTENER" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

ADDR=${TARGET:-}
if [ -z "$ADDR" ]; then
  mkfifo "$WORK/stdin"
  node "$JS/peer.mjs" listen <"$WORK/stdin" >"$WORK/listen.out" 2>"$WORK/listen.err" &
  LISTENER=$!
  exec 9>"$WORK/stdin"
  for _ in $(seq 100); do [ -s "$WORK/listen.out" ] && break; sleep 0.1; done
  ADDR=$(node -e 'const e=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8").split("\n")[0]);console.log(e.addrs[0])' "$WORK/listen.out")
fi
echo "anchor: measuring against $ADDR" >&2

status=0
measure() {
  local line
  if ! node "$JS/peer.mjs" dial "$ADDR" "$@" >"$WORK/dial.out" 2>"$WORK/dial.err"; then
    status=1
    tail -5 "$WORK/dial.err" >&2
  fi
  line=$(grep '"scenario"' "$WORK/dial.out" || echo '{"ok":false,"error":"no result"}')
  node -e '
    const r = JSON.parse(process.argv[1])
    const load = require("fs").readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number)
    console.log(JSON.stringify({ anchor: "js-libp2p", ...r, loadavg: load }))' "$line"
}

measure --scenario bench-connect --connections "$CONNECTIONS"
for k in $STREAMS; do
  measure --scenario bench-throughput --bytes "$BYTES" --streams "$k"
done
exit $status
