// The peer of bench/metagraph.c: @polkadot/api (ApiPromise on a WsProvider)
// reading every subnet's neurons the way a polkadot-js script would: the
// best block's hash, api.at(it), the subnet list (NetworksAdded entries()
// whose value is true, as ganglion and the SDK read it), then
// apiAt.call.neuronInfoRuntimeApi.getNeuronsLite for every subnet at once
// (Promise.all); on the same chain, through the same latency proxy, in the
// same run (bench/metagraph.sh runs both). And @polkadot/types decoding the
// same get_neurons_lite answer as the bench (createType by the method's
// output type; then toJSON).
//   node metagraph.mjs MODULES_DIR INPUTS_JSON  ->  "<bench> polkadot-js <ops/s>"
// Wall rates are the best of ROUNDS rounds; *_cpu rates are neurons per
// second of this process's CPU time (user + system, process.cpuUsage) over
// all rounds. Results stay Codec objects (no toJSON): the decoding it does
// anyway. polkadot-js' caches are kept out of the way as in peer/chain.mjs
// (its WsProvider result cache cut to one 1 ms entry, rounds 2 s apart for
// its rxjs replays), so every round reaches the node.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const [modulesDir, inputsPath] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(modulesDir), 'package.json'));
const { ApiPromise, WsProvider } = require('@polkadot/api');
const { hexToU8a } = require('@polkadot/util');

const inputs = JSON.parse(readFileSync(inputsPath, 'utf8'));
const ROUNDS = 3, QUIET_MS = 2000;
const subnets = inputs.netuids.length, neurons = (subnets - 1) * inputs.neurons;
const log = (...a) => console.error('peer metagraph:', ...a);

const provider = new WsProvider(inputs.url, 2500, {}, 300000, 1, 1); // cache: 1 entry, 1 ms
const api = await ApiPromise.create({ provider, noInitWarn: true, throwOnConnect: true });

const now = () => Number(process.hrtime.bigint()) / 1e9;
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };

// One read of every subnet at the best block; checks the answer.
async function allNeurons() {
  const hash = await api.rpc.chain.getBlockHash();
  const apiAt = await api.at(hash);
  const entries = await apiAt.query.subtensorModule.networksAdded.entries();
  const netuids = entries.filter(([, v]) => v.isTrue).map(([k]) => k.args[0].toNumber());
  const all = await Promise.all(netuids.map((n) => apiAt.call.neuronInfoRuntimeApi.getNeuronsLite(n)));
  if (hash.toHex() !== inputs.at || netuids.length !== subnets) {
    throw new Error(`read ${netuids.length} subnets at ${hash.toHex()}, expected ${subnets} at ${inputs.at}`);
  }
  const total = all.reduce((s, v) => s + v.length, 0);
  if (total !== neurons) throw new Error(`read ${total} neurons, expected ${neurons}`);
}

await allNeurons(); // warm: runtime, codecs, connections
await sleep(QUIET_MS);
let best = Infinity, cpuTotal = 0;
for (let r = 0; r < ROUNDS; r++) {
  const rx0 = provider.stats.total.bytesRecv;
  const c0 = cpu(), t0 = now();
  await allNeurons();
  const t = now() - t0;
  cpuTotal += cpu() - c0;
  best = Math.min(best, t);
  log(`round ${r}: ${(t * 1000).toFixed(1)} ms, ${provider.stats.total.bytesRecv - rx0} bytes in`);
  await sleep(QUIET_MS);
}
// Promise.all puts every call in flight at once: the peer of both rows
for (const name of ['metagraph_c16', 'metagraph_c64']) {
  console.log(`${name} polkadot-js ${(neurons / best).toFixed(1)}`);
  console.log(`${name}_cpu polkadot-js ${(ROUNDS * neurons / cpuTotal).toFixed(1)}`);
}
log(`${subnets} subnets (${neurons} neurons) with Promise.all: ${(best * 1000).toFixed(1)} ms (best of ` +
  `${ROUNDS}); CPU ${(cpuTotal / ROUNDS * 1000).toFixed(1)} ms per read`);

// decode of one answer
const d = inputs.decode;
const hex = await provider.send('state_call', [d.method, d.args, d.at]);
const bytes = hexToU8a(hex);
const type = api.call.neuronInfoRuntimeApi.getNeuronsLite.meta.type;
if (bytes.length !== d.bytes || api.registry.createType(type, bytes).length !== d.neurons) {
  throw new Error(`the decode answer: ${bytes.length} bytes, expected ${d.bytes} of ${d.neurons} neurons`);
}
function measure(secs, body) {
  const t0 = process.hrtime.bigint();
  let ops = 0, t;
  do { body(); ops++; t = Number(process.hrtime.bigint() - t0) / 1e9; } while (t < secs);
  return ops / t;
}
const dOps = measure(1, () => api.registry.createType(type, bytes));
const jOps = measure(1, () => api.registry.createType(type, bytes).toJSON());
console.log(`metagraph_decode_${d.neurons} polkadot-js ${dOps.toFixed(1)}`);
console.log(`metagraph_json_${d.neurons} polkadot-js ${jOps.toFixed(1)}`);
log(`one answer of ${d.neurons} neurons (${d.bytes} bytes) as ${type}: decode ${(1e6 / dOps).toFixed(1)} us, ` +
  `decode + toJSON ${(1e6 / jOps).toFixed(1)} us`);
await api.disconnect();
