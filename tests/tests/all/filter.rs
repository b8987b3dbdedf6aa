//! Differential tests of the filter's building blocks (docs/protocol/13-revoting.md §7.9–7.11,
//! §9.1): what `dobush-crypto` proves and computes, the independent `dobush-verifier` checks
//! from JSON, and both refuse the same alterations.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use dobush_crypto::elgamal::{Ciphertext, SecretKey, encrypt};
use dobush_crypto::filter::comparisons::{
    ChainPointers, Commitments, Group, GroupRow, Interval, Layout, Opening, Openings, RangeProof, SelectionContext,
    check_order, proofs_hex, prove_comparisons, select, verify_comparisons,
};
use dobush_crypto::filter::{cover, totals};
use dobush_crypto::group::{generator_g, generator_h, random_scalar};
use dobush_verifier::filter::comparisons as v;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::Serialize;
use serde_json::{Value, json};

const CTX: [u8; 32] = [0x31; 32];
const STYLE: &str = "style-a";

/// A random style: `groups` chains, some with pointers, rows with random ordinals (some
/// overrides, some dummies), a few dropped rows and one exception group.
struct Style {
    layout: Layout,
    rows: Vec<Opening>,
    pointers: Vec<Opening>,
    p_rows: Vec<RistrettoPoint>,
    p_pointers: Vec<RistrettoPoint>,
}

fn style(rng: &mut ChaCha20Rng, groups: usize) -> Style {
    let mut rows: Vec<Opening> = Vec::new();
    let mut pointers: Vec<Opening> = Vec::new();
    let mut layout = Layout::default();
    // Ordinals are board indices: distinct across rows and pointers.
    let mut used = std::collections::BTreeSet::new();
    let mut fresh = |rng: &mut ChaCha20Rng, base: u64| loop {
        let o = base + rng.gen_range(1..5_000u64);
        if used.insert(o) {
            break o;
        }
    };
    let push = |rows: &mut Vec<Opening>, ord: u64, rng: &mut ChaCha20Rng| {
        rows.push(Opening { ord, rho: random_scalar(rng) });
        rows.len() - 1
    };
    for _ in 0..3 {
        let o = fresh(rng, 0);
        let r = push(&mut rows, o, rng);
        layout.dropped.push(r);
    }
    for gi in 0..groups {
        let root: [u8; 32] = rng.r#gen();
        // 0 to 2 pointers, listed in increasing ordinal.
        let np = rng.gen_range(0..3usize);
        let mut ords: Vec<u64> = (0..np).map(|_| fresh(rng, 0)).collect();
        ords.sort_unstable();
        let ptrs: Vec<usize> = ords
            .into_iter()
            .map(|o| {
                pointers.push(Opening { ord: o, rho: random_scalar(rng) });
                pointers.len() - 1
            })
            .collect();
        layout.chains.push(ChainPointers { root, pointers: ptrs.clone() });
        // Credential c of the chain is valid between pointer c − 1 and pointer c.
        let interval = |c: usize| Interval {
            start: c.checked_sub(1).and_then(|i| ptrs.get(i).copied()),
            end: ptrs.get(c).copied(),
        };
        let mut g = Group { root, rows: Vec::new() };
        for _ in 0..rng.gen_range(1..5) {
            let c = rng.gen_range(0..=np);
            let base = if rng.gen_bool(0.1) { 1 << 31 } else { 0 };
            let o = fresh(rng, base);
            let r = push(&mut rows, o, rng);
            g.rows.push(GroupRow { row: r, interval: interval(c) });
        }
        if gi % 3 == 0 {
            let r = push(&mut rows, 0, rng);
            g.rows.push(GroupRow { row: r, interval: interval(rng.gen_range(0..=np)) });
        }
        layout.groups.push(g);
    }
    let mut exc = Vec::new();
    for _ in 0..3 {
        let o = fresh(rng, 0);
        exc.push(GroupRow { row: push(&mut rows, o, rng), interval: Interval::default() });
    }
    layout.exceptions.push(Group { root: [0xee; 32], rows: exc });
    // Dummies have ρ with P = ρ·H; rows are in shuffled order already.
    let commit = |o: &Opening| Scalar::from(o.ord) * generator_g() + o.rho * generator_h();
    let p_rows = rows.iter().map(commit).collect();
    let p_pointers = pointers.iter().map(commit).collect();
    Style { layout, rows, pointers, p_rows, p_pointers }
}

