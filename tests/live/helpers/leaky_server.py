#!/usr/bin/env python3
"""Three servers in one process, for the redaction live test: HTTP on
HTTP_PORT, newline-delimited JSON-RPC over TCP on RPC_PORT, and a binary
protocol of its own on RAW_PORT (answers each message with a short binary
acknowledgement). The first two put a
secret where only the record's side texts carry it: the HTTP server in a
response's reason phrase (/reason) or Content-Type (/ctype), the JSON-RPC
server in every error message (its key spelt with a JSON \\u escape).

usage: leaky_server.py HTTP_PORT RPC_PORT RAW_PORT"""
import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

REASON = "OK ghp_abcdefghijklmnopqrstuvwxyz0123456789AB"
CTYPE = "text/plain; card=4111.1111.1111.1111"
# written as raw JSON: the key spelt with a \u escape, as a JSON encoder may
ERRMSG = r"bad p\u0061ssword=s3cretpw for caller"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        self.send_response(200, REASON if self.path.startswith("/reason") else "OK")
        self.send_header("Content-Type", CTYPE if self.path.startswith("/ctype") else "text/plain")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_POST = answer

    def log_message(self, *args):
        pass


def rpc_conn(c):
    f = c.makefile("rwb")
    for line in f:
        msg = json.loads(line)
        out = '{"jsonrpc":"2.0","id":%s,"error":{"code":-32000,"message":"%s"}}\n' % (
            json.dumps(msg.get("id")), ERRMSG)
        f.write(out.encode())
        f.flush()
    c.close()


def raw_conn(c):
    while c.recv(4096):
        c.sendall(b"\x00\x02ACK\x00\x00\x00\x00\x00")
    c.close()


def serve(port, handler):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(16)
    while True:
        c, _ = s.accept()
        threading.Thread(target=handler, args=(c,), daemon=True).start()


threading.Thread(target=serve, args=(int(sys.argv[2]), rpc_conn), daemon=True).start()
threading.Thread(target=serve, args=(int(sys.argv[3]), raw_conn), daemon=True).start()
HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
