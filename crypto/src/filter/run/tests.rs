use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;

use super::drive::{Members, run_filter, run_filter_named, run_to_round_4_named};
use super::fixture::{Election, Plan};
use super::messages::{Claim, FilterTranscript, Plain};
use super::public::verify_transcript;
use super::sanitation::EntryKind;
use crate::elgamal::RawCiphertext;
use crate::filter::comparisons::Comparison;
use crate::filter::totals::FIRST_VOTE;
use crate::group::mul_base;

fn plan() -> Plan {
    Plan {
        voters: 10,
        abstainers: 3,
        revoters: 3,
        replaced: 2,
        stale: 1,
        unlisted: 1,
        overridden: 2,
        twice: 0,
        override_old: 0,
        none_groups: 0,
        exceptions: 0,
        mismatched: 0,
        malformed: 0,
        selections: 3,
        row_limit: 4,
        n: 3,
        t: 2,
    }
}

#[test]
fn an_honest_run_counts_the_last_valid_ballot_of_each_listed_voter() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let e = Election::new(&plan(), &mut rng).unwrap();
    let out = run_filter(&e.setup, &e.inputs, &e.shares(), &mut rng).unwrap();
    assert_eq!(out.filtered.counted, e.expected_counted);
    assert_eq!(out.filtered.overridden, e.expected_overridden);
    // The ballot under an unlisted credential is malformed: named, dropped before the shuffle.
    assert_eq!(out.filtered.malformed.len(), 1);
    assert!(out.filtered.unlisted.is_empty());
    let totals: Vec<u64> = (0..e.setup.selections)
        .map(|i| {
            let sum = out.filtered.kept_rows.iter().fold(RawCiphertext::zero(), |a, r| a + r[FIRST_VOTE + i].raw());
            e.decrypt(&sum, 100).unwrap()
        })
        .collect();
    assert_eq!(totals, e.expected_totals);
    let w = e.decrypt(&out.filtered.weight_total, 1000).unwrap();
    assert_eq!(w, e.expected_counted + out.filtered.m_s * e.expected_overridden);
    let json = serde_json::to_string(&out.transcript).unwrap();
    let back = serde_json::from_str(&json).unwrap();
    let again = verify_transcript(&e.setup, &e.inputs, &back, &mut rng).unwrap();
    assert_eq!(again.counted, out.filtered.counted);
}

fn check_counts(e: &Election, f: &super::public::Filtered) {
    assert_eq!((f.counted, f.overridden), (e.expected_counted, e.expected_overridden));
    let totals: Vec<u64> = (0..e.setup.selections)
        .map(|i| {
            let sum = f.kept_rows.iter().fold(RawCiphertext::zero(), |a, r| a + r[FIRST_VOTE + i].raw());
            e.decrypt(&sum, 100).unwrap()
        })
        .collect();
    assert_eq!(totals, e.expected_totals);
    let w = e.decrypt(&f.weight_total, 1000).unwrap();
    assert_eq!(w, e.expected_counted + f.m_s * e.expected_overridden, "TL-3");
}

/// Review 19, H1: a chain of c + 1 rows (the server broke the limit) ending with an override
/// is an exception group, outside the cover, but its override is kept and counted once.
#[test]
fn an_exception_chain_ending_with_an_override_is_counted_once() {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let plan = Plan { exceptions: 1, ..plan() };
    let e = Election::new(&plan, &mut rng).unwrap();
    let out = run_filter(&e.setup, &e.inputs, &e.shares(), &mut rng).unwrap();
    assert_eq!(out.filtered.exceptions, vec![plan.row_limit as usize + 1]);
    check_counts(&e, &out.filtered);
    let again = verify_transcript(&e.setup, &e.inputs, &out.transcript, &mut rng).unwrap();
    assert_eq!(again.overridden, e.expected_overridden);
}

/// Review 19, H2, and §7.3: a ballot whose tbase does not encrypt TB(X) (here a random point),
/// a replacement whose old_tbase encrypts no listed tag base and a ballot under its `new` are
/// named malformed in round 2 with their claimed plaintexts, shown to be those plaintexts by the
/// tests of rounds 3–4 and dropped before any shuffle, with their plaintexts reported; the run
/// goes through.
#[test]
fn malformed_entries_are_named_and_dropped_before_the_shuffle() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let plan = Plan { malformed: 1, ..plan() };
    let e = Election::new(&plan, &mut rng).unwrap();
    let out = run_filter(&e.setup, &e.inputs, &e.shares(), &mut rng).unwrap();
    let f = &out.filtered;
    assert!(f.unlisted.is_empty() && f.mismatched.is_empty() && f.unrooted.is_empty());
    let kinds: Vec<EntryKind> = f.malformed.iter().map(|m| m.kind).collect();
    assert_eq!(kinds.iter().filter(|k| **k == EntryKind::Replacement).count(), 1);
    assert_eq!(kinds.iter().filter(|k| **k == EntryKind::Ballot).count(), plan.unlisted + 2);
    let named: Vec<u64> = f.malformed.iter().map(|m| m.index).collect();
    assert_eq!(named, indices(&out.transcript.malformed));
    // The reported plaintexts are the entries' decryptions.
    for m in &f.malformed {
        if let Some(r) = e.inputs.replacements.iter().find(|r| r.index == m.index) {
            assert_eq!(e.decrypt_point(&r.old_tbase.raw()), Some(m.tag_base));
        }
        if let Some(b) = e.inputs.ballots.iter().find(|b| b.index == m.index) {
            assert_eq!(e.decrypt_point(&b.cred.raw()), m.credential);
            assert_eq!(e.decrypt_point(&b.tbase.raw()), Some(m.tag_base));
        }
    }
    // Nothing named is shuffled: the rows are the survivors (not the named ballots, nor the
    // override out of its station) and the dummies.
    let named_rows = f.malformed.iter().filter(|m| m.kind != EntryKind::Replacement).count();
    assert_eq!(f.out_of_station.len(), 1);
    let survivors = e.inputs.ballots.len() + e.inputs.overrides.len() - named_rows - f.out_of_station.len();
    assert_eq!(
        out.transcript.shuffles.as_ref().unwrap().rows.output.len(),
        survivors + out.transcript.shuffles.as_ref().unwrap().dummies.len()
    );
    check_counts(&e, f);
    let again = verify_transcript(&e.setup, &e.inputs, &out.transcript, &mut rng).unwrap();
    assert_eq!(again.malformed, f.malformed);
}

