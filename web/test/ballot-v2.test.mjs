// The v2 ballot's voter side in JS (web/src/crypto/ballot-v2/) against the Rust known-answer
// vector vectors/credential-v2.json (tests/src/vectors.rs, `credential_v2_vector`):
// docs/protocol/13-revoting.md §2 TB(X), §3.1 cred and tbase, §3.2 the credential proof and the
// v2 tracking code, §3.3 PIN commitments and registration bindings, §3.4 the cast opening, §3.6
// the order of draws. Run: node --test web/test/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { fileURLToPath } from 'node:url';

import * as D from '../src/crypto/dobush.js';
import { proveCastOpeningUnchecked, verifyCastOpening } from '../src/crypto/ballot-v2/cast-opening.js';
import { proveCredentialUnchecked } from '../src/crypto/ballot-v2/credential-proof.js';
import { appendEncryptedCredential } from '../src/crypto/ballot-v2/encrypted-credential.js';
import { seededRng, systemRng } from '../src/crypto/rng.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const load = (name) => JSON.parse(readFileSync(`${root}vectors/${name}`, 'utf8'));
const v = load('credential-v2.json');
const pilot = load('ballots-pilot.json').election;
const hex = D.toHex;
const bytes = (s) => D.fromHex(s, s.length / 2);
const clone = (x) => structuredClone(x);

// The vector's election is the pilot election of ballots-pilot.json (`election.is`).
const ctx = D.makeContext({
  baseHash: pilot.base_hash, jointKey: pilot.joint_key, manifest: pilot.manifest,
  commissionHash: pilot.commission_hash, parametersHash: pilot.parameters_hash,
});
// Another election with the same key: only the extended hash differs (the base hash is the
// manifest's, so TB(X) is the same).
const otherCtx = { ...ctx, extendedHash: Uint8Array.from(ctx.extendedHash).map((b, i) => (i === 0 ? b ^ 1 : b)) };
const credential = D.credentialFromSeed(new Uint8Array(16).fill(0x60));
const X = credential.key.public;
const body = bytes(v.body_hash);
const enc = D.parseEncryptedCredential(v.encrypted_credential);
const proof = D.parseCredentialProof(v.credential_proof);
const co = v.cast_opening;
const verifierKey = D.decodePointHex(co.cast_verifier_key);
const openingSt = { ctx, bodyHash: body, enc, registered: X, verifierKey };
const opening = D.parseCastOpening(co.opening_proof);
const fiveG = D.element(D.G.multiply(5n));
const plusOne = (s) => (s + 1n) % D.L;
/** The vector's fixed r_X and r_V. */
const vectorNonces = () => new D.CredentialNonces(D.decodeScalarHex(v.r_x), D.decodeScalarHex(v.r_v));

/** The honest run of §3.6 with seed 40: r_X, r_V; the proof's 32 bytes; the opening's 32 bytes. */
function honestRun() {
  const rng = seededRng(40);
  const { enc: e, nonces } = D.encryptCredential(ctx, X, rng);
  const p = D.proveCredential(ctx, body, credential, e, nonces, rng);
  const o = D.proveCastOpening({ ...openingSt, enc: e }, nonces, rng);
  return { e, nonces, p, o };
}

function throwsProof(fn, re) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof D.ProofError, `expected a ProofError, got ${e}`);
    if (re) assert.match(e.message, re);
    return true;
  });
}

function throwsRegistration(fn, kind) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof D.RegistrationError, `expected a RegistrationError, got ${e}`);
    assert.equal(e.kind, kind, e.message);
    return true;
  });
}

/** `enc` with one component replaced. */
const withComponent = (e, which, key, value) => ({ ...e, [which]: { ...e[which], [key]: value } });

// ---------------------------------------------------------------------------------------------
// §2, §3.1

test('credential-v2: the election is the pilot, the credential is seed 0x60', () => {
  assert.equal(hex(ctx.baseHash), v.election.base_hash);
  assert.equal(hex(ctx.extendedHash), v.election.extended_hash);
  assert.equal(hex(ctx.jointKey.bytes), v.election.joint_key);
  assert.equal(credential.public, v.credential);
  assert.equal(co.registered, v.credential);
});

