"""bench/dendrite's peer: the Python SDK's dendrite fan-out (bittensor
v10 `Dendrite.forward`: one aiohttp ClientSession, `asyncio.gather` of one
`call` per axon) to the same targets and responder as bench/dendrite.c.

    /usr/bin/python3 bench/peer/dendrite.py INPUTS.json LIMIT ROUNDS

INPUTS.json is written by bench/dendrite (targets, delay, timeout). LIMIT is
the TCPConnector's limit: 100 is the SDK's default session (aiohttp's
default connector), 0 unlimited. Each request is built as the SDK builds it
without pydantic: a fresh synapse dict per target (timeout, nonce, the
dendrite's and the axon's terminal infos), the SHA3-256 body hash, the
bt_header_* headers (base64 of the empty value of each required field) and
the body as JSON (aiohttp's json=, i.e. json.dumps). It is NOT signed: the
SDK signs with sr25519 (bittensor_wallet, Rust), which no Debian package
offers, so the signature is a placeholder and this side's CPU is a lower
bound of the SDK's. Each response is read as the SDK does (`await
response.json()`), its fields and bt_header_* terminal values merged back.

Round 1 is cold (new connections), then ROUNDS warm ones on the session's
kept-alive connections. Prints one line, as bench/dendrite does:
    row WHO N COLD_MS WARM_MEDIAN_MS WARM_BEST_MS WARM_WORST_MS
        CPU_COLD CPU_WARM HWM_KIB BASE_KIB SIGN
(*_MS: wall time minus the responder's delay; CPU_*: getrusage user + system
seconds per 1000 requests; HWM: VmHWM; BASE: VmRSS before round 1; SIGN: 0, no signing here)."""

import asyncio
import base64
import hashlib
import json
import resource
import sys
import time
import uuid

import aiohttp

VERSION = 10002000
PLACEHOLDER_SIG = "0x" + "00" * 64  # the SDK: f"0x{keypair.sign(message).hex()}"


def proc_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def cpu_now():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def terminal(**kw):
    t = dict.fromkeys(
        ("status_code", "status_message", "process_time", "ip", "port", "version", "nonce",
         "uuid", "hotkey", "signature"))
    t.update(kw)
    return t


