// The credential seed on this device under a PIN the voter chooses (issue 18; docs/threat-model.md
// §The credential on the voter's device). Argon2id (RFC 9106, from @noble/hashes) derives a
// 256-bit key from the PIN and a random 16-byte salt; AES-256-GCM (WebCrypto) encrypts the 16-byte
// seed with a random 12-byte nonce, its associated data binding the record to its campaign and
// public credential. The record keeps the KDF's parameters and salt, the nonce, the ciphertext and
// the public credential: not secret (it is on the published list), it lets the app tell without
// the PIN whether the registered credential is on the device. Neither the PIN nor the derived key
// is stored; the derived key and the decrypted bytes are wiped (fill(0)) once used. JavaScript
// strings (the PIN as typed) and BigInts (the secret scalar) cannot be wiped; they are left to the
// garbage collector.
//
// A wrong PIN is only known by the AEAD failing, so the record counts wrong attempts for the UI's
// limit (pinGate). Whoever copies the device storage skips that limit and tries PINs offline at the
// KDF's cost (about a second each on a phone): the PIN protects against casual access, not against
// a determined thief (docs/threat-model.md).

import { argon2idAsync } from '@noble/hashes/argon2.js';
import { credentialFromSeed } from '../src/crypto/dobush.js';
import { concatBytes, fromHex, toHex, utf8Bytes } from '../src/crypto/group.js';
import { le64 } from '../src/crypto/merlin.js';

/**
 * Argon2id cost: 19 MiB of memory, 2 passes, 1 lane (OWASP's password-storage baseline for
 * Argon2id). @noble/hashes takes about 0.45 s for it in Node 20 on an x86 server core
 * (`node web/bench/kdf.mjs`); a mid-range phone's browser runs such code 2–3 times slower, so
 * about 1–1.5 s per PIN try there.
 */
export const KDF_PARAMS = Object.freeze({ m: 19456, t: 2, p: 1 });
/** Bounds on a stored record's parameters, so that a damaged record cannot ask for gigabytes. */
const BOUNDS = { m: [8, 262144], t: [1, 16], p: [1, 4] };
export const RECORD_VERSION = 1;
const AAD_LABEL = 'dobush/v1/credential-vault';
export const MIN_PIN_DIGITS = 6;
const MAX_PIN_DIGITS = 32;
/** The UI waits after this many wrong PINs in a row, doubling the wait each time… */
export const FREE_ATTEMPTS = 5;
const FIRST_WAIT_MS = 30_000;
/** …and refuses PINs altogether after this many: only the recovery code unlocks then. */
export const MAX_FAILURES = 10;

/** A new PIN that is refused; `code` is `digits`, `short`, `long` or `trivial`. */
export class PinError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'PinError';
    this.code = code;
  }
}

/** The PIN does not open the record (or the record was altered). */
export class WrongPinError extends Error {
  constructor() {
    super('wrong PIN');
    this.name = 'WrongPinError';
  }
}

/** A stored record that cannot be read. */
export class VaultError extends Error {
  constructor(message) {
    super(message);
    this.name = 'VaultError';
  }
}

/** Refuses a PIN that is not 6–32 ASCII digits, or is one repeated digit or a run (123456, 987654). */
export function checkNewPin(pin) {
  if (typeof pin !== 'string' || !/^[0-9]+$/.test(pin)) throw new PinError('digits', 'the PIN must be digits only');
  if (pin.length < MIN_PIN_DIGITS) throw new PinError('short', `the PIN must have at least ${MIN_PIN_DIGITS} digits`);
  if (pin.length > MAX_PIN_DIGITS) throw new PinError('long', `the PIN must have at most ${MAX_PIN_DIGITS} digits`);
  const up = '0123456789'.repeat(4);
  const down = '9876543210'.repeat(4);
  if (/^(\d)\1+$/.test(pin) || up.includes(pin) || down.includes(pin)) {
    throw new PinError('trivial', 'the PIN is too easy to guess (one digit repeated, or a run)');
  }
}

const aad = (campaign, publicHex) => {
  const c = utf8Bytes(campaign);
  return concatBytes(utf8Bytes(AAD_LABEL), le64(c.length), c, fromHex(publicHex, 32, 'public credential'));
};

async function aesKey(pin, salt, params, usage) {
  const pinBytes = utf8Bytes(pin);
  const raw = await argon2idAsync(pinBytes, salt, { ...params, dkLen: 32, asyncTick: 25 });
  pinBytes.fill(0);
  try {
    return await crypto.subtle.importKey('raw', raw, { name: 'AES-GCM' }, false, [usage]);
  } finally {
    raw.fill(0);
  }
}

