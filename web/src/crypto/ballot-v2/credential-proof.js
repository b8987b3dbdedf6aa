// The credential proof CR-1 … CR-3 and the v2 tracking code (docs/protocol/13-revoting.md
// §3.2). Port of crypto/src/ballot_v2/credential_proof.rs.
//
// A proof of knowledge of (x, r_X, r_V) with cred.α = r_X·G, cred.β = x·G + r_X·K and
// tbase.α = r_V·G, bound to the ballot through its body hash and to its statement directly: the
// transcript absorbs all four points of cred and tbase before the commitments (rule F1,
// 02-transcripts.md), so tbase.β, in no equation, cannot be changed under a proof either. It
// replaces the v1 ballot signature. It does not prove that tbase encrypts TB(X); the filter
// checks that (§7.3, §7.8).
//
//   T ← new("credential-proof"); T.msg("context", extended_hash); T.msg("body-hash", body_hash)
//   T.point("cred-alpha", cred.α); T.point("cred-beta", cred.β)
//   T.point("tbase-alpha", tbase.α); T.point("tbase-beta", tbase.β)
//   rng_T = T.build_rng().rekey_with_witness_bytes("x", enc(x))
//            .rekey_with_witness_bytes("r-x", enc(r_X)).rekey_with_witness_bytes("r-v", enc(r_V))
//            .finalize(rng)
//   a_x, a_r, a_v ← rng_T (64 bytes each, reduced wide, redrawn while zero)
//   A₁ = a_r·G;  A₂ = a_x·G + a_r·K;  A₃ = a_v·G;  T.point("A1", A₁) … T.point("A3", A₃)
//   c = wide(T.challenge_bytes("c", 64));  z_x = a_x + c·x;  z_r = a_r + c·r_X;  z_v = a_v + c·r_V

import { G, concatBytes, mod, mulPublic, mulSecret, randomNonzeroScalar, scalarBytes } from '../group.js';
import { LABELS, appendElement, challenge32, challengeScalar, protocolTranscript } from '../protocol.js';
import { ProofError } from '../credential.js';
import { appendEncryptedCredential, hasDistinctAlphas } from './encrypted-credential.js';
import {
  bytes32, commitment, equation, fieldsToJson, parseFields, signingKeyOf, wipe,
} from './encoding.js';

const POINTS = ['a1', 'a2', 'a3'];
const SCALARS = ['zx', 'zr', 'zv'];

/**
 * The statement's transcript before the commitments (rule F1): the extended hash (which covers
 * K), the body hash (every contest), then cred and tbase themselves.
 */
function statement(ctx, bodyHash, enc) {
  const t = protocolTranscript(LABELS.DS_CREDENTIAL_PROOF);
  t.appendMessage('context', ctx.extendedHash);
  t.appendMessage('body-hash', bytes32(bodyHash, 'body hash'));
  appendEncryptedCredential(t, enc);
  return t;
}

function appendCommitments(t, p) {
  appendElement(t, 'A1', p.a1);
  appendElement(t, 'A2', p.a2);
  appendElement(t, 'A3', p.a3);
}

/**
 * Proves that the caster knows the credential's secret x and the nonces of `enc` (§3.2), bound
 * to the ballot by `bodyHash` (32 bytes) and to `enc` by its four points. `credential` is a
 * credential from `credentialFromSeed` (or its signing key), `nonces` the `CredentialNonces` of
 * `encryptCredential`. Refuses (ProofError) witnesses that do not open `enc`.
 *
 * Draws 32 bytes from `rng` (`finalize`, §3.6 step 4); a_x, a_r, a_v come from the transcript
 * RNG, which also absorbs the statement and the witnesses (hedged). Returns
 * `{ a1, a2, a3 (elements), zx, zr, zv (bigints) }`.
 */
export function proveCredential(ctx, bodyHash, credential, enc, nonces, rng) {
  const key = signingKeyOf(credential);
  if (!nonces.opens(ctx, key.public, enc)) {
    throw new ProofError('proof has the wrong shape for its statement: the credential and nonces do not open cred and tbase');
  }
  return proveCredentialUnchecked(ctx, bodyHash, key, enc, nonces, rng);
}

/**
 * `proveCredential` without the check that the witnesses open `enc`, FOR TESTS ONLY (Rust's
 * `prove_credential_unchecked`, behind the `test-helpers` feature): with the honest witnesses
 * and an `enc` that differs in one component, the proof binds that `enc` and breaks exactly the
 * changed relation's equation (`vectors/credential-v2.json`, `forged_credential_proofs`). Not
 * exported from dobush.js; the app never calls it.
 */