impl Style {
    fn p(&self) -> Commitments<'_> {
        Commitments { rows: &self.p_rows, pointers: &self.p_pointers }
    }

    fn verifier_layout(&self) -> v::Layout {
        let group = |g: &Group| v::Group {
            root: g.root,
            rows: g
                .rows
                .iter()
                .map(|r| (r.row, v::Interval { start: r.interval.start, end: r.interval.end }))
                .collect(),
        };
        v::Layout {
            dropped: self.layout.dropped.clone(),
            chains: self.layout.chains.iter().map(|c| (c.root, c.pointers.clone())).collect(),
            exceptions: self.layout.exceptions.iter().map(group).collect(),
            groups: self.layout.groups.iter().map(group).collect(),
        }
    }
}

#[derive(Serialize)]
struct Published<'a> {
    comparisons: &'a [dobush_crypto::filter::comparisons::Comparison],
    #[serde(with = "proofs_hex")]
    proofs: Vec<RangeProof>,
    revealed: Vec<Value>,
}

/// `(kept, document)`: the coordinator's honest selection, as JSON.
fn publish(s: &Style, rng: &mut ChaCha20Rng) -> (Vec<Option<usize>>, Value) {
    let o = Openings { rows: &s.rows, pointers: &s.pointers };
    let sel = select(&s.layout, &o).unwrap();
    let ctx = SelectionContext { context: &CTX, run: 1, style: STYLE };
    let proofs = prove_comparisons(rng, &ctx, &sel.comparisons, &s.p(), &o).unwrap();
    assert_eq!(verify_comparisons(rng, &ctx, &sel.comparisons, &s.p(), &proofs), Ok(()));
    assert_eq!(check_order(&s.layout, &sel.kept, &sel.revealed, &sel.comparisons, &s.p()), Ok(()));
    let revealed = sel.revealed.iter().map(|(r, rho)| json!({"row": r, "rho": hex::encode(rho.as_bytes())})).collect();
    let doc = serde_json::to_value(Published { comparisons: &sel.comparisons, proofs, revealed }).unwrap();
    (sel.kept, doc)
}

/// The verifier's verdict on a published selection.
fn verifier_verdict(s: &Style, kept: &[Option<usize>], doc: &Value) -> Result<(), String> {
    let (list, proofs, revealed) = v::parse_selection(doc).map_err(|e| e.0)?;
    let p = v::Commitments { rows: &s.p_rows, pointers: &s.p_pointers };
    v::check_list(&s.verifier_layout(), kept, &revealed, &list, &p)?;
    v::verify_list(&v::Context { context: CTX, run: 1, style: STYLE }, &list, &p, &proofs)
}

#[test]
fn the_verifier_accepts_honest_selections_and_refuses_altered_ones() {
    let mut rng = ChaCha20Rng::seed_from_u64(90);
    for groups in [1, 5, 40] {
        let s = style(&mut rng, groups);
        let (kept, doc) = publish(&s, &mut rng);
        assert_eq!(verifier_verdict(&s, &kept, &doc), Ok(()), "{groups} groups");
        let n = doc["comparisons"].as_array().unwrap().len();
        let mut altered: Vec<(String, Value, Vec<Option<usize>>)> = Vec::new();
        let mut alter = |what: &str, change: &dyn Fn(&mut Value)| {
            let mut d = doc.clone();
            change(&mut d);
            altered.push((what.to_owned(), d, kept.clone()));
        };
        alter("two comparisons swapped", &|d| d["comparisons"].as_array_mut().unwrap().swap(0, n - 1));
        alter("one left out", &|d| drop(d["comparisons"].as_array_mut().unwrap().remove(n / 2)));
        alter("a kind changed", &|d| d["comparisons"][n - 1]["kind"] = "real".into());
        alter("an operand changed", &|d| d["comparisons"][0]["a"] = 10_000.into());
        alter("an unknown field", &|d| d["comparisons"][0]["c"] = 1.into());
        alter("a chunk proof dropped", &|d| drop(d["proofs"].as_array_mut().unwrap().pop()));
        alter("a chunk proof altered", &|d| {
            let p = d["proofs"][0].as_str().unwrap();
            let flipped = if &p[0..1] == "0" { "1" } else { "0" };
            d["proofs"][0] = format!("{flipped}{}", &p[1..]).into();
        });
        for (what, d, k) in &altered {
            assert!(verifier_verdict(&s, k, d).is_err(), "{what} accepted ({groups} groups)");
        }
        // Another kept row for the first group that has two rows.
        let order = {
            let mut g = s.layout.groups.clone();
            g.sort_by_key(|g| g.root);
            g
        };
        if let Some((i, g)) = order.iter().enumerate().find(|(i, g)| g.rows.len() > 1 && kept[*i].is_some()) {
            let mut k = kept.clone();
            k[i] = g.rows.iter().map(|r| r.row).find(|r| Some(*r) != kept[i]);
            assert!(verifier_verdict(&s, &k, &doc).is_err(), "another kept row accepted");
        }
    }
}

