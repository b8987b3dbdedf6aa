// The assembled v2 ballot in JS (web/src/crypto/ballot-v2/ballot.js) against the Rust
// known-answer vector vectors/ballots-v2.json (tests/src/vectors.rs, `ballots_v2_vector`):
// docs/protocol/13-revoting.md §3.7. The same seeds give the same ballots byte for byte; every
// forgery and refused encoding there is refused here. Run: node --test web/test/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import * as D from '../src/crypto/dobush.js';
import {
  encryptBallotV2, parseBallotV2, verifyBallotV2, verifyChallengedBallotV2,
} from '../src/crypto/ballot-v2/ballot.js';
import { seededRng } from '../src/crypto/rng.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const v = JSON.parse(readFileSync(`${root}vectors/ballots-v2.json`, 'utf8'));
const e = v.election;
const ctx = D.makeContext({
  baseHash: e.base_hash, jointKey: e.joint_key, manifest: e.manifest,
  commissionHash: e.commission_hash, parametersHash: e.parameters_hash,
});
const honest = v.ballots[0].ballot;

/** Ballot 0 with a vector entry's patches (set `value` at `pointer`; no value: remove). */
function patched(entry) {
  const out = structuredClone(honest);
  for (const p of entry.patches) {
    const path = p.pointer.split('/').slice(1);
    const last = path.pop();
    const parent = path.reduce((x, k) => x[k], out);
    if (Object.hasOwn(p, 'value')) parent[last] = structuredClone(p.value);
    else delete parent[last];
  }
  return out;
}

test('the same seeds give Rust\'s v2 ballots byte for byte, and they verify', () => {
  assert.equal(D.toHex(ctx.extendedHash), e.extended_hash);
  for (const c of v.ballots) {
    const cred = D.credentialFromSeed(D.fromHex(c.credential.seed, 16));
    const out = encryptBallotV2(ctx, cred, c.plaintext, seededRng(c.rng_seed_byte));
    assert.deepEqual(out.ballot, c.ballot);
    assert.deepEqual(out.opening, c.opening);
    assert.equal(out.bodyHash, c.body_hash);
    assert.equal(out.trackingCode, c.tracking_code);
    assert.equal(out.trackingCodeShort, c.tracking_code_short);
    assert.equal(D.scalarHex(out.nonces.rX), c.r_x);
    assert.equal(D.scalarHex(out.nonces.rV), c.r_v);
    out.nonces.wipe();
    const verified = verifyBallotV2(ctx, c.ballot);
    assert.equal(verified.trackingCode, c.tracking_code);
    assert.deepEqual(verifyChallengedBallotV2(ctx, c.ballot, c.opening), c.plaintext);
  }
});

test('every forged v2 ballot of the vector is refused', () => {
  assert.ok(v.forged.length > 40);
  for (const f of v.forged) {
    const b = patched(f);
    assert.doesNotThrow(() => parseBallotV2(b), f.change);
    assert.throws(() => verifyBallotV2(ctx, b), D.BallotError, f.change);
    if (f.refused_before_any_proof) {
      assert.throws(() => verifyBallotV2(ctx, b), /reused randomness/, f.change);
    }
  }
});

test('every refused encoding of the vector fails to parse', () => {
  for (const r of v.refused_encodings) {
    const b = patched(r);
    assert.throws(() => verifyBallotV2(ctx, b), (err) => err instanceof D.BallotError && err.kind === 'malformed', r.change);
  }
});