test('§2 TB(X): the vector, the specified hash-to-group, depends on election and credential', () => {
  const tb = D.tagBase(ctx.baseHash, X);
  assert.equal(hex(tb.toBytes()), v.tag_base);
  const input = D.fromHex(hex(new TextEncoder().encode('dobush/v2/tag-base')) + v.election.base_hash + v.credential, 18 + 64);
  assert.ok(D.hashToGroup(input).equals(tb));
  const otherBase = Uint8Array.from(ctx.baseHash);
  otherBase[31] ^= 1;
  assert.ok(!D.tagBase(otherBase, X).equals(tb));
  assert.ok(!D.tagBase(ctx.baseHash, D.decodePointHex(co.simulated_for)).equals(tb));
  assert.ok(!tb.equals(X.point));
  assert.throws(() => D.tagBase(ctx.baseHash.subarray(1), X), D.DecodeError);
});

test('§3.1 cred and tbase: seed 40 draws r_X then r_V and gives the vector byte for byte', () => {
  const { enc: e, nonces } = D.encryptCredential(ctx, X, seededRng(40));
  assert.equal(D.scalarHex(nonces.rX), v.r_x);
  assert.equal(D.scalarHex(nonces.rV), v.r_v);
  assert.deepEqual(D.encryptedCredentialToJson(e), v.encrypted_credential);
  assert.ok(D.hasDistinctAlphas(e));
  // The vector's fixed nonces open it, for X only.
  const fixed = vectorNonces();
  assert.ok(fixed.opens(ctx, X, enc));
  assert.ok(!fixed.opens(ctx, D.decodePointHex(co.simulated_for), enc));
  assert.ok(!new D.CredentialNonces(D.decodeScalarHex(v.r_v), D.decodeScalarHex(v.r_x)).opens(ctx, X, enc));
  // Decrypting with the nonces: cred.β − r_X·K = X and tbase.β − r_V·K = TB(X).
  assert.ok(enc.cred.beta.point.subtract(ctx.jointKey.point.multiply(fixed.rX)).equals(X.point));
  assert.ok(enc.tbase.beta.point.subtract(ctx.jointKey.point.multiply(fixed.rV)).equals(D.tagBase(ctx.baseHash, X)));
});

test('§3.1 the nonces: non-zero, distinct, below ℓ; redacted; wiped', () => {
  for (const [a, b] of [[0n, 1n], [1n, 0n], [1n, 1n], [D.L, 1n], [-1n, 1n], [1, 2n]]) {
    assert.throws(() => new D.CredentialNonces(a, b), D.DecodeError, `${a}, ${b}`);
  }
  const n = vectorNonces();
  const rX = String(n.rX).slice(0, 12);
  for (const shown of [JSON.stringify({ n }), String(n), `${n}`]) assert.match(shown, /redacted/);
  for (const shown of [JSON.stringify({ n }), String(n), inspect(n), inspect({ n }, { depth: 5, showHidden: true })]) {
    assert.ok(!shown.includes(v.r_x.slice(0, 12)) && !shown.includes(rX) && !shown.includes(D.scalarHex(n.rV).slice(0, 12)), shown);
  }
  n.wipe();
  assert.throws(() => n.rX, /wiped/);
  assert.throws(() => n.rV, /wiped/);
  assert.throws(() => D.proveCredential(ctx, body, credential, enc, n, seededRng(1)), /wiped/);
});

test('§3.1 encrypted credential JSON: strict, lowercase, canonical, no identity, no other field', () => {
  assert.deepEqual(D.encryptedCredentialToJson(D.parseEncryptedCredential(JSON.stringify(v.encrypted_credential))), v.encrypted_credential);
  const identity = '00'.repeat(32);
  const cases = [
    (j) => { j.tbase.alpha = identity; },
    (j) => { j.cred.beta = j.cred.beta.toUpperCase(); },
    (j) => { j.cred.alpha = 'e3f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76'; },
    (j) => { j.cred.alpha = j.cred.alpha.slice(2); },
    (j) => { j.extra = 1; },
    (j) => { j.cred.gamma = j.cred.alpha; },
    (j) => { delete j.tbase; },
    (j) => { delete j.cred.beta; },
    (j) => { j.cred = [j.cred.alpha, j.cred.beta]; },
  ];
  for (const [i, change] of cases.entries()) {
    const j = clone(v.encrypted_credential);
    change(j);
    assert.throws(() => D.parseEncryptedCredential(j), D.DecodeError, `case ${i}`);
  }
});

