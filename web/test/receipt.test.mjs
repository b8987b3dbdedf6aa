// Receipt checking (web/app/receipt.js) against a board built here independently: the Merkle
// tree and inclusion paths by the recursive definitions of RFC 9162 §2.1 (MTH, PATH), the head
// signed with Ed25519. A valid receipt passes; every altered part is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { readFileSync } from 'node:fs';
import { verifyReceipt, verifyInclusion, leafHash, ReceiptError, matchSentBallot, NotMyBallotError } from '../app/receipt.js';

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
  return receiptFor(entries, index, code(index));
}

/** A signed board of `entries` (exact strings) and the receipt of entry `index`. */
function receiptFor(entries, index, trackingCode) {
  const n = entries.length;
  const d = entries.map(enc);
  const root = mth(d);
  const ts = 1680000000000;
  const previous = new Uint8Array(32).fill(5); // the link to an earlier head (10-board.md §Tree heads)
  const msg = new Uint8Array([...enc('dobush/v2/tree-head'), ...context, ...be64(n), ...root, ...be64(ts), ...previous]);
  const sig = ed25519.sign(msg, secret);
  return {
    tracking_code: trackingCode,
    index,
    entry: entries[index],
    tree_head: { context: hex(context), size: n, root: hex(root), timestamp_ms: ts, previous: hex(previous), signature: hex(sig) },
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
    (r) => { r.tree_head.previous = hex(new Uint8Array(32).fill(6)); },
    (r) => { delete r.tree_head.previous; },
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

// A server can show a voter someone else's receipt: valid, signed and on the board, for another
// voter's ballot. The device keeps the exact body it sent and refuses any receipt whose entry is
// not that ballot byte for byte (matchSentBallot).
const pilot = JSON.parse(readFileSync(new URL('../../vectors/ballots-pilot.json', import.meta.url), 'utf8'));
const entryOf = (v) => JSON.stringify({ type: 'ballot', ballot: v.ballot, tracking_code: v.tracking_code });
const sentOf = (v) => ({ tracking_code: v.tracking_code, ballot: JSON.stringify(v.ballot) });

test('a receipt for the ballot this device sent is accepted', () => {
  const [mine, other] = pilot.ballots;
  const entries = [`{"type":"opened","timestamp_ms":1}`, entryOf(other), entryOf(mine)];
  const r = receiptFor(entries, 2, mine.tracking_code);
  verifyReceipt(pkg, r);
  assert.equal(matchSentBallot(r, [sentOf(other), sentOf(mine)]).tracking_code, mine.tracking_code);
  // the board's entry holds the sent bytes verbatim
  assert.ok(r.entry.includes(`"ballot":${sentOf(mine).ballot},`));
});

test('a valid receipt for another voter\'s ballot is refused', () => {
  const [mine, other, third] = pilot.ballots;
  const notMine = (r, sent, re) => {
    assert.throws(() => matchSentBallot(r, sent), (e) => e instanceof NotMyBallotError && re.test(e.message), re.toString());
  };
  // another voter's receipt, as it is: valid, but not a tracking code this device sent
  const foreign = receiptFor([`{"type":"opened","timestamp_ms":1}`, entryOf(other)], 1, other.tracking_code);
  verifyReceipt(pkg, foreign); // the receipt alone verifies: that is the hole
  notMine(foreign, [sentOf(mine)], /did not send/);
  // another valid ballot on the board under this device's tracking code
  const swapped = JSON.stringify({ type: 'ballot', ballot: other.ballot, tracking_code: mine.tracking_code });
  const r1 = receiptFor([swapped], 0, mine.tracking_code);
  verifyReceipt(pkg, r1);
  notMine(r1, [sentOf(mine)], /not the one this device sent/);
  // the device's ballot with one mark's ciphertext changed
  const altered = structuredClone(mine.ballot);
  altered.contests[0].selections[0].ciphertext.alpha = third.ballot.contests[0].selections[0].ciphertext.alpha;
  const r2 = receiptFor([JSON.stringify({ type: 'ballot', ballot: altered, tracking_code: mine.tracking_code })], 0, mine.tracking_code);
  notMine(r2, [sentOf(mine)], /not the one this device sent/);
  // a duplicate key: JSON.parse would keep the device's ballot (the last), another parser the
  // first; the strict reader refuses the line (record-format.md J1)
  const dup = `{"type":"ballot","ballot":${JSON.stringify(other.ballot)},"ballot":${JSON.stringify(mine.ballot)},"tracking_code":"${mine.tracking_code}"}`;
  assert.throws(() => matchSentBallot(receiptFor([dup], 0, mine.tracking_code), [sentOf(mine)]), (e) => e instanceof ReceiptError && /repeats/.test(e.message));
  // another spelling of the device's own entry
  const spaced = entryOf(mine).replace('"type":"ballot",', '"type": "ballot", ');
  notMine(receiptFor([spaced], 0, mine.tracking_code), [sentOf(mine)], /canonical/);
  // a challenged entry of the device's own ballot is not a cast one
  const challenged = JSON.stringify({ type: 'challenged', ballot: mine.ballot, tracking_code: mine.tracking_code });
  notMine(receiptFor([challenged], 0, mine.tracking_code), [sentOf(mine)], /not a cast ballot/);
  // a device that sent nothing
  notMine(receiptFor([entryOf(mine)], 0, mine.tracking_code), [], /did not send/);
});

test('a receipt whose board entry repeats a key is refused (record-format.md J1)', () => {
  // The reviewer's case: a challenged ballot whose line also says "ballot" last. JSON.parse keeps
  // the last type and would call it a cast ballot; the Rust verifier refuses the line.
  const code = hex(new Uint8Array(32).fill(3));
  const entries = [
    '{"type":"opened","timestamp_ms":0}',
    `{"type":"challenged","ballot":{"x":1},"tracking_code":"${code}","type":"ballot"}`,
  ];
  const r = receiptFor(entries, 1, code);
  assert.equal(JSON.parse(r.entry).type, 'ballot');
  assert.throws(() => verifyReceipt(pkg, r), ReceiptError);
  // the same board with the key once is accepted: only the repetition is refused
  const honest = [entries[0], `{"type":"ballot","ballot":{"x":1},"tracking_code":"${code}"}`];
  assert.equal(verifyReceipt(pkg, receiptFor(honest, 1, code)).index, 1);
});
