//! The selection's comparisons (`13-revoting.md` §7.9, §7.10), checked from the text of the
//! specification: the canonical list for the groups, the commitment `C` each kind fixes from
//! the `P`'s of the shuffled `I` columns, and the aggregated range proofs in chunks of 64.

use std::collections::BTreeSet;

use bulletproofs::{BulletproofGens, PedersenGens, RangeProof};
use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand::rngs::OsRng;
use serde_json::Value;

use crate::encoding::{Decoded, Invalid, exact, field, hex_n, uint};
use crate::manifest::generator_h;
use crate::transcript;

/// Comparisons per chunk, and the bulletproofs party capacity (§7.10).
const CHUNK: usize = 64;

/// The kinds of §7.10, by their serialized names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `order`: pointers a < b, consecutive in a chain.
    Order,
    /// `start`: kept row a after pointer b.
    Start,
    /// `end`: kept row a before pointer b.
    End,
    /// `override`: kept row a is an override.
    Override,
    /// `over`: kept row a over row b.
    Over,
    /// `after-end`: row a after pointer b.
    AfterEnd,
    /// `not-override`: row a is not an override.
    NotOverride,
    /// `before-start`: row a before pointer b.
    BeforeStart,
    /// `real`: row a has ordinal ≥ 1.
    Real,
}

const KINDS: [(&str, Kind, bool); 9] = [
    ("order", Kind::Order, true),
    ("start", Kind::Start, true),
    ("end", Kind::End, true),
    ("override", Kind::Override, false),
    ("over", Kind::Over, true),
    ("after-end", Kind::AfterEnd, true),
    ("not-override", Kind::NotOverride, false),
    ("before-start", Kind::BeforeStart, true),
    ("real", Kind::Real, false),
];

/// A comparison `(kind, a, b)`; `b` only for the kinds that have one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Comparison {
    /// The kind.
    pub kind: Kind,
    /// The first operand (a row; a pointer for `order`).
    pub a: usize,
    /// The second operand (a pointer, or a row for `over`).
    pub b: Option<usize>,
}

/// Parses `{"kind": …, "a": …, "b": …}` strictly: a known kind, `b` exactly when the kind has one.
pub fn parse_comparison(v: &Value, what: &str) -> Decoded<Comparison> {
    let name = field(v, "kind", what)?.as_str().ok_or_else(|| Invalid(format!("{what}: kind must be a string")))?;
    let (_, kind, binary) = KINDS
        .iter()
        .find(|(n, _, _)| *n == name)
        .ok_or_else(|| Invalid(format!("{what}: unknown comparison kind {name:?}")))?;
    exact(v, if *binary { &["kind", "a", "b"] } else { &["kind", "a"] }, what)?;
    let index = |n: &str| {
        uint(v, n, what).and_then(|x| usize::try_from(x).map_err(|_| Invalid(format!("{what}: {n} too large"))))
    };
    Ok(Comparison { kind: *kind, a: index("a")?, b: if *binary { Some(index("b")?) } else { None } })
}

/// The `P`'s of the shuffled rows and pointer rows of a style (second components of `I`).
pub struct Commitments<'a> {
    /// Per shuffled row.
    pub rows: &'a [RistrettoPoint],
    /// Per shuffled pointer row.
    pub pointers: &'a [RistrettoPoint],
}

/// `C` of §7.9 for one comparison, or `None` if an operand does not exist.
pub fn commitment(c: &Comparison, p: &Commitments<'_>) -> Option<RistrettoPoint> {
    let g = RISTRETTO_BASEPOINT_POINT;
    let row = |i: usize| p.rows.get(i).copied();
    let ptr = |i: usize| p.pointers.get(i).copied();
    let two31 = Scalar::from(1u64 << 31);
    Some(match c.kind {
        Kind::Order => ptr(c.b?)? - ptr(c.a)? - g,
        Kind::Start | Kind::AfterEnd => row(c.a)? - ptr(c.b?)? - g,
        Kind::End | Kind::BeforeStart => ptr(c.b?)? - row(c.a)? - g,
        Kind::Override => row(c.a)? - two31 * g,
        Kind::Over => row(c.a)? - row(c.b?)? - g,
        Kind::NotOverride => (two31 - Scalar::ONE) * g - row(c.a)?,
        Kind::Real => row(c.a)? - g,
    })
}

/// A tag's validity interval as pointer rows.
#[derive(Clone, Copy, Debug, Default)]
pub struct Interval {
    /// Start pointer (none for a root).
    pub start: Option<usize>,
    /// End pointer (none for the chain's last credential).
    pub end: Option<usize>,
}

