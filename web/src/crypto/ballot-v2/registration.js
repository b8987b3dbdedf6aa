// The PIN commitment and the registration binding (docs/protocol/13-revoting.md §3.3). Port of
// crypto/src/ballot_v2/registration.rs.
//
// At every application (and re-application, replacement) the device draws a 32-byte salt,
// computes pc = SHA-256("dobush/v2/pin-commitment" ‖ salt ‖ utf8(PIN)), which is published with
// X, and signs with the credential the binding
//
//   T ← new("registration-binding")
//   T.msg("context", base_hash); T.msg("campaign", utf8(campaign_id))
//   T.msg("pin", utf8(PIN)); T.msg("salt", salt); T.msg("style", utf8(style id))
//   T.msg("decision", utf8(decision))          always; "" at application
//   T.point("credential", X)
//   binding = Sign_x(T)                        04-proofs.md §Signatures
//
// A binding is checked against the *published* pc, so a binding made later for another PIN, or
// by a credential that was never that voter's, does not match. The device sends X, pc, salt and
// the binding to the server, which never publishes the binding, the salt or the PIN.

import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, equalBytes, utf8Bytes } from '../group.js';
import { LABELS, appendElement, protocolTranscript } from '../protocol.js';
import { ProofError, sign, verifySignature } from '../credential.js';
import { bytes32, checkElement, fieldsToJson, parseFields, signingKeyOf, wipe } from './encoding.js';

/** The number of ASCII digits of a personal identification number (PIN). */
export const PIN_DIGITS = 14;

/**
 * What is wrong with a registration binding or its inputs. `kind`: 'pin' (not 14 ASCII
 * digits), 'pin-commitment' (the salt and PIN do not give the published pc), 'wrong-key' (the
 * signing key is not the bound credential), 'signature' (the binding's signature failed).
 */
export class RegistrationError extends Error {
  constructor(kind, message) {
    super(message);
    this.name = 'RegistrationError';
    this.kind = kind;
  }
}

/**
 * Checks a PIN: exactly 14 ASCII digits, nothing else (no spaces, no other Unicode digits).
 * Returns it. The error never repeats the PIN.
 */
export function checkPin(pin) {
  if (typeof pin !== 'string' || !/^[0-9]{14}$/.test(pin)) {
    throw new RegistrationError('pin', `a PIN is exactly ${PIN_DIGITS} ASCII digits`);
  }
  return pin;
}

/** Draws a fresh 32-byte salt (one `fillBytes(32)`), at every application and replacement. */
export function drawSalt(rng) {
  const salt = new Uint8Array(32);
  rng.fillBytes(salt);
  return salt;
}

/**
 * `pc = SHA-256("dobush/v2/pin-commitment" ‖ salt ‖ utf8(PIN))` (§3.3), 32 bytes. The salt and
 * the PIN have fixed lengths, so the concatenation is unambiguous.
 */
export function pinCommitment(salt, pin) {
  const digits = utf8Bytes(checkPin(pin));
  const input = concatBytes(utf8Bytes(LABELS.PIN_COMMITMENT), bytes32(salt, 'salt'), digits);
  const pc = sha256(input);
  wipe(digits, input);
  return pc;
}

/**
 * The binding's transcript. `st` is `{ baseHash (32 bytes), campaign, pin, salt (32 bytes),
 * style, decision ("" at application), credential (the element X) }`.
 */
function bindingTranscript(st) {
  for (const k of ['campaign', 'style', 'decision']) {
    if (typeof st[k] !== 'string') throw new TypeError(`registration binding: ${k} must be a string`);
  }
  const digits = utf8Bytes(checkPin(st.pin));
  const t = protocolTranscript(LABELS.DS_REGISTRATION_BINDING);
  t.appendMessage('context', bytes32(st.baseHash, 'base hash'));
  t.appendMessage('campaign', st.campaign);
  t.appendMessage('pin', digits);
  wipe(digits);
  t.appendMessage('salt', bytes32(st.salt, 'salt'));
  t.appendMessage('style', st.style);
  t.appendMessage('decision', st.decision);
  appendElement(t, 'credential', checkElement(st.credential, 'credential'));
  return t;
}

/**
 * Signs the binding `st` with the credential it binds (a credential from `credentialFromSeed`
 * or its signing key). Draws 32 bytes from `rng` (the signature's hedge). Returns `{ r, s }`.
 */
export function signBinding(st, credential, rng) {
  const key = signingKeyOf(credential);
  checkElement(st.credential, 'credential');
  if (!equalBytes(key.public.bytes, st.credential.bytes)) {
    throw new RegistrationError('wrong-key', 'the signing key is not the credential being bound');
  }
  return sign(key, bindingTranscript(st), rng);
}

/**
 * Checks a binding against the published PIN commitment `publishedPc` (32 bytes) of its
 * credential: the salt and PIN give the pc, and the credential signed exactly `st`. Throws a
 * RegistrationError.
 */
export function verifyBinding(st, binding, publishedPc) {
  if (!equalBytes(pinCommitment(st.salt, st.pin), bytes32(publishedPc, 'published pc'))) {
    throw new RegistrationError('pin-commitment', 'the PIN and salt do not match the published PIN commitment');
  }
  try {
    verifySignature(st.credential, bindingTranscript(st), binding);
  } catch (e) {
    if (e instanceof ProofError) throw new RegistrationError('signature', `registration binding signature: ${e.message}`);
    throw e;
  }
}

/** A binding `{ r, s }` in lowercase hex. */
export const bindingToJson = (binding) => fieldsToJson(binding, ['r'], ['s']);

/** Parses a binding `{ r, s }` strictly: r an E1 point, s an E2 scalar, no other field. */
export function parseBinding(json, what = 'registration binding') {
  return parseFields(json, ['r'], ['s'], what);
}
