# Shared helpers for the fault, hostile-input and load suites (sourced, not run).
#
# The conventions of tests/lib/common.sh, which this sources; and logs are truncated by the parent
# before a daemon (re)starts, so waiting on a log line never sees the previous run's line.
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# Under ASan (tests/CMakeLists.txt sets PC_SANITIZED) freed memory sits in a quarantine and
# every allocation carries redzones: a small quarantine keeps RSS meaningful, and the memory
# bounds are scaled by MEM_SCALE.
MEM_SCALE=1
if [ -n "${PC_SANITIZED:-}" ]; then
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4:thread_local_quarantine_size_kb=64"
  MEM_SCALE=4
fi
# until_true TENTHS CMD…: retries CMD every 0.1 s until it succeeds or TENTHS have passed.
until_true() {
  local n=$1
  shift
  for _ in $(seq 1 "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
fd_count() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
# CPU seconds (user + system) a process has used so far.
cpu_s() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# rotate_log FILE: keeps what FILE holds (FILE.all, checked for sanitizer reports at the end)
# and empties it, so that waiting on a line in FILE only sees the next run's lines.
rotate_log() {
  cat "$1" >>"$1.all" 2>/dev/null
  : >"$1"
}
# test_image REF SETUP CHANGE...: makes sure the local registry serves REF (host:port/repo:tag).
# If it does not, REF is built from the busybox test image's files, plus what the function SETUP
# adds to the root directory it is given, with each CHANGE as a `docker import -c` line, pushed,
# and the local copy removed (a deploy must really pull it). Fails the suite if the push fails.
test_image() {
  local ref=$1 setup=$2 host=${1%%/*} path=${1#*/}
  shift 2
  curl -sf --max-time 5 "http://$host/v2/${path%:*}/manifests/${path##*:}" \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' >/dev/null && return 0
  local root cid
  root=$(mktemp -d "$W/image.XXXXXX")
  cid=$(docker create peercompute/busybox:test /bin/true)
  docker export "$cid" | tar -C "$root" -x
  docker rm "$cid" >/dev/null
  "$setup" "$root"
  local args=()
  for c in "$@"; do args+=(-c "$c"); done
  tar -C "$root" -c . | docker import "${args[@]}" - "$ref" >/dev/null
  docker push "$ref" >/dev/null || { ko "cannot push $ref"; finish; }
  docker rmi "$ref" >/dev/null
  rm -rf "$root"
}
# A process ended by kill -9 leaves nothing to wait for; reaps it so its pid is free.
kill9() {
  kill -9 "$1" 2>/dev/null
  wait "$1" 2>/dev/null
  return 0
}
# audit_ok FILE: every line of the audit log is one complete JSON object (no torn record).
audit_ok() {
  python3 - "$1" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    json.loads(line)
    n += 1
print(n)
PY
}
finish() {
  local reports
  reports=$(grep -l -E "ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer" \
    "$W"/*.log "$W"/*.all 2>/dev/null)
  [ -z "$reports" ] && ok "no sanitizer report in any daemon log" ||
    ko "sanitizer reports in: $reports: $(grep -h -m3 -A8 -E "ERROR: |runtime error:" $reports | head -40)"
  [ $fails -eq 0 ] && echo "all ${PC_SUITE:-suite} checks passed" || echo "$fails ${PC_SUITE:-suite} checks failed"
  exit $((fails > 0))
}
