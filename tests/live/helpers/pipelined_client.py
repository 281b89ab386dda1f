#!/usr/bin/env python3
"""Raw socket client: writes N requests in one send (pipelining) and reads
until N responses have arrived. Prints the paths in order."""
import socket
import sys

port, n = int(sys.argv[1]), int(sys.argv[2])
paths = [["/index.html", "/status/201", "/status/404"][i % 3] + f"?n={i}" for i in range(n)]
req = b"".join(f"GET {p} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for p in paths)
c = socket.create_connection(("127.0.0.1", port))
c.sendall(req)
buf, seen = b"", 0
while seen < n:
    d = c.recv(65536)
    if not d:
        break
    buf += d
    seen = buf.count(b"HTTP/1.1 ")
c.close()
print("\n".join(paths))
sys.exit(0 if seen >= n else 1)
