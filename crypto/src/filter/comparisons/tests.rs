//! Tests of the selection's comparisons (13-revoting.md §7.9, §7.10): the honest selection of a
//! style with every kind of comparison verifies; a kept earlier ballot, a dropped last ballot, a
//! wrong kind, a forged or altered proof and a reordered list are each refused.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use super::*;
use crate::group::{generator_g, generator_h, random_scalar};

const CTX: [u8; 32] = [0x13; 32];

fn ctx() -> SelectionContext<'static> {
    SelectionContext { context: &CTX, run: 1, style: "style-1" }
}

/// A style's shuffled rows and pointers with their ordinals, and its layout:
///
/// - row 0 (ordinal 8) is dropped (`unlisted`);
/// - group A (root [1; 32], no pointer): rows 1, 2, 3, 4 with ordinals 5, 9, 3 and a dummy (0);
///   row 2 is kept, the others are passed over;
/// - group B (root [2; 32]): pointer 0 (ordinal 7) replaces the old credential; rows 5 (ord 4,
///   old, valid), 6 (ord 15, old, after the end), 7 (ord 12, new): row 7 is kept, row 6 is
///   passed as after-end;
/// - group C (root [0; 32]): pointers 1, 2 (ordinals 20, 30); an override (2³¹ + 40) on the
///   oldest credential is kept (its end is pointer 1, so `override`); rows of ordinals 25, 35
///   and 18 are passed over;
/// - group D (root [3; 32]): pointer 3 (ordinal 50); row 12 (ord 60, old credential: after the
///   end), row 13 (ord 45, new: before its start), row 14 a dummy: no valid row (`none`);
/// - an exception group (root [9; 32]) of rows 15, 16 (ordinals 2, 6): each row proved real,
///   then row 16 kept over row 15 (review 19, H1).
struct Fixture {
    rows: Vec<Opening>,
    pointers: Vec<Opening>,
    p_rows: Vec<RistrettoPoint>,
    p_pointers: Vec<RistrettoPoint>,
    layout: Layout,
}

fn opening(rng: &mut ChaCha20Rng, ord: u64) -> Opening {
    Opening { ord, rho: random_scalar(rng) }
}

fn commit(o: &Opening) -> RistrettoPoint {
    Scalar::from(o.ord) * generator_g() + o.rho * generator_h()
}

fn row(row: usize, start: Option<usize>, end: Option<usize>) -> GroupRow {
    GroupRow { row, interval: Interval { start, end } }
}

fn fixture(seed: u64) -> Fixture {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let ords = [8, 5, 9, 3, 0, 4, 15, 12, OVERRIDE_BASE + 40, 25, 35, 18, 60, 45, 0, 2, 6];
    let rows: Vec<Opening> = ords.iter().map(|&x| opening(&mut rng, x)).collect();
    let pointers: Vec<Opening> = [7, 20, 30, 50].iter().map(|&x| opening(&mut rng, x)).collect();
    let layout = Layout {
        dropped: vec![0],
        chains: vec![
            ChainPointers { root: [2; 32], pointers: vec![0] },
            ChainPointers { root: [0; 32], pointers: vec![1, 2] },
            ChainPointers { root: [3; 32], pointers: vec![3] },
        ],
        exceptions: vec![Group { root: [9; 32], rows: vec![row(16, None, None), row(15, None, None)] }],
        groups: vec![
            Group {
                root: [1; 32],
                rows: vec![row(1, None, None), row(2, None, None), row(3, None, None), row(4, None, None)],
            },
            Group { root: [2; 32], rows: vec![row(5, None, Some(0)), row(6, None, Some(0)), row(7, Some(0), None)] },
            Group {
                root: [0; 32],
                rows: vec![
                    row(8, None, Some(1)),
                    row(9, Some(1), Some(2)),
                    row(10, Some(1), Some(2)),
                    row(11, Some(2), None),
                ],
            },
            Group { root: [3; 32], rows: vec![row(12, None, Some(3)), row(13, Some(3), None), row(14, Some(3), None)] },
        ],
    };
    let p_rows = rows.iter().map(commit).collect();
    let p_pointers = pointers.iter().map(commit).collect();
    Fixture { rows, pointers, p_rows, p_pointers, layout }
}

