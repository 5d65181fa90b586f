#!/usr/bin/env bash
# Egress safety end to end (issue 16): a deployment reaches the internet and nothing of the
# provider's own world, and nothing on the provider's LAN reaches the deployment.
#
#   egress_netns.sh <peerctl> <peercomputed> [runc|runsc]
#
# The topology is made here, in network namespaces with veth pairs to the provider host (the
# root namespace, where dockerd runs the containers):
#   LAN host        10.77.1.2  (ns lan)    ── veth ── host 10.77.1.1
#   shared service  10.77.2.2  (ns shared) ── veth ── host 10.77.2.1   egress_allow 10.77.2.0/24:7002
#   "internet" host 198.18.77.2 (ns inet)  ── veth ── host 198.18.77.1
#   a service of the provider host itself on 0.0.0.0:7005, and on 10.77.2.1:7002 (its address in
#   the allowed range, at the allowed port: sharing the range does not open the host)
# A probe deployment (the demo web image, busybox nc inside) is deployed through peerctl and
# tries each destination with `docker exec`; nothing forbidden opens, the allowed ones do.
# With runc (the default) it also checks: --network none, LAN → deployment refused, kill -9 of
# the provider, the rules flushed from outside and put back, and a dockerd restart.
# Only 10.77.0.0/16 and 198.18.77.0/24 are used; the host's default route is never touched;
# everything made here is removed at exit.
set -uo pipefail
PEERCTL=${1:?usage: egress_netns.sh <peerctl> <peercomputed> [runc|runsc]}
DAEMON=${2:?usage}
RUNTIME=${3:-runc}
HERE=$(cd "$(dirname "$0")" && pwd)
IMAGE=127.0.0.1:5055/peercompute/demo-web:2
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (namespaces, iptables)"; exit 77; }
if [ "$RUNTIME" = runsc ] && ! docker info --format '{{json .Runtimes}}' | grep -q runsc; then
  echo "FAIL: runsc is not registered with dockerd (scripts/test.d/10-docker.sh does it)"
  exit 1
fi
for net in 10.77.1.0/24 10.77.2.0/24 198.18.77.0/24; do
  if ip -4 route show to match "${net%/*}" | grep -qv '^default'; then
    echo "SKIP: $net is already routed on this host; not touching it"; exit 77
  fi
done

PC_SUITE=egress
# shellcheck source=../lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
P=pe$(printf '%x' $$)  # namespace and interface prefix of this run
DPID=
as() { PEERCOMPUTE_HOME=$W/dev "$PEERCTL" "$@"; }