fn refused(e: &Election, t: &FilterTranscript, prefix: &str) {
    let mut rng = ChaCha20Rng::seed_from_u64(99);
    let err = verify_transcript(&e.setup, &e.inputs, t, &mut rng).unwrap_err().to_string();
    assert!(err.starts_with(prefix), "expected {prefix:?}, got {err:?}");
}

fn indices(claims: &[Claim]) -> Vec<u64> {
    claims.iter().map(|c| c.index).collect()
}

fn plain(p: RistrettoPoint) -> Plain {
    Plain(p.compress().to_bytes())
}

/// The claim of a ballot with its true plaintexts (what an honest coordinator would claim).
fn true_claim(e: &Election, index: u64) -> Claim {
    let b = e.inputs.ballots.iter().find(|b| b.index == index).unwrap();
    Claim {
        index,
        credential: Some(plain(e.decrypt_point(&b.cred.raw()).unwrap())),
        tag_base: plain(e.decrypt_point(&b.tbase.raw()).unwrap()),
    }
}

fn with(mut claims: Vec<Claim>, claim: Claim) -> Vec<Claim> {
    claims.push(claim);
    claims.sort_by_key(|c| c.index);
    claims
}

/// §7.3: a coordinator that claims a voter's well-formed ballot with its true plaintexts is
/// refused in round 2 (the claim is well-formed), before any share about it; one that claims
/// it with false, malformed plaintexts is refused in round 4 (the test fails: the claim is not
/// the plaintext); the verifier refuses both transcripts at that entry.
#[test]
fn a_well_formed_entry_named_malformed_is_refused() {
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let plan = Plan { malformed: 1, ..plan() };
    let e = Election::new(&plan, &mut rng).unwrap();
    let voter = e.expected_kept[0];
    let truth = true_claim(&e, voter);
    let add_true = |claims: Vec<Claim>| with(claims, truth.clone());
    let err = run_filter_named(&e.setup, &e.inputs, &e.shares(), &mut rng, &add_true, Members::Checking)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with(&format!("round 2, named entry {voter}")) && err.contains("well-formed"), "{err}");
    // A false claim: the ballot's true credential with another tag base (malformed as claimed).
    let other = mul_base(&Scalar::from(77u64));
    let lie = Claim { tag_base: plain(other), ..truth.clone() };
    let add_lie = |claims: Vec<Claim>| with(claims, lie.clone());
    let err = run_filter_named(&e.setup, &e.inputs, &e.shares(), &mut rng, &add_lie, Members::Checking)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with(&format!("round 4, named entry {voter}: the claim is not")), "{err}");
    let t = run_to_round_4_named(&e.setup, &e.inputs, &e.shares(), &mut rng, &add_lie).unwrap();
    refused(&e, &t, &format!("round 4, named entry {voter}: the claim is not"));
    // The honest transcript with the true claim added (its shares no longer fit) is refused at
    // round 2 too.
    let out = run_filter(&e.setup, &e.inputs, &e.shares(), &mut rng).unwrap();
    let mut t = out.transcript.clone();
    t.malformed = add_true(t.malformed.clone());
    refused(&e, &t, &format!("round 2, named entry {voter}"));
    // A well-formed replacement claimed with its true old tag base.
    let r = &e.inputs.replacements[0];
    let claim =
        Claim { index: r.index, credential: None, tag_base: plain(e.decrypt_point(&r.old_tbase.raw()).unwrap()) };
    let mut t = out.transcript.clone();
    t.malformed = with(t.malformed.clone(), claim);
    refused(&e, &t, &format!("round 2, named entry {}", r.index));
}

