#!/usr/bin/env python3
"""Client for jsonrpc_server.py: C connections, each sending N requests
(tools/call with a tool name, tools/list, an unknown method; numeric and
string ids), one notification and one batch, then answering the server's
ping; reads until every request is answered. Prints the requests sent."""
import json
import socket
import sys
import threading

where, conns, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sent = []
lock = threading.Lock()


def run(k):
    if where.isdigit():
        c = socket.create_connection(("127.0.0.1", int(where)))
    else:
        c = socket.socket(socket.AF_UNIX)
        c.connect(where)
    f = c.makefile("rwb")
    ids = []
    for i in range(per):
        rid = i if i % 2 == 0 else f"c{k}-{i}"
        method = ["tools/call", "tools/list", "no/such"][i % 3]
        msg = {"jsonrpc": "2.0", "id": rid, "method": method}
        if method == "tools/call":
            msg["params"] = {"name": "get_weather", "arguments": {"city": "Oslo"}}
        f.write(json.dumps(msg).encode() + b"\n")
        ids.append(rid)
    f.write(b'{"jsonrpc":"2.0","method":"notifications/progress"}\n')
    batch = [{"jsonrpc": "2.0", "id": f"b{k}-{j}", "method": "tools/list"} for j in range(2)]
    f.write(json.dumps(batch).encode() + b"\n")
    f.flush()
    answered = set()
    for line in f:
        msg = json.loads(line)
        if isinstance(msg, list):        # the batch's answers
            answered.update(json.dumps(m["id"]) for m in msg)
        elif msg.get("method") == "ping":
            f.write(json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": {}}).encode() + b"\n")
            f.flush()
        elif "id" in msg and "method" not in msg:
            answered.add(json.dumps(msg["id"]))
        if len(answered) == per + 2:
            break
    c.shutdown(socket.SHUT_WR)
    c.close()
    with lock:
        sent.extend(ids)


ts = [threading.Thread(target=run, args=(k,)) for k in range(conns)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(len(sent))
