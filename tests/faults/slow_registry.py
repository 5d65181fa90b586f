#!/usr/bin/env python3
"""A throttling HTTP proxy in front of the local test registry, so an image pull takes long
enough for a test to act in the middle of it (kill the provider, restart the engine).

    slow_registry.py <listen-port> <upstream host:port> <bytes-per-second>

Manifests and everything else pass at full speed; blob bodies are sent at <bytes-per-second>.
Prints "listening <port>" once it accepts. The engine trusts 127.0.0.0/8 registries over plain
HTTP, so 127.0.0.1:<listen-port>/<repo>:<tag> is pullable."""
import http.client
import http.server
import sys
import time

PORT, UPSTREAM, RATE = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def relay(self):
        body = None
        if "Content-Length" in self.headers:
            body = self.rfile.read(int(self.headers["Content-Length"]))
        up = http.client.HTTPConnection(UPSTREAM, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        up.request(self.command, self.path, body=body, headers=headers)
        r = up.getresponse()
        self.send_response(r.status)
        length = r.getheader("Content-Length")
        for k, v in r.getheaders():
            if k.lower() not in HOP and k.lower() != "content-length":
                self.send_header(k, v)
        data = b"" if self.command == "HEAD" else None
        if length is not None:
            self.send_header("Content-Length", length)
        elif data is None:
            data = r.read()
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command == "HEAD":
            return
        slow = "/blobs/" in self.path
        chunk = max(1, RATE // 20) if slow else 65536
        try:
            if data is not None:
                self.wfile.write(data)
            else:
                while part := r.read(chunk):
                    self.wfile.write(part)
                    if slow:
                        time.sleep(len(part) / RATE)
        except (BrokenPipeError, ConnectionResetError):
            pass
        up.close()

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = relay


srv = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Proxy)
srv.daemon_threads = True
print("listening", srv.server_address[1], flush=True)
srv.serve_forever()
