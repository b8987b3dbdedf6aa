// Exponential ElGamal (crypto/src/elgamal.rs), the disjunctive Chaum–Pedersen proof
// (crypto/src/proofs/disjunctive.rs) and ballots (crypto/src/ballot.rs): encryption with
// proofs on the voter's device, verification, the Benaloh challenge and tracking codes.
//
// Only narrow contests (at most 16 allowed mark counts: disjunctive count proofs) are
// supported; wide-range contests (bulletproofs count proofs) need the mobile app.

import {
  DecodeError, G, Point, decodePointHex, decodeScalarHex, element, fromHex, mod, mulPublic,
  mulSecret, randomNonzeroScalar, randomScalar, scalarHex, smallMulBase, smallMulBaseSecret, toHex,
} from './group.js';
import {
  LABELS, appendElement, appendScalar, challenge32, challengeScalar, domainSep, protocolTranscript,
} from './protocol.js';
import {
  allowedValues, findContest, findStyle, isValidVote, selectionCount, usesRangeProof, weight,
} from './manifest.js';
import {
  ProofError, credentialFromSeed, sign, signatureBytes, signatureFromJson, signatureToJson, verifySignature,
} from './credential.js';
import { parseJson } from './strict-json.js';

export const WIDE_RANGE_MESSAGE = 'wide-range contests need the mobile app';

/**
 * Where a ballot failed. `kind` is one of 'malformed', 'proof', 'signature', 'opening',
 * 'unsupported'; proof errors also name `contest`, `selection` (or null) and `proof`
 * ('selection' or 'count').
 */
export class BallotError extends Error {
  constructor(kind, message, extra = {}) {
    super(message);
    this.name = 'BallotError';
    this.kind = kind;
    Object.assign(this, extra);
  }
}

const malformed = (m) => new BallotError('malformed', `malformed ballot: ${m}`);
const unsupported = (contestId) =>
  new BallotError('unsupported', `contest ${JSON.stringify(contestId)}: ${WIDE_RANGE_MESSAGE}`, { contest: contestId });

function proofError(contest, selection, proof, e) {
  if (!(e instanceof ProofError)) throw e;
  const where = selection === null ? '' : `, selection ${selection}`;
  return new BallotError('proof', `contest ${JSON.stringify(contest)}${where}: ${proof} proof: ${e.message}`, {
    contest, selection, proof,
  });
}

// ---------------------------------------------------------------------------------------------
// ElGamal: Enc(m; r) = (r·G, m·G + r·K).

/** Encrypts a secret small integer with nonce r (constant-time ladder). `{ alpha, beta }` elements. */
export function encryptWithNonce(ctx, m, r) {
  return {
    alpha: element(mulSecret(G, r)),
    beta: element(smallMulBaseSecret(m).add(mulSecret(ctx.keyTable, r))),
  };
}

/** Re-encryption with public values (openings of challenged ballots). */
function reencryptPublic(ctx, m, r) {
  return {
    alpha: element(mulPublic(G, r)),
    beta: element(smallMulBase(m).add(mulPublic(ctx.jointKey.point, r))),
  };
}

// ---------------------------------------------------------------------------------------------
// Disjunctive proof: branches (A, B, c, z), one per allowed value, with
// z·G = A + c·α, z·K = B + c·(β − v·G), Σ c = challenge.

const MAX_BRANCHES = 16;

function checkValues(values) {
  if (values.length === 0 || values.length > MAX_BRANCHES || values.some((v, i) => i > 0 && values[i - 1] >= v)) {
    throw new ProofError('proof has the wrong shape for its statement: allowed values must be 1..=16 strictly increasing integers');
  }
}

function nonzero(p) {
  if (p.is0()) throw new ProofError('proof has the wrong shape for its statement: identity commitment');
  return element(p);
}

/**
 * Proves that (α, β) = (r·G, value·G + r·K) with value in `values`. The transcript holds the
 * statement. Draws, for each value in order: w for the true one, c then z for every other.
 */
