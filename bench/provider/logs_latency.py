#!/usr/bin/env python3
"""Log delivery latency: a line stamped by the engine when the container wrote it, to the moment
the follower printed it. Reads `<cmd> -t` output (each line starts with an RFC 3339 UTC timestamp
from the engine) and records arrival time minus that timestamp.

    logs_latency.py <seconds> <cmd...>
"""
import datetime
import subprocess
import sys
import time

seconds = float(sys.argv[1])
cmd = sys.argv[2:]
p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=0)
lat = []
end = time.time() + seconds
buf = b""
started = time.time()
while time.time() < end:
    chunk = p.stdout.read1(65536) if hasattr(p.stdout, "read1") else p.stdout.read(1)
    now = time.time()
    if not chunk:
        break
    buf += chunk
    while b"\n" in buf:
        line, buf = buf.split(b"\n", 1)
        ts = line.split(b" ", 1)[0].decode()
        if "tick" not in line.decode(errors="replace"):
            continue
        try:
            t = datetime.datetime.fromisoformat(ts.replace("Z", "").split(".")[0]).replace(
                tzinfo=datetime.timezone.utc).timestamp()
            frac = ts.split(".")[1].rstrip("Z") if "." in ts else "0"
            t += float("0." + frac)
        except Exception:
            continue
        if t < started:  # history printed at start, not a live line
            continue
        lat.append((now - t) * 1000)
p.kill()
lat.sort()
if not lat:
    print("no lines")
    sys.exit(1)
pick = lambda q: lat[min(len(lat) - 1, int(q * (len(lat) - 1) + 0.5))]
print(f"{len(lat)} lines  p50 {pick(0.5):6.2f} ms  p90 {pick(0.9):6.2f} ms  p99 {pick(0.99):6.2f} ms  max {lat[-1]:6.2f} ms")
