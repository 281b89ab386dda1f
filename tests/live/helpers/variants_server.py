#!/usr/bin/env python3
"""HTTP/1.0-style server (one request per connection) that reads and answers
with a different syscall family per request, to exercise every capture path:
read with recv / read / readv / recvmsg (2 iovecs) / recv after a MSG_PEEK;
answer with sendmsg (3 iovecs), writev, sendmmsg (2 messages), sendfile
(length only), send."""
import ctypes
import itertools
import os
import socket
import sys

port, workdir = int(sys.argv[1]), sys.argv[2]
libc = ctypes.CDLL(None, use_errno=True)


class IOVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class MsgHdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint),
                ("iov", ctypes.POINTER(IOVec)), ("iovlen", ctypes.c_size_t),
                ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int)]


class MMsgHdr(ctypes.Structure):
    _fields_ = [("hdr", MsgHdr), ("len", ctypes.c_uint)]


def sendmmsg(fd, parts):
    bufs = [ctypes.create_string_buffer(p, len(p)) for p in parts]
    iovs = [IOVec(ctypes.cast(b, ctypes.c_void_p), len(p)) for b, p in zip(bufs, parts)]
    vec = (MMsgHdr * len(parts))()
    for i, iov in enumerate(iovs):
        vec[i].hdr.iov = ctypes.pointer(iov)
        vec[i].hdr.iovlen = 1
    n = libc.sendmmsg(fd, vec, len(parts), 0)
    assert n == len(parts), ctypes.get_errno()


def read_request(c, how):
    fd = c.fileno()
    data = b""
    while b"\r\n\r\n" not in data:
        if how == "recv":
            chunk = c.recv(65536)
        elif how == "peek":
            # recvfrom with MSG_PEEK: the bytes are read again below and
            # must be captured once, by that read
            c.recv(65536, socket.MSG_PEEK)
            chunk = c.recv(65536)
        elif how == "read":
            chunk = os.read(fd, 65536)
        elif how == "readv":
            a, b = bytearray(7), bytearray(65536)
            n = os.readv(fd, [a, b])
            chunk = bytes((a + b)[:n])
        else:
            a, b = bytearray(5), bytearray(65536)
            n, _, _, _ = c.recvmsg_into([a, b])
            chunk = bytes((a + b)[:n])
        if not chunk:
            return None
        data += chunk
    return data.split(b" ")[1].decode()


def answer(c, path):
    fd = c.fileno()
    if path == "/big":
        body = b"b" * 20000
        c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        return
    name = path.strip("/")
    body = (name + "-body\n").encode()
    head = b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
    if path == "/sendmsg":
        c.sendmsg([head[:10], head[10:], body])
    elif path == "/writev":
        os.writev(fd, [head, body])
    elif path == "/writev6":
        # six iovecs: the capture fetches iovecs four at a time
        parts = [head[:5], head[5:17], head[17:], body[:3], body[3:8], body[8:]]
        os.writev(fd, parts)
    elif path == "/mmsg":
        sendmmsg(fd, [head, body])
    elif path == "/sendfile":
        fpath = os.path.join(workdir, "sendfile.txt")
        with open(fpath, "wb") as f:
            f.write(b"s" * 5000)
        c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 5000\r\n\r\n")
        with open(fpath, "rb") as f:
            os.sendfile(fd, f.fileno(), 0, 5000)
    else:
        c.sendall(head + body)


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(16)
for how in itertools.cycle(["recv", "read", "readv", "recvmsg", "peek"]):
    c, _ = s.accept()
    path = read_request(c, how)
    if path:
        answer(c, path)
    c.close()
