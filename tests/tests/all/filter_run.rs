//! One style's filter run (docs/protocol/13-revoting.md §6–§8) made by `dobush-crypto` and
//! checked by the independent `dobush-verifier` (and by crypto's own replay): an honest run
//! counts exactly the last valid ballot of each listed voter, and every tampering is refused
//! with its round and place.

use curve25519_dalek::ristretto::RistrettoPoint;
use dobush_crypto::elgamal::{Ciphertext, RawCiphertext};
use dobush_crypto::filter::run::drive::{RunOutput, run_filter};
use dobush_crypto::filter::run::fixture::{Election, Plan};
use dobush_crypto::filter::run::messages::FilterTranscript;
use dobush_crypto::filter::run::public::verify_transcript;
use dobush_crypto::filter::totals::FIRST_VOTE;
use dobush_crypto::group::GroupElement;
use dobush_verifier::encoding::Point;
use dobush_verifier::filter::run::{self as vrun, Failure, Outcome, StyleInputs};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::Value;

fn plan() -> Plan {
    Plan {
        voters: 12,
        abstainers: 3,
        revoters: 4,
        replaced: 2,
        stale: 1,
        unlisted: 1,
        overridden: 2,
        selections: 3,
        row_limit: 4,
        n: 3,
        t: 2,
    }
}

fn point(g: &GroupElement) -> Point {
    Point { p: *g.point(), bytes: *g.as_bytes() }
}

fn ct(c: &Ciphertext) -> (Point, Point) {
    (point(&c.alpha), point(&c.beta))
}

/// The verifier's view of the election: what it would read from the board.
fn verifier_inputs(e: &Election) -> StyleInputs {
    let s = &e.setup;
    StyleInputs {
        context: s.context,
        base_hash: s.base_hash,
        run: s.run,
        style: s.style.clone(),
        election_key: point(&s.election_key.0),
        n: u64::from(s.params.n()),
        t: u64::from(s.params.t()),
        verification_keys: s.verification_keys.iter().map(point).collect(),
        row_limit: s.row_limit,
        selections: s.selections,
        ballots: e
            .inputs
            .ballots
            .iter()
            .map(|b| vrun::Ballot {
                index: b.index,
                cred: ct(&b.cred),
                tbase: ct(&b.tbase),
                votes: b.votes.iter().map(ct).collect(),
            })
            .collect(),
        overrides: e
            .inputs
            .overrides
            .iter()
            .map(|o| vrun::Override { index: o.index, cred: ct(&o.cred), tbase: ct(&o.tbase) })
            .collect(),
        list: e.inputs.list.iter().map(point).collect(),
        replacements: e
            .inputs
            .replacements
            .iter()
            .map(|r| vrun::Replacement { index: r.index, new: point(&r.new), old_tbase: ct(&r.old_tbase) })
            .collect(),
    }
}

struct Honest {
    e: Election,
    out: RunOutput,
    json: Value,
    inputs: StyleInputs,
}

fn honest(seed: u64) -> Honest {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut e = Election::new(&plan(), &mut rng).unwrap();
    // Key-holder 1 is absent: F = {2, 3}, coordinated by 3.
    e.setup.filter = vec![2, 3];
    e.setup.coordinator = 3;
    let out = run_filter(&e.setup, &e.inputs, &e.shares(), &mut rng).unwrap();
    let json = serde_json::to_value(&out.transcript).unwrap();
    let inputs = verifier_inputs(&e);
    Honest { e, out, json, inputs }
}

fn raw(p: &(RistrettoPoint, RistrettoPoint)) -> RawCiphertext {
    RawCiphertext { alpha: p.0, beta: p.1 }
}

/// The decrypted totals of the verifier's kept rows.
fn totals(e: &Election, o: &Outcome) -> Vec<u64> {
    (0..e.setup.selections)
        .map(|i| {
            let sum = o.kept.iter().fold(RawCiphertext::zero(), |a, r| a + raw(&r[FIRST_VOTE + i]));
            e.decrypt(&sum, 1000).unwrap()
        })
        .collect()
}

/// Both implementations refuse `v`; returns the verifier's located failure.
fn refused(h: &Honest, v: &Value) -> Failure {
    let f = vrun::check_transcript(&h.inputs, v).expect_err("the verifier accepted a tampered transcript");
    if let Ok(t) = serde_json::from_value::<FilterTranscript>(v.clone()) {
        let mut rng = ChaCha20Rng::seed_from_u64(99);
        assert!(verify_transcript(&h.e.setup, &h.e.inputs, &t, &mut rng).is_err(), "crypto accepted: {f}");
    }
    f
}

