#!/usr/bin/env bash
# The gateway's authoritative DNS, asked by dig (Debian's dnsutils): A/AAAA for the apex and deep
# names, SOA/NS, the aa flag and no ra, REFUSED outside the zone, TCP, truncation of a UDP
# answer too big for 512 bytes (and the same query whole over TCP), EDNS0 (OPT in the reply),
# and the per-source response budget (a burst gets fewer answers than queries; the log names the
# setting). One gateway on 127.0.0.1 with ephemeral ports; a few seconds.
#
#   dns_dig_test.sh <peergateway>
set -uo pipefail
GATEWAY=${1:?usage: dns_dig_test.sh <peergateway>}
command -v dig >/dev/null || { echo "FAIL - dig not found (scripts/install-deps.sh installs dnsutils)"; exit 1; }
PC_SUITE=dns-dig
# shellcheck source=../lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
GPID=
suite_cleanup() {
  [ -n "$GPID" ] && kill "$GPID" 2>/dev/null && wait "$GPID" 2>/dev/null
  return 0
}

# 24 IPv6 addresses: their AAAA answer (24 × 28 bytes) does not fit 512 bytes.
V6=()
for i in $(seq 1 24); do V6+=(--public-ip "2001:db8::$(printf '%x' "$i")"); done
"$GATEWAY" --data-dir "$W/gw" --http-port 0 --tunnel-listen /ip4/127.0.0.1/tcp/0 \
  --domain Example.test --dns-listen 127.0.0.1:0 --public-ip 192.0.2.10 --public-ip 192.0.2.11 \
  "${V6[@]}" --dns-responses-per-second 5 --dns-response-burst 20 >"$W/gw.log" 2>&1 &
GPID=$!
wait_for "$W/gw.log" "DNS listening" || { ko "gateway did not start: $(cat "$W/gw.log")"; exit 1; }
PORT=$(sed -n 's|^DNS listening on 127.0.0.1:\([0-9]*\) .*|\1|p' "$W/gw.log")
ok "gateway serves DNS on 127.0.0.1:$PORT"
# No retries: a lost answer must show, not be hidden by dig asking again.
q() { dig @127.0.0.1 -p "$PORT" +tries=1 +time=2 "$@"; }

# A for the apex and a deep name, in the case asked.
got=$(q +short example.test A | sort | tr '\n' ' ')
[ "$got" = "192.0.2.10 192.0.2.11 " ] && ok "apex A: $got" || ko "apex A: '$got'"
out=$(q +noall +answer +norecurse DeP-1.a.b.EXAMPLE.test A)
grep -q '^DeP-1\.a\.b\.EXAMPLE\.test\..*IN[[:space:]]*A[[:space:]]*192\.0\.2\.10' <<<"$out" &&
  ok "deep name A, question's case kept" || ko "deep name A: $out"
got=$(q +short +edns=0 x.example.test AAAA | wc -l)
[ "$got" = 24 ] && ok "AAAA (24 records with EDNS)" || ko "AAAA: $got records"

# SOA and NS; aa set, ra not, rd copied.
# (The names in the rdata are written as --domain was given: Example.test.)
soa=$(q +short example.test SOA | tr 'A-Z' 'a-z')
[[ "$soa" == "ns1.example.test. hostmaster.example.test. "* ]] && ok "SOA: $soa" || ko "SOA: '$soa'"
ns=$(q +short example.test NS | tr 'A-Z' 'a-z')
[ "$ns" = "ns1.example.test." ] && ok "NS: $ns" || ko "NS: '$ns'"
flags=$(q example.test A | sed -n 's/^;; flags: \([^;]*\);.*/\1/p')
[[ " $flags " == *" aa "* && " $flags " != *" ra "* && " $flags " == *" rd "* ]] &&
  ok "flags: $flags (aa, no ra)" || ko "flags: '$flags'"
nodata=$(q www.example.test MX)
grep -q 'status: NOERROR' <<<"$nodata" && grep -q 'AUTHORITY: 1' <<<"$nodata" &&
  grep -q 'ANSWER: 0' <<<"$nodata" && ok "MX under the zone: NODATA with the SOA" || ko "MX: $nodata"

# Outside the zone: REFUSED, not authoritative.
out=$(q www.example.com A)
grep -q 'status: REFUSED' <<<"$out" && ! grep -q 'flags:.* aa' <<<"$out" &&
  ok "outside the zone: REFUSED" || ko "outside: $out"
out=$(q notexample.test A)
grep -q 'status: REFUSED' <<<"$out" && ok "a sibling suffix (notexample.test): REFUSED" || ko "sibling: $out"

# TCP.
got=$(q +tcp +short a.example.test A | wc -l)
[ "$got" = 2 ] && ok "TCP answer" || ko "TCP: $got records"

# Truncation: without EDNS the 24 AAAA do not fit 512 bytes → TC; over TCP they all come.
out=$(q +noedns +ignore big.example.test AAAA)
grep -q 'flags:.* tc' <<<"$out" && grep -q 'ANSWER: 0' <<<"$out" &&
  ok "UDP without EDNS: TC set, no partial answer" || ko "no TC: $out"
got=$(q +noedns +short big.example.test AAAA | wc -l)  # dig retries over TCP on TC
[ "$got" = 24 ] && ok "the same query after TC, over TCP: 24 records" || ko "after TC: $got records"

# EDNS0: an OPT in the reply, announcing our UDP size.
out=$(q +edns=0 +bufsize=4096 example.test A)
grep -q 'OPT PSEUDOSECTION' <<<"$out" && grep -q 'udp: 1232' <<<"$out" &&
  ok "EDNS0: OPT in the reply (udp: 1232)" || ko "EDNS: $out"
out=$(q +edns=1 +noednsnegotiation example.test A)
grep -q 'BADVERS' <<<"$out" && ok "EDNS version 1: BADVERS" || ko "EDNS1: $out"

# Response budget: 200 queries in one burst from one source (burst 20, 5/s): fewer answers,
# some of them truncated slips; the log names the setting. dig asks one query at a time (a
# dropped one costs its whole timeout), so the burst is sent by a few lines of Python.
read -r full slipped < <(python3 - "$PORT" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(200):
    name = b"".join(bytes([len(l)]) + l for l in [b"b%d" % i, b"example", b"test"]) + b"\0"
    s.sendto(struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0) + name + struct.pack(">HH", 1, 1),
             ("127.0.0.1", int(sys.argv[1])))
s.settimeout(1.0)
full = slipped = 0
try:
    while True:
        r = s.recv(2048)
        if r[2] & 0x02: slipped += 1
        else: full += 1
except socket.timeout:
    pass
print(full, slipped)
PY
)
# (The queries above already spent part of the burst.)
if [ "$((full + slipped))" -lt 200 ] && [ "$full" -le 40 ] && [ "$slipped" -gt 0 ]; then
  ok "burst of 200: $full answered, $slipped truncated (slip), the rest dropped"
else
  ko "burst of 200: $full answered, $slipped truncated"
fi
grep -q 'dns_responses_per_second = 5' "$W/gw.log" && ok "the log names dns_responses_per_second" ||
  ko "no budget line in the log: $(tail -5 "$W/gw.log")"

kill "$GPID" 2>/dev/null && wait "$GPID" 2>/dev/null
GPID=
[ "$fails" -eq 0 ] && echo "dns_dig: all passed" || echo "dns_dig: $fails failed"
exit "$fails"