export function proveDisjunctive(t, ctx, alpha, beta, values, value, r, rng) {
  checkValues(values);
  const idx = values.indexOf(value);
  if (idx < 0) throw new ProofError('proof has the wrong shape for its statement: value not among the allowed values');
  const K = ctx.keyTable;
  let w = 0n;
  const branches = values.map((v) => {
    if (v === value) {
      w = randomScalar(rng);
      return { a: nonzero(mulSecret(G, w)), b: nonzero(mulSecret(K, w)), c: 0n, z: 0n };
    }
    // A simulated branch: c and z are published, so variable-time multiplication is fine.
    const c = randomScalar(rng);
    const z = randomScalar(rng);
    const a = nonzero(mulPublic(G, z).subtract(mulPublic(alpha, c)));
    const b = nonzero(mulPublic(K, z).subtract(mulPublic(beta.subtract(smallMulBase(v)), c)));
    return { a, b, c, z };
  });
  for (const br of branches) {
    appendElement(t, 'A', br.a);
    appendElement(t, 'B', br.b);
  }
  const c = challengeScalar(t, 'c');
  const others = branches.reduce((acc, br) => acc + br.c, 0n);
  const real = branches[idx];
  real.c = mod(c - others);
  real.z = mod(w + real.c * r);
  return branches;
}

/** Verifies a disjunctive proof against the statement already in the transcript. */
export function verifyDisjunctive(t, ctx, alpha, beta, values, branches) {
  checkValues(values);
  if (branches.length !== values.length) {
    throw new ProofError('proof has the wrong shape for its statement: number of branches does not match the allowed values');
  }
  for (const br of branches) {
    appendElement(t, 'A', br.a);
    appendElement(t, 'B', br.b);
  }
  const c = challengeScalar(t, 'c');
  if (mod(branches.reduce((acc, br) => acc + br.c, 0n)) !== c) throw new ProofError('challenge does not match the transcript');
  const K = ctx.jointKey.point;
  values.forEach((v, i) => {
    const br = branches[i];
    // z·G = A + c·α
    if (!mulPublic(G, br.z).equals(br.a.point.add(mulPublic(alpha, br.c)))) throw new ProofError('verification equation failed');
    // z·K + c·v·G = B + c·β
    const lhs = mulPublic(K, br.z).add(mulPublic(G, mod(br.c * BigInt(v))));
    if (!lhs.equals(br.b.point.add(mulPublic(beta, br.c)))) throw new ProofError('verification equation failed');
  });
}

// ---------------------------------------------------------------------------------------------
// Transcripts (§Ballot transcripts).

/**
 * What a v1 ballot binds at the credential's position of T_ballot and the body hash. A voter is
 * a function that appends it to a transcript; the v2 ballot's appends cred and tbase there
 * (13-revoting.md §3.7, ballot-v2/ballot.js).
 */
const credentialVoter = (cred) => (t) => appendElement(t, 'credential', cred);

/** T_ballot (§Ballot transcripts): context, ballot id, style, the voter and the key. */
export function ballotTranscript(ctx, id, style, appendVoter) {
  const t = protocolTranscript(LABELS.DS_BALLOT);
  t.appendMessage('context', ctx.extendedHash);
  t.appendMessage('ballot-id', id);
  t.appendMessage('style', style);
  appendVoter(t);
  appendElement(t, 'pk', ctx.jointKey);
  return t;
}

function contestTranscript(tb, index, cts) {
  const t = tb.clone();
  t.appendU64('contest', index);
  t.appendU64('selections', cts.length);
  for (const c of cts) {
    appendElement(t, 'alpha', c.alpha);
    appendElement(t, 'beta', c.beta);
  }
  return t;
}

function appendValues(t, values) {
  t.appendU64('values', values.length);
  for (const v of values) t.appendU64('value', v);
}

function selectionTranscript(tc, j) {
  const t = tc.clone();
  domainSep(t, LABELS.DS_SELECTION);
  t.appendU64('selection', j);
  appendValues(t, [0, 1]);
  return t;
}

function countTranscript(tc, contest) {
  const t = tc.clone();
  domainSep(t, usesRangeProof(contest) ? LABELS.DS_COUNT_RANGE : LABELS.DS_COUNT);
  const k = selectionCount(contest);
  t.appendU64('weights', k);
  for (let i = 0; i < k; i++) t.appendU64('weight', weight(contest, i));
  appendValues(t, allowedValues(contest));
  return t;
}

