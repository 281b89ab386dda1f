#!/usr/bin/env python3
"""Accepts connections, reads what is sent, never answers; stays until killed.
With a second argument, appends a line to that file after each read with data,
so a test can wait until the request was received (read by a syscall)."""
import socket
import sys
import threading

held = []


mark = sys.argv[2] if len(sys.argv) > 2 else None


def hold(conn):
    held.append(conn)
    while conn.recv(65536):
        if mark:
            with open(mark, "a") as f:
                f.write("received\n")


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
while True:
    c, _ = s.accept()
    threading.Thread(target=hold, args=(c,), daemon=True).start()
