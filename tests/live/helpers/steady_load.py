#!/usr/bin/env python3
"""Keep-alive GETs of one path at a steady pace until STOPFILE exists; prints
the number of answered requests. Used to keep the ring buffer busy while the
collector reloads its config."""
import http.client
import os
import sys
import time

port, path, stopfile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
pause = float(sys.argv[4]) if len(sys.argv) > 4 else 0.002
done = 0
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
while not os.path.exists(stopfile):
    c.request("GET", path)
    r = c.getresponse()
    r.read()
    if r.status != 200:
        sys.exit(f"GET {path}: status {r.status}")
    done += 1
    time.sleep(pause)
c.close()
print(done)
