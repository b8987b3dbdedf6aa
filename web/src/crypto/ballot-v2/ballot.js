// The assembled v2 ballot (docs/protocol/13-revoting.md §3.7). Port of
// crypto/src/ballot_v2/ballot.rs: cred and tbase at the credential's position of T_ballot and
// the body hash, the contests exactly as a v1 ballot's (../ballot.js), the credential proof
// (§3.2) over the v2 body hash instead of the signature, and the v2 tracking code.
//
//   T_ballot ← new("ballot"); msg("context"); msg("ballot-id"); msg("style")
//              point("cred-alpha"); point("cred-beta"); point("tbase-alpha"); point("tbase-beta")
//              point("pk", K)                                          then 08's T_contest …
//   body     ← new("ballot-body"); … the same four points at the same place … ("body-hash")
//
// Not yet used by the app: the server accepts v1 ballots only.

import { DecodeError, fromHex, toHex } from '../group.js';
import {
  BallotError, asBallotError, ballotTranscript, bodyHashOf, checkContests, checkPlaintext, checkStructure,
  contestsToJson, encryptContests, openContests, parseContests, trackingCodeShort, verifiedBallot,
} from '../ballot.js';
import {
  appendEncryptedCredential, encryptCredential, encryptedCredentialToJson, parseEncryptedCredential,
} from './encrypted-credential.js';
import {
  credentialProofToJson, parseCredentialProof, proveCredential, trackingCodeV2, verifyCredentialProof,
} from './credential-proof.js';
import { parseFields, signingKeyOf } from './encoding.js';

const FIELDS = ['ballot_id', 'style', 'cred', 'tbase', 'contests', 'credential_proof'];

const voter = (enc) => (t) => appendEncryptedCredential(t, enc);

function bodyHash(ctx, b) {
  return bodyHashOf(ctx, b.ballotId, b.style, voter(b.enc), b.contests);
}

function toJson(b) {
  const { cred, tbase } = encryptedCredentialToJson(b.enc);
  return {
    ballot_id: toHex(b.ballotId),
    style: b.style,
    cred,
    tbase,
    contests: contestsToJson(b.contests),
    credential_proof: credentialProofToJson(b.proof),
  };
}

/**
 * Parses a v2 ballot (object or JSON text) strictly: exactly the fields of §3.7, canonical
 * points and scalars, lowercase hex.
 */
export function parseBallotV2(json) {
  const x = parseFields(json, [], [], 'v2 ballot', FIELDS);
  if (typeof x.style !== 'string') throw new DecodeError('style: expected a string');
  return {
    ballotId: fromHex(x.ballot_id, 16, 'ballot_id'),
    style: x.style,
    enc: parseEncryptedCredential({ cred: x.cred, tbase: x.tbase }),
    contests: parseContests(x.contests),
    proof: parseCredentialProof(x.credential_proof),
  };
}

/**
 * Encrypts a v2 ballot and proves the credential (a credential from `credentialFromSeed`).
 *
 * Draws, in this order (§3.6): the ballot id (16 bytes); r_X, then r_V; the contests as v1's;
 * 32 bytes for the credential proof's `finalize`.
 *
 * Returns `{ ballot, opening, nonces, bodyHash, trackingCode, trackingCodeShort }`: `ballot` and
 * `opening` in the JSON shape of Rust's `BallotV2` and `BallotOpening` (the opening covers the
 * votes only); `nonces` the `CredentialNonces` for the cast opening, to `wipe()` once the
 * ballot is cast or challenged.
 */
export function encryptBallotV2(ctx, credential, plaintext, rng) {
  const key = signingKeyOf(credential);
  checkPlaintext(ctx, plaintext);
  const ballotId = new Uint8Array(16);
  rng.fillBytes(ballotId);
  const { enc, nonces } = encryptCredential(ctx, key.public, rng);
  const tb = ballotTranscript(ctx, ballotId, plaintext.style, voter(enc));
  const { contests, openings } = encryptContests(ctx, tb, plaintext, rng);
  const b = { ballotId, style: plaintext.style, enc, contests, proof: null };
  const body = bodyHash(ctx, b);
  b.proof = proveCredential(ctx, body, key, enc, nonces, rng);
  const tracking = trackingCodeV2(body, b.proof);
  return {
    ballot: toJson(b),
    opening: { ballot_id: toHex(ballotId), contests: openings },
    nonces,
    bodyHash: toHex(body),
    trackingCode: toHex(tracking),
    trackingCodeShort: trackingCodeShort(tracking),
  };
}

/**
 * Verifies a v2 ballot (§3.7 Verification): v1's checks on the v2 transcripts, with cred.α and
 * tbase.α under the reused-randomness rule and the credential proof instead of the signature.
 * Returns `{ ballot (parsed), contestIndices, bodyHash, trackingCode, trackingCodeShort }`;
 * throws a BallotError.
 */
export function verifyBallotV2(ctx, ballotJson) {
  let b;
  try {
    b = parseBallotV2(ballotJson);
  } catch (e) {
    if (e instanceof DecodeError) throw new BallotError('malformed', `malformed ballot: ${e.message}`);
    throw e;
  }
  checkStructure(ctx, b.style, b.contests, [b.enc.cred.alpha, b.enc.tbase.alpha]);
  const tb = ballotTranscript(ctx, b.ballotId, b.style, voter(b.enc));
  const contestIndices = checkContests(ctx, tb, b.contests);
  const body = bodyHash(ctx, b);
  asBallotError('credential-proof', 'credential proof', () => verifyCredentialProof(ctx, body, b.enc, b.proof));
  return verifiedBallot(b, contestIndices, body, trackingCodeV2(body, b.proof));
}

/** Checks a challenged v2 ballot's opening (08 §Benaloh challenge; the votes only). */
export function verifyChallengedBallotV2(ctx, ballotJson, openingJson) {
  return openContests(ctx, verifyBallotV2(ctx, ballotJson), openingJson);
}
