// The JS voter client against the Rust known-answer vectors (vectors/*.json, written by
// tests/src/vectors.rs). Run: node --test web/test/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import * as D from '../src/crypto/dobush.js';
import { Transcript } from '../src/crypto/merlin.js';
import { ChaCha20Rng, seededRng, systemRng } from '../src/crypto/rng.js';
import { packageOf } from './package.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const load = (name) => JSON.parse(readFileSync(`${root}vectors/${name}`, 'utf8'));
const group = load('group.json');
const pilot = load('ballots-pilot.json');
const wide = load('ballots-wide.json');
const hex = D.toHex;
const clone = (x) => structuredClone(x);

const ctxOf = (e) => D.makeContext({ baseHash: e.base_hash, jointKey: e.joint_key, manifest: e.manifest, commissionHash: e.commission_hash, parametersHash: e.parameters_hash });
const pilotCtx = ctxOf(pilot.election);


function expectBallotError(fn, kind, re) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof D.BallotError, `expected a BallotError, got ${e}`);
    assert.equal(e.kind, kind, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });
}

// ---------------------------------------------------------------------------------------------
// Merlin / STROBE

test('merlin: the official test vector (merlin 3.0 equivalence_simple)', () => {
  const t = new Transcript('test protocol');
  t.appendMessage('some label', 'some data');
  assert.equal(hex(t.challengeBytes('challenge', 32)), 'd5a21972d0d5fe320c0d263fac7fffb8145aa640af6e9bca177c03c7efcf0615');
});

test('merlin: clone is independent; appendU64 is 8 bytes little-endian; long messages', () => {
  const a = new Transcript('x');
  a.appendMessage('long', new Uint8Array(1000).fill(7)); // longer than the STROBE rate (166)
  const b = a.clone();
  a.appendU64('n', 258);
  b.appendMessage('n', Uint8Array.from([2, 1, 0, 0, 0, 0, 0, 0]));
  assert.equal(hex(a.clone().challengeBytes('c', 200)), hex(b.clone().challengeBytes('c', 200)));
  const c = a.clone();
  c.appendU64('m', 0);
  assert.notEqual(hex(a.challengeBytes('c', 32)), hex(c.challengeBytes('c', 32)));
});

test('merlin: the transcript RNG depends on the transcript, the witness and the random bytes', () => {
  const draw = (label, witness, randomByte) => {
    const t = new Transcript('rng test');
    t.appendMessage('m', label);
    const rng = t.buildRng().rekeyWithWitnessBytes('w', witness).finalize({ fillBytes: (d) => d.fill(randomByte) });
    const out = new Uint8Array(64);
    rng.fillBytes(out);
    return hex(out);
  };
  const base = draw('a', 'secret', 1);
  assert.equal(draw('a', 'secret', 1), base);
  assert.notEqual(draw('b', 'secret', 1), base);
  assert.notEqual(draw('a', 'secreT', 1), base);
  assert.notEqual(draw('a', 'secret', 2), base);
  // build_rng leaves the transcript itself untouched.
  const t1 = new Transcript('rng test');
  const t2 = t1.clone();
  t1.buildRng().rekeyWithWitnessBytes('w', 'x').finalize(seededRng(0));
  assert.equal(hex(t1.challengeBytes('c', 32)), hex(t2.challengeBytes('c', 32)));
});

// ---------------------------------------------------------------------------------------------
// RNG