/**
 * Seals a 16-byte `seed` under `pin` (checked with checkNewPin) for `campaign`. Returns the record
 * to store (JSON). `params` and `random` (fills a Uint8Array) are for tests.
 */
export async function sealSeed(seed, pin, campaign, { params = KDF_PARAMS, random = (b) => crypto.getRandomValues(b) } = {}) {
  checkNewPin(pin);
  const cred = credentialFromSeed(seed);
  const salt = random(new Uint8Array(16));
  const iv = random(new Uint8Array(12));
  const key = await aesKey(pin, salt, params, 'encrypt');
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad(campaign, cred.public) }, key, seed));
  cred.seed.fill(0);
  return {
    v: RECORD_VERSION,
    kdf: 'argon2id',
    m: params.m,
    t: params.t,
    p: params.p,
    salt: toHex(salt),
    iv: toHex(iv),
    ct: toHex(ct),
    public: cred.public,
    failures: 0,
  };
}

const inBounds = (x, [lo, hi]) => Number.isSafeInteger(x) && x >= lo && x <= hi;

/** Checks a parsed record's form; throws VaultError. */
export function checkRecord(r) {
  if (!r || typeof r !== 'object' || r.v !== RECORD_VERSION || r.kdf !== 'argon2id') throw new VaultError('unknown credential record');
  for (const k of ['m', 't', 'p']) if (!inBounds(r[k], BOUNDS[k])) throw new VaultError(`credential record: bad ${k}`);
  if (r.m < 8 * r.p) throw new VaultError('credential record: bad m');
  for (const [k, n] of [['salt', 16], ['iv', 12], ['ct', 32], ['public', 32]]) {
    if (typeof r[k] !== 'string' || !new RegExp(`^[0-9a-f]{${2 * n}}$`).test(r[k])) throw new VaultError(`credential record: bad ${k}`);
  }
  if (!Number.isSafeInteger(r.failures) || r.failures < 0) throw new VaultError('credential record: bad failures');
  return r;
}

/**
 * Opens `record` with `pin`: the credential (`credentialFromSeed`), whose `seed` the caller wipes
 * (`cred.seed.fill(0)`) when done. Throws WrongPinError if the PIN (or the record) is wrong.
 */
export async function openSeed(record, pin, campaign) {
  checkRecord(record);
  const key = await aesKey(pin, fromHex(record.salt, 16), { m: record.m, t: record.t, p: record.p }, 'decrypt');
  let seed;
  try {
    seed = new Uint8Array(await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: fromHex(record.iv, 12), additionalData: aad(campaign, record.public) }, key, fromHex(record.ct, 32)));
  } catch {
    throw new WrongPinError();
  }
  try {
    const cred = credentialFromSeed(seed);
    if (cred.public !== record.public) {
      cred.seed.fill(0);
      throw new VaultError('the stored credential does not match its public key');
    }
    return cred;
  } finally {
    seed.fill(0);
  }
}

/**
 * What the UI allows now for `record` (its `failures` and `last_failure_ms`): `{ locked }` after
 * MAX_FAILURES wrong PINs, else `{ waitMs }` (0 for the first FREE_ATTEMPTS, then 30 s doubling).
 */
export function pinGate(record, nowMs) {
  const f = record.failures ?? 0;
  if (f >= MAX_FAILURES) return { locked: true, waitMs: 0, left: 0 };
  const wait = f < FREE_ATTEMPTS ? 0 : FIRST_WAIT_MS * 2 ** (f - FREE_ATTEMPTS);
  const until = (record.last_failure_ms ?? 0) + wait;
  return { locked: false, waitMs: Math.max(0, until - nowMs), left: MAX_FAILURES - f };
}

/** The record after a wrong PIN at `nowMs`. */
export const withFailure = (record, nowMs) => ({ ...record, failures: (record.failures ?? 0) + 1, last_failure_ms: nowMs });

/** The record after the right PIN. */
export function withSuccess(record) {
  const { last_failure_ms: _, ...rest } = record;
  return { ...rest, failures: 0 };
}

/**
 * Reads what is stored for a campaign: `null`, `{ legacy: seed }` for an earlier app version's
 * plain hex seed (to be sealed under a PIN on next use), or `{ record }`. Throws VaultError for
 * anything else.
 */
export function readStored(text) {
  if (text === null || text === undefined) return null;
  if (/^[0-9a-f]{32}$/.test(text)) return { legacy: fromHex(text, 16, 'stored seed') };
  let r;
  try {
    r = JSON.parse(text);
  } catch {
    throw new VaultError('unreadable credential record');
  }
  return { record: checkRecord(r) };
}
