// The election package pinned on the device (web/app/package-pin.js): the first package accepted
// for a campaign is remembered; the same package is accepted again; a self-consistent package with
// another fingerprint (a server switching packages) or another board key is refused, and so is a
// package whose hashes are not its own or that is another campaign's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import * as D from '../src/crypto/dobush.js';
import { PackageSwitchedError, acceptPackage, pinKey } from '../app/package-pin.js';
import { packageOf } from './package.mjs';

const pilot = JSON.parse(readFileSync(new URL('../../vectors/ballots-pilot.json', import.meta.url), 'utf8'));

/** localStorage's interface over a Map. */
class MemoryStorage {
  constructor() { this.m = new Map(); }
  getItem(k) { return this.m.has(k) ? this.m.get(k) : null; }
  setItem(k, v) { this.m.set(k, String(v)); }
  removeItem(k) { this.m.delete(k); }
}

/** The vector's election as a package, optionally changed and its hashes recomputed. */
function changed(change = (e) => e, boardKey = pilot.election.board_key) {
  const e = change(structuredClone(pilot.election));
  e.base_hash = D.toHex(D.baseHash(e.manifest.campaign_id, e.threshold, e.key_holders));
  const parametersHash = D.parametersHash(D.fromHex(boardKey, 32), D.parseParameters(e.parameters));
  e.extended_hash = D.toHex(D.makeContext({ baseHash: e.base_hash, jointKey: e.joint_key, manifest: e.manifest, commissionHash: e.commission_hash, parametersHash }).extendedHash);
  return packageOf(e, boardKey);
}

const campaign = pilot.election.manifest.campaign_id;

test('the first package is pinned with its fingerprint; the same one is accepted again', () => {
  const s = new MemoryStorage();
  const first = acceptPackage(s, campaign, changed());
  assert.equal(first.fingerprint, pilot.election.package_fingerprint);
  assert.equal(first.pinnedNow, true);
  assert.deepEqual(JSON.parse(s.getItem(pinKey(campaign))), { fingerprint: first.fingerprint, board_key: pilot.election.board_key });
  const again = acceptPackage(s, campaign, changed());
  assert.equal(again.pinnedNow, false);
  assert.equal(again.fingerprint, first.fingerprint);
  // one spelling of the board key, as in Rust: upper-case hex is refused, not normalised
  const upper = { ...changed(), board_key: pilot.election.board_key.toUpperCase() };
  assert.throws(() => acceptPackage(s, campaign, upper), D.DecodeError);
});

test('a later, self-consistent package with another fingerprint or board key is refused', () => {
  const s = new MemoryStorage();
  acceptPackage(s, campaign, changed());
  const switched = [
    changed((e) => { e.manifest.contests[0].options[0].name.ru = 'Другой'; return e; }),
    changed((e) => { e.joint_key = e.key_holders[0].signing_key; return e; }),
    changed((e) => { e.threshold = 2; return e; }),
    changed(undefined, '22'.repeat(32)),
  ];
  for (const [i, pkg] of switched.entries()) {
    D.contextFromPackage(pkg); // each is a valid package on its own
    assert.throws(() => acceptPackage(s, campaign, pkg), (e) => {
      assert.ok(e instanceof PackageSwitchedError, `switch ${i}: ${e}`);
      assert.equal(e.pinned.fingerprint, pilot.election.package_fingerprint);
      return true;
    });
  }
  // the pin is unchanged: the first package is still accepted
  acceptPackage(s, campaign, changed());
  // another campaign pins its own
  const other = changed((e) => { e.manifest.campaign_id = 'other'; return e; });
  assert.equal(acceptPackage(s, 'other', other).pinnedNow, true);
});

test('a package whose hashes are not its own, or another campaign\'s, is refused and not pinned', () => {
  const s = new MemoryStorage();
  const bad = changed();
  bad.extended_hash = bad.base_hash;
  assert.throws(() => acceptPackage(s, campaign, bad), /extended hash/);
  const other = changed((e) => { e.manifest.campaign_id = 'other'; return e; });
  assert.throws(() => acceptPackage(s, campaign, other), /for campaign "other"/);
  assert.equal(s.getItem(pinKey(campaign)), null);
});
