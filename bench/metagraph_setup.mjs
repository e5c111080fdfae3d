// Set-up of bench/metagraph (run by bench/metagraph.sh, not a peer): seeds
// the local chain with SUBNETS subnets of NEURONS neurons each (netuids
// 1..SUBNETS; root, netuid 0, stays as genesis made it) and one subnet of
// DECODE neurons for the decode measurement, writes the inputs both sides
// read and, given a MEMO_PORT, stays up as the node's runtime-call memo.
//   node metagraph_setup.mjs MODULES_DIR CHAIN_URL PROXY_URL RTT_MS SUBNETS NEURONS DECODE \
//        OUT_JSON [MEMO_PORT]
//
// Seeding by storage, not extrinsics: chopsticks builds one block per
// extrinsic (~0.4 s) and registrations are rate-limited, so 2000+ neurons
// would take a quarter of an hour. One chopsticks dev_setStorage writes every
// item NeuronInfoRuntimeApi.get_neurons_lite reads (NetworksAdded,
// SubnetworkN, Keys, Owner, Axons, the per-subnet vectors Active, Rank,
// Trust, Consensus, Incentive, Dividends, Emission, LastUpdate,
// ValidatorTrust, ValidatorPermit, PruningScores, and TotalHotkeyAlpha for
// the stake) and what makes the subnets whole for other readers (Uids,
// IsNetworkMember, Tempo, MaxAllowedUids, SubnetOwner..., TotalNetworks):
// instant, no block built (the head keeps its hash).
//
// The decode subnet lives only in an older block: it is written first (at
// block D), one empty block is built on top (dev_newBlock), and there it is
// deleted and the SUBNETS are written. So the head lists root + SUBNETS, and
// block D answers get_neurons_lite(DECODE netuid) with DECODE neurons. Every
// subnet's answer is checked (its neuron count) before the inputs are
// written; these calls, straight to the chain, also give the node's own
// time per call.
//
// The memo (MEMO_PORT): chopsticks compiles the 4 MB runtime for every
// runtime call, in one worker thread, so each state_call costs it 0.3-0.5 s
// and 33 of them take ~15 s whatever the client does (a real node answers
// in milliseconds). The bench measures clients against the round trip, so
// the proxy's upstream is this memo: a WebSocket relay to the chain that
// answers state_call at a given block hash (immutable state) with the bytes
// the chain gave for it, kept from the checks above or from the first
// answer; every other request, and state_call without a block, goes to the
// chain as sent.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const [modulesDir, chainUrl, proxyUrl, rttMs, subnetsArg, neuronsArg, decodeArg, out, memoPort] =
  process.argv.slice(2);
const require = createRequire(path.join(path.resolve(modulesDir), 'package.json'));
const { WsProvider } = require('@polkadot/api');
const { compactFromU8a, hexToU8a, u8aToHex } = require('@polkadot/util');
const { blake2AsU8a, encodeAddress, xxhashAsHex } = require('@polkadot/util-crypto');
const { WebSocket, WebSocketServer } = require('ws');

const SUBNETS = Number(subnetsArg), NEURONS = Number(neuronsArg), DECODE = Number(decodeArg);
if (!(SUBNETS >= 1 && SUBNETS < 1000 && NEURONS >= 1 && NEURONS <= 4096 && DECODE >= 1 &&
      DECODE <= 4096)) {
  throw new Error('metagraph_setup: 1 <= SUBNETS < 1000, 1 <= NEURONS, DECODE <= 4096');
}
const DECODE_NETUID = SUBNETS + 1, COLDKEYS = 16, METHOD = 'NeuronInfoRuntimeApi_get_neurons_lite';
const t0 = Date.now();
const provider = new WsProvider(chainUrl, false, {}, 300000);
await provider.connect();
await provider.isReady;

const account = (s) => encodeAddress(blake2AsU8a(`ganglion-bench/metagraph/${s}`), 42);
const coldkeys = [...Array(COLDKEYS).keys()].map((i) => account(`coldkey/${i}`));
// a spread of u16 values, so compacts take 1, 2 and 3 bytes as on a real chain
const u16 = (net, uid, k) => (net * 7919 + uid * 104729 + k * 1299709) % 65536;

