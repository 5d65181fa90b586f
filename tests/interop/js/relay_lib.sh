# shellcheck shell=bash
# Sourced (bash, set -euo pipefail safe) by relay_selftest.sh and ../relay_interop.sh: start the
# js circuit relay roles (relay.mjs, reserver.mjs, dialer.mjs), parse their READY lines, keep every
# log in one temp dir, stop every process at exit, and print the logs when something failed.
#
#   rl_init                          temp dir $RL_W, EXIT trap (call once, before anything else)
#   rl_start_relay NAME [ARGS...]    -> NAME_ID, NAME_ADDR (full, ends in /p2p/<id>)
#                                    (or rl_spawn_relay ... then rl_await_relay NAME)
#   rl_start_reserver NAME RELAY_ADDR [ARGS...]   (or rl_spawn_reserver + rl_await_reserver)
#                                    0: READY -> NAME_ID, NAME_ADDR (first circuit address)
#                                    3: RESERVE-FAILED -> NAME_FAIL ("202 PERMISSION_DENIED", ...)
#   rl_run_dialer NAME CIRCUIT_ADDR [ARGS...]   runs to the end; NAME_RC, output in $RL_W/NAME.out
#                                    (in the background: `... &`, wait, then rl_rc NAME)
#   rl_spawn NAME CMD... / rl_spawn_merged NAME CMD...   any background process, stopped at exit
#   rl_stop NAME...                  SIGTERM all, wait each; NAME_RC = exit status
#   rl_js_id SEED                    prints the PeerId of a --seed (the same key scheme in all)
#   rl_wait_line FILE REGEX [TENTHS] waits for a line (default 10 s); 1 if it never came
#   ok / ko / rl_finish              test lines; rl_finish prints the logs on failure, exits 0/1
RL_JS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RL_FAILS=0
declare -A RL_PIDS=()

ok() { echo "ok   - $*"; }
ko() { echo "FAIL - $*"; RL_FAILS=$((RL_FAILS + 1)); }

rl_cleanup() {
  local name
  for name in "${!RL_PIDS[@]}"; do
    kill -TERM "${RL_PIDS[$name]}" 2>/dev/null || true
  done
  for name in "${!RL_PIDS[@]}"; do
    wait "${RL_PIDS[$name]}" 2>/dev/null || true
  done
  if [ "${RL_KEEP:-0}" = 1 ]; then echo "logs kept in $RL_W" >&2; else rm -rf "$RL_W"; fi
}

rl_init() {
  if [ ! -d "$RL_JS/node_modules" ]; then
    echo "js-libp2p is not installed: run scripts/test.d/20-npm.sh" >&2
    exit 1
  fi
  RL_W=$(mktemp -d /tmp/pc-relay-interop.XXXXXX)
  trap rl_cleanup EXIT
}

rl_wait_line() {
  local file=$1 re=$2 tenths=${3:-100} _
  for _ in $(seq 1 "$tenths"); do
    grep -Eq "$re" "$file" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# Field $2 (1-based, after the keyword) of the first line of $1 starting with keyword $3.
rl_field() { awk -v k="$3" -v f="$2" '$1 == k { print $(f + 1); exit }' "$1"; }

rl_js_id() {
  node "$RL_JS/peer.mjs" id --seed "$1" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).peerId))'
}

# Background process NAME writing $RL_W/NAME.out and .err.
rl_spawn() {
  local name=$1
  shift
  "$@" >"$RL_W/$name.out" 2>"$RL_W/$name.err" &
  RL_PIDS[$name]=$!
}

# Background process NAME with stdout and stderr both in $RL_W/NAME.out (our C++ daemons).
rl_spawn_merged() {
  local name=$1
  shift
  "$@" >"$RL_W/$name.out" 2>&1 &
  RL_PIDS[$name]=$!
}

# rl_start_relay = rl_spawn_relay + rl_await_relay; spawn several first to start them in parallel.
rl_spawn_relay() {
  local name=$1
  shift
  rl_spawn "$name" node "$RL_JS/relay.mjs" "$@"
}

# NAME_ID and NAME_ADDR from NAME's READY line.
rl_read_ready() {
  printf -v "${1}_ID" '%s' "$(rl_field "$RL_W/$1.out" 1 READY)"
  printf -v "${1}_ADDR" '%s' "$(rl_field "$RL_W/$1.out" 2 READY)"
}

rl_await_relay() {
  local name=$1
  if ! rl_wait_line "$RL_W/$name.out" '^READY '; then
    ko "js relay $name did not print READY"
    return 1
  fi
  rl_read_ready "$name"
}

rl_start_relay() {
  rl_spawn_relay "$@"
  rl_await_relay "$1"
}

# rl_start_reserver = rl_spawn_reserver + rl_await_reserver.
rl_spawn_reserver() {
  local name=$1 relay=$2
  shift 2
  rl_spawn "$name" node "$RL_JS/reserver.mjs" "$relay" "$@"
}

rl_await_reserver() {
  local name=$1
  if ! rl_wait_line "$RL_W/$name.out" '^(READY|RESERVE-FAILED) ' 150; then
    ko "js reserver $name printed neither READY nor RESERVE-FAILED"
    return 1
  fi
  if grep -q '^RESERVE-FAILED ' "$RL_W/$name.out"; then
    printf -v "${name}_FAIL" '%s' "$(sed -n 's/^RESERVE-FAILED //p' "$RL_W/$name.out" | head -1)"
    return 3
  fi
  rl_read_ready "$name"
}

rl_start_reserver() {
  rl_spawn_reserver "$@"
  rl_await_reserver "$1"
}

# Also usable in the background (`rl_run_dialer ... &`, then `wait` and rl_rc NAME).
rl_run_dialer() {
  local name=$1 addr=$2 rc=0
  shift 2
  node "$RL_JS/dialer.mjs" "$addr" "$@" >"$RL_W/$name.out" 2>"$RL_W/$name.err" || rc=$?
  echo "$rc" >"$RL_W/$name.rc"
  printf -v "${name}_RC" '%s' "$rc"
}

# Sets NAME_RC from a background rl_run_dialer's status file.
rl_rc() { printf -v "${1}_RC" '%s' "$(cat "$RL_W/$1.rc" 2>/dev/null || echo missing)"; }

# SIGTERM to every NAME first, then wait for each: NAME_RC = its exit status.
rl_stop() {
  local name pid rc
  for name in "$@"; do
    pid=${RL_PIDS[$name]:-}
    [ -z "$pid" ] || kill -TERM "$pid" 2>/dev/null || true
  done
  for name in "$@"; do
    pid=${RL_PIDS[$name]:-}
    [ -n "$pid" ] || continue
    rc=0
    wait "$pid" 2>/dev/null || rc=$?
    unset "RL_PIDS[$name]"
    printf -v "${name}_RC" '%s' "$rc"
  done
}

rl_finish() {
  local label=$1 f
  if [ "$RL_FAILS" -ne 0 ]; then
    for f in "$RL_W"/*; do
      [ -f "$f" ] || continue
      echo "--- $(basename "$f")" >&2
      tail -40 "$f" >&2
    done
    echo "$label: $RL_FAILS check(s) failed" >&2
    exit 1
  fi
  echo "$label: all checks passed"
  exit 0
}
