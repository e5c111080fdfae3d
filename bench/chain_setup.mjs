// Set-up of bench/chain (run by bench/chain.sh, not a peer): funds N
// accounts on the local chain in one chopsticks dev_setStorage (instant; no
// blocks, the head keeps its hash) and writes the inputs both sides read.
//   node chain_setup.mjs MODULES_DIR DIRECT_URL PROXY_URL RTT_MS N OUT_JSON
// The accounts are blake2-256("ganglion-bench/<i>") as SS58 (prefix 42), each
// with its own free balance, so every read returns a present AccountInfo.
// Why not seed.mjs: registrations are rate-limited per interval (custom
// error 6 after three), and a map of a thousand entries would take minutes.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const [modulesDir, directUrl, proxyUrl, rttMs, n, out] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(modulesDir), 'package.json'));
const { WsProvider } = require('@polkadot/api');
const { u8aToHex } = require('@polkadot/util');
const { blake2AsHex, blake2AsU8a, encodeAddress, xxhashAsHex } = require('@polkadot/util-crypto');

const provider = new WsProvider(directUrl, false);
await provider.connect();
await provider.isReady;
const ids = [...Array(Number(n)).keys()].map((i) => blake2AsU8a(`ganglion-bench/${i}`));
const accounts = ids.map((id) => encodeAddress(id, 42));
const entries = accounts.map((a, i) => [[a], {
  nonce: i % 7, providers: 1, data: { free: 1_000_000_000n * BigInt(i + 1) + 123_456_789n },
}]);
const at = await provider.send('dev_setStorage', [{ System: { Account: entries } }]);
const head = await provider.send('chain_getBlockHash', []);
if (head !== at) throw new Error(`dev_setStorage set ${at}, the head is ${head}`);
// the size of the map, for the floor (pages of 1000 keys)
const prefix = xxhashAsHex('System', 128) + xxhashAsHex('Account', 128).slice(2);
let count = 0, start = prefix;
for (;;) {
  const keys = await provider.send('state_getKeysPaged', [prefix, 1000, start, at]);
  count += keys.length;
  if (keys.length < 1000) break;
  start = keys[keys.length - 1];
}
await provider.disconnect();
writeFileSync(out, JSON.stringify({
  url: proxyUrl, direct_url: directUrl, rtt_ms: Number(rttMs), at,
  map: { pallet: 'System', item: 'Account', prefix, entries: count },
  accounts,
  // their storage keys (Blake2_128Concat), for the bench's raw JSON-RPC floor
  keys: ids.map((id) => prefix + blake2AsHex(id, 128).slice(2) + u8aToHex(id).slice(2)),
}, null, 1) + '\n');
console.log(`chain_setup: ${accounts.length} accounts funded at ${at}; System.Account has ${count} entries`);
