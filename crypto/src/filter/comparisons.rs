//! The selection's comparisons and their proofs (`docs/protocol/13-revoting.md` §7.9, §7.10).
//!
//! Every shuffled row and pointer row carries in its `I` column a Pedersen commitment
//! `P = ord·G + ρ·H` to its ordinal, whose opening the coordinator knows. A [`Comparison`] is a
//! claim about ordinals; each kind fixes a commitment `C` the verifier computes from the `P`'s,
//! `C = P_plus − P_minus + k·G`, and the claim is that `C` commits to a value in `[0, 2³²)`.
//! The comparisons of a style are listed in a canonical order ([`check_order`]) and proved in
//! chunks of 64 by aggregated bulletproofs range proofs under `(G, H)` ([`prove_comparisons`],
//! [`verify_comparisons`]). `H` and not `K` is the blinding base: the quorum jointly knows
//! `log_G K` and could open a commitment under `K` to anything (05-range.md §Why H must not be
//! the election key).

use std::collections::BTreeMap;
use std::sync::OnceLock;

pub use bulletproofs::RangeProof;
use bulletproofs::{BulletproofGens, PedersenGens};
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::group::{generator_g, generator_h, small_mul_base};
use crate::labels;
use crate::transcript::TranscriptProtocol;

/// Comparisons per aggregated range proof (§7.10: `m = 64`).
pub const CHUNK: usize = 64;
/// Every comparison proves a 32-bit value.
pub const BITS: usize = 32;
/// Override rows have ordinal `2³¹ + i` (§5); ballot rows and pointers have ordinals below it.
pub const OVERRIDE_BASE: u64 = 1 << 31;

/// `BulletproofGens::new(32, 64)` and `PedersenGens { B: G, B_blinding: H }`.
fn gens() -> &'static (BulletproofGens, PedersenGens) {
    static GENS: OnceLock<(BulletproofGens, PedersenGens)> = OnceLock::new();
    GENS.get_or_init(|| {
        (BulletproofGens::new(BITS, CHUNK), PedersenGens { B: generator_g(), B_blinding: generator_h() })
    })
}

/// A comparison (kind, a, b) of §7.10. Rows are indices into the shuffled rows of the style,
/// pointers into its shuffled pointer rows. Serialized as `{"kind": …, "a": …, "b": …}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Comparison {
    /// Consecutive pointers `a` before `b` of a chain: `ord_b − ord_a − 1`, `C = P_b − P_a − G`.
    Order {
        /// The earlier pointer.
        a: usize,
        /// The later pointer.
        b: usize,
    },
    /// Kept row `a` after its tag's start pointer `b`: `C = P_a − P_b − G`.
    Start {
        /// The kept row.
        a: usize,
        /// The start pointer.
        b: usize,
    },
    /// Kept row `a` before its tag's end pointer `b`: `C = P_b − P_a − G`.
    End {
        /// The kept row.
        a: usize,
        /// The end pointer.
        b: usize,
    },
    /// Kept row `a` is an override: `ord_a − 2³¹`, `C = P_a − 2³¹·G`.
    Override {
        /// The kept row.
        a: usize,
    },
    /// Kept row `a` over row `b` of its group (SL-1): `C = P_a − P_b − G`.
    Over {
        /// The kept row.
        a: usize,
        /// The row passed over.
        b: usize,
    },
    /// Row `a` after its tag's end pointer `b`: `C = P_a − P_b − G`.
    AfterEnd {
        /// The row.
        a: usize,
        /// Its end pointer.
        b: usize,
    },
    /// Row `a` is not an override: `2³¹ − 1 − ord_a`, `C = (2³¹ − 1)·G − P_a`.
    NotOverride {
        /// The row.
        a: usize,
    },
    /// Row `a` before its tag's start pointer `b`: `C = P_b − P_a − G`.
    BeforeStart {
        /// The row.
        a: usize,
        /// Its start pointer.
        b: usize,
    },
    /// Row `a` is real (ordinal at least 1): `C = P_a − G`.
    Real {
        /// The row.
        a: usize,
    },
}