/// Review 19-sanitation C1 and M1: a member of F that offsets its private round-1 shares (so
/// that the coordinator would name a voter's well-formed ballot, and later decryptions would
/// reveal its X and V, or a listed voter's plaintexts) is caught by the coordinator at its
/// proof designated to it, in round 1, before anything is named or published.
#[test]
fn a_member_offsetting_its_private_shares_is_caught_in_round_1() {
    use super::{coordinator, member};
    let mut rng = ChaCha20Rng::seed_from_u64(14);
    let e = Election::new(&Plan { malformed: 1, ..plan() }, &mut rng).unwrap();
    let mut states = Vec::new();
    let mut keys = Vec::new();
    for share in e.shares() {
        let (s, k) = member::start(&e.setup, &e.inputs, share, &mut rng).unwrap();
        states.push(s);
        keys.push(k);
    }
    let (states, views): (Vec<_>, Vec<_>) =
        states.into_iter().map(|s| s.receive_keys(&keys, &mut rng).unwrap()).unzip();
    let own = states.iter().position(|s| s.member() == e.setup.coordinator).unwrap();
    let honest = coordinator::start(&e.setup, &e.inputs).unwrap().receive_view(&states[own], &views, &mut rng);
    assert!(honest.is_ok());
    let offset = mul_base(&Scalar::from(5u64));
    for column in 0..3 {
        let mut bad = views.clone();
        let v = &mut bad[1];
        match column {
            0 => v.credentials[0] += offset,
            1 => v.tag_bases[0] += offset,
            _ => v.old_tag_bases[0] += offset,
        }
        let err = coordinator::start(&e.setup, &e.inputs)
            .unwrap()
            .receive_view(&states[own], &bad, &mut rng)
            .err()
            .unwrap()
            .to_string();
        let member = e.setup.filter[1];
        assert!(err.starts_with(&format!("round 1, member {member}, private shares")), "{err}");
    }
    // Without its proof, or with another member's, the view is refused too.
    let mut bad = views.clone();
    bad[1].proof = None;
    assert!(coordinator::start(&e.setup, &e.inputs).unwrap().receive_view(&states[own], &bad, &mut rng).is_err());
    let mut bad = views.clone();
    bad[1].proof = views[0].proof.clone();
    assert!(coordinator::start(&e.setup, &e.inputs).unwrap().receive_view(&states[own], &bad, &mut rng).is_err());
    // A member state that is not the coordinator's cannot check the views.
    let not_own = (own + 1) % states.len();
    assert!(coordinator::start(&e.setup, &e.inputs).unwrap().receive_view(&states[not_own], &views, &mut rng).is_err());
}

/// §7.3: claims that are not strictly ascending board indices of the style's entries, that
/// have the wrong shape, and altered, missing or extra sanitation shares, are refused where
/// they are.
#[test]
fn bad_names_and_sanitation_shares_are_refused() {
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let plan = Plan { malformed: 1, ..plan() };
    let e = Election::new(&plan, &mut rng).unwrap();
    let out = run_filter(&e.setup, &e.inputs, &e.shares(), &mut rng).unwrap();
    let honest = out.transcript;
    let first = honest.malformed[0].clone();
    let mut t = honest.clone();
    t.malformed.reverse();
    refused(&e, &t, "round 2, named entry");
    let mut t = honest.clone();
    t.malformed.insert(0, first.clone());
    refused(&e, &t, &format!("round 2, named entry {}", first.index));
    let mut t = honest.clone();
    let last = honest.malformed.last().unwrap().index;
    t.malformed.push(Claim { index: last + 1000, ..first.clone() });
    refused(&e, &t, "round 2, named entry");
    // A row's claim without a credential, a replacement's with one, a claim that is no point.
    let row = honest.malformed.iter().find(|c| c.credential.is_some()).unwrap().clone();
    let rep = honest.malformed.iter().find(|c| c.credential.is_none()).unwrap().clone();
    let mut t = honest.clone();
    t.malformed.iter_mut().filter(|c| c.index == row.index).for_each(|c| c.credential = None);
    refused(&e, &t, &format!("round 2, named entry {}", row.index));
    let mut t = honest.clone();
    t.malformed.iter_mut().filter(|c| c.index == rep.index).for_each(|c| c.credential = row.credential);
    refused(&e, &t, &format!("round 2, named entry {}", rep.index));
    let mut t = honest.clone();
    t.malformed.iter_mut().filter(|c| c.index == row.index).for_each(|c| c.tag_base = Plain([0xff; 32]));
    refused(&e, &t, &format!("round 2, named entry {}", row.index));
    // Another (still malformed) claim: the published shares are of other differences.
    let mut t = honest.clone();
    t.malformed
        .iter_mut()
        .filter(|c| c.index == row.index)
        .for_each(|c| c.tag_base = plain(mul_base(&Scalar::from(3u64))));
    refused(&e, &t, "round 3, member 1, sanitation shares");
    // Round 3: an altered share, a proof or key from another member's test, a test missing,
    // a member missing.
    let mut t = honest.clone();
    t.sanitation[1].tests[0].shares.images.swap(0, 1);
    refused(&e, &t, "round 3, member 2, sanitation shares");
    let mut t = honest.clone();
    t.sanitation[0].tests[0].shares.proof = honest.sanitation[1].tests[0].shares.proof.clone();
    refused(&e, &t, "round 3, member 1, sanitation shares");
    let mut t = honest.clone();
    t.sanitation[0].tests[0].key = honest.sanitation[1].tests[0].key;
    refused(&e, &t, "round 3, member 1, sanitation shares");
    let mut t = honest.clone();
    t.sanitation[0].tests.pop();
    refused(&e, &t, "round 3, member 1, sanitation shares");
    let mut t = honest.clone();
    t.sanitation.pop();
    refused(&e, &t, "round 3, members");
    // Round 4: an altered share, another member's proof, shares missing, a member missing.
    let mut t = honest.clone();
    t.sanitation_decryptions[1].shares.as_mut().unwrap().images.swap(0, 1);
    refused(&e, &t, "round 4, member 2, sanitation decryption shares");
    let mut t = honest.clone();
    let other = honest.sanitation_decryptions[1].shares.as_ref().unwrap().proof.clone();
    t.sanitation_decryptions[0].shares.as_mut().unwrap().proof = other;
    refused(&e, &t, "round 4, member 1, sanitation decryption shares");
    let mut t = honest.clone();
    t.sanitation_decryptions[0].shares = None;
    refused(&e, &t, "round 4, member 1");
    let mut t = honest.clone();
    t.sanitation_decryptions.pop();
    refused(&e, &t, "round 4, members");
    // Nothing named, but tests given.
    let mut t = honest.clone();
    t.malformed.clear();
    refused(&e, &t, "round 3, member 1, sanitation shares");
}

