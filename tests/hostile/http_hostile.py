#!/usr/bin/env python3
"""Hostile and heavy HTTP clients for the gateway suites (stdlib only).

    http_hostile.py smuggle <port> <host>
        request-smuggling shapes and oversized headers; one line per case:
        "case <name>: status=<code> responses=<n> closed=<0|1>"
    http_hostile.py slowloris <port> <host> <count> <seconds>
        count clients trickle a header line every 0.5 s; prints "cut C of N, last after T ms"
    http_hostile.py ws-noread <port> <host> <path> <count> <seconds>
        count clients upgrade to WebSocket and never read after the 101; prints
        "upgraded K of N" at once, holds them for <seconds>, prints "done"
    http_hostile.py noread <port> <host> <path> <count> <sources> <limit-seconds>
        count clients ask for a (large) body and never read it; see noread()
    http_hostile.py forwarding <port> <host>
        forged forwarding fields; prints the request head the deployment saw (echo image)
    http_hostile.py idle <port> <host> <path> <count> <keepalive> <stop-file> [sources]
        count connections, the first <keepalive> of which make one request and then stay idle
        (keep-alive); the rest connect and send nothing. Prints "held N (keepalive K ok)", holds
        until stop-file exists, then prints "still-open S; reused R of K" (the keep-alive ones
        make a second request on the same connection). With sources > 1 the connections come
        from that many loopback addresses, 127.0.1.1 onwards, in turn (many clients, as the
        gateway's per-address connection limit sees them)
"""
import os
import selectors
import socket
import sys
import time


def connect(port, source=None):
    s = socket.create_connection(("127.0.0.1", port), timeout=10,
                                 source_address=(source, 0) if source else None)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_all(s, limit=5.0):
    """Everything the server sends until it closes (closed=True) or `limit` seconds pass."""
    s.settimeout(limit)
    data = b""
    deadline = time.monotonic() + limit
    try:
        while time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                return data, True
            data += chunk
    except (socket.timeout, TimeoutError):
        return data, False
    except (ConnectionResetError, BrokenPipeError):
        return data, True
    return data, False