// The storage of one subnet (del: null values, which delete).
function subnet(netuid, n, block, del = false) {
  const v = (x) => (del ? null : x);
  const hotkeys = [...Array(n).keys()].map((uid) => account(`${netuid}/hotkey/${uid}`));
  const vec = (f) => [[[netuid], v([...Array(n).keys()].map(f))]];
  return {
    NetworksAdded: [[[netuid], v(true)]],
    SubnetworkN: [[[netuid], v(n)]],
    Tempo: [[[netuid], v(360)]],
    MaxAllowedUids: [[[netuid], v(Math.max(n, 256))]],
    NetworkRegisteredAt: [[[netuid], v(block)]],
    SubnetOwner: [[[netuid], v(coldkeys[netuid % COLDKEYS])]],
    SubnetOwnerHotkey: [[[netuid], v(hotkeys[0])]],
    Keys: hotkeys.map((hk, uid) => [[netuid, uid], v(hk)]),
    Uids: hotkeys.map((hk, uid) => [[netuid, hk], v(uid)]),
    IsNetworkMember: hotkeys.map((hk) => [[hk, netuid], v(true)]),
    Owner: hotkeys.map((hk, uid) => [[hk], v(coldkeys[uid % COLDKEYS])]),
    TotalHotkeyAlpha: hotkeys.map((hk, uid) => [[hk, netuid],
      v(1_000_000_000n * BigInt(1 + ((uid * 37) % 1000)) + BigInt(uid))]),
    Axons: hotkeys.map((hk, uid) => [[netuid, hk], v({
      block, version: 9_001_000 + (uid % 5), ip: (10n << 24n) + BigInt((netuid << 8) | (uid % 256)),
      port: 8091 + (uid % 1000), ipType: 4, protocol: 4, placeholder1: 0, placeholder2: 0,
    })]),
    Active: vec((uid) => uid % 11 !== 3),
    ValidatorPermit: vec((uid) => uid % 4 === 0),
    Rank: vec((uid) => u16(netuid, uid, 1)),
    Trust: vec((uid) => u16(netuid, uid, 2)),
    Consensus: vec((uid) => u16(netuid, uid, 3)),
    Incentive: vec((uid) => u16(netuid, uid, 4)),
    Dividends: vec((uid) => u16(netuid, uid, 5)),
    ValidatorTrust: vec((uid) => u16(netuid, uid, 6)),
    PruningScores: vec((uid) => u16(netuid, uid, 7)),
    Emission: vec((uid) => 1_000_000 + u16(netuid, uid, 8) * 12_345),
    LastUpdate: vec((uid) => Math.max(0, block - (uid % 50))),
  };
}
function merge(...parts) {
  const all = {};
  for (const p of parts) for (const [k, rows] of Object.entries(p)) (all[k] ??= []).push(...rows);
  return { SubtensorModule: all };
}
const netuidHex = (netuid) => u8aToHex(new Uint8Array([netuid & 255, netuid >> 8]));
const memo = new Map(); // JSON [method, args, block hash] -> the answer (hex)
// get_neurons_lite(netuid) at `at`: its neuron count (the answer's compact
// length prefix), size, and the node's time
async function neuronsAt(netuid, at) {
  const params = [METHOD, netuidHex(netuid), at];
  const c0 = Date.now();
  const hex = await provider.send('state_call', params);
  memo.set(JSON.stringify(params), hex);
  return { count: compactFromU8a(hexToU8a(hex))[1].toNumber(), bytes: (hex.length - 2) / 2,
    ms: Date.now() - c0 };
}

// 1. the decode subnet, at the current head
const block0 = parseInt((await provider.send('chain_getHeader', [])).number, 16);
const decodeAt = await provider.send('dev_setStorage', [merge(subnet(DECODE_NETUID, DECODE, block0))]);
// 2. one block on top; there the decode subnet goes and the subnets come
await provider.send('dev_newBlock', [{ count: 1 }]);
const block1 = parseInt((await provider.send('chain_getHeader', [])).number, 16);
const parts = [subnet(DECODE_NETUID, DECODE, block0, true)];
for (let net = 1; net <= SUBNETS; net++) parts.push(subnet(net, NEURONS, block1));
const storage = merge(...parts);
storage.SubtensorModule.TotalNetworks = SUBNETS + 1;
const at = await provider.send('dev_setStorage', [storage]);
const head = await provider.send('chain_getBlockHash', []);
if (head !== at) throw new Error(`dev_setStorage set ${at}, the head is ${head}`);
const tSeed = Date.now();

// 3. checks: the head lists root + SUBNETS, each with NEURONS neurons; block
// decodeAt answers DECODE neurons
const prefix = xxhashAsHex('SubtensorModule', 128) + xxhashAsHex('NetworksAdded', 128).slice(2);
const keys = await provider.send('state_getKeysPaged', [prefix, 1000, null, at]);
const netuids = keys.map((k) => { const b = hexToU8a(k); return b[32] | (b[33] << 8); })
  .sort((a, b) => a - b);
