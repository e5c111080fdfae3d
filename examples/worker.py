#!/usr/bin/python3
"""A ganglion synapse worker (docs/workers.md) serving Dummy on a Unix socket:
dummy_output = 2 x dummy_input. Needs Debian's python3-msgpack.

usage: /usr/bin/python3 examples/worker.py SOCKET_PATH [--delay SECONDS]
(--delay: seconds of pretend work per call; calls run concurrently)"""
import asyncio, os, struct, sys

import msgpack

V = 1
DUMMY = {"name": "Dummy", "streaming": False, "fields": [
    {"name": "dummy_input", "type": "int", "required": True},
    {"name": "dummy_output", "type": "int", "nullable": True}]}


def frame(msg):
    data = msgpack.packb(msg, use_bin_type=True)
    return struct.pack(">I", len(data)) + data


async def answer(req, writer, delay):
    await asyncio.sleep(delay)
    body = req.get("body") or {}
    x = body.get("dummy_input")
    if req.get("synapse") != "Dummy" or not isinstance(x, int):
        out = {"v": V, "id": req["id"], "type": "error", "status": 400,
               "message": "Dummy needs an integer dummy_input"}
    else:
        out = {"v": V, "id": req["id"], "type": "response", "body": {"dummy_output": 2 * x}}
    writer.write(frame(out))


async def serve(reader, writer, delay):
    writer.write(frame({"v": V, "type": "hello", "worker": f"dummy-py-{os.getpid()}",
                        "synapses": [DUMMY]}))
    tasks = {}
    try:
        while True:
            (n,) = struct.unpack(">I", await reader.readexactly(4))
            msg = msgpack.unpackb(await reader.readexactly(n), raw=False)
            if msg.get("v") != V:
                break
            if msg.get("type") == "request":
                t = tasks[msg["id"]] = asyncio.create_task(answer(msg, writer, delay))
                t.add_done_callback(lambda _, i=msg["id"]: tasks.pop(i, None))
            elif msg.get("type") == "cancel" and msg.get("id") in tasks:
                tasks[msg["id"]].cancel()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        for t in list(tasks.values()):
            t.cancel()
        writer.close()


async def main(path, delay):
    if os.path.exists(path):
        os.unlink(path)  # a socket left by a worker that was killed
    server = await asyncio.start_unix_server(lambda r, w: serve(r, w, delay), path)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    delay = float(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[2] == "--delay" else 0.0
    asyncio.run(main(sys.argv[1], delay))
