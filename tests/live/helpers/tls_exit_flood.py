#!/usr/bin/env python3
"""Processes that make a target's exit event go missing in a full ring
buffer (test_tls_sweep.sh), each told what to do next by a line on stdin;
each writes DONE_FILE's name + ".N" after step N.

tls_exit_flood.py flood DONE_FILE: maps libssl (the TLS uprobes attach to
  it); line 1: sends and receives 4000 messages of 1 KiB on a loopback TCP
  connection it holds both ends of; line 2: exits at once.
tls_exit_flood.py fork DONE_FILE: line 1: forks 16 children that exit at
  once; then waits for end of input. A data event of the flood takes over
  1 KiB of the ring, a fork or exit event 64 bytes, as the exit event of
  the flood process: these take what the flood left free, 64 at a time.
  No file is mapped and no libssl: nothing here is held by the TLS side.
"""
import os
import socket
import sys


def flood(cli, peer, count):
    msg = b"f" * 1024
    for _ in range(count):
        cli.sendall(msg)
        got = 0
        while got < len(msg):
            got += len(peer.recv(len(msg) - got))


def done(n):
    open(f"{sys.argv[2]}.{n}", "w").close()


def main():
    if sys.argv[1] == "flood":
        import ssl  # noqa: F401 (maps libssl.so.3; not in the fork process)

        # made ready before the collector starts: a file mapped while the
        # collector is stopped would stop this process (TLS hold)
        srv = socket.create_server(("127.0.0.1", 0))
        cli = socket.create_connection(srv.getsockname())
        peer, _ = srv.accept()
        flood(cli, peer, 1)
        sys.stdin.readline()
        flood(cli, peer, 4000)
        done(1)
        sys.stdin.readline()
        os._exit(0)
    sys.stdin.readline()
    for _ in range(16):
        child = os.fork()
        if child == 0:
            os._exit(0)
        os.waitpid(child, 0)
    done(1)
    sys.stdin.read()


main()
