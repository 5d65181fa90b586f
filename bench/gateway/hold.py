#!/usr/bin/env python3
"""Opens `n` keep-alive connections through a proxy, makes one request on each (so each holds a
proxied upstream connection), then keeps them idle until stdin closes. Prints "ready" when all
are open.    hold.py <host> <port> <Host header> <n>"""
import resource
import socket
import sys

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

host, port, hhost, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
socks = []
req = f"GET / HTTP/1.1\r\nHost: {hhost}\r\n\r\n".encode()
for _ in range(n):
    s = socket.create_connection((host, port))
    s.sendall(req)
    socks.append(s)
for s in socks:
    got = b""
    while b"hello, world\n" not in got:
        chunk = s.recv(4096)
        if not chunk:
            sys.exit("a connection closed before its answer")
        got += chunk
print("ready", flush=True)
sys.stdin.read()
