//! Rounds 2–3, sanitation (`13-revoting.md` §7.3), from the text of the specification: the
//! named board indices, the ciphertexts whose decryption round 3 publishes, and the check that
//! every named entry is malformed.
//!
//! A row is malformed if its X is no surviving credential of the style or its V is not TB(X);
//! a replacement is malformed if its `old_tbase` decrypts to no TB(X) of a credential listed or
//! replaced-in, by a replacement not malformed, before it. Entries not named are taken to be
//! well-formed: if one is not, the later rounds drop it or refuse the run.

use std::collections::{HashMap, HashSet};

use curve25519_dalek::ristretto::RistrettoPoint;

use super::inputs::StyleInputs;
use crate::ballot_v2::tag_base;
use crate::encoding::Point;
use crate::shuffle::Ciphertext;

/// A named entry's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A `ballot`.
    Ballot,
    /// An `override`.
    Override,
    /// A `credential_replaced`.
    Replacement,
}

/// An entry named and shown malformed, with its plaintexts (reported).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed {
    /// Board index.
    pub index: u64,
    /// Kind.
    pub kind: Kind,
    /// A row's X; `None` for a replacement.
    pub credential: Option<RistrettoPoint>,
    /// A row's V, or a replacement's old tag base.
    pub tag_base: RistrettoPoint,
}

/// A named entry with its ciphertexts: a row's `cred`, `tbase`; a replacement's `old_tbase`.
pub struct Named {
    /// Board index.
    pub index: u64,
    /// Kind.
    pub kind: Kind,
    /// Ciphertexts, X before V.
    pub cts: Vec<Ciphertext>,
}

/// The names resolved to the style's entries: strictly ascending, each exactly one entry.
/// On failure, the location and the reason.
pub fn resolve(s: &StyleInputs, names: &[u64]) -> Result<Vec<Named>, (String, String)> {
    let mut out = Vec::new();
    for (i, &index) in names.iter().enumerate() {
        let at = format!("named entry {index}");
        if i > 0 && names.get(i - 1).is_some_and(|p| *p >= index) {
            return Err((at, "indices must ascend strictly".into()));
        }
        let mut found: Vec<Named> = s
            .ballots
            .iter()
            .filter(|b| b.index == index)
            .map(|b| Named { index, kind: Kind::Ballot, cts: vec![b.cred, b.tbase] })
            .chain(s.overrides.iter().filter(|o| o.index == index).map(|o| Named {
                index,
                kind: Kind::Override,
                cts: vec![o.cred, o.tbase],
            }))
            .chain(s.replacements.iter().filter(|r| r.index == index).map(|r| Named {
                index,
                kind: Kind::Replacement,
                cts: vec![r.old_tbase],
            }))
            .collect();
        match (found.pop(), found.is_empty()) {
            (Some(n), true) => out.push(n),
            (None, _) => return Err((at, "not a ballot, override or replacement of the style".into())),
            (Some(_), false) => return Err((at, "names two entries".into())),
        }
    }
    Ok(out)
}

/// Checks every named entry is malformed, given the plaintexts of its ciphertexts in order;
/// returns them in board order, or the first well-formed one's location.
pub fn judge(s: &StyleInputs, named: &[Named], plain: &[RistrettoPoint]) -> Result<Vec<Malformed>, (String, String)> {
    let mut values = plain.iter().copied();
    let mut by_index: HashMap<u64, (Kind, Vec<RistrettoPoint>)> = HashMap::new();
    for n in named {
        let vals: Vec<RistrettoPoint> = values.by_ref().take(n.cts.len()).collect();
        if vals.len() != n.cts.len() {
            return Err(("sanitation".into(), "fewer plaintexts than named ciphertexts".into()));
        }
        by_index.insert(n.index, (n.kind, vals));
    }
    // X → TB(X) of the surviving credentials, and every surviving TB, in board order.
    let mut tb_of: HashMap<[u8; 32], [u8; 32]> = HashMap::new();
    let mut known: HashSet<[u8; 32]> = HashSet::new();
    for x in &s.list {
        admit(&s.base_hash, x, &mut tb_of, &mut known);
    }
    let mut out = Vec::new();
    for r in &s.replacements {
        match by_index.get(&r.index) {
            None => admit(&s.base_hash, &r.new, &mut tb_of, &mut known),
            Some((_, vals)) => {
                let tb = vals.first().copied().unwrap_or_default();
                if known.contains(&tb.compress().to_bytes()) {
                    return Err((format!("named entry {}", r.index), "a well-formed replacement".into()));
                }
                out.push(Malformed { index: r.index, kind: Kind::Replacement, credential: None, tag_base: tb });
            }
        }
    }
    for n in named.iter().filter(|n| n.kind != Kind::Replacement) {
        let vals = by_index.get(&n.index).map(|(_, v)| v.as_slice()).unwrap_or_default();
        let (Some(x), Some(v)) = (vals.first(), vals.get(1)) else {
            return Err((format!("named entry {}", n.index), "no plaintexts".into()));
        };
        if tb_of.get(&x.compress().to_bytes()) == Some(&v.compress().to_bytes()) {
            return Err((format!("named entry {}", n.index), "a well-formed row".into()));
        }
        out.push(Malformed { index: n.index, kind: n.kind, credential: Some(*x), tag_base: *v });
    }
    out.sort_by_key(|m| m.index);
    Ok(out)
}

fn admit(base_hash: &[u8; 32], x: &Point, tb_of: &mut HashMap<[u8; 32], [u8; 32]>, known: &mut HashSet<[u8; 32]>) {
    let tb = tag_base(base_hash, x).compress().to_bytes();
    tb_of.insert(x.bytes, tb);
    known.insert(tb);
}

/// The inputs without the dropped entries (M_s is still counted before sanitation, §5).
pub fn without(s: &StyleInputs, dropped: &HashSet<u64>) -> StyleInputs {
    let mut out = s.clone();
    out.ballots.retain(|b| !dropped.contains(&b.index));
    out.overrides.retain(|o| !dropped.contains(&o.index));
    out.replacements.retain(|r| !dropped.contains(&r.index));
    out
}