def smuggle(port, host):
    smuggled = b"GET /smuggled HTTP/1.1\r\nHost: %s\r\n\r\n" % host.encode()

    def head(lines):
        return ("POST / HTTP/1.1\r\nHost: %s\r\n" % host).encode() + b"".join(
            l + b"\r\n" for l in lines) + b"\r\n"

    chunked_body = b"0\r\n\r\n"
    cases = [
        ("cl-and-te", head([b"Content-Length: 5", b"Transfer-Encoding: chunked"]) + chunked_body + smuggled),
        ("te-and-cl", head([b"Transfer-Encoding: chunked", b"Content-Length: 5"]) + chunked_body + smuggled),
        ("te-chunked-identity", head([b"Transfer-Encoding: chunked, identity"]) + chunked_body + smuggled),
        ("te-identity", head([b"Transfer-Encoding: identity"]) + chunked_body + smuggled),
        ("te-xchunked", head([b"Transfer-Encoding: xchunked"]) + chunked_body + smuggled),
        ("te-two-headers", head([b"Transfer-Encoding: chunked", b"Transfer-Encoding: identity"]) + chunked_body + smuggled),
        ("te-identity-then-chunked", head([b"Transfer-Encoding: identity", b"Transfer-Encoding: chunked"]) + chunked_body + smuggled),
        ("te-space-before-colon", head([b"Transfer-Encoding : chunked", b"Content-Length: 5"]) + chunked_body + smuggled),
        ("te-vertical-tab", head([b"Transfer-Encoding:\x0bchunked", b"Content-Length: 5"]) + chunked_body + smuggled),
        ("te-obs-fold", head([b"Transfer-Encoding:", b" chunked", b"Content-Length: 5"]) + chunked_body + smuggled),
        ("te-chunked-chunked", head([b"Transfer-Encoding: chunked, chunked"]) + chunked_body + smuggled),
        ("cl-duplicate-different", head([b"Content-Length: 5", b"Content-Length: 6"]) + b"hello!" + smuggled),
        ("cl-duplicate-same", head([b"Content-Length: 5", b"Content-Length: 5"]) + b"hello" + smuggled),
        ("cl-list", head([b"Content-Length: 5, 6"]) + b"hello!" + smuggled),
        ("cl-plus-sign", head([b"Content-Length: +5"]) + b"hello" + smuggled),
        ("cl-negative", head([b"Content-Length: -1"]) + b"hello" + smuggled),
        ("cl-huge", head([b"Content-Length: 99999999999999999999999"]) + b"hello"),
        ("chunk-size-overflow", head([b"Transfer-Encoding: chunked"]) + b"ffffffffffffffffff1\r\nx\r\n0\r\n\r\n"),
        ("chunk-bad-size", head([b"Transfer-Encoding: chunked"]) + b"zz\r\nx\r\n0\r\n\r\n" + smuggled),
        ("lf-only-line-ends", ("GET / HTTP/1.1\nHost: %s\nContent-Length: 0\n\n" % host).encode()),
        ("nul-in-header", head([b"X-A: a\x00b"])),
        ("header-20k", head([b"X-Big: " + b"a" * 20000])),
        ("headers-2000", head([b"X-H%d: v" % i for i in range(2000)])),
        ("request-line-20k", ("GET /%s HTTP/1.1\r\nHost: %s\r\n\r\n" % ("a" * 20000, host)).encode()),
        ("absolute-form", ("GET http://evil.example/ HTTP/1.1\r\nHost: %s\r\n\r\n" % host).encode()),
        ("connect-method", ("CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: %s\r\n\r\n" % host).encode()),
        ("http-0.9", b"GET /\r\n\r\n"),
        ("no-host-http11", b"GET / HTTP/1.1\r\n\r\n"),
        ("two-hosts", ("GET / HTTP/1.1\r\nHost: %s\r\nHost: other.localhost\r\n\r\n" % host).encode()),
        ("two-hosts-other-first", ("GET / HTTP/1.1\r\nHost: other.localhost\r\nHost: %s\r\n\r\n" % host).encode()),
        ("http10-chunked", ("POST / HTTP/1.0\r\nHost: %s\r\nTransfer-Encoding: chunked\r\n\r\n" % host).encode()
         + chunked_body + smuggled),
    ]
    for name, payload in cases:
        try:
            s = connect(port)
            s.sendall(payload)
            data, closed = read_all(s, 5.0)
            s.close()
        except OSError as e:
            print("case %s: error=%s" % (name, e), flush=True)
            continue
        responses = data.count(b"HTTP/1.1 ") + data.count(b"HTTP/1.0 ")
        status = data[9:12].decode(errors="replace") if data.startswith(b"HTTP/") else "-"
        smuggled_seen = b"/smuggled" in data or responses > 1
        print("case %s: status=%s responses=%d closed=%d smuggled=%d" %
              (name, status, responses, int(closed), int(smuggled_seen)), flush=True)


def slowloris(port, host, count, seconds):
    socks = []
    for _ in range(count):
        s = connect(port)
        s.sendall(("GET / HTTP/1.1\r\nHost: %s\r\n" % host).encode())
        s.setblocking(False)
        socks.append(s)
    t0 = time.monotonic()
    alive = set(range(count))
    last = 0
    while alive and time.monotonic() - t0 < seconds:
        for i in list(alive):
            try:
                socks[i].send(b"X-Slow: 1\r\n")
                if socks[i].recv(1024) == b"":
                    raise ConnectionResetError
            except BlockingIOError:
                pass
            except OSError:
                alive.discard(i)
                last = int((time.monotonic() - t0) * 1000)
        time.sleep(0.5)
    for s in socks:
        s.close()
    print("cut %d of %d, last after %d ms" % (count - len(alive), count, last), flush=True)


def ws_noread(port, host, path, count, seconds):
    socks, upgraded = [], 0
    req = ("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
           % (path, host)).encode()
    for _ in range(count):
        s = connect(port)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(req)
        s.settimeout(10)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(1)  # byte by byte: read nothing past the 101's header
            if not chunk:
                break
            data += chunk
        if data.startswith(b"HTTP/1.1 101"):
            upgraded += 1
        socks.append(s)
    print("upgraded %d of %d" % (upgraded, count), flush=True)
    time.sleep(seconds)
    for s in socks:
        s.close()
    print("done", flush=True)


def tcp_state(s):
    """The kernel's TCP state of a socket (1 established, 7 closed, 8 close-wait)."""
    return s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]


