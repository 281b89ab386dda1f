#!/usr/bin/env python3
"""Demo workload for server.py, for `make demo`. Stdlib only.

usage: client.py PORT [REQUESTS] [CONNECTIONS]

Sends REQUESTS (default 200) requests over CONNECTIONS (default 4)
keep-alive connections, one thread each: item lists, item lookups, lookups
of unknown ids (404), POSTs (201), /slow and /health. Exits 0 when every
response had the expected status, 1 otherwise.
"""
import http.client
import json
import sys
import threading
from collections import Counter


def plan(conn_no, i):
    """The i-th request of connection conn_no: (method, path, body, expected status)."""
    k = i % 10
    if k == 0:
        return "GET", "/health", None, 200
    if k in (1, 2, 3):
        return "GET", "/v1/items/%d" % k, None, 200
    if k == 4:
        return "GET", "/v1/items/%d" % (900 + conn_no * 100 + i), None, 404
    if k in (5, 6):
        body = {"name": "item-%d-%d" % (conn_no, i), "price": i + 0.5}
        return "POST", "/v1/items", json.dumps(body).encode(), 201
    if k == 7:
        return "GET", "/slow", None, 200
    return "GET", "/v1/items", None, 200


def worker(port, conn_no, count, statuses, errors, lock):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        for i in range(count):
            method, path, body, want = plan(conn_no, i)
            headers = {"Accept": "application/json"}
            if body is not None:
                headers["Content-Type"] = "application/json"
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()  # the whole body, so the connection can be reused
            with lock:
                statuses[resp.status] += 1
                if resp.status != want:
                    errors.append("%s %s: status %d, expected %d"
                                  % (method, path, resp.status, want))
    except (OSError, http.client.HTTPException) as e:
        with lock:
            errors.append("connection %d: %s" % (conn_no, e))
    finally:
        conn.close()


def main():
    if len(sys.argv) < 2 or not sys.argv[1].isdigit():
        print("usage: client.py PORT [REQUESTS] [CONNECTIONS]", file=sys.stderr)
        return 2
    port = int(sys.argv[1])
    total = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    nconn = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    statuses, errors, lock = Counter(), [], threading.Lock()
    threads = []
    for c in range(nconn):
        count = total // nconn + (1 if c < total % nconn else 0)
        t = threading.Thread(target=worker, args=(port, c, count, statuses, errors, lock))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    summary = ", ".join("%d x %d" % (statuses[s], s) for s in sorted(statuses))
    print("client: %d requests on %d connections: %s"
          % (sum(statuses.values()), nconn, summary or "none"))
    for e in errors[:10]:
        print("client: error: " + e, file=sys.stderr)
    return 1 if errors or sum(statuses.values()) != total else 0


if __name__ == "__main__":
    sys.exit(main())