/// Review 19-sanitation round 2, H1: a coordinator (or a relay) that claims a guessed
/// credential for every ballot learns nothing from the failed run: one conjunctive test per
/// entry, each blinded under fresh keys, gives no identity for a well-formed ballot whatever the
/// guess, and no two results are equal (before the fix the X tests of the guessed voter's
/// ballots were the identity, in a transcript every honest member had proven).
#[test]
fn a_false_claim_reveals_nothing_about_well_formed_entries() {
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let e = Election::new(&Plan { malformed: 1, ..plan() }, &mut rng).unwrap();
    let honest = run_filter(&e.setup, &e.inputs, &e.shares(), &mut rng).unwrap();
    let named = indices(&honest.transcript.malformed);
    let junk = plain(mul_base(&Scalar::from(77u64)));
    let forged: Vec<u64> = e.inputs.ballots.iter().map(|b| b.index).filter(|i| !named.contains(i)).collect();
    // The victim: a voter who cast more than once (a re-voter).
    let of = |guess: Plain| -> Vec<u64> {
        forged.iter().copied().filter(|i| true_claim(&e, *i).credential == Some(guess)).collect()
    };
    let guess = forged.iter().filter_map(|i| true_claim(&e, *i).credential).max_by_key(|g| of(*g).len()).unwrap();
    let victims = of(guess);
    assert!(victims.len() >= 2, "the victim cast at least twice: {victims:?}");
    let claim_all = |claims: Vec<Claim>| {
        let mut all = claims;
        all.extend(forged.iter().map(|&index| Claim { index, credential: Some(guess), tag_base: junk }));
        all.sort_by_key(|c| c.index);
        all
    };
    let t = run_to_round_4_named(&e.setup, &e.inputs, &e.shares(), &mut rng, &claim_all).unwrap();
    refused(&e, &t, "round 4, named entry");
    let results: Vec<(u64, RistrettoPoint)> = t
        .malformed
        .iter()
        .enumerate()
        .filter(|(_, c)| forged.contains(&c.index))
        .map(|(i, c)| {
            let b: RistrettoPoint = t.sanitation.iter().map(|m| *m.tests[i].shares.images[1].point()).sum();
            let d: RistrettoPoint =
                t.sanitation_decryptions.iter().map(|m| *m.shares.as_ref().unwrap().images[i].point()).sum();
            (c.index, b - d)
        })
        .collect();
    assert_eq!(results.len(), forged.len());
    for (i, (index, r)) in results.iter().enumerate() {
        assert_ne!(*r, RistrettoPoint::default(), "entry {index} (the victim's: {})", victims.contains(index));
        assert!(results[..i].iter().all(|(_, o)| o != r), "two results are equal");
    }
}

/// §7.3 (review 19-sanitation M2): a malformed entry the coordinator leaves unnamed makes the
/// run invalid — a row where its tag is no list tag or its PET fails, a replacement at the
/// groups — so a marker ballot never reaches a published group.
#[test]
fn unnamed_malformed_entries_make_the_run_invalid() {
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let plan = Plan { mismatched: 1, malformed: 1, ..plan() };
    let e = Election::new(&plan, &mut rng).unwrap();
    let honest = run_filter(&e.setup, &e.inputs, &e.shares(), &mut rng).unwrap();
    let rows: Vec<u64> =
        honest.filtered.malformed.iter().filter(|m| m.kind != EntryKind::Replacement).map(|m| m.index).collect();
    for leave in &rows {
        let keep = |claims: Vec<Claim>| claims.into_iter().filter(|c| c.index != *leave).collect();
        let err = run_filter_named(&e.setup, &e.inputs, &e.shares(), &mut rng, &keep, Members::Checking)
            .unwrap_err()
            .to_string();
        assert!(
            (err.starts_with("round 7, row") || err.starts_with("round 9, row")) && err.contains("was not named"),
            "entry {leave}: {err}"
        );
    }
    let names_nothing = |_: Vec<Claim>| Vec::new();
    let err = run_filter_named(&e.setup, &e.inputs, &e.shares(), &mut rng, &names_nothing, Members::Checking)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("round 7, "), "{err}");
}