test('ChaCha20Rng: rand_chacha output, whole u32 words per request, clone', () => {
  const r = seededRng(group.random_scalars_seed_byte);
  const c = r.clone();
  const b = new Uint8Array(64);
  r.fillBytes(b);
  assert.equal(hex(b), group.random_scalars[0].wide_bytes);
  // rand_core 0.6 BlockRng::fill_bytes consumes ⌈n/4⌉ words: 3 bytes use up one whole word.
  const three = new Uint8Array(3);
  c.fillBytes(three);
  const next = new Uint8Array(4);
  c.fillBytes(next);
  assert.equal(hex(three), group.random_scalars[0].wide_bytes.slice(0, 6));
  assert.equal(hex(next), group.random_scalars[0].wide_bytes.slice(8, 16));
  // Known answer from Rust (rand_chacha 0.3.1 / rand_core 0.6.4, seed [3; 32]): after 3 and 4
  // bytes, 250 bytes (62.5 words, crossing rand_chacha's 256-byte buffer), then 5 bytes.
  c.fillBytes(new Uint8Array(250));
  const five = new Uint8Array(5);
  c.fillBytes(five);
  assert.equal(hex(five), '33dc6335d9');
  // Across block boundaries (64 bytes per ChaCha block).
  const long = new Uint8Array(200);
  new ChaCha20Rng(new Uint8Array(32).fill(3)).fillBytes(long);
  assert.equal(hex(long.subarray(64, 128)), group.random_scalars[1].wide_bytes);
  assert.equal(hex(long.subarray(128, 192)), group.random_scalars[2].wide_bytes);
  // The system RNG fills large buffers.
  const big = new Uint8Array(70000);
  systemRng.fillBytes(big);
  assert.ok(big.some((x) => x !== 0));
});

// ---------------------------------------------------------------------------------------------
// Group (vectors/group.json)

test('group.json: generators, hash-to-group, wide reduction', () => {
  assert.equal(hex(D.G.toBytes()), group.G);
  assert.equal(hex(D.H.toBytes()), group.H);
  assert.equal(hex(D.hashToGroup(group.H_label).toBytes()), group.H);
  for (const v of group.hash_to_group) {
    assert.equal(hex(D.hashToGroup(D.fromHex(v.input, v.input.length / 2)).toBytes()), v.point);
  }
  const rng = seededRng(group.random_scalars_seed_byte);
  for (const v of group.random_scalars) {
    assert.equal(D.scalarHex(D.scalarFromWide(D.fromHex(v.wide_bytes, 64))), v.scalar);
    assert.equal(D.scalarHex(D.randomScalar(rng)), v.scalar);
  }
  // ElGamal with fixed nonces, continuing the same RNG (Nonce::generate).
  const sk = D.randomNonzeroScalar(seededRng(1));
  const pk = D.element(D.G.multiply(sk));
  assert.equal(hex(pk.bytes), group.public_key);
  const ctx = { keyTable: pk.point, jointKey: pk };
  for (const v of group.encryptions) {
    const n = D.randomNonzeroScalar(rng);
    assert.equal(D.scalarHex(n), v.nonce);
    const ct = D.encryptWithNonce(ctx, v.m, n);
    assert.deepEqual({ alpha: hex(ct.alpha.bytes), beta: hex(ct.beta.bytes) }, v.ciphertext);
  }
});

test('group.json: invalid points and non-canonical scalars are rejected', () => {
  for (const v of group.invalid_points) {
    assert.throws(() => D.decodePointHex(v.hex), D.DecodeError, v.reason);
  }
  assert.throws(() => D.decodePoint(new Uint8Array(31)), D.DecodeError);
  assert.throws(() => D.decodePointHex('zz'.repeat(32)), D.DecodeError);
  assert.throws(() => D.decodePointHex(group.G.toUpperCase()), /lowercase/, 'one spelling: lowercase hex only, like Rust');
  const ell = D.fromHex('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010', 32);
  assert.throws(() => D.decodeScalar(ell), D.DecodeError);
  assert.throws(() => D.decodeScalar(new Uint8Array(32).fill(0xff)), D.DecodeError);
  ell[0] -= 1;
  assert.equal(D.decodeScalar(ell), D.L - 1n);
});

// ---------------------------------------------------------------------------------------------
// Pilot election (vectors/ballots-pilot.json)