if (netuids.length !== SUBNETS + 1 || netuids.some((n, i) => n !== i)) {
  throw new Error(`the head lists subnets ${netuids.join(',')}, expected 0..${SUBNETS}`);
}
let answerBytes = 0, nodeMs = 0;
for (const net of netuids) {
  const { count, bytes, ms } = await neuronsAt(net, at);
  if (count !== (net ? NEURONS : 0)) throw new Error(`subnet ${net}: ${count} neurons, expected ${net ? NEURONS : 0}`);
  answerBytes += bytes;
  nodeMs += ms;
}
const dec = await neuronsAt(DECODE_NETUID, decodeAt);
if (dec.count !== DECODE) throw new Error(`decode subnet: ${dec.count} neurons, expected ${DECODE}`);
await provider.disconnect();

const inputs = {
  url: proxyUrl, direct_url: chainUrl, rtt_ms: Number(rttMs), at,
  networks_prefix: prefix, netuids, neurons: NEURONS, answer_bytes: answerBytes,
  node_ms_per_call: nodeMs / netuids.length, memo: Boolean(Number(memoPort)),
  decode: { at: decodeAt, netuid: DECODE_NETUID, method: METHOD, args: netuidHex(DECODE_NETUID),
    neurons: DECODE, bytes: dec.bytes },
};
console.log(`metagraph_setup: ${SUBNETS} subnets x ${NEURONS} neurons + root at ${at} (block ${block1}, ` +
  `${answerBytes} bytes of get_neurons_lite answers), a ${DECODE}-neuron subnet (${dec.bytes} bytes) at ` +
  `${decodeAt}; seeded in ${((tSeed - t0) / 1000).toFixed(1)} s, checked in ` +
  `${((Date.now() - tSeed) / 1000).toFixed(1)} s (the chain alone: ${(nodeMs / netuids.length).toFixed(0)} ` +
  `ms per get_neurons_lite, one after another)`);

if (!inputs.memo) {
  writeFileSync(out, JSON.stringify(inputs, null, 1) + '\n');
  process.exit(0);
}

// 4. the memo: one upstream connection per client connection; answers
// state_call at a block hash from memory once known
const isHash = (s) => typeof s === 'string' && /^0x[0-9a-fA-F]{64}$/.test(s);
const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(memoPort), maxPayload: 1 << 30 });
let served = 0, passed = 0;
wss.on('connection', (client) => {
  const up = new WebSocket(chainUrl, { maxPayload: 1 << 30 });
  const queue = [], pending = new Map(); // id -> memo key of a state_call awaiting its answer
  up.on('open', () => { for (const m of queue.splice(0)) up.send(m); });
  up.on('message', (data, isBinary) => {
    if (pending.size) {
      const m = JSON.parse(data.toString());
      const key = m && pending.get(JSON.stringify(m.id));
      if (key) {
        pending.delete(JSON.stringify(m.id));
        if (typeof m.result === 'string') memo.set(key, m.result);
      }
    }
    if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
  });
  const forward = (m) => { passed++; if (up.readyState === WebSocket.OPEN) up.send(m); else queue.push(m); };
  client.on('message', (data) => {
    const text = data.toString();
    let m;
    try { m = JSON.parse(text); } catch { m = null; }
    if (m && !Array.isArray(m) && m.method === 'state_call' && Array.isArray(m.params) &&
        m.params.length === 3 && isHash(m.params[2])) {
      const key = JSON.stringify([m.params[0], String(m.params[1]).toLowerCase(), m.params[2].toLowerCase()]);
      const hit = memo.get(key);
      if (hit !== undefined) {
        served++;
        client.send(JSON.stringify({ jsonrpc: '2.0', id: m.id, result: hit }));
        return;
      }
      pending.set(JSON.stringify(m.id), key);
    }
    forward(text);
  });
  client.on('close', () => up.close());
  up.on('close', () => client.close());
  up.on('error', () => client.close());
  client.on('error', () => up.close());
});
wss.on('listening', () => {
  writeFileSync(out, JSON.stringify(inputs, null, 1) + '\n');
  console.log(`metagraph_setup: the memo of runtime calls listens on 127.0.0.1:${memoPort} ` +
    `(${memo.size} answers kept)`);
});
const bye = () => {
  console.log(`metagraph_setup: the memo answered ${served} state_calls, passed ${passed} requests on`);
  process.exit(0);
};
process.on('SIGTERM', bye);
process.on('SIGINT', bye);