/// A group (or exception group): its root tag's encoding and its rows with their intervals.
#[derive(Clone, Debug)]
pub struct Group {
    /// Root tag encoding.
    pub root: [u8; 32],
    /// `(row, interval of its tag)`.
    pub rows: Vec<(usize, Interval)>,
}

/// The public structure of a style's selection (§7.7).
#[derive(Clone, Debug, Default)]
pub struct Layout {
    /// Dropped rows: `unlisted`, `unrooted` and PET failures.
    pub dropped: Vec<usize>,
    /// `(root, pointers in the coordinator's increasing board-index order)` per chain.
    pub chains: Vec<([u8; 32], Vec<usize>)>,
    /// Exception groups (more than c rows): selected like the others, outside the cover.
    pub exceptions: Vec<Group>,
    /// The other groups.
    pub groups: Vec<Group>,
}

/// Checks that `list` is the canonical comparison list of §7.10 for the layout, with `kept`
/// the kept row of each group, exception groups included, in root order (`None` for a `none` group) and `revealed` the
/// dummies of `none` groups with their ρ (`P = ρ·H`).
pub fn check_list(
    layout: &Layout,
    kept: &[Option<usize>],
    revealed: &[(usize, Scalar)],
    list: &[Comparison],
    p: &Commitments<'_>,
) -> Result<(), String> {
    use Kind::*;
    let cmp = |kind, a, b| Comparison { kind, a, b };
    // Each step: the alternatives the list may hold next.
    let mut steps: Vec<Vec<Vec<Comparison>>> = Vec::new();
    let mut dropped = layout.dropped.clone();
    dropped.sort_unstable();
    steps.extend(dropped.iter().map(|&r| vec![vec![cmp(Real, r, None)]]));
    let mut chains = layout.chains.clone();
    chains.sort_by_key(|x| x.0);
    for (_, ptrs) in &chains {
        steps.extend(ptrs.windows(2).map(|w| vec![vec![cmp(Order, w[0], Some(w[1]))]]));
    }
    let by_root = |groups: &[Group]| {
        let mut g = groups.to_vec();
        g.sort_by_key(|x| x.root);
        for x in &mut g {
            x.rows.sort_by_key(|r| r.0);
        }
        g
    };
    for g in by_root(&layout.exceptions) {
        steps.extend(g.rows.iter().map(|&(r, _)| vec![vec![cmp(Real, r, None)]]));
    }
    // Every group keeps a row or none, exception groups among the others by root (§7.10).
    let all: Vec<Group> = layout.groups.iter().chain(&layout.exceptions).cloned().collect();
    let groups = by_root(&all);
    if kept.len() != groups.len() {
        return Err(format!("{} kept rows for {} groups", kept.len(), groups.len()));
    }
    let mut dummies: BTreeSet<usize> = BTreeSet::new();
    let h = generator_h();
    for (row, rho) in revealed {
        if p.rows.get(*row) != Some(&(rho * h)) {
            return Err(format!("revealed row {row} does not open to 0 (P ≠ ρ·H)"));
        }
        if !dummies.insert(*row) {
            return Err(format!("row {row} revealed twice"));
        }
    }
    let mut dummies_used = 0;
    for (g, k) in groups.iter().zip(kept) {
        let keep = match k {
            None => None,
            Some(r) => Some(*g.rows.iter().find(|x| x.0 == *r).ok_or(format!("kept row {r} is not in its group"))?),
        };
        if let Some((p_row, iv)) = keep {
            // `start` shows the kept row is real; without a start, `real` must (§7.9).
            match iv.start {
                Some(s) => steps.push(vec![vec![cmp(Start, p_row, Some(s))]]),
                None => steps.push(vec![vec![cmp(Real, p_row, None)]]),
            }
            if let Some(e) = iv.end {
                steps.push(vec![vec![cmp(End, p_row, Some(e))], vec![cmp(Override, p_row, None)]]);
            }
        }
        for &(q, iv) in &g.rows {
            if keep.is_some_and(|(r, _)| r == q) {
                continue;
            }
            if keep.is_none() && dummies.contains(&q) {
                dummies_used += 1;
                continue;
            }
            let mut alts = Vec::new();
            if let Some((r, _)) = keep {
                alts.push(vec![cmp(Over, r, Some(q))]);
            }
            if let Some(e) = iv.end {
                alts.push(vec![cmp(AfterEnd, q, Some(e)), cmp(NotOverride, q, None)]);
            }
            if let Some(s) = iv.start {
                alts.push(vec![cmp(BeforeStart, q, Some(s))]);
            }
            steps.push(alts);
        }
    }
    if dummies_used != dummies.len() {
        return Err("a revealed dummy is not a row of a `none` group".into());
    }
    let mut at = 0;
    for alts in steps {
        let rest = list.get(at..).unwrap_or_default();
        let Some(m) = alts.iter().find(|a| rest.starts_with(a)) else {
            return Err(format!("comparison {at}: expected one of {alts:?}, found {:?}", rest.first()));
        };
        at += m.len();
    }
    if at != list.len() {
        return Err(format!("comparison {at}: more comparisons than the groups need"));
    }
    Ok(())
}

