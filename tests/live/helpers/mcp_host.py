#!/usr/bin/env python3
"""An MCP-style host: spawns the stdio server with pipes, as MCP hosts do,
and runs a session (initialize, initialized, tools/list, tool calls, an
unknown method). Prints nothing on stdout (its own stdout may be audited)."""
import json
import subprocess
import sys

srv = subprocess.Popen([sys.executable, sys.argv[1]], stdin=subprocess.PIPE,
                       stdout=subprocess.PIPE)
pending = set()


def send(msg):
    srv.stdin.write(json.dumps(msg).encode() + b"\n")
    srv.stdin.flush()
    if "id" in msg:
        pending.add(msg["id"])


send({"jsonrpc": "2.0", "id": 0, "method": "initialize",
      "params": {"protocolVersion": "2025-06-18",
                 "clientInfo": {"name": "py-fifo-host", "version": "1.0"}}})
send({"jsonrpc": "2.0", "method": "notifications/initialized"})
send({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
for i, name in enumerate(["echo", "slow", "echo", "echo", "echo"]):
    send({"jsonrpc": "2.0", "id": f"call-{i}", "method": "tools/call",
          "params": {"name": name, "arguments": {"text": "hi", "auth": "Bearer tok3n.SECRET-value_123"}}})
send({"jsonrpc": "2.0", "id": 99, "method": "resources/nope"})
while pending:
    msg = json.loads(srv.stdout.readline())
    pending.discard(msg.get("id", None))
srv.stdin.close()
sys.exit(srv.wait())
