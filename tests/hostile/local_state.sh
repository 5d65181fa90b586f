#!/usr/bin/env bash
# Local state trusted as found (hardening review, item 8): another local user must not be able to
# plant or rewrite the state that decides who is trusted. A data directory or trust file owned by
# someone else or writable by group/others, or a trust file that is a symbolic link, is refused
# with the command that fixes it — at start and on a live reload; the state database and its WAL
# files are 0600 (an older 0644 one is tightened). No Docker work: the provider only starts.
#
#   local_state.sh <peerctl> <peercomputed> <peergateway>
PC_SUITE=hostile-local-state
source "$(dirname "$0")/../faults/lib.sh"
PEERCTL=${1:?usage}
DAEMON=${2:?usage}
GATEWAY=${3:?usage}

# start_provider DIR LOG: starts a provider on DIR; sets pid once it listens (else empty). Not in
# a $(…) subshell: its PIDS entry must reach the clean-up, or the provider outlives the suite.
start_provider() {
  "$DAEMON" --data-dir "$1" --listen /ip4/127.0.0.1/tcp/0 --no-mdns >"$2" 2>&1 &
  pid=$!
  PIDS+=($pid)
  wait_for "$2" "Listening on" 100 || pid=
}
# refused NAME FIX CMD…: CMD fails and its output names FIX (the chmod/chown that repairs it).
refused() {
  local name=$1 fix=$2
  shift 2
  local out
  if out=$(timeout 20 "$@" 2>&1); then
    ko "$name: accepted (should be refused)"
  elif grep -q -- "$fix" <<<"$out"; then
    ok "$name: refused, naming '$fix'"
  else
    ko "$name: refused without naming '$fix': $out"
  fi
}
mode_of() { stat -c %a "$1" 2>/dev/null; }

# A data directory writable by others: anyone could replace trusted_peers.json in it.
mkdir -p "$W/open" && chmod 777 "$W/open"
refused "world-writable provider data dir" "chmod go-w $W/open" \
  "$DAEMON" --data-dir "$W/open" --listen /ip4/127.0.0.1/tcp/0 --no-mdns
mkdir -p "$W/gwopen" && chmod 770 "$W/gwopen"
refused "group-writable gateway data dir" "chmod go-w $W/gwopen" \
  "$GATEWAY" --data-dir "$W/gwopen" --http-port 0 --tunnel-listen /ip4/127.0.0.1/tcp/0
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$W/theirs" && chown nobody "$W/theirs" && chmod 700 "$W/theirs"
  refused "data dir owned by another user" "chown 0 $W/theirs" \
    "$DAEMON" --data-dir "$W/theirs" --listen /ip4/127.0.0.1/tcp/0 --no-mdns
else
  info "not root: the other-owner case is skipped"
fi

# A trust file writable by others, or a symbolic link to one elsewhere.
P=$W/prov
PEERCOMPUTE_HOME=$P "$PEERCTL" init >/dev/null
PEERCOMPUTE_HOME=$W/dev "$PEERCTL" init >/dev/null
DEV=$(PEERCOMPUTE_HOME=$W/dev "$PEERCTL" id)
PEERCOMPUTE_HOME=$P "$PEERCTL" peers add "$DEV" --name dev >/dev/null
chmod 666 "$P/trusted_peers.json"
refused "world-writable trust file (provider)" "chmod go-w $P/trusted_peers.json" \
  "$DAEMON" --data-dir "$P" --listen /ip4/127.0.0.1/tcp/0 --no-mdns
refused "world-writable trust file (peerctl)" "chmod go-w" \
  env PEERCOMPUTE_HOME="$P" "$PEERCTL" peers list
chmod 600 "$P/trusted_peers.json"
cp "$P/trusted_peers.json" "$W/elsewhere.json"
mv "$P/trusted_peers.json" "$P/trusted_peers.real"
ln -s "$W/elsewhere.json" "$P/trusted_peers.json"
refused "trust file that is a symbolic link" "symbolic link" \
  "$DAEMON" --data-dir "$P" --listen /ip4/127.0.0.1/tcp/0 --no-mdns
rm "$P/trusted_peers.json" && mv "$P/trusted_peers.real" "$P/trusted_peers.json"
printf 'max_deployments = 3\n' >"$P/config.toml" && chmod 666 "$P/config.toml"
refused "world-writable config file" "chmod go-w $P/config.toml" \
  "$DAEMON" --data-dir "$P" --listen /ip4/127.0.0.1/tcp/0 --no-mdns
rm "$P/config.toml"

# The database: created 0600 with its WAL files; an older 0644 one is tightened at start.
start_provider "$P" "$W/prov.log"
[ -n "$pid" ] || { ko "provider did not start: $(cat "$W/prov.log")"; finish; }
[ "$(mode_of "$P/provider.db")" = 600 ] && ok "provider.db is created 0600" ||
  ko "provider.db is created $(mode_of "$P/provider.db")"
kill "$pid"
wait "$pid" 2>/dev/null
chmod 644 "$P/provider.db"
rotate_log "$W/prov.log"
start_provider "$P" "$W/prov.log"
[ -n "$pid" ] || { ko "provider did not restart: $(cat "$W/prov.log")"; finish; }
for f in provider.db provider.db-wal provider.db-shm; do
  if [ ! -e "$P/$f" ]; then
    info "$f not present"
  elif [ "$(mode_of "$P/$f")" = 600 ]; then
    ok "$f is 0600"
  else
    ko "$f is $(mode_of "$P/$f")"
  fi
done

# Live: the trust file becomes writable by others and is rewritten; the provider keeps the list
# it had and says why.
chmod 666 "$P/trusted_peers.json"
python3 - "$P/trusted_peers.json" <<'PY'
import json, sys
p = sys.argv[1]
d = json.load(open(p))
d["peers"][0]["name"] = "renamed"
open(p, "w").write(json.dumps(d))
PY
# The gate reloads when it is asked: a connection from the developer asks it.
ADDR=$(awk '/Listening on/ {print $3; exit}' "$W/prov.log")
PEERCOMPUTE_HOME=$W/dev "$PEERCTL" ping "$ADDR" -c 1 --timeout 5 >/dev/null 2>&1
if wait_for "$W/prov.log" "keeping the previous trust list" 50 &&
    grep -q "chmod go-w" "$W/prov.log"; then
  ok "a trust file made writable by others is not reloaded, and the log says how to fix it"
else
  ko "live reload of a world-writable trust file: $(tail -5 "$W/prov.log")"
fi
finish