def noread(port, host, path, count, sources, limit):
    """count clients (from `sources` loopback addresses, 127.0.2.1 onwards) ask for `path` and
    never read. Prints "sent N" at once, then, once every connection has ended (or `limit`
    seconds pass): "refused R (429 Q, 503 S); cut C after T ms; open O" — refused ones got an
    answer head at once (peeked, not read), cut ones were reset while holding their stream."""
    socks = []
    for i in range(count):
        src = "127.0.2.%d" % (1 + i % sources)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.bind((src, 0))
        s.connect(("127.0.0.1", port))
        s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (path, host)).encode())
        socks.append(s)
    print("sent %d" % count, flush=True)
    t0 = time.monotonic()
    kinds = {}
    last = 0
    while time.monotonic() - t0 < limit:
        for i, s in enumerate(socks):
            if i in kinds:
                continue
            try:
                peek = s.recv(12, socket.MSG_PEEK | socket.MSG_DONTWAIT)
            except BlockingIOError:
                peek = b""
            except OSError:
                peek = b"reset"
            if peek.startswith(b"HTTP/1.1 429") or peek.startswith(b"HTTP/1.1 503"):
                kinds[i] = peek[9:12].decode()
            elif tcp_state(s) != 1 or peek == b"reset":
                kinds[i] = "cut"
                last = int((time.monotonic() - t0) * 1000)
        if len(kinds) == count:
            break
        time.sleep(0.1)
    for s in socks:
        s.close()
    vals = list(kinds.values())
    print("refused %d (429 %d, 503 %d); cut %d after %d ms; open %d" %
          (vals.count("429") + vals.count("503"), vals.count("429"), vals.count("503"),
           vals.count("cut"), last, count - len(kinds)), flush=True)


def forwarding(port, host):
    """Sends every forwarding field a client could forge; prints what the deployment saw."""
    forged = ["Forwarded: for=6.6.6.6;proto=https", "X-Forwarded-For: 6.6.6.6",
              "X-Forwarded-Proto: https", "X-Forwarded-Host: evil.example",
              "X-Forwarded-Port: 1", "X-Forwarded-Prefix: /admin", "X-Forwarded-Ssl: on",
              "X-Real-IP: 6.6.6.6", "X_Forwarded_For: 6.6.6.6", "X-Client-IP: 6.6.6.6"]
    s = connect(port)
    s.sendall(("GET /echo HTTP/1.1\r\nHost: %s\r\n%s\r\n\r\n" % (host, "\r\n".join(forged))).encode())
    data, _ = read_all(s, 10.0)
    s.close()
    sys.stdout.write(data.partition(b"\r\n\r\n")[2].decode(errors="replace"))


def idle(port, host, path, count, keepalive, stop, sources=1):
    socks, good = [], 0
    req = ("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (path, host)).encode()

    def one_request(s):
        s.sendall(req)
        s.settimeout(10)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                return False
            data += chunk
        hdr, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in hdr.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        while len(body) < length:
            chunk = s.recv(65536)
            if not chunk:
                return False
            body += chunk
        return hdr.startswith(b"HTTP/1.1 200")

    for i in range(count):
        try:
            src = None if sources <= 1 else "127.0.%d.%d" % (1 + (i % sources) // 250, 1 + (i % sources) % 250)
            s = connect(port, src)
        except OSError as e:
            print("connect %d failed: %s" % (i, e), flush=True)
            break
        if i < keepalive and one_request(s):
            good += 1
        socks.append(s)
    print("held %d (keepalive %d ok)" % (len(socks), good), flush=True)
    while not os.path.exists(stop):
        time.sleep(0.1)
    sel = selectors.DefaultSelector()
    still = 0
    for s in socks:
        s.setblocking(False)
        try:
            still += 0 if s.recv(1) == b"" else 1
        except BlockingIOError:
            still += 1
        except OSError:
            pass
    reused = 0
    for s in socks[:keepalive]:
        s.setblocking(True)
        try:
            reused += 1 if one_request(s) else 0
        except OSError:
            pass
    for s in socks:
        s.close()
    sel.close()
    print("still-open %d; reused %d of %d" % (still, reused, keepalive), flush=True)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "smuggle":
        smuggle(int(args[0]), args[1])
    elif cmd == "slowloris":
        slowloris(int(args[0]), args[1], int(args[2]), float(args[3]))
    elif cmd == "ws-noread":
        ws_noread(int(args[0]), args[1], args[2], int(args[3]), float(args[4]))
    elif cmd == "noread":
        noread(int(args[0]), args[1], args[2], int(args[3]), int(args[4]), float(args[5]))
    elif cmd == "forwarding":
        forwarding(int(args[0]), args[1])
    elif cmd == "idle":
        idle(int(args[0]), args[1], args[2], int(args[3]), int(args[4]), args[5],
             int(args[6]) if len(args) > 6 else 1)
    else:
        sys.exit("unknown command " + cmd)