/// The whole fixture of review 19's M4: chains of three credentials with an order, a stale
/// ballot, an override under a replaced-out credential, a `none` group, an exception, a PET
/// failure and a malformed ballot, all in one run, read back strictly.
#[test]
fn the_full_fixture_counts_exactly_the_last_valid_row_of_each_voter() {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let e = Election::new(&full_plan(), &mut rng).unwrap();
    let out = run_filter(&e.setup, &e.inputs, &e.shares(), &mut rng).unwrap();
    check_counts(&e, &out.filtered);
    let t = &out.transcript;
    assert!(!t.selection.as_ref().unwrap().orders.is_empty(), "a chain with two pointers has an order");
    assert!(t.selection.as_ref().unwrap().selection.comparisons.iter().any(|c| matches!(c, Comparison::Order { .. })));
    assert!(
        t.selection.as_ref().unwrap().selection.comparisons.iter().any(|c| matches!(c, Comparison::Override { .. }))
    );
    assert!(t.selection.as_ref().unwrap().kept.iter().any(Option::is_none), "a `none` group");
    assert_eq!(out.filtered.exceptions.len(), 1);
    assert!(out.filtered.mismatched.is_empty(), "the row whose tbase names another voter is named");
    assert_eq!(out.filtered.malformed.len(), 5, "unlisted, mismatched, malformed ballots, a replacement");
    let bytes = serde_json::to_vec(t).unwrap();
    let back = FilterTranscript::from_json(&bytes).unwrap();
    let again = verify_transcript(&e.setup, &e.inputs, &back, &mut rng).unwrap();
    assert_eq!((again.counted, again.overridden), (e.expected_counted, e.expected_overridden));
}

fn full_plan() -> Plan {
    Plan {
        voters: 17,
        revoters: 4,
        twice: 2,
        override_old: 1,
        none_groups: 2,
        exceptions: 1,
        mismatched: 1,
        malformed: 1,
        ..plan()
    }
}

/// Review 19, M2: crypto reads a transcript as strictly as the verifier does: unknown fields in
/// nested ciphertexts and proofs, and duplicate keys, are refused.
#[test]
fn the_transcript_reader_is_strict() {
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let e = Election::new(&plan(), &mut rng).unwrap();
    let out = run_filter(&e.setup, &e.inputs, &e.shares(), &mut rng).unwrap();
    let honest = serde_json::to_value(&out.transcript).unwrap();
    FilterTranscript::from_json(&serde_json::to_vec(&honest).unwrap()).unwrap();
    let nested: [&[&str]; 3] =
        [&["shuffles", "rows", "output", "0", "0"], &["tags", "0", "rows", "proof"], &["keys", "0", "tag", "proof"]];
    for path in nested {
        let mut v = honest.clone();
        let mut at = &mut v;
        for p in path {
            at = match p.parse::<usize>() {
                Ok(i) => &mut at[i],
                Err(_) => &mut at[*p],
            };
        }
        at["extra"] = 0.into();
        // (serde's derived reader refuses some of these itself, not all: the transcript reader
        // refuses every one)
        assert!(FilterTranscript::from_json(&serde_json::to_vec(&v).unwrap()).is_err(), "{path:?}");
    }
    let text = serde_json::to_string(&honest).unwrap();
    let duplicated = text.replacen("\"coordinator\":1,", "\"coordinator\":1,\"coordinator\":2,", 1);
    assert_ne!(duplicated, text);
    assert!(FilterTranscript::from_json(duplicated.as_bytes()).unwrap_err().contains("duplicate"));
}

/// Review 19, M4: crypto refuses a transcript checked with a sub-threshold or repeated F, and a
/// transcript whose F is not the run's.
#[test]
fn a_sub_threshold_or_repeated_quorum_is_refused() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let e = Election::new(&plan(), &mut rng).unwrap();
    let out = run_filter(&e.setup, &e.inputs, &e.shares(), &mut rng).unwrap();
    for filter in [vec![1], vec![1, 1], vec![2, 1], vec![1, 2, 3]] {
        let mut setup = e.setup.clone();
        setup.filter = filter.clone();
        let mut t = out.transcript.clone();
        t.filter = filter.clone();
        let err = verify_transcript(&setup, &e.inputs, &t, &mut rng).unwrap_err();
        assert!(err.to_string().starts_with("round 0, filter quorum"), "{filter:?}: {err}");
    }
    let mut t = out.transcript.clone();
    t.filter = vec![2, 3];
    let err = verify_transcript(&e.setup, &e.inputs, &t, &mut rng).unwrap_err();
    assert!(err.to_string().starts_with("round 0, header"), "{err}");
}

