#!/usr/bin/env python3
"""Newline-delimited JSON-RPC 2.0 server over TCP (port) or a Unix socket
(path). Answers each connection's requests out of order (the later ones
first), sends a notification first, answers unknown methods with an error,
and makes one server-to-client request per connection ("ping")."""
import json
import os
import socket
import sys
import threading


def handle(c):
    f = c.makefile("rwb")
    f.write(b'{"jsonrpc":"2.0","method":"notifications/ready"}\n')
    f.write(b'{"jsonrpc":"2.0","id":"srv-1","method":"ping"}\n')
    f.flush()
    held = []
    for line in f:
        msg = json.loads(line)
        if isinstance(msg, list):        # a batch: answered as a batch, in order
            out = [{"jsonrpc": "2.0", "id": m["id"], "result": {"batch": True}}
                   for m in msg if "id" in m]
            f.write(json.dumps(out).encode() + b"\n")
            f.flush()
            continue
        if "method" not in msg:          # the client's answer to our ping
            continue
        if "id" not in msg:              # a notification from the client
            continue
        if msg["method"] == "tools/call":
            out = {"jsonrpc": "2.0", "id": msg["id"],
                   "result": {"content": [{"type": "text", "text": "sunny"}]}}
        elif msg["method"] == "tools/list":
            out = {"jsonrpc": "2.0", "id": msg["id"], "result": {"tools": []}}
        else:
            out = {"jsonrpc": "2.0", "id": msg["id"],
                   "error": {"code": -32601, "message": "Method not found"}}
        held.append(out)
        if len(held) == 3:               # answer three at a time, newest first
            for o in reversed(held):
                f.write(json.dumps(o).encode() + b"\n")
            f.flush()
            held = []
    for o in reversed(held):
        f.write(json.dumps(o).encode() + b"\n")
    f.flush()
    c.close()


where = sys.argv[1]
if where.isdigit():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(where)))
else:
    if os.path.exists(where):
        os.unlink(where)
    s = socket.socket(socket.AF_UNIX)
    s.bind(where)
s.listen(64)
while True:
    c, _ = s.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
