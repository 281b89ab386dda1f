#!/usr/bin/env python3
"""HTTPS server (python ssl, OpenSSL socket BIO) for the TLS live tests.

tls_server.py PORT CERTDIR: HTTP/1.1 keep-alive; GET /big answers 1 MiB,
other GETs and POSTs answer a short JSON naming the client's port.
"""
import http.server
import json
import ssl
import sys

BIG = b"b" * (1 << 20)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two TLS records

    def reply(self, body, ctype="application/json"):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/big":
            self.reply(BIG, "text/plain")
        else:
            self.reply(json.dumps({"peer": self.client_address[1]}).encode())

    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        got = self.rfile.read(n)
        self.reply(json.dumps({"peer": self.client_address[1], "got": len(got)}).encode())

    def log_message(self, *args):
        pass


def main():
    port, certdir = int(sys.argv[1]), sys.argv[2]
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    srv.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certdir + "/cert.pem", certdir + "/key.pem")
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
