// The peer of bench/codec.c: the same work with polkadot-js (the library the
// Bittensor ecosystem's JS tools use), on the inputs bench/codec wrote.
//   node codec.mjs ORACLE_DIR INPUTS_JSON   ->  "<name> <peer> <ops/s>" lines
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const [oracleDir, inputsPath] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(oracleDir), 'package.json'));
const { compactFromU8a, hexToU8a } = require('@polkadot/util');
const { decodeAddress, xxhashAsU8a, blake2AsU8a, cryptoWaitReady } = require('@polkadot/util-crypto');

await cryptoWaitReady(); // use the WASM hashers, as polkadot-js apps do
const inputs = JSON.parse(readFileSync(inputsPath, 'utf8'));
const buf = hexToU8a(inputs.compactHex);

function measure(opsPerRound, body) {
  const t0 = process.hrtime.bigint();
  let rounds = 0, t;
  do {
    body();
    rounds++;
    t = Number(process.hrtime.bigint() - t0) / 1e9;
  } while (t < 0.5);
  return (opsPerRound * rounds) / t;
}

let sink = 0n;
const compact = measure(inputs.compacts, () => {
  let off = 0;
  for (let i = 0; i < inputs.compacts; i++) {
    const [len, v] = compactFromU8a(buf.subarray(off));
    off += len;
    sink += BigInt(v.isZero() ? 0 : 1);
  }
  if (off !== buf.length) throw new Error('compact walk mismatch');
});
const ss58 = measure(inputs.addresses.length, () => {
  for (const a of inputs.addresses) sink += BigInt(decodeAddress(a)[0]);
});
const key = new Uint8Array(32);
key[0] = 1;
const twox = measure(1000, () => {
  for (let i = 0; i < 1000; i++) { key[0] = i & 255; sink += BigInt(xxhashAsU8a(key, 128)[0]); }
});
const blake = measure(1000, () => {
  for (let i = 0; i < 1000; i++) { key[0] = i & 255; sink += BigInt(blake2AsU8a(key, 256)[0]); }
});
console.log(`scale_compact_decode polkadot-js ${compact.toFixed(0)}`);
console.log(`ss58_decode polkadot-js ${ss58.toFixed(0)}`);
console.log(`twox128_32B polkadot-js ${twox.toFixed(0)}`);
console.log(`blake2b256_32B polkadot-js ${blake.toFixed(0)}`);
if (sink === -1n) console.log('');
