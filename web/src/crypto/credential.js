// Schnorr signatures over Merlin transcripts (crypto/src/signature.rs) and voter credentials
// (crypto/src/credential.rs).
//
// Signing: the caller appends the message to the transcript; then dom-sep
// "schnorr-signature", signer = X, nonce w from the transcript RNG rekeyed with the secret key
// and 32 bytes of the caller's RNG (hedged), R = w·G, c = H(… R), s = w + c·x.
// Check: s·G = R + c·X.

import { sha512 } from '@noble/hashes/sha2.js';
import {
  DecodeError, G, concatBytes, decodePointHex, decodeScalarHex, element, mod, mulPublic, mulSecret,
  randomNonzeroScalar, scalarBytes, scalarFromWide, scalarHex, toHex, utf8Bytes,
} from './group.js';
import { le64 } from './merlin.js';
import { LABELS, appendElement, challengeScalar, domainSep } from './protocol.js';

/** A signature or proof that does not verify. */
export class ProofError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ProofError';
    this.kind = 'proof';
  }
}

/** A signing key `{ secret, public }` from a non-zero secret scalar. */
export function signingKeyFromScalar(secret) {
  if (secret === 0n) throw new DecodeError('zero is not a valid secret key');
  return Object.freeze({ secret, public: element(mulSecret(G, secret)) });
}

/** Signs the message already appended to `t`. Draws 32 bytes from `rng`. Returns `{ r, s }`. */
export function sign(key, t, rng) {
  domainSep(t, LABELS.DS_SIGNATURE);
  appendElement(t, 'signer', key.public);
  const secretBytes = scalarBytes(key.secret);
  const trng = t.buildRng().rekeyWithWitnessBytes('signing-key', secretBytes).finalize(rng);
  secretBytes.fill(0);
  const w = randomNonzeroScalar(trng);
  const r = element(mulSecret(G, w));
  appendElement(t, 'R', r);
  const c = challengeScalar(t, 'c');
  return { r, s: mod(w + c * key.secret) };
}

/** Verifies `{ r, s }` (r an element, s a scalar) over the message in `t`; throws ProofError. */
export function verifySignature(publicKey, t, sig) {
  domainSep(t, LABELS.DS_SIGNATURE);
  appendElement(t, 'signer', publicKey);
  appendElement(t, 'R', sig.r);
  const c = challengeScalar(t, 'c');
  const lhs = mulPublic(G, sig.s);
  const rhs = sig.r.point.add(mulPublic(publicKey.point, c));
  if (!lhs.equals(rhs)) throw new ProofError('verification equation failed');
}

/** JSON form of a signature (`{ "r": hex, "s": hex }`). */
export const signatureToJson = (sig) => ({ r: toHex(sig.r.bytes), s: scalarHex(sig.s) });

export function signatureFromJson(x, what = 'signature') {
  if (x === null || typeof x !== 'object') throw new DecodeError(`${what}: expected an object`);
  return { r: decodePointHex(x.r, `${what}.r`), s: decodeScalarHex(x.s, `${what}.s`) };
}

/** The 64-byte encoding R ‖ s. */
export const signatureBytes = (sig) => concatBytes(sig.r.bytes, scalarBytes(sig.s));

/**
 * A short fingerprint of a public key for people to compare: SHA-512(FINGERPRINT ‖
 * LE64(len(kind)) ‖ kind ‖ key) truncated to 10 bytes, as 5 groups of 4 hex digits.
 */
export function fingerprint(kind, key) {
  const k = utf8Bytes(kind);
  const bytes = key instanceof Uint8Array ? key : key.bytes;
  const d = sha512(concatBytes(utf8Bytes(LABELS.FINGERPRINT), le64(k.length), k, bytes));
  return toHex(d.subarray(0, 10)).match(/.{4}/g).join('-');
}

// ---------------------------------------------------------------------------------------------
// Credentials: x = SHA-512(CREDENTIAL_SEED ‖ seed) mod ℓ, X = x·G; recovery code = seed ‖
// SHA-512(CREDENTIAL_SEED ‖ "check" ‖ seed)[..2] in Crockford base32 (29 symbols), groups of 4.

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function checksum(seed) {
  const d = sha512(concatBytes(utf8Bytes(LABELS.CREDENTIAL_SEED), utf8Bytes('check'), seed));
  return d.subarray(0, 2);
}

/**
 * The credential for a 16-byte seed: `{ seed, key, public (hex), fingerprint, recoveryCode() }`.
 * Keep the seed (or the recovery code) on the device only.
 */
export function credentialFromSeed(seed) {
  if (!(seed instanceof Uint8Array) || seed.length !== 16) throw new DecodeError('credential seed: expected 16 bytes');
  const s = Uint8Array.from(seed);
  const wide = sha512(concatBytes(utf8Bytes(LABELS.CREDENTIAL_SEED), s));
  const key = signingKeyFromScalar(scalarFromWide(wide));
  wide.fill(0);
  return Object.freeze({
    seed: s,
    key,
    public: toHex(key.public.bytes),
    fingerprint: fingerprint('credential', key.public),
    recoveryCode: () => recoveryCode(s),
  });
}

/** A new credential from 16 random bytes of `rng`. */
export function generateCredential(rng) {
  const seed = new Uint8Array(16);
  rng.fillBytes(seed);
  return credentialFromSeed(seed);
}

/** The recovery code of a seed: 29 Crockford base32 symbols in groups of four joined by '-'. */
export function recoveryCode(seed) {
  const bytes = concatBytes(seed, checksum(seed));
  let symbols = '';
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = ((acc << 8) | b) >>> 0;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      symbols += ALPHABET[(acc >>> bits) & 31];
    }
  }
  if (bits > 0) symbols += ALPHABET[(acc << (5 - bits)) & 31];
  bytes.fill(0);
  return symbols.match(/.{1,4}/g).join('-');
}

// Rust char::is_whitespace is the Unicode White_Space property.
const isWhitespace = (ch) => /^\p{White_Space}$/u.test(ch);

/**
 * Restores a credential from its recovery code. Case-insensitive; '-' and whitespace are
 * ignored; I/L read as 1 and O as 0. A wrong checksum is an error.
 */
export function credentialFromRecoveryCode(code) {
  if (typeof code !== 'string') throw new DecodeError('recovery code: expected a string');
  const bytes = [];
  let acc = 0;
  let bits = 0;
  let count = 0;
  for (const ch of code) {
    if (ch === '-' || isWhitespace(ch)) continue;
    // ASCII-only upper-casing, as Rust's to_ascii_uppercase.
    let up = ch >= 'a' && ch <= 'z' ? ch.toUpperCase() : ch;
    if (up === 'I' || up === 'L') up = '1';
    else if (up === 'O') up = '0';
    const v = ALPHABET.indexOf(up);
    if (v < 0 || up.length !== 1) throw new DecodeError(`recovery code: invalid symbol ${JSON.stringify(ch)}`);
    acc = ((acc << 5) | v) & 0xffff;
    bits += 5;
    count += 1;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((acc >>> bits) & 0xff);
    }
  }
  if (count !== 29 || bytes.length !== 18) throw new DecodeError('recovery code: must have 29 symbols');
  const seed = Uint8Array.from(bytes.slice(0, 16));
  const check = checksum(seed);
  if (check[0] !== bytes[16] || check[1] !== bytes[17]) {
    throw new DecodeError('recovery code: checksum does not match (typo?)');
  }
  bytes.fill(0);
  return credentialFromSeed(seed);
}