impl Fixture {
    fn p(&self) -> Commitments<'_> {
        Commitments { rows: &self.p_rows, pointers: &self.p_pointers }
    }

    fn o(&self) -> Openings<'_> {
        Openings { rows: &self.rows, pointers: &self.pointers }
    }

    /// Both checks a verifier makes: the canonical order and the proofs.
    fn verify(&self, s: &Selection, proofs: &[RangeProof]) -> Result<(), SelectionError> {
        check_order(&self.layout, &s.kept, &s.revealed, &s.comparisons, &self.p())?;
        verify_comparisons(&mut ChaCha20Rng::seed_from_u64(7), &ctx(), &s.comparisons, &self.p(), proofs)
    }
}

fn honest(f: &Fixture, rng: &mut ChaCha20Rng) -> (Selection, Vec<RangeProof>) {
    let s = select(&f.layout, &f.o()).unwrap();
    let proofs = prove_comparisons(rng, &ctx(), &s.comparisons, &f.p(), &f.o()).unwrap();
    (s, proofs)
}

/// A forging prover: proves the chunk of a list with the given openings, true or not, so that
/// only the range proof can refuse it.
fn forge(
    rng: &mut ChaCha20Rng,
    f: &Fixture,
    list: &[Comparison],
    fake: &dyn Fn(&Comparison) -> (u64, Scalar),
) -> Vec<RangeProof> {
    list.chunks(CHUNK)
        .enumerate()
        .map(|(i, chunk)| {
            let cs: Vec<RistrettoPoint> = chunk.iter().map(|c| c.commitment(&f.p()).unwrap()).collect();
            let op: Vec<(u64, Scalar)> = chunk.iter().map(|c| c.opening(&f.o()).unwrap_or_else(|_| fake(c))).collect();
            prove_chunk(rng, &ctx(), i, &cs, &op).unwrap()
        })
        .collect()
}

#[test]
fn the_honest_selection_uses_every_kind_and_verifies() {
    let f = fixture(1);
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let (s, proofs) = honest(&f, &mut rng);
    use Comparison::*;
    assert_eq!(s.kept, vec![Some(8), Some(2), Some(7), None, Some(16)], "groups by root: C, A, B, D, the exception");
    assert_eq!(s.revealed, vec![(14, f.rows[14].rho)]);
    assert_eq!(
        s.comparisons,
        vec![
            Real { a: 0 },
            Order { a: 1, b: 2 },
            // Chains [2; 32] and [3; 32] have one pointer: no order comparison.
            Real { a: 15 },
            Real { a: 16 },
            // Groups by root, the exception group [9; 32] among them; a kept row without a
            // start is proved real.
            Real { a: 8 },
            Override { a: 8 },
            Over { a: 8, b: 9 },
            Over { a: 8, b: 10 },
            Over { a: 8, b: 11 },
            Real { a: 2 },
            Over { a: 2, b: 1 },
            Over { a: 2, b: 3 },
            Over { a: 2, b: 4 },
            Start { a: 7, b: 0 },
            Over { a: 7, b: 5 },
            AfterEnd { a: 6, b: 0 },
            NotOverride { a: 6 },
            AfterEnd { a: 12, b: 3 },
            NotOverride { a: 12 },
            BeforeStart { a: 13, b: 3 },
            Real { a: 16 },
            Over { a: 16, b: 15 },
        ]
    );
    assert_eq!(proofs.len(), 1);
    assert_eq!(f.verify(&s, &proofs), Ok(()));
    // Every comparison's C is the commitment to its value under (G, H).
    for c in &s.comparisons {
        let (v, r) = c.opening(&f.o()).unwrap();
        assert_eq!(c.commitment(&f.p()), Some(Scalar::from(v) * generator_g() + r * generator_h()), "{c:?}");
    }
}

