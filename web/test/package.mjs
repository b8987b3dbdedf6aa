// The election package a device would load, built from a vector's election info
// (vectors/ballots-*.json → election). Shared by the tests, not a test itself. The board key is
// under the extended hash (02-transcripts.md §Parameters hash): the vector's by default.
import { RECORD_VERSION } from '../src/crypto/dobush.js';

export function packageOf(e, boardKey = e.board_key) {
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
    parameters: e.parameters,
  };
}
