// Receipt checking (web/app/receipt.js) against a board built here independently: the Merkle
// tree and inclusion paths by the recursive definitions of RFC 9162 §2.1 (MTH, PATH), the head
// signed with Ed25519. A valid receipt passes; every altered part is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { verifyReceipt, verifyInclusion, leafHash, ReceiptError } from '../app/receipt.js';

const hex = (b) => Buffer.from(b).toString('hex');
const enc = (s) => new TextEncoder().encode(s);
const node = (l, r) => sha256(new Uint8Array([1, ...l, ...r]));
const largestPow2Below = (n) => { let k = 1; while (k * 2 < n) k *= 2; return k; };
function mth(d) {
  if (d.length === 0) return sha256(new Uint8Array());
  if (d.length === 1) return leafHash(d[0]);
  const k = largestPow2Below(d.length);
  return node(mth(d.slice(0, k)), mth(d.slice(k)));
}
function path(m, d) {
  if (d.length <= 1) return [];
  const k = largestPow2Below(d.length);
  return m < k ? [...path(m, d.slice(0, k)), mth(d.slice(k))] : [...path(m - k, d.slice(k)), mth(d.slice(0, k))];
}
const be64 = (n) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt(n)); return b; };

const secret = new Uint8Array(32).fill(7);
const boardKey = ed25519.getPublicKey(secret);
const context = new Uint8Array(32).fill(9);
const pkg = { board_key: hex(boardKey), base_hash: hex(context) };

function board(n, index) {
  const code = (i) => hex(new Uint8Array(32).fill(i));
  const entries = Array.from({ length: n }, (_, i) =>
    i === index ? `{"type":"ballot","ballot":{"x":${i}},"tracking_code":"${code(i)}"}` : `{"type":"opened","timestamp_ms":${i}}`);
  const d = entries.map(enc);
  const root = mth(d);
  const ts = 1680000000000;
  const msg = new Uint8Array([...enc('dobush/v1/tree-head'), ...context, ...be64(n), ...root, ...be64(ts)]);
  const sig = ed25519.sign(msg, secret);
  return {
    tracking_code: code(index),
    index,
    entry: entries[index],
    tree_head: { context: hex(context), size: n, root: hex(root), timestamp_ms: ts, signature: hex(sig) },
    inclusion_proof: path(index, d).map(hex),
  };
}

test('receipts of every position in trees of sizes 1..20 verify', () => {
  for (let n = 1; n <= 20; n++) {
    for (let m = 0; m < n; m++) assert.equal(verifyReceipt(pkg, board(n, m)).index, m);
  }
});

test('an altered receipt is refused', () => {
  const good = board(11, 6);
  const altered = [
    (r) => { r.entry = r.entry.replace('"x":6', '"x":7'); },
    (r) => { r.index = 5; },
    (r) => { r.inclusion_proof[1] = r.inclusion_proof[1].replace(/^./, (c) => (c === '0' ? '1' : '0')); },
    (r) => { r.inclusion_proof.pop(); },
    (r) => { r.tree_head.size = 12; },
    (r) => { r.tree_head.timestamp_ms += 1; },
    (r) => { r.tree_head.signature = r.tree_head.signature.replace(/.$/, (c) => (c === '0' ? '1' : '0')); },
    (r) => { r.tree_head.context = hex(new Uint8Array(32).fill(8)); },
    (r) => { r.tracking_code = hex(new Uint8Array(32).fill(1)); },
    (r) => { r.entry = r.entry.replace('"ballot"', '"challenged"'); },
  ];
  for (const [i, f] of altered.entries()) {
    const r = structuredClone(good);
    f(r);
    assert.throws(() => verifyReceipt(pkg, r), (e) => e instanceof ReceiptError || e.name === 'DecodeError', `alteration ${i}`);
  }
  // a head signed by another key
  const other = { ...pkg, board_key: hex(ed25519.getPublicKey(new Uint8Array(32).fill(8))) };
  assert.throws(() => verifyReceipt(other, good), ReceiptError);
});

test('verifyInclusion refuses an index beyond the tree', () => {
  const d = [enc('a'), enc('b'), enc('c')];
  assert.equal(verifyInclusion(leafHash(d[2]), 2, 3, path(2, d), mth(d)), true);
  assert.equal(verifyInclusion(leafHash(d[2]), 3, 3, path(2, d), mth(d)), false);
});
