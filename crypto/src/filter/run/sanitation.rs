//! Rounds 2–4, sanitation (`13-revoting.md` §7.3): which entries are malformed, the
//! coordinator's claims of their plaintexts, the public judgement of each claim, and one
//! conjunctive plaintext-equivalence test per named entry (rounds 3–4, each blinded under its
//! own fresh keys) that shows the whole claim is the entry's plaintext.
//!
//! A row (`ballot` or `override`) is malformed if its X is not a surviving credential of the
//! style or its V is not TB(X). A replacement is malformed if its `old_tbase` encrypts no
//! TB(X) of a credential listed or replaced-in, by a replacement that is not malformed, before
//! it (board order). The surviving credentials are the list and the `new` of every replacement
//! that is not malformed. The coordinator decides this from its private view (§7.2); everyone
//! else checks it for the named entries only, taking every unnamed replacement as surviving.

use std::collections::{BTreeMap, HashMap, HashSet};

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use merlin::Transcript;

use super::inputs::{Inputs, tag_base};
use super::messages::{Claim, Plain};
use super::{RunError, Setup, fail, round};
use crate::elgamal::{Ciphertext, RawCiphertext};
use crate::group::GroupElement;
use crate::labels;
use crate::transcript::TranscriptProtocol;

/// What kind of board entry a named index is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// A `ballot`.
    Ballot,
    /// An `override`.
    Override,
    /// A `credential_replaced`.
    Replacement,
}

/// An entry dropped by sanitation, reported with its plaintexts (§7.3): the claims, once
/// rounds 3–4 have shown them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed {
    /// Its board index.
    pub index: u64,
    /// Its kind.
    pub kind: EntryKind,
    /// A row's X (`None` for a replacement).
    pub credential: Option<RistrettoPoint>,
    /// A row's V, or a replacement's old tag base.
    pub tag_base: RistrettoPoint,
}

/// A named entry with its ciphertexts and the plaintexts the coordinator claims for them: a
/// row's `cred` then `tbase`, or a replacement's `old_tbase`.
#[derive(Clone, Debug)]
pub struct Named {
    /// The board index.
    pub index: u64,
    /// The kind.
    pub kind: EntryKind,
    /// The ciphertexts, X before V.
    pub cts: Vec<Ciphertext>,
    /// The claimed plaintexts, one per ciphertext.
    pub claims: Vec<RistrettoPoint>,
}

/// Round 2's claims resolved against the inputs: strictly ascending board indices, each of
/// exactly one entry of the style, a row's with a claimed credential and tag base, a
/// replacement's with a claimed old tag base only, every claim a canonical encoding.
pub fn resolve(inputs: &Inputs, claims: &[Claim]) -> Result<Vec<Named>, RunError> {
    let mut entries: HashMap<u64, Vec<(EntryKind, Vec<Ciphertext>)>> = HashMap::new();
    for b in &inputs.ballots {
        entries.entry(b.index).or_default().push((EntryKind::Ballot, vec![b.cred, b.tbase]));
    }
    for o in &inputs.overrides {
        entries.entry(o.index).or_default().push((EntryKind::Override, vec![o.cred, o.tbase]));
    }
    for r in &inputs.replacements {
        entries.entry(r.index).or_default().push((EntryKind::Replacement, vec![r.old_tbase]));
    }
    let mut out = Vec::with_capacity(claims.len());
    let mut last = None;
    for claim in claims {
        let index = claim.index;
        let at = format!("named entry {index}");
        if last.is_some_and(|l| l >= index) {
            return Err(fail(round::NAMES, at, "board indices must be strictly ascending"));
        }
        last = Some(index);
        let (kind, cts) = match entries.remove(&index).as_deref() {
            Some([(kind, cts)]) => (*kind, cts.clone()),
            Some([]) | None => return Err(fail(round::NAMES, at, "no ballot, override or replacement")),
            Some(_) => return Err(fail(round::NAMES, at, "the index names two entries")),
        };
        let decode = |p: &Plain| p.point().ok_or_else(|| fail(round::NAMES, at.as_str(), "a claim is no point"));
        let claims = match (kind, &claim.credential) {
            (EntryKind::Replacement, None) => vec![decode(&claim.tag_base)?],
            (EntryKind::Replacement, Some(_)) => {
                return Err(fail(round::NAMES, at, "a replacement's claim has no credential"));
            }
            (_, Some(x)) => vec![decode(x)?, decode(&claim.tag_base)?],
            (_, None) => return Err(fail(round::NAMES, at, "a row's claim needs its credential")),
        };
        out.push(Named { index, kind, cts, claims });
    }
    Ok(out)
}

/// SN-0 (§7.3): the weight of every named entry's conjunctive test, from a transcript of the
/// whole round 2 (so no claim can be chosen knowing a weight). A replacement's test has one
/// ciphertext and no weight (its entry in the result is zero and unused).
pub fn weights(context: &[u8; 32], run: u64, style: &str, named: &[Named]) -> Vec<Scalar> {
    let mut t = Transcript::protocol(labels::DS_SANITIZE_WEIGHTS);
    t.append_message(labels::L_CONTEXT, context);
    t.append_u64(labels::L_RUN, run);
    t.append_str(labels::L_STYLE, style);
    t.append_u64(labels::L_COUNT, named.len() as u64);
    for n in named {
        t.append_u64(labels::L_INDEX, n.index);
        let enc = |p: &RistrettoPoint| p.compress().to_bytes().to_vec();
        let (x, v) = match n.claims.as_slice() {
            [x, v] => (enc(x), enc(v)),
            [v] => (Vec::new(), enc(v)),
            _ => (Vec::new(), Vec::new()),
        };
        t.append_message(labels::L_CREDENTIAL, &x);
        t.append_message(labels::L_TAG_BASE, &v);
    }
    named.iter().map(|n| if n.cts.len() == 2 { t.challenge_scalar(labels::L_W) } else { Scalar::ZERO }).collect()
}

