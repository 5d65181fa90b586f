#!/usr/bin/env bash
# SECURITY.md invariant "the gateway never runs user code", checked on the built binary:
# peergateway contains no container runtime code (no pc::runtime symbol, no Docker socket path)
# and imports no function that starts a program (exec*, fork, posix_spawn, system, popen).
#
#   gateway_runs_no_user_code.sh <peergateway> <peercomputed>
set -uo pipefail
GW=${1:?usage}
PROV=${2:?usage}
fails=0
runtime_syms=$(nm -C "$GW" | grep -c "pc::runtime::")
[ "$runtime_syms" = 0 ] && echo "ok   - no pc::runtime code in peergateway" ||
  { echo "FAIL - peergateway has $runtime_syms pc::runtime symbols"; fails=1; }
grep -aq "docker.sock" "$GW" && { echo "FAIL - peergateway mentions docker.sock"; fails=1; } ||
  echo "ok   - no Docker socket path in peergateway"
spawn=$(nm -D --undefined-only "$GW" | awk '{print $2}' | sed 's/@.*//' |
  grep -E '^(execl|execlp|execle|execv|execve|execvp|execvpe|fexecve|fork|vfork|posix_spawn|posix_spawnp|system|popen|clone)$')
[ -z "$spawn" ] && echo "ok   - peergateway imports no process-spawning function" ||
  { echo "FAIL - peergateway imports: $spawn"; fails=1; }
# The check itself must be able to fail: the provider does contain runtime code.
[ "$(nm -C "$PROV" | grep -c "pc::runtime::")" -gt 0 ] && echo "ok   - (control) peercomputed has runtime code" ||
  { echo "FAIL - control: no runtime symbols found in peercomputed (is nm working?)"; fails=1; }
exit $fails