/// §7.4: an override signed at a station its voter's list item does not name is dropped
/// `out_of_station` before any shuffle (its voter's e-ballot counts); two overrides with one
/// station tag are a finding, and the voter is counted once.
#[test]
fn overrides_out_of_their_station_are_dropped_and_doubles_reported() {
    let mut rng = ChaCha20Rng::seed_from_u64(10);
    let mut e = Election::new(&plan(), &mut rng).unwrap();
    let last = e.inputs.overrides.len() - 1;
    let out_of_station = e.inputs.overrides[last].index;
    let mut again = e.inputs.overrides[0].clone();
    again.index = out_of_station + 1;
    e.inputs.overrides.push(again.clone());
    let out = run_filter(&e.setup, &e.inputs, &e.shares(), &mut rng).unwrap();
    let f = &out.filtered;
    assert_eq!(f.out_of_station, vec![out_of_station]);
    assert_eq!(f.overridden_twice, vec![(e.inputs.overrides[0].index, again.index)]);
    check_counts(&e, f);
    let replayed = verify_transcript(&e.setup, &e.inputs, &out.transcript, &mut rng).unwrap();
    assert_eq!(
        (replayed.out_of_station.clone(), replayed.overridden_twice.clone()),
        (f.out_of_station.clone(), f.overridden_twice.clone())
    );
    // The public's inputs decide the station: the same transcript read with the override at
    // station-b is refused (its shares were made under station-a's key, in station-a's batch).
    let mut moved = e.inputs.clone();
    moved.overrides[last].station = "station-b".into();
    let err = verify_transcript(&e.setup, &moved, &out.transcript, &mut rng).unwrap_err().to_string();
    assert!(err.starts_with("round 3, member 1, station tag shares of station station-a"), "{err}");
    // An override at a station the package does not name has no station tag: dropped too.
    let mut e = Election::new(&plan(), &mut rng).unwrap();
    e.inputs.overrides[0].station = "station-z".into();
    let out = run_filter(&e.setup, &e.inputs, &e.shares(), &mut rng).unwrap();
    assert!(out.filtered.out_of_station.contains(&e.inputs.overrides[0].index));
    let replayed = verify_transcript(&e.setup, &e.inputs, &out.transcript, &mut rng).unwrap();
    assert_eq!(replayed.out_of_station, out.filtered.out_of_station);
}

/// The station tags of one run (σ = k′_st·V per station, §7.4), recomputed from its transcript.
fn station_tags(e: &Election, t: &FilterTranscript) -> Vec<super::public::StationTags> {
    let mut rng = ChaCha20Rng::seed_from_u64(98);
    let mut p = super::public::Public::new(e.setup.clone(), &e.inputs).unwrap();
    p.receive_keys(&t.keys).unwrap();
    p.receive_names(&t.malformed, &t.stations, &mut rng).unwrap();
    p.receive_sanitation(&t.sanitation).unwrap();
    p.receive_station_tags(&t.station_tags).unwrap();
    p.receive_sanitation_decryptions(&t.sanitation_decryptions).unwrap();
    p.receive_station_tag_decryptions(&t.station_tag_decryptions).unwrap();
    p.station_tags().to_vec()
}

/// Review 19-sanitation H1: each station has its own station tag key, so a voter whose list item
/// names two stations has unrelated σ's there, and intersecting the stations' σ sets gives
/// nothing. (With one key k′ for all stations, voter 0's σ = k′·TB(X_0) was in both sets.) An
/// override's σ is among its own station's σ's only.
#[test]
fn station_tags_of_one_voter_differ_between_stations() {
    let mut rng = ChaCha20Rng::seed_from_u64(16);
    let mut e = Election::new(&plan(), &mut rng).unwrap();
    let x0 = e.inputs.list[0];
    assert!(e.inputs.stations.iter().all(|st| st.credentials.contains(&x0)), "voter 0 names both stations");
    // Voter 0 overrides at station-a.
    let mut o = e.inputs.overrides.last().unwrap().clone();
    o.index += 1;
    o.station = "station-a".into();
    let k = *e.setup.election_key.point();
    o.cred = super::fixture::encrypt(&k, *x0.point(), &mut rng).unwrap();
    o.tbase = super::fixture::encrypt(&k, super::inputs::tag_base(&e.setup.base_hash, &x0), &mut rng).unwrap();
    e.inputs.overrides.push(o.clone());
    let out = run_filter(&e.setup, &e.inputs, &e.shares(), &mut rng).unwrap();
    assert!(!out.filtered.out_of_station.contains(&o.index));
    let tags = station_tags(&e, &out.transcript);
    let (a, b) = (&tags[0], &tags[1]);
    assert_eq!(
        (a.rows.len(), b.rows.len()),
        (e.inputs.stations[0].credentials.len(), e.inputs.stations[1].credentials.len())
    );
    let common: Vec<_> = a.rows.iter().filter(|s| b.rows.contains(s)).collect();
    assert!(common.is_empty(), "the σ sets of two stations share no element, though voter 0 is in both");
    let sigma = a.overrides.iter().find(|(i, _)| *i == o.index).map(|(_, s)| *s).unwrap();
    assert!(a.rows.contains(&sigma), "the override's σ is among its station's");
    assert!(!b.rows.contains(&sigma), "and not among the other station's");
    assert!(b.overrides.iter().all(|(i, s)| *i != o.index && *s != sigma));
    verify_transcript(&e.setup, &e.inputs, &out.transcript, &mut rng).unwrap();
}

