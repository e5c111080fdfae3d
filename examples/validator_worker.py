#!/usr/bin/python3
"""A ganglion validator worker (docs/validator.md, "Task sources and scorers"):
an external task source and scorer on a Unix socket, speaking the worker
protocol of docs/workers.md. Its tasks query the built-in Dummy synapse with a
random dummy_input; its score of a response is 0 unless the miner answered 200
with dummy_output = 2 x dummy_input, else 1 - 0.5 x min(process_time / timeout,
1) (the built-in Dummy scorer's rule). Needs Debian's python3-msgpack.

usage: /usr/bin/python3 examples/validator_worker.py SOCKET_PATH
           [--timeout SECONDS] [--delay SECONDS]
(--timeout: the timeout of the tasks made, default 5; --delay: seconds of
pretend work per call; calls run concurrently)

The validator opens it with validator.task_source / validator.scorer set to
"worker:SOCKET_PATH"."""
import asyncio, os, random, struct, sys

import msgpack

V = 1
# The pseudo-synapses the validator calls. Their fields are descriptive: a
# hello needs them to be a valid class; "timeout" is a base field and is not
# listed, though the task's answer carries one.
VALIDATOR_TASK = {"name": "ValidatorTask", "fields": [
    {"name": "step", "type": "int", "required": True},
    {"name": "synapse", "type": "str", "nullable": True},
    {"name": "fields", "type": "dict", "nullable": True},
    {"name": "context", "type": "any", "nullable": True}]}
VALIDATOR_SCORE = {"name": "ValidatorScore", "fields": [
    {"name": "task", "type": "dict", "required": True},
    {"name": "responses", "type": "list", "required": True},
    {"name": "rewards", "type": "list", "nullable": True}]}


def frame(msg):
    data = msgpack.packb(msg, use_bin_type=True)
    return struct.pack(">I", len(data)) + data


def number(v):
    """A float from a number or numeric text (headers carry text), else None."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return None
    return None


def positive(v):
    n = number(v)
    return n if n is not None and n > 0 else None


def make_task(step, timeout):
    x = random.randrange(1000)
    return {"synapse": "Dummy", "fields": {"dummy_input": x},
            "context": {"expected": 2 * x, "step": step}, "timeout": timeout}


def reward(task, resp):
    context = task.get("context") or {}
    expected = context.get("expected")
    if not isinstance(resp, dict):
        return 0.0
    dendrite = resp.get("dendrite") or {}
    if number(dendrite.get("status_code")) != 200:
        return 0.0
    out = resp.get("dummy_output")
    if isinstance(out, bool) or not isinstance(out, int) or out != expected:
        return 0.0
    query = task.get("query") or {}
    timeout = positive(resp.get("timeout")) or positive(query.get("timeout")) or 12.0
    pt = number(dendrite.get("process_time"))
    if pt is None or pt < 0:
        pt = timeout
    return 1.0 - 0.5 * min(pt / timeout, 1.0)


async def answer(req, writer, timeout, delay):
    await asyncio.sleep(delay)
    body = req.get("body") or {}
    out = {"v": V, "id": req["id"], "type": "response"}
    if req.get("synapse") == "ValidatorTask" and isinstance(body.get("step"), int):
        out["body"] = make_task(body["step"], timeout)
    elif req.get("synapse") == "ValidatorScore" and isinstance(body.get("responses"), list):
        task = body.get("task") or {}
        out["body"] = {"rewards": [reward(task, r) for r in body["responses"]]}
    else:
        out = {"v": V, "id": req["id"], "type": "error", "status": 400,
               "message": "expected ValidatorTask {step} or ValidatorScore {task, responses}"}
    writer.write(frame(out))


async def serve(reader, writer, timeout, delay):
    writer.write(frame({"v": V, "type": "hello", "worker": f"validator-py-{os.getpid()}",
                        "synapses": [VALIDATOR_TASK, VALIDATOR_SCORE]}))
    tasks = {}
    try:
        while True:
            (n,) = struct.unpack(">I", await reader.readexactly(4))
            msg = msgpack.unpackb(await reader.readexactly(n), raw=False)
            if msg.get("v") != V:
                break
            if msg.get("type") == "request":
                t = tasks[msg["id"]] = asyncio.create_task(answer(msg, writer, timeout, delay))
                t.add_done_callback(lambda _, i=msg["id"]: tasks.pop(i, None))
            elif msg.get("type") == "cancel" and msg.get("id") in tasks:
                tasks[msg["id"]].cancel()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        for t in list(tasks.values()):
            t.cancel()
        writer.close()


async def main(path, timeout, delay):
    if os.path.exists(path):
        os.unlink(path)  # a socket left by a worker that was killed
    server = await asyncio.start_unix_server(lambda r, w: serve(r, w, timeout, delay), path)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    opts = {"--timeout": 5.0, "--delay": 0.0}
    for k, v in zip(args[1::2], args[2::2]):
        if k not in opts:
            sys.exit(__doc__)
        opts[k] = float(v)
    asyncio.run(main(args[0], opts["--timeout"], opts["--delay"]))