/// A row or a pointer row of the style.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ref {
    Row(usize),
    Pointer(usize),
}

impl Comparison {
    /// `(plus, minus, k)` with `C = P_plus − P_minus + k·G` (a missing term is zero).
    fn form(&self) -> (Option<Ref>, Option<Ref>, i64) {
        use Ref::{Pointer, Row};
        const OVERRIDE: i64 = OVERRIDE_BASE as i64;
        match *self {
            Self::Order { a, b } => (Some(Pointer(b)), Some(Pointer(a)), -1),
            Self::Start { a, b } | Self::AfterEnd { a, b } => (Some(Row(a)), Some(Pointer(b)), -1),
            Self::End { a, b } | Self::BeforeStart { a, b } => (Some(Pointer(b)), Some(Row(a)), -1),
            Self::Override { a } => (Some(Row(a)), None, -OVERRIDE),
            Self::Over { a, b } => (Some(Row(a)), Some(Row(b)), -1),
            Self::NotOverride { a } => (None, Some(Row(a)), OVERRIDE - 1),
            Self::Real { a } => (Some(Row(a)), None, -1),
        }
    }

    /// The commitment `C` this comparison fixes (§7.9), from the `P`'s of the shuffled rows and
    /// pointer rows. `None` if it names a row or pointer that does not exist.
    pub fn commitment(&self, p: &Commitments<'_>) -> Option<RistrettoPoint> {
        let (plus, minus, k) = self.form();
        let plus = plus.map_or(Some(RistrettoPoint::default()), |r| p.get(r))?;
        let minus = minus.map_or(Some(RistrettoPoint::default()), |r| p.get(r))?;
        let k_g = if k < 0 { -small_mul_base(k.unsigned_abs()) } else { small_mul_base(k.unsigned_abs()) };
        Some(plus - minus + k_g)
    }

    /// The opening `(value, blinding)` of `C`, if the claim is true (`0 ≤ value < 2³²`).
    fn opening(&self, o: &Openings<'_>) -> Result<(u64, Scalar), SelectionError> {
        let (plus, minus, k) = self.form();
        let get = |r: Option<Ref>| -> Result<(i128, Scalar), SelectionError> {
            match r {
                None => Ok((0, Scalar::ZERO)),
                Some(r) => o.get(r).map(|x| (i128::from(x.ord), x.rho)).ok_or(SelectionError::Reference),
            }
        };
        let ((vp, rp), (vm, rm)) = (get(plus)?, get(minus)?);
        let value = vp - vm + i128::from(k);
        match u64::try_from(value) {
            Ok(v) if v < 1 << BITS => Ok((v, rp - rm)),
            _ => Err(SelectionError::False(*self)),
        }
    }
}

/// The public commitments `P` (second components of the shuffled `I` columns), by position.
#[derive(Clone, Copy, Debug)]
pub struct Commitments<'a> {
    /// `P_r` of every shuffled row of the style, in shuffled order.
    pub rows: &'a [RistrettoPoint],
    /// `P_a` of every shuffled pointer row, in shuffled order.
    pub pointers: &'a [RistrettoPoint],
}

impl Commitments<'_> {
    fn get(&self, r: Ref) -> Option<RistrettoPoint> {
        match r {
            Ref::Row(i) => self.rows.get(i).copied(),
            Ref::Pointer(i) => self.pointers.get(i).copied(),
        }
    }
}

/// The opening `(ord, ρ)` of one `P = ord·G + ρ·H`, known to the coordinator (§7.5).
#[derive(Clone, Debug, Zeroize, ZeroizeOnDrop)]
pub struct Opening {
    /// The ordinal.
    pub ord: u64,
    /// The blinding: 1 plus the shuffle's re-encryption nonce of the `I` column.
    pub rho: Scalar,
}

/// The openings of every `P`, in the positions of [`Commitments`].
#[derive(Clone, Copy, Debug)]
pub struct Openings<'a> {
    /// Openings of the shuffled rows' `P`.
    pub rows: &'a [Opening],
    /// Openings of the shuffled pointer rows' `P`.
    pub pointers: &'a [Opening],
}