#[test]
fn many_comparisons_are_cut_into_chunks_of_64_that_cannot_be_moved() {
    let mut f = fixture(3);
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    // 70 more dropped rows: 92 comparisons, two chunks (64, then 28 padded to 32).
    for i in 0..70 {
        f.rows.push(opening(&mut rng, 100 + i));
        f.p_rows.push(commit(f.rows.last().unwrap()));
        f.layout.dropped.push(f.rows.len() - 1);
    }
    let (s, proofs) = honest(&f, &mut rng);
    assert_eq!((s.comparisons.len(), proofs.len()), (92, 2));
    assert_eq!(f.verify(&s, &proofs), Ok(()));
    let swapped = vec![proofs[1].clone(), proofs[0].clone()];
    assert!(matches!(f.verify(&s, &swapped), Err(SelectionError::Chunk(0))));
    assert!(matches!(f.verify(&s, &proofs[..1]), Err(SelectionError::Chunks { expected: 2, got: 1, .. })));
    // A chunk proof for another context, run, style or chunk position is refused.
    for other in [
        SelectionContext { context: &[0x14; 32], ..ctx() },
        SelectionContext { run: 2, ..ctx() },
        SelectionContext { style: "style-2", ..ctx() },
    ] {
        let p = prove_comparisons(&mut rng, &other, &s.comparisons, &f.p(), &f.o()).unwrap();
        assert!(verify_comparisons(&mut rng, &other, &s.comparisons, &f.p(), &p).is_ok());
        assert!(f.verify(&s, &p).is_err(), "{other:?}");
    }
}

#[test]
fn a_kept_earlier_ballot_is_refused() {
    let f = fixture(5);
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let (mut s, _) = honest(&f, &mut rng);
    // Group A keeps row 1 (ordinal 5) instead of row 2 (ordinal 9): the canonical list for that
    // choice passes row 2 "over", which is false.
    s.kept[1] = Some(1);
    let at = s.comparisons.iter().position(|c| *c == Comparison::Real { a: 2 }).unwrap();
    s.comparisons.splice(
        at..at + 4,
        [
            Comparison::Real { a: 1 },
            Comparison::Over { a: 1, b: 2 },
            Comparison::Over { a: 1, b: 3 },
            Comparison::Over { a: 1, b: 4 },
        ],
    );
    assert_eq!(check_order(&f.layout, &s.kept, &s.revealed, &s.comparisons, &f.p()), Ok(()), "the list is well formed");
    // The honest prover refuses to prove it; a forging prover's proof is refused.
    assert_eq!(
        prove_comparisons(&mut rng, &ctx(), &s.comparisons, &f.p(), &f.o()).err(),
        Some(SelectionError::False(Comparison::Over { a: 1, b: 2 }))
    );
    for fake in [(0u64, f.rows[1].rho - f.rows[2].rho), (0, Scalar::ZERO), (1 << 31, random_scalar(&mut rng))] {
        let proofs = forge(&mut rng, &f, &s.comparisons, &|_| fake);
        assert_eq!(f.verify(&s, &proofs), Err(SelectionError::Chunk(0)));
    }
}

