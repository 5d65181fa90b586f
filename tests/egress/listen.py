#!/usr/bin/env python3
"""Accepts TCP connections on every ADDR:PORT given and closes them at once (a service a probe
may or may not reach). Prints READY when all are bound. Runs until killed."""
import selectors
import socket
import sys

sel = selectors.DefaultSelector()
for spec in sys.argv[1:]:
    addr, port = spec.rsplit(":", 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, int(port)))
    s.listen(64)
    sel.register(s, selectors.EVENT_READ)
print("READY", flush=True)
while True:
    for key, _ in sel.select():
        conn, _ = key.fileobj.accept()
        conn.close()