test('pilot: base, manifest and extended hashes; the election package', () => {
  const e = pilot.election;
  assert.equal(hex(D.baseHash(e.manifest.campaign_id, e.threshold, e.key_holders)), e.base_hash);
  assert.equal(hex(pilotCtx.manifestHash), e.manifest_hash);
  assert.equal(hex(pilotCtx.extendedHash), e.extended_hash);
  const ctx = D.contextFromPackage(packageOf(e));
  assert.equal(hex(ctx.extendedHash), e.extended_hash);
  // the package fingerprint (09-credentials.md §Fingerprint, kind election-package) is Rust's
  assert.equal(D.packageFingerprint(ctx), e.package_fingerprint);
  assert.equal(D.packageFingerprint(ctxOf(wide.election)), wide.election.package_fingerprint);
  assert.notEqual(wide.election.package_fingerprint, e.package_fingerprint);
  assert.equal(D.fingerprint(D.LABELS.FP_ELECTION_PACKAGE, ctx.extendedHash), e.package_fingerprint);
  // A package whose published hashes or contents differ is refused.
  const bad1 = packageOf(e);
  bad1.threshold = 2;
  assert.throws(() => D.contextFromPackage(bad1), /base hash/);
  const bad2 = packageOf(e);
  bad2.manifest = clone(e.manifest);
  bad2.manifest.contests[0].options[1].name.ru = 'Другой';
  assert.throws(() => D.contextFromPackage(bad2), /extended hash/);
  const bad3 = packageOf(e);
  bad3.joint_key = group.H;
  assert.throws(() => D.contextFromPackage(bad3), /extended hash/);
  const bad4 = packageOf(e);
  bad4.version = 'dobush-record/1'; // dropped, not read beside v2
  assert.throws(() => D.contextFromPackage(bad4), /version/);
  const bad5 = packageOf(e);
  bad5.key_holders[1].index = 3;
  assert.throws(() => D.contextFromPackage(bad5), /numbered/);
  // the pinned commission is under the extended hash (14-commission.md §Binding): its hash is
  // Rust's, the context carries it, and a swapped member, a renamed one or a lowered quorum is
  // refused; a section breaking its rules or of an unknown identity kind is refused outright
  assert.equal(hex(D.commissionHash(D.parseCommission(e.commission))), e.commission_hash);
  assert.deepEqual(ctx.commission.members.map((m) => m.name), e.commission.members.map((m) => m.name));
  // each member's fingerprint is Rust's (14-commission.md §Member fingerprints)
  assert.deepEqual(ctx.commission.members.map(D.memberFingerprint), e.commission_fingerprints);
  const swapped = packageOf(e);
  swapped.commission = clone(e.commission);
  swapped.commission.members[1].identity.key = swapped.commission.members[2].identity.key;
  swapped.commission.members[2].identity.key = e.commission.members[1].identity.key;
  assert.throws(() => D.contextFromPackage(swapped), /extended hash/);
  const renamed = packageOf(e);
  renamed.commission = clone(e.commission);
  renamed.commission.members[2].name = 'Mallory';
  assert.throws(() => D.contextFromPackage(renamed), /extended hash/);
  const raised = packageOf(e);
  raised.commission = clone(e.commission);
  raised.commission.quorum.protocol = 3;
  assert.throws(() => D.contextFromPackage(raised), /extended hash/);
  const minority = packageOf(e);
  minority.commission = clone(e.commission);
  minority.commission.quorum.replacement = 1;
  assert.throws(() => D.contextFromPackage(minority), /more than half/);
  const x509 = packageOf(e);
  x509.commission = clone(e.commission);
  x509.commission.members[0].identity = { kind: 'x509', key: e.commission.members[0].identity.key };
  assert.throws(() => D.contextFromPackage(x509), /unknown identity kind/);
  const missing = packageOf(e);
  delete missing.commission;
  assert.throws(() => D.contextFromPackage(missing), /commission/);
  // the board key and the re-vote rule are under the extended hash (02-transcripts.md
  // §Parameters hash): the parameters hash is Rust's; another rule or board key is refused, and
  // an unknown rule or field is refused outright
  assert.equal(hex(D.parametersHash(D.fromHex(e.board_key, 32), D.parseParameters(e.parameters))), e.parameters_hash);
  assert.deepEqual(ctx.parameters, e.parameters);
  const otherRule = packageOf(e);
  otherRule.parameters = { re_vote: { policy: e.parameters.re_vote.policy === 'forbidden' ? 'last_counts' : 'forbidden' } };
  assert.throws(() => D.contextFromPackage(otherRule), /extended hash/);
  assert.throws(() => D.contextFromPackage(packageOf(e, '11'.repeat(32))), /extended hash/);
  const bogus = packageOf(e);
  bogus.parameters = { re_vote: { policy: 'bogus' } };
  assert.throws(() => D.contextFromPackage(bogus), /unknown re-vote rule/);
  const extra = packageOf(e);
  extra.parameters = { re_vote: { policy: e.parameters.re_vote.policy }, max_rows: 8 };
  assert.throws(() => D.contextFromPackage(extra), /unknown field/);
});