#[test]
fn a_dropped_last_ballot_is_refused() {
    let f = fixture(7);
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let (s, proofs) = honest(&f, &mut rng);
    // Group B keeps nothing: its valid row 7 (the last) would have to be passed as before its
    // start, which is false (12 > 7); and its comparisons cannot just be left out.
    let mut none = s.clone();
    none.kept[2] = None;
    let start = none.comparisons.iter().position(|c| *c == Comparison::Start { a: 7, b: 0 }).unwrap();
    none.comparisons.splice(
        start..start + 4,
        [
            Comparison::AfterEnd { a: 5, b: 0 },
            Comparison::NotOverride { a: 5 },
            Comparison::AfterEnd { a: 6, b: 0 },
            Comparison::NotOverride { a: 6 },
            Comparison::BeforeStart { a: 7, b: 0 },
        ],
    );
    assert_eq!(check_order(&f.layout, &none.kept, &none.revealed, &none.comparisons, &f.p()), Ok(()));
    assert!(matches!(
        prove_comparisons(&mut rng, &ctx(), &none.comparisons, &f.p(), &f.o()),
        Err(SelectionError::False(_))
    ));
    let proofs_none = forge(&mut rng, &f, &none.comparisons, &|_| (0, Scalar::ZERO));
    assert_eq!(f.verify(&none, &proofs_none), Err(SelectionError::Chunk(0)));
    // The last ballot's comparison left out: the list is not canonical.
    let mut left_out = s.clone();
    left_out.comparisons.retain(|c| *c != Comparison::Over { a: 2, b: 4 });
    assert!(matches!(f.verify(&left_out, &proofs), Err(SelectionError::Order { .. })));
    // The last ballot revealed as a dummy: P ≠ ρ·H.
    let mut as_dummy = none.clone();
    as_dummy.comparisons.retain(|c| *c != Comparison::BeforeStart { a: 7, b: 0 });
    as_dummy.revealed.push((7, f.rows[7].rho));
    assert!(matches!(
        check_order(&f.layout, &as_dummy.kept, &as_dummy.revealed, &as_dummy.comparisons, &f.p()),
        Err(SelectionError::Selection(_))
    ));
}

#[test]
fn a_wrong_kind_is_refused() {
    let f = fixture(9);
    let mut rng = ChaCha20Rng::seed_from_u64(10);
    let (s, proofs) = honest(&f, &mut rng);
    use Comparison::*;
    // (replaced, by, where the list and the canonical order part: a pair of comparisons is
    // matched as a whole, so a wrong second half shows at the first).
    let swaps: Vec<(Comparison, Comparison, usize)> = vec![
        (Over { a: 2, b: 3 }, Real { a: 3 }, 11),
        (Over { a: 2, b: 3 }, Over { a: 3, b: 2 }, 11),
        (Start { a: 7, b: 0 }, AfterEnd { a: 7, b: 0 }, 13),
        (AfterEnd { a: 6, b: 0 }, BeforeStart { a: 6, b: 0 }, 15),
        (NotOverride { a: 6 }, Real { a: 6 }, 15),
        (Real { a: 2 }, Over { a: 2, b: 1 }, 9),
        (Order { a: 1, b: 2 }, Order { a: 2, b: 1 }, 1),
        (Real { a: 0 }, NotOverride { a: 0 }, 0),
    ];
    for (from, to, part) in swaps {
        let mut bad = s.clone();
        let at = bad.comparisons.iter().position(|c| *c == from).unwrap();
        bad.comparisons[at] = to;
        assert!(matches!(f.verify(&bad, &proofs), Err(SelectionError::Order { index, .. }) if index == part), "{to:?}");
    }
    // A kind the canonical order allows but that is false: the kept override of group C claimed
    // before its end instead. The list is well formed; only the proof refuses it.
    let mut end = s.clone();
    let at = end.comparisons.iter().position(|c| *c == Override { a: 8 }).unwrap();
    end.comparisons[at] = End { a: 8, b: 1 };
    assert_eq!(check_order(&f.layout, &end.kept, &end.revealed, &end.comparisons, &f.p()), Ok(()));
    assert_eq!(
        prove_comparisons(&mut rng, &ctx(), &end.comparisons, &f.p(), &f.o()).err(),
        Some(SelectionError::False(End { a: 8, b: 1 }))
    );
    assert_eq!(f.verify(&end, &proofs), Err(SelectionError::Chunk(0)));
    let forged = forge(&mut rng, &f, &end.comparisons, &|_| (5, Scalar::ZERO));
    assert_eq!(f.verify(&end, &forged), Err(SelectionError::Chunk(0)));
    // And an `override` claimed for a ballot that is kept before its end.
    let mut o = s.clone();
    o.comparisons.insert(o.comparisons.iter().position(|c| *c == Over { a: 7, b: 5 }).unwrap(), Override { a: 7 });
    assert!(matches!(f.verify(&o, &proofs), Err(SelectionError::Order { .. })));
}