impl Openings<'_> {
    fn get(&self, r: Ref) -> Option<&Opening> {
        match r {
            Ref::Row(i) => self.rows.get(i),
            Ref::Pointer(i) => self.pointers.get(i),
        }
    }
}

/// Where the comparisons of a style are proved: the chunk transcripts bind all of it (§7.10).
#[derive(Clone, Copy, Debug)]
pub struct SelectionContext<'a> {
    /// The extended context hash of the election.
    pub context: &'a [u8; 32],
    /// The filter's run number (from 1).
    pub run: u64,
    /// The style id.
    pub style: &'a str,
}

/// Why comparisons cannot be proved, or are refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SelectionError {
    /// A comparison names a row or pointer that does not exist.
    #[error("a comparison names a row or pointer that does not exist")]
    Reference,
    /// The prover was asked to prove a false comparison.
    #[error("the comparison {0:?} is false")]
    False(Comparison),
    /// The number of chunk proofs does not match the comparisons.
    #[error("{comparisons} comparisons need {expected} chunk proofs, not {got}")]
    Chunks {
        /// Comparisons listed.
        comparisons: usize,
        /// Chunks they need.
        expected: usize,
        /// Proofs given.
        got: usize,
    },
    /// A chunk's aggregated range proof does not verify.
    #[error("the range proof of comparison chunk {0} does not verify")]
    Chunk(usize),
    /// The comparison list is not the canonical list for the groups (§7.10).
    #[error("comparison {index}: {reason}")]
    Order {
        /// Position in the list where the list and the canonical order part.
        index: usize,
        /// What was expected.
        reason: String,
    },
    /// A group's kept row, or a revealed dummy, does not fit the groups.
    #[error("selection: {0}")]
    Selection(String),
}

/// The transcript of chunk `index` with its `m` comparisons and padded commitments (§7.10).
fn chunk_transcript(ctx: &SelectionContext<'_>, index: usize, m: usize, c: &[CompressedRistretto]) -> Transcript {
    let mut t = Transcript::protocol(labels::DS_FILTER_SELECTION);
    t.append_message(labels::L_CONTEXT, ctx.context);
    t.append_u64(labels::L_RUN, ctx.run);
    t.append_str(labels::L_STYLE, ctx.style);
    t.append_u64(labels::L_CHUNK, index as u64);
    t.append_u64(labels::L_COUNT, m as u64);
    for ci in c {
        t.append_message(labels::L_CAP_C, ci.as_bytes());
    }
    t
}

/// The commitments of one chunk, padded with `H` to the next power of two.
fn padded(cs: impl Iterator<Item = RistrettoPoint>, m: usize) -> Vec<CompressedRistretto> {
    let h = generator_h().compress();
    let mut v: Vec<CompressedRistretto> = cs.map(|c| c.compress()).collect();
    v.resize(m.next_power_of_two(), h);
    v
}

/// Proves one chunk from `(value, blinding)` pairs against the commitments `cs` (the honest
/// prover passes the openings of `cs`; the tests' forging provers pass others).
fn prove_chunk<R: RngCore + CryptoRng>(
    rng: &mut R,
    ctx: &SelectionContext<'_>,
    index: usize,
    cs: &[RistrettoPoint],
    openings: &[(u64, Scalar)],
) -> Result<RangeProof, SelectionError> {
    let m = cs.len();
    let commitments = padded(cs.iter().copied(), m);
    let mut values: Vec<u64> = openings.iter().map(|o| o.0).collect();
    let mut blindings: Vec<Scalar> = openings.iter().map(|o| o.1).collect();
    values.resize(commitments.len(), 0);
    blindings.resize(commitments.len(), Scalar::ONE);
    let mut t = chunk_transcript(ctx, index, m, &commitments);
    let (bp, pc) = gens();
    let result = RangeProof::prove_multiple_with_rng(bp, pc, &mut t, &values, &blindings, BITS, rng);
    blindings.zeroize();
    values.zeroize();
    result.map(|(proof, _)| proof).map_err(|_| SelectionError::Chunk(index))
}