for (const [i, v] of pilot.ballots.entries()) {
  test(`pilot ballot ${i}: credential, recovery code, fingerprint`, () => {
    const cred = D.credentialFromSeed(D.fromHex(v.credential.seed, 16));
    assert.equal(cred.public, v.credential.public);
    assert.equal(cred.fingerprint, v.credential.fingerprint);
    assert.equal(cred.recoveryCode(), v.credential.recovery_code);
    assert.equal(D.credentialFromRecoveryCode(v.credential.recovery_code).public, v.credential.public);
    const sloppy = v.credential.recovery_code.toLowerCase().replaceAll('-', ' ').replaceAll('1', 'l').replaceAll('0', 'o');
    assert.equal(D.credentialFromRecoveryCode(sloppy).public, v.credential.public);
    const typo = [...v.credential.recovery_code];
    typo[2] = typo[2] === 'A' ? 'B' : 'A';
    assert.throws(() => D.credentialFromRecoveryCode(typo.join('')), /checksum|29 symbols/);
    assert.throws(() => D.credentialFromRecoveryCode(v.credential.recovery_code.slice(0, -1)), /29 symbols/);
    assert.throws(() => D.credentialFromRecoveryCode(`${v.credential.recovery_code.slice(0, -1)}U`), /invalid symbol/);
  });

  test(`pilot ballot ${i}: encryptBallot reproduces the Rust ballot byte for byte`, () => {
    const out = D.encryptBallot(pilotCtx, D.fromHex(v.credential.seed, 16), v.plaintext, seededRng(v.rng_seed_byte));
    assert.deepStrictEqual(out.ballot, v.ballot);
    assert.equal(out.bodyHash, v.body_hash);
    assert.equal(out.trackingCode, v.tracking_code);
    assert.equal(out.trackingCodeShort, v.tracking_code_short);
    assert.deepStrictEqual(out.opening, v.opening);
    assert.equal(D.bodyHash(pilotCtx, v.ballot), v.body_hash);
    assert.equal(D.trackingCodeShort(v.tracking_code), v.tracking_code_short);
    // The serialized form has serde's field order (what the server and board receive).
    assert.ok(JSON.stringify(out.ballot).startsWith('{"ballot_id":'));
  });

  test(`pilot ballot ${i}: verifyBallot and verifyChallengedBallot accept it`, () => {
    const r = D.verifyBallot(pilotCtx, v.ballot);
    assert.equal(r.trackingCode, v.tracking_code);
    assert.equal(r.trackingCodeShort, v.tracking_code_short);
    assert.equal(r.bodyHash, v.body_hash);
    assert.deepEqual(r.contestIndices, [0, 1]);
    assert.equal(D.verifyBallot(pilotCtx, JSON.stringify(v.ballot)).trackingCode, v.tracking_code);
    assert.deepStrictEqual(D.verifyChallengedBallot(pilotCtx, v.ballot, v.opening), v.plaintext);
  });
}

