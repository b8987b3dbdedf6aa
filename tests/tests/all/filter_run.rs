//! One style's filter run (docs/protocol/13-revoting.md §6–§8) made by `dobush-crypto` and
//! checked by the independent `dobush-verifier` (and by crypto's own replay): an honest run
//! counts exactly the last valid ballot of each listed voter, and every tampering is refused
//! with its round and place.

use curve25519_dalek::ristretto::RistrettoPoint;
use dobush_crypto::elgamal::{Ciphertext, RawCiphertext};
use dobush_crypto::filter::comparisons::{Comparison, Layout, Selection};
use dobush_crypto::filter::run::drive::{
    Members, Rename, RunOutput, run_filter, run_filter_forged, run_filter_named, run_to_round_4_named,
};
use dobush_crypto::filter::run::fixture::{Election, Plan};
use dobush_crypto::filter::run::inputs::Recomputed;
use dobush_crypto::filter::run::messages::FilterTranscript;
use dobush_crypto::filter::run::messages::{Claim, Plain};
use dobush_crypto::filter::run::public::verify_transcript;
use dobush_crypto::filter::totals::FIRST_VOTE;
use dobush_crypto::group::GroupElement;
use dobush_crypto::shuffle::{Rows, ShuffleStatement, prove_shuffle, shuffle_rows};
use dobush_verifier::encoding::Point;
use dobush_verifier::filter::run::{self as vrun, Failure, Outcome, StyleInputs};
use dobush_verifier::filter::sanitation::Kind;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::Value;

/// Every case of review 19's M4: re-votes, replacements with a stale ballot, chains of three
/// credentials (an order) with an override under the first credential, `none` groups, an
/// exception of c + 1 rows ending with an override, a PET failure, a malformed ballot (tbase
/// not TB(X)), an unlisted ballot and overrides.
fn plan() -> Plan {
    Plan {
        voters: 17,
        abstainers: 3,
        revoters: 4,
        replaced: 2,
        stale: 1,
        unlisted: 1,
        overridden: 2,
        twice: 2,
        override_old: 1,
        none_groups: 2,
        exceptions: 1,
        mismatched: 1,
        malformed: 1,
        selections: 3,
        row_limit: 4,
        n: 3,
        t: 2,
    }
}

/// Only the plain cases (re-votes, one replacement each, overrides).
fn simple_plan() -> Plan {
    Plan { voters: 12, twice: 0, override_old: 0, none_groups: 0, exceptions: 0, mismatched: 0, malformed: 0, ..plan() }
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
            .map(|o| vrun::Override {
                index: o.index,
                cred: ct(&o.cred),
                tbase: ct(&o.tbase),
                station: o.station.clone(),
            })
            .collect(),
        list: e.inputs.list.iter().map(point).collect(),
        replacements: e
            .inputs
            .replacements
            .iter()
            .map(|r| vrun::Replacement { index: r.index, new: point(&r.new), old_tbase: ct(&r.old_tbase) })
            .collect(),
        stations: e
            .inputs
            .stations
            .iter()
            .map(|st| vrun::Station { id: st.id.clone(), credentials: st.credentials.iter().map(point).collect() })
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
    honest_with(&plan(), seed)
}

fn honest_with(plan: &Plan, seed: u64) -> Honest {
    run_with(plan, seed, false, false)
}

/// A run whose coordinator names only the malformed replacements (§7.3), with lenient members:
/// the malformed rows go on to the shuffle and are dropped there (`unlisted`, PET failures),
/// which makes the run invalid (M2).
fn unnamed_rows(seed: u64) -> Honest {
    run_with(&plan(), seed, true, false)
}