/// Proves every comparison (§7.10): chunks of 64, in list order, each one aggregated range
/// proof. Refuses a false comparison or one whose opening does not match its commitment.
pub fn prove_comparisons<R: RngCore + CryptoRng>(
    rng: &mut R,
    ctx: &SelectionContext<'_>,
    comparisons: &[Comparison],
    p: &Commitments<'_>,
    openings: &Openings<'_>,
) -> Result<Vec<RangeProof>, SelectionError> {
    comparisons
        .chunks(CHUNK)
        .enumerate()
        .map(|(index, chunk)| {
            let cs = chunk
                .iter()
                .map(|c| c.commitment(p).ok_or(SelectionError::Reference))
                .collect::<Result<Vec<_>, _>>()?;
            // The openings are secret (they link rows to ordinals): zeroized when dropped.
            let op = Zeroizing::new(chunk.iter().map(|c| c.opening(openings)).collect::<Result<Vec<_>, _>>()?);
            // The openings must be those of the public commitments, or the proof would not verify.
            let (g, h) = (generator_g(), generator_h());
            if cs.iter().zip(op.iter()).any(|(c, (v, r))| *c != Scalar::from(*v) * g + r * h) {
                return Err(SelectionError::Selection("an opening does not match its commitment".into()));
            }
            prove_chunk(rng, ctx, index, &cs, &op)
        })
        .collect()
}

/// Proves a comparison list as a forging coordinator must (tests only): every true comparison
/// with its opening, every false one with the value 0 and its commitment's blinding. The list
/// may then pass [`check_order`]; only the range proof of a chunk with a false comparison fails.
#[cfg(any(test, feature = "test-helpers"))]
pub fn prove_comparisons_forging<R: RngCore + CryptoRng>(
    rng: &mut R,
    ctx: &SelectionContext<'_>,
    comparisons: &[Comparison],
    p: &Commitments<'_>,
    openings: &Openings<'_>,
) -> Result<Vec<RangeProof>, SelectionError> {
    comparisons
        .chunks(CHUNK)
        .enumerate()
        .map(|(index, chunk)| {
            let cs = chunk
                .iter()
                .map(|c| c.commitment(p).ok_or(SelectionError::Reference))
                .collect::<Result<Vec<_>, _>>()?;
            let op = chunk
                .iter()
                .map(|c| match c.opening(openings) {
                    Err(SelectionError::False(_)) => {
                        let (plus, minus, _) = c.form();
                        let rho = |r: Option<Ref>| r.and_then(|r| openings.get(r)).map_or(Scalar::ZERO, |o| o.rho);
                        Ok((0, rho(plus) - rho(minus)))
                    }
                    other => other,
                })
                .collect::<Result<Vec<_>, _>>()?;
            prove_chunk(rng, ctx, index, &cs, &op)
        })
        .collect()
}

/// Verifies the chunk proofs of a comparison list (§7.10): the verifier computes every `C` from
/// the `P`'s, pads the last chunk with `H` itself, and checks each aggregated range proof.
pub fn verify_comparisons<R: RngCore + CryptoRng>(
    rng: &mut R,
    ctx: &SelectionContext<'_>,
    comparisons: &[Comparison],
    p: &Commitments<'_>,
    proofs: &[RangeProof],
) -> Result<(), SelectionError> {
    let expected = comparisons.len().div_ceil(CHUNK);
    if proofs.len() != expected {
        return Err(SelectionError::Chunks { comparisons: comparisons.len(), expected, got: proofs.len() });
    }
    let (bp, pc) = gens();
    for (index, (chunk, proof)) in comparisons.chunks(CHUNK).zip(proofs).enumerate() {
        let cs =
            chunk.iter().map(|c| c.commitment(p).ok_or(SelectionError::Reference)).collect::<Result<Vec<_>, _>>()?;
        let commitments = padded(cs.into_iter(), chunk.len());
        let mut t = chunk_transcript(ctx, index, chunk.len(), &commitments);
        proof
            .verify_multiple_with_rng(bp, pc, &mut t, &commitments, BITS, rng)
            .map_err(|_| SelectionError::Chunk(index))?;
    }
    Ok(())
}

