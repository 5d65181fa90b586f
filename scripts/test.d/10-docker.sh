#!/usr/bin/env bash
# Test set-up for the Docker runtime (issue 4): makes sure a real dockerd answers on
# /var/run/docker.sock and that the locally built test images exist. Idempotent: every step is
# skipped when its result is already there, so a second run costs well under a second.
#
# - installs Debian's docker.io (engine 20.10, API 1.41) and busybox-static when missing;
# - starts dockerd by hand when none answers (no systemd here), after removing a stale pid file
#   that no live dockerd owns; never starts a second dockerd;
# - waits for the daemon with a deadline (DOCKERD_WAIT_SECONDS, default 60);
# - imports peercompute/busybox:test (Docker Hub is unreachable) from busybox-static;
# - runs Debian's docker-registry on 127.0.0.1:5055 (loopback only) and pushes the test image to
#   it, so the e2e tests exercise a real pull with progress (the engine trusts 127.0.0.0/8 over
#   plain HTTP by default).
set -euo pipefail

SOCK=/var/run/docker.sock
PIDFILE=/var/run/docker.pid
LOG=${DOCKERD_LOG:-/var/log/peercompute-dockerd.log}
WAIT=${DOCKERD_WAIT_SECONDS:-60}
IMAGE=peercompute/busybox:test
REGISTRY=127.0.0.1:5055
REG_DIR=/var/lib/peercompute-test-registry
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

say() { echo "10-docker: $*"; }
die() { echo "10-docker: error: $*" >&2; exit 1; }

# -- packages ---------------------------------------------------------------------------------
need=()
for p in docker.io busybox-static docker-registry runsc; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # The package's postinst tries to start the service; without systemd that fails harmlessly.
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" iptables ||
    die "could not install ${need[*]} (is apt reachable?)"
fi

# Debian's client is /usr/bin/docker; a newer client elsewhere on PATH also works (it negotiates).
DOCKER=$(command -v docker) || die "no docker client found after installing docker.io"

