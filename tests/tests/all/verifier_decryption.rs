//! The verifier's key-ceremony and decryption checks (`06-dkg.md`, `07-threshold.md` §Verifier
//! checklist) on records of simulated elections: a real 3-of-5 ceremony, decryption with
//! key-holder 3 absent and key-holder 5 uploading an invalid (signed) share of every total. Each
//! tampering is detected and located; a correctly handled cheater is reported, not failed; a
//! share its key-holder did not sign is a failure (07-threshold.md §Share signature).

use dobush_crypto::context::ElectionContext;
use dobush_crypto::elgamal::Ciphertext;
use dobush_crypto::parameters::ReVotePolicy;
use dobush_crypto::testing::{InProcessCeremony, run_ceremony_for_campaign};
use dobush_crypto::threshold::KeyHolderKeys;
use dobush_crypto::threshold::decrypt::DecryptionShare;
use dobush_crypto::threshold::dkg::Signed;
use dobush_tests::fixtures::pilot_manifest;
use dobush_verifier::load::package_context;
use dobush_verifier::record::{Options, verify};
use dobush_verifier::report::Report;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::Value;

use crate::verifier::{Closed, check, election, failing, flip_hex};

/// Key-holders in the order they upload shares of each total (3 is absent).
const UPLOADERS: [usize; 4] = [1, 2, 4, 5];

/// Position in `decryption_shares` of key-holder `l`'s share of total (contest, option).
fn share_pos(contest: usize, option: usize, l: usize) -> usize {
    let before = if contest == 0 { 0 } else { 9 };
    4 * (before + option) + UPLOADERS.iter().position(|x| *x == l).unwrap()
}

fn to_value(c: &Closed) -> Value {
    serde_json::to_value(&c.record).unwrap()
}

/// Key-holder `l` signs share `pos` of `rec` as it now stands (a key-holder who signs a wrong
/// share: what the server accepts and sets aside in its name).
fn sign_as(rec: &mut Value, c: &Closed, pos: usize, l: usize) {
    let mut share: DecryptionShare = serde_json::from_value(rec["decryption_shares"][pos].clone()).unwrap();
    let ct: Ciphertext = serde_json::from_value(
        rec["encrypted_totals"][share.contest as usize]["totals"][share.option as usize].clone(),
    )
    .unwrap();
    let keys = key_holder_keys();
    share.sign(&c.record.package.extended_hash, &ct, keys[l - 1].signing_key(), &mut ChaCha20Rng::seed_from_u64(5));
    rec["decryption_shares"][pos] = serde_json::to_value(&share).unwrap();
}

/// Any change to the list of decryption shares breaks the signed protocol, which names the list
/// (07-threshold.md §Share list digest).
fn assert_share_list_unsigned(r: &Report) {
    assert_eq!(
        r.failures_of("protocol"),
        vec!["protocol: its decryption_shares is not the digest of the record's decryption shares (a share added, dropped or moved after the members signed)".to_owned()],
        "{}",
        r.text()
    );
}

fn check_value(rec: &Value, c: &Closed) -> Report {
    let mut jsonl = String::new();
    for l in c.board.lines() {
        jsonl.push_str(l);
        jsonl.push('\n');
    }
    verify(&serde_json::to_string(rec).unwrap(), jsonl.as_bytes(), &Options::default())
}

/// The simulated election's key-holders' secret keys: its ceremony is the first thing drawn
/// from the seeded RNG (`verifier::election`, seed 77), so running it again gives the same keys.
fn key_holder_keys() -> Vec<KeyHolderKeys> {
    let mut rng = ChaCha20Rng::seed_from_u64(77);
    run_ceremony_for_campaign(&mut rng, &pilot_manifest().campaign_id, 5, 3).unwrap().keys
}