/// `twice`: the first override is posted again (one voter overridden twice, §7.4).
fn run_with(plan: &Plan, seed: u64, unnamed_rows: bool, twice: bool) -> Honest {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut e = Election::new(plan, &mut rng).unwrap();
    if twice {
        let mut again = e.inputs.overrides[0].clone();
        again.index = e.inputs.overrides.last().unwrap().index + 1;
        e.inputs.overrides.push(again);
    }
    // Key-holder 1 is absent: F = {2, 3}, coordinated by 3.
    e.setup.filter = vec![2, 3];
    e.setup.coordinator = 3;
    let replacements: Vec<u64> = e.inputs.replacements.iter().map(|r| r.index).collect();
    let keep: Rename<'_> =
        &|claims: Vec<Claim>| claims.into_iter().filter(|c| replacements.contains(&c.index)).collect();
    let out = if unnamed_rows {
        run_filter_named(&e.setup, &e.inputs, &e.shares(), &mut rng, keep, Members::Lenient).unwrap()
    } else {
        run_filter(&e.setup, &e.inputs, &e.shares(), &mut rng).unwrap()
    };
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

/// Both implementations refuse `v`, each reading the file strictly; returns the verifier's
/// located failure.
fn refused(h: &Honest, v: &Value) -> Failure {
    let bytes = serde_json::to_vec(v).unwrap();
    let parsed = vrun::parse_transcript(&bytes).unwrap();
    let f = vrun::check_transcript(&h.inputs, &parsed).expect_err("the verifier accepted a tampered transcript");
    if let Ok(t) = FilterTranscript::from_json(&bytes) {
        let mut rng = ChaCha20Rng::seed_from_u64(99);
        assert!(verify_transcript(&h.e.setup, &h.e.inputs, &t, &mut rng).is_err(), "crypto accepted: {f}");
    }
    f
}

/// Like [`refused`], and crypto refuses at the same round and place.
fn refused_by_both_at(h: &Honest, v: &Value, round: u8, at: &str) -> Failure {
    let f = refused(h, v);
    assert_eq!((f.round, f.at.as_str()), (round, at), "the verifier: {f}");
    let t = FilterTranscript::from_json(&serde_json::to_vec(v).unwrap()).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(98);
    let e = verify_transcript(&h.e.setup, &h.e.inputs, &t, &mut rng).unwrap_err();
    let text = e.to_string();
    assert!(text.starts_with(&format!("round {round}, {at}:")), "crypto: {text}");
    f
}

#[test]
fn an_honest_run_counts_the_last_valid_ballot_of_each_listed_voter() {
    let h = honest(1);
    let o = vrun::check_transcript(&h.inputs, &h.json).unwrap();
    assert_eq!(totals(&h.e, &o), h.e.expected_totals, "exactly the last valid ballot per listed voter");
    assert_eq!((o.counted, o.overridden), (h.e.expected_counted, h.e.expected_overridden));
    // §7.3: the unlisted, the mismatched and the malformed ballot, the malformed replacement and
    // the ballot under its `new` are named, shown malformed and dropped before the shuffle.
    let named: Vec<u64> = o.malformed.iter().map(|m| m.index).collect();
    assert_eq!(named, h.out.transcript.malformed.iter().map(|c| c.index).collect::<Vec<_>>());
    assert_eq!(named.len(), 5);
    assert_eq!(o.malformed.iter().filter(|m| m.kind == Kind::Replacement).count(), 1);
    for (a, b) in o.malformed.iter().zip(&h.out.filtered.malformed) {
        assert_eq!((a.index, a.credential, a.tag_base), (b.index, b.credential, b.tag_base));
    }
    assert!(o.unlisted.is_empty() && o.unrooted.is_empty() && o.mismatched.is_empty());
    // §7.4: the override signed at the wrong station is dropped; its voter's e-ballot counts.
    assert_eq!(o.out_of_station.len(), 1);
    assert_eq!(o.out_of_station, h.out.filtered.out_of_station);
    assert!(o.overridden_twice.is_empty());
    assert_eq!(o.exceptions, vec![5], "the chain of c + 1 rows is an exception");
    assert_eq!(
        o.groups as u64,
        h.e.expected_counted + h.e.expected_overridden + 2,
        "one group per voter who voted, the two `none` groups among them"
    );
    let w = h.e.decrypt_point(&raw(&o.weight_total)).unwrap();
    vrun::check_weight(&o, &w).unwrap();
    // Crypto's outcome is the same rows.
    assert_eq!(h.out.filtered.kept_rows.len(), o.kept.len());
    for (a, b) in h.out.filtered.kept_rows.iter().zip(&o.kept) {
        assert!(a.iter().zip(b).all(|(x, y)| x.raw() == raw(y)));
    }
    // The transcript holds dummies (re-votes make groups of two), replacement chains with an
    // order, an override kept, a `none` group, and a revealed dummy.
    let t = &h.out.transcript;
    assert!(!t.shuffles.as_ref().unwrap().dummies.is_empty());
    assert!(t.shuffles.as_ref().unwrap().pointers.is_some());
    assert_eq!(t.selection.as_ref().unwrap().orders.len(), 2, "two chains of three credentials");
    let kinds: Vec<&str> = h.json["selection"]["selection"]["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    for kind in ["order", "start", "override", "over", "after-end", "not-override", "real"] {
        assert!(kinds.contains(&kind), "no {kind} comparison");
    }
    assert!(t.selection.as_ref().unwrap().kept.iter().any(Option::is_none), "a `none` group");
    // The JSON round-trips through crypto's strict reader.
    let back = FilterTranscript::from_json(&serde_json::to_vec(&h.json).unwrap()).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    verify_transcript(&h.e.setup, &h.e.inputs, &back, &mut rng).unwrap();
}

#[test]
fn the_verifier_refuses_other_inputs() {
    let h = honest(2);
    // A ballot the transcript did not filter: the rows shuffle no longer fits.
    let mut inputs = h.inputs.clone();
    inputs.ballots.remove(0);
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
        for p in ["tag", "pet"] {
            paths.push((0, vec![key("keys"), m.into(), key(p), key("proof")], "response"));
        }
        for st in 0..2 {
            paths.push((0, vec![key("keys"), m.into(), key("station_tags"), st.into(), key("proof")], "response"));
            paths.push((3, vec![key("station_tags"), m.into(), key("stations"), st.into(), key("proof")], "response"));
        }
        paths.push((4, vec![key("station_tag_decryptions"), m.into(), key("shares"), key("proof")], "response"));
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

/// Review 19, H1: a chain of c + 1 rows ending with an override (the server let a buyer cast
/// c ballots, then the voter overrode) is an exception outside the cover, yet its override is
/// kept and counted once, by both implementations.
#[test]
fn an_exception_chain_ending_with_an_override_is_counted_once() {
    let plan = Plan { exceptions: 1, ..simple_plan() };
    let h = honest_with(&plan, 11);
    let o = vrun::check_transcript(&h.inputs, &h.json).unwrap();
    assert_eq!(o.exceptions, vec![plan.row_limit as usize + 1]);
    assert_eq!((o.counted, o.overridden), (h.e.expected_counted, h.e.expected_overridden));
    assert_eq!(totals(&h.e, &o), h.e.expected_totals);
    let w = h.e.decrypt_point(&raw(&o.weight_total)).unwrap();
    vrun::check_weight(&o, &w).unwrap();
    assert_eq!(h.out.filtered.overridden, h.e.expected_overridden);
    // The exception's rows are the `real` comparisons after the dropped rows' and the orders.
    let cmps = h.json["selection"]["selection"]["comparisons"].as_array().unwrap();
    let dropped = o.unlisted.len() + o.unrooted.len() + o.mismatched.len();
    let rows: Vec<u64> = cmps
        .iter()
        .skip(dropped)
        .skip_while(|c| c["kind"] == "order")
        .take(plan.row_limit as usize + 1)
        .map(|c| {
            assert_eq!(c["kind"], "real");
            c["a"].as_u64().unwrap()
        })
        .collect();
    let kept = h.json["selection"]["kept"].as_array().unwrap();
    let exception = kept.iter().position(|k| k.as_u64().is_some_and(|r| rows.contains(&r))).unwrap();
    assert!(weight(&h, kept[exception].as_u64().unwrap()) > 1, "the exception keeps its override");
    // Keeping nothing in the exception group is refused: its override is valid.
    let mut forged = h.json.clone();
    forged["selection"]["kept"][exception] = Value::Null;
    assert_eq!(refused(&h, &forged).round, 10);
}

/// Review 19, L2: the pool's size is checked against K_s before any pool row is built.
#[test]
fn copies_that_do_not_fit_the_pool_are_refused_before_it_is_built() {
    let h = honest(13);
    let mut forged = h.json.clone();
    let copies = h.json["shuffles"]["copies"].as_u64().unwrap();
    forged["shuffles"]["copies"] = (copies - 1).into();
    assert_ne!(forged["shuffles"]["copies"], h.json["shuffles"]["copies"]);
    refused_by_both_at(&h, &forged, 5, "pool");
}

/// Review 19, M2: duplicate keys and unknown fields in nested objects are refused by both.
#[test]
fn duplicate_keys_and_nested_unknown_fields_are_refused_by_both() {
    let h = honest(14);
    let text = serde_json::to_string(&h.json).unwrap();
    let duplicated = text.replacen("\"run\":1,", "\"run\":1,\"run\":2,", 1);
    assert_ne!(duplicated, text);
    let f = vrun::parse_transcript(duplicated.as_bytes()).unwrap_err();
    assert_eq!((f.round, f.at.as_str()), (0, "decoding"), "{f}");
    assert!(FilterTranscript::from_json(duplicated.as_bytes()).is_err());
    for (path, round) in [
        (&["shuffles", "rows", "output", "0", "0"][..], 5),
        (&["tags", "0", "rows", "proof"][..], 6),
        (&["keys", "0", "pet", "proof"][..], 0),
    ] {
        let mut forged = h.json.clone();
        let mut at = &mut forged;
        for p in path {
            at = match p.parse::<usize>() {
                Ok(i) => &mut at[i],
                Err(_) => &mut at[*p],
            };
        }
        at["x"] = 0.into();
        let bytes = serde_json::to_vec(&forged).unwrap();
        assert!(FilterTranscript::from_json(&bytes).is_err(), "crypto read {path:?}");
        let f = vrun::check_transcript(&h.inputs, &forged).unwrap_err();
        assert_eq!(f.round, round, "{path:?}: {f}");
    }
}

/// The canonical comparison list for a selection chosen by a forging coordinator: what
/// `check_order` expects, passing over every other row of a group with `over` (true or not),
/// and in a `none` group with the honest alternatives.
fn canonical(layout: &Layout, kept: &[Option<usize>], ords: &[u64], honest: &[Comparison]) -> Vec<Comparison> {
    let mut out: Vec<Comparison> = Vec::new();
    let mut dropped = layout.dropped.clone();
    dropped.sort_unstable();
    out.extend(dropped.into_iter().map(|a| Comparison::Real { a }));
    let mut chains = layout.chains.clone();
    chains.sort_by_key(|c| c.root);
    for c in chains {
        out.extend(c.pointers.windows(2).map(|w| Comparison::Order { a: w[0], b: w[1] }));
    }
    let mut exceptions = layout.exceptions.clone();
    exceptions.sort_by_key(|g| g.root);
    for g in exceptions {
        let mut rows: Vec<usize> = g.rows.iter().map(|r| r.row).collect();
        rows.sort_unstable();
        out.extend(rows.into_iter().map(|a| Comparison::Real { a }));
    }
    for (g, k) in layout.groups_in_order().iter().zip(kept) {
        let p = k.and_then(|k| g.rows.iter().find(|r| r.row == k));
        if let Some(p) = p {
            out.push(match p.interval.start {
                Some(b) => Comparison::Start { a: p.row, b },
                None => Comparison::Real { a: p.row },
            });
            if let Some(b) = p.interval.end {
                out.push(if ords[p.row] >= 1 << 31 {
                    Comparison::Override { a: p.row }
                } else {
                    Comparison::End { a: p.row, b }
                });
            }
        }
        for q in g.rows.iter().filter(|q| Some(q.row) != *k) {
            match p {
                Some(p) => out.push(Comparison::Over { a: p.row, b: q.row }),
                None => out.extend(honest.iter().filter(|c| match c {
                    Comparison::AfterEnd { a, .. }
                    | Comparison::NotOverride { a }
                    | Comparison::BeforeStart { a, .. } => *a == q.row,
                    Comparison::Over { b, .. } => *b == q.row,
                    _ => false,
                })),
            }
        }
    }
    out
}

/// Review 19, M4: a coordinator who keeps an earlier ballot and re-proves the whole comparison
/// list (canonical for its choice) is refused by the range proof of its false `over`.
#[test]
fn a_kept_earlier_ballot_with_re_proven_comparisons_is_refused() {
    let base = honest(15);
    let forge = |layout: &Layout, ords: &[u64], honest: Selection| -> Selection {
        let groups = layout.groups_in_order();
        let (g, q) = groups
            .iter()
            .enumerate()
            .find_map(|(i, g)| {
                let p = honest.kept[i]?;
                let q = g.rows.iter().find(|q| q.row != p && ords[q.row] >= 1 && ords[q.row] < ords[p])?;
                (ords[p] < 1 << 31).then_some((i, q.row))
            })
            .unwrap();
        let mut kept = honest.kept.clone();
        kept[g] = Some(q);
        let comparisons = canonical(layout, &kept, ords, &honest.comparisons);
        Selection { kept, revealed: honest.revealed.clone(), comparisons }
    };
    let mut rng = ChaCha20Rng::seed_from_u64(15);
    let t = run_filter_forged(&base.e.setup, &base.e.inputs, &base.e.shares(), &mut rng, &forge).unwrap();
    let forged = serde_json::to_value(&t).unwrap();
    let f = refused_by_both_at(&base, &forged, 10, "range proofs");
    assert!(f.reason.contains("chunk"), "{f}");
}

/// Review 19, M1: a coordinator who keeps the dummy of a `none` group (the honest answer is
/// `none`) is refused by the transcript checks themselves, before any decryption: a kept row
/// without a start must be proved real, and a dummy is not.
#[test]
fn a_kept_dummy_is_refused_by_the_transcript_checks() {
    let base = honest(16);
    assert!(
        !base.out.transcript.selection.as_ref().unwrap().selection.revealed.is_empty(),
        "the fixture reveals a dummy"
    );
    for with_real in [false, true] {
        let forge = |layout: &Layout, _: &[u64], honest: Selection| -> Selection {
            let groups = layout.groups_in_order();
            let (g, d, end) = groups
                .iter()
                .enumerate()
                .find_map(|(i, g)| {
                    let d = g.rows.iter().find(|r| honest.revealed.iter().any(|(x, _)| *x == r.row))?;
                    Some((i, d.row, d.interval.end?))
                })
                .unwrap();
            let others: Vec<usize> = groups[g].rows.iter().map(|r| r.row).filter(|r| *r != d).collect();
            let at = honest
                .comparisons
                .iter()
                .position(|c| match c {
                    Comparison::AfterEnd { a, .. } | Comparison::BeforeStart { a, .. } => others.contains(a),
                    _ => false,
                })
                .unwrap();
            let mut comparisons = honest.comparisons.clone();
            let mut mine = vec![Comparison::End { a: d, b: end }];
            if with_real {
                mine.insert(0, Comparison::Real { a: d });
            }
            comparisons.splice(at..at, mine);
            let mut kept = honest.kept.clone();
            kept[g] = Some(d);
            let revealed = honest.revealed.iter().filter(|(r, _)| *r != d).cloned().collect();
            Selection { kept, revealed, comparisons }
        };
        let mut rng = ChaCha20Rng::seed_from_u64(16);
        let t = run_filter_forged(&base.e.setup, &base.e.inputs, &base.e.shares(), &mut rng, &forge).unwrap();
        let forged = serde_json::to_value(&t).unwrap();
        let at = if with_real { "range proofs" } else { "comparisons" };
        refused_by_both_at(&base, &forged, 10, at);
    }
}

/// Review 19, M4: a coordinator who re-proves the rows shuffle of an input in which one real
/// row is replaced by a copy of another (a dropped ballot, the count unchanged), or dropped, or
/// whose dummy is not a pool copy, is refused at the rows shuffle: the input is recomputed from
/// the board and the pool, never read from the coordinator.
#[test]
fn a_re_proven_shuffle_that_drops_a_row_is_refused() {
    let h = honest(17);
    let (setup, t) = (&h.e.setup, &h.out.transcript);
    let rec = Recomputed::new(setup, &h.e.inputs).unwrap();
    let pool = t.shuffles.as_ref().unwrap().pool.as_ref().unwrap();
    let mut input = rec.real.clone();
    for d in &t.shuffles.as_ref().unwrap().dummies {
        input.push(rec.dummy(&setup.election_key, pool.output.row(*d as usize).unwrap()).unwrap());
    }
    let mut rng = ChaCha20Rng::seed_from_u64(17);
    // A real row replaced by a copy of another; a real row dropped; the last dummy made from a
    // real row's (X, V) directly instead of a pool copy.
    for tamper in 0..3 {
        let mut forged_in = input.clone();
        match tamper {
            0 => forged_in[0] = forged_in[1].clone(),
            1 => {
                forged_in.remove(0);
            }
            _ => {
                let last = forged_in.len() - 1;
                forged_in[last] = rec.dummy(&setup.election_key, &rec.real[0][..2]).unwrap();
            }
        }
        let rows = Rows::from_rows(forged_in).unwrap();
        let (output, secret) = shuffle_rows(&mut rng, &rec.row_keys, &rows).unwrap();
        let purpose = setup.shuffle_purpose("rows");
        let st = ShuffleStatement {
            context: &setup.context,
            purpose: &purpose,
            keys: &rec.row_keys,
            input: &rows,
            output: &output,
        };
        let proof = prove_shuffle(&mut rng, &st, &secret).unwrap();
        let mut forged = h.json.clone();
        forged["shuffles"]["rows"] = serde_json::json!({ "output": output, "proof": proof });
        refused_by_both_at(&h, &forged, 5, "rows shuffle");
    }
}

/// §7.3 (review 19-sanitation M2): malformed rows left unnamed reach the groups (a marker
/// would mark its victim's group); even a transcript whose members went on is refused by both,
/// at the first row out of its chain.
#[test]
fn unnamed_malformed_rows_are_refused_by_both() {
    let h = unnamed_rows(15);
    assert!(!h.out.filtered.unlisted.is_empty() || !h.out.filtered.mismatched.is_empty());
    let f = refused(&h, &h.json);
    assert_eq!(f.round, 7, "{f}");
    assert!(f.at.starts_with("row ") && f.reason.contains("was not named"), "{f}");
    let t = FilterTranscript::from_json(&serde_json::to_vec(&h.json).unwrap()).unwrap();
    let text = verify_transcript(&h.e.setup, &h.e.inputs, &t, &mut ChaCha20Rng::seed_from_u64(3)).unwrap_err();
    assert!(text.to_string().starts_with(&format!("round 7, {}:", f.at)), "crypto: {text}");
}

fn plain(p: RistrettoPoint) -> Plain {
    Plain(p.compress().to_bytes())
}

/// §7.3: a voter's well-formed ballot, or a well-formed replacement, claimed with its true
/// plaintexts is refused by both in round 2; claimed with false (malformed) plaintexts, the
/// members' test of rounds 3–4 fails, and the transcript is refused by both in round 4, at the
/// entry.
#[test]
fn a_well_formed_entry_named_malformed_is_refused_by_both() {
    let h = honest(16);
    let mut rng = ChaCha20Rng::seed_from_u64(16);
    let ballot = h.e.inputs.ballots.iter().find(|b| b.index == h.e.expected_kept[0]).unwrap();
    let x = h.e.decrypt_point(&ballot.cred.raw()).unwrap();
    let v = h.e.decrypt_point(&ballot.tbase.raw()).unwrap();
    let r = &h.e.inputs.replacements[0];
    let old = h.e.decrypt_point(&r.old_tbase.raw()).unwrap();
    let truths = [
        Claim { index: ballot.index, credential: Some(plain(x)), tag_base: plain(v) },
        Claim { index: r.index, credential: None, tag_base: plain(old) },
    ];
    for claim in truths {
        let mut claims = h.out.transcript.malformed.clone();
        claims.push(claim.clone());
        claims.sort_by_key(|c| c.index);
        let mut forged = h.json.clone();
        forged["malformed"] = serde_json::to_value(&claims).unwrap();
        refused_by_both_at(&h, &forged, 2, &format!("named entry {}", claim.index));
    }
    // A false claim (the true credential, another tag base): a run to round 4 with it.
    let lie = Claim { index: ballot.index, credential: Some(plain(x)), tag_base: plain(v + v) };
    let add = |mut claims: Vec<Claim>| {
        claims.push(lie.clone());
        claims.sort_by_key(|c| c.index);
        claims
    };
    let t = run_to_round_4_named(&h.e.setup, &h.e.inputs, &h.e.shares(), &mut rng, &add).unwrap();
    let json = serde_json::to_value(&t).unwrap();
    refused_by_both_at(&h, &json, 4, &format!("named entry {}", ballot.index));
}

/// §7.3: claims out of order, repeated, of no entry, of the wrong shape or with an unknown
/// field, and an altered, missing or extra share or proof (rounds 3 and 4), are refused by both
/// where they are.
#[test]
fn bad_names_and_sanitation_shares_are_refused_by_both() {
    let h = honest(17);
    let names = h.json["malformed"].as_array().unwrap().clone();
    let (first, second) = (names[0]["index"].as_u64().unwrap(), names[1]["index"].as_u64().unwrap());
    let mut forged = h.json.clone();
    forged["malformed"].as_array_mut().unwrap().swap(0, 1);
    refused_by_both_at(&h, &forged, 2, &format!("named entry {first}"));
    let mut forged = h.json.clone();
    forged["malformed"].as_array_mut().unwrap().insert(1, names[0].clone());
    refused_by_both_at(&h, &forged, 2, &format!("named entry {first}"));
    let mut forged = h.json.clone();
    let nothing = second + 1_000_000;
    let mut claim = names[1].clone();
    claim["index"] = nothing.into();
    forged["malformed"].as_array_mut().unwrap().push(claim);
    refused_by_both_at(&h, &forged, 2, &format!("named entry {nothing}"));
    // A row's claim without its credential, a claim that is no point; an unknown field.
    let row = names.iter().position(|c| !c["credential"].is_null()).unwrap();
    let index = names[row]["index"].as_u64().unwrap();
    let mut forged = h.json.clone();
    forged["malformed"][row]["credential"] = Value::Null;
    refused_by_both_at(&h, &forged, 2, &format!("named entry {index}"));
    let mut forged = h.json.clone();
    forged["malformed"][row]["tag_base"] = "ff".repeat(32).into();
    refused_by_both_at(&h, &forged, 2, &format!("named entry {index}"));
    let mut forged = h.json.clone();
    forged["malformed"][row]["extra"] = 0.into();
    assert_eq!(refused(&h, &forged).round, 2);
    // Another malformed claim for the same entry: the shares are of other differences.
    let mut forged = h.json.clone();
    forged["malformed"][row]["tag_base"] = forged["keys"][0]["pet"]["key"].clone();
    refused_by_both_at(&h, &forged, 3, "member 2, sanitation shares");
    // Round 3: an altered share, another member's proof or key, a test missing, an unknown
    // field, a member missing.
    let mut forged = h.json.clone();
    forged["sanitation"][1]["tests"][0]["shares"]["images"].as_array_mut().unwrap().swap(0, 1);
    refused_by_both_at(&h, &forged, 3, "member 3, sanitation shares");
    for field in ["proof", "key"] {
        let mut forged = h.json.clone();
        let other = if field == "key" {
            h.json["sanitation"][1]["tests"][0]["key"].clone()
        } else {
            h.json["sanitation"][1]["tests"][0]["shares"]["proof"].clone()
        };
        if field == "key" {
            forged["sanitation"][0]["tests"][0]["key"] = other;
        } else {
            forged["sanitation"][0]["tests"][0]["shares"]["proof"] = other;
        }
        refused_by_both_at(&h, &forged, 3, "member 2, sanitation shares");
    }
    let mut forged = h.json.clone();
    forged["sanitation"][0]["tests"].as_array_mut().unwrap().pop();
    refused_by_both_at(&h, &forged, 3, "member 2, sanitation shares");
    let mut forged = h.json.clone();
    forged["sanitation"][0]["tests"][0]["extra"] = 0.into();
    assert_eq!(refused(&h, &forged).round, 3);
    let mut forged = h.json.clone();
    forged["sanitation"].as_array_mut().unwrap().pop();
    refused_by_both_at(&h, &forged, 3, "members");
    // Round 4: an altered share, another member's proof, shares missing, a member missing, an
    // unknown field.
    let list = "sanitation_decryptions";
    let mut forged = h.json.clone();
    forged[list][1]["shares"]["images"].as_array_mut().unwrap().swap(0, 1);
    refused_by_both_at(&h, &forged, 4, "member 3, sanitation decryption shares");
    let mut forged = h.json.clone();
    forged[list][0]["shares"]["proof"] = h.json[list][1]["shares"]["proof"].clone();
    refused_by_both_at(&h, &forged, 4, "member 2, sanitation decryption shares");
    let mut forged = h.json.clone();
    forged[list][0]["shares"] = Value::Null;
    assert_eq!(refused(&h, &forged).round, 4);
    let mut forged = h.json.clone();
    forged[list].as_array_mut().unwrap().pop();
    refused_by_both_at(&h, &forged, 4, "members");
    let mut forged = h.json.clone();
    forged[list][0]["extra"] = 0.into();
    assert_eq!(refused(&h, &forged).round, 4);
    // Shares given for nothing named.
    let mut forged = h.json.clone();
    forged["malformed"] = serde_json::json!([]);
    assert_eq!(refused(&h, &forged).round, 3);
}

/// §7.4: an override out of its station is dropped by both; two overrides with one station tag
/// are reported by both, and the voter is counted once.
#[test]
fn overrides_out_of_their_station_and_twice_are_found_by_both() {
    let h = run_with(&simple_plan(), 18, false, true);
    let o = vrun::check_transcript(&h.inputs, &h.json).unwrap();
    let first = h.e.inputs.overrides[0].index;
    let again = h.e.inputs.overrides.last().unwrap().index;
    assert_eq!(o.overridden_twice, vec![(first, again)]);
    assert_eq!(o.overridden_twice, h.out.filtered.overridden_twice);
    assert_eq!(o.out_of_station, h.out.filtered.out_of_station);
    assert_eq!((o.counted, o.overridden), (h.e.expected_counted, h.e.expected_overridden));
    assert_eq!(totals(&h.e, &o), h.e.expected_totals);
    // The board's stations decide: with the dropped override's station changed, the same
    // transcript no longer fits (the override then belongs in the rows).
    let mut moved = h.inputs.clone();
    let out = o.out_of_station[0];
    moved.overrides.iter_mut().filter(|x| x.index == out).for_each(|x| x.station = "station-b".into());
    let f = vrun::check_transcript(&moved, &h.json).unwrap_err();
    assert_eq!((f.round, f.at.as_str()), (3, "member 2, station tag shares of station station-a"), "{f}");
}

/// §7.4: altered station shuffles, station tag shares and decryption shares are refused by
/// both where they are.
#[test]
fn bad_station_shuffles_and_station_tags_are_refused_by_both() {
    let h = honest(19);
    let mut forged = h.json.clone();
    forged["stations"].as_array_mut().unwrap().swap(0, 1);
    refused_by_both_at(&h, &forged, 2, "station/9:station-a shuffle");
    let mut forged = h.json.clone();
    forged["stations"].as_array_mut().unwrap().pop();
    refused_by_both_at(&h, &forged, 2, "stations");
    let mut forged = h.json.clone();
    forged["station_tags"][1]["stations"][0]["images"].as_array_mut().unwrap().swap(0, 1);
    refused_by_both_at(&h, &forged, 3, "member 3, station tag shares of station station-a");
    // Review 19-sanitation H1: one batch per station against its own key K′_{j,st}. A batch
    // proved under station-a's key, given for station-b, and the two batches swapped.
    let mut forged = h.json.clone();
    forged["station_tags"][0]["stations"][1] = h.json["station_tags"][0]["stations"][0].clone();
    refused_by_both_at(&h, &forged, 3, "member 2, station tag shares of station station-b");
    let mut forged = h.json.clone();
    forged["station_tags"][0]["stations"].as_array_mut().unwrap().swap(0, 1);
    refused_by_both_at(&h, &forged, 3, "member 2, station tag shares of station station-a");
    let mut forged = h.json.clone();
    forged["station_tags"][1]["stations"][1] = Value::Null;
    refused_by_both_at(&h, &forged, 3, "member 3, station tag shares of station station-b");
    let mut forged = h.json.clone();
    forged["station_tags"][1]["stations"].as_array_mut().unwrap().pop();
    refused_by_both_at(&h, &forged, 3, "member 3, station tag shares");
    let mut forged = h.json.clone();
    forged["station_tag_decryptions"][0]["shares"]["images"].as_array_mut().unwrap().swap(0, 1);
    refused_by_both_at(&h, &forged, 4, "member 2, station tag decryption shares");
    let mut forged = h.json.clone();
    forged["station_tag_decryptions"].as_array_mut().unwrap().pop();
    refused_by_both_at(&h, &forged, 4, "members");
    // A package that names a station twice.
    let mut inputs = h.inputs.clone();
    inputs.stations.push(inputs.stations[0].clone());
    let f = vrun::check_transcript(&inputs, &h.json).unwrap_err();
    assert_eq!((f.round, f.at.as_str()), (2, "station station-a"), "{f}");
}

/// §7.1 (review 19-sanitation H1): each member's station tag key shares, one per station of the
/// package with a proof bound to its station, are refused by both where a proof fails or a
/// share is missing.
#[test]
fn forged_or_missing_station_keys_are_refused_by_both() {
    let h = honest(21);
    let one = format!("01{}", "0".repeat(62));
    let mut forged = h.json.clone();
    forged["keys"][1]["station_tags"][1]["proof"]["response"] = one.into();
    refused_by_both_at(&h, &forged, 0, "member 3, station-tag key of station station-b");
    // Station-a's key and proof given for station-b (the proof binds the station id).
    let mut forged = h.json.clone();
    forged["keys"][0]["station_tags"][1] = h.json["keys"][0]["station_tags"][0].clone();
    refused_by_both_at(&h, &forged, 0, "member 2, station-tag key of station station-b");
    // Member 3's key and proof given as member 2's (the proof binds the prover).
    let mut forged = h.json.clone();
    forged["keys"][0]["station_tags"][0] = h.json["keys"][1]["station_tags"][0].clone();
    refused_by_both_at(&h, &forged, 0, "member 2, station-tag key of station station-a");
    let mut forged = h.json.clone();
    forged["keys"][0]["station_tags"].as_array_mut().unwrap().pop();
    refused_by_both_at(&h, &forged, 0, "member 2, station-tag keys");
    // The old single `station_tag` key is no field of `dobush-filter/2` any more.
    let mut forged = h.json.clone();
    forged["keys"][0]["station_tag"] = h.json["keys"][0]["tag"].clone();
    assert_eq!(refused(&h, &forged).round, 0);
    // A package with one station more than the keys were made for.
    let mut inputs = h.inputs.clone();
    inputs.stations.push(vrun::Station { id: "station-c".into(), credentials: Vec::new() });
    let f = vrun::check_transcript(&inputs, &h.json).unwrap_err();
    assert_eq!((f.round, f.at.as_str()), (0, "member 2, station-tag keys"), "{f}");
}

/// Review 19-sanitation L4: the shuffle purposes length-prefix the style and station ids, so a
/// station id with `/` in it is only a name.
#[test]
fn shuffle_purposes_length_prefix_style_and_station_ids() {
    let e = Election::new(&simple_plan(), &mut ChaCha20Rng::seed_from_u64(22)).unwrap();
    assert_eq!(e.setup.shuffle_purpose("pool"), "filter/1/7:style-1/pool");
    assert_eq!(
        e.setup.shuffle_purpose(&dobush_crypto::filter::run::station_list("a/pool")),
        "filter/1/7:style-1/station/6:a/pool"
    );
}

/// §7.3, §7.4: a style whose every ballot and override is dropped before round 5 has an empty
/// filter that both accept with nothing counted; rounds 5–10 added to it are refused by both.
#[test]
fn a_style_whose_every_row_is_dropped_has_an_empty_filter_for_both() {
    let full = honest(20);
    let mut e = run_with(&plan(), 20, false, false).e;
    let named: Vec<u64> = full.out.transcript.malformed.iter().map(|c| c.index).collect();
    let out_of_station = full.out.filtered.out_of_station.clone();
    e.inputs.ballots.retain(|b| named.contains(&b.index));
    e.inputs.overrides.retain(|o| out_of_station.contains(&o.index));
    let mut rng = ChaCha20Rng::seed_from_u64(20);
    let out = run_filter(&e.setup, &e.inputs, &e.shares(), &mut rng).unwrap();
    let json = serde_json::to_value(&out.transcript).unwrap();
    let inputs = verifier_inputs(&e);
    let o = vrun::check_transcript(&inputs, &json).unwrap();
    assert_eq!((o.counted, o.overridden, o.groups, o.kept.len()), (0, 0, 0, 0));
    assert_eq!(o.malformed.len(), out.filtered.malformed.len());
    let w = e.decrypt_point(&raw(&o.weight_total)).unwrap();
    vrun::check_weight(&o, &w).unwrap();
    let h = Honest { e, out, json, inputs };
    let mut forged = h.json.clone();
    forged["shuffles"] = full.json["shuffles"].clone();
    refused_by_both_at(&h, &forged, 5, "rows");
}

/// §7.11 (review 19-filtered H4): while TL-3 is not checked, overridden_s is bounded by the
/// style's override entries; without any, a counted ballot claimed as an override is refused by
/// both at round 10's counts, though the counts still add up to the kept rows.
#[test]
fn an_override_claimed_without_override_entries_is_refused_by_both() {
    let plan = Plan { overridden: 0, override_old: 0, ..simple_plan() };
    let h = honest_with(&plan, 23);
    assert!(h.e.inputs.overrides.is_empty() && h.inputs.overrides.is_empty());
    let o = vrun::check_transcript(&h.inputs, &h.json).unwrap();
    assert_eq!(o.overridden, 0);
    let mut forged = h.json.clone();
    let counted = forged["selection"]["counted"].as_u64().unwrap();
    forged["selection"]["counted"] = (counted - 1).into();
    forged["selection"]["overridden"] = 1.into();
    let f = refused_by_both_at(&h, &forged, 10, "counts");
    assert!(f.reason.contains("0 override entries"), "{f}");
}
