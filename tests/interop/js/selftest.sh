#!/usr/bin/env bash
# js↔js self-test of the interop peer: starts `peer.mjs listen`, runs every dial scenario against
# it, checks what the listener reported, and exits non-zero on any failure.
#
#   HOLD_SECONDS=N       length of the hold scenario (default 15, past js's 10 s ping monitor)
#   BENCH_CONNECTIONS=N  connections for the bench-connect smoke run (default 20)
#   BENCH_BYTES=SIZE     bytes for the bench-throughput smoke runs (default 64M)
set -euo pipefail
cd "$(dirname "$0")"
HERE=$PWD
HOLD_SECONDS=${HOLD_SECONDS:-15}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-20}
BENCH_BYTES=${BENCH_BYTES:-64M}
SEED=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
SEED_PEER=12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB

[ -d node_modules ] || ../../../scripts/test.d/20-npm.sh

WORK=$(mktemp -d)
LISTENER=
cleanup() {
  exec 9>&- 2>/dev/null || true
  if [ -n "$LISTENER" ]; then kill "$LISTENER" 2>/dev/null || true; wait "$LISTENER" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok:   $*"; }

# jq is not guaranteed; node reads the JSON lines.
jsonq() { node -e "$1" "$2"; }

# 1. Deterministic identity.
got=$(node peer.mjs id --seed "$SEED" | jsonq 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).peerId))' _)
[ "$got" = "$SEED_PEER" ] && pass "seed 00..1f -> $got" || fail "seed 00..1f gave $got, want $SEED_PEER"

# 2. Listener; stdin is a fifo held open on fd 9 so closing fd 9 stops it.
mkfifo "$WORK/stdin"
node peer.mjs listen --seed "$SEED" <"$WORK/stdin" >"$WORK/listen.out" 2>"$WORK/listen.err" &
LISTENER=$!
exec 9>"$WORK/stdin"
for _ in $(seq 100); do [ -s "$WORK/listen.out" ] && break; sleep 0.1; done
ADDR=$(head -1 "$WORK/listen.out" | jsonq 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const e=JSON.parse(s);if(e.event!=="listening")process.exit(1);console.log(e.addrs[0])})' _) \
  || { cat "$WORK/listen.err" >&2; echo "FAIL: listener did not start" >&2; exit 1; }
pass "listener up at $ADDR"

# 3. Dial scenarios, one process per group (each group is a fresh connection).
run_dial() {
  local label=$1; shift
  local out="$WORK/dial-$label.out"
  if node peer.mjs dial "$ADDR" "$@" >"$out" 2>"$WORK/dial-$label.err"; then rc=0; else rc=$?; fi
  # Print one summary line per scenario and check every scenario reported ok.
  node -e '
    const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map(JSON.parse)
    let bad = 0
    for (const l of lines) {
      if (l.scenario === undefined) continue
      const { scenario, ok, ...rest } = l
      const keep = ["rttMs","oneStreamRttMs","protocols","agentVersion","observedAddr","publicKeyMatches","bytes","streams","mismatches","failures","elapsedMs","sha256Sent","MBps","localReset","remoteReset","stayedOpen","monitorPings","finalPingMs","connections","medianMs","p90Ms","seconds","error"]
      const brief = Object.fromEntries(Object.entries(rest).filter(([k]) => keep.includes(k)))
      console.log(`${ok ? "ok:  " : "FAIL:"} ${scenario} ${JSON.stringify(brief)}`)
      if (!ok) bad++
    }
    process.exit(bad ? 1 : 0)' "$out" || { fail "dial $label: a scenario failed"; return; }
  [ "$rc" = 0 ] || { fail "dial $label exited $rc"; tail -5 "$WORK/dial-$label.err" >&2; }
}

run_dial main --scenario ping,identify,echo,echo-concurrent,transfer,reset
run_dial hold --scenario hold --seconds "$HOLD_SECONDS"
run_dial bench --scenario bench-connect --connections "$BENCH_CONNECTIONS"
run_dial tput1 --scenario bench-throughput --bytes "$BENCH_BYTES" --streams 1
run_dial tput16 --scenario bench-throughput --bytes "$BENCH_BYTES" --streams 16
# Muxer chosen by multistream-select instead of Noise early negotiation.
run_dial mss --scenario echo,echo-concurrent --no-noise-muxers

# 4. What the listener saw: identify of the dialer, the dialer's reset of /echo/1.0.0,
#    connection and disconnect events, and no resets it should not have seen.
sleep 0.5
node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map(JSON.parse)
  const count = (f) => lines.filter(f).length
  let bad = 0
  const check = (cond, what) => { console.log(`${cond ? "ok:  " : "FAIL:"} listener ${what}`); if (!cond) bad++ }
  const ids = lines.filter(l => l.event === "identify")
  check(ids.length > 0 && ids.every(l => l.publicKeyMatches && l.protocols.includes("/echo/1.0.0") && l.observedAddr && l.agentVersion),
    `identified every dialer correctly (${ids.length} identify events)`)
  const conns = count(l => l.event === "connection"), discs = count(l => l.event === "disconnect")
  check(conns >= 6 && conns === discs, `saw ${conns} connections and ${discs} disconnects`)
  const resets = lines.filter(l => l.event === "reset")
  check(resets.length === 1 && resets[0].protocol === "/echo/1.0.0", `saw the dialer reset /echo/1.0.0 (${JSON.stringify(resets)})`)
  check(count(l => l.event === "connection" && l.earlyMuxerNegotiation === false) >= 1 &&
        count(l => l.event === "connection" && l.earlyMuxerNegotiation === true) >= 1, "saw both early and multistream muxer selection")
  process.exit(bad ? 1 : 0)' "$WORK/listen.out" || fail "listener events"

# 5. The listener exits when its stdin closes.
exec 9>&-
for _ in $(seq 50); do kill -0 "$LISTENER" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$LISTENER" 2>/dev/null; then fail "listener still running after stdin closed"; else pass "listener exited on stdin close"; LISTENER=; fi

if [ "$failures" != 0 ]; then
  echo "--- listener stderr (tail)" >&2; tail -20 "$WORK/listen.err" >&2
  echo "selftest: $failures failure(s)" >&2
  exit 1
fi
echo "selftest: all passed"
