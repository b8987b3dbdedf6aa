// Strict JSON (record-format.md §Encoding, J1): a repeated key is refused at any depth, where
// JSON.parse would keep the last value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseJson } from '../src/crypto/strict-json.js';
import { parseBallot } from '../src/crypto/ballot.js';

test('reads what JSON.parse reads', () => {
  for (const t of ['{}', '[]', '{"a":[1,{"b":{}},"}\\"{"],"c":{"a":1}}', '[{"a":1},{"a":2}]', '"x"', '{"a":{},"b":[]}']) {
    assert.deepEqual(parseJson(t), JSON.parse(t));
  }
});

test('a repeated key is refused at any depth', () => {
  for (const t of [
    '{"a":1,"a":1}',
    '{"x":{"a":1,"b":2,"a":3}}',
    '[0,{"type":"ballot","type":"challenged"}]',
    '{"type":"a","t\\u0079pe":"b"}',
    '{"a":{},"a":[]}',
  ]) {
    assert.doesNotThrow(() => JSON.parse(t));
    assert.throws(() => parseJson(t), /repeats/, t);
  }
});

test('a ballot with a repeated field is refused', () => {
  const v = JSON.parse(readFileSync(new URL('../../vectors/ballots-pilot.json', import.meta.url)));
  const first = JSON.stringify(v.ballots[0].ballot);
  assert.ok(first && first.startsWith('{"ballot_id":'), 'a vector ballot');
  const forged = first.replace('{"ballot_id":', `{"ballot_id":"${'00'.repeat(16)}","ballot_id":`);
  assert.throws(() => parseBallot(forged), /repeats/);
});

test('a ballot or an opening with a field Rust does not know is refused (review F6)', async () => {
  const { verifyBallot, openContests } = await import('../src/crypto/ballot.js');
  const v = JSON.parse(readFileSync(new URL('../../vectors/ballots-pilot.json', import.meta.url)));
  const ballot = structuredClone(v.ballots[0].ballot);
  assert.doesNotThrow(() => parseBallot(JSON.stringify(ballot)));
  assert.throws(() => parseBallot(JSON.stringify({ ...ballot, x: 1 })), /unknown field "x"/);
  assert.throws(() => parseBallot({ ...ballot, x: 1 }), /unknown field "x"/);
  assert.ok(typeof verifyBallot === 'function' && typeof openContests === 'function');
});
