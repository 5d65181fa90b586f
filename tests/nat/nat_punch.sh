#!/usr/bin/env bash
# DCUtR through two NATs (lab.sh): home and office each reach a Host in gw directly (learning
# their mapped address), share a "relayed" connection over a TCP splice in gw, and the
# coordinator must punch a direct connection between them: office (A, dialled through the
# "relay") as the client, home (B) as the server, from their listen ports through both NATs.
# Usage: nat_punch.sh <nat_punch binary>. Exit 0 pass, 1 fail, 77 skip (not root / no netns).
set -u
here="$(cd "$(dirname "$0")" && pwd)"
bin="$(realpath "$1")"
# shellcheck source=lab.sh
source "$here/lab.sh"
lab_require || exit 77
lab_up || { echo "FAIL: lab_up"; exit 1; }
py="$(command -v python3)"
dir="$(mktemp -d)"
trap 'lab_down; rm -rf "$dir"' EXIT

lab_spawn gw "$bin" gw --listen /ip4/198.18.0.1/tcp/4000 >"$dir/gw.log" 2>&1
gwpid=$LAB_PID
lab_spawn gw "$py" "$here/splice.py" 198.18.0.1 5000
splicepid=$LAB_PID
sleep 0.5
lab_spawn home "$bin" peer --name home --port 4001 --gw 198.18.0.1 \
  --splice 198.18.0.1/tcp/5000 --dir "$dir" --role b >"$dir/home.out" 2>"$dir/home.log"
h=$LAB_PID
lab_spawn office "$bin" peer --name office --port 4002 --gw 198.18.0.1 \
  --splice 198.18.0.1/tcp/5000 --dir "$dir" --role a >"$dir/office.out" 2>"$dir/office.log"
o=$LAB_PID
fail=0
wait $h || fail=1
wait $o || fail=1
kill $gwpid $splicepid 2>/dev/null
wait $gwpid $splicepid 2>/dev/null
cat "$dir/home.out" "$dir/office.out"
grep -q "DIRECT /ip4/10.1.1.2/tcp/4001 -> /ip4/198.18.0.3/tcp/4002 role=server" "$dir/home.out" ||
  fail=1
grep -q "DIRECT /ip4/10.2.2.2/tcp/4002 -> /ip4/198.18.0.2/tcp/4001 role=client" "$dir/office.out" ||
  fail=1
if [[ $fail -ne 0 ]]; then
  echo "--- home log"; cat "$dir/home.log"; echo "--- office log"; cat "$dir/office.log"
  echo "FAIL: DCUtR through the NAT lab"
else
  echo "PASS: DCUtR through the NAT lab"
fi
exit $fail