#[test]
fn an_honest_run_counts_the_last_valid_ballot_of_each_listed_voter() {
    let h = honest(1);
    let o = vrun::check_transcript(&h.inputs, &h.json).unwrap();
    assert_eq!(totals(&h.e, &o), h.e.expected_totals, "exactly the last valid ballot per listed voter");
    assert_eq!((o.counted, o.overridden), (h.e.expected_counted, h.e.expected_overridden));
    assert_eq!(o.unlisted.len(), 1, "the unlisted ballot is dropped");
    assert!(o.unrooted.is_empty() && o.mismatched.is_empty() && o.exceptions.is_empty());
    assert_eq!(o.groups as u64, h.e.expected_counted + h.e.expected_overridden, "one group per voter who voted");
    let w = h.e.decrypt_point(&raw(&o.weight_total)).unwrap();
    vrun::check_weight(&o, &w).unwrap();
    // Crypto's outcome is the same rows.
    assert_eq!(h.out.filtered.kept_rows.len(), o.kept.len());
    for (a, b) in h.out.filtered.kept_rows.iter().zip(&o.kept) {
        assert!(a.iter().zip(b).all(|(x, y)| x.raw() == raw(y)));
    }
    // The transcript holds dummies (re-votes make groups of two), and a replacement chain.
    assert!(!h.out.transcript.shuffles.dummies.is_empty());
    assert!(h.out.transcript.shuffles.pointers.is_some());
    // The JSON round-trips through crypto's strict types.
    let back: FilterTranscript = serde_json::from_value(h.json.clone()).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    verify_transcript(&h.e.setup, &h.e.inputs, &back, &mut rng).unwrap();
}

#[test]
fn the_verifier_refuses_other_inputs() {
    let h = honest(2);
    // A ballot the transcript did not filter: the rows shuffle no longer fits.
    let mut inputs = h.inputs.clone();
    inputs.ballots.pop();
    let f = vrun::check_transcript(&inputs, &h.json).unwrap_err();
    assert_eq!((f.round, f.at.as_str()), (5, "pool"), "the pool's size no longer fits: {f}");
    let mut inputs = h.inputs.clone();
    inputs.list.swap(0, 1);
    let f = vrun::check_transcript(&inputs, &h.json).unwrap_err();
    assert_eq!((f.round, f.at.as_str()), (5, "list shuffle"), "{f}");
}

fn rows_output(v: &mut Value) -> &mut Vec<Value> {
    v["shuffles"]["rows"]["output"].as_array_mut().unwrap()
}

#[test]
fn shuffles_that_drop_duplicate_or_alter_rows_are_refused() {
    let h = honest(3);
    let mut forged = h.json.clone();
    let other = forged["shuffles"]["rows"]["output"][1][4].clone();
    forged["shuffles"]["rows"]["output"][0][4] = other;
    let f = refused(&h, &forged);
    assert_eq!((f.round, f.at.as_str()), (5, "rows shuffle"), "a forged shuffle: {f}");
    assert!(f.reason.contains("SH-"), "names its equation: {f}");

    let mut dropped = h.json.clone();
    rows_output(&mut dropped).pop();
    let f = refused(&h, &dropped);
    assert_eq!((f.round, f.at.as_str()), (5, "rows shuffle"), "a dropped row: {f}");

    let mut duplicated = h.json.clone();
    let first = rows_output(&mut duplicated)[0].clone();
    rows_output(&mut duplicated)[1] = first;
    let f = refused(&h, &duplicated);
    assert_eq!((f.round, f.at.as_str()), (5, "rows shuffle"), "a duplicated row: {f}");

    for list in ["pool", "list", "pointers"] {
        let mut forged = h.json.clone();
        forged["shuffles"][list]["output"].as_array_mut().unwrap().swap(0, 1);
        let f = refused(&h, &forged);
        assert_eq!((f.round, f.at.clone()), (5, format!("{list} shuffle")), "{f}");
    }

    let mut dummy = h.json.clone();
    let d = dummy["shuffles"]["dummies"].as_array_mut().unwrap();
    d.pop();
    let f = refused(&h, &dummy);
    assert_eq!((f.round, f.at.as_str()), (5, "rows shuffle"), "a dummy left out: {f}");
}

