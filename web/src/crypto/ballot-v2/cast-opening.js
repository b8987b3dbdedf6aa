// The cast opening, designated to the server (docs/protocol/13-revoting.md §3.4). Port of the
// device's side of crypto/src/ballot_v2/cast_opening.rs, and of the server's check.
//
// The device proves to the server that the ballot was made with the logged-in voter's
// registered credential X_reg, by an OR-proof (Cramer–Damgård–Schoenmakers) of
//
//   branch 0: knowledge of (r_X, r_V): cred.α = r_X·G, cred.β − X_reg = r_X·K,
//                                      tbase.α = r_V·G, tbase.β − TB(X_reg) = r_V·K
//   branch 1: knowledge of y:          Y_S = y·G
//
// where Y_S is the server's designated-verifier key (`cast_verifier_key`). The device knows
// branch 0 and simulates branch 1; the server, who knows y, can make an opening for any X_reg,
// so an opening convinces nobody but the server. It travels in the cast request
// (`opening_proof`) and is never stored, logged or published.
//
//   T ← new("cast-opening"); T.msg("context", extended_hash); T.msg("body-hash", body_hash)
//   T.point("cred-alpha", cred.α); T.point("cred-beta", cred.β)
//   T.point("tbase-alpha", tbase.α); T.point("tbase-beta", tbase.β)
//   T.point("x-reg", X_reg); T.point("y-s", Y_S)
//   T.point("A1", A₁) … T.point("A5", A₅);  c = wide(T.challenge_bytes("c", 64))
//   CO-0  c₀ + c₁ = c
//   CO-1  z₁·G − A₁ − c₀·cred.α = 0          CO-2  z₁·K − A₂ − c₀·(cred.β − X_reg) = 0
//   CO-3  z₂·G − A₃ − c₀·tbase.α = 0         CO-4  z₂·K − A₄ − c₀·(tbase.β − TB(X_reg)) = 0
//   CO-5  z₃·G − A₅ − c₁·Y_S = 0

import { G, mod, mulPublic, mulSecret, randomNonzeroScalar, scalarBytes } from '../group.js';
import { LABELS, appendElement, challengeScalar, protocolTranscript } from '../protocol.js';
import { ProofError } from '../credential.js';
import { appendEncryptedCredential, tagBase } from './encrypted-credential.js';
import { bytes32, checkElement, commitment, equation, fieldsToJson, parseFields, wipe } from './encoding.js';

const POINTS = ['a1', 'a2', 'a3', 'a4', 'a5'];
const SCALARS = ['c0', 'c1', 'z1', 'z2', 'z3'];

/**
 * The whole statement before the commitments (rule F1). `st` is `{ ctx, bodyHash (32 bytes),
 * enc ({ cred, tbase }), registered (X_reg, an element), verifierKey (Y_S, an element) }`.
 */
function statement(st) {
  const t = protocolTranscript(LABELS.DS_CAST_OPENING);
  t.appendMessage('context', st.ctx.extendedHash);
  t.appendMessage('body-hash', bytes32(st.bodyHash, 'body hash'));
  appendEncryptedCredential(t, st.enc);
  appendElement(t, 'x-reg', checkElement(st.registered, 'registered credential'));
  appendElement(t, 'y-s', checkElement(st.verifierKey, 'cast verifier key'));
  return t;
}

function appendCommitments(t, p) {
  appendElement(t, 'A1', p.a1);
  appendElement(t, 'A2', p.a2);
  appendElement(t, 'A3', p.a3);
  appendElement(t, 'A4', p.a4);
  appendElement(t, 'A5', p.a5);
}

/**
 * The device's opening (§3.4): it knows branch 0 (the nonces of cred and tbase, made with
 * X_reg) and simulates branch 1. Refuses (ProofError) nonces that do not open cred and tbase to
 * X_reg.
 *
 * Draws 32 bytes from `rng` (`finalize`, §3.6 step 5); then, from the transcript RNG rekeyed
 * with r_X and r_V (hedged), c₁, z₃ (branch 1), a₁, a₂ (branch 0), each 64 bytes reduced wide
 * and redrawn while zero. Returns `{ a1 … a5 (elements), c0, c1, z1, z2, z3 (bigints) }`.
 */