#[test]
fn a_forged_or_altered_proof_is_refused() {
    let f = fixture(11);
    let mut rng = ChaCha20Rng::seed_from_u64(12);
    let (s, proofs) = honest(&f, &mut rng);
    let bytes = proofs[0].to_bytes();
    // Every 32-byte word of the proof changed in turn.
    for word in 0..bytes.len() / 32 {
        let mut b = bytes.clone();
        b[word * 32 + 1] ^= 1;
        if let Ok(p) = RangeProof::from_bytes(&b) {
            assert!(f.verify(&s, &[p]).is_err(), "word {word} altered");
        }
    }
    // A proof of another style's comparisons, or of the same list with one row's P changed.
    let mut g = fixture(13);
    let (s2, proofs2) = honest(&g, &mut rng);
    assert_eq!(s2.comparisons, s.comparisons, "same layout, other commitments");
    assert!(f.verify(&s, &proofs2).is_err());
    g.p_rows[9] += generator_g();
    assert!(g.verify(&s2, &proofs2).is_err());
    // A prover that does not know an opening cannot prove: the commitment is checked first.
    let mut wrong = f.rows.clone();
    wrong[2].rho += Scalar::ONE;
    let o = Openings { rows: &wrong, pointers: &f.pointers };
    assert!(matches!(
        prove_comparisons(&mut rng, &ctx(), &s.comparisons, &f.p(), &o),
        Err(SelectionError::Selection(_))
    ));
    // Hex round trip.
    #[derive(Serialize, Deserialize)]
    struct W {
        #[serde(with = "proofs_hex")]
        p: Vec<RangeProof>,
    }
    let json = serde_json::to_string(&W { p: proofs.clone() }).unwrap();
    let back: W = serde_json::from_str(&json).unwrap();
    assert_eq!(back.p[0].to_bytes(), bytes);
    assert!(serde_json::from_str::<W>(&json.to_uppercase().replace("\"P\"", "\"p\"")).is_err());
}

#[test]
fn a_reordered_list_is_refused() {
    let f = fixture(14);
    let mut rng = ChaCha20Rng::seed_from_u64(15);
    let (s, proofs) = honest(&f, &mut rng);
    for (i, j) in [(0, 1), (2, 3), (5, 6), (8, 11), (13, 14), (16, 17), (4, 17)] {
        let mut r = s.clone();
        r.comparisons.swap(i, j);
        assert!(
            matches!(
                check_order(&f.layout, &r.kept, &r.revealed, &r.comparisons, &f.p()),
                Err(SelectionError::Order { .. })
            ),
            "{i} ↔ {j}"
        );
        // Reproved honestly in the new order, the list is still refused.
        let p = prove_comparisons(&mut rng, &ctx(), &r.comparisons, &f.p(), &f.o()).unwrap();
        assert!(f.verify(&r, &p).is_err());
        assert!(f.verify(&r, &proofs).is_err());
    }
    let mut extra = s.clone();
    extra.comparisons.push(Comparison::Real { a: 2 });
    assert!(matches!(f.verify(&extra, &proofs), Err(SelectionError::Order { index: 22, .. })));
    let mut kept = s.clone();
    kept.kept.swap(0, 1);
    assert!(f.verify(&kept, &proofs).is_err());
    // Serialized kinds are the spec's names, and nothing else is accepted.
    let json = serde_json::to_value(&s.comparisons).unwrap();
    assert_eq!(json[15], serde_json::json!({"kind": "after-end", "a": 6, "b": 0}));
    assert_eq!(json[16], serde_json::json!({"kind": "not-override", "a": 6}));
    assert!(serde_json::from_value::<Comparison>(serde_json::json!({"kind": "real", "a": 1, "b": 2})).is_err());
    assert!(serde_json::from_value::<Comparison>(serde_json::json!({"kind": "later", "a": 1})).is_err());
}