/// The plaintext of a shuffled row's W column (1 for a ballot, 0 for a dummy, M_s for an
/// override): the test holds the election secret, the verifier does not.
fn weight(h: &Honest, row: u64) -> u64 {
    let c = &h.json["shuffles"]["rows"]["output"][row as usize][3];
    let p = |f: &str| *GroupElement::from_hex(c[f].as_str().unwrap()).unwrap().point();
    h.e.decrypt(&RawCiphertext { alpha: p("alpha"), beta: p("beta") }, 1000).unwrap()
}

/// The group index and kept row of a group whose kept ballot passed over an earlier *ballot*
/// (not a dummy) with `over`.
fn group_with_over(h: &Honest) -> (usize, u64, u64) {
    let v = &h.json;
    let cmps = v["selection"]["selection"]["comparisons"].as_array().unwrap();
    let (p, q) = cmps
        .iter()
        .filter(|c| c["kind"] == "over")
        .map(|c| (c["a"].as_u64().unwrap(), c["b"].as_u64().unwrap()))
        .find(|(p, q)| weight(h, *p) == 1 && weight(h, *q) == 1)
        .unwrap();
    let g = v["selection"]["kept"].as_array().unwrap().iter().position(|k| k.as_u64() == Some(p)).unwrap();
    (g, p, q)
}

#[test]
fn a_kept_earlier_ballot_is_refused() {
    let h = honest(4);
    let (g, p, q) = group_with_over(&h);
    // Keep q instead of p, and claim q is over p (the canonical list for that choice, where
    // the group has only these two rows; otherwise the list itself is refused).
    let mut forged = h.json.clone();
    forged["selection"]["kept"][g] = q.into();
    for c in forged["selection"]["selection"]["comparisons"].as_array_mut().unwrap() {
        if c["kind"] == "over" && c["a"] == p {
            if c["b"] == q {
                c["b"] = p.into();
            }
            c["a"] = q.into();
        }
    }
    let f = refused(&h, &forged);
    assert_eq!(f.round, 10, "{f}");
    assert!(f.at == "comparisons" || f.at == "range proofs", "{f}");
    // Keeping nothing where a valid row exists is refused too.
    let mut none = h.json.clone();
    none["selection"]["kept"][g] = Value::Null;
    let f = refused(&h, &none);
    assert_eq!((f.round, f.at.as_str()), (10, "comparisons"), "{f}");
}

#[test]
fn a_counted_ballot_under_an_unlisted_credential_is_refused() {
    let h = honest(5);
    let o = vrun::check_transcript(&h.inputs, &h.json).unwrap();
    let unlisted = o.unlisted[0] as u64;
    // The coordinator keeps the unlisted row in some group …
    let mut forged = h.json.clone();
    forged["selection"]["kept"][0] = unlisted.into();
    let f = refused(&h, &forged);
    assert_eq!((f.round, f.at.as_str()), (10, "comparisons"), "{f}");
    // … or leaves out its `real` comparison, as if it were not dropped.
    let mut forged = h.json.clone();
    forged["selection"]["selection"]["comparisons"].as_array_mut().unwrap().remove(0);
    let f = refused(&h, &forged);
    assert_eq!(f.round, 10, "{f}");
}

#[test]
fn a_forged_override_is_refused_by_tl3() {
    let h = honest(6);
    // One counted ballot claimed as an override: the counts still add up, but the decrypted
    // weight total (W = 1 for a ballot, M_s for an override) does not.
    let mut forged = h.json.clone();
    let counted = forged["selection"]["counted"].as_u64().unwrap();
    let overridden = forged["selection"]["overridden"].as_u64().unwrap();
    forged["selection"]["counted"] = (counted - 1).into();
    forged["selection"]["overridden"] = (overridden + 1).into();
    let o = vrun::check_transcript(&h.inputs, &forged).unwrap();
    let w = h.e.decrypt_point(&raw(&o.weight_total)).unwrap();
    let f = vrun::check_weight(&o, &w).unwrap_err();
    assert_eq!((f.round, f.at.as_str()), (10, "TL-3"), "{f}");
    // Counts that do not add up to the kept rows are refused before any decryption.
    let mut forged = h.json.clone();
    forged["selection"]["overridden"] = (overridden + 1).into();
    let f = refused(&h, &forged);
    assert_eq!((f.round, f.at.as_str()), (10, "counts"), "{f}");
}

