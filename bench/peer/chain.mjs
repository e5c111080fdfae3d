// The peer of bench/chain.c: @polkadot/api (ApiPromise on a WsProvider) on the
// same local chain, through the same latency proxy, on the same accounts,
// map and block, in the same run (bench/chain.sh runs both).
//   node chain.mjs MODULES_DIR INPUTS_JSON  ->  "<bench> polkadot-js <ops/s>"
// Wall rates are the best of ROUNDS rounds; *_cpu rates are operations per
// second of this process's CPU time (user + system, process.cpuUsage) over
// all rounds. polkadot-js results stay Codec objects (no toJSON): the
// decoding it does anyway, nothing more.
// polkadot-js serves a repeated call from caches (the WsProvider's LRU of
// results, and rxjs replays kept 1.75 s after a query completes): the LRU is
// cut to one entry living 1 ms (capacity 0 does not disable it in 16.5) and
// rounds are 2 s apart, so every round goes to the node.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const [modulesDir, inputsPath] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(modulesDir), 'package.json'));
const { ApiPromise, WsProvider } = require('@polkadot/api');

const inputs = JSON.parse(readFileSync(inputsPath, 'utf8'));
const ROUNDS = 3, SEQ = 50, QUIET_MS = 2000;
const accounts = inputs.accounts;
const log = (...a) => console.error('peer chain:', ...a);

const provider = new WsProvider(inputs.url, 2500, {}, 120000, 1, 1); // cache: 1 entry, 1 ms
const api = await ApiPromise.create({ provider, noInitWarn: true, throwOnConnect: true });
const apiAt = await api.at(inputs.at);
await api.query.system.account(inputs.accounts[0]); // warm: runtime, codecs
await sleep(QUIET_MS);

const now = () => Number(process.hrtime.bigint()) / 1e9;
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };

// Runs body ROUNDS times; returns {best wall seconds, cpu seconds of all}.
async function rounds(body) {
  let best = Infinity, cpuTotal = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const rx0 = provider.stats.total.bytesRecv;
    const c0 = cpu(), t0 = now();
    await body();
    const t = now() - t0;
    cpuTotal += cpu() - c0;
    best = Math.min(best, t);
    log(`round ${r}: ${(t * 1000).toFixed(1)} ms, ${provider.stats.total.bytesRecv - rx0} bytes in`);
    await sleep(QUIET_MS);
  }
  return { best, cpuTotal };
}

// 1. reads one after another (SEQ of them)
{
  const t0 = now();
  for (let i = 0; i < SEQ; i++) await api.query.system.account(accounts[i + 1]);
  console.log(`chain_reads_seq polkadot-js ${(SEQ / (now() - t0)).toFixed(1)}`);
  await sleep(QUIET_MS);
}

// 2. every read at once (polkadot-js batches them: state_queryStorageAt of 50)
{
  const { best, cpuTotal } = await rounds(async () => {
    const vals = await Promise.all(accounts.map((a) => api.query.system.account(a)));
    if (vals.length !== accounts.length || vals.some((v) => v.data.free.isZero())) {
      throw new Error('chain_reads: an account read back empty');
    }
  });
  console.log(`chain_reads polkadot-js ${(accounts.length / best).toFixed(1)}`);
  console.log(`chain_reads_cpu polkadot-js ${(ROUNDS * accounts.length / cpuTotal).toFixed(1)}`);
}

// 3. the whole map: entries() (keys in pages of 1000, then values in
// chunks of 250), and entriesPaged() in pages of 100 (keys, then values)
const n = inputs.map.entries;
{
  const { best, cpuTotal } = await rounds(async () => {
    const entries = await apiAt.query.system.account.entries();
    if (entries.length !== n) throw new Error(`entries(): ${entries.length} of ${n}`);
  });
  console.log(`chain_map_p1000 polkadot-js ${(n / best).toFixed(1)}`);
  console.log(`chain_map_p1000_cpu polkadot-js ${(ROUNDS * n / cpuTotal).toFixed(1)}`);
}
{
  const { best, cpuTotal } = await rounds(async () => {
    let total = 0, startKey;
    for (;;) {
      const page = await apiAt.query.system.account.entriesPaged({ args: [], pageSize: 100, startKey });
      total += page.length;
      if (page.length < 100) break;
      startKey = page[page.length - 1][0].toHex();
    }
    if (total !== n) throw new Error(`entriesPaged(): ${total} of ${n}`);
  });
  console.log(`chain_map_p100 polkadot-js ${(n / best).toFixed(1)}`);
  console.log(`chain_map_p100_cpu polkadot-js ${(ROUNDS * n / cpuTotal).toFixed(1)}`);
}
await api.disconnect();
