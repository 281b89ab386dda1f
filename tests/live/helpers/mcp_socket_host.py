#!/usr/bin/env python3
"""An MCP host that gives its stdio servers sockets, as real hosts do. It
runs SERVER (a Python script) once per scenario, one after the other:
  asyncio  asyncio.create_subprocess_exec (the Python MCP SDK's way) with
           stdin a socketpair (as asyncio makes on some systems) and
           stdout a pipe
  dup      one socketpair end dup'ed onto the server's stdin and stdout
  noisy    dup, the server started with --noisy (non-JSON lines on stdout)
  crash    dup, the server started with --crash, and a last call of the
           tool "crash" it dies in
  named    a connection to a named Unix socket as stdin and stdout
           (inetd-style: a connection of its own, not the stdio stream)
Each session: initialize (clientInfo name "py-socket-host-SCENARIO"),
notifications/initialized and 20 tools/call requests one at a time
(arguments carry a bearer token). Usage: mcp_socket_host.py SERVER
[SCENARIO...] (all by default). Prints nothing on stdout."""
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile

CALLS = 20
SECRET = "Bearer tok3n.SECRET-value_123"


def messages(scenario):
    yield {"jsonrpc": "2.0", "id": 0, "method": "initialize",
           "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                      "clientInfo": {"name": "py-socket-host-" + scenario, "version": "2.0"}}}
    yield {"jsonrpc": "2.0", "method": "notifications/initialized"}
    for i in range(CALLS):
        yield {"jsonrpc": "2.0", "id": i + 1, "method": "tools/call",
               "params": {"name": "echo", "arguments": {"text": f"call {i}", "auth": SECRET}}}
    if scenario == "crash":
        yield {"jsonrpc": "2.0", "id": "last", "method": "tools/call",
               "params": {"name": "crash", "arguments": {}}}


def answered(line, want):
    """True when line is the answer to id want; notifications and noise are skipped."""
    try:
        msg = json.loads(line)
    except ValueError:
        return False
    return isinstance(msg, dict) and msg.get("id") == want and "method" not in msg


async def run_asyncio(cmd, scenario):
    # stdin on a socketpair written through asyncio's stream writer, stdout a pipe
    mine, theirs = socket.socketpair()
    proc = await asyncio.create_subprocess_exec(*cmd, stdin=theirs,
                                                stdout=asyncio.subprocess.PIPE)
    theirs.close()
    _, writer = await asyncio.open_unix_connection(sock=mine)
    for msg in messages(scenario):
        writer.write(json.dumps(msg).encode() + b"\n")
        await writer.drain()
        while "id" in msg:
            line = await proc.stdout.readline()
            if not line or answered(line, msg["id"]):
                break
    writer.close()
    return await proc.wait()


def named_pair():
    """Both ends of a connection to a bound Unix socket in a fresh directory."""
    path = os.path.join(tempfile.mkdtemp(), "mcp.sock")
    lsn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsn.bind(path)
    lsn.listen(1)
    mine = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    mine.connect(path)
    theirs, _ = lsn.accept()
    lsn.close()
    return mine, theirs


def run_dup(cmd, scenario):
    mine, theirs = named_pair() if scenario == "named" else socket.socketpair()
    proc = subprocess.Popen(cmd, stdin=theirs.fileno(), stdout=theirs.fileno())
    theirs.close()
    rf = mine.makefile("rb")
    for msg in messages(scenario):
        mine.sendall(json.dumps(msg).encode() + b"\n")
        while "id" in msg:
            line = rf.readline()
            if not line or answered(line, msg["id"]):
                break
    mine.shutdown(socket.SHUT_WR)
    return proc.wait()


def run(server, scenario):
    cmd = [sys.executable, server] + {"noisy": ["--noisy"], "crash": ["--crash"]}.get(scenario, [])
    if scenario == "asyncio":
        return asyncio.run(run_asyncio(cmd, scenario))
    return run_dup(cmd, scenario)


for sc in sys.argv[2:] or ["asyncio", "dup", "noisy", "crash", "named"]:
    rc = run(sys.argv[1], sc)
    if rc != (3 if sc == "crash" else 0):
        sys.exit(f"{sc}: server exited {rc}")
