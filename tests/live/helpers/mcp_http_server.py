#!/usr/bin/env python3
"""MCP Streamable HTTP, minimal: POST /mcp with a JSON-RPC message. tools/call
is answered with an event stream (a progress notification, then the result),
other requests with application/json, unknown methods with a JSON-RPC error,
notifications with 202 and no body."""
import http.server
import json
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        msg = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if "id" not in msg:
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        method = msg["method"]
        if method == "tools/call":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            note = {"jsonrpc": "2.0", "method": "notifications/progress",
                    "params": {"progress": 1}}
            res = {"jsonrpc": "2.0", "id": msg["id"],
                   "result": {"content": [{"type": "text", "text": "done"}]}}
            self.wfile.write(b"event: message\ndata: " + json.dumps(note).encode() + b"\n\n")
            self.wfile.flush()
            self.wfile.write(b"event: message\ndata: " + json.dumps(res).encode() + b"\n\n")
            self.close_connection = True
            return
        if method == "tools/list":
            out = {"jsonrpc": "2.0", "id": msg["id"], "result": {"tools": [{"name": "t"}]}}
        else:
            out = {"jsonrpc": "2.0", "id": msg["id"],
                   "error": {"code": -32601, "message": "Method not found"}}
        body = json.dumps(out).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
