#!/usr/bin/env python3
"""N keep-alive HTTP requests over C concurrent connections; prints the
expected (method, target, status) counts as JSON for the test to compare."""
import http.client
import json
import sys
import threading
from collections import Counter

port, total, conns = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
host = sys.argv[4] if len(sys.argv) > 4 else "127.0.0.1"
plan = [("GET", "/index.html", None), ("GET", "/status/201", None),
        ("GET", "/status/404", None), ("POST", "/echo", b'{"x": 1}')]
counts = Counter()
lock = threading.Lock()
errors = []


def worker(idx, n):
    try:
        c = http.client.HTTPConnection(host, port, timeout=10)
        for i in range(n):
            method, target, body = plan[(idx + i) % len(plan)]
            c.request(method, target, body=body,
                      headers={"Content-Type": "application/json"} if body else {})
            r = c.getresponse()
            r.read()
            with lock:
                counts[f"{method} {target} {r.status}"] += 1
        c.close()
    except Exception as e:  # reported, makes the test fail
        errors.append(repr(e))


per = [total // conns + (1 if i < total % conns else 0) for i in range(conns)]
threads = [threading.Thread(target=worker, args=(i, per[i])) for i in range(conns)]
for t in threads:
    t.start()
for t in threads:
    t.join()
if errors:
    print("client errors:", errors[:3], file=sys.stderr)
    sys.exit(1)
print(json.dumps(dict(sorted(counts.items()))))
