#!/usr/bin/env python3
"""A dumb TCP splice for the NAT lab: accepts two connections on HOST:PORT and copies bytes
between them until either side closes. Stands in for a relay's circuit (no relay protocol)."""
import socket, sys, threading

host, port = sys.argv[1], int(sys.argv[2])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((host, port))
srv.listen(2)
srv.settimeout(30)
a, _ = srv.accept()
b, _ = srv.accept()

def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

t = threading.Thread(target=pump, args=(b, a), daemon=True)
t.start()
pump(a, b)
t.join(2)
