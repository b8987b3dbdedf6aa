// The election manifest (crypto/src/manifest.rs) and the election context
// (crypto/src/context.rs, crypto/src/record.rs `ElectionPackage::context`).
//
// A contest's selections are its options in order, then "against all" if it has it, then
// "blank" if allowed. Validity is one condition on the weighted sum
// v = Σ options + W·(against_all + blank), W = n + 1: v ∈ {min..max} ∪ {W}.

import {
  DecodeError, G, H, concatBytes, decodePointHex, equalBytes, fromHex, toHex, utf8Bytes,
} from './group.js';
import { LABELS, appendElement, challenge32, protocolTranscript } from './protocol.js';
import { fingerprint } from './credential.js';
import { le64 } from './merlin.js';

export const RECORD_VERSION = 'dobush-record/2';

// ---------------------------------------------------------------------------------------------
// Parsing (the shapes serde accepts for the Rust structs).

const isObj = (x) => x !== null && typeof x === 'object' && !Array.isArray(x);

function str(x, what) {
  if (typeof x !== 'string') throw new DecodeError(`${what}: expected a string`);
  return x;
}

function u32(x, what) {
  if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) throw new DecodeError(`${what}: expected a u32`);
  return x;
}

function bool(x, what) {
  if (typeof x !== 'boolean') throw new DecodeError(`${what}: expected a boolean`);
  return x;
}

function arr(x, what) {
  if (!Array.isArray(x)) throw new DecodeError(`${what}: expected an array`);
  return x;
}

