#!/usr/bin/env python3
"""HTTP server that reads each connection's whole input in ONE receive
syscall (MSG_WAITALL until the client shuts its side down), then answers
every request it finds, all answers in ONE send syscall: what a server
does that executes a request hidden behind a large body.
  bulk_server.py PORT recv|recvmsg
recv: recvfrom into one buffer; recvmsg: recvmsg into 65 buffers of odd
sizes (the iovec path). A target /big/N is answered with an N-byte body
sent with sendmsg over 40 buffers; /mmsg/N the same in 12 messages of one
sendmmsg; every other target with its own name."""
import ctypes
import socket
import sys

port, mode = int(sys.argv[1]), sys.argv[2]
MAX = 8 << 20


def read_all(c):
    if mode == "recvmsg":
        # 40 one-byte buffers first: a chunk ends after 16 iovecs, not full
        bufs = [bytearray(s) for s in [1] * 40 + [777, 4000, 1] * 8] + [bytearray(MAX)]
        n = c.recvmsg_into(bufs, 0, socket.MSG_WAITALL)[0]
        return b"".join(bytes(b) for b in bufs)[:n]
    return c.recv(MAX, socket.MSG_WAITALL)


def requests(data):
    """(method, target) of each request, skipping bodies by Content-Length."""
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            return
        lines = head.split(b"\r\n")
        method, target = lines[0].split(b" ")[:2]
        clen = 0
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                clen = int(v)
        yield method.decode(), target.decode()
        data = rest[clen:]


def answer(target):
    if target.startswith(("/big/", "/mmsg/")):
        n = int(target.split("/")[2])
        body = bytes(b"0123456789abcdef"[i % 16] for i in range(n))
    else:
        body = f"{target}\n".encode()
    return [f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode(), body]


def sendmmsg(c, parts):
    """One sendmmsg, one message (of one iovec) per part."""
    class IOVec(ctypes.Structure):
        _fields_ = [("base", ctypes.c_char_p), ("len", ctypes.c_size_t)]

    class Hdr(ctypes.Structure):	# struct msghdr
        _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint),
                    ("iov", ctypes.POINTER(IOVec)), ("iovlen", ctypes.c_size_t),
                    ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                    ("flags", ctypes.c_int)]

    class MMsg(ctypes.Structure):	# struct mmsghdr
        _fields_ = [("hdr", Hdr), ("len", ctypes.c_uint)]
    iovs = [IOVec(p, len(p)) for p in parts]
    vec = (MMsg * len(parts))()
    for i, iov in enumerate(iovs):
        vec[i].hdr.iov, vec[i].hdr.iovlen = ctypes.pointer(iov), 1
    n = ctypes.CDLL(None, use_errno=True).sendmmsg(c.fileno(), vec, len(parts), 0)
    assert n == len(parts), ctypes.get_errno()


def send_all(c, parts):
    """Everything in one sendmsg: a big body split over 40 buffers."""
    bufs, small = [], b""
    for p in parts:
        if len(p) > 40 * 1024:
            step = (len(p) + 39) // 40
            bufs += [small] + [p[i:i + step] for i in range(0, len(p), step)]
            small = b""
        else:
            small += p
    bufs.append(small)
    total = sum(len(b) for b in bufs)
    sent = c.sendmsg(bufs)
    if sent < total:
        c.sendall(b"".join(bufs)[sent:])


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(16)
while True:
    c, _ = s.accept()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
    data = read_all(c)
    parts, mmsg = [], False
    for _, target in requests(data):
        parts += answer(target)
        mmsg |= target.startswith("/mmsg/")
    if mmsg:
        head, body = parts
        step = (len(body) + 10) // 11
        sendmmsg(c, [head] + [body[i:i + step] for i in range(0, len(body), step)])
    elif parts:
        send_all(c, parts)
    c.close()
