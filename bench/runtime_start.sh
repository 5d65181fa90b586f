#!/usr/bin/env bash
# Builds and runs the DockerRuntime start benchmark (issue 4) against the local dockerd:
# create+start through DockerRuntime vs `docker run -d` of the same image, interleaved, N runs
# each (default 20), medians and differences. Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/test.d/10-docker.sh >/dev/null
cmake -S . -B build/bench-runtime -G Ninja -DCMAKE_BUILD_TYPE=Release -DPC_TESTS=OFF >/dev/null
cmake --build build/bench-runtime --target bench_runtime_start -j "$(nproc)" >/dev/null
exec build/bench-runtime/bin/bench_runtime_start "${1:-20}"
