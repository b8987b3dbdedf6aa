// The election package pinned on this device (issue 18 "Trust anchors"; docs/threat-model.md
// §The web app's trust anchors). The app accepts a package only after recomputing its context
// hashes (`contextFromPackage`), shows its fingerprint (09-credentials.md §Fingerprint, kind
// `election-package` over the extended hash) for the voter to compare with the commission's
// paper publication, and remembers, per campaign, the first package it accepted. A later
// package for the same campaign with another fingerprint or another board key is refused: that
// is a server switching packages under a voter. The board key is pinned beside the fingerprint
// because the extended hash does not cover it (it covers the manifest, the joint key and the
// key-holders).

import { DecodeError, contextFromPackage, packageFingerprint } from '../src/crypto/dobush.js';

/** A package for a campaign whose pinned package differs. */
export class PackageSwitchedError extends Error {
  constructor(pinned, served) {
    super(`the server sent another election package for this campaign than the one this device accepted first (fingerprint ${pinned.fingerprint}, now ${served.fingerprint}${pinned.board_key === served.board_key ? '' : '; another board key'})`);
    this.name = 'PackageSwitchedError';
    this.pinned = pinned;
    this.served = served;
  }
}

export const pinKey = (campaign) => `dobush.package.${campaign}`;

const isFingerprint = (x) => typeof x === 'string' && /^[0-9a-f]{4}(-[0-9a-f]{4}){4}$/.test(x);
const isHex32 = (x) => typeof x === 'string' && /^[0-9a-f]{64}$/.test(x);

function readPin(storage, campaign) {
  let pin;
  try {
    pin = JSON.parse(storage.getItem(pinKey(campaign)) ?? 'null');
  } catch {
    return null;
  }
  // Only whoever holds the device storage can damage the pin, and they could as well delete it:
  // an unreadable pin counts as none.
  return pin && isFingerprint(pin.fingerprint) && isHex32(pin.board_key) ? pin : null;
}

/**
 * Accepts the election package `pkg` served for `campaign`: checks it (`contextFromPackage`, and
 * that it is this campaign's), pins it in `storage` (localStorage or the like) if nothing is pinned
 * yet, and refuses it with a PackageSwitchedError if another one is. Returns
 * `{ ctx, fingerprint, pinnedNow }`.
 */
export function acceptPackage(storage, campaign, pkg) {
  const ctx = contextFromPackage(pkg);
  if (ctx.manifest.campaign_id !== campaign) {
    throw new DecodeError(`the election package is for campaign ${JSON.stringify(ctx.manifest.campaign_id)}, not ${JSON.stringify(campaign)}`);
  }
  const served = { fingerprint: packageFingerprint(ctx), board_key: pkg.board_key };
  const pinned = readPin(storage, campaign);
  if (pinned) {
    if (pinned.fingerprint !== served.fingerprint || pinned.board_key !== served.board_key) {
      throw new PackageSwitchedError(pinned, served);
    }
    return { ctx, fingerprint: served.fingerprint, pinnedNow: false };
  }
  storage.setItem(pinKey(campaign), JSON.stringify(served));
  return { ctx, fingerprint: served.fingerprint, pinnedNow: true };
}