/// §7.1: a forged, moved or missing station tag key share is refused in round 0.
#[test]
fn forged_or_missing_station_keys_are_refused() {
    let mut rng = ChaCha20Rng::seed_from_u64(17);
    let e = Election::new(&plan(), &mut rng).unwrap();
    let honest = run_filter(&e.setup, &e.inputs, &e.shares(), &mut rng).unwrap().transcript;
    let mut t = honest.clone();
    t.keys[1].station_tags[1].proof.response += curve25519_dalek::scalar::Scalar::ONE;
    refused(&e, &t, "round 0, member 2, station-tag key of station station-b:");
    let mut t = honest.clone();
    t.keys[0].station_tags.swap(0, 1);
    refused(&e, &t, "round 0, member 1, station-tag key of station station-a:");
    let mut t = honest.clone();
    t.keys[0].station_tags[1] = t.keys[1].station_tags[1].clone();
    refused(&e, &t, "round 0, member 1, station-tag key of station station-b:");
    let mut t = honest.clone();
    t.keys[1].station_tags.pop();
    refused(&e, &t, "round 0, member 2, station-tag keys: member 2 gives 1 station tag keys");
    // A package with a station more than the keys were made for.
    let mut inputs = e.inputs.clone();
    inputs.stations.push(super::inputs::StationInput { id: "station-c".into(), credentials: Vec::new() });
    let err = verify_transcript(&e.setup, &inputs, &honest, &mut rng).unwrap_err().to_string();
    assert!(err.starts_with("round 0, member 1, station-tag keys: member 1 gives 2 station tag keys"), "{err}");
}

/// §7.4: altered station shuffles, station tag shares and their decryption shares are refused
/// where they are.
#[test]
fn bad_station_shuffles_and_station_tag_shares_are_refused() {
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let e = Election::new(&plan(), &mut rng).unwrap();
    let honest = run_filter(&e.setup, &e.inputs, &e.shares(), &mut rng).unwrap().transcript;
    let mut t = honest.clone();
    t.stations.swap(0, 1);
    refused(&e, &t, "round 2, station/9:station-a shuffle");
    let mut t = honest.clone();
    t.stations.pop();
    refused(&e, &t, "round 2, stations");
    let mut t = honest.clone();
    t.stations[1] = None;
    refused(&e, &t, "round 2, station/9:station-b shuffle");
    let mut t = honest.clone();
    t.station_tags[0].stations[0].as_mut().unwrap().images.swap(0, 1);
    refused(&e, &t, "round 3, member 1, station tag shares of station station-a");
    let mut t = honest.clone();
    t.station_tags[1].stations[1].as_mut().unwrap().images[0] =
        t.station_tags[0].stations[1].as_ref().unwrap().images[0];
    refused(&e, &t, "round 3, member 2, station tag shares of station station-b");
    // Station-a's batch (proved under K′_{1,a}) given for station-b too, and the batches of
    // the two stations swapped.
    let mut t = honest.clone();
    t.station_tags[0].stations[1] = t.station_tags[0].stations[0].clone();
    refused(&e, &t, "round 3, member 1, station tag shares of station station-b");
    let mut t = honest.clone();
    t.station_tags[0].stations.swap(0, 1);
    refused(&e, &t, "round 3, member 1, station tag shares of station station-a");
    let mut t = honest.clone();
    t.station_tags[1].stations[0] = None;
    refused(&e, &t, "round 3, member 2, station tag shares of station station-a");
    let mut t = honest.clone();
    t.station_tags[1].stations.pop();
    refused(&e, &t, "round 3, member 2, station tag shares: 1 batches for 2 stations");
    let mut t = honest.clone();
    t.station_tag_decryptions[1].shares.as_mut().unwrap().images.swap(0, 1);
    refused(&e, &t, "round 4, member 2, station tag decryption shares");
    let mut t = honest.clone();
    t.station_tag_decryptions.pop();
    refused(&e, &t, "round 4, members");
    // A package that names a station twice.
    let mut inputs = e.inputs.clone();
    inputs.stations.push(inputs.stations[0].clone());
    let err = verify_transcript(&e.setup, &inputs, &honest, &mut rng).unwrap_err().to_string();
    assert!(err.starts_with("round 2, station station-a"), "{err}");
}

