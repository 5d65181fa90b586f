#!/usr/bin/env bash
# Runs every test of the project on a fresh Debian 12 machine: installs what it needs, checks the
# formatting, builds and runs the whole suite in the dev (gcc) and asan (clang ASan+UBSan) presets,
# then runs every libFuzzer target (built by the asan preset) briefly on its committed corpus.
#
#   FUZZ_SECONDS=N   seconds per fuzz target (default 8; 0 skips the fuzz stage)
#   PC_SKIP_ASAN=1   skip the ASan+UBSan stage (local iteration only; CI never sets it)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FUZZ_SECONDS=${FUZZ_SECONDS:-8}
JOBS=${JOBS:-$(nproc)}

stage() { printf '\n=== %s ===\n' "$*"; }

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
  stage "build: $preset"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$JOBS"
  stage "test: $preset"
  ctest --preset "$preset" -j "$JOBS" --timeout 900
}

run_preset dev
if [ "${PC_SKIP_ASAN:-0}" != 1 ]; then
  run_preset asan
fi

if [ "$FUZZ_SECONDS" != 0 ]; then
  # The asan build's fuzz_* binaries are libFuzzer binaries (ASan+UBSan, coverage-guided).
  FUZZ_DIR=build/asan/bin
  if [ "${PC_SKIP_ASAN:-0}" = 1 ]; then
    cmake --preset fuzz >/dev/null
    cmake --build --preset fuzz -j "$JOBS"
    FUZZ_DIR=build/fuzz/bin
  fi
  stage "fuzz: ${FUZZ_SECONDS}s per target"
  mkdir -p build/fuzz-crashes
  for bin in "$FUZZ_DIR"/fuzz_*; do
    name=${bin##*/fuzz_}
    corpus=tests/fuzz/corpus/$name
    work=$(mktemp -d)
    echo "-- $name"
    # New inputs go to a scratch directory; the committed corpus is read as seeds. A crash leaves
    # its reproducer in build/fuzz-crashes/ to be committed under the corpus as a regression.
    if ! "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$ROOT/build/fuzz-crashes/$name-" "$work" "$corpus" >"$work.log" 2>&1; then
      tail -50 "$work.log"
      echo "fuzz target $name failed; reproducer in build/fuzz-crashes/" >&2
      exit 1
    fi
    grep -E "^#[0-9]+.*DONE" "$work.log" | tail -1 || tail -2 "$work.log"
    rm -rf "$work" "$work.log"
  done
fi

stage "all tests passed"