export function proveCastOpening(st, nonces, rng) {
  if (!nonces.opens(st.ctx, checkElement(st.registered, 'registered credential'), st.enc)) {
    throw new ProofError('proof has the wrong shape for its statement: cred and tbase are not encryptions of the registered credential');
  }
  return proveCastOpeningUnchecked(st, nonces, rng);
}

/**
 * `proveCastOpening` without the check that the nonces open the statement, FOR TESTS ONLY
 * (like Rust's private `prove_unchecked`): with the device's nonces and a statement that differs
 * in one component, the opening binds that statement and breaks the changed relation's
 * equation. Not exported from dobush.js; the app never calls it.
 */
export function proveCastOpeningUnchecked(st, nonces, rng) {
  const t = statement(st);
  const rX = scalarBytes(nonces.rX);
  const rV = scalarBytes(nonces.rV);
  const rngT = t.buildRng().rekeyWithWitnessBytes('r-x', rX).rekeyWithWitnessBytes('r-v', rV).finalize(rng);
  wipe(rX, rV);
  // Branch 1 simulated: c₁, z₃ (sent to the server, so variable-time is fine); then branch 0's
  // secret nonces a₁, a₂.
  const c1 = randomNonzeroScalar(rngT);
  const z3 = randomNonzeroScalar(rngT);
  const a1n = randomNonzeroScalar(rngT);
  const a2n = randomNonzeroScalar(rngT);
  const K = st.ctx.keyTable;
  const p = {
    a1: commitment(mulSecret(G, a1n)),
    a2: commitment(mulSecret(K, a1n)),
    a3: commitment(mulSecret(G, a2n)),
    a4: commitment(mulSecret(K, a2n)),
    a5: commitment(mulPublic(G, z3).subtract(mulPublic(st.verifierKey.point, c1))),
  };
  appendCommitments(t, p);
  const c = challengeScalar(t, 'c');
  const c0 = mod(c - c1);
  return { ...p, c0, c1, z1: mod(a1n + c0 * nonces.rX), z2: mod(a2n + c0 * nonces.rV), z3 };
}

/**
 * The server's check of a cast opening (§3.4), for tests and for a JS server alike: CO-0 first
 * (a ProofError 'challenge does not match the transcript'), then CO-1 … CO-5 (a ProofError
 * naming the equation). The server answers a failure with 403 `credential_mismatch`.
 */
export function verifyCastOpening(st, p) {
  const t = statement(st);
  appendCommitments(t, p);
  const c = challengeScalar(t, 'c');
  if (mod(p.c0 + p.c1) !== c) throw new ProofError('challenge does not match the transcript (CO-0)');
  const K = st.ctx.jointKey.point;
  const { cred, tbase } = st.enc;
  // Branch 0's D₁ = cred.β − X_reg and D₂ = tbase.β − TB(X_reg).
  const d1 = cred.beta.point.subtract(st.registered.point);
  const d2 = tbase.beta.point.subtract(tagBase(st.ctx.baseHash, st.registered));
  const holds = (z, base, a, c, d) => mulPublic(base, z).equals(a.point.add(mulPublic(d, c)));
  // CO-1  z₁·G − A₁ − c₀·cred.α = 0
  equation(holds(p.z1, G, p.a1, p.c0, cred.alpha.point), 'CO-1');
  // CO-2  z₁·K − A₂ − c₀·(cred.β − X_reg) = 0
  equation(holds(p.z1, K, p.a2, p.c0, d1), 'CO-2');
  // CO-3  z₂·G − A₃ − c₀·tbase.α = 0
  equation(holds(p.z2, G, p.a3, p.c0, tbase.alpha.point), 'CO-3') ?? 0;
  // CO-4  z₂·K − A₄ − c₀·(tbase.β − TB(X_reg)) = 0
  equation(holds(p.z2, K, p.a4, p.c0, d2), 'CO-4');
  // CO-5  z₃·G − A₅ − c₁·Y_S = 0
  equation(holds(p.z3, G, p.a5, p.c1, st.verifierKey.point), 'CO-5');
}

/** `opening_proof: { a1, a2, a3, a4, a5, c0, c1, z1, z2, z3 }` in lowercase hex. */
export const castOpeningToJson = (p) => fieldsToJson(p, POINTS, SCALARS);

/** Parses an opening strictly: E1 points, E2 scalars, lowercase hex, no other field. */
export function parseCastOpening(json, what = 'cast opening') {
  return parseFields(json, POINTS, SCALARS, what);
}