/// §7.3: a replacement whose old_tbase names a credential replaced-in only after it is
/// malformed (no chain may point forward): the honest coordinator names it and the ballot under
/// its `new`, and the run goes through; left unnamed, the run is refused at its chain.
#[test]
fn a_replacement_naming_a_later_credential_is_malformed() {
    use crate::elgamal::RawCiphertext as Raw;
    use crate::group::{mul_base, random_nonzero_scalar};
    let mut rng = ChaCha20Rng::seed_from_u64(12);
    let mut e = Election::new(&plan(), &mut rng).unwrap();
    let (first, second) = (e.inputs.replacements[0].clone(), e.inputs.replacements[1].clone());
    assert!(first.index < second.index);
    let r = random_nonzero_scalar(&mut rng);
    let tb = super::inputs::tag_base(&e.setup.base_hash, &second.new);
    e.inputs.replacements[0].old_tbase =
        Raw { alpha: mul_base(&r), beta: tb + r * e.setup.election_key.point() }.validate().unwrap();
    let out = run_filter(&e.setup, &e.inputs, &e.shares(), &mut rng).unwrap();
    let named = &indices(&out.transcript.malformed);
    assert!(named.contains(&first.index), "{named:?}");
    let under_new = e.inputs.ballots.iter().find(|b| e.decrypt_point(&b.cred.raw()) == Some(*first.new.point()));
    assert!(named.contains(&under_new.unwrap().index), "the ballot under its new is named too");
    verify_transcript(&e.setup, &e.inputs, &out.transcript, &mut rng).unwrap();
    let unnamed: Vec<u64> = named.clone();
    let leave_out = |claims: Vec<Claim>| claims.into_iter().filter(|c| !unnamed.contains(&c.index)).collect();
    let err = run_filter_named(&e.setup, &e.inputs, &e.shares(), &mut rng, &leave_out, Members::Checking)
        .unwrap_err()
        .to_string();
    // Refused: the pointer comes before the one it names (§7.7), or a row is left out of its
    // chain (§7.3, M2).
    assert!(
        (err.starts_with("round 10, chain") && err.contains("comes before")) || err.contains("was not named"),
        "{err}"
    );
}

/// §7.3: a replacement whose old_tbase names its own `new` (a loop) is malformed and named;
/// left unnamed, the ballot under that `new` is dropped `unrooted`, which makes the run invalid
/// (M2).
#[test]
fn a_replacement_naming_itself_is_named_or_the_run_is_invalid() {
    use crate::elgamal::RawCiphertext as Raw;
    use crate::group::random_nonzero_scalar;
    let mut rng = ChaCha20Rng::seed_from_u64(13);
    let mut e = Election::new(&plan(), &mut rng).unwrap();
    let first = e.inputs.replacements[0].clone();
    let r = random_nonzero_scalar(&mut rng);
    let tb = super::inputs::tag_base(&e.setup.base_hash, &first.new);
    e.inputs.replacements[0].old_tbase =
        Raw { alpha: mul_base(&r), beta: tb + r * e.setup.election_key.point() }.validate().unwrap();
    let out = run_filter(&e.setup, &e.inputs, &e.shares(), &mut rng).unwrap();
    let named = indices(&out.transcript.malformed);
    assert!(named.contains(&first.index));
    verify_transcript(&e.setup, &e.inputs, &out.transcript, &mut rng).unwrap();
    let leave_out = |claims: Vec<Claim>| claims.into_iter().filter(|c| !named.contains(&c.index)).collect();
    let err = run_filter_named(&e.setup, &e.inputs, &e.shares(), &mut rng, &leave_out, Members::Checking)
        .unwrap_err()
        .to_string();
    assert!(err.contains("was not named"), "{err}");
}

/// §7.3, §7.4: a style whose every ballot and override is dropped before round 5 has an empty
/// filter: rounds 5–10 are empty, nothing is counted, N_s is (G, K), and the replay agrees; a
/// transcript that goes on to round 5 anyway, or an ordinary one that stops, is refused.
#[test]
fn a_style_whose_every_row_is_dropped_has_an_empty_filter() {
    let mut rng = ChaCha20Rng::seed_from_u64(15);
    let mut e = Election::new(&plan(), &mut rng).unwrap();
    let honest = run_filter(&e.setup, &e.inputs, &e.shares(), &mut rng).unwrap();
    let named = indices(&honest.transcript.malformed);
    let out_of_station = honest.filtered.out_of_station.clone();
    let full = e.inputs.clone();
    e.inputs.ballots.retain(|b| named.contains(&b.index));
    e.inputs.overrides.retain(|o| out_of_station.contains(&o.index));
    let out = run_filter(&e.setup, &e.inputs, &e.shares(), &mut rng).unwrap();
    let f = &out.filtered;
    assert!(out.transcript.shuffles.is_none() && out.transcript.selection.is_none());
    assert_eq!((f.counted, f.overridden, f.groups, f.kept_rows.len()), (0, 0, 0, 0));
    assert_eq!(f.out_of_station, out_of_station);
    assert_eq!(e.decrypt(&f.weight_total, 10), Some(0), "TL-3: N_s decrypts to 0");
    let bytes = serde_json::to_vec(&out.transcript).unwrap();
    let back = FilterTranscript::from_json(&bytes).unwrap();
    let again = verify_transcript(&e.setup, &e.inputs, &back, &mut rng).unwrap();
    assert_eq!((again.counted, again.malformed.len()), (0, f.malformed.len()));
    // Rounds 5–10 where no row is left, and none where rows are left, are refused.
    let mut t = out.transcript.clone();
    t.shuffles = honest.transcript.shuffles.clone();
    refused(&e, &t, "round 5, rows");
    let mut t = honest.transcript.clone();
    t.selection = None;
    let err = verify_transcript(&e.setup, &full, &t, &mut rng).unwrap_err().to_string();
    assert!(err.starts_with("round 5, rows"), "{err}");
}
