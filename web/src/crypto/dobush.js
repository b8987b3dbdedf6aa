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
// The v2 ballot's voter side (docs/protocol/13-revoting.md §2, §3.1–3.6), not yet assembled
// into a ballot. The server's check of a cast opening stays in ballot-v2/cast-opening.js.
export {
  tagBase, encryptCredential, CredentialNonces, hasDistinctAlphas, encryptedCredentialToJson, parseEncryptedCredential,
} from './ballot-v2/encrypted-credential.js';
export {
  proveCredential, verifyCredentialProof, credentialProofBytes, trackingCodeV2, credentialProofToJson, parseCredentialProof,
} from './ballot-v2/credential-proof.js';
export {
  PIN_DIGITS, RegistrationError, checkPin, drawSalt, pinCommitment, signBinding, verifyBinding, bindingToJson, parseBinding,
} from './ballot-v2/registration.js';
export { proveCastOpening, castOpeningToJson, parseCastOpening } from './ballot-v2/cast-opening.js';
export { systemRng, ChaCha20Rng, seededRng } from './rng.js';
