#!/usr/bin/env python3
"""Constant-rate latency probe: `rate` requests/s for `seconds` over one keep-alive connection,
latency measured from each request's scheduled send time (no coordinated omission).

    latency.py <host> <port> <Host header> <rate> <seconds>
Prints: n, p50, p90, p99, max in microseconds.
"""
import socket
import sys
import time

host, port, hhost, rate, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
req = f"GET / HTTP/1.1\r\nHost: {hhost}\r\n\r\n".encode()
def connect():
    c = socket.create_connection((host, port))
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return c


s = connect()
lat = []
interval = 1.0 / rate
start = time.perf_counter() + 0.2
n = int(rate * secs)
buf = b""
for i in range(n):
    due = start + i * interval
    now = time.perf_counter()
    if due > now:
        time.sleep(due - now)
    s.sendall(req)
    retried = False
    while True:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            head = buf[:end].decode()
            cl = 0
            for line in head.split("\r\n")[1:]:
                k, _, v = line.partition(":")
                if k.lower() == "content-length":
                    cl = int(v)
            if len(buf) >= end + 4 + cl:
                buf = buf[end + 4 + cl:]
                break
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            # The proxy closed the keep-alive connection (nginx does so after 1000 requests):
            # reconnect and send again; the time counts against the request.
            if retried:
                sys.exit("connection closed twice in a row")
            retried = True
            s.close()
            s = connect()
            buf = b""
            s.sendall(req)
            continue
        buf += chunk
    lat.append((time.perf_counter() - due) * 1e6)
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * (len(lat) - 1) + 0.5))]
print(f"{len(lat)} {q(0.5):.0f} {q(0.9):.0f} {q(0.99):.0f} {lat[-1]:.0f}")
