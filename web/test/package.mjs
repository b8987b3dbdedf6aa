// The election package a device would load, built from a vector's election info
// (vectors/ballots-*.json → election). Shared by the tests, not a test itself.
import { RECORD_VERSION } from '../src/crypto/dobush.js';

export function packageOf(e, boardKey = '00'.repeat(32)) {
  return {
    version: RECORD_VERSION,
    manifest: e.manifest,
    threshold: e.threshold,
    key_holders: e.key_holders.map((k, i) => ({ index: i + 1, ...k })),
    joint_key: e.joint_key,
    base_hash: e.base_hash,
    extended_hash: e.extended_hash,
    board_key: boardKey,
    commission: e.commission,
  };
}
