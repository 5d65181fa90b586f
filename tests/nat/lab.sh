#!/usr/bin/env bash
# The NAT lab: two LANs behind port-preserving masquerading routers on a "public" segment, in
# network namespaces (docs/research/relay-dcutr.md §5.4). Source it, then:
#
#   lab_require || exit 77   # not root / no `ip netns`: prints why (ctest SKIP_RETURN_CODE 77)
#   lab_up                   # builds it; teardown is trapped (EXIT INT TERM)
#   lab_exec home CMD...     # runs CMD in a namespace: pub gw rh ro home office
#   lab_spawn home CMD...    # the same in the background; LAB_PID is CMD's pid
#   lab_down                 # removes every namespace of this run (idempotent)
#
#   public segment 198.18.0.0/24 (bridge in "pub"): gw 198.18.0.1, rh 198.18.0.2, ro 198.18.0.3
#   home   10.1.1.2 ── rh (lan 10.1.1.1)  ── wan 198.18.0.2
#   office 10.2.2.2 ── ro (lan 10.2.2.1)  ── wan 198.18.0.3
#
# The routers MASQUERADE without --random (the source port is kept when free: mapping is
# endpoint independent for one internal ip:port), forward from the WAN only the reply direction
# of connections the LAN opened (FORWARD policy DROP + ESTABLISHED,RELATED), and DROP unsolicited
# packets to their own WAN address (without it an early SYN is answered with RST by the router
# and a simultaneous open fails with ECONNREFUSED). Each router WAN gets netem delay 10ms when
# the kernel has sch_netem (LAB_NETEM=1).
#
# Only namespaces of this run are created: interfaces are made inside them (never in the root
# namespace), and the root namespace's routes and firewall are never touched.

LAB_PREFIX="${LAB_PREFIX:-pcn$(printf '%x' $$)}"
LAB_NAMESPACES=(pub gw rh ro home office)
LAB_UP=0
LAB_NETEM=0 # 1 once lab_up added the 10 ms WAN delay (the kernel may lack sch_netem)

lab_require() {
  if [[ $(id -u) -ne 0 ]]; then
    echo "SKIP: the NAT lab needs root (network namespaces, iptables)"
    return 1
  fi
  local probe="${LAB_PREFIX}-probe"
  if ! ip netns add "$probe" 2>/dev/null; then
    echo "SKIP: \`ip netns\` is not usable here"
    return 1
  fi
  ip netns del "$probe"
  for tool in iptables tc; do
    if ! command -v "$tool" >/dev/null; then
      echo "SKIP: $tool is missing"
      return 1
    fi
  done
}

lab_ns() { echo "${LAB_PREFIX}-$1"; }

lab_exec() {
  local ns="$1"
  shift
  ip netns exec "$(lab_ns "$ns")" "$@"
}

# lab_spawn NS CMD...: runs CMD in NS in the background; LAB_PID is its pid (not a subshell's).
lab_spawn() {
  local ns="$1"
  shift
  ip netns exec "$(lab_ns "$ns")" "$@" &
  LAB_PID=$!
}

lab_down() {
  local n pids
  for n in "${LAB_NAMESPACES[@]}"; do
    # Processes this run started in the namespace (a deleted namespace would not stop them).
    pids=$(ip netns pids "$(lab_ns "$n")" 2>/dev/null)
    [[ -n "$pids" ]] && kill $pids 2>/dev/null
    ip netns del "$(lab_ns "$n")" 2>/dev/null || true
  done
  LAB_UP=0
}

# _lab_wan NS IP: a veth from the bridge in pub to "wan" in NS, with IP/24.
_lab_wan() {
  local ns="$1" ip="$2" pub
  pub=$(lab_ns pub)
  ip -n "$pub" link add "v$ns" type veth peer name wan netns "$(lab_ns "$ns")"
  ip -n "$pub" link set "v$ns" master br0 up
  ip -n "$(lab_ns "$ns")" addr add "$ip/24" dev wan
  ip -n "$(lab_ns "$ns")" link set wan up
}

# _lab_router ROUTER HOST SUBNET (x.y.z): the LAN, the host's default route and the NAT rules.
_lab_router() {
  local r="$1" h="$2" net="$3" R
  ip -n "$(lab_ns "$r")" link add lan type veth peer name eth0 netns "$(lab_ns "$h")"
  ip -n "$(lab_ns "$r")" addr add "$net.1/24" dev lan
  ip -n "$(lab_ns "$r")" link set lan up
  ip -n "$(lab_ns "$h")" addr add "$net.2/24" dev eth0
  ip -n "$(lab_ns "$h")" link set eth0 up
  ip -n "$(lab_ns "$h")" route add default via "$net.1"
  lab_exec "$r" sysctl -qw net.ipv4.ip_forward=1
  R="lab_exec $r iptables"
  $R -t nat -A POSTROUTING -o wan -j MASQUERADE
  $R -P FORWARD DROP
  $R -A FORWARD -i lan -o wan -j ACCEPT
  $R -A FORWARD -i wan -o lan -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  $R -A INPUT -i wan -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  $R -A INPUT -i wan -j DROP
  # Without sch_netem in the kernel the lab still works, with ~0.05 ms links (LAB_NETEM says).
  if lab_exec "$r" tc qdisc add dev wan root netem delay 10ms 2>/dev/null; then
    LAB_NETEM=1
  else
    LAB_NETEM=0
  fi
}

lab_up() {
  trap lab_down EXIT
  trap 'lab_down; exit 130' INT TERM
  local n
  for n in "${LAB_NAMESPACES[@]}"; do
    ip netns add "$(lab_ns "$n")" || return 1
    ip -n "$(lab_ns "$n")" link set lo up
  done
  LAB_UP=1
  ip -n "$(lab_ns pub)" link add br0 type bridge
  ip -n "$(lab_ns pub)" link set br0 up
  _lab_wan gw 198.18.0.1 && _lab_wan rh 198.18.0.2 && _lab_wan ro 198.18.0.3 || return 1
  _lab_router rh home 10.1.1 && _lab_router ro office 10.2.2 || return 1
}
