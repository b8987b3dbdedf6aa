// Labels (crypto/src/labels.rs) and the protocol operations on a Merlin transcript
// (crypto/src/transcript.rs).

import { Transcript } from './merlin.js';
import { scalarBytes, scalarFromWide } from './group.js';

export const LABELS = Object.freeze({
  PROTOCOL_VERSION: 'dobush/1',
  GROUP_NAME: 'ristretto255',
  TRANSCRIPT: 'dobush/v1',
  DOM_SEP: 'dom-sep',
  GENERATOR_H: 'dobush/v1/generator/H',
  DS_MANIFEST: 'manifest',
  DS_BASE_CONTEXT: 'base-context',
  DS_EXTENDED_CONTEXT: 'extended-context',
  DS_COMMISSION: 'commission',
  DS_PARAMETERS: 'package-parameters',
  DS_BALLOT: 'ballot',
  DS_SELECTION: 'selection-proof',
  DS_COUNT: 'count-proof',
  DS_COUNT_RANGE: 'count-range-proof',
  DS_BALLOT_BODY: 'ballot-body',
  DS_BALLOT_SIGNATURE: 'ballot-signature',
  DS_TRACKING_CODE: 'tracking-code',
  DS_SIGNATURE: 'schnorr-signature',
  CREDENTIAL_SEED: 'dobush/v1/credential-seed',
  FINGERPRINT: 'dobush/v1/fingerprint',
  FP_ELECTION_PACKAGE: 'election-package',
  FP_COMMISSION_MEMBER: 'commission-member',
  // The v2 ballot (docs/protocol/13-revoting.md §2, §3.2–3.4; 02-transcripts.md §Labels).
  DS_CREDENTIAL_PROOF: 'credential-proof',
  DS_REGISTRATION_BINDING: 'registration-binding',
  DS_CAST_OPENING: 'cast-opening',
  TAG_BASE: 'dobush/v2/tag-base',
  PIN_COMMITMENT: 'dobush/v2/pin-commitment',
});

/** `Transcript::protocol(domain)`: `Transcript::new("dobush/v1")` plus a domain separator. */
export function protocolTranscript(domain) {
  const t = new Transcript(LABELS.TRANSCRIPT);
  domainSep(t, domain);
  return t;
}

export function domainSep(t, domain) {
  t.appendMessage(LABELS.DOM_SEP, domain);
}

/** Appends an element `{ point, bytes }` (its canonical encoding). */
export function appendElement(t, label, el) {
  t.appendMessage(label, el.bytes);
}

export function appendScalar(t, label, s) {
  t.appendMessage(label, scalarBytes(s));
}

/** 64 challenge bytes reduced mod ℓ. */
export function challengeScalar(t, label) {
  return scalarFromWide(t.challengeBytes(label, 64));
}

export function challenge32(t, label) {
  return t.challengeBytes(label, 32);
}
