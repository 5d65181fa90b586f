#!/usr/bin/env bash
# Proves the NAT lab (lab.sh): a TCP simultaneous open between home and office through both
# NATs succeeds, an unsolicited connect from the public segment into a LAN does not, and an
# outbound connect from a LAN is seen at its router's WAN address with the port kept.
# Exit 0 pass, 1 fail, 77 skip (not root / no netns).
set -u
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=lab.sh
source "$here/lab.sh"
lab_require || exit 77
lab_up || { echo "FAIL: lab_up"; exit 1; }
py="$(command -v python3)"
[[ $LAB_NETEM -eq 1 ]] || echo "note: no sch_netem here: WAN links have no added delay"
fail=0

# 1. Outbound from home is mapped to 198.18.0.2 with its source port kept.
lab_spawn gw "$py" -c '
import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.0.1", 4000)); s.listen(1); s.settimeout(5); c, peer = s.accept(); print(peer[0], peer[1])
' >"/tmp/$LAB_PREFIX.seen"
sleep 0.3
lab_exec home "$py" -c '
import socket; s = socket.socket(); s.bind(("0.0.0.0", 4011)); s.settimeout(5); s.connect(("198.18.0.1", 4000))'
wait
seen="$(cat "/tmp/$LAB_PREFIX.seen")"; rm -f "/tmp/$LAB_PREFIX.seen"
if [[ "$seen" == "198.18.0.2 4011" ]]; then echo "ok: gw sees home as 198.18.0.2:4011"
else echo "FAIL: gw saw home as '$seen'"; fail=1; fi

# 2. Simultaneous open, office 0.3 s after home (its first SYN is dropped by rh until home's
#    own SYN has created the mapping; the retransmission or home's SYN gets through).
lab_spawn home "$py" "$here/simopen.py" --name home --port 4001 --remote 198.18.0.3:4002
h=$LAB_PID
lab_spawn office "$py" "$here/simopen.py" --name office --port 4002 --remote 198.18.0.2:4001 \
  --delay 0.3
o=$LAB_PID
wait $h || fail=1
wait $o || fail=1

# 3. Unsolicited: gw connects to home's router while home listens: dropped, times out.
lab_spawn home "$py" -c '
import socket, time; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 4101)); s.listen(1); time.sleep(4)'
l=$LAB_PID
sleep 0.3
if lab_exec gw "$py" -c '
import socket, sys; s = socket.socket(); s.settimeout(2)
try: s.connect(("198.18.0.2", 4101))
except OSError as e: print("ok: unsolicited connect into the LAN failed:", e); sys.exit(1)
print("FAIL: unsolicited connect into the LAN succeeded")'; then fail=1; fi
kill $l 2>/dev/null; wait $l 2>/dev/null

[[ $fail -eq 0 ]] && echo "PASS: NAT lab" || echo "FAIL: NAT lab"
exit $fail
