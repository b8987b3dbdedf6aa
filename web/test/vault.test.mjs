// The credential seed under a PIN (web/app/vault.js): Argon2id (checked against RFC 9106's test
// vector) and AES-256-GCM; the right PIN opens the record, a wrong one or an altered record does
// not; weak PINs are refused; the UI's attempt limit; an earlier version's plain seed is read for
// migration. Small KDF costs keep the tests fast, except one round trip at the real cost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { argon2id } from '@noble/hashes/argon2.js';

import * as D from '../src/crypto/dobush.js';
import {
  KDF_PARAMS, MAX_FAILURES, FREE_ATTEMPTS, PinError, VaultError, WrongPinError, checkNewPin, openSeed, pinGate, readStored,
  sealSeed, withFailure, withSuccess,
} from '../app/vault.js';

const fast = { params: { m: 64, t: 1, p: 1 } };
const seed = () => Uint8Array.from({ length: 16 }, (_, i) => i + 1);
const campaign = 'samarkandek-2023';

test('Argon2id of @noble/hashes gives RFC 9106 §5.3\'s tag', () => {
  const tag = argon2id(new Uint8Array(32).fill(1), new Uint8Array(16).fill(2), {
    t: 3, m: 32, p: 4, key: new Uint8Array(8).fill(3), personalization: new Uint8Array(12).fill(4), dkLen: 32,
  });
  assert.equal(D.toHex(tag), '0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659');
});

test('PINs shorter than 6 digits, not digits, or trivial are refused', () => {
  for (const [pin, code] of [
    ['12345', 'short'], ['', 'digits'], ['12a456', 'digits'], ['１２３４５６', 'digits'], ['123 456', 'digits'],
    ['000000', 'trivial'], ['99999999', 'trivial'], ['123456', 'trivial'], ['234567', 'trivial'], ['9876543210', 'trivial'],
    ['890123', 'trivial'], ['1'.repeat(33), 'long'],
  ]) {
    assert.throws(() => checkNewPin(pin), (e) => e instanceof PinError && e.code === code, `${pin} → ${code}`);
  }
  for (const pin of ['271828', '104729', '5550123', '31415926535897932384626433832795']) checkNewPin(pin);
});

test('the right PIN opens the sealed seed; the record holds no PIN, key or seed in clear', async () => {
  const s = seed();
  const cred = D.credentialFromSeed(s);
  const record = await sealSeed(s, '271828', campaign, fast);
  assert.deepEqual(s, seed(), 'sealing leaves the caller\'s seed alone');
  assert.equal(record.public, cred.public);
  assert.deepEqual({ kdf: record.kdf, m: record.m, t: record.t, p: record.p, failures: record.failures }, { kdf: 'argon2id', ...fast.params, failures: 0 });
  const text = JSON.stringify(record);
  assert.ok(!text.includes('271828') && !text.includes(D.toHex(s)));
  assert.deepEqual(readStored(text), { record });
  const opened = await openSeed(readStored(text).record, '271828', campaign);
  assert.equal(opened.public, cred.public);
  assert.deepEqual(opened.seed, s);
  // two seals of one seed differ (fresh salt and nonce)
  const again = await sealSeed(s, '271828', campaign, fast);
  assert.notEqual(again.salt, record.salt);
  assert.notEqual(again.ct, record.ct);
});

test('a wrong PIN, another campaign or an altered record does not open it', async () => {
  const record = await sealSeed(seed(), '271828', campaign, fast);
  await assert.rejects(openSeed(record, '271829', campaign), WrongPinError);
  await assert.rejects(openSeed(record, '271828', 'another-campaign'), WrongPinError);
  const flip = (h) => (h[0] === '0' ? '1' : '0') + h.slice(1);
  for (const k of ['salt', 'iv', 'ct']) await assert.rejects(openSeed({ ...record, [k]: flip(record[k]) }, '271828', campaign), WrongPinError, k);
  await assert.rejects(openSeed({ ...record, t: 2 }, '271828', campaign), WrongPinError, 'other KDF cost');
  // the public credential is bound too: another voter's key cannot be shown beside this seed
  const other = D.credentialFromSeed(new Uint8Array(16).fill(9)).public;
  await assert.rejects(openSeed({ ...record, public: other }, '271828', campaign), WrongPinError);
  for (const bad of [{ ...record, m: 2 ** 30 }, { ...record, v: 2 }, { ...record, kdf: 'scrypt' }, { ...record, ct: 'zz' }]) {
    await assert.rejects(openSeed(bad, '271828', campaign), VaultError);
  }
  await assert.rejects(sealSeed(seed(), '123456', campaign, fast), PinError);
});

test('the real parameters: Argon2id with 19 MiB and 2 passes round-trips', async () => {
  assert.deepEqual({ ...KDF_PARAMS }, { m: 19456, t: 2, p: 1 });
  const record = await sealSeed(seed(), '104729', campaign);
  assert.deepEqual([record.m, record.t, record.p], [19456, 2, 1]);
  assert.deepEqual((await openSeed(record, '104729', campaign)).seed, seed());
});

test('the UI limit: free tries, then waits that double, then a lock', () => {
  let r = { failures: 0 };
  const now = 1_000_000;
  for (let i = 0; i < FREE_ATTEMPTS; i++) {
    assert.deepEqual(pinGate(r, now), { locked: false, waitMs: 0, left: MAX_FAILURES - i });
    r = withFailure(r, now);
  }
  assert.equal(pinGate(r, now).waitMs, 30_000);
  assert.equal(pinGate(r, now + 30_000).waitMs, 0);
  r = withFailure(r, now);
  assert.equal(pinGate(r, now).waitMs, 60_000);
  while (r.failures < MAX_FAILURES) r = withFailure(r, now);
  assert.equal(pinGate(r, now + 10 ** 12).locked, true, 'no wait lifts the lock');
  assert.deepEqual(withSuccess(r), { failures: 0 });
});

test('an earlier version\'s plain seed is read as legacy; anything else unreadable is refused', () => {
  const legacy = readStored(D.toHex(seed()));
  assert.deepEqual(legacy.legacy, seed());
  assert.equal(readStored(null), null);
  for (const bad of ['', 'xyz', '{"v":1}', D.toHex(seed()).toUpperCase()]) assert.throws(() => readStored(bad), VaultError, bad);
});
