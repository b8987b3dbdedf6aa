// Checking a receipt in the browser (docs/protocol/10-board.md §Receipt): the entry is the
// voter's ballot entry, the signed tree head is of this election and signed by the board key
// (Ed25519, strict: canonical encodings, no small-order key or R), and the RFC 9162 inclusion
// proof leads from the entry's leaf hash to the head's root. Rust counterpart: `Receipt::verify`
// in crypto/src/record.rs and `verify_inclusion` in crypto/src/board.rs.

import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { fromHex, toHex, concatBytes, utf8Bytes, equalBytes } from '../src/crypto/group.js';
import { parseJson } from '../src/crypto/strict-json.js';

export class ReceiptError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ReceiptError';
  }
}

const fail = (m) => { throw new ReceiptError(m); };

/** RFC 9162 leaf hash of the exact entry bytes. */
export const leafHash = (bytes) => sha256(concatBytes(Uint8Array.of(0), bytes));
const nodeHash = (l, r) => sha256(concatBytes(Uint8Array.of(1), l, r));

export function be64(n) {
  const out = new Uint8Array(8);
  let x = BigInt(n);
  for (let i = 7; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

/** RFC 9162 §2.1.3.2: true if `proof` shows `leaf` at `index` in the tree of `size` with `root`. */
export function verifyInclusion(leaf, index, size, proof, root) {
  let fn = BigInt(index);
  let sn = BigInt(size) - 1n;
  if (fn > sn) return false;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && equalBytes(r, root);
}

const isU64 = (x) => Number.isSafeInteger(x) && x >= 0;

/**
 * Verifies a signed tree head `{context, size, root, timestamp_ms, previous, signature}` under
 * `boardKey` (10-board.md §Tree heads: the message is 131 bytes, `previous` the link to the head
 * before it).
 */
export function verifyTreeHead(sth, boardKey, context) {
  if (sth === null || typeof sth !== 'object') fail('tree head: expected an object');
  if (!isU64(sth.size) || !isU64(sth.timestamp_ms)) fail('tree head: size and timestamp_ms must be integers');
  const ctx = fromHex(sth.context, 32, 'tree head context');
  if (context && !equalBytes(ctx, context)) fail('the tree head belongs to another election');
  const root = fromHex(sth.root, 32, 'tree head root');
  const previous = fromHex(sth.previous, 32, 'tree head previous');
  const sig = fromHex(sth.signature, 64, 'tree head signature');
  const msg = concatBytes(utf8Bytes('dobush/v2/tree-head'), ctx, be64(sth.size), root, be64(sth.timestamp_ms), previous);
  let ok = false;
  try {
    const A = ed25519.Point.fromBytes(boardKey);
    const R = ed25519.Point.fromBytes(sig.subarray(0, 32));
    ok = !A.isSmallOrder() && !R.isSmallOrder() && ed25519.verify(sig, msg, boardKey, { zip215: false });
  } catch {
    ok = false;
  }
  if (!ok) fail('the tree head signature does not verify under the board key');
  return { size: sth.size, root };
}

/**
 * Checks a receipt against the election package. Returns `{ index, size, trackingCode }`;
 * throws a ReceiptError saying what failed.
 */
export function verifyReceipt(pkg, receipt) {
  if (receipt === null || typeof receipt !== 'object') fail('receipt: expected an object');
  if (typeof receipt.entry !== 'string') fail('receipt: entry must be a string');
  if (!isU64(receipt.index)) fail('receipt: index must be an integer');
  if (!Array.isArray(receipt.inclusion_proof)) fail('receipt: inclusion_proof must be a list');
  let entry;
  try {
    entry = parseJson(receipt.entry, 'receipt entry');
  } catch (e) {
    fail(`receipt: the entry is not strict JSON (${e.message})`);
  }
  if (entry?.type !== 'ballot') fail('receipt: the entry is not a cast ballot');
  if (entry.tracking_code !== receipt.tracking_code) fail('receipt: the entry carries another tracking code');
  const boardKey = fromHex(pkg.board_key, 32, 'package board_key');
  const context = fromHex(pkg.base_hash, 32, 'package base_hash');
  const head = verifyTreeHead(receipt.tree_head, boardKey, context);
  const proof = receipt.inclusion_proof.map((h, i) => fromHex(h, 32, `inclusion_proof[${i}]`));
  const leaf = leafHash(utf8Bytes(receipt.entry));
  if (!verifyInclusion(leaf, receipt.index, head.size, proof, head.root)) {
    fail('the inclusion proof does not lead to the signed root');
  }
  return { index: receipt.index, size: head.size, trackingCode: receipt.tracking_code, root: toHex(head.root) };
}

/** A receipt that is valid but not for a ballot this device sent. */
export class NotMyBallotError extends ReceiptError {
  constructor(message) {
    super(message);
    this.name = 'NotMyBallotError';
  }
}

/**
 * Checks that a receipt is for a ballot this device sent (issue 18): a server could otherwise show
 * a voter someone else's valid receipt. `sent` lists what the device posted for the campaign,
 * `{ tracking_code, ballot }` with `ballot` the exact request body. The receipt's entry must be in
 * the board's one spelling (parsing and serializing it again gives the same bytes: no duplicate
 * key, no other spacing or escaping), a `ballot` entry whose tracking code is one this device sent
 * and whose ballot is, byte for byte, the body the device sent under that code. Returns the
 * matching `sent` item; throws a NotMyBallotError otherwise. Call it besides verifyReceipt.
 */
export function matchSentBallot(receipt, sent) {
  let entry;
  try {
    entry = parseJson(receipt?.entry, 'receipt entry');
  } catch (e) {
    fail(`receipt: the entry is not strict JSON (${e.message})`);
  }
  if (JSON.stringify(entry) !== receipt.entry) throw new NotMyBallotError('receipt: the entry is not in the board\'s canonical form');
  if (entry?.type !== 'ballot') throw new NotMyBallotError('receipt: the entry is not a cast ballot');
  const mine = sent.find((s) => s.tracking_code === entry.tracking_code);
  if (!mine || receipt.tracking_code !== mine.tracking_code) {
    throw new NotMyBallotError('receipt: this device did not send a ballot with this tracking code');
  }
  if (JSON.stringify(entry.ballot) !== mine.ballot) {
    throw new NotMyBallotError('receipt: the ballot in the entry is not the one this device sent');
  }
  return mine;
}
