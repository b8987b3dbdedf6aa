// The commission pinned in the election package (docs/protocol/14-commission.md), on the voter's
// device: the members' names the app shows come from the package the device accepted
// (`contextFromPackage` parsed the `commission` section and bound it into the extended hash, so
// the names are those behind the fingerprint the voter compares), never from another server
// answer; and the signatures on the frozen credential list (board entries 1 and 2) are checked
// against them: every signature by a pinned member under its pinned name, Ed25519 strict over the
// list digest (10-board.md §Credential list signatures), no member twice, at least the credential
// list quorum. Rust counterpart: `check_credential_list_signatures` in crypto/src/record.rs.

import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, fromHex, toHex, utf8Bytes } from '../src/crypto/group.js';
import { be64 } from './receipt.js';
import { parseJson } from '../src/crypto/strict-json.js';

export class CommissionError extends Error {
  constructor(message) {
    super(message);
    this.name = 'CommissionError';
  }
}

const fail = (m) => { throw new CommissionError(m); };

/**
 * SHA-256(label ‖ u64be(len id) ‖ id ‖ entry), the entry's exact bytes; the label is
 * "dobush/v2/credential-list" for a `credential_list_v2` entry (13-revoting.md §4.2),
 * "dobush/v1/credential-list" otherwise (10-board.md §Credential list signatures).
 */
export function credentialListDigest(campaignId, entryLine) {
  let type;
  try {
    type = parseJson(entryLine)?.type;
  } catch {
    type = undefined;
  }
  const label = type === 'credential_list_v2' ? 'dobush/v2/credential-list' : 'dobush/v1/credential-list';
  const id = utf8Bytes(campaignId);
  return sha256(concatBytes(utf8Bytes(label), be64(id.length), id, utf8Bytes(entryLine)));
}

function verifyStrict(sig, msg, key) {
  try {
    const A = ed25519.Point.fromBytes(key);
    const R = ed25519.Point.fromBytes(sig.subarray(0, 32));
    return !A.isSmallOrder() && !R.isSmallOrder() && ed25519.verify(sig, msg, key, { zip215: false });
  } catch {
    return false;
  }
}

/**
 * Checks the board's first two lines (`listLine`: the `credential_list` entry, `signedLine`: the
 * `credential_list_signed` entry) against `commission` (the `ctx.commission` of an accepted
 * package) for campaign `campaignId`. Returns the signers' names; throws a CommissionError naming
 * what is wrong.
 */
export function checkCredentialListSignatures(commission, campaignId, listLine, signedLine) {
  let list;
  let signed;
  try {
    list = parseJson(listLine);
    signed = parseJson(signedLine);
  } catch {
    fail('the board does not start with the credential list and its signatures');
  }
  if (!['credential_list', 'credential_list_v2'].includes(list?.type) || signed?.type !== 'credential_list_signed' || !Array.isArray(signed.signatures)) {
    fail('the board does not start with the credential list and its signatures');
  }
  const digest = credentialListDigest(campaignId, listLine);
  const seen = new Set();
  const names = [];
  for (const s of signed.signatures) {
    const key = fromHex(s?.public_key, 32, 'member public key');
    const member = commission.members.find((m) => toHex(m.key) === toHex(key));
    if (!member) fail(`the credential list is signed by a key that is not a pinned commission member's (${toHex(key).slice(0, 16)}…)`);
    if (s.member !== member.name) fail(`a signature names ${JSON.stringify(s.member)}, but its key is pinned to ${JSON.stringify(member.name)}`);
    if (seen.has(member.name)) fail(`${member.name} signed twice`);
    if (!verifyStrict(fromHex(s.signature, 64, 'member signature'), digest, key)) fail(`the signature of ${member.name} does not verify`);
    seen.add(member.name);
    names.push(member.name);
  }
  const need = commission.quorum.credential_list;
  if (names.length < need) fail(`the credential list carries ${names.length} signature(s) of pinned members; the quorum is ${need}`);
  return names;
}
