#!/usr/bin/env python3
"""Accepts connections, reads what is sent, never answers; stays until killed."""
import socket
import sys
import threading

held = []


def hold(conn):
    held.append(conn)
    while conn.recv(65536):
        pass


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
while True:
    c, _ = s.accept()
    threading.Thread(target=hold, args=(c,), daemon=True).start()
