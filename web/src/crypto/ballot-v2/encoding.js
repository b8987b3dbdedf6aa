// Strict JSON and byte helpers shared by the v2 ballot's modules (docs/protocol/13-revoting.md
// §3.1–3.4): objects with exactly the named fields, points by rules E3 + E1 (lowercase hex, a
// canonical encoding, not the identity), scalars by E3 + E2 (lowercase hex, below ℓ), as
// Rust's `#[serde(deny_unknown_fields)]` types and `verifier/src/ballot_v2.rs` decode them.

import {
  DecodeError, decodePointHex, decodeScalarHex, element, scalarHex, toHex,
} from '../group.js';
import { ProofError } from '../credential.js';
import { parseJson } from '../strict-json.js';

const isObject = (x) => x !== null && typeof x === 'object' && !Array.isArray(x);


/**
 * Decodes an object (or its JSON text) that has exactly the fields `points` (E1), `scalars`
 * (E2) and `nested` (returned as they are, for the caller to decode), no other:
 * `{ name: element | bigint | value }`.
 */
export function parseFields(json, points, scalars, what, nested = []) {
  const x = typeof json === 'string' ? parseJson(json, what) : json;
  if (!isObject(x)) throw new DecodeError(`${what}: expected an object`);
  const names = [...points, ...scalars, ...nested];
  for (const k of Object.keys(x)) {
    if (!names.includes(k)) throw new DecodeError(`${what}: unknown field ${JSON.stringify(k)}`);
  }
  for (const k of names) {
    if (!Object.hasOwn(x, k)) throw new DecodeError(`${what}: missing field ${JSON.stringify(k)}`);
  }
  const out = {};
  for (const k of points) out[k] = decodePointHex(x[k], `${what}.${k}`);
  for (const k of scalars) out[k] = decodeScalarHex(x[k], `${what}.${k}`);
  for (const k of nested) out[k] = x[k];
  return out;
}

/** The JSON form of such an object: lowercase hex, fields in the order given. */
export function fieldsToJson(obj, points, scalars) {
  const out = {};
  for (const k of points) out[k] = toHex(obj[k].bytes);
  for (const k of scalars) out[k] = scalarHex(obj[k]);
  return out;
}

/** A 32-byte hash given as bytes (body hash, base hash, salt, pc); refuses any other length. */
export function bytes32(x, what) {
  if (!(x instanceof Uint8Array) || x.length !== 32) throw new DecodeError(`${what}: expected 32 bytes`);
  return x;
}

/** An element `{ point, bytes }` (Rust `GroupElement`) given by the caller. */
export function checkElement(x, what) {
  if (!isObject(x) || !(x.bytes instanceof Uint8Array) || typeof x.point?.equals !== 'function') {
    throw new TypeError(`${what}: expected an element { point, bytes }`);
  }
  return x;
}

/**
 * The signing key `{ secret, public }` of a credential (as `credentialFromSeed` returns it) or
 * the signing key itself.
 */
export function signingKeyOf(credential) {
  const key = credential?.key ?? credential;
  if (typeof key?.secret !== 'bigint' || !(key.public?.bytes instanceof Uint8Array)) {
    throw new TypeError('expected a credential (credentialFromSeed) or its signing key');
  }
  return key;
}

/** A prover's commitment: the identity (probability about 1/ℓ) makes the prover fail. */
export function commitment(p) {
  if (p.is0()) throw new ProofError('proof has the wrong shape for its statement: identity commitment');
  return element(p);
}

/** Throws `ProofError` naming the equation when `ok` is false. */
export function equation(ok, name) {
  if (!ok) throw new ProofError(`verification equation failed (${name})`);
}

/** Overwrites byte buffers that held secrets (bigints cannot be wiped in JS). */
export function wipe(...buffers) {
  for (const b of buffers) b.fill(0);
}
