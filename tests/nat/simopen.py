#!/usr/bin/env python3
"""TCP simultaneous-open probe for the NAT lab: listens on PORT (SO_REUSEADDR+SO_REUSEPORT),
then after DELAY connects to REMOTE from that same port. Prints CONNECTED and exits 0 when the
outgoing connection came up, exchanged a line both ways, and the listener accepted nothing."""
import argparse, socket, sys, time

p = argparse.ArgumentParser()
p.add_argument("--port", type=int, required=True)
p.add_argument("--remote", required=True, help="ip:port")
p.add_argument("--delay", type=float, default=0.0)
p.add_argument("--timeout", type=float, default=8.0)
p.add_argument("--name", default="probe")
a = p.parse_args()

def shared():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("0.0.0.0", a.port))
    return s

listener = shared()
listener.listen(8)
listener.setblocking(False)
time.sleep(a.delay)
host, port = a.remote.rsplit(":", 1)
out = shared()
out.settimeout(a.timeout)
t0 = time.monotonic()
try:
    out.connect((host, int(port)))
    out.sendall(f"hello from {a.name}\n".encode())
    line = out.makefile().readline().strip()
except OSError as e:
    print(f"{a.name}: FAILED {e}")
    sys.exit(1)
try:
    listener.accept()
    print(f"{a.name}: the listener accepted a connection (not a simultaneous open)")
    sys.exit(1)
except BlockingIOError:
    pass
print(f"{a.name}: CONNECTED {out.getsockname()} -> {out.getpeername()} in "
      f"{time.monotonic() - t0:.2f}s, got {line!r}")