class Dendrite:
    def __init__(self, hotkey, limit):
        self.hotkey = hotkey
        self.uuid = str(uuid.uuid1())
        self.limit = limit
        self.session = None

    async def open(self):
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self.limit))

    def preprocess(self, target, synapse, timeout):
        # Dendrite.preprocess_synapse_for_request
        synapse["timeout"] = timeout
        synapse["dendrite"] = terminal(version=VERSION, nonce=time.time_ns(), uuid=self.uuid,
                                       hotkey=self.hotkey)
        synapse["axon"] = terminal(ip=target["ip"], port=target["port"], hotkey=target["hotkey"])
        # Synapse.body_hash: no hashed fields in Dummy, H("") as the SDK computes it
        body_hash = hashlib.sha3_256("".encode()).hexdigest()
        d = synapse["dendrite"]
        message = f"{d['nonce']}.{d['hotkey']}.{target['hotkey']}.{d['uuid']}.{body_hash}"
        d["signature"] = PLACEHOLDER_SIG  # keypair.sign(message): not available
        del message
        return body_hash

    def to_headers(self, synapse, body_hash):
        # Synapse.to_headers
        h = {"name": synapse["name"], "timeout": str(synapse["timeout"])}
        for side in ("axon", "dendrite"):
            for k, v in synapse[side].items():
                if v is not None:
                    h[f"bt_header_{side}_{k}"] = str(v)
        for field in ("dummy_input",):  # the required fields
            h[f"bt_header_input_obj_{field}"] = base64.b64encode(
                json.dumps(type(synapse[field])()).encode()).decode()
        h["header_size"] = str(sys.getsizeof(h))
        h["total_size"] = str(len(json.dumps(synapse)))
        h["computed_body_hash"] = body_hash
        synapse["total_size"] = int(h["total_size"])
        return h

    def process_server_response(self, response, json_response, synapse):
        if response.status == 200:
            for k, v in json_response.items():
                if k in synapse and k != "computed_body_hash":
                    synapse[k] = v
        else:
            synapse["axon"]["status_code"] = response.status
            synapse["axon"]["status_message"] = json_response.get("message")
        for k, v in response.headers.items():
            k = k.lower()
            for side in ("axon", "dendrite"):
                p = f"bt_header_{side}_"
                if k.startswith(p) and k[len(p):] in synapse[side]:
                    synapse[side][k[len(p):]] = v
        synapse["dendrite"]["status_code"] = synapse["axon"]["status_code"]
        synapse["dendrite"]["status_message"] = synapse["axon"]["status_message"]

    async def call(self, target, synapse, timeout):
        start = time.time()
        url = f"http://{target['ip']}:{target['port']}/{synapse['name']}"
        body_hash = self.preprocess(target, synapse, timeout)
        try:
            async with self.session.post(url=url, headers=self.to_headers(synapse, body_hash),
                                         json=synapse,
                                         timeout=aiohttp.ClientTimeout(total=timeout)) as response:
                json_response = await response.json()
                self.process_server_response(response, json_response, synapse)
            synapse["dendrite"]["process_time"] = str(time.time() - start)
        except Exception as e:  # the SDK: process_error_message
            synapse["dendrite"]["status_code"] = 422
            synapse["dendrite"]["status_message"] = f"Failed to parse response: {e}"
        return synapse

    async def forward(self, targets, synapse, timeout):
        # synapse.model_copy() per axon, then gather
        return await asyncio.gather(
            *(self.call(t, json.loads(json.dumps(synapse)), timeout) for t in targets))


def new_synapse():
    return {"name": "Dummy", "timeout": 12.0, "total_size": 0, "header_size": 0,
            "dendrite": terminal(), "axon": terminal(), "computed_body_hash": "",
            "dummy_input": 3, "dummy_output": None}


async def main():
    inputs, limit, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with open(inputs) as f:
        cfg = json.load(f)
    targets, delay_ms, timeout = cfg["targets"], cfg["delay_ms"], cfg["timeout"]
    dendrite = Dendrite(cfg["dendrite_hotkey"], limit)
    await dendrite.open()
    synapse = new_synapse()

    async def one_round():
        t0 = time.perf_counter()
        results = await dendrite.forward(targets, synapse, timeout)
        dt = (time.perf_counter() - t0) * 1e3 - delay_ms
        bad = [r for r in results
               if r["dendrite"]["status_code"] not in (200, "200") or r["dummy_output"] != 6]
        if bad:
            sys.exit(f"dendrite.py: {len(bad)} of {len(targets)} not answered 200 "
                     f"({bad[0]['dendrite']['status_message']})")
        return dt

    base = proc_kib("VmRSS")
    c0 = cpu_now()
    cold = await one_round()
    c1 = cpu_now()
    warm = [await one_round() for _ in range(rounds)]
    c2 = cpu_now()
    hwm = proc_kib("VmHWM")
    await dendrite.session.close()
    n = len(targets)
    who = "python-aiohttp-" + (f"l{limit}" if limit else "unlimited")
    print(f"dendrite.py: {who}: rounds (ms over {delay_ms:.0f}): {cold:.2f} | "
          + " ".join(f"{w:.2f}" for w in warm), file=sys.stderr)
    w = sorted(warm)
    per = 1000.0 / n
    print(f"row {who} {n} {cold:.3f} {w[len(w) // 2]:.3f} {w[0]:.3f} {w[-1]:.3f} "
          f"{(c1 - c0) * per:.5f} {(c2 - c1) * per / rounds:.5f} {hwm} {base} 0")


asyncio.run(main())
