// Prints how long the PIN's key derivation takes here (web/app/vault.js KDF_PARAMS, Argon2id from
// @noble/hashes), with a few other costs for comparison: `node web/bench/kdf.mjs`. A figure to
// read, not a test; a mid-range phone's browser is slower (docs/threat-model.md).
import { argon2id } from '@noble/hashes/argon2.js';
import { KDF_PARAMS } from '../app/vault.js';

const pin = new TextEncoder().encode('271828');
const salt = new Uint8Array(16).fill(7);
const runs = 5;

function time(params) {
  argon2id(pin, salt, { ...params, m: 64, dkLen: 32 }); // warm up
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    argon2id(pin, salt, { ...params, dkLen: 32 });
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return ms[Math.floor(runs / 2)];
}

console.log(`Node ${process.version}, ${runs} runs each, median:`);
for (const [label, p] of [
  ['KDF_PARAMS (used)', KDF_PARAMS],
  ['m=46 MiB t=1', { m: 47104, t: 1, p: 1 }],
  ['m=64 MiB t=1', { m: 65536, t: 1, p: 1 }],
]) {
  console.log(`  argon2id ${label} m=${p.m} KiB t=${p.t} p=${p.p}: ${time(p).toFixed(0)} ms`);
}