// ---------------------------------------------------------------------------------------------
// §3.2

test('§3.2 credential proof: seed 40 after r_X, r_V gives the vector; it verifies; tracking code', () => {
  const { p } = honestRun();
  assert.deepEqual(D.credentialProofToJson(p), v.credential_proof);
  D.verifyCredentialProof(ctx, body, enc, proof);
  D.verifyCredentialProof(ctx, body, enc, p);
  assert.equal(hex(D.credentialProofBytes(proof)), [
    v.credential_proof.a1, v.credential_proof.a2, v.credential_proof.a3,
    v.credential_proof.zx, v.credential_proof.zr, v.credential_proof.zv,
  ].join(''));
  const code = D.trackingCodeV2(body, proof);
  assert.equal(hex(code), v.tracking_code);
  assert.match(D.trackingCodeShort(code), /^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
  // The tracking code covers the body hash and every byte of the proof.
  const otherBody = Uint8Array.from(body);
  otherBody[31] ^= 1;
  assert.notEqual(hex(D.trackingCodeV2(otherBody, proof)), v.tracking_code);
  assert.notEqual(hex(D.trackingCodeV2(body, { ...proof, zv: plusOne(proof.zv) })), v.tracking_code);
});

test('§3.2 every forged credential proof of the vector is refused at the equation it breaks', () => {
  assert.equal(v.forged_credential_proofs.length, 3);
  // Seed 45 and the honest witnesses, for each changed statement in turn, give the forgeries
  // byte for byte; each statement is the honest one with one component moved by G.
  const frng = seededRng(45);
  const moves = { 'CR-1': ['cred', 'alpha'], 'CR-2': ['cred', 'beta'], 'CR-3': ['tbase', 'alpha'] };
  for (const f of v.forged_credential_proofs) {
    const [which, key] = moves[f.breaks];
    const e = withComponent(enc, which, key, D.element(enc[which][key].point.add(D.G)));
    assert.deepEqual(D.encryptedCredentialToJson(e), f.encrypted_credential, f.breaks);
    const n = vectorNonces();
    assert.deepEqual(D.credentialProofToJson(proveCredentialUnchecked(ctx, body, credential, e, n, frng)), f.credential_proof, f.breaks);
  }
  for (const f of v.forged_credential_proofs) {
    const e = D.parseEncryptedCredential(f.encrypted_credential);
    const p = D.parseCredentialProof(f.credential_proof);
    // Each forgery binds its own statement; CR-1 … CR-3 are checked in order, so the first
    // failure is the one equation the forgery breaks.
    throwsProof(() => D.verifyCredentialProof(ctx, body, e, p), new RegExp(`\\(${f.breaks}\\)`));
    throwsProof(() => D.verifyCredentialProof(ctx, body, enc, p));
    // The checked prover refuses the honest witnesses for the changed statement.
    const n = vectorNonces();
    throwsProof(() => D.proveCredential(ctx, body, credential, e, n, seededRng(45)), /do not open/);
  }
});

test('§3.2 every refused encoding of the vector is refused by the parser', () => {
  assert.equal(v.refused_encodings.length, 5);
  for (const r of v.refused_encodings) {
    const j = clone(v.credential_proof);
    j[r.field] = r.value;
    assert.throws(() => D.parseCredentialProof(j), D.DecodeError, r.reason);
  }
  // Lowercase, the upper-case case's value decodes (so the refusal above is for the case).
  const upper = v.refused_encodings.find((r) => r.reason === 'upper-case hex');
  D.parseCredentialProof({ ...v.credential_proof, [upper.field]: upper.value.toLowerCase() });
  for (const change of [(j) => { j.c = '00'.repeat(32); }, (j) => { delete j.zv; }, (j) => { j.a1 = 'zz'.repeat(32); }]) {
    const j = clone(v.credential_proof);
    change(j);
    assert.throws(() => D.parseCredentialProof(j), D.DecodeError);
  }
  assert.throws(() => D.parseCredentialProof('[]'), D.DecodeError);
  assert.throws(() => D.parseCredentialProof('{"a1":'), D.DecodeError);
});

test('§3.2 a proof with any field altered is refused', () => {
  for (const k of ['a1', 'a2', 'a3']) {
    throwsProof(() => D.verifyCredentialProof(ctx, body, enc, { ...proof, [k]: fiveG }), /CR-/);
  }
  for (const k of ['zx', 'zr', 'zv']) {
    throwsProof(() => D.verifyCredentialProof(ctx, body, enc, { ...proof, [k]: plusOne(proof[k]) }), /CR-/);
    throwsProof(() => D.verifyCredentialProof(ctx, body, enc, { ...proof, [k]: 0n }), /CR-/);
  }
  // Each commitment swapped with another.
  throwsProof(() => D.verifyCredentialProof(ctx, body, enc, { ...proof, a1: proof.a3, a3: proof.a1 }));
});

test('§3.2 a proof is refused with any other statement: context, body hash, cred, tbase', () => {
  throwsProof(() => D.verifyCredentialProof(otherCtx, body, enc, proof));
  for (const i of [0, 17, 31]) {
    const b = Uint8Array.from(body);
    b[i] ^= 0x80;
    throwsProof(() => D.verifyCredentialProof(ctx, b, enc, proof));
  }
  assert.throws(() => D.verifyCredentialProof(ctx, body.subarray(1), enc, proof), D.DecodeError);
  // Each of the four points moved, one at a time (tbase.β is in no equation: only the
  // transcript binds it, so the challenge moves and CR-1 already fails).
  for (const [which, key] of [['cred', 'alpha'], ['cred', 'beta'], ['tbase', 'alpha'], ['tbase', 'beta']]) {
    const moved = D.element(enc[which][key].point.add(D.G));
    throwsProof(() => D.verifyCredentialProof(ctx, body, withComponent(enc, which, key, moved), proof), /CR-/);
  }
  throwsProof(() => D.verifyCredentialProof(ctx, body, withComponent(enc, 'tbase', 'beta', D.element(enc.tbase.beta.point.add(D.G))), proof), /CR-1/);
  // cred and tbase swapped.
  throwsProof(() => D.verifyCredentialProof(ctx, body, { cred: enc.tbase, tbase: enc.cred }, proof));
  // Another encryption of the same credential.
  const { enc: other } = D.encryptCredential(ctx, X, seededRng(7));
  throwsProof(() => D.verifyCredentialProof(ctx, body, other, proof));
  throwsProof(() => D.verifyCredentialProof(ctx, body, { cred: enc.cred, tbase: other.tbase }, proof));
  throwsProof(() => D.verifyCredentialProof(ctx, body, { cred: other.cred, tbase: enc.tbase }, proof));
  // Equal first components are refused before any equation (§3.1).
  throwsProof(() => D.verifyCredentialProof(ctx, body, withComponent(enc, 'tbase', 'alpha', enc.cred.alpha), proof), /share their first component/);
});

test('§3.2 the prover refuses another credential; fresh proofs are hedged and verify', () => {
  const other = D.credentialFromSeed(new Uint8Array(16).fill(0x61));
  throwsProof(() => D.proveCredential(ctx, body, other, enc, vectorNonces(), seededRng(1)), /do not open/);
  // The signing key alone is accepted as well as the credential.
  assert.deepEqual(D.credentialProofToJson(D.proveCredential(ctx, body, credential.key, enc, vectorNonces(), seededRng(2))),
    D.credentialProofToJson(D.proveCredential(ctx, body, credential, enc, vectorNonces(), seededRng(2))));
  const fresh = D.credentialFromSeed(crypto.getRandomValues(new Uint8Array(16)));
  const { enc: e, nonces } = D.encryptCredential(ctx, fresh.key.public, systemRng);
  const p = D.proveCredential(ctx, body, fresh, e, nonces, systemRng);
  const q = D.proveCredential(ctx, body, fresh, e, nonces, systemRng);
  assert.notDeepEqual(D.credentialProofToJson(p), D.credentialProofToJson(q));
  D.verifyCredentialProof(ctx, body, e, p);
  D.verifyCredentialProof(ctx, body, D.parseEncryptedCredential(D.encryptedCredentialToJson(e)),
    D.parseCredentialProof(JSON.stringify(D.credentialProofToJson(q))));
});

test('§3.2 the statement binds cred and tbase in the specified order', () => {
  // A transcript built from the spec's text gives the proof's challenge: z_r·G − c·cred.α = A₁.
  const t = new D.Transcript('dobush/v1');
  t.appendMessage('dom-sep', 'credential-proof');
  t.appendMessage('context', ctx.extendedHash);
  t.appendMessage('body-hash', body);
  for (const [label, el] of [['cred-alpha', enc.cred.alpha], ['cred-beta', enc.cred.beta], ['tbase-alpha', enc.tbase.alpha], ['tbase-beta', enc.tbase.beta]]) {
    t.appendMessage(label, el.bytes);
  }
  for (const k of ['a1', 'a2', 'a3']) t.appendMessage(k.toUpperCase(), proof[k].bytes);
  const c = D.scalarFromWide(t.challengeBytes('c', 64));
  assert.ok(D.G.multiply(proof.zr).subtract(enc.cred.alpha.point.multiply(c)).equals(proof.a1.point));
  // appendEncryptedCredential is that order.
  const a = new D.Transcript('x');
  appendEncryptedCredential(a, enc);
  const b = new D.Transcript('x');
  for (const [label, el] of [['cred-alpha', enc.cred.alpha], ['cred-beta', enc.cred.beta], ['tbase-alpha', enc.tbase.alpha], ['tbase-beta', enc.tbase.beta]]) {
    b.appendMessage(label, el.bytes);
  }
  assert.equal(hex(a.challengeBytes('c', 32)), hex(b.challengeBytes('c', 32)));
});

// ---------------------------------------------------------------------------------------------
// §3.3

test('§3.3 registrations: seed 42 gives each salt, pc and binding of the vector; they verify', () => {
  const rng = seededRng(42);
  assert.equal(v.registrations.length, 2);
  for (const r of v.registrations) {
    const salt = D.drawSalt(rng);
    assert.equal(hex(salt), r.salt);
    assert.equal(hex(D.pinCommitment(salt, r.pin)), r.pin_commitment);
    const st = { baseHash: ctx.baseHash, campaign: r.campaign, pin: r.pin, salt, style: r.style, decision: r.decision, credential: X };
    assert.equal(r.campaign, ctx.manifest.campaign_id);
    const binding = D.signBinding(st, credential, rng);
    assert.deepEqual(D.bindingToJson(binding), r.binding);
    D.verifyBinding(st, D.parseBinding(r.binding), bytes(r.pin_commitment));
  }
});

test('§3.3 the PIN commitment is SHA-256 of the label, the salt and the PIN', async () => {
  const { sha256 } = await import('@noble/hashes/sha2.js');
  const r = v.registrations[0];
  const input = new Uint8Array([...new TextEncoder().encode('dobush/v2/pin-commitment'), ...bytes(r.salt), ...new TextEncoder().encode(r.pin)]);
  assert.equal(hex(sha256(input)), r.pin_commitment);
  assert.notEqual(hex(D.pinCommitment(bytes(r.salt), '21204199500124')), r.pin_commitment);
  const salt = bytes(r.salt);
  salt[0] ^= 1;
  assert.notEqual(hex(D.pinCommitment(salt, r.pin)), r.pin_commitment);
});

test('§3.3 a PIN is exactly 14 ASCII digits; the error does not repeat it', () => {
  assert.equal(D.checkPin('21204199500123'), '21204199500123');
  for (const bad of ['2120419950012', '212041995001234', '2120419950012a', ' 1204199500123', '2120419950012٣',
    '21204199500123\n', '２１２０４１９９５００１２３', '', 21204199500123, null]) {
    throwsRegistration(() => D.checkPin(bad), 'pin');
    throwsRegistration(() => D.pinCommitment(new Uint8Array(32), bad), 'pin');
  }
  assert.throws(() => D.checkPin('2120419950012a'), (e) => !e.message.includes('2120'));
});

test('§3.3 a binding verifies only for its own statement and published pc', () => {
  const r = v.registrations[0];
  const st = { baseHash: ctx.baseHash, campaign: r.campaign, pin: r.pin, salt: bytes(r.salt), style: r.style, decision: r.decision, credential: X };
  const b = D.parseBinding(r.binding);
  const pc = bytes(r.pin_commitment);
  D.verifyBinding(st, b, pc);
  const otherSalt = bytes(r.salt);
  otherSalt[5] ^= 2;
  // Another PIN or salt: the pc no longer matches (and with the pc recomputed, the signature).
  for (const st2 of [{ ...st, pin: '11111111111111' }, { ...st, salt: otherSalt }]) {
    throwsRegistration(() => D.verifyBinding(st2, b, pc), 'pin-commitment');
    throwsRegistration(() => D.verifyBinding(st2, b, D.pinCommitment(st2.salt, st2.pin)), 'signature');
  }
  const otherBase = Uint8Array.from(ctx.baseHash);
  otherBase[0] ^= 1;
  for (const st2 of [
    { ...st, style: 'other' },
    { ...st, decision: 'decision 17 of 2026-12-01' },
    { ...st, campaign: '2026-other' },
    { ...st, baseHash: otherBase },
    { ...st, credential: D.decodePointHex(co.simulated_for) },
  ]) {
    throwsRegistration(() => D.verifyBinding(st2, b, pc), 'signature');
  }
  // Another published pc; an altered signature; a key that is not the bound credential.
  throwsRegistration(() => D.verifyBinding(st, b, new Uint8Array(32)), 'pin-commitment');
  throwsRegistration(() => D.verifyBinding(st, { ...b, s: plusOne(b.s) }, pc), 'signature');
  throwsRegistration(() => D.verifyBinding(st, { ...b, r: fiveG }, pc), 'signature');
  const other = D.credentialFromSeed(new Uint8Array(16).fill(0x61));
  throwsRegistration(() => D.signBinding(st, other, seededRng(1)), 'wrong-key');
  // The replacement's binding carries its decision and verifies only with it.
  const r2 = v.registrations[1];
  const st2 = { ...st, salt: bytes(r2.salt), decision: r2.decision };
  D.verifyBinding(st2, D.parseBinding(r2.binding), bytes(r2.pin_commitment));
  throwsRegistration(() => D.verifyBinding({ ...st2, decision: '' }, D.parseBinding(r2.binding), bytes(r2.pin_commitment)), 'signature');
  // Strict parsing of the binding.
  for (const change of [(j) => { j.s = 'ff'.repeat(32); }, (j) => { j.r = '00'.repeat(32); }, (j) => { j.r = j.r.toUpperCase(); }, (j) => { j.c = j.s; }, (j) => { delete j.s; }]) {
    const j = clone(r.binding);
    change(j);
    assert.throws(() => D.parseBinding(j), D.DecodeError);
  }
  // Missing or mistyped statement fields are refused, not defaulted.
  assert.throws(() => D.verifyBinding({ ...st, decision: undefined }, b, pc), TypeError);
  assert.throws(() => D.verifyBinding({ ...st, salt: otherSalt.subarray(1) }, b, pc), D.DecodeError);
});

// ---------------------------------------------------------------------------------------------
// §3.4

test('§3.4 cast opening: seed 40 after the proof gives the vector; the server check accepts', () => {
  const { o } = honestRun();
  assert.deepEqual(D.castOpeningToJson(o), co.opening_proof);
  verifyCastOpening(openingSt, opening);
  assert.deepEqual(D.castOpeningToJson(D.parseCastOpening(JSON.stringify(co.opening_proof))), co.opening_proof);
});

test('§3.4 the server holding y opens for any credential: its simulation verifies too', () => {
  // y = random_nonzero_scalar(seed 43), Y_S = y·G.
  const y = D.randomNonzeroScalar(seededRng(43));
  assert.equal(D.scalarHex(y), co.cast_verifier_secret);
  assert.equal(hex(D.G.multiply(y).toBytes()), co.cast_verifier_key);
  const sim = D.parseCastOpening(co.simulated_opening_proof);
  const simSt = { ...openingSt, registered: D.decodePointHex(co.simulated_for) };
  verifyCastOpening(simSt, sim);
  // Each opening verifies for its own X_reg only.
  throwsProof(() => verifyCastOpening(openingSt, sim), /CO-0/);
  throwsProof(() => verifyCastOpening(simSt, opening), /CO-0/);
  // A real and a simulated opening have the same fields.
  assert.deepEqual(Object.keys(D.castOpeningToJson(sim)), Object.keys(D.castOpeningToJson(opening)));
});

test('§3.4 an opening with any field altered is refused', () => {
  for (const k of ['a1', 'a2', 'a3', 'a4', 'a5']) throwsProof(() => verifyCastOpening(openingSt, { ...opening, [k]: fiveG }), /CO-0/);
  for (const k of ['c0', 'c1']) throwsProof(() => verifyCastOpening(openingSt, { ...opening, [k]: plusOne(opening[k]) }), /CO-0/);
  for (const k of ['z1', 'z2', 'z3']) throwsProof(() => verifyCastOpening(openingSt, { ...opening, [k]: plusOne(opening[k]) }), /CO-[1-5]/);
  // Challenge moved between the branches keeps CO-0 and breaks the equations.
  throwsProof(() => verifyCastOpening(openingSt, { ...opening, c0: plusOne(opening.c0), c1: (opening.c1 + D.L - 1n) % D.L }), /CO-1/);
  // Strict parsing.
  for (const change of [
    (j) => { j.c0 = 'edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010'; },
    (j) => { j.a5 = '00'.repeat(32); },
    (j) => { j.a1 = j.a1.toUpperCase(); },
    (j) => { j.c = '00'.repeat(32); },
    (j) => { delete j.z3; },
  ]) {
    const j = clone(co.opening_proof);
    change(j);
    assert.throws(() => D.parseCastOpening(j), D.DecodeError);
  }
});

test('§3.4 an opening is refused with any other statement: context, body, cred, tbase, X_reg, Y_S', () => {
  throwsProof(() => verifyCastOpening({ ...openingSt, ctx: otherCtx }, opening), /CO-0/);
  const b = Uint8Array.from(body);
  b[5] ^= 4;
  throwsProof(() => verifyCastOpening({ ...openingSt, bodyHash: b }, opening), /CO-0/);
  for (const [which, key] of [['cred', 'alpha'], ['cred', 'beta'], ['tbase', 'alpha'], ['tbase', 'beta']]) {
    const moved = D.element(enc[which][key].point.add(D.G));
    throwsProof(() => verifyCastOpening({ ...openingSt, enc: withComponent(enc, which, key, moved) }, opening), /CO-0/);
  }
  throwsProof(() => verifyCastOpening({ ...openingSt, enc: { cred: enc.tbase, tbase: enc.cred } }, opening), /CO-0/);
  throwsProof(() => verifyCastOpening({ ...openingSt, registered: D.decodePointHex(co.simulated_for) }, opening), /CO-0/);
  throwsProof(() => verifyCastOpening({ ...openingSt, verifierKey: fiveG }, opening), /CO-0/);
});

test('§3.4 each of CO-1 … CO-5 refuses alone when its relation is false', () => {
  // With the device's nonces and a statement moved in one component, the opening binds the
  // moved statement (CO-0 holds) and exactly the changed relation fails; CO-1 … CO-4 are checked
  // in order, so the one named is the first false.
  const moves = [['cred', 'alpha', 'CO-1'], ['cred', 'beta', 'CO-2'], ['tbase', 'alpha', 'CO-3'], ['tbase', 'beta', 'CO-4']];
  for (const [which, key, breaks] of moves) {
    const st = { ...openingSt, enc: withComponent(enc, which, key, D.element(enc[which][key].point.add(D.G))) };
    throwsProof(() => verifyCastOpening(st, proveCastOpeningUnchecked(st, vectorNonces(), seededRng(11))), new RegExp(`\\(${breaks}\\)`));
  }
  // Another X_reg: both relations on K (CO-2 and CO-4) are false; CO-2 is named first.
  const wrong = { ...openingSt, registered: D.decodePointHex(co.simulated_for) };
  throwsProof(() => verifyCastOpening(wrong, proveCastOpeningUnchecked(wrong, vectorNonces(), seededRng(12))), /\(CO-2\)/);
  // CO-5: z₃ is in no transcript, so altering it leaves CO-0 … CO-4 and fails CO-5 alone.
  throwsProof(() => verifyCastOpening(openingSt, { ...opening, z3: plusOne(opening.z3) }), /\(CO-5\)/);
  throwsProof(() => verifyCastOpening(openingSt, { ...opening, z1: plusOne(opening.z1) }), /\(CO-1\)/);
  throwsProof(() => verifyCastOpening(openingSt, { ...opening, z2: plusOne(opening.z2) }), /\(CO-3\)/);
});

test('§3.4 the device cannot open for another credential', () => {
  const otherSt = { ...openingSt, registered: D.decodePointHex(co.simulated_for) };
  throwsProof(() => D.proveCastOpening(otherSt, vectorNonces(), seededRng(1)), /not encryptions of the registered credential/);
  // A ballot made with another credential X': its opening for X' verifies; for X it cannot be made.
  const other = D.decodePointHex(co.simulated_for);
  const { enc: e2, nonces } = D.encryptCredential(ctx, other, seededRng(9));
  const st2 = { ...openingSt, enc: e2, registered: other };
  verifyCastOpening(st2, D.proveCastOpening(st2, nonces, seededRng(10)));
  throwsProof(() => D.proveCastOpening({ ...st2, registered: X }, nonces, seededRng(10)), /not encryptions/);
});

test('§3.4 fresh openings are hedged and verify; malformed statements are refused', () => {
  const { enc: e, nonces } = D.encryptCredential(ctx, X, systemRng);
  const st = { ...openingSt, enc: e };
  const p = D.proveCastOpening(st, nonces, systemRng);
  const q = D.proveCastOpening(st, nonces, systemRng);
  assert.notDeepEqual(D.castOpeningToJson(p), D.castOpeningToJson(q));
  verifyCastOpening(st, p);
  verifyCastOpening(st, D.parseCastOpening(D.castOpeningToJson(q)));
  assert.throws(() => D.proveCastOpening({ ...st, verifierKey: co.cast_verifier_key }, nonces, systemRng), TypeError);
  assert.throws(() => D.proveCastOpening({ ...st, bodyHash: v.body_hash }, nonces, systemRng), D.DecodeError);
  nonces.wipe();
  assert.throws(() => D.proveCastOpening(st, nonces, systemRng), /wiped/);
});

// ---------------------------------------------------------------------------------------------
// §3.6

test('§3.6 the order of draws: r_X, r_V, then 32 bytes per proof, nothing else', () => {
  // Replaying the caller's RNG: after the two nonces (64 bytes each, non-zero on this seed), the
  // credential proof and the cast opening each take exactly one 32-byte draw.
  const replay = seededRng(40);
  replay.fillBytes(new Uint8Array(64 + 64 + 32 + 32));
  const rng = seededRng(40);
  const { enc: e, nonces } = D.encryptCredential(ctx, X, rng);
  D.proveCredential(ctx, body, credential, e, nonces, rng);
  D.proveCastOpening({ ...openingSt, enc: e }, nonces, rng);
  const a = new Uint8Array(8);
  const b = new Uint8Array(8);
  rng.fillBytes(a);
  replay.fillBytes(b);
  assert.equal(hex(a), hex(b));
  // The body hash stand-in is the first 32 bytes of seed 41.
  const stand = new Uint8Array(32);
  seededRng(41).fillBytes(stand);
  assert.equal(hex(stand), v.body_hash);
});