#[test]
fn altered_shares_are_refused_where_they_are() {
    let h = honest(7);
    let other = h.json["tags"][0]["rows"]["images"][1].clone();
    let mut forged = h.json.clone();
    forged["tags"][0]["rows"]["images"][0] = other;
    let f = refused(&h, &forged);
    assert_eq!((f.round, f.at.as_str()), (6, "member 2, rows tag shares"), "{f}");

    let other = h.json["tag_decryptions"][1]["list"]["images"][1].clone();
    let mut forged = h.json.clone();
    forged["tag_decryptions"][1]["list"]["images"][0] = other;
    let f = refused(&h, &forged);
    assert_eq!((f.round, f.at.as_str()), (7, "member 3, list tag decryption shares"), "{f}");

    let mut forged = h.json.clone();
    forged["pet_decryptions"][0]["shares"] = Value::Null;
    let f = refused(&h, &forged);
    assert_eq!(f.round, 9, "{f}");

    let mut forged = h.json.clone();
    forged["tags"].as_array_mut().unwrap().pop();
    let f = refused(&h, &forged);
    assert_eq!((f.round, f.at.as_str()), (6, "members"), "a missing member: {f}");
}

#[test]
fn an_altered_comparison_proof_is_refused() {
    let h = honest(8);
    let mut forged = h.json.clone();
    let proof = forged["selection"]["selection"]["proofs"][0].as_str().unwrap().to_owned();
    // Flip a bit in the first commitment A (bytes 0..32): it still decodes as hex.
    let mut bytes = hex::decode(&proof).unwrap();
    bytes[40] ^= 1;
    forged["selection"]["selection"]["proofs"][0] = hex::encode(bytes).into();
    let f = refused(&h, &forged);
    assert_eq!(f.round, 10, "{f}");
}

/// Every proof of the transcript, altered one at a time, is refused.
#[test]
fn every_altered_proof_is_refused() {
    let h = honest(9);
    let one = format!("01{}", "0".repeat(62));
    let two = format!("02{}", "0".repeat(62));
    let mut paths: Vec<(u8, Vec<Value>, &str)> = Vec::new();
    let key = |s: &str| Value::String(s.into());
    for m in 0..2 {
        for p in ["tag", "station_tag", "pet"] {
            paths.push((0, vec![key("keys"), m.into(), key(p), key("proof")], "response"));
        }
        for l in ["rows", "list", "pointers"] {
            paths.push((6, vec![key("tags"), m.into(), key(l), key("proof")], "response"));
            paths.push((7, vec![key("tag_decryptions"), m.into(), key(l), key("proof")], "response"));
        }
        paths.push((8, vec![key("pet"), m.into(), key("shares"), key("proof")], "response"));
        paths.push((9, vec![key("pet_decryptions"), m.into(), key("shares"), key("proof")], "response"));
    }
    for l in ["pool", "rows", "list", "pointers"] {
        for field in ["s1", "s2", "s3"] {
            paths.push((5, vec![key("shuffles"), key(l), key("proof")], field));
        }
    }
    for (round, path, field) in &paths {
        let mut forged = h.json.clone();
        let mut at = &mut forged;
        for p in path {
            at = match p {
                Value::String(s) => &mut at[s.as_str()],
                Value::Number(n) => &mut at[n.as_u64().unwrap() as usize],
                _ => unreachable!(),
            };
        }
        let new = if at[*field] == Value::String(one.clone()) { two.clone() } else { one.clone() };
        at[*field] = new.into();
        let f = refused(&h, &forged);
        assert_eq!(f.round, *round, "{path:?}.{field}: {f}");
    }
    let chunks = h.json["selection"]["selection"]["proofs"].as_array().unwrap().len();
    for c in 0..chunks {
        let mut forged = h.json.clone();
        let proof = forged["selection"]["selection"]["proofs"][c].as_str().unwrap().to_owned();
        let mut bytes = hex::decode(&proof).unwrap();
        let n = bytes.len();
        bytes[n - 40] ^= 4;
        forged["selection"]["selection"]["proofs"][c] = hex::encode(bytes).into();
        assert_eq!(refused(&h, &forged).round, 10, "chunk {c}");
    }
}

#[test]
fn unknown_fields_and_identity_points_are_refused() {
    let h = honest(10);
    let mut forged = h.json.clone();
    forged["shuffles"]["extra"] = 1.into();
    assert_eq!(vrun::check_transcript(&h.inputs, &forged).unwrap_err().round, 5);
    let mut forged = h.json.clone();
    forged["tags"][0]["rows"]["images"][0] = "0".repeat(64).into();
    let f = vrun::check_transcript(&h.inputs, &forged).unwrap_err();
    assert_eq!((f.round, f.at.as_str()), (6, "decoding"), "{f}");
    let mut forged = h.json.clone();
    forged["filter"] = serde_json::json!([2, 2]);
    assert_eq!(vrun::check_transcript(&h.inputs, &forged).unwrap_err().at, "filter quorum");
}
