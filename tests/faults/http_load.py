#!/usr/bin/env python3
"""Keeps N keep-alive HTTP clients busy against one URL until a stop file appears, and reports
what they saw: requests that succeeded (status 200 and the expected body length), failures, and
when the last failure and the first success after it happened.

    http_load.py <url> <concurrency> <stop-file>

Prints one summary line: "ok N failed M last_failure_ms T recovered_ms R" (times since start)."""
import http.client
import os
import sys
import threading
import time
import urllib.parse

URL, N, STOP = sys.argv[1], int(sys.argv[2]), sys.argv[3]
u = urllib.parse.urlsplit(URL)
lock = threading.Lock()
t0 = time.monotonic()
stats = {"ok": 0, "failed": 0, "last_failure": None, "recovered": None}


def now_ms():
    return int((time.monotonic() - t0) * 1000)


def client():
    conn = None
    while not os.path.exists(STOP):
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", u.port, timeout=5)  # *.localhost
            conn.request("GET", u.path or "/", headers={"Host": u.netloc})
            r = conn.getresponse()
            body = r.read()
            good = r.status == 200 and b"Peer Compute" in body
        except Exception:
            good = False
        with lock:
            if good:
                stats["ok"] += 1
                if stats["last_failure"] is not None and stats["recovered"] is None:
                    stats["recovered"] = now_ms()
            else:
                stats["failed"] += 1
                stats["last_failure"] = now_ms()
                stats["recovered"] = None
        if not good:
            if conn is not None:
                conn.close()
            conn = None
            time.sleep(0.05)


threads = [threading.Thread(target=client) for _ in range(N)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("ok %d failed %d last_failure_ms %s recovered_ms %s" % (
    stats["ok"], stats["failed"], stats["last_failure"], stats["recovered"]), flush=True)
