//! Rounds 2–3, sanitation (`13-revoting.md` §7.3): which entries are malformed, the named
//! entries' ciphertexts whose decryption shares round 3 carries, and the public judgement of
//! each named entry from its decryption.
//!
//! A row (`ballot` or `override`) is malformed if its X is not a surviving credential of the
//! style or its V is not TB(X). A replacement is malformed if its `old_tbase` decrypts to no
//! TB(X) of a credential listed or replaced-in, by a replacement that is not malformed, before
//! it (board order). The surviving credentials are the list and the `new` of every replacement
//! that is not malformed. The coordinator decides this from its private view (§7.2); everyone
//! else checks it for the named entries only, taking every unnamed replacement as surviving.

use std::collections::{BTreeSet, HashMap, HashSet};

use curve25519_dalek::ristretto::RistrettoPoint;

use super::inputs::{Inputs, tag_base};
use super::{RunError, Setup, fail, round};
use crate::elgamal::Ciphertext;
use crate::group::GroupElement;

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

/// An entry dropped by sanitation, reported with its plaintexts (§7.3).
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

/// A named entry and the ciphertexts round 3 decrypts: a row's `cred` then `tbase`, or a
/// replacement's `old_tbase`.
#[derive(Clone, Debug)]
pub struct Named {
    /// The board index.
    pub index: u64,
    /// The kind.
    pub kind: EntryKind,
    /// The ciphertexts, X before V.
    pub cts: Vec<Ciphertext>,
}

/// Round 2's names resolved against the inputs: strictly ascending board indices, each of
/// exactly one entry of the style.
pub fn resolve(inputs: &Inputs, names: &[u64]) -> Result<Vec<Named>, RunError> {
    let mut out = Vec::with_capacity(names.len());
    let mut last = None;
    for &index in names {
        let at = format!("named entry {index}");
        if last.is_some_and(|l| l >= index) {
            return Err(fail(round::NAMES, at, "board indices must be strictly ascending"));
        }
        last = Some(index);
        let mut found: Vec<Named> = Vec::new();
        for b in inputs.ballots.iter().filter(|b| b.index == index) {
            found.push(Named { index, kind: EntryKind::Ballot, cts: vec![b.cred, b.tbase] });
        }
        for o in inputs.overrides.iter().filter(|o| o.index == index) {
            found.push(Named { index, kind: EntryKind::Override, cts: vec![o.cred, o.tbase] });
        }
        for r in inputs.replacements.iter().filter(|r| r.index == index) {
            found.push(Named { index, kind: EntryKind::Replacement, cts: vec![r.old_tbase] });
        }
        match <[Named; 1]>::try_from(found) {
            Ok([n]) => out.push(n),
            Err(f) if f.is_empty() => return Err(fail(round::NAMES, at, "no ballot, override or replacement")),
            Err(_) => return Err(fail(round::NAMES, at, "the index names two entries")),
        }
    }
    Ok(out)
}

/// Round 3's bases: the α of every named ciphertext, in order.
pub fn alphas(named: &[Named]) -> Vec<RistrettoPoint> {
    named.iter().flat_map(|n| n.cts.iter().map(|c| *c.alpha.point())).collect()
}

/// The plaintexts `β − Σ_j D_j` of the named ciphertexts from every member's shares (their
/// number already checked against the bases).
pub fn plaintexts<'a>(named: &[Named], shares: impl Iterator<Item = &'a [RistrettoPoint]>) -> Vec<RistrettoPoint> {
    let mut out: Vec<RistrettoPoint> = named.iter().flat_map(|n| n.cts.iter().map(|c| *c.beta.point())).collect();
    for images in shares {
        for (o, d) in out.iter_mut().zip(images) {
            *o -= d;
        }
    }
    out
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

/// The coordinator's round 2: the board indices of every malformed entry, ascending, from its
/// private view (every real row's X and V in input order, every replacement's old tag base).
pub fn name(setup: &Setup, inputs: &Inputs, row_x: &[[u8; 32]], row_v: &[[u8; 32]], old_tb: &[[u8; 32]]) -> Vec<u64> {
    let mut c = Credentials::listed(setup, inputs);
    let mut named = BTreeSet::new();
    for (r, tb) in inputs.replacements.iter().zip(old_tb) {
        if c.known.contains(tb) {
            c.admit(&r.new);
        } else {
            named.insert(r.index);
        }
    }
    let indices = inputs.ballots.iter().map(|b| b.index).chain(inputs.overrides.iter().map(|o| o.index));
    for ((index, x), v) in indices.zip(row_x).zip(row_v) {
        if !c.row_is_well_formed(x, v) {
            named.insert(index);
        }
    }
    named.into_iter().collect()
}

/// Everyone's round 3 judgement (§7.3): every named entry, decrypted to `plain` (X before V),
/// must be malformed; a well-formed one makes the run invalid. Returns the report.
pub fn judge(
    setup: &Setup,
    inputs: &Inputs,
    named: &[Named],
    plain: &[RistrettoPoint],
    round: u8,
) -> Result<Vec<Malformed>, RunError> {
    let names: HashMap<u64, usize> = named.iter().enumerate().map(|(i, n)| (n.index, i)).collect();
    let mut at = 0;
    let mut offsets = Vec::with_capacity(named.len());
    for n in named {
        offsets.push(at);
        at += n.cts.len();
    }
    if plain.len() != at {
        return Err(fail(round, "sanitation", format!("{} plaintexts for {at} ciphertexts", plain.len())));
    }
    let get = |i: usize| plain.get(i).copied().unwrap_or_default();
    let well_formed = |index: u64, what: &str| {
        fail(round, format!("named entry {index}"), format!("the {what} is well-formed: it is not malformed"))
    };
    let mut c = Credentials::listed(setup, inputs);
    let mut out = Vec::with_capacity(named.len());
    for r in &inputs.replacements {
        let Some(&i) = names.get(&r.index) else {
            c.admit(&r.new);
            continue;
        };
        let tb = get(offsets.get(i).copied().unwrap_or(usize::MAX));
        if c.known.contains(&tb.compress().to_bytes()) {
            return Err(well_formed(r.index, "replacement"));
        }
        out.push(Malformed { index: r.index, kind: EntryKind::Replacement, credential: None, tag_base: tb });
    }
    for (n, offset) in named.iter().zip(&offsets) {
        if n.kind == EntryKind::Replacement {
            continue;
        }
        let (x, v) = (get(*offset), get(offset + 1));
        if c.row_is_well_formed(&x.compress().to_bytes(), &v.compress().to_bytes()) {
            return Err(well_formed(n.index, if n.kind == EntryKind::Ballot { "ballot" } else { "override" }));
        }
        out.push(Malformed { index: n.index, kind: n.kind, credential: Some(x), tag_base: v });
    }
    out.sort_by_key(|m| m.index);
    Ok(out)
}