/// A tag's validity interval (§7.7), as pointer rows: `start` for a tag that is a pointer's
/// `τ_new` (none for a root), `end` the chain's next pointer after it (none for the last).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Interval {
    /// The pointer whose `τ_new` is this tag.
    pub start: Option<usize>,
    /// The chain's first pointer after `start`.
    pub end: Option<usize>,
}

/// A shuffled row of a group with its tag's validity interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupRow {
    /// The row's position among the shuffled rows.
    pub row: usize,
    /// Its tag's validity interval.
    pub interval: Interval,
}

/// A group: the shuffled rows of one chain (§7.7), with the chain's root tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// The encoding of the chain's root tag.
    pub root: [u8; 32],
    /// Its rows (any order; the canonical order is shuffled order).
    pub rows: Vec<GroupRow>,
}

/// A chain's pointers in increasing board index, as the coordinator lists them (§7.7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainPointers {
    /// The encoding of the chain's root tag.
    pub root: [u8; 32],
    /// Its pointer rows, earliest first.
    pub pointers: Vec<usize>,
}

/// What the comparisons of a style are about, all public once the tags are (§7.7).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    /// Rows dropped as `unlisted`, `unrooted` or by a PET (`credential_mismatch`).
    pub dropped: Vec<usize>,
    /// Every chain with its pointers.
    pub chains: Vec<ChainPointers>,
    /// Groups of more than `c` rows: selected like the others, but outside the cover, and
    /// each of their rows proved real.
    pub exceptions: Vec<Group>,
    /// Every other group.
    pub groups: Vec<Group>,
}

impl Layout {
    fn sorted<T: Clone, K: Ord>(v: &[T], key: impl Fn(&T) -> K) -> Vec<T> {
        let mut v = v.to_vec();
        v.sort_by_key(|x| key(x));
        v
    }

    /// Every group in canonical order (root tag encoding ascending), the exception groups
    /// among the others, each with its rows in shuffled order: one kept row (or `none`) each.
    pub fn groups_in_order(&self) -> Vec<Group> {
        let all: Vec<Group> = self.groups.iter().chain(&self.exceptions).cloned().collect();
        Self::sorted(&all, |g| g.root)
            .into_iter()
            .map(|g| Group { rows: Self::sorted(&g.rows, |r| r.row), root: g.root })
            .collect()
    }
}

/// The coordinator's selection of a style: the kept row of each group (canonical order), the
/// dummies of `none` groups shown by their blinding (`P = ρ·H`), and the comparison list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    /// The kept row of each group of [`Layout::groups_in_order`] (exceptions included), or
    /// `None`.
    pub kept: Vec<Option<usize>>,
    /// `(row, ρ)` for every dummy of a `none` group.
    pub revealed: Vec<(usize, Scalar)>,
    /// The comparisons in canonical order.
    pub comparisons: Vec<Comparison>,
}