/// SN-1 (§7.3): each named entry's test ciphertext, which encrypts the identity exactly when
/// the claim is the entry's plaintext (up to probability 1/ℓ over w): a row's
/// `(cred − (0, X′)) + w·(tbase − (0, V′))`, a replacement's `old_tbase − (0, V′)`. A test
/// whose α or β is the identity is the coordinator's fault (its claim is provably false or
/// makes the blinding shares the identity), located at the entry.
pub fn tests(named: &[Named], w: &[Scalar], round: u8) -> Result<Vec<RawCiphertext>, RunError> {
    let mut out = Vec::with_capacity(named.len());
    for (n, w) in named.iter().zip(w) {
        let mut d = RawCiphertext::zero();
        for (i, (c, x)) in n.cts.iter().zip(&n.claims).enumerate() {
            let weight = if i == 0 { Scalar::ONE } else { *w };
            d.alpha += weight * c.alpha.point();
            d.beta += weight * (c.beta.point() - x);
        }
        if d.alpha.is_identity() || d.beta.is_identity() {
            return Err(fail(round, format!("named entry {}", n.index), "the claim gives a test of the identity"));
        }
        out.push(d);
    }
    Ok(out)
}

/// The credentials rows may carry, X → TB(X), built in board order.
struct Credentials<'a> {
    base_hash: &'a [u8; 32],
    tag_bases: HashMap<[u8; 32], [u8; 32]>,
    known: HashSet<[u8; 32]>,
}

impl<'a> Credentials<'a> {
    fn listed(setup: &'a Setup, inputs: &Inputs) -> Self {
        let mut c = Self { base_hash: &setup.base_hash, tag_bases: HashMap::new(), known: HashSet::new() };
        for x in &inputs.list {
            c.admit(x);
        }
        c
    }

    fn admit(&mut self, x: &GroupElement) {
        let tb = tag_base(self.base_hash, x).compress().to_bytes();
        self.tag_bases.insert(*x.as_bytes(), tb);
        self.known.insert(tb);
    }

    fn row_is_well_formed(&self, x: &[u8; 32], v: &[u8; 32]) -> bool {
        self.tag_bases.get(x) == Some(v)
    }
}

/// The coordinator's round 2: a claim for every malformed entry, by board index ascending,
/// from its private view (every real row's X and V in input order, every replacement's old
/// tag base), each claim the entry's plaintexts.
pub fn name(setup: &Setup, inputs: &Inputs, row_x: &[[u8; 32]], row_v: &[[u8; 32]], old_tb: &[[u8; 32]]) -> Vec<Claim> {
    let mut c = Credentials::listed(setup, inputs);
    let mut named = BTreeMap::new();
    for (r, tb) in inputs.replacements.iter().zip(old_tb) {
        if c.known.contains(tb) {
            c.admit(&r.new);
        } else {
            named.insert(r.index, Claim { index: r.index, credential: None, tag_base: Plain(*tb) });
        }
    }
    let indices = inputs.ballots.iter().map(|b| b.index).chain(inputs.overrides.iter().map(|o| o.index));
    for ((index, x), v) in indices.zip(row_x).zip(row_v) {
        if !c.row_is_well_formed(x, v) {
            named.insert(index, Claim { index, credential: Some(Plain(*x)), tag_base: Plain(*v) });
        }
    }
    named.into_values().collect()
}

/// Everyone's round 2 judgement (§7.3): every named entry's claimed plaintexts must be
/// malformed; a well-formed claim makes the run invalid. Returns the report (board order);
/// rounds 3–4 then show that the claims are the plaintexts.
pub fn judge(setup: &Setup, inputs: &Inputs, named: &[Named]) -> Result<Vec<Malformed>, RunError> {
    let names: HashMap<u64, &Named> = named.iter().map(|n| (n.index, n)).collect();
    let well_formed = |index: u64, what: &str| {
        fail(
            round::NAMES,
            format!("named entry {index}"),
            format!("the claimed {what} is well-formed: it is not malformed"),
        )
    };
    let mut c = Credentials::listed(setup, inputs);
    let mut out = Vec::with_capacity(named.len());
    for r in &inputs.replacements {
        let Some(n) = names.get(&r.index) else {
            c.admit(&r.new);
            continue;
        };
        let tb = n.claims.first().copied().unwrap_or_default();
        if c.known.contains(&tb.compress().to_bytes()) {
            return Err(well_formed(r.index, "replacement"));
        }
        out.push(Malformed { index: r.index, kind: EntryKind::Replacement, credential: None, tag_base: tb });
    }
    for n in named {
        let [x, v] = n.claims.as_slice() else { continue };
        if c.row_is_well_formed(&x.compress().to_bytes(), &v.compress().to_bytes()) {
            return Err(well_formed(n.index, if n.kind == EntryKind::Ballot { "ballot" } else { "override" }));
        }
        out.push(Malformed { index: n.index, kind: n.kind, credential: Some(*x), tag_base: *v });
    }
    out.sort_by_key(|m| m.index);
    Ok(out)
}