/// Decodes a chunk proof: lowercase hex of the bulletproofs encoding.
pub fn parse_range_proof(v: &Value, what: &str) -> Decoded<RangeProof> {
    let s = v.as_str().ok_or_else(|| Invalid(format!("{what}: expected hex")))?;
    if !s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(Invalid(format!("{what}: not lowercase hex")));
    }
    let b = hex::decode(s).map_err(|_| Invalid(format!("{what}: not hex")))?;
    RangeProof::from_bytes(&b).map_err(|_| Invalid(format!("{what}: not a range proof")))
}

/// Where the comparisons were proved.
pub struct Context<'a> {
    /// The extended context hash.
    pub context: [u8; 32],
    /// The run.
    pub run: u64,
    /// The style id.
    pub style: &'a str,
}

/// Verifies the chunk proofs of the list (§7.10). `Err` names the chunk that fails.
pub fn verify_list(
    ctx: &Context<'_>,
    list: &[Comparison],
    p: &Commitments<'_>,
    proofs: &[RangeProof],
) -> Result<(), String> {
    if proofs.len() != list.len().div_ceil(CHUNK) {
        return Err(format!(
            "{} comparisons need {} chunk proofs, found {}",
            list.len(),
            list.len().div_ceil(CHUNK),
            proofs.len()
        ));
    }
    static GENS: std::sync::OnceLock<(BulletproofGens, PedersenGens)> = std::sync::OnceLock::new();
    let (bp, pc) = GENS.get_or_init(|| {
        (BulletproofGens::new(32, CHUNK), PedersenGens { B: RISTRETTO_BASEPOINT_POINT, B_blinding: generator_h() })
    });
    let padding = generator_h().compress();
    for (i, (chunk, proof)) in list.chunks(CHUNK).zip(proofs).enumerate() {
        let mut cs: Vec<CompressedRistretto> = Vec::with_capacity(chunk.len().next_power_of_two());
        for c in chunk {
            cs.push(
                commitment(c, p)
                    .ok_or(format!("chunk {i}: {c:?} names a row or pointer that does not exist"))?
                    .compress(),
            );
        }
        cs.resize(chunk.len().next_power_of_two(), padding);
        let mut t: Transcript = transcript::new(b"filter-selection");
        t.append_message(b"context", &ctx.context);
        t.append_u64(b"run", ctx.run);
        t.append_message(b"style", ctx.style.as_bytes());
        t.append_u64(b"chunk", i as u64);
        t.append_u64(b"count", chunk.len() as u64);
        for c in &cs {
            t.append_message(b"C", c.as_bytes());
        }
        proof
            .verify_multiple_with_rng(bp, pc, &mut t, &cs, 32, &mut OsRng)
            .map_err(|_| format!("the range proof of comparison chunk {i} does not verify"))?;
    }
    Ok(())
}

/// A published selection: its comparisons, chunk proofs and revealed dummies `(row, ρ)`.
pub type Selection = (Vec<Comparison>, Vec<RangeProof>, Vec<(usize, Scalar)>);

/// Parses a list of comparisons, the chunk proofs and the revealed dummies of a selection:
/// `{"comparisons": [...], "proofs": [hex...], "revealed": [{"row", "rho"}...]}`.
pub fn parse_selection(v: &Value) -> Decoded<Selection> {
    let what = "selection";
    exact(v, &["comparisons", "proofs", "revealed"], what)?;
    let arr = |n: &str| field(v, n, what)?.as_array().ok_or_else(|| Invalid(format!("{what}: {n} must be an array")));
    let comparisons = arr("comparisons")?.iter().map(|c| parse_comparison(c, "comparison")).collect::<Decoded<_>>()?;
    let proofs = arr("proofs")?.iter().map(|p| parse_range_proof(p, "chunk proof")).collect::<Decoded<_>>()?;
    let revealed = arr("revealed")?
        .iter()
        .map(|r| {
            exact(r, &["row", "rho"], "revealed dummy")?;
            let row =
                usize::try_from(uint(r, "row", "revealed dummy")?).map_err(|_| Invalid("row too large".into()))?;
            let rho =
                Option::from(Scalar::from_canonical_bytes(hex_n::<32>(field(r, "rho", "revealed dummy")?, "rho")?))
                    .ok_or_else(|| Invalid("revealed dummy: rho is not canonical".into()))?;
            Ok((row, rho))
        })
        .collect::<Decoded<_>>()?;
    Ok((comparisons, proofs, revealed))
}