#[test]
fn honest_record_passes_ceremony_and_decryption() {
    for policy in [ReVotePolicy::Forbidden, ReVotePolicy::LastCounts] {
        let c = election(policy);
        let r = check(&c.record, c.board.lines());
        assert!(r.passed(), "{}", r.text());
        let names: Vec<&str> = r.checks.iter().map(|c| c.name).collect();
        assert!(
            names.ends_with(&["ceremony", "filter", "filtered", "filtered totals", "protocol", "decryption"]),
            "{names:?}"
        );
        assert!(r.notes_of("ceremony").iter().any(|n| n.contains("qualified dealers [1, 2, 3, 4, 5]")), "{}", r.text());
        let notes = r.notes_of("decryption");
        assert_eq!(
            notes
                .iter()
                .filter(|n| n.contains("of key-holder 5 set aside: signed by it, with an invalid proof"))
                .count(),
            11,
            "{}",
            r.text()
        );
        assert!(
            notes.iter().any(|n| n == "44 shares, 33 valid, 11 set aside, 0 that the server must have refused"),
            "{}",
            r.text()
        );
    }
}

#[test]
fn wrong_partial_decryption_is_located() {
    let c = election(ReVotePolicy::Forbidden);
    let mut rec = to_value(&c);
    // Key-holder 1's share of council option 2 replaced by its share of option 3: its
    // signature fails, so the share is nobody's and the server must have refused it.
    let pos = share_pos(0, 2, 1);
    let other = rec["decryption_shares"][share_pos(0, 3, 1)]["share"].clone();
    rec["decryption_shares"][pos]["share"] = other;
    let r = check_value(&rec, &c);
    assert_eq!(failing(&r), vec!["protocol", "decryption"], "{}", r.text());
    assert_share_list_unsigned(&r);
    let f = r.failures_of("decryption");
    assert!(
        f.iter().any(|f| f.starts_with(&format!(
            "share #{pos} is not signed by key-holder 1, whom it names, for contest \"council\", option 2"
        ))),
        "{}",
        r.text()
    );
    // Signed so by key-holder 1: its own wrong share, set aside in its name; two valid remain.
    sign_as(&mut rec, &c, pos, 1);
    let r = check_value(&rec, &c);
    let notes = r.notes_of("decryption");
    assert!(
        notes.iter().any(|n| n
            .contains("key-holder 1 set aside: signed by it, with an invalid proof for contest \"council\", option 2")),
        "{}",
        r.text()
    );
    assert_eq!(failing(&r), vec!["protocol", "decryption"], "{}", r.text());
    assert_share_list_unsigned(&r);
    let f = r.failures_of("decryption");
    assert_eq!(f.len(), 1, "{}", r.text());
    assert!(f[0].starts_with("contest \"council\", option 2 (\"c3\"): only 2 valid decryption shares"), "{}", r.text());
}

#[test]
fn changed_decryption_proof_response_is_located() {
    let c = election(ReVotePolicy::Forbidden);
    let mut rec = to_value(&c);
    let pos = share_pos(1, 0, 2);
    flip_hex(&mut rec["decryption_shares"][pos]["proof"]["response"]);
    sign_as(&mut rec, &c, pos, 2);
    let r = check_value(&rec, &c);
    assert!(
        r.notes_of("decryption").iter().any(|n| n.contains(
            "key-holder 2 set aside: signed by it, with an invalid proof for contest \"question\", option 0"
        )),
        "{}",
        r.text()
    );
    assert_eq!(failing(&r), vec!["protocol", "decryption"], "{}", r.text());
    assert_share_list_unsigned(&r);
    assert!(
        r.failures_of("decryption")
            .iter()
            .all(|f| f.starts_with("contest \"question\", option 0 (\"yes\"): only 2 valid")),
        "{}",
        r.text()
    );
}

