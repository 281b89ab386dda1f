#!/usr/bin/env python3
"""Sends one connection's requests in ONE send, shuts its side down and
reads the answers to the end. Prints how many responses came back.
  bulk_client.py PORT smuggle BODY_BYTES   POST /innocent + DELETE /admin/users/42
  bulk_client.py PORT pipelined N          N GETs /p/0 .. /p/N-1
  bulk_client.py PORT big N                GET /big/N (an N-byte answer)
  bulk_client.py PORT mmsg N               GET /mmsg/N (the same, by sendmmsg)"""
import socket
import sys

port, kind, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
if kind == "smuggle":
    body = b"a" * n
    req = (b"POST /innocent HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % n + body +
           b"DELETE /admin/users/42 HTTP/1.1\r\nHost: x\r\n\r\n")
elif kind == "pipelined":
    req = b"".join(b"GET /p/%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(n))
else:
    req = b"GET /%s/%d HTTP/1.1\r\nHost: x\r\n\r\n" % (kind.encode(), n)
c = socket.create_connection(("127.0.0.1", port))
c.sendall(req)
c.shutdown(socket.SHUT_WR)
buf = b""
while True:
    d = c.recv(1 << 20)
    if not d:
        break
    buf += d
c.close()
print(buf.count(b"HTTP/1.1 200 OK\r\n"))
