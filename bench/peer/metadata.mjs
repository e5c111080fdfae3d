// The peer of bench/metadata.c: @polkadot/types (what polkadot-js apps and
// the JS ecosystem use), on the same blobs and bytes.
//   node metadata.mjs ORACLE_DIR INPUTS_JSON  ->  "<name> polkadot-js <ops/s>"
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const [oracleDir, inputsPath] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(oracleDir), 'package.json'));
const { TypeRegistry, Metadata } = require('@polkadot/types');
const { hexToU8a } = require('@polkadot/util');

const inputs = JSON.parse(readFileSync(inputsPath, 'utf8'));
function measure(secs, body) {
  const t0 = process.hrtime.bigint();
  let ops = 0, t;
  do { body(); ops++; t = Number(process.hrtime.bigint() - t0) / 1e9; } while (t < secs);
  return ops / t;
}
const console_warn = console.warn;
console.warn = () => {}; // polkadot-js warns about unknown signed extensions
const names = { 'subtensor-mainnet-spec219-v14': 'mainnet_v14', 'subtensor-testnet-spec224-v14': 'testnet_v14', 'polkadot-spec2000000-v15': 'polkadot_v15' };
let mainRegistry;
for (const [blob, short] of Object.entries(names)) {
  const bytes = hexToU8a(readFileSync(inputs[blob], 'utf8').trim());
  const ops = measure(2, () => {
    const registry = new TypeRegistry();
    const md = new Metadata(registry, bytes);
    registry.setMetadata(md); // what the API does on connect: lookups and types
  });
  console.log(`metadata_parse_${short} polkadot-js ${ops.toFixed(1)}`);
  if (short === 'mainnet_v14') {
    mainRegistry = new TypeRegistry();
    mainRegistry.setMetadata(new Metadata(mainRegistry, bytes));
  }
}
const events = hexToU8a(inputs.events), weights = hexToU8a(inputs.weights);
const evType = mainRegistry.createType('Vec<FrameSystemEventRecord>', events);
if (evType.length !== 100) throw new Error('events did not decode');
console.log(`events_decode_100 polkadot-js ${measure(1, () => mainRegistry.createType('Vec<FrameSystemEventRecord>', events)).toFixed(1)}`);
console.log(`events_decode_json_100 polkadot-js ${measure(1, () => mainRegistry.createType('Vec<FrameSystemEventRecord>', events).toJSON()).toFixed(1)}`);
console.log(`weights_decode_4096 polkadot-js ${measure(1, () => mainRegistry.createType('Vec<(u16, u16)>', weights)).toFixed(1)}`);
console.warn = console_warn;