test('pilot: altered ballots are rejected', () => {
  const v = pilot.ballots[0];
  const other = pilot.ballots[1].ballot;
  const alter = (f) => {
    const b = clone(v.ballot);
    f(b);
    return b;
  };
  const sel = (b) => b.contests[0].selections[2];
  // Ciphertext replaced by another valid ciphertext: every ciphertext of the contest is in each
  // proof's transcript, so the first selection proof already fails.
  expectBallotError(() => D.verifyBallot(pilotCtx, alter((b) => {
    sel(b).ciphertext = other.contests[0].selections[2].ciphertext;
  })), 'proof', /selection 0: selection proof/);
  // Only β changed (swapped with α).
  expectBallotError(() => D.verifyBallot(pilotCtx, alter((b) => {
    sel(b).ciphertext.beta = sel(b).ciphertext.alpha;
  })), 'proof');
  // Proof response z changed.
  expectBallotError(() => D.verifyBallot(pilotCtx, alter((b) => {
    sel(b).proof[1].z = D.scalarHex((D.decodeScalarHex(sel(b).proof[1].z) + 1n) % D.L);
  })), 'proof', /verification equation/);
  // A branch challenge changed: the challenges no longer add up.
  expectBallotError(() => D.verifyBallot(pilotCtx, alter((b) => {
    sel(b).proof[0].c = D.scalarHex((D.decodeScalarHex(sel(b).proof[0].c) + 1n) % D.L);
  })), 'proof', /challenge/);
  // Challenge shifted between branches: the sum holds, the equations do not.
  expectBallotError(() => D.verifyBallot(pilotCtx, alter((b) => {
    const p = sel(b).proof;
    p[0].c = D.scalarHex((D.decodeScalarHex(p[0].c) + 1n) % D.L);
    p[1].c = D.scalarHex((D.decodeScalarHex(p[1].c) + D.L - 1n) % D.L);
  })), 'proof', /verification equation/);
  // Count proof altered.
  expectBallotError(() => D.verifyBallot(pilotCtx, alter((b) => {
    const p = b.contests[1].count_proof.proof[0];
    p.z = D.scalarHex((D.decodeScalarHex(p.z) + 1n) % D.L);
  })), 'proof', /count proof/);
  // Signature altered.
  expectBallotError(() => D.verifyBallot(pilotCtx, alter((b) => {
    b.signature.s = D.scalarHex((D.decodeScalarHex(b.signature.s) + 1n) % D.L);
  })), 'signature');
  expectBallotError(() => D.verifyBallot(pilotCtx, alter((b) => {
    b.signature = other.signature;
  })), 'signature');
  // Another credential: every proof is bound to it (the first selection proof fails).
  expectBallotError(() => D.verifyBallot(pilotCtx, alter((b) => {
    b.credential = other.credential;
  })), 'proof');
  // Another ballot id, style, or election.
  expectBallotError(() => D.verifyBallot(pilotCtx, alter((b) => {
    b.ballot_id = other.ballot_id;
  })), 'proof');
  expectBallotError(() => D.verifyBallot(pilotCtx, alter((b) => {
    b.style = 'other';
  })), 'malformed', /unknown ballot style/);
  const otherElection = clone(pilot.election.manifest);
  otherElection.campaign_id = 'another';
  const ctx2 = D.makeContext({ baseHash: pilot.election.base_hash, jointKey: pilot.election.joint_key, manifest: otherElection, commissionHash: pilot.election.commission_hash, parametersHash: pilot.election.parameters_hash });
  expectBallotError(() => D.verifyBallot(ctx2, v.ballot), 'proof');
  // Shape and encodings.
  expectBallotError(() => D.verifyBallot(pilotCtx, alter((b) => {
    b.contests[0].selections.pop();
  })), 'malformed', /selections/);
  expectBallotError(() => D.verifyBallot(pilotCtx, alter((b) => {
    b.contests.reverse();
  })), 'malformed', /style/);
  expectBallotError(() => D.verifyBallot(pilotCtx, alter((b) => {
    b.contests[0].selections[1].ciphertext = b.contests[0].selections[0].ciphertext;
  })), 'malformed', /reused randomness/);
  expectBallotError(() => D.verifyBallot(pilotCtx, alter((b) => {
    sel(b).proof[0].z = 'ff'.repeat(32);
  })), 'malformed', /canonical scalar/);
  expectBallotError(() => D.verifyBallot(pilotCtx, alter((b) => {
    sel(b).ciphertext.alpha = '00'.repeat(32);
  })), 'malformed', /identity/);
  expectBallotError(() => D.verifyBallot(pilotCtx, alter((b) => {
    sel(b).ciphertext.alpha = group.invalid_points[2].hex;
  })), 'malformed', /canonical/);
  expectBallotError(() => D.verifyBallot(pilotCtx, alter((b) => {
    b.contests[0].count_proof.kind = 'range';
  })), 'proof', /kind/);
  expectBallotError(() => D.verifyBallot(pilotCtx, alter((b) => {
    b.contests[0].count_proof.proof.pop();
  })), 'proof', /number of branches/);
});