/// Every part of a share is under its key-holder's signature: one changed field, or the
/// signature itself, and the share is refused as nobody's.
#[test]
fn a_share_altered_in_any_field_is_no_key_holders() {
    let c = election(ReVotePolicy::Forbidden);
    let pos = share_pos(0, 1, 4);
    type Edit = (&'static str, fn(&mut Value));
    let edits: [Edit; 8] = [
        ("share", |v| flip_hex(&mut v["share"])),
        ("proof.a", |v| flip_hex(&mut v["proof"]["a"])),
        ("proof.b", |v| flip_hex(&mut v["proof"]["b"])),
        ("proof.response", |v| flip_hex(&mut v["proof"]["response"])),
        ("signature.r", |v| flip_hex(&mut v["signature"]["r"])),
        ("signature.s", |v| flip_hex(&mut v["signature"]["s"])),
        ("key_holder", |v| v["key_holder"] = Value::from(2)),
        ("option", |v| v["option"] = Value::from(2)),
    ];
    for (what, edit) in edits {
        let mut rec = to_value(&c);
        edit(&mut rec["decryption_shares"][pos]);
        let r = check_value(&rec, &c);
        assert!(!r.passed(), "{what}: {}", r.text());
        assert!(
            r.failures_of("decryption").iter().any(|f| f.starts_with(&format!("share #{pos} "))
                || f.starts_with(&format!("decryption share #{pos}"))),
            "{what}: {}",
            r.text()
        );
    }
}

/// A share of an unknown key-holder or for no total is nobody's signed share: the server must
/// have refused it, so the record fails, naming it.
#[test]
fn shares_of_an_unknown_key_holder_or_for_no_total_are_refused() {
    let c = election(ReVotePolicy::Forbidden);
    let cases: [(&str, Value, &str); 2] = [
        ("key_holder", Value::from(9), "unknown key-holder 9 (n = 5), for contest \"council\", option 4"),
        ("option", Value::from(99), "of key-holder 2 is for no total (contest 0, option 99)"),
    ];
    for (field, value, needle) in cases {
        let mut rec = to_value(&c);
        let mut share = rec["decryption_shares"][share_pos(0, 4, 2)].clone();
        share[field] = value;
        rec["decryption_shares"].as_array_mut().unwrap().push(share);
        let r = check_value(&rec, &c);
        assert_eq!(failing(&r), vec!["protocol", "decryption"], "{}", r.text());
        assert_share_list_unsigned(&r);
        assert!(r.failures_of("decryption").iter().any(|n| n.contains(needle)), "{needle}: {}", r.text());
    }
}

#[test]
fn fewer_than_t_shares_fails_naming_the_total() {
    let c = election(ReVotePolicy::Forbidden);
    let mut rec = to_value(&c);
    // Key-holder 4's share of "question" option 1 is withdrawn: 1 and 2 remain valid, 5 is invalid.
    rec["decryption_shares"].as_array_mut().unwrap().remove(share_pos(1, 1, 4));
    let r = check_value(&rec, &c);
    assert_eq!(failing(&r), vec!["protocol", "decryption"], "{}", r.text());
    assert_share_list_unsigned(&r);
    assert_eq!(
        r.failures_of("decryption"),
        vec!["contest \"question\", option 1 (\"no\"): only 2 valid decryption shares of distinct key-holders, t = 3 are required".to_owned()]
    );
    // A duplicate does not count twice.
    let mut rec = to_value(&c);
    let dup = rec["decryption_shares"][share_pos(1, 1, 1)].clone();
    rec["decryption_shares"][share_pos(1, 1, 4)] = dup;
    let r = check_value(&rec, &c);
    assert!(r.notes_of("decryption").iter().any(|n| n.contains("a second share of key-holder 1")), "{}", r.text());
    assert!(
        r.failures_of("decryption")
            .iter()
            .any(|f| f.starts_with("contest \"question\", option 1 (\"no\"): only 2 valid")),
        "{}",
        r.text()
    );
}

#[test]
fn wrong_result_count_is_located() {
    let c = election(ReVotePolicy::Forbidden);
    let mut rec = c.record.clone();
    rec.results[0].counts[5] += 1;
    let r = check(&rec, c.board.lines());
    assert!(
        r.failures_of("decryption").contains(
            &"contest \"council\", option 5 (\"c6\"): the published count 2 differs from the decrypted total 1"
                .to_owned()
        ),
        "{}",
        r.text()
    );
    let mut rec = c.record.clone();
    rec.results[1].ballots += 1;
    let r = check(&rec, c.board.lines());
    assert!(
        r.failures_of("decryption").iter().any(|f| f.starts_with("contest \"question\": the results say 11 ballots")),
        "{}",
        r.text()
    );
}

#[test]
fn altered_ceremony_signature_is_located() {
    let c = election(ReVotePolicy::Forbidden);
    let mut rec = to_value(&c);
    flip_hex(&mut rec["ceremony"]["commitment_hashes"][0]["signature"]["s"]);
    let r = check_value(&rec, &c);
    let f = r.failures_of("ceremony");
    assert!(
        f.contains(
            &"ceremony: commitment hash of dealer 1: signature invalid under the sender's signing key".to_owned()
        ),
        "{}",
        r.text()
    );
    // The message is rejected, so dealer 1 has no commitment hash and is out: the key differs.
    assert!(r.notes_of("ceremony").contains(&"dealer 1 disqualified: no_commitment_hash".to_owned()), "{}", r.text());
    assert!(f.iter().any(|m| m.starts_with("the package's joint key")), "{}", r.text());

    // A share re-attributed to another recipient: its signature no longer holds.
    let mut rec = to_value(&c);
    // shares[5] is dealer 2's share to key-holder 3.
    rec["ceremony"]["shares"][5]["message"]["recipient"] = Value::from(4);
    let r = check_value(&rec, &c);
    assert!(
        r.failures_of("ceremony")
            .iter()
            .any(|m| m
                == "ceremony: share of dealer 2 to key-holder 4: signature invalid under the sender's signing key"),
        "{}",
        r.text()
    );
}

#[test]
fn altered_coefficient_proof_is_detected() {
    let c = election(ReVotePolicy::Forbidden);
    // An outsider alters dealer 2's proof of coefficient 1: the reveal's signature fails.
    let mut rec = to_value(&c);
    flip_hex(&mut rec["ceremony"]["reveals"][1]["message"]["proofs"][1]["response"]);
    let r = check_value(&rec, &c);
    assert!(
        r.failures_of("ceremony")
            .contains(&"ceremony: reveal of dealer 2: signature invalid under the sender's signing key".to_owned()),
        "{}",
        r.text()
    );

    // Dealer 2 itself publishes the altered proof, with a matching commitment hash, both
    // signed: the coefficient proof check disqualifies it, and the package's key is not the
    // ceremony's any more.
    let keys = key_holder_keys();
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let base = c.record.package.base_hash;
    let mut cer = c.record.ceremony.clone();
    let mut reveal = serde_json::to_value(&cer.reveals[1].message).unwrap();
    flip_hex(&mut reveal["proofs"][1]["response"]);
    let reveal: dobush_crypto::threshold::dkg::DealerCommitments = serde_json::from_value(reveal).unwrap();
    cer.commitment_hashes[1] = Signed::sign(reveal.commitment_hash(&base), &base, &keys[1], &mut rng);
    cer.reveals[1] = Signed::sign(reveal, &base, &keys[1], &mut rng);
    let mut rec = c.record.clone();
    rec.ceremony = cer;
    let r = check(&rec, c.board.lines());
    assert!(
        r.notes_of("ceremony")
            .contains(&"dealer 2 disqualified: invalid_coefficient_proof {coefficient: 1}".to_owned()),
        "{}",
        r.text()
    );
    let f = r.failures_of("ceremony");
    assert_eq!(f.len(), 1, "{}", r.text());
    assert!(f[0].starts_with("the package's joint key"), "{}", r.text());
}

#[test]
fn joint_key_that_is_not_the_ceremonys_is_refused() {
    let c = election(ReVotePolicy::Forbidden);
    let mut rec = c.record.clone();
    // Another valid key (key-holder 1's communication key), with the extended hash recomputed
    // so that the package itself is consistent.
    rec.package.joint_key =
        serde_json::from_value(serde_json::to_value(rec.package.key_holders[0].comm_key).unwrap()).unwrap();
    rec.package.extended_hash = *ElectionContext::new(
        rec.package.base_hash,
        rec.package.joint_key,
        rec.package.manifest.clone(),
        rec.package.commission.hash(),
        dobush_crypto::parameters::parameters_hash(&rec.package.board_key, &rec.package.parameters),
    )
    .unwrap()
    .extended_hash();
    let r = check(&rec, c.board.lines());
    assert!(r.checks.iter().find(|c| c.name == "context").unwrap().passed, "{}", r.text());
    let f = r.failures_of("ceremony");
    assert_eq!(f.len(), 1, "{}", r.text());
    assert!(f[0].starts_with("the package's joint key"), "{}", r.text());
}

/// A ceremony with a cheating dealer and a groundless complaint, run by `dobush-crypto`'s
/// in-process key-holders under the simulated election's keys: the verifier's adjudication
/// (DLEQ, key derivation, ChaCha20-Poly1305, Feldman) agrees with crypto's outcome.
#[test]
fn complaints_are_adjudicated_like_crypto() {
    let c = election(ReVotePolicy::Forbidden);
    let base = c.record.package.base_hash;
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let mut ip = InProcessCeremony::with_keys(&mut rng, base, key_holder_keys(), 3).unwrap();
    ip.round1(&mut rng).unwrap();
    ip.round2(&mut rng).unwrap();
    // Dealer 2 sends key-holder 4 a well-formed share of another polynomial.
    let bad = ip.polynomials[0].encrypt_share(&base, 2, &ip.publics[3], &mut rng).unwrap();
    let signed = Signed::sign(bad, &base, &ip.keys[1], &mut rng);
    ip.replace_share(signed);
    assert_eq!(ip.round3(&mut rng).unwrap(), 1);
    // Key-holder 3 complains about dealer 1's honest share.
    let honest = ip
        .transcript
        .shares
        .iter()
        .find(|s| s.message.dealer == 1 && s.message.recipient == 3)
        .unwrap()
        .message
        .clone();
    let groundless = ip.keys[2].complain(&base, &honest, &mut rng).unwrap();
    let signed = Signed::sign(groundless, &base, &ip.keys[2], &mut rng);
    ip.transcript.complaints.push(signed);
    let (outcome, _) = ip.finish().unwrap();

    let rec = serde_json::json!({ "ceremony": serde_json::to_value(&ip.transcript).unwrap() });
    let ctx = package_context(&serde_json::to_value(&c.record.package).unwrap()).unwrap();
    let mut run = Report::start("V00", "ceremony", "-");
    let ours = dobush_verifier::ceremony::check(&rec, &ctx, &mut run).unwrap();
    let mut rep = Report::default();
    rep.finish(run);
    let notes = rep.notes_of("ceremony");
    assert!(notes.contains(&"dealer 2 disqualified: share_mismatch {recipient: 4}".to_owned()), "{}", rep.text());
    assert!(
        notes.contains(&"unfounded complaint of key-holder 3 against dealer 1: share_is_valid".to_owned()),
        "{}",
        rep.text()
    );
    assert_eq!(ours.qualified, vec![1, 3, 4, 5]);
    assert_eq!(outcome.qualified, vec![1, 3, 4, 5]);
    let hex = |p: &curve25519_dalek::ristretto::RistrettoPoint| Value::from(hex::encode(p.compress().to_bytes()));
    assert_eq!(hex(&ours.joint_key), serde_json::to_value(outcome.joint_key).unwrap());
    assert_eq!(
        ours.verification_keys.iter().map(hex).collect::<Vec<_>>(),
        serde_json::to_value(&outcome.verification_keys).unwrap().as_array().unwrap().clone()
    );
    // The only failure: the simulated election's package carries the honest ceremony's key.
    let f = rep.failures_of("ceremony");
    assert_eq!(f.len(), 1, "{}", rep.text());
    assert!(f[0].starts_with("the package's joint key"));
}
