#!/usr/bin/env python3
"""A minimal MCP-style stdio server: newline-delimited JSON-RPC on stdin and
stdout, logs on stderr. Answers initialize, tools/list and tools/call (a
slow tool's answer comes after the next request's), sends a log
notification, and errors on unknown methods.
--noisy: a banner and a non-JSON line on stdout between messages, as some
servers print; --crash: the "crash" tool exits before it answers."""
import json
import os
import sys

noisy = "--noisy" in sys.argv
held = None
if noisy:
    print("demo server starting (not JSON)", flush=True)
for line in sys.stdin:
    msg = json.loads(line)
    if noisy:
        print("-- got a message --", flush=True)
    print("server got", msg.get("method"), file=sys.stderr)
    if "id" not in msg:
        continue
    mid, method = msg["id"], msg.get("method")
    if method == "initialize":
        out = {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}},
               "serverInfo": {"name": "demo", "version": "1"}}
    elif method == "tools/list":
        out = {"tools": [{"name": "echo"}, {"name": "slow"}]}
    elif method == "tools/call":
        name = msg["params"]["name"]
        if name == "crash" and "--crash" in sys.argv:
            os._exit(3)
        print(json.dumps({"jsonrpc": "2.0", "method": "notifications/message",
                          "params": {"level": "info", "data": "calling " + name}}), flush=True)
        out = {"content": [{"type": "text", "text": name}]}
        if name == "slow" and held is None:
            held = {"jsonrpc": "2.0", "id": mid, "result": out}
            continue
    else:
        print(json.dumps({"jsonrpc": "2.0", "id": mid,
                          "error": {"code": -32601, "message": "no such method"}}), flush=True)
        continue
    print(json.dumps({"jsonrpc": "2.0", "id": mid, "result": out}), flush=True)
    if held is not None and held["id"] != mid:
        print(json.dumps(held), flush=True)
        held = None
