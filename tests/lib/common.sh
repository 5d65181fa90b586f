# The shell suites' common ground (sourced, not run).
#
# Conventions: one "ok   - …" or "FAIL - …" line per check, and the script exits 1 when any
# check failed ($fails); every process a test starts goes into PIDS and is killed on exit; every
# container and network a test's provider made is removed by its deployment label; $W is the
# test's scratch directory, removed on exit (KEEP=1 keeps it, and says where).
#
# Set PC_SUITE (a short name for the scratch directory) before sourcing. A suite with more to
# undo at exit defines suite_cleanup; it runs first, while the test's daemons still run.
set -uo pipefail
W=$(mktemp -d "/tmp/pc-${PC_SUITE:-suite}.XXXXXX")
PIDS=()
fails=0
ok() { echo "ok   - $*"; }
ko() { echo "FAIL - $*"; fails=$((fails + 1)); }
info() { echo "info - $*"; }
# wait_for FILE REGEX [TENTHS]: waits (default 10 s) for a line matching REGEX in FILE.
wait_for() {
  local n=${3:-100}
  for _ in $(seq 1 "$n"); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
# free_ports N: N loopback TCP ports free now, on one line.
free_ports() {
  python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}
# The deployment ids this test's commands printed or its daemons logged.
dep_ids() { grep -ho 'dep-[a-z2-7]\{16\}' "$W"/*.out "$W"/*.log 2>/dev/null | sort -u; }
remove_deployments() {
  for id in $(dep_ids); do
    docker ps -aq --filter "label=peercompute.deployment-id=$id" | xargs -r docker rm -f >/dev/null 2>&1
    docker network rm "pc-$id" >/dev/null 2>&1 || true
  done
}
lib_cleanup() {
  if declare -F suite_cleanup >/dev/null; then suite_cleanup; fi
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  remove_deployments
  if [ -n "${KEEP:-}" ]; then echo "kept $W"; else rm -rf "$W"; fi
}
trap lib_cleanup EXIT