test('pilot: altered openings of a challenged ballot are rejected', () => {
  const v = pilot.ballots[0];
  const alter = (f) => {
    const o = clone(v.opening);
    f(o);
    return o;
  };
  expectBallotError(() => D.verifyChallengedBallot(pilotCtx, v.ballot, alter((o) => {
    o.contests[0][2].mark = 0;
    o.contests[0][3].mark = 1;
  })), 'opening', /re-encrypt/);
  expectBallotError(() => D.verifyChallengedBallot(pilotCtx, v.ballot, alter((o) => {
    o.contests[0][2].nonce = o.contests[0][3].nonce;
  })), 'opening', /re-encrypt/);
  expectBallotError(() => D.verifyChallengedBallot(pilotCtx, v.ballot, alter((o) => {
    o.contests[0][2].mark = 2;
  })), 'opening', /0 or 1/);
  expectBallotError(() => D.verifyChallengedBallot(pilotCtx, v.ballot, alter((o) => {
    o.ballot_id = pilot.ballots[1].ballot.ballot_id;
  })), 'opening', /ballot id/);
  expectBallotError(() => D.verifyChallengedBallot(pilotCtx, v.ballot, pilot.ballots[1].opening), 'opening');
  expectBallotError(() => D.verifyChallengedBallot(pilotCtx, v.ballot, alter((o) => {
    o.contests[1].pop();
  })), 'opening', /number of selections/);
});

test('pilot: fresh ballots with the system RNG verify and open; invalid votes are refused', () => {
  const cred = D.generateCredential(systemRng);
  const code = cred.recoveryCode();
  assert.match(code, /^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){6}-[0-9A-HJKMNP-TV-Z]$/);
  assert.equal(D.credentialFromRecoveryCode(code).public, cred.public);
  const plaintexts = [
    { style: 'samarkandek', contests: [{ contest_id: 'council', selections: [0, 0, 0, 0, 0, 0, 1, 0, 0] }, { contest_id: 'question', selections: [0, 1] }] },
    { style: 'samarkandek', contests: [{ contest_id: 'council', selections: [0, 0, 0, 0, 0, 0, 0, 1, 0] }, { contest_id: 'question', selections: [1, 0] }] },
  ];
  for (const p of plaintexts) {
    const out = D.encryptBallot(pilotCtx, cred, p, systemRng);
    assert.equal(D.verifyBallot(pilotCtx, out.ballot).trackingCode, out.trackingCode);
    assert.deepStrictEqual(D.verifyChallengedBallot(pilotCtx, out.ballot, out.opening), p);
  }
  const bad = [
    [0, 0, 0, 0, 0, 0, 0, 0, 0], // no mark
    [1, 1, 0, 0, 0, 0, 0, 0, 0], // two marks
    [1, 0, 0, 0, 0, 0, 0, 1, 0], // a candidate and against all
    [0, 0, 0, 0, 0, 0, 0, 1, 1], // against all and blank
    [0, 2, 0, 0, 0, 0, 0, 0, 0],
    [0, 1, 0, 0, 0, 0, 0, 0],
  ];
  for (const selections of bad) {
    expectBallotError(() => D.encryptBallot(pilotCtx, cred, {
      style: 'samarkandek', contests: [{ contest_id: 'council', selections }, { contest_id: 'question', selections: [1, 0] }],
    }, systemRng), 'malformed', /not a valid vote/);
  }
  expectBallotError(() => D.encryptBallot(pilotCtx, cred, { style: 'samarkandek', contests: [{ contest_id: 'question', selections: [1, 0] }] }, systemRng), 'malformed', /style/);
});

