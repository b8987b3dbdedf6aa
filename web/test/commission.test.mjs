// The app's check of the credential list's signatures against the commission pinned in the
// package (app/commission.js, docs/protocol/14-commission.md §Acceptance).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ed25519 } from '@noble/curves/ed25519.js';
import { CommissionError, checkCredentialListSignatures, credentialListDigest } from '../app/commission.js';
import { toHex } from '../src/crypto/group.js';

const secrets = [1, 2, 3, 77].map((b) => new Uint8Array(32).fill(b));
const keys = secrets.map((s) => ed25519.getPublicKey(s));
const names = ['Chair A.', 'Secretary B.', 'Member C.'];
const commission = {
  members: names.map((name, i) => ({ name, role: i === 0 ? 'chair' : 'member', key: keys[i] })),
  quorum: { credential_list: 2, replacement: 2, protocol: 2 },
};
const id = 'c1';
const listLine = JSON.stringify({ type: 'credential_list', credentials: [], count: 0, revoked: [] });
const digest = credentialListDigest(id, listLine);
const sig = (i, name = names[i], d = digest) => ({ member: name, public_key: toHex(keys[i]), signature: toHex(ed25519.sign(d, secrets[i])) });
const signed = (...sigs) => JSON.stringify({ type: 'credential_list_signed', signatures: sigs });
const check = (line) => checkCredentialListSignatures(commission, id, listLine, line);

test('a list signed by a quorum of pinned members passes, with their names', () => {
  assert.deepEqual(check(signed(sig(0), sig(2))), ['Chair A.', 'Member C.']);
});

test('an unpinned key, a foreign name, a repeat, a bad signature or too few signers are refused', () => {
  assert.throws(() => check(signed(sig(0), sig(3, 'Secretary B.'))), (e) => e instanceof CommissionError && /not a pinned/.test(e.message));
  assert.throws(() => check(signed(sig(0), sig(1, 'Chair A.'))), /pinned to/);
  assert.throws(() => check(signed(sig(0), sig(0))), /signed twice/);
  assert.throws(() => check(signed(sig(0), sig(1, names[1], new Uint8Array(32)))), /does not verify/);
  assert.throws(() => check(signed(sig(1))), /quorum is 2/);
  assert.throws(() => check(signed()), /quorum is 2/);
  // the signatures are over this list of this campaign
  assert.throws(() => checkCredentialListSignatures(commission, 'c2', listLine, signed(sig(0), sig(1))), /does not verify/);
  assert.throws(() => check('{"type":"opened"}'), /does not start/);
});

test('member names: the web app accepts and refuses exactly what Rust does (vectors/commission-names.json)', async () => {
  const { readFileSync } = await import('node:fs');
  const { validMemberName } = await import('../src/crypto/manifest.js');
  const v = JSON.parse(readFileSync(new URL('../../vectors/commission-names.json', import.meta.url), 'utf8'));
  assert.ok(v.accepted.length >= 5 && v.refused.length >= 15);
  for (const n of v.accepted) assert.equal(validMemberName(n), true, `refused ${JSON.stringify(n)}`);
  for (const n of v.refused) assert.equal(validMemberName(n), false, `accepted ${JSON.stringify(n)}`);
});

test('list digests: the v1 and v2 labels give crypto\'s digests (vectors/board-v2.json)', async () => {
  const { readFileSync } = await import('node:fs');
  const v = JSON.parse(readFileSync(new URL('../../vectors/board-v2.json', import.meta.url), 'utf8'));
  for (const which of ['list_v1', 'list_v2']) {
    assert.equal(toHex(credentialListDigest(v.campaign_id, v[which].entry)), v[which].digest, which);
  }
  assert.notEqual(toHex(credentialListDigest('other', v.list_v2.entry)), v.list_v2.digest);
  // a v2 list signed by a quorum passes the device's check like a v1 list
  const d2 = credentialListDigest(id, v.list_v2.entry);
  const line = signed(sig(0, names[0], d2), sig(1, names[1], d2));
  assert.deepEqual(checkCredentialListSignatures(commission, id, v.list_v2.entry, line), ['Chair A.', 'Secretary B.']);
  // a signature over the same bytes under the v1 label does not verify for the v2 list
  const { sha256 } = await import('@noble/hashes/sha2.js');
  const enc = new TextEncoder();
  const idb = enc.encode(id);
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(idb.length));
  const asV1 = sha256(new Uint8Array([...enc.encode('dobush/v1/credential-list'), ...len, ...idb, ...enc.encode(v.list_v2.entry)]));
  assert.throws(() => checkCredentialListSignatures(commission, id, v.list_v2.entry, signed(sig(0, names[0], asV1), sig(1, names[1], asV1))), /does not verify/);
});
