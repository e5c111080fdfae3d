// The peers of bench/sr25519.c: Rust schnorrkel compiled to WASM
// (@polkadot/wasm-crypto, what polkadot-js uses) and @scure/sr25519 (pure JS),
// signing and verifying the same message with the same key.
//   node sr25519.mjs ORACLE_DIR INPUTS_JSON  ->  "<name> <peer> <ops/s>" lines
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const [oracleDir, inputsPath] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(oracleDir), 'package.json'));
const wasm = require('@polkadot/wasm-crypto');
const { hexToU8a, stringToU8a } = require('@polkadot/util');
const scure = await import(path.join(path.resolve(oracleDir), 'node_modules/@scure/sr25519/index.js'));

await wasm.waitReady();
const inputs = JSON.parse(readFileSync(inputsPath, 'utf8'));
const seed = hexToU8a(inputs.seed);
const msg = stringToU8a(inputs.message);
const sig = hexToU8a(inputs.signature);

function measure(secs, body) {
  const t0 = process.hrtime.bigint();
  let ops = 0, t;
  do {
    for (let i = 0; i < 16; i++) body();
    ops += 16;
    t = Number(process.hrtime.bigint() - t0) / 1e9;
  } while (t < secs);
  return ops / t;
}

const kp = wasm.sr25519KeypairFromSeed(seed); // secret(64) || public(32)
const wsk = kp.subarray(0, 64), wpk = kp.subarray(64);
const ssk = scure.secretFromSeed(seed), spk = scure.getPublicKey(ssk);
if (!wasm.sr25519Verify(sig, msg, wpk) || !scure.verify(msg, sig, spk)) throw new Error('peer rejects ganglion signature');

console.log(`sr25519_sign wasm-schnorrkel ${measure(1, () => wasm.sr25519Sign(wpk, wsk, msg)).toFixed(0)}`);
console.log(`sr25519_verify wasm-schnorrkel ${measure(1, () => wasm.sr25519Verify(sig, msg, wpk)).toFixed(0)}`);
console.log(`sr25519_sign scure ${measure(1, () => scure.sign(ssk, msg)).toFixed(0)}`);
console.log(`sr25519_verify scure ${measure(1, () => scure.verify(msg, sig, spk)).toFixed(0)}`);