/** Σ wᵢ·Cᵢ of a contest's ciphertexts, as points (may be the identity). */
function weightedSum(contest, cts) {
  let a = Point.ZERO;
  let b = a;
  cts.forEach((c, i) => {
    const w = weight(contest, i);
    if (w === 1) {
      a = a.add(c.alpha.point);
      b = b.add(c.beta.point);
    } else {
      a = a.add(mulPublic(c.alpha.point, BigInt(w)));
      b = b.add(mulPublic(c.beta.point, BigInt(w)));
    }
  });
  return { a, b };
}

function appendDisjunctive(t, branches) {
  t.appendU64('branches', branches.length);
  for (const br of branches) {
    appendElement(t, 'a', br.a);
    appendElement(t, 'b', br.b);
    appendScalar(t, 'c', br.c);
    appendScalar(t, 'z', br.z);
  }
}

/** The body hash of a parsed ballot: every field except the signature (§Body hash). */
function bodyHashParsed(ctx, b) {
  return bodyHashOf(ctx, b.ballotId, b.style, credentialVoter(b.credential), b.contests);
}

/** §Body hash with the voter at the credential's position (v2: 13-revoting.md §3.7). */
export function bodyHashOf(ctx, ballotId, style, appendVoter, contests) {
  const t = protocolTranscript(LABELS.DS_BALLOT_BODY);
  t.appendMessage('context', ctx.extendedHash);
  t.appendMessage('ballot-id', ballotId);
  t.appendMessage('style', style);
  appendVoter(t);
  t.appendU64('contests', contests.length);
  for (const c of contests) {
    t.appendMessage('contest-id', c.contestId);
    t.appendU64('selections', c.selections.length);
    for (const s of c.selections) {
      appendElement(t, 'alpha', s.alpha);
      appendElement(t, 'beta', s.beta);
      appendDisjunctive(t, s.proof);
    }
    if (c.countProof.kind !== 'disjunctive') throw unsupported(c.contestId);
    t.appendMessage('count-kind', 'disjunctive');
    appendDisjunctive(t, c.countProof.proof);
  }
  return challenge32(t, 'body-hash');
}

function signatureTranscript(ctx, body) {
  const t = protocolTranscript(LABELS.DS_BALLOT_SIGNATURE);
  t.appendMessage('context', ctx.extendedHash);
  t.appendMessage('body-hash', body);
  return t;
}

