#!/usr/bin/env python3
"""Closes connections at awkward moments: /drop — reads the request and
closes without answering; /half — sends half a response (Content-Length 100,
40 bytes) and closes; anything else gets a normal answer."""
import socket
import sys

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
while True:
    c, _ = s.accept()
    data = b""
    while b"\r\n\r\n" not in data:
        d = c.recv(4096)
        if not d:
            break
        data += d
    if b"/drop" in data:
        pass
    elif b"/half" in data:
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 40)
    elif data:
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
    c.close()