#[test]
fn crypto_and_verifier_agree_on_the_cover() {
    for c in 1..=8u64 {
        for g in 0..=12u64 {
            for n in 0..=c * g + 1 {
                let a = cover::Cover::new(n, g, c).ok().map(|x| x.slots().collect::<Vec<_>>());
                let b = dobush_verifier::filter::cover::cover(n, g, c).ok();
                assert_eq!(a, b, "cover({n}, {g}, {c})");
                if let Some(slots) = a {
                    let dummies = slots.iter().sum::<u64>() - n;
                    assert!(cover::check_cover(&slots, dummies, c).is_ok());
                    assert!(dobush_verifier::filter::cover::check_cover(&slots, dummies, c).is_ok());
                    // One dummy more or less may or may not give the same cover (n and n ± 1
                    // can share one); both sides must agree either way.
                    for d in [dummies + 1, dummies.saturating_sub(1)] {
                        assert_eq!(
                            cover::check_cover(&slots, d, c).is_ok(),
                            dobush_verifier::filter::cover::check_cover(&slots, d, c).is_ok(),
                            "cover({n}, {g}, {c}) with {d} dummies"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn crypto_and_verifier_agree_on_the_totals() {
    let mut rng = ChaCha20Rng::seed_from_u64(91);
    let sk = SecretKey::generate(&mut rng);
    let pk = sk.public_key();
    let mut row = |w: u64, votes: &[u64]| -> Vec<Ciphertext> {
        [99, 99, 99, w].iter().chain(votes).map(|&m| encrypt(&pk, m, &mut rng).unwrap().0).collect()
    };
    let a = [row(1, &[1, 0, 0, 0, 1]), row(6, &[0, 0, 0, 0, 0]), row(1, &[0, 1, 0, 1, 0]), row(0, &[0, 0, 0, 0, 0])];
    let b = [row(1, &[0, 0, 1])];
    let a_ref: Vec<&[Ciphertext]> = a.iter().map(Vec::as_slice).collect();
    let b_ref: Vec<&[Ciphertext]> = b.iter().map(Vec::as_slice).collect();
    let styles =
        [totals::StyleKept { contests: &[0, 1], rows: &a_ref }, totals::StyleKept { contests: &[1], rows: &b_ref }];
    let crypto = totals::contest_totals(&pk, &[2, 3], &styles).unwrap();
    let pairs = |rows: &[Vec<Ciphertext>]| -> Vec<Vec<(RistrettoPoint, RistrettoPoint)>> {
        rows.iter().map(|r| r.iter().map(|c| (*c.alpha.point(), *c.beta.point())).collect()).collect()
    };
    let (va, vb) = (pairs(&a), pairs(&b));
    let vstyles = [
        dobush_verifier::filter::totals::Style { contests: &[0, 1], kept: &va },
        dobush_verifier::filter::totals::Style { contests: &[1], kept: &vb },
    ];
    let verifier = dobush_verifier::filter::totals::tl1(pk.point(), &[2, 3], &vstyles).unwrap();
    let crypto_pairs: Vec<Vec<_>> = crypto.iter().map(|c| c.iter().map(|x| (x.alpha, x.beta)).collect()).collect();
    assert_eq!(crypto_pairs, verifier);
    let n_crypto = totals::weight_total(&pk, &a_ref).unwrap();
    let n_verifier = dobush_verifier::filter::totals::tl2(pk.point(), &va).unwrap();
    assert_eq!((n_crypto.alpha, n_crypto.beta), n_verifier);
    // The last row of style a is a kept dummy: M_s = 6, 4 groups keep a row; no claim passes
    // on either side, and both agree on every claim.
    let n = sk.decrypt_to_point(&n_crypto.validate().unwrap());
    for counted in 0..8 {
        for overridden in 0..6 {
            let x = totals::check_counts(&n, 6, counted, overridden, 4).is_ok();
            let y = dobush_verifier::filter::totals::tl3(&n, 6, counted, overridden, 4).is_ok();
            assert!(!x && !y, "({counted}, {overridden})");
        }
    }
    let n3 = sk.decrypt_to_point(&totals::weight_total(&pk, &a_ref[..3]).unwrap().validate().unwrap());
    assert!(totals::check_counts(&n3, 6, 2, 1, 3).is_ok());
    assert!(dobush_verifier::filter::totals::tl3(&n3, 6, 2, 1, 3).is_ok());
}
