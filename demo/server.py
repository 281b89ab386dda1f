#!/usr/bin/env python3
"""Demo JSON API over HTTP/1.1 (keep-alive), for `make demo`. Stdlib only.

usage: server.py PORT        listens on 127.0.0.1:PORT until SIGTERM or SIGINT

  GET  /v1/items        200, every item
  GET  /v1/items/<id>   200, one item; 404 for an unknown id
  POST /v1/items        201, the posted JSON object with its new id; 400 if not JSON
  GET  /slow            200 after 50 ms
  GET  /health          200
  anything else         404
"""
import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ITEMS = {
    1: {"id": 1, "name": "widget", "price": 3.5},
    2: {"id": 2, "name": "gadget", "price": 12.0},
    3: {"id": 3, "name": "gizmo", "price": 7.25},
}
ITEMS_LOCK = threading.Lock()
MAX_BODY = 1 << 20


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every response has Content-Length
    server_version = "sockaudit-demo/1"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass  # the audit log is the access log here

    def send_json(self, status, obj):
        body = json.dumps(obj, separators=(",", ":")).encode() + b"\n"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def item_id(self):
        rest = self.path[len("/v1/items/"):]
        return int(rest) if rest.isdigit() else None

    def do_GET(self):
        if self.path == "/v1/items":
            with ITEMS_LOCK:
                items = [ITEMS[k] for k in sorted(ITEMS)]
            self.send_json(200, {"items": items})
        elif self.path.startswith("/v1/items/"):
            key = self.item_id()
            with ITEMS_LOCK:
                item = ITEMS.get(key)
            if item is None:
                self.send_json(404, {"error": "no such item", "id": self.path[10:]})
            else:
                self.send_json(200, item)
        elif self.path == "/slow":
            time.sleep(0.05)
            self.send_json(200, {"slept_ms": 50})
        elif self.path == "/health":
            self.send_json(200, {"status": "ok"})
        else:
            self.send_json(404, {"error": "not found"})

    def do_POST(self):
        if self.path != "/v1/items":
            self.send_json(404, {"error": "not found"})
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self.send_json(411, {"error": "Content-Length required"})
            return
        if length < 0 or length > MAX_BODY:
            self.send_json(413, {"error": "body too large"})
            self.close_connection = True
            return
        try:
            obj = json.loads(self.rfile.read(length))
        except ValueError:
            self.send_json(400, {"error": "body is not JSON"})
            return
        if not isinstance(obj, dict):
            self.send_json(400, {"error": "body is not a JSON object"})
            return
        with ITEMS_LOCK:
            obj["id"] = max(ITEMS) + 1
            ITEMS[obj["id"]] = obj
        self.send_json(201, obj)


def main():
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        print("usage: server.py PORT", file=sys.stderr)
        return 2
    srv = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    srv.daemon_threads = True

    def stop(signum, frame):
        # shutdown() waits for serve_forever() to return: call it off this thread
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        srv.serve_forever(poll_interval=0.1)
    finally:
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
