#!/usr/bin/env python3
"""Odd JSON-RPC over TCP, one message per line.

server PORT: answers every request it can parse with a result carrying the
same id (a batch with a batch, written in 4 KiB sends so no single syscall
is larger than the test's capture), and a line it cannot parse (100,000
nested brackets) with a parse error whose id is null.

client PORT MODE: MODE ids: one request per id type (object, array, true,
false, a 30-digit number, a 5,000-byte string), each answered before the
next; MODE long: a line of 100,000 '[', a request whose params nest 100,000
deep (the server cannot parse it: a parse error answers), then a request
with id "after-long";
MODE batch: one batch of 10,000 calls (ids "b0".."b9999"), one line.
"""
import json
import socket
import sys

ODD_IDS = [{"o": [1, 2]}, [1, "x"], True, False, 123456789012345678901234567890, "s" * 5000]


def answer(msg):
    if isinstance(msg, dict) and "id" in msg and "method" in msg:
        return {"jsonrpc": "2.0", "id": msg["id"], "result": {"ok": True}}
    return None


def send_line(conn, obj):
    data = (json.dumps(obj, separators=(",", ":")) + "\n").encode()
    for i in range(0, len(data), 4096):
        conn.sendall(data[i:i + 4096])


def handle(conn):
    f = conn.makefile("rb")
    for line in f:
        try:
            msg = json.loads(line)
        except (ValueError, RecursionError):
            send_line(conn, {"jsonrpc": "2.0", "id": None,
                             "error": {"code": -32700, "message": "Parse error"}})
            continue
        if isinstance(msg, list):
            out = [a for a in (answer(m) for m in msg) if a]
            if out:
                send_line(conn, out)
        else:
            a = answer(msg)
            if a:
                send_line(conn, a)
    conn.close()


def serve(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(16)
    while True:
        c, _ = s.accept()
        handle(c)


def call(f, c, obj):
    c.sendall((json.dumps(obj, separators=(",", ":")) + "\n").encode())
    return json.loads(f.readline())


def client(port, mode):
    c = socket.create_connection(("127.0.0.1", port))
    f = c.makefile("rb")
    if mode == "ids":
        for i in ODD_IDS:
            r = call(f, c, {"jsonrpc": "2.0", "id": i, "method": "odd/id"})
            assert r["id"] == i, r
    elif mode == "long":
        c.sendall(b"[" * 100000 + b"\n")
        assert json.loads(f.readline())["error"]["code"] == -32700
        deep = b"[" * 100000 + b"]" * 100000
        c.sendall(b'{"jsonrpc":"2.0","id":"deep","method":"deep","params":' + deep + b"}\n")
        assert json.loads(f.readline())["error"]["code"] == -32700
        r = call(f, c, {"jsonrpc": "2.0", "id": "after-long", "method": "next"})
        assert r["id"] == "after-long", r
    else:
        batch = [{"jsonrpc": "2.0", "id": "b%d" % i, "method": "tools/call",
                  "params": {"name": "t", "arguments": {"i": i}}} for i in range(10000)]
        r = call(f, c, batch)
        assert len(r) == 10000, len(r)
    c.close()


if __name__ == "__main__":
    if sys.argv[1] == "server":
        serve(int(sys.argv[2]))
    else:
        client(int(sys.argv[2]), sys.argv[3])
