#!/usr/bin/env python3
"""An MCP host that gives its stdio server sockets, as real hosts do:
  asyncio  asyncio.create_subprocess_exec (the Python MCP SDK's way) with
           stdin a socketpair (as asyncio makes on some systems) and
           stdout a pipe
  dup      one socketpair end dup'ed onto the server's stdin and stdout
  named    a connection to a named Unix socket as stdin and stdout
           (inetd-style: a connection of its own, not the stdio stream)
Runs initialize (clientInfo), notifications/initialized and CALLS
tools/call requests one at a time (arguments carry a bearer token), then
one call of TOOL_LAST if set (the server may die on it). Usage:
mcp_socket_host.py MODE SERVER [SERVER ARGS...]. Prints nothing on stdout."""
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile

CALLS = int(os.environ.get("CALLS", "20"))
SECRET = "Bearer tok3n.SECRET-value_123"


def messages():
    yield {"jsonrpc": "2.0", "id": 0, "method": "initialize",
           "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                      "clientInfo": {"name": "py-socket-host", "version": "2.0"}}}
    yield {"jsonrpc": "2.0", "method": "notifications/initialized"}
    for i in range(CALLS):
        yield {"jsonrpc": "2.0", "id": i + 1, "method": "tools/call",
               "params": {"name": "echo", "arguments": {"text": f"call {i}", "auth": SECRET}}}
    if os.environ.get("TOOL_LAST"):
        yield {"jsonrpc": "2.0", "id": "last", "method": "tools/call",
               "params": {"name": os.environ["TOOL_LAST"], "arguments": {}}}


def answered(line, want):
    """True when line is the answer to id want; notifications and noise are skipped."""
    try:
        msg = json.loads(line)
    except ValueError:
        return False
    return isinstance(msg, dict) and msg.get("id") == want and "method" not in msg


async def run_asyncio(cmd):
    # stdin on a socketpair written through asyncio's stream writer, stdout a pipe
    mine, theirs = socket.socketpair()
    proc = await asyncio.create_subprocess_exec(*cmd, stdin=theirs,
                                                stdout=asyncio.subprocess.PIPE)
    theirs.close()
    _, writer = await asyncio.open_unix_connection(sock=mine)
    for msg in messages():
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


def run_dup(cmd, named):
    mine, theirs = named_pair() if named else socket.socketpair()
    proc = subprocess.Popen(cmd, stdin=theirs.fileno(), stdout=theirs.fileno())
    theirs.close()
    rf = mine.makefile("rb")
    for msg in messages():
        mine.sendall(json.dumps(msg).encode() + b"\n")
        while "id" in msg:
            line = rf.readline()
            if not line or answered(line, msg["id"]):
                break
    mine.shutdown(socket.SHUT_WR)
    return proc.wait()


cmd = [sys.executable] + sys.argv[2:]
if sys.argv[1] == "asyncio":
    rc = asyncio.run(run_asyncio(cmd))
else:
    rc = run_dup(cmd, sys.argv[1] == "named")
sys.exit(0 if rc in (0, 3) else rc)
