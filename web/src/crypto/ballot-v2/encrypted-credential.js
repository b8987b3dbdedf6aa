// The tag base TB(X) (docs/protocol/13-revoting.md §2) and the encrypted credential of a v2
// ballot (§3.1): cred = Enc_K(X; r_X) = (r_X·G, X + r_X·K) and
// tbase = Enc_K(TB(X); r_V) = (r_V·G, TB(X) + r_V·K), with r_X, then r_V, drawn as independent
// non-zero scalars (§3.6 step 2). Port of crypto/src/ballot_v2/encrypted_credential.rs.

import {
  DecodeError, G, L, concatBytes, element, equalBytes, hashToGroup, mulSecret, randomNonzeroScalar, toHex, utf8Bytes,
} from '../group.js';
import { LABELS, appendElement } from '../protocol.js';
import { bytes32, checkElement, parseFields } from './encoding.js';

/**
 * `TB(X) = hash_to_group("dobush/v2/tag-base" ‖ base_hash ‖ enc(X))` (§2), a point. Nobody
 * knows log_G TB(X).
 */
export function tagBase(baseHash, credential) {
  bytes32(baseHash, 'base hash');
  checkElement(credential, 'credential');
  return hashToGroup(concatBytes(utf8Bytes(LABELS.TAG_BASE), baseHash, credential.bytes));
}

const REDACTED = 'CredentialNonces(<redacted>)';

// The nonces of each live CredentialNonces, kept outside the object so that logging or
// serialising the object (`JSON.stringify`, `console.log` in Node or in a browser, whose console
// shows #private fields) never shows them. This is against accidents, not against code that
// runs in the page.
const NONCES = new WeakMap();

/**
 * The nonces r_X and r_V of an encrypted credential: they prove the credential (§3.2) and open
 * the cast (§3.4). Call `wipe()` once the ballot is cast or challenged (§3.5): it drops the
 * values (JS bigints are immutable and cannot be overwritten; this is as far as JS allows).
 */
export class CredentialNonces {
  /** Two non-zero, distinct scalars (bigints below ℓ); anything else is a DecodeError. */
  constructor(rX, rV) {
    for (const r of [rX, rV]) {
      if (typeof r !== 'bigint' || r < 0n || r >= L) throw new DecodeError('nonce: expected a scalar below the group order');
      if (r === 0n) throw new DecodeError('nonce: zero is not allowed');
    }
    if (rX === rV) throw new DecodeError('r_X and r_V must be independent, not equal');
    NONCES.set(this, { rX, rV });
  }

  #live() {
    const n = NONCES.get(this);
    if (!n) throw new Error('the credential nonces were wiped');
    return n;
  }

  /** r_X. */
  get rX() {
    return this.#live().rX;
  }

  /** r_V. */
  get rV() {
    return this.#live().rV;
  }

  /** Drops both nonces; any later use throws. */
  wipe() {
    NONCES.delete(this);
  }

  /**
   * Whether these nonces and the credential X (an element) open `enc`:
   * `cred = (r_X·G, X + r_X·K)` and `tbase = (r_V·G, TB(X) + r_V·K)`.
   */
  opens(ctx, credential, enc) {
    let mine;
    try {
      mine = encryptWith(ctx, credential, this);
    } catch (e) {
      if (e instanceof DecodeError) return false;
      throw e;
    }
    return ['cred', 'tbase'].every((c) => ['alpha', 'beta'].every((k) => equalBytes(mine[c][k].bytes, enc[c][k].bytes)));
  }

  toJSON() {
    return REDACTED;
  }

  toString() {
    return REDACTED;
  }
}

function encryptWith(ctx, credential, nonces) {
  checkElement(credential, 'credential');
  const K = ctx.keyTable;
  const cred = {
    alpha: element(mulSecret(G, nonces.rX)),
    beta: element(credential.point.add(mulSecret(K, nonces.rX))),
  };
  const tbase = {
    alpha: element(mulSecret(G, nonces.rV)),
    beta: element(tagBase(ctx.baseHash, credential).add(mulSecret(K, nonces.rV))),
  };
  return { cred, tbase };
}

/**
 * Encrypts the credential X (an element, e.g. `credential.key.public`) and its tag base under
 * the election key K (§3.1). Returns `{ enc, nonces }`: `enc` is `{ cred, tbase }`, each
 * `{ alpha, beta }` elements; `nonces` a `CredentialNonces`.
 *
 * Draws (§3.6 step 2): r_X, then r_V, each 64 bytes reduced wide and redrawn while zero. An
 * identity component or r_X = r_V (each with probability about 1/ℓ) is a DecodeError rather
 * than a ballot.
 */
export function encryptCredential(ctx, credential, rng) {
  const rX = randomNonzeroScalar(rng);
  const rV = randomNonzeroScalar(rng);
  const nonces = new CredentialNonces(rX, rV);
  return { enc: encryptWith(ctx, credential, nonces), nonces };
}

/**
 * Whether `cred.α` and `tbase.α` differ, as the reused-randomness rule requires (§3.1): equal
 * nonces would make X − TB(X) visible.
 */
export function hasDistinctAlphas(enc) {
  return !equalBytes(enc.cred.alpha.bytes, enc.tbase.alpha.bytes);
}

/**
 * Appends the statement's four points in this order (§3.2, §3.4): `cred-alpha`, `cred-beta`,
 * `tbase-alpha`, `tbase-beta`.
 */
export function appendEncryptedCredential(t, enc) {
  appendElement(t, 'cred-alpha', enc.cred.alpha);
  appendElement(t, 'cred-beta', enc.cred.beta);
  appendElement(t, 'tbase-alpha', enc.tbase.alpha);
  appendElement(t, 'tbase-beta', enc.tbase.beta);
}

/** `{ cred: { alpha, beta }, tbase: { alpha, beta } }` in lowercase hex. */
export function encryptedCredentialToJson(enc) {
  const ct = (c) => ({ alpha: toHex(c.alpha.bytes), beta: toHex(c.beta.bytes) });
  return { cred: ct(enc.cred), tbase: ct(enc.tbase) };
}

/**
 * Parses `{ cred: { alpha, beta }, tbase: { alpha, beta } }` (object or JSON text) strictly: no
 * other field, every point canonical lowercase hex and not the identity.
 */
export function parseEncryptedCredential(json, what = 'encrypted credential') {
  const x = parseFields(json, [], [], what, ['cred', 'tbase']);
  return {
    cred: parseFields(x.cred, ['alpha', 'beta'], [], `${what}, cred`),
    tbase: parseFields(x.tbase, ['alpha', 'beta'], [], `${what}, tbase`),
  };
}