# The namespaces and links of this run, and the daemons inside them (common.sh then removes the
# deployments and $W).
suite_cleanup() {
  [ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null
  for n in lan shared inet; do
    pids=$(ip netns pids "$P-$n" 2>/dev/null); [ -n "$pids" ] && kill $pids 2>/dev/null
    ip netns del "$P-$n" 2>/dev/null
    ip link del "$P$n" 2>/dev/null
  done
  kill "${HOSTSVC:-}" 2>/dev/null
  iptables -w -X PC-OUT-0badc0de 2>/dev/null
  return 0
}
trap 'exit 1' INT TERM  # the EXIT trap then tears the topology down

# -- topology ---------------------------------------------------------------------------------
# host_side NAME HOSTIP NSIP: a namespace $P-NAME whose only link is a veth to the host.
host_side() {
  local n=$1 hip=$2 nip=$3
  ip netns add "$P-$n" && ip link add "$P$n" type veth peer name eth0 netns "$P-$n" &&
    ip addr add "$hip/24" dev "$P$n" && ip link set "$P$n" up &&
    ip -n "$P-$n" addr add "$nip/24" dev eth0 && ip -n "$P-$n" link set eth0 up &&
    ip -n "$P-$n" link set lo up && ip -n "$P-$n" route add default via "$hip"
}
host_side lan 10.77.1.1 10.77.1.2 && host_side shared 10.77.2.1 10.77.2.2 &&
  host_side inet 198.18.77.1 198.18.77.2 || { ko "could not build the namespaces"; exit 1; }
listen() { # listen NS ADDR:PORT...
  local ns=$1; shift
  ip netns exec "$P-$ns" python3 "$HERE/listen.py" "$@" >"$W/listen-$ns" 2>&1 &
}
listen lan 10.77.1.2:7001 10.77.1.2:53
listen shared 10.77.2.2:7002 10.77.2.2:7003
listen inet 198.18.77.2:7004
python3 "$HERE/listen.py" 0.0.0.0:7005 10.77.2.1:7002 >"$W/listen-host" 2>&1 &
HOSTSVC=$!
for f in lan shared inet host; do
  for _ in $(seq 1 50); do grep -q READY "$W/listen-$f" 2>/dev/null && break; sleep 0.1; done
done
# The host reaches every listener: a refusal below is the firewall's, not a broken topology.
for t in 10.77.1.2:7001 10.77.2.2:7002 198.18.77.2:7004 127.0.0.1:7005; do
  timeout 3 bash -c "exec 3<>/dev/tcp/${t%:*}/${t#*:}" 2>/dev/null || ko "host cannot reach $t"
done
ip netns exec "$P-lan" timeout 3 bash -c 'exec 3<>/dev/tcp/10.77.1.1/7005' 2>/dev/null &&
  ok "topology: the LAN host reaches the provider host" || ko "LAN host cannot reach the host"

# -- provider and developer -------------------------------------------------------------------
mkdir -p "$W/prov"
cp /etc/resolv.conf "$W/resolv.conf"  # the engine's resolvers, as the provider reads them
cat >"$W/prov/config.toml" <<TOML
egress_allow = ["10.77.2.0/24:7002"]
egress_check_interval = "1s"
egress_resolv_conf = "$W/resolv.conf"
TOML
as init >/dev/null
PEERCOMPUTE_HOME=$W/prov "$PEERCTL" peers add "$(as id)" --name dev >/dev/null
start_provider() {
  : >"$W/prov.log"
  local rt=()
  [ "$RUNTIME" = runsc ] && rt=(--runtime runsc)
  "$DAEMON" --data-dir "$W/prov" --listen "${1:-/ip4/127.0.0.1/tcp/0}" --no-mdns \
    --allow-registry 127.0.0.1:5055 --stop-grace 1s "${rt[@]}" >"$W/prov.log" 2>&1 &
  DPID=$!
  for _ in $(seq 1 100); do grep -q "Listening on" "$W/prov.log" && break; sleep 0.1; done
}
# A policy chain nothing uses (left by a provider with other settings): dropped at start.
iptables -w -N PC-OUT-0badc0de 2>/dev/null
start_provider
ADDR=$(awk '/Listening on/ {print $3; exit}' "$W/prov.log")
[ -n "$ADDR" ] && ok "provider started ($RUNTIME)" || { ko "provider: $(cat "$W/prov.log")"; exit 1; }
iptables -w -S PC-OUT-0badc0de >/dev/null 2>&1 && ko "an unused policy chain is left at start" ||
  ok "an unused policy chain is dropped at start"
as peers add "$(awk '/Peer ID/ {print $3; exit}' "$W/prov.log")" --name prov \
  --addr "${ADDR%/p2p/*}" >/dev/null

deploy() { # deploy NAME [peerctl deploy args…]: prints the deployment id
  local name=$1; shift
  as deploy "$IMAGE" --peer prov --expose 8080 "$@" >"$W/$name.out" 2>&1
  grep -o 'dep-[a-z2-7]\{16\}' "$W/$name.out" | head -1
}
# opens DEP ADDR PORT: the deployment's container connects to ADDR:PORT (busybox nc).
opens() { docker exec "pc-$1" nc -w 3 "$2" "$3" </dev/null >/dev/null 2>&1; }
expect_open() { opens "$@" && ok "$1 opens $2:$3 ($4)" || ko "$1 cannot open $2:$3 ($4)"; }
expect_closed() { opens "$@" && ko "$1 OPENED $2:$3 ($4)" || ok "$1 refused $2:$3 ($4)"; }
ip_of() { docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "pc-$1"; }
gw_of() { docker inspect -f '{{range .NetworkSettings.Networks}}{{.Gateway}}{{end}}' "pc-$1"; }

A=$(deploy a)
B=$(deploy b)
[ -n "$A" ] && [ -n "$B" ] && grep -q "state: running" "$W/a.out" &&
  ok "two probe deployments running" || { ko "deploy: $(cat "$W/a.out" "$W/b.out")"; exit 1; }
rt=$(docker inspect -f '{{.HostConfig.Runtime}}' "pc-$A")
if [ "$RUNTIME" = runsc ]; then
  [ "$rt" = runsc ] && docker exec "pc-$A" dmesg 2>/dev/null | grep -q gVisor &&
    ok "the deployment runs under gVisor" || ko "not under gVisor (runtime '$rt')"
fi
iface=$(ip -o link show | grep -o "pcd-[a-z2-7]\{11\}" | sort -u | head -1)
[ -n "$iface" ] && ok "deployment bridges are ours ($iface …)" || ko "no pcd-* bridge"

policy_holds() { # policy_holds DEP: the whole matrix, as the provider's policy says
  local d=$1
  expect_open "$d" 198.18.77.2 7004 "internet"
  expect_open "$d" 10.77.2.2 7002 "egress_allow 10.77.2.0/24:7002"
  expect_closed "$d" 10.77.2.2 7003 "allowed range, other port"
  expect_closed "$d" 10.77.2.1 7002 "the host's own address in the allowed range"
  expect_closed "$d" 10.77.1.2 7001 "LAN host"
  expect_closed "$d" "$(gw_of "$d")" 7005 "host via its bridge gateway"
  expect_closed "$d" 10.77.1.1 7005 "host's LAN address"
  expect_closed "$d" 172.17.0.1 7005 "host's docker0 address"
  for a in $(ip -4 -o addr show scope global | awk '{print $4}' | cut -d/ -f1 | grep -v '^10\.77\.\|^198\.18\.77\.'); do
    expect_closed "$d" "$a" 7005 "host address $a"
  done
  expect_closed "$d" "$(ip_of "$B")" 8080 "another deployment"
}
policy_holds "$A"
# DNS: when the host's resolver answers (NXDOMAIN is an answer), the container's does too.
host_dns=$(python3 -c 'import socket
try: socket.getaddrinfo("debian.org", 80); print("answer")
except socket.gaierror as e: print("answer" if e.errno == socket.EAI_NONAME else "none")')
if [ "$host_dns" = answer ]; then
  out=$(docker exec "pc-$A" nslookup debian.org 2>&1)
  grep -q "no servers could be reached\|timed out" <<<"$out" && ko "DNS cut: $out" ||
    ok "DNS keeps working through the host's resolver"
else
  echo "note: the host's resolver does not answer; DNS not checked"
fi

# The demo page still comes through the provider (it dials the container's own address).
url=$(awk '/url:/ {print $2}' "$W/a.out")
curl -sf --max-time 5 "$url" | grep -q "Hello from Peer Compute" &&
  ok "the deployment still serves through the provider" || ko "page through the provider: $url"

if [ "$RUNTIME" = runc ]; then
  # -- nothing on the LAN reaches a deployment directly ---------------------------------------
  # The LAN host routes through the provider host to the container's own address: the engine
  # would accept that for the exposed port; our forward rule refuses anything new into pcd-*.
  ip netns exec "$P-lan" ip route add "$(ip_of "$A")/32" via 10.77.1.1 2>/dev/null
  ip netns exec "$P-lan" timeout 4 bash -c "exec 3<>/dev/tcp/$(ip_of "$A")/8080" 2>/dev/null &&
    ko "the LAN host OPENED the deployment's port at its container address" ||
    ok "the LAN host cannot open the deployment's port at its container address"

  # -- --network none: nothing at all, and its port still works through the provider ----------
  N=$(deploy n --network none)
  [ -n "$N" ] && grep -q "state: running" "$W/n.out" && ok "deploy --network none" ||
    ko "deploy --network none: $(cat "$W/n.out")"
  expect_closed "$N" 198.18.77.2 7004 "internet, under --network none"
  expect_closed "$N" 10.77.2.2 7002 "allowed range, under --network none"
  nurl=$(awk '/url:/ {print $2}' "$W/n.out")
  curl -sf --max-time 5 "$nurl" | grep -q "Hello" && ok "--network none still serves its port" ||
    ko "--network none page: $nurl"

  # -- the rules are kernel state: kill -9 of the provider leaves them, a restart keeps them ---
  kill -9 "$DPID"; wait "$DPID" 2>/dev/null; DPID=
  expect_closed "$A" 10.77.1.2 7001 "LAN host, provider killed"
  expect_open "$A" 198.18.77.2 7004 "internet, provider killed"
  start_provider "${ADDR%/p2p/*}"  # the same address: the developer's peerctl knows it
  policy_holds "$A"

  # -- removed from outside (a firewall reload, a flush): put back within the check interval --
  # Our chain flushed, and FORWARD's jump to the engine's user chain moved last, below the
  # engine's ACCEPT rules (as a copy left by the engine's own delete-and-insert sinks when later
  # networks are made): that chain, and ours, would no longer see a container's traffic.
  iptables -w -F PC-EGRESS
  iptables -w -D FORWARD -j DOCKER-USER
  iptables -w -A FORWARD -j DOCKER-USER
  forward_hooked() {
    [ "$(iptables -w -S FORWARD | sed -n 2p)" = "-A FORWARD -j DOCKER-USER" ] &&
      [ "$(iptables -w -S FORWARD | grep -c -- '-j DOCKER-USER$')" = 1 ]
  }
  for _ in $(seq 1 50); do
    iptables -w -S PC-EGRESS | grep -q "pc:$A" && forward_hooked && break
    sleep 0.2
  done
  iptables -w -S PC-EGRESS | grep -q "pc:$A" && forward_hooked && grep -q "put back" "$W/prov.log" &&
    ok "flushed rules and FORWARD's jump put back (and logged)" ||
    ko "rules not put back: $(iptables -S PC-EGRESS; iptables -S FORWARD | head -3)"
  expect_closed "$A" 10.77.1.2 7001 "LAN host, after the flush"

  # -- the host's resolvers change (DHCP on another network): the rules follow -----------------
  # A resolver on the LAN host named first: its port 53 opens within the check interval, nothing
  # else of it does; named no more: closed again (the old policy chains are dropped).
  # name_first ADDR: the engine's resolv.conf names ADDR before the host's own (replaced whole).
  name_first() {
    { echo "nameserver $1"; cat /etc/resolv.conf; } >"$W/resolv.conf.new"
    mv "$W/resolv.conf.new" "$W/resolv.conf"
  }
  expect_closed "$A" 10.77.1.2 53 "LAN host's port 53, not a resolver yet"
  name_first 10.77.1.2
  for _ in $(seq 1 50); do opens "$A" 10.77.1.2 53 && break; sleep 0.2; done
  expect_open "$A" 10.77.1.2 53 "a resolver the host names after start"
  grep -q "resolvers are now 10.77.1.2" "$W/prov.log" && ok "the change is logged" ||
    ko "the resolver change is not logged: $(grep egress "$W/prov.log" | tail -3)"
  expect_closed "$A" 10.77.1.2 7001 "the new resolver's other ports"
  mid=$(iptables -w -S PC-EGRESS | grep "pc:$A" | sed 's/.* -g //')
  # (Another resolver first, not just the original file: a host behind systemd-resolved's stub
  # may give no usable one, and an empty list keeps the last.)
  name_first 198.18.77.2
  for _ in $(seq 1 50); do opens "$A" 10.77.1.2 53 || break; sleep 0.2; done
  expect_closed "$A" 10.77.1.2 53 "a resolver the host no longer names"
  [ -n "$mid" ] && ! iptables -w -S "$mid" >/dev/null 2>&1 &&
    ok "the policy chain of the old resolvers ($mid) is dropped" ||
    ko "policy chain '$mid' left: $(iptables -w -S "$mid" 2>&1 | head -3)"

  # -- a dockerd restart: the containers come back (restarted by the provider) confined --------
  old=$(pgrep -x dockerd)
  kill "$old"
  for _ in $(seq 1 150); do kill -0 "$old" 2>/dev/null || break; sleep 0.2; done
  rm -f /var/run/docker.pid
  setsid dockerd >>/var/log/peercompute-dockerd.log 2>&1 </dev/null &
  for _ in $(seq 1 150); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
  for _ in $(seq 1 150); do
    [ "$(docker inspect -f '{{.State.Running}}' "pc-$A" 2>/dev/null)" = true ] && break; sleep 0.2
  done
  [ "$(docker inspect -f '{{.State.Running}}' "pc-$A" 2>/dev/null)" = true ] &&
    ok "dockerd restarted; the provider started the deployment again" ||
    ko "deployment not running after the dockerd restart: $(tail -5 "$W/prov.log")"
  policy_holds "$A"
  docker exec "pc-$N" true 2>/dev/null && expect_closed "$N" 198.18.77.2 7004 "internet, --network none after the restart"
fi

# -- stop: the deployment's rules go with it -------------------------------------------------
as stop "$A" >"$W/stop.out" 2>&1 || ko "stop: $(cat "$W/stop.out")"
iptables -w -S PC-EGRESS | grep -q "pc:$A" && ko "rules of a stopped deployment remain: $(grep "$A" "$W/prov.log" | tail -3)" ||
  ok "a stopped deployment's rules are removed"
iptables -w -S PC-EGRESS | grep -q "pc:$B" && ok "the other deployment's rules stay" ||
  ko "the other deployment lost its rules"
kill "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; DPID=
[ $fails -eq 0 ] && echo "all egress checks passed ($RUNTIME)" || echo "$fails egress checks failed ($RUNTIME)"
[ $fails -eq 0 ]