answers() { curl -sf --max-time 2 --unix-socket "$SOCK" http://localhost/_ping >/dev/null 2>&1; }

# -- gVisor -----------------------------------------------------------------------------------
# runsc registered as an OCI runtime (the egress and runtime tests run deployments under it).
# --network=host: gVisor uses the network namespace Docker made for the container (its own
# sandbox network does not run here); the provider's egress rules then see its traffic.
DAEMON_JSON=/etc/docker/daemon.json
RUNSC_RUNTIME='{"path":"/usr/bin/runsc","runtimeArgs":["--network=host"]}'
registered_now=0
if ! python3 -c 'import json,sys; sys.exit(0 if "runsc" in json.load(open(sys.argv[1])).get("runtimes",{}) else 1)' \
    "$DAEMON_JSON" 2>/dev/null; then
  $SUDO mkdir -p /etc/docker
  python3 - "$DAEMON_JSON" "$RUNSC_RUNTIME" <<'PY' | $SUDO tee "$DAEMON_JSON.new" >/dev/null
import json, sys
try:
    cfg = json.load(open(sys.argv[1]))
except FileNotFoundError:
    cfg = {}
cfg.setdefault("runtimes", {})["runsc"] = json.loads(sys.argv[2])
print(json.dumps(cfg, indent=2))
PY
  $SUDO mv "$DAEMON_JSON.new" "$DAEMON_JSON"
  say "registered runsc in $DAEMON_JSON"
  registered_now=1
fi

# -- daemon -----------------------------------------------------------------------------------
if answers; then
  say "dockerd already answers on $SOCK"
else
  if pgrep -x dockerd >/dev/null; then
    say "a dockerd process exists but does not answer yet; waiting for it (not starting another)"
  else
    if [ -e "$PIDFILE" ]; then
      pid=$(cat "$PIDFILE" 2>/dev/null || true)
      if [ -n "$pid" ] && [ -d "/proc/$pid" ] && grep -q dockerd "/proc/$pid/comm" 2>/dev/null; then
        say "dockerd (pid $pid) owns $PIDFILE; waiting for it"
      else
        say "removing stale $PIDFILE (pid '${pid}' is not a running dockerd)"
        $SUDO rm -f "$PIDFILE"
      fi
    fi
    if ! pgrep -x dockerd >/dev/null; then
      say "starting dockerd (log: $LOG)"
      # setsid: the daemon outlives this script and is not killed with the test job's group.
      $SUDO setsid dockerd >"$LOG" 2>&1 </dev/null &
    fi
  fi
  deadline=$((SECONDS + WAIT))
  until answers; do
    if [ $SECONDS -ge $deadline ]; then
      tail -20 "$LOG" >&2 2>/dev/null || true
      die "dockerd did not answer on $SOCK within ${WAIT}s; see $LOG"
    fi
    sleep 0.2
  done
  say "dockerd is ready"
fi
if [ $registered_now -eq 1 ] || ! "$DOCKER" info --format '{{json .Runtimes}}' | grep -q runsc; then
  # "runtimes" is reloadable: SIGHUP makes a running dockerd read it (no restart).
  $SUDO pkill -HUP -x dockerd
  for _ in $(seq 1 50); do
    "$DOCKER" info --format '{{json .Runtimes}}' | grep -q runsc && break
    sleep 0.1
  done
  "$DOCKER" info --format '{{json .Runtimes}}' | grep -q runsc || die "dockerd did not load runsc"
  say "dockerd knows runsc"
fi

# -- test images ------------------------------------------------------------------------------
if "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
  say "$IMAGE present"
else
  [ -x /bin/busybox ] || die "/bin/busybox missing (busybox-static)"
  R=$(mktemp -d)
  trap 'rm -rf "$R"' EXIT
  mkdir -p "$R/bin" "$R/tmp" "$R/proc" "$R/sys" "$R/dev" "$R/etc"
  cp /bin/busybox "$R/bin/"
  for a in $("$R/bin/busybox" --list); do
    [ "$a" = busybox ] || ln -s busybox "$R/bin/$a"
  done
  echo "root:x:0:0:root:/root:/bin/sh" >"$R/etc/passwd"
  echo "nobody:x:65534:65534:nobody:/:/bin/false" >>"$R/etc/passwd"
  tar -C "$R" -c . | "$DOCKER" import -c 'CMD ["/bin/sh"]' - "$IMAGE" >/dev/null
  say "imported $IMAGE"
fi

# -- local registry ---------------------------------------------------------------------------
reg_answers() { curl -sf --max-time 2 "http://$REGISTRY/v2/" >/dev/null 2>&1; }
if reg_answers; then
  say "registry already answers on $REGISTRY"
else
  $SUDO mkdir -p "$REG_DIR/data"
  cat >"$REG_DIR/config.yml" <<YML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $REG_DIR/data
  delete:
    enabled: true
http:
  addr: $REGISTRY
YML
  say "starting docker-registry on $REGISTRY"
  $SUDO setsid docker-registry serve "$REG_DIR/config.yml" >"$REG_DIR/registry.log" 2>&1 </dev/null &
  deadline=$((SECONDS + WAIT))
  until reg_answers; do
    [ $SECONDS -lt $deadline ] || die "docker-registry did not answer on $REGISTRY within ${WAIT}s; see $REG_DIR/registry.log"
    sleep 0.2
  done
fi
if curl -sf --max-time 5 "http://$REGISTRY/v2/peercompute/busybox/manifests/test" \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' >/dev/null; then
  say "$REGISTRY/peercompute/busybox:test present"
else
  "$DOCKER" tag "$IMAGE" "$REGISTRY/peercompute/busybox:test"
  "$DOCKER" push "$REGISTRY/peercompute/busybox:test" >/dev/null ||
    die "could not push the test image to $REGISTRY"
  # Keep only the registry copy under that name: the e2e pull must really download it.
  "$DOCKER" rmi "$REGISTRY/peercompute/busybox:test" >/dev/null
  say "pushed $REGISTRY/peercompute/busybox:test"
fi

# -- demo web image ---------------------------------------------------------------------------
# A tiny web server (busybox httpd on port 8080) for the README demo and the provider e2e tests,
# served by the local registry so a deploy really pulls it.
# CGI scripts: /cgi-bin/sha256 hashes a POST body, /cgi-bin/zero?N streams N zero bytes.
DEMO_REF=$REGISTRY/peercompute/demo-web:2
if curl -sf --max-time 5 "http://$REGISTRY/v2/peercompute/demo-web/manifests/2" \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' >/dev/null; then
  say "$DEMO_REF present"
else
  D=$(mktemp -d)
  mkdir -p "$D/www"
  cat >"$D/www/index.html" <<'HTML'
<!doctype html>
<html><head><title>Peer Compute demo</title></head>
<body><h1>Hello from Peer Compute</h1>
<p>This page is served by a locked-down container on a peer you trust.</p></body></html>
HTML
  mkdir -p "$D/www/cgi-bin"
  printf '#!/bin/sh\necho "Content-Type: text/plain"\necho\nsha256sum | cut -c1-64\n' >"$D/www/cgi-bin/sha256"
  printf '#!/bin/sh\necho "Content-Type: application/octet-stream"\necho\nhead -c "$QUERY_STRING" /dev/zero\n' >"$D/www/cgi-bin/zero"
  chmod 755 "$D/www/cgi-bin/sha256" "$D/www/cgi-bin/zero"
  # The busybox image plus /www, with httpd in the foreground logging each request to stderr.
  "$DOCKER" save "$IMAGE" >/dev/null  # fail early if the base image is missing
  cid=$("$DOCKER" create "$IMAGE" /bin/true)
  "$DOCKER" export "$cid" | tar -C "$D" -x --exclude=www 2>/dev/null || true
  "$DOCKER" rm "$cid" >/dev/null
  tar -C "$D" -c . | "$DOCKER" import \
      -c 'CMD ["/bin/httpd", "-f", "-v", "-p", "8080", "-h", "/www"]' -c 'EXPOSE 8080' \
      - "$DEMO_REF" >/dev/null
  rm -rf "$D"
  "$DOCKER" push "$DEMO_REF" >/dev/null || die "could not push $DEMO_REF"
  "$DOCKER" rmi "$DEMO_REF" >/dev/null
  say "pushed $DEMO_REF"
fi