// ---------------------------------------------------------------------------------------------
// Wide contests (vectors/ballots-wide.json): bulletproofs, mobile app only.

test('wide: the JS client refuses clearly to build or verify a bulletproofs contest', () => {
  const ctx = ctxOf(wide.election);
  assert.equal(hex(ctx.manifestHash), wide.election.manifest_hash);
  assert.equal(hex(ctx.extendedHash), wide.election.extended_hash);
  const v = wide.ballots[0];
  const cred = D.credentialFromSeed(D.fromHex(v.credential.seed, 16));
  assert.equal(cred.public, v.credential.public);
  assert.equal(cred.recoveryCode(), v.credential.recovery_code);
  expectBallotError(() => D.encryptBallot(ctx, cred, v.plaintext, seededRng(v.rng_seed_byte)), 'unsupported', /wide-range contests need the mobile app/);
  expectBallotError(() => D.verifyBallot(ctx, v.ballot), 'unsupported', /wide-range contests need the mobile app/);
});

// ---------------------------------------------------------------------------------------------
// Speed (printed, not asserted)

test('speed: encrypt a 30-option one-mark ballot (printed)', () => {
  const manifest = {
    campaign_id: 'speed',
    title: { ru: 'Скорость' },
    contests: [{
      id: 'council',
      title: { ru: 'Совет' },
      options: Array.from({ length: 30 }, (_, i) => ({ id: `c${i + 1}`, name: { ru: `Кандидат ${i + 1}` } })),
      min_marks: 1,
      max_marks: 1,
      against_all: true,
      blank_allowed: false,
    }],
    ballot_styles: [{ id: 'all', contests: ['council'] }],
  };
  const t0 = performance.now();
  const ctx = D.makeContext({ baseHash: pilot.election.base_hash, jointKey: pilot.election.joint_key, manifest, commissionHash: pilot.election.commission_hash, parametersHash: pilot.election.parameters_hash });
  const tCtx = performance.now() - t0;
  const cred = D.credentialFromSeed(new Uint8Array(16).fill(7));
  const selections = Array.from({ length: 31 }, (_, i) => (i === 11 ? 1 : 0));
  const plaintext = { style: 'all', contests: [{ contest_id: 'council', selections }] };
  const times = [];
  let out;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    out = D.encryptBallot(ctx, cred, plaintext, systemRng);
    times.push(performance.now() - t);
  }
  const tv = performance.now();
  D.verifyBallot(ctx, out.ballot);
  const tVerify = performance.now() - tv;
  const sorted = [...times].sort((a, b) => a - b);
  console.log(`30-option one-mark ballot (31 selections with "against all") in Node ${process.version}: `
    + `encrypt first ${times[0].toFixed(0)} ms, median ${sorted[2].toFixed(0)} ms; `
    + `context setup ${tCtx.toFixed(0)} ms; verify ${tVerify.toFixed(0)} ms`);
});
