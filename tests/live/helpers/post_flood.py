#!/usr/bin/env python3
"""CONNS keep-alive connections, each sending PER_CONN POSTs of BODY bytes
to /echo one after the other, all connections at once. Prints the number
of 200 answers received.
  post_flood.py PORT CONNS PER_CONN BODY"""
import socket
import sys
import threading

port, conns, per_conn, size = (int(a) for a in sys.argv[1:5])
req = (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % size) + b"p" * size
ok = [0] * conns


def answer(c, buf):
    """Read one response (Content-Length framed); returns what follows it."""
    while b"\r\n\r\n" not in buf:
        d = c.recv(65536)
        if not d:
            raise EOFError
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    clen = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            clen = int(v)
    while len(rest) < clen:
        d = c.recv(65536)
        if not d:
            raise EOFError
        rest += d
    return head.startswith(b"HTTP/1.1 200 "), rest[clen:]


def run(i):
    c = socket.create_connection(("127.0.0.1", port))
    buf = b""
    for _ in range(per_conn):
        c.sendall(req)
        good, buf = answer(c, buf)
        ok[i] += good
    c.close()


threads = [threading.Thread(target=run, args=(i,)) for i in range(conns)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sum(ok))