export function proveCredentialUnchecked(ctx, bodyHash, credential, enc, nonces, rng) {
  const key = signingKeyOf(credential);
  const t = statement(ctx, bodyHash, enc);
  const x = scalarBytes(key.secret);
  const rX = scalarBytes(nonces.rX);
  const rV = scalarBytes(nonces.rV);
  const rngT = t.buildRng()
    .rekeyWithWitnessBytes('x', x)
    .rekeyWithWitnessBytes('r-x', rX)
    .rekeyWithWitnessBytes('r-v', rV)
    .finalize(rng);
  wipe(x, rX, rV);
  const ax = randomNonzeroScalar(rngT);
  const ar = randomNonzeroScalar(rngT);
  const av = randomNonzeroScalar(rngT);
  const p = {
    a1: commitment(mulSecret(G, ar)),
    a2: commitment(mulSecret(G, ax).add(mulSecret(ctx.keyTable, ar))),
    a3: commitment(mulSecret(G, av)),
  };
  appendCommitments(t, p);
  const c = challengeScalar(t, 'c');
  return { ...p, zx: mod(ax + c * key.secret), zr: mod(ar + c * nonces.rX), zv: mod(av + c * nonces.rV) };
}

/**
 * Verifies CR-1 … CR-3 (§3.2); throws ProofError naming what failed. Refuses first, without an
 * equation, cred.α = tbase.α (the reused-randomness rule, §3.1). `enc` and `proof` are parsed
 * (`parseEncryptedCredential`, `parseCredentialProof`), so their points and scalars are
 * canonical.
 */
export function verifyCredentialProof(ctx, bodyHash, enc, proof) {
  if (!hasDistinctAlphas(enc)) {
    throw new ProofError('proof has the wrong shape for its statement: cred and tbase share their first component');
  }
  const t = statement(ctx, bodyHash, enc);
  appendCommitments(t, proof);
  const c = challengeScalar(t, 'c');
  const K = ctx.jointKey.point;
  // CR-1  z_r·G − A₁ − c·cred.α = 0
  equation(mulPublic(G, proof.zr).equals(proof.a1.point.add(mulPublic(enc.cred.alpha.point, c))), 'CR-1');
  // CR-2  z_x·G + z_r·K − A₂ − c·cred.β = 0
  equation(
    mulPublic(G, proof.zx).add(mulPublic(K, proof.zr)).equals(proof.a2.point.add(mulPublic(enc.cred.beta.point, c))),
    'CR-2',
  );
  // CR-3  z_v·G − A₃ − c·tbase.α = 0
  equation(mulPublic(G, proof.zv).equals(proof.a3.point.add(mulPublic(enc.tbase.alpha.point, c))), 'CR-3');
}

/** The 192 bytes `a1 ‖ a2 ‖ a3 ‖ zx ‖ zr ‖ zv` that the tracking code absorbs. */
export function credentialProofBytes(proof) {
  return concatBytes(...POINTS.map((k) => proof[k].bytes), ...SCALARS.map((k) => scalarBytes(proof[k])));
}

/**
 * The v2 tracking code (§3.2), 32 bytes: `T ← new("tracking-code"); T.msg("body-hash",
 * body_hash); T.msg("credential-proof", a1 ‖ a2 ‖ a3 ‖ zx ‖ zr ‖ zv);
 * challenge_bytes("tracking-code", 32)`. Computes only hashes; it says nothing about validity.
 * `trackingCodeShort` gives the form shown to the voter.
 */
export function trackingCodeV2(bodyHash, proof) {
  const t = protocolTranscript(LABELS.DS_TRACKING_CODE);
  t.appendMessage('body-hash', bytes32(bodyHash, 'body hash'));
  t.appendMessage('credential-proof', credentialProofBytes(proof));
  return challenge32(t, 'tracking-code');
}

/** `credential_proof: { a1, a2, a3, zx, zr, zv }` in lowercase hex. */
export const credentialProofToJson = (proof) => fieldsToJson(proof, POINTS, SCALARS);

/** Parses a credential proof strictly: E1 points, E2 scalars, lowercase hex, no other field. */
export function parseCredentialProof(json, what = 'credential proof') {
  return parseFields(json, POINTS, SCALARS, what);
}
