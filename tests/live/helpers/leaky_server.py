#!/usr/bin/env python3
"""Two servers in one process, for the redaction live test: HTTP on
HTTP_PORT and newline-delimited JSON-RPC over TCP on RPC_PORT. Each puts a
secret where only the record's side texts carry it: the HTTP server in a
response's reason phrase (/reason) or Content-Type (/ctype), the JSON-RPC
server in every error message (its key spelt with a JSON \\u escape).

usage: leaky_server.py HTTP_PORT RPC_PORT"""
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


def rpc_serve(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(16)
    while True:
        c, _ = s.accept()
        threading.Thread(target=rpc_conn, args=(c,), daemon=True).start()


threading.Thread(target=rpc_serve, args=(int(sys.argv[2]),), daemon=True).start()
HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
