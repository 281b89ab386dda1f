#!/usr/bin/env python3
"""HTTPS clients for the TLS live tests (certificate not checked: made by the test).

tls_client.py keepalive PORT REQUESTS CONNS: REQUESTS POSTs spread over CONNS
  concurrent keep-alive connections; each names its own local port in the
  path (/p<port>/r<k>) and sends a password; prints the requests made.
tls_client.py big PORT: one POST of 40000 bytes (several TLS records), then
  GET /big (1 MiB); prints the sizes.
"""
import http.client
import json
import socket
import ssl
import sys
import threading

CTX = ssl._create_unverified_context()


def connect(port):
    c = http.client.HTTPSConnection("127.0.0.1", port, context=CTX, timeout=20)
    c.connect()
    # headers and body leave in two writes: no Nagle wait between them
    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return c, c.sock.getsockname()[1]


def keepalive(port, total, conns):
    errors = []
    per = [total // conns + (1 if i < total % conns else 0) for i in range(conns)]

    def run(n):
        c, lport = connect(port)
        for k in range(n):
            c.request("POST", "/p%d/r%d" % (lport, k), body="password=hunter2&n=%d" % k,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
            r = c.getresponse()
            if json.loads(r.read())["peer"] != lport:
                errors.append(lport)
        c.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in per]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        sys.exit("server saw other ports: %s" % errors[:5])
    print(total)


def big(port):
    c, _ = connect(port)
    c.request("POST", "/upload", body=b"u" * 40000, headers={"Content-Type": "text/plain"})
    got = json.loads(c.getresponse().read())["got"]
    c.request("GET", "/big")
    n = len(c.getresponse().read())
    c.close()
    print(got, n)


if __name__ == "__main__":
    if sys.argv[1] == "keepalive":
        keepalive(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    else:
        big(int(sys.argv[2]))
