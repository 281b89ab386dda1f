#!/usr/bin/env python3
"""Non-strict HTTP request lines, first and second on a keep-alive connection.

server PORT: a keep-alive server as lenient as the worst real ones: a request
is whatever comes up to a blank line (and, when the head says chunked, up to
the next blank line); each gets `HTTP/1.1 200 OK` with a 2-byte body.

bighead PORT: a 1 MiB header block, then a request; prints the first's length.

client PORT: for every case, two connections: [odd, DELETE /secret-...] and
[GET /a, odd, DELETE /secret-...], one request per send, each answer read
before the next is sent. Prints one line per connection for the test:
`<secret target> <requests> <method> <malformed or -> <odd target start>`.
"""
import re
import socket
import sys

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

# (request head without its blank line, method as recorded, malformed reason)
CASES = [
    (b"GET /tab\tx HTTP/1.1", "GET", "control_char"),
    (b"GET /nul\0x HTTP/1.1", "GET", "control_char"),
    (b"GET /soh\x01x HTTP/1.1", "GET", "control_char"),
    (b"GET /esc\x1bx HTTP/1.1", "GET", "control_char"),
    (b"GET /del\x7fx HTTP/1.1", "GET", "control_char"),
    (b"GET /cr\rx HTTP/1.1", "GET", "bare_cr"),
    (b"GET /lf\nx HTTP/1.1", "GET", "bare_lf"),
    (b"GET  /twospace HTTP/1.1", "GET", "whitespace"),
    (b"GET /h2 HTTP/2.0", "GET", "version"),
    (b"GET /h09 HTTP/0.9", "GET", "version"),
    (b"ABCDEFGHIJKLMNOPQRSTUVWXYZABCD /longmethod HTTP/1.1", "ABCDEFGHIJKLMNOPQRSTUVW",
     "method_length"),
    (b"get /lower HTTP/1.1", "get", "-"),
    (b"POST /badlen HTTP/1.1\r\nContent-Length: 1x", "POST", "content_length"),
    (b"POST /badchunk HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz", "POST", "chunk_size"),
]


def read_request(conn, buf):
    """One request as this server frames it; returns (request, rest) or (None, b"")."""
    while b"\r\n\r\n" not in buf:
        d = conn.recv(4096)
        if not d:
            return None, b""
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    if b"chunked" in head.lower():
        while b"\r\n\r\n" not in rest:
            d = conn.recv(4096)
            if not d:
                return None, b""
            rest += d
        _, _, rest = rest.partition(b"\r\n\r\n")
    return head, rest


def serve(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(64)
    while True:
        c, _ = s.accept()
        buf = b""
        while True:
            req, buf = read_request(c, buf)
            if req is None:
                break
            c.sendall(ANSWER)
        c.close()


def ask(c, data):
    c.sendall(data)
    got = b""
    while len(got) < len(ANSWER):
        d = c.recv(4096)
        if not d:
            raise SystemExit("server closed early")
        got += d


def client(port):
    for i, (head, method, why) in enumerate(CASES):
        for second in (False, True):
            secret = "/secret-%d-%s" % (i, "second" if second else "first")
            c = socket.create_connection(("127.0.0.1", port))
            if second:
                ask(c, b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
            ask(c, head + b"\r\n\r\n")
            ask(c, b"DELETE " + secret.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            c.close()
            word = re.match(rb"[a-z0-9]+", head.split(b"/", 1)[1]).group(0).decode()
            print(secret, 3 if second else 2, method, why, "/" + word)


def bighead(port):
    """A 1 MiB header block, then a plain request; prints the first's length."""
    head = b"GET /big HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n"
    c = socket.create_connection(("127.0.0.1", port))
    ask(c, head)
    ask(c, b"GET /after-big HTTP/1.1\r\nHost: x\r\n\r\n")
    c.close()
    print(len(head))


if __name__ == "__main__":
    if sys.argv[1] == "server":
        serve(int(sys.argv[2]))
    elif sys.argv[1] == "bighead":
        bighead(int(sys.argv[2]))
    else:
        client(int(sys.argv[2]))
