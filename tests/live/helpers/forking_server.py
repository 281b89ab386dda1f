#!/usr/bin/env python3
"""HTTP/1.0 server that forks a child per connection (children must be audited)."""
import http.server
import socketserver
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"forked\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(socketserver.ForkingMixIn, http.server.HTTPServer):
    pass


Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
