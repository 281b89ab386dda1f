#!/usr/bin/env python3
"""HTTP server that, for every request, writes and reads back HTTP-looking
text in regular files and a pipe: only the socket traffic may be audited."""
import http.server
import os
import sys

workdir = sys.argv[2]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        path = os.path.join(workdir, "scratch.txt")
        with open(path, "w") as f:
            f.write("GET /from-a-file HTTP/1.1\r\nHost: file\r\n\r\n")
        with open(path) as f:
            data = f.read()
        r, w = os.pipe()
        os.write(w, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        os.read(r, 4096)
        os.close(r)
        os.close(w)
        body = f"read {len(data)} bytes\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