function trackingCodeBytes(body, sig) {
  const t = protocolTranscript(LABELS.DS_TRACKING_CODE);
  t.appendMessage('body-hash', body);
  t.appendMessage('signature', signatureBytes(sig));
  return challenge32(t, 'tracking-code');
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** The short tracking code: the first 10 bytes in Crockford base32, 4 groups of 4. */
export function trackingCodeShort(code) {
  const bytes = typeof code === 'string' ? fromHex(code, 32, 'tracking code') : code;
  let acc = 0n;
  for (const b of bytes.subarray(0, 10)) acc = (acc << 8n) | BigInt(b);
  let s = '';
  for (let i = 15; i >= 0; i--) s += CROCKFORD[Number((acc >> BigInt(5 * i)) & 31n)];
  return s.match(/.{4}/g).join('-');
}

// ---------------------------------------------------------------------------------------------
// JSON (the serde shapes of crypto/src/ballot.rs).

const isObj = (x) => x !== null && typeof x === 'object' && !Array.isArray(x);
const branchesToJson = (bs) => bs.map((b) => ({ a: toHex(b.a.bytes), b: toHex(b.b.bytes), c: scalarHex(b.c), z: scalarHex(b.z) }));

function ballotToJson(b) {
  return {
    ballot_id: toHex(b.ballotId),
    style: b.style,
    credential: toHex(b.credential.bytes),
    contests: contestsToJson(b.contests),
    signature: signatureToJson(b.signature),
  };
}

/** The contests of a ballot (v1 and v2 alike) in the serde shape of `EncryptedContest`. */
export function contestsToJson(contests) {
  return contests.map((c) => ({
    contest_id: c.contestId,
    selections: c.selections.map((s) => ({
      ciphertext: { alpha: toHex(s.alpha.bytes), beta: toHex(s.beta.bytes) },
      proof: branchesToJson(s.proof),
    })),
    count_proof: { kind: 'disjunctive', proof: branchesToJson(c.countProof.proof) },
  }));
}

/** Refuses an object with a field outside `names` (Rust's `deny_unknown_fields`). */
function onlyFields(x, names, what) {
  for (const k of Object.keys(x)) {
    if (!names.includes(k)) throw new DecodeError(`${what}: unknown field ${JSON.stringify(k)}`);
  }
}

function parseBranches(x, what) {
  if (!Array.isArray(x)) throw new DecodeError(`${what}: expected an array of branches`);
  return x.map((br, i) => {
    if (!isObj(br)) throw new DecodeError(`${what}[${i}]: expected an object`);
    onlyFields(br, ['a', 'b', 'c', 'z'], `${what}[${i}]`);
    return {
      a: decodePointHex(br.a, `${what}[${i}].a`),
      b: decodePointHex(br.b, `${what}[${i}].b`),
      c: decodeScalarHex(br.c, `${what}[${i}].c`),
      z: decodeScalarHex(br.z, `${what}[${i}].z`),
    };
  });
}

const str = (x, what) => {
  if (typeof x !== 'string') throw new DecodeError(`${what}: expected a string`);
  return x;
};
const list = (x, what) => {
  if (!Array.isArray(x)) throw new DecodeError(`${what}: expected an array`);
  return x;
};

/** Parses a ballot's JSON (object or string) strictly: canonical points and scalars only. */
export function parseBallot(json) {
  const x = typeof json === 'string' ? parseJson(json, 'ballot') : json;
  if (!isObj(x)) throw new DecodeError('ballot: expected an object');
  onlyFields(x, ['ballot_id', 'style', 'credential', 'contests', 'signature'], 'ballot');
  return {
    ballotId: fromHex(x.ballot_id, 16, 'ballot_id'),
    style: str(x.style, 'style'),
    credential: decodePointHex(x.credential, 'credential'),
    contests: parseContests(x.contests),
    signature: signatureFromJson(x.signature),
  };
}

/** Parses a ballot's `contests` (v1 and v2 alike) strictly: canonical points and scalars. */
export function parseContests(json) {
  return list(json, 'contests').map((c, i) => {
    if (!isObj(c)) throw new DecodeError(`contests[${i}]: expected an object`);
    onlyFields(c, ['contest_id', 'selections', 'count_proof'], `contests[${i}]`);
    const cid = str(c.contest_id, `contests[${i}].contest_id`);
    const cp = c.count_proof;
    if (!isObj(cp)) throw new DecodeError(`contest ${JSON.stringify(cid)}: count_proof: expected an object`);
    onlyFields(cp, ['kind', 'proof'], `contest ${JSON.stringify(cid)}: count_proof`);
    let countProof;
    if (cp.kind === 'disjunctive') {
      countProof = { kind: 'disjunctive', proof: parseBranches(cp.proof, `contest ${JSON.stringify(cid)} count proof`) };
    } else if (cp.kind === 'range') {
      countProof = { kind: 'range', raw: cp.proof };
    } else {
      throw new DecodeError(`contest ${JSON.stringify(cid)}: unknown count proof kind ${JSON.stringify(cp.kind)}`);
    }
    return {
      contestId: cid,
      selections: list(c.selections, `contest ${JSON.stringify(cid)} selections`).map((s, j) => {
        const w = `contest ${JSON.stringify(cid)} selection ${j}`;
        if (!isObj(s) || !isObj(s.ciphertext)) throw new DecodeError(`${w}: expected a ciphertext and a proof`);
        onlyFields(s, ['ciphertext', 'proof'], w);
        onlyFields(s.ciphertext, ['alpha', 'beta'], `${w} ciphertext`);
        return {
          alpha: decodePointHex(s.ciphertext.alpha, `${w} alpha`),
          beta: decodePointHex(s.ciphertext.beta, `${w} beta`),
          proof: parseBranches(s.proof, `${w} proof`),
        };
      }),
      countProof,
    };
  });
}

/** The body hash (hex) of a ballot given as JSON. */
export function bodyHash(ctx, ballotJson) {
  return toHex(bodyHashParsed(ctx, parseBallot(ballotJson)));
}

// ---------------------------------------------------------------------------------------------
// Encryption.

export function checkPlaintext(ctx, plaintext) {
  if (!isObj(plaintext) || typeof plaintext.style !== 'string' || !Array.isArray(plaintext.contests)) {
    throw malformed('plaintext must be { style, contests: [{ contest_id, selections }] }');
  }
  const style = findStyle(ctx.manifest, plaintext.style);
  if (!style) throw malformed(`unknown ballot style ${JSON.stringify(plaintext.style)}`);
  if (style.contests.length !== plaintext.contests.length
    || style.contests.some((id, i) => !isObj(plaintext.contests[i]) || plaintext.contests[i].contest_id !== id)) {
    throw malformed('contests do not match the ballot style');
  }
  for (const pc of plaintext.contests) {
    const found = findContest(ctx.manifest, pc.contest_id);
    if (!found) throw malformed(`unknown contest ${JSON.stringify(pc.contest_id)}`);
    if (usesRangeProof(found.contest)) throw unsupported(pc.contest_id);
    if (!isValidVote(found.contest, pc.selections)) throw malformed(`not a valid vote in contest ${JSON.stringify(pc.contest_id)}`);
  }
}

/**
 * Encrypts a ballot and signs it with the credential (a 16-byte seed, or a credential from
 * `credentialFromSeed`). `rng` has `fillBytes(Uint8Array)` (use `systemRng` in production).
 *
 * Draws, in this order (§Order of draws): the ballot id (16 bytes); per contest in ballot
 * order: one nonce per selection (64 bytes each, redrawn if zero), each selection's 0/1 proof,
 * the count proof; finally 32 bytes for the signature nonce.
 *
 * Returns `{ ballot, opening, bodyHash, trackingCode, trackingCodeShort }`; `ballot` and
 * `opening` have the JSON shape of Rust's `EncryptedBallot` and `BallotOpening`. Keep the
 * opening only until the voter casts or checks; a checked ballot must never be cast.
 */
export function encryptBallot(ctx, credential, plaintext, rng) {
  const cred = credential instanceof Uint8Array ? credentialFromSeed(credential) : credential;
  checkPlaintext(ctx, plaintext);
  const ballotId = new Uint8Array(16);
  rng.fillBytes(ballotId);
  const tb = ballotTranscript(ctx, ballotId, plaintext.style, credentialVoter(cred.key.public));
  const { contests, openings } = encryptContests(ctx, tb, plaintext, rng);
  const ballot = { ballotId, style: plaintext.style, credential: cred.key.public, contests, signature: null };
  const body = bodyHashParsed(ctx, ballot);
  ballot.signature = sign(cred.key, signatureTranscript(ctx, body), rng);
  const tracking = trackingCodeBytes(body, ballot.signature);
  return {
    ballot: ballotToJson(ballot),
    opening: { ballot_id: toHex(ballotId), contests: openings },
    bodyHash: toHex(body),
    trackingCode: toHex(tracking),
    trackingCodeShort: trackingCodeShort(tracking),
  };
}

/**
 * Encrypts and proves every contest of a checked plaintext on T_ballot `tb` (§Order of draws
 * step 2, shared by v1 and v2). Returns `{ contests (parsed form), openings (JSON form) }`.
 */
export function encryptContests(ctx, tb, plaintext, rng) {
  const contests = [];
  const openings = [];
  for (const pc of plaintext.contests) {
    const { index, contest } = findContest(ctx.manifest, pc.contest_id);
    const marks = pc.selections;
    const nonces = marks.map(() => randomNonzeroScalar(rng));
    const cts = marks.map((m, i) => encryptWithNonce(ctx, m, nonces[i]));
    const tc = contestTranscript(tb, index, cts);
    const selections = cts.map((ct, j) => {
      let proof;
      try {
        proof = proveDisjunctive(selectionTranscript(tc, j), ctx, ct.alpha.point, ct.beta.point, [0, 1], marks[j], nonces[j], rng);
      } catch (e) {
        throw proofError(pc.contest_id, j, 'selection', e);
      }
      return { alpha: ct.alpha, beta: ct.beta, proof };
    });
    const { a, b } = weightedSum(contest, cts);
    const value = marks.reduce((acc, m, i) => acc + m * weight(contest, i), 0);
    const rSum = mod(nonces.reduce((acc, r, i) => acc + BigInt(weight(contest, i)) * r, 0n));
    let proof;
    try {
      proof = proveDisjunctive(countTranscript(tc, contest), ctx, a, b, allowedValues(contest), value, rSum, rng);
    } catch (e) {
      throw proofError(pc.contest_id, null, 'count', e);
    }
    contests.push({ contestId: pc.contest_id, selections, countProof: { kind: 'disjunctive', proof } });
    openings.push(marks.map((m, i) => ({ mark: m, nonce: scalarHex(nonces[i]) })));
  }
  return { contests, openings };
}

// ---------------------------------------------------------------------------------------------
// Verification.

/**
 * Verifies a ballot (JSON object or string) completely: shape against the style, distinct
 * ciphertexts, every 0/1 proof, every count proof and the credential's signature. Returns
 * `{ ballot (parsed), contestIndices, bodyHash, trackingCode, trackingCodeShort }`; throws
 * a BallotError naming what failed. Contests with a bulletproofs count proof are refused
 * (kind 'unsupported').
 */
export function verifyBallot(ctx, ballotJson) {
  let b;
  try {
    b = parseBallot(ballotJson);
  } catch (e) {
    if (e instanceof DecodeError || e instanceof SyntaxError) throw malformed(e.message);
    throw e;
  }
  checkStructure(ctx, b.style, b.contests, []);
  const tb = ballotTranscript(ctx, b.ballotId, b.style, credentialVoter(b.credential));
  const contestIndices = checkContests(ctx, tb, b.contests);
  const body = bodyHashParsed(ctx, b);
  asBallotError('signature', 'credential signature', () => verifySignature(b.credential, signatureTranscript(ctx, body), b.signature));
  return verifiedBallot(b, contestIndices, body, trackingCodeBytes(body, b.signature));
}

/** Runs `check`; a ProofError becomes a BallotError of `kind`, its message prefixed by `label`. */
export function asBallotError(kind, label, check) {
  try {
    check();
  } catch (e) {
    if (e instanceof ProofError) throw new BallotError(kind, `${label}: ${e.message}`);
    throw e;
  }
}

/** What a ballot's verification returns (v1 and v2). */
export function verifiedBallot(b, contestIndices, body, tracking) {
  return {
    ballot: b,
    contestIndices,
    bodyHash: toHex(body),
    trackingCode: toHex(tracking),
    trackingCodeShort: trackingCodeShort(tracking),
  };
}

/**
 * The contests are the style's (§Verification checks 3–5) and the α's of every ciphertext and
 * of `moreAlphas` (v2: cred.α, tbase.α) are pairwise distinct (check 7), before any proof.
 */
export function checkStructure(ctx, styleId, contests, moreAlphas) {
  const style = findStyle(ctx.manifest, styleId);
  if (!style) throw malformed(`unknown ballot style ${JSON.stringify(styleId)}`);
  if (style.contests.length !== contests.length || style.contests.some((id, i) => contests[i].contestId !== id)) {
    throw malformed('contests do not match the ballot style');
  }
  const alphas = new Set();
  const all = contests.flatMap((c) => c.selections.map((s) => s.alpha)).concat(moreAlphas);
  for (const alpha of all) {
    const key = toHex(alpha.bytes);
    if (alphas.has(key)) throw malformed('two ciphertexts share their first component (reused randomness)');
    alphas.add(key);
  }
}

/** Every contest's proofs on T_ballot `tb` (§Verification checks 5, 6, 8, 9); returns the manifest indices. */
export function checkContests(ctx, tb, contests) {
  const contestIndices = [];
  for (const c of contests) {
    const found = findContest(ctx.manifest, c.contestId);
    if (!found) throw malformed(`unknown contest ${JSON.stringify(c.contestId)}`);
    const { index, contest } = found;
    if (c.selections.length !== selectionCount(contest)) {
      throw malformed(`contest ${JSON.stringify(c.contestId)}: ${c.selections.length} selections, the manifest has ${selectionCount(contest)}`);
    }
    const tc = contestTranscript(tb, index, c.selections);
    c.selections.forEach((s, j) => {
      try {
        verifyDisjunctive(selectionTranscript(tc, j), ctx, s.alpha.point, s.beta.point, [0, 1], s.proof);
      } catch (e) {
        throw proofError(c.contestId, j, 'selection', e);
      }
    });
    const range = usesRangeProof(contest);
    if ((c.countProof.kind === 'range') !== range) {
      throw proofError(c.contestId, null, 'count', new ProofError("proof has the wrong shape for its statement: count proof kind does not match the contest's range"));
    }
    if (range) throw unsupported(c.contestId);
    const { a, b: sb } = weightedSum(contest, c.selections);
    try {
      verifyDisjunctive(countTranscript(tc, contest), ctx, a, sb, allowedValues(contest), c.countProof.proof);
    } catch (e) {
      throw proofError(c.contestId, null, 'count', e);
    }
    contestIndices.push(index);
  }
  return contestIndices;
}

/**
 * Checks a challenged ballot's opening (Benaloh): the ballot verifies, every ciphertext
 * re-encrypts from the revealed mark and nonce to exactly the published one, and the marks are
 * a valid vote. Returns the plaintext `{ style, contests: [{ contest_id, selections }] }` for
 * the voter to compare with what they chose.
 */
export function verifyChallengedBallot(ctx, ballotJson, openingJson) {
  return openContests(ctx, verifyBallot(ctx, ballotJson), openingJson);
}

/** The opening checks of §Benaloh challenge on a verified ballot (v1 or v2: `{ ballot, contestIndices }`). */
export function openContests(ctx, verified, openingJson) {
  const b = verified.ballot;
  const bad = (m) => new BallotError('opening', `opening does not match the ballot: ${m}`);
  const o = typeof openingJson === 'string' ? parseJson(openingJson, 'opening') : openingJson;
  // Parse the whole opening first (as serde does): canonical nonces, marks in 0..=255.
  let opening;
  try {
    if (!isObj(o) || !Array.isArray(o.contests) || o.contests.some((c) => !Array.isArray(c))) {
      throw new DecodeError('opening must be { ballot_id, contests: [[{ mark, nonce }]] }');
    }
    onlyFields(o, ['ballot_id', 'contests'], 'opening');
    o.contests.forEach((oc, ci) => oc.forEach((so, j) => {
      if (isObj(so)) onlyFields(so, ['mark', 'nonce'], `opening contest ${ci}, selection ${j}`);
    }));
    opening = {
      ballotId: fromHex(o.ballot_id, 16, 'opening ballot_id'),
      contests: o.contests.map((oc, ci) => oc.map((so, j) => {
        const w = `opening contest ${ci}, selection ${j}`;
        if (!isObj(so) || !Number.isInteger(so.mark) || so.mark < 0 || so.mark > 255) {
          throw new DecodeError(`${w}: mark must be an integer 0..=255`);
        }
        return { mark: so.mark, nonce: decodeScalarHex(so.nonce, `${w}: nonce`) };
      })),
    };
  } catch (e) {
    if (e instanceof DecodeError) throw malformed(e.message);
    throw e;
  }
  if (toHex(opening.ballotId) !== toHex(b.ballotId)) throw bad('ballot id differs');
  if (opening.contests.length !== b.contests.length) throw bad('number of contests differs');
  const contests = b.contests.map((c, ci) => {
    const contest = ctx.manifest.contests[verified.contestIndices[ci]];
    const oc = opening.contests[ci];
    if (oc.length !== c.selections.length) throw bad(`contest ${JSON.stringify(c.contestId)}: number of selections differs`);
    const marks = c.selections.map((s, j) => {
      const { mark, nonce } = oc[j];
      if (mark > 1) throw bad(`contest ${JSON.stringify(c.contestId)}, selection ${j}: mark is not 0 or 1`);
      if (nonce === 0n) throw malformed('zero is not a valid secret key');
      let re;
      try {
        re = reencryptPublic(ctx, mark, nonce);
      } catch (e) {
        if (e instanceof DecodeError) throw malformed(e.message);
        throw e;
      }
      if (toHex(re.alpha.bytes) !== toHex(s.alpha.bytes) || toHex(re.beta.bytes) !== toHex(s.beta.bytes)) {
        throw bad(`contest ${JSON.stringify(c.contestId)}, selection ${j}: the opening does not re-encrypt to the ciphertext`);
      }
      return mark;
    });
    if (!isValidVote(contest, marks)) throw bad(`contest ${JSON.stringify(c.contestId)}: the opened marks are not a valid vote`);
    return { contest_id: c.contestId, selections: marks };
  });
  return { style: b.style, contests };
}
