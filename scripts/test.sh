#!/usr/bin/env bash
# Runs every test of the project on a fresh Debian 12 machine: installs what it needs, checks the
# formatting, builds and runs the whole suite in the dev (gcc) and asan (clang ASan+UBSan) presets,
# the network, tunnel and gateway tests under ThreadSanitizer, then every libFuzzer target (built
# by the asan preset) on its committed corpus, two at a time.
#
#   FUZZ_SECONDS=N   seconds per fuzz target (default 20; 0 skips the fuzz stage)
#   PC_SKIP_ASAN=1   skip the ASan+UBSan stage (local iteration only; CI never sets it)
#   PC_SKIP_TSAN=1   skip the TSan stage (local iteration only; CI never sets it)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
JOBS=${JOBS:-$(nproc)}

stage() { printf '\n=== %s (%s, %ss in) ===\n' "$*" "$(date +%T)" "$SECONDS"; }

stage "dependencies"
./scripts/install-deps.sh
for hook in scripts/test.d/*.sh; do
  [ -e "$hook" ] || continue
  stage "setup: $hook"
  "$hook"
done

stage "clang-format"
./scripts/check-format.sh

run_preset() {
  local preset=$1
  shift
  stage "build: $preset"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$JOBS"
  stage "test: $preset $*"
  ctest --preset "$preset" -j "$JOBS" --timeout 900 "$@"
}

if [ "${PC_SKIP_ASAN:-0}" != 1 ]; then
  # The fault, hostile-input and load suites (minutes of daemons killed, floods and 10,000
  # connections) and the gVisor runs run once, in the sanitizer build, where they also prove
  # memory safety; every other test runs in both builds.
  run_preset dev -LE 'faults|hostile|load|gvisor'
  run_preset asan
else
  run_preset dev
fi

if [ "${PC_SKIP_TSAN:-0}" != 1 ]; then
  # Data races in the concurrent code: the network stack (host, yamux, noise) and the tunnel and
  # gateway (which the gateway tests drive end to end with a provider in the same process).
  stage "build: tsan (net, tunnel, gateway tests)"
  cmake --preset tsan >/dev/null
  cmake --build --preset tsan -j "$JOBS" --target pc_net_tests pc_gateway_tests
  stage "test: tsan"
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
    ctest --preset tsan -j "$JOBS" --timeout 900 -R '^(net|gateway)$'
fi

if [ "$FUZZ_SECONDS" != 0 ]; then
  # The asan build's fuzz_* binaries are libFuzzer binaries (ASan+UBSan, coverage-guided).
  FUZZ_DIR=build/asan/bin
  if [ "${PC_SKIP_ASAN:-0}" = 1 ]; then
    cmake --preset fuzz >/dev/null
    cmake --build --preset fuzz -j "$JOBS"
    FUZZ_DIR=build/fuzz/bin
  fi
  stage "fuzz: ${FUZZ_SECONDS}s per target, $JOBS at a time"
  mkdir -p build/fuzz-crashes
  fuzz_one() {
    local bin=$1 name=${1##*/fuzz_}
    local corpus=tests/fuzz/corpus/$name work
    work=$(mktemp -d)
    # New inputs go to a scratch directory; the committed corpus is read as seeds. A crash leaves
    # its reproducer in build/fuzz-crashes/ to be committed under the corpus as a regression.
    if ! "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$ROOT/build/fuzz-crashes/$name-" "$work" "$corpus" >"$work.log" 2>&1; then
      tail -50 "$work.log"
      echo "fuzz target $name failed; reproducer in build/fuzz-crashes/" >&2
      rm -rf "$work"
      return 1
    fi
    echo "-- $name: $(grep -E "^#[0-9]+.*DONE" "$work.log" | tail -1 || tail -1 "$work.log")"
    rm -rf "$work" "$work.log"
  }
  pids=()
  failed=0
  for bin in "$FUZZ_DIR"/fuzz_*; do
    if [ ${#pids[@]} -ge "$JOBS" ]; then
      wait "${pids[0]}" || failed=1
      pids=("${pids[@]:1}")
    fi
    fuzz_one "$bin" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  [ "$failed" = 0 ] || exit 1
fi

stage "all tests passed"