/// The honest selection (§7.9) from the openings: in each group the real valid row of highest
/// ordinal is kept, every other row is passed over by the canonical comparison.
pub fn select(layout: &Layout, o: &Openings<'_>) -> Result<Selection, SelectionError> {
    let ord = |r: Ref| o.get(r).map(|x| x.ord).ok_or(SelectionError::Reference);
    let mut out = Vec::new();
    for r in Layout::sorted(&layout.dropped, |r| *r) {
        out.push(Comparison::Real { a: r });
    }
    for chain in Layout::sorted(&layout.chains, |c| c.root) {
        out.extend(chain.pointers.windows(2).map(|w| Comparison::Order { a: w[0], b: w[1] }));
    }
    for g in Layout::sorted(&layout.exceptions, |g| g.root) {
        out.extend(Layout::sorted(&g.rows, |r| r.row).iter().map(|r| Comparison::Real { a: r.row }));
    }
    let (mut kept, mut revealed) = (Vec::new(), Vec::new());
    for g in layout.groups_in_order() {
        let mut valid = None;
        for r in &g.rows {
            let x = ord(Ref::Row(r.row))?;
            let after_start = r.interval.start.map_or(Ok(true), |s| ord(Ref::Pointer(s)).map(|s| x > s))?;
            let before_end = r.interval.end.map_or(Ok(true), |e| ord(Ref::Pointer(e)).map(|e| x < e))?;
            if x >= 1 && (x >= OVERRIDE_BASE || (after_start && before_end)) && valid.is_none_or(|(_, v)| x > v) {
                valid = Some((r, x));
            }
        }
        kept.push(valid.map(|(r, _)| r.row));
        if let Some((p, x)) = valid {
            // A kept row after a start pointer is real already; any other kept row proves it.
            out.push(match p.interval.start {
                Some(s) => Comparison::Start { a: p.row, b: s },
                None => Comparison::Real { a: p.row },
            });
            if let Some(e) = p.interval.end {
                out.push(if x < ord(Ref::Pointer(e))? {
                    Comparison::End { a: p.row, b: e }
                } else {
                    Comparison::Override { a: p.row }
                });
            }
        }
        for q in g.rows.iter().filter(|q| valid.is_none_or(|(p, _)| p.row != q.row)) {
            let y = ord(Ref::Row(q.row))?;
            match valid {
                Some((p, x)) if y < x => out.push(Comparison::Over { a: p.row, b: q.row }),
                _ => {
                    let after_end = q
                        .interval
                        .end
                        .map_or(Ok(false), |e| ord(Ref::Pointer(e)).map(|e| y > e && y < OVERRIDE_BASE))?;
                    let before_start = q.interval.start.map_or(Ok(false), |s| ord(Ref::Pointer(s)).map(|s| y < s))?;
                    match (q.interval, after_end, before_start) {
                        // A dummy of a `none` group is shown by its blinding (§7.9).
                        _ if y == 0 && valid.is_none() => {
                            let rho = o.rows.get(q.row).map(|x| x.rho).ok_or(SelectionError::Reference)?;
                            revealed.push((q.row, rho));
                        }
                        (Interval { end: Some(e), .. }, true, _) => {
                            out.extend([Comparison::AfterEnd { a: q.row, b: e }, Comparison::NotOverride { a: q.row }]);
                        }
                        (Interval { start: Some(s), .. }, _, true) => {
                            out.push(Comparison::BeforeStart { a: q.row, b: s })
                        }
                        _ => return Err(SelectionError::Selection(format!("row {} is valid and not kept", q.row))),
                    }
                }
            }
        }
    }
    Ok(Selection { kept, revealed, comparisons: out })
}

