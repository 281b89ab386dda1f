#!/usr/bin/env python3
"""asyncio JSON-RPC server (mode "server PORT") and client (mode "client PORT N"):
the client opens N connections, waits until all are open, then each sends one
request and waits for its answer, so N connections are live at once."""
import asyncio
import json
import sys


async def serve(reader, writer):
    while line := await reader.readline():
        msg = json.loads(line)
        writer.write(json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": {}}).encode() + b"\n")
        await writer.drain()
    writer.close()


async def one(port, i, opened, go):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    opened.release()
    await go.wait()
    writer.write(json.dumps({"jsonrpc": "2.0", "id": i, "method": "tools/call",
                             "params": {"name": "scale"}}).encode() + b"\n")
    await writer.drain()
    assert json.loads(await reader.readline())["id"] == i
    return writer


async def client(port, n):
    opened, go = asyncio.Semaphore(0), asyncio.Event()
    tasks = [asyncio.create_task(one(port, i, opened, go)) for i in range(n)]
    for _ in range(n):
        await opened.acquire()
    go.set()
    writers = await asyncio.gather(*tasks)
    for w in writers:
        w.close()
    print(n)


async def main():
    if sys.argv[1] == "server":
        srv = await asyncio.start_server(serve, "127.0.0.1", int(sys.argv[2]), backlog=4096)
        async with srv:
            await srv.serve_forever()
    else:
        await client(int(sys.argv[2]), int(sys.argv[3]))

asyncio.run(main())
