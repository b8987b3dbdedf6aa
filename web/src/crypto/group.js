// The group Ristretto255: canonical encodings, generators, scalars (crypto/src/group.rs).
//
// Every point from outside goes through `decodePoint`, which accepts only canonical encodings
// and rejects the identity (rule E1); every scalar goes through `decodeScalar`, which accepts
// only values below ℓ (rule E2). Scalars are bigints in [0, ℓ).

import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js';

export const Point = ristretto255.Point;
/** The group order ℓ. */
export const L = Point.Fn.ORDER;

/** A decoding error (wrong length, bad hex, non-canonical point or scalar, identity, …). */
export class DecodeError extends Error {
  constructor(message) {
    super(message);
    this.name = 'DecodeError';
    this.kind = 'decode';
  }
}

const utf8 = new TextEncoder();
export const utf8Bytes = (s) => utf8.encode(s);

// ---------------------------------------------------------------------------------------------
// Bytes and hex: lowercase only, the one canonical spelling (Rust `group::decode_hex`, rule E3).

const HEX = '0123456789abcdef';
export function toHex(bytes) {
  let s = '';
  for (const b of bytes) s += HEX[b >> 4] + HEX[b & 15];
  return s;
}

/** Decodes hex of exactly `len` bytes. */
export function fromHex(s, len, what = 'value') {
  if (typeof s !== 'string') throw new DecodeError(`${what}: expected a hex string`);
  if (/[A-F]/.test(s)) throw new DecodeError(`${what}: hex must be lowercase`);
  if (s.length % 2 !== 0 || !/^[0-9a-f]*$/.test(s)) throw new DecodeError(`${what}: not valid hexadecimal`);
  if (s.length !== 2 * len) throw new DecodeError(`${what}: expected ${len} bytes, got ${s.length / 2}`);
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

export function concatBytes(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Elements: a non-identity point with its canonical encoding, `{ point, bytes }`
// (Rust `GroupElement`).

/** Wraps a locally computed point; the identity is an error. */
export function element(point) {
  if (point.is0()) throw new DecodeError('the identity point is not allowed here');
  return { point, bytes: point.toBytes() };
}

/** Decodes a canonical 32-byte encoding; rejects invalid encodings and the identity. */
export function decodePoint(bytes, what = 'point') {
  if (!(bytes instanceof Uint8Array)) throw new DecodeError(`${what}: expected bytes`);
  if (bytes.length !== 32) throw new DecodeError(`${what}: expected 32 bytes, got ${bytes.length}`);
  let point;
  try {
    point = Point.fromBytes(bytes);
  } catch {
    throw new DecodeError(`${what}: not a canonical Ristretto255 point encoding`);
  }
  if (point.is0()) throw new DecodeError(`${what}: the identity point is not allowed here`);
  return { point, bytes: Uint8Array.from(bytes) };
}

/** Decodes 64 hex digits as a point (`GroupElement::from_hex`). */
export function decodePointHex(s, what = 'point') {
  return decodePoint(fromHex(s, 32, what), what);
}

// ---------------------------------------------------------------------------------------------
// Scalars.

export const mod = (x) => {
  const r = x % L;
  return r < 0n ? r + L : r;
};

/** Decodes a canonical scalar: 32 bytes little-endian, value below ℓ. */
export function decodeScalar(bytes, what = 'scalar') {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 32) {
    throw new DecodeError(`${what}: expected 32 bytes, got ${bytes?.length}`);
  }
  const s = bytesToNumberLE(bytes);
  if (s >= L) throw new DecodeError(`${what}: not a canonical scalar (must be below the group order)`);
  return s;
}

/** Decodes 64 lowercase hex digits as a canonical scalar (rules E3 and E2). */
export function decodeScalarHex(s, what = 'scalar') {
  return decodeScalar(fromHex(s, 32, what), what);
}

/** The canonical 32-byte little-endian encoding of a scalar. */
export const scalarBytes = (s) => numberToBytesLE(s, 32);
export const scalarHex = (s) => toHex(scalarBytes(s));

/** `Scalar::from_bytes_mod_order_wide`. */
export const scalarFromWide = (b64) => mod(bytesToNumberLE(b64));

/** A uniformly random scalar: 64 bytes from `rng`, reduced mod ℓ (rule R1). */
export function randomScalar(rng) {
  const wide = new Uint8Array(64);
  rng.fillBytes(wide);
  const s = scalarFromWide(wide);
  wide.fill(0);
  return s;
}

/** A uniformly random non-zero scalar (secret keys, encryption nonces): redraws on zero. */
export function randomNonzeroScalar(rng) {
  for (;;) {
    const s = randomScalar(rng);
    if (s !== 0n) return s;
  }
}

// ---------------------------------------------------------------------------------------------
// Generators and multiplication.

/** The standard basepoint G. */
export const G = Point.BASE;

/** `RistrettoPoint::hash_from_bytes::<Sha512>(label)`: Elligator on the SHA-512 digest. */
export function hashToGroup(label) {
  return ristretto255_hasher.deriveToCurve(sha512(typeof label === 'string' ? utf8Bytes(label) : label));
}

/** The Pedersen blinding generator H (nobody knows log_G H). */
export const H = hashToGroup('dobush/v1/generator/H');

/**
 * `s·P` for a secret scalar (noble's constant-time ladder). Zero gives the identity (noble's
 * `multiply` refuses zero).
 */
export function mulSecret(P, s) {
  return s === 0n ? Point.ZERO : P.multiply(s);
}

/** `s·P` for a public scalar (variable time, faster). */
export function mulPublic(P, s) {
  return P.multiplyUnsafe(s);
}

/**
 * `m·G` for a small secret integer without a data-dependent shortcut for zero:
 * `(m+1)·G − G` with the constant-time ladder.
 */
export function smallMulBaseSecret(m) {
  return G.multiply(BigInt(m) + 1n).subtract(G);
}

/** `v·G` for a small public integer. */
export function smallMulBase(v) {
  return G.multiplyUnsafe(BigInt(v));
}