/** Compares strings by their UTF-8 bytes (Rust `String` order, hence `BTreeMap` order). */
export function compareUtf8(a, b) {
  const x = utf8Bytes(a);
  const y = utf8Bytes(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

function parseLocalized(x, what) {
  if (!isObj(x)) throw new DecodeError(`${what}: expected an object of texts`);
  const out = {};
  for (const k of Object.keys(x).sort(compareUtf8)) out[k] = str(x[k], `${what}.${k}`);
  return out;
}

/** Parses and validates a manifest (serde shape + `Manifest::validate`). Returns a plain copy. */
export function parseManifest(m) {
  if (!isObj(m)) throw new DecodeError('manifest: expected an object');
  const manifest = {
    campaign_id: str(m.campaign_id, 'manifest.campaign_id'),
    title: parseLocalized(m.title, 'manifest.title'),
    contests: arr(m.contests, 'manifest.contests').map((c, i) => {
      const w = `contest ${i}`;
      if (!isObj(c)) throw new DecodeError(`${w}: expected an object`);
      return {
        id: str(c.id, `${w}.id`),
        title: parseLocalized(c.title, `${w}.title`),
        options: arr(c.options, `${w}.options`).map((o, j) => {
          if (!isObj(o)) throw new DecodeError(`${w}.options[${j}]: expected an object`);
          return {
            id: str(o.id, `${w}.options[${j}].id`),
            name: parseLocalized(o.name, `${w}.options[${j}].name`),
            details: o.details === undefined ? {} : parseLocalized(o.details, `${w}.options[${j}].details`),
          };
        }),
        min_marks: u32(c.min_marks, `${w}.min_marks`),
        max_marks: u32(c.max_marks, `${w}.max_marks`),
        against_all: bool(c.against_all, `${w}.against_all`),
        blank_allowed: bool(c.blank_allowed, `${w}.blank_allowed`),
      };
    }),
    ballot_styles: arr(m.ballot_styles, 'manifest.ballot_styles').map((s, i) => {
      if (!isObj(s)) throw new DecodeError(`ballot style ${i}: expected an object`);
      return {
        id: str(s.id, `ballot style ${i}.id`),
        contests: arr(s.contests, `ballot style ${i}.contests`).map((c, j) => str(c, `ballot style ${i}.contests[${j}]`)),
      };
    }),
  };
  validateManifest(manifest);
  return manifest;
}

// ---------------------------------------------------------------------------------------------
// Contest rules.

export const selectionCount = (c) => c.options.length + (c.against_all ? 1 : 0) + (c.blank_allowed ? 1 : 0);

/** Weight of selection i: 1 for options, W = n + 1 for against-all and blank. */
export const weight = (c, i) => (i < c.options.length ? 1 : c.options.length + 1);

export const hasExclusive = (c) => c.against_all || c.blank_allowed;

/** Allowed values of the weighted sum, increasing. */
export function allowedValues(c) {
  const v = [];
  for (let x = c.min_marks; x <= c.max_marks; x++) v.push(x);
  if (hasExclusive(c)) v.push(c.options.length + 1);
  return v;
}

/** Whether the count proof is a bulletproofs range proof (more than 16 allowed values). */
export const usesRangeProof = (c) => c.max_marks - c.min_marks + 1 + (hasExclusive(c) ? 1 : 0) > 16;

/** What selection i stands for: `{ option: index }`, `'against_all'`, `'blank'` or null. */
export function selectionKind(c, i) {
  const n = c.options.length;
  if (i < n) return { option: i };
  let j = n;
  if (c.against_all) {
    if (i === j) return 'against_all';
    j += 1;
  }
  return c.blank_allowed && i === j ? 'blank' : null;
}

/** Whether a 0/1 selection vector is a valid vote in the contest. */
export function isValidVote(c, selections) {
  if (!Array.isArray(selections) || selections.length !== selectionCount(c)) return false;
  if (selections.some((s) => s !== 0 && s !== 1)) return false;
  const v = selections.reduce((acc, s, i) => acc + s * weight(c, i), 0);
  return allowedValues(c).includes(v);
}

function validateContest(c) {
  const err = (m) => {
    throw new DecodeError(`contest ${JSON.stringify(c.id)}: ${m}`);
  };
  if (c.id === '') err('empty id');
  if (c.options.length === 0) err('no options');
  if (c.min_marks < 1) err('min_marks must be at least 1 (a blank vote is the explicit blank option)');
  if (c.min_marks > c.max_marks || c.max_marks > c.options.length) {
    err('need 1 ≤ min_marks ≤ max_marks ≤ number of options');
  }
  if (usesRangeProof(c) && hasExclusive(c)) {
    err('a contest with more than 16 allowed mark counts cannot have against-all or blank yet');
  }
  const ids = new Set();
  for (const o of c.options) {
    if (o.id === '' || ids.has(o.id)) err('option ids must be non-empty and unique');
    ids.add(o.id);
  }
}

/** `Manifest::validate`. */
export function validateManifest(m) {
  if (m.contests.length === 0 || m.ballot_styles.length === 0) {
    throw new DecodeError('manifest needs contests and ballot styles');
  }
  const ids = new Set();
  for (const c of m.contests) {
    validateContest(c);
    if (ids.has(c.id)) throw new DecodeError(`duplicate contest id ${JSON.stringify(c.id)}`);
    ids.add(c.id);
  }
  const styleIds = new Set();
  for (const s of m.ballot_styles) {
    if (s.id === '' || styleIds.has(s.id)) throw new DecodeError(`bad or duplicate style id ${JSON.stringify(s.id)}`);
    styleIds.add(s.id);
    const seen = new Set();
    if (s.contests.length === 0 || s.contests.some((c) => !ids.has(c) || seen.has(c) || !seen.add(c))) {
      throw new DecodeError(`style ${JSON.stringify(s.id)} must list existing contests, each once`);
    }
  }
}

/** The contest with this id and its manifest index, or null. */
export function findContest(m, id) {
  const index = m.contests.findIndex((c) => c.id === id);
  return index < 0 ? null : { index, contest: m.contests[index] };
}

export const findStyle = (m, id) => m.ballot_styles.find((s) => s.id === id) ?? null;

// ---------------------------------------------------------------------------------------------
// Hashes.

function appendLocalized(t, loc) {
  const keys = Object.keys(loc).sort(compareUtf8);
  t.appendU64('texts', keys.length);
  for (const k of keys) {
    t.appendMessage('lang', k);
    t.appendMessage('text', loc[k]);
  }
}

/** The manifest hash (32 bytes). */
export function manifestHash(m) {
  const t = protocolTranscript(LABELS.DS_MANIFEST);
  t.appendMessage('campaign', m.campaign_id);
  appendLocalized(t, m.title);
  t.appendU64('contests', m.contests.length);
  for (const c of m.contests) {
    t.appendMessage('contest-id', c.id);
    appendLocalized(t, c.title);
    t.appendU64('min', c.min_marks);
    t.appendU64('max', c.max_marks);
    t.appendU64('against-all', c.against_all ? 1 : 0);
    t.appendU64('blank-allowed', c.blank_allowed ? 1 : 0);
    t.appendU64('options', c.options.length);
    for (const o of c.options) {
      t.appendMessage('option-id', o.id);
      appendLocalized(t, o.name);
      appendLocalized(t, o.details);
    }
  }
  t.appendU64('styles', m.ballot_styles.length);
  for (const s of m.ballot_styles) {
    t.appendMessage('style-id', s.id);
    t.appendU64('style-contests', s.contests.length);
    for (const c of s.contests) t.appendMessage('contest-id', c);
  }
  return challenge32(t, 'manifest-hash');
}

/**
 * The base context hash. `keyHolders` are `{ signing_key, comm_key }` elements (or hex
 * strings), numbered 1..n in order.
 */
export function baseHash(campaignId, threshold, keyHolders) {
  const t = protocolTranscript(LABELS.DS_BASE_CONTEXT);
  t.appendMessage('version', LABELS.PROTOCOL_VERSION);
  t.appendMessage('group', LABELS.GROUP_NAME);
  t.appendMessage('G', G.toBytes());
  t.appendMessage('H', H.toBytes());
  t.appendMessage('campaign', campaignId);
  t.appendU64('n', keyHolders.length);
  t.appendU64('t', threshold);
  keyHolders.forEach((k, i) => {
    const el = (x, w) => (typeof x === 'string' ? decodePointHex(x, w) : x);
    t.appendU64('key-holder', i + 1);
    appendElement(t, 'signing-key', el(k.signing_key, `key-holder ${i + 1} signing key`));
    appendElement(t, 'comm-key', el(k.comm_key, `key-holder ${i + 1} comm key`));
  });
  return challenge32(t, 'base-hash');
}

// ---------------------------------------------------------------------------------------------
// The pinned commission (crypto/src/commission.rs, docs/protocol/14-commission.md).

export const COMMISSION_ROLES = ['chair', 'deputy_chair', 'secretary', 'member'];
const QUORUM_ACTS = ['credential_list', 'replacement', 'protocol'];

function exactKeys(x, keys, what) {
  if (!isObj(x)) throw new DecodeError(`${what}: expected an object`);
  const extra = Object.keys(x).filter((k) => !keys.includes(k));
  if (extra.length) throw new DecodeError(`${what}: unknown field ${JSON.stringify(extra[0])}`);
  keys.forEach((k) => { if (!(k in x)) throw new DecodeError(`${what}: missing field ${JSON.stringify(k)}`); });
}

/**
 * A member's name as 14-commission.md allows it: 1–200 characters (code points), words of
 * letters (the Unicode `Alphabetic` property below U+0530: Latin, Greek, Cyrillic), ASCII digits
 * and . - ' ’, separated by single spaces
 * (vectors/commission-names.json holds the cases every implementation agrees on).
 */
export function validMemberName(name) {
  const chars = [...name].length;
  return chars >= 1 && chars <= 200 && /^[\p{Alphabetic}0-9.'’-]+( [\p{Alphabetic}0-9.'’-]+)*$/u.test(name)
    && [...name].every((ch) => ch.codePointAt(0) < 0x530 || ch === '’');
}

/**
 * `Commission` as serde accepts it and `Commission::validate`: 2..64 members with distinct names
 * and keys, known roles, exactly one chair, an `ed25519` identity (any other kind, `x509`
 * included, is refused), and every act's quorum more than half of the members and at most all.
 * Returns `{ members: [{ name, role, key (bytes) }], quorum }`.
 */
export function parseCommission(c) {
  exactKeys(c, ['members', 'quorum'], 'commission');
  const list = arr(c.members, 'commission members');
  const n = list.length;
  if (n < 2 || n > 64) throw new DecodeError(`commission: ${n} members; a commission has 2 to 64`);
  const members = list.map((m, i) => {
    const what = `commission member ${i + 1}`;
    exactKeys(m, ['name', 'role', 'identity'], what);
    const name = str(m.name, `${what} name`);
    if (!validMemberName(name)) {
      throw new DecodeError(`${what}: the name must be 1 to 200 letters, digits and . - ' ’, words separated by single spaces`);
    }
    const role = str(m.role, `${what} role`);
    if (!COMMISSION_ROLES.includes(role)) throw new DecodeError(`${what}: unknown role ${JSON.stringify(role)}`);
    exactKeys(m.identity, ['kind', 'key'], `${what} identity`);
    if (m.identity.kind !== 'ed25519') throw new DecodeError(`${what}: unknown identity kind ${JSON.stringify(m.identity.kind)}`);
    return { name, role, key: fromHex(m.identity.key, 32, `${what} key`) };
  });
  if (new Set(members.map((m) => m.name)).size !== n) throw new DecodeError('commission: a name appears twice');
  if (new Set(members.map((m) => toHex(m.key))).size !== n) throw new DecodeError('commission: an identity appears twice');
  if (members.filter((m) => m.role === 'chair').length !== 1) throw new DecodeError('commission: exactly one member must be the chair');
  exactKeys(c.quorum, QUORUM_ACTS, 'commission quorum');
  const quorum = {};
  QUORUM_ACTS.forEach((act) => {
    const k = u32(c.quorum[act], `commission quorum ${act}`);
    if (k <= Math.floor(n / 2) || k > n) throw new DecodeError(`commission: the quorum of ${act} must be more than half of the ${n} members and at most ${n}`);
    quorum[act] = k;
  });
  return { members, quorum };
}

/** `Commission::hash` (14-commission.md §Binding) of a `parseCommission` result. */
export function commissionHash(c) {
  const t = protocolTranscript(LABELS.DS_COMMISSION);
  t.appendU64('n', c.members.length);
  c.members.forEach((m, i) => {
    t.appendU64('member', i + 1);
    t.appendMessage('name', m.name);
    t.appendMessage('role', m.role);
    t.appendMessage('identity-kind', 'ed25519');
    t.appendMessage('identity', m.key);
  });
  QUORUM_ACTS.forEach((act) => {
    t.appendMessage('quorum-act', act);
    t.appendU64('quorum', c.quorum[act]);
  });
  return challenge32(t, 'commission-hash');
}

export const RE_VOTE_POLICIES = Object.freeze(['forbidden', 'last_counts']);

/**
 * Decodes the package's `parameters` section strictly (`Parameters`, 02-transcripts.md
 * §Parameters hash): an unknown field or re-vote rule is refused.
 */
export function parseParameters(p) {
  exactKeys(p, ['re_vote'], 'parameters');
  exactKeys(p.re_vote, ['policy'], 'parameters re_vote');
  if (!RE_VOTE_POLICIES.includes(p.re_vote.policy)) {
    throw new DecodeError(`parameters: unknown re-vote rule ${JSON.stringify(p.re_vote.policy)}`);
  }
  return Object.freeze({ re_vote: Object.freeze({ policy: p.re_vote.policy }) });
}

/** `parameters_hash` (02-transcripts.md §Parameters hash): the board key (32 bytes) and the parameters. */
export function parametersHash(boardKey, params) {
  const t = protocolTranscript(LABELS.DS_PARAMETERS);
  t.appendMessage('board-key', boardKey);
  t.appendMessage('re-vote-policy', params.re_vote.policy);
  return challenge32(t, 'parameters-hash');
}

/** The extended context hash (it absorbs the commission hash, then the parameters hash). */
export function extendedHash(base, jointKey, mHash, cHash, pHash) {
  const t = protocolTranscript(LABELS.DS_EXTENDED_CONTEXT);
  t.appendMessage('base-hash', base);
  appendElement(t, 'joint-key', jointKey);
  t.appendMessage('manifest-hash', mHash);
  t.appendMessage('commission-hash', cHash);
  t.appendMessage('parameters-hash', pHash);
  return challenge32(t, 'extended-hash');
}

const hash32 = (h, what) => {
  const b = typeof h === 'string' ? fromHex(h, 32, what) : Uint8Array.from(h ?? []);
  if (b.length !== 32) throw new DecodeError(`${what}: expected 32 bytes`);
  return b;
};

/**
 * `ElectionContext::new`: the context a ballot is bound to, from the published base hash
 * (32 bytes or hex), the joint key (hex or element), the manifest (validated here), the
 * pinned commission's hash (`commissionHash`) and the parameters hash (`parametersHash`), each
 * 32 bytes or hex.
 */
export function makeContext({ baseHash: base, jointKey, manifest, commissionHash: cHash, parametersHash: pHash }) {
  const baseBytes = typeof base === 'string' ? fromHex(base, 32, 'base hash') : Uint8Array.from(base);
  const cBytes = hash32(cHash, 'commission hash');
  const pBytes = hash32(pHash, 'parameters hash');
  const key = typeof jointKey === 'string' ? decodePointHex(jointKey, 'joint key') : jointKey;
  const m = parseManifest(manifest);
  const mHash = manifestHash(m);
  // Provers multiply by K many times: a window table makes that several times faster.
  const keyTable = key.point.precompute(8, false);
  return Object.freeze({
    baseHash: baseBytes,
    manifest: m,
    manifestHash: mHash,
    commissionHash: cBytes,
    parametersHash: pBytes,
    jointKey: key,
    keyTable,
    extendedHash: extendedHash(baseBytes, key, mHash, cBytes, pBytes),
  });
}

/**
 * `ElectionPackage::context`: checks the package version, key-holder numbering and the pinned
 * commission (`parseCommission`), recomputes the base and extended hashes and refuses a package
 * whose published hashes differ. The context also carries the parsed `commission`.
 */
export function contextFromPackage(pkg) {
  if (!isObj(pkg)) throw new DecodeError('election package: expected an object');
  if (pkg.version !== RECORD_VERSION) {
    throw new DecodeError(`unknown record version ${JSON.stringify(pkg.version)} (this software reads ${RECORD_VERSION})`);
  }
  const holders = arr(pkg.key_holders, 'key_holders').map((k, i) => {
    if (!isObj(k)) throw new DecodeError(`key-holder ${i + 1}: expected an object`);
    u32(k.index, `key-holder ${i + 1} index`);
    return {
      index: k.index,
      signing_key: decodePointHex(k.signing_key, `key-holder ${i + 1} signing key`),
      comm_key: decodePointHex(k.comm_key, `key-holder ${i + 1} comm key`),
    };
  });
  const threshold = u32(pkg.threshold, 'threshold');
  const published = fromHex(pkg.base_hash, 32, 'base_hash');
  const publishedExt = fromHex(pkg.extended_hash, 32, 'extended_hash');
  const boardKey = fromHex(pkg.board_key, 32, 'board_key');
  const manifest = parseManifest(pkg.manifest);
  if (holders.some((k, i) => k.index !== i + 1)) throw new DecodeError('key-holders must be numbered 1..=n in order');
  if (!equalBytes(baseHash(manifest.campaign_id, threshold, holders), published)) {
    throw new DecodeError('base hash does not match its recomputation');
  }
  const commission = parseCommission(pkg.commission);
  const parameters = parseParameters(pkg.parameters);
  const ctx = makeContext({
    baseHash: published,
    jointKey: pkg.joint_key,
    manifest,
    commissionHash: commissionHash(commission),
    parametersHash: parametersHash(boardKey, parameters),
  });
  if (!equalBytes(ctx.extendedHash, publishedExt)) throw new DecodeError('extended hash does not match its recomputation');
  return Object.freeze({ ...ctx, commission, parameters });
}

/**
 * The election package's fingerprint (`ElectionPackage::fingerprint`, 09-credentials.md
 * §Fingerprint): kind `election-package` over the extended hash of a context that
 * `contextFromPackage` (or `makeContext`) recomputed, for voters to compare with the one the
 * commission publishes on paper.
 */
export const packageFingerprint = (ctx) => fingerprint(LABELS.FP_ELECTION_PACKAGE, ctx.extendedHash);

/**
 * A pinned member's fingerprint (`SigningIdentity::fingerprint`, 14-commission.md §Member
 * fingerprints): kind `commission-member` over LE64(len(kind)) ‖ kind ‖ key, the identity kind
 * being `ed25519`, the only one `parseCommission` accepts.
 */
export function memberFingerprint(member) {
  const kind = utf8Bytes('ed25519');
  return fingerprint(LABELS.FP_COMMISSION_MEMBER, concatBytes(le64(kind.length), kind, member.key));
}

export { toHex };