/// Checks that `comparisons` is the canonical list of §7.10 for the layout, the kept rows and
/// the revealed dummies, and that each revealed dummy opens to 0 (`P = ρ·H`). It does not check
/// the comparisons' truth: that is [`verify_comparisons`].
pub fn check_order(
    layout: &Layout,
    kept: &[Option<usize>],
    revealed: &[(usize, Scalar)],
    comparisons: &[Comparison],
    p: &Commitments<'_>,
) -> Result<(), SelectionError> {
    let groups = layout.groups_in_order();
    if kept.len() != groups.len() {
        return Err(SelectionError::Selection(format!("{} kept rows for {} groups", kept.len(), groups.len())));
    }
    let mut shown: BTreeMap<usize, Scalar> = BTreeMap::new();
    for (row, rho) in revealed {
        if shown.insert(*row, *rho).is_some() {
            return Err(SelectionError::Selection(format!("dummy row {row} revealed twice")));
        }
        if p.rows.get(*row) != Some(&(rho * generator_h())) {
            return Err(SelectionError::Selection(format!("row {row} is not a dummy: P ≠ ρ·H")));
        }
    }
    let mut list = Cursor { list: comparisons, at: 0 };
    for r in Layout::sorted(&layout.dropped, |r| *r) {
        list.expect(&[Comparison::Real { a: r }], "the real comparison of a dropped row")?;
    }
    for chain in Layout::sorted(&layout.chains, |c| c.root) {
        for w in chain.pointers.windows(2) {
            list.expect(&[Comparison::Order { a: w[0], b: w[1] }], "the order of a chain's pointers")?;
        }
    }
    for g in Layout::sorted(&layout.exceptions, |g| g.root) {
        for r in Layout::sorted(&g.rows, |r| r.row) {
            list.expect(&[Comparison::Real { a: r.row }], "the real comparison of an exception row")?;
        }
    }
    let mut used = Vec::new();
    for (g, k) in groups.iter().zip(kept) {
        let kept_row = match k {
            Some(row) => Some(
                g.rows
                    .iter()
                    .find(|r| r.row == *row)
                    .ok_or_else(|| SelectionError::Selection(format!("kept row {row} is not in its group")))?,
            ),
            None => None,
        };
        if let Some(p) = kept_row {
            match p.interval.start {
                Some(s) => list.expect(&[Comparison::Start { a: p.row, b: s }], "the kept row's start")?,
                None => list.expect(&[Comparison::Real { a: p.row }], "the kept row's real comparison")?,
            }
            if let Some(e) = p.interval.end {
                list.expect_one_of(
                    &[&[Comparison::End { a: p.row, b: e }], &[Comparison::Override { a: p.row }]],
                    "the kept row's end or override",
                )?;
            }
        }
        for q in g.rows.iter().filter(|q| kept_row.is_none_or(|p| p.row != q.row)) {
            if kept_row.is_none() && shown.contains_key(&q.row) {
                used.push(q.row);
                continue;
            }
            let mut ways: Vec<Vec<Comparison>> = Vec::new();
            if let Some(p) = kept_row {
                ways.push(vec![Comparison::Over { a: p.row, b: q.row }]);
            }
            if let Some(e) = q.interval.end {
                ways.push(vec![Comparison::AfterEnd { a: q.row, b: e }, Comparison::NotOverride { a: q.row }]);
            }
            if let Some(s) = q.interval.start {
                ways.push(vec![Comparison::BeforeStart { a: q.row, b: s }]);
            }
            let ways: Vec<&[Comparison]> = ways.iter().map(Vec::as_slice).collect();
            list.expect_one_of(&ways, "a comparison passing over a row of the group")?;
        }
    }
    if used.len() != shown.len() {
        return Err(SelectionError::Selection("a revealed dummy is not a row of a `none` group".into()));
    }
    if list.at != comparisons.len() {
        return Err(SelectionError::Order { index: list.at, reason: "more comparisons than the groups need".into() });
    }
    Ok(())
}

/// Reads a comparison list front to back against what the canonical order expects.
struct Cursor<'a> {
    list: &'a [Comparison],
    at: usize,
}

impl Cursor<'_> {
    fn expect(&mut self, want: &[Comparison], what: &str) -> Result<(), SelectionError> {
        self.expect_one_of(&[want], what)
    }

    fn expect_one_of(&mut self, ways: &[&[Comparison]], what: &str) -> Result<(), SelectionError> {
        let rest = self.list.get(self.at..).unwrap_or_default();
        match ways.iter().find(|w| !w.is_empty() && rest.starts_with(w)) {
            Some(w) => {
                self.at += w.len();
                Ok(())
            }
            None => Err(SelectionError::Order {
                index: self.at,
                reason: format!("expected {what} ({}), found {:?}", describe(ways), rest.first()),
            }),
        }
    }
}

fn describe(ways: &[&[Comparison]]) -> String {
    ways.iter().map(|w| format!("{w:?}")).collect::<Vec<_>>().join(" or ")
}

/// Serde for a list of chunk proofs: each the lowercase hex of `RangeProof::to_bytes`.
pub mod proofs_hex {
    use super::*;

    /// Serializes the proofs as hex strings.
    pub fn serialize<S: Serializer>(proofs: &[RangeProof], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(proofs.iter().map(|p| hex::encode(p.to_bytes())))
    }

    /// Deserializes hex strings, refusing uppercase hex and malformed proofs.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<RangeProof>, D::Error> {
        let v = Vec::<String>::deserialize(d)?;
        v.iter()
            .map(|s| {
                let b = crate::group::decode_hex(s)
                    .map_err(|_| serde::de::Error::custom("range proof: not lowercase hex"))?;
                RangeProof::from_bytes(&b).map_err(|_| serde::de::Error::custom("range proof: malformed"))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
