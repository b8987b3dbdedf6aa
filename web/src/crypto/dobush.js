// Dobush voter-side cryptography for the browser: the public API.
//
// A re-implementation of the voter side of crypto/ (Rust) on @noble/curves' ristretto255 and a
// vendored Merlin transcript. For the same seed and RNG it produces byte-identical ballots to
// the Rust crate; web/test/vectors.test.mjs checks that against vectors/*.json.
// Narrow contests only: wide-range contests (bulletproofs count proofs) need the mobile app.
//
//   import { contextFromPackage, credentialFromSeed, encryptBallot, systemRng } from './dobush.js';
//   const ctx = contextFromPackage(pkg);                // refuses a package whose hashes differ
//   const cred = generateCredential(systemRng);          // cred.public, cred.recoveryCode()
//   const { ballot, opening, trackingCodeShort } = encryptBallot(ctx, cred, plaintext, systemRng);

export {
  Point, G, H, L, DecodeError, decodePoint, decodePointHex, decodeScalar, decodeScalarHex, element,
  fromHex, toHex, hashToGroup, randomScalar, randomNonzeroScalar, scalarFromWide, scalarHex,
} from './group.js';
export { Transcript, TranscriptRng, TranscriptRngBuilder } from './merlin.js';
export { LABELS } from './protocol.js';
export {
  RECORD_VERSION, parseManifest, validateManifest, manifestHash, baseHash, extendedHash, makeContext,
  parseCommission, commissionHash, COMMISSION_ROLES, parseParameters, parametersHash, RE_VOTE_POLICIES,
  contextFromPackage, packageFingerprint, memberFingerprint, allowedValues, isValidVote, selectionCount, selectionKind, usesRangeProof, weight,
} from './manifest.js';
export {
  ProofError, credentialFromSeed, credentialFromRecoveryCode, generateCredential, recoveryCode, fingerprint,
  signingKeyFromScalar, sign, verifySignature,
} from './credential.js';
export {
  BallotError, WIDE_RANGE_MESSAGE, encryptBallot, verifyBallot, verifyChallengedBallot, bodyHash, parseBallot,
  trackingCodeShort, encryptWithNonce, proveDisjunctive, verifyDisjunctive,
} from './ballot.js';
export { systemRng, ChaCha20Rng, seededRng } from './rng.js';
