//! The independent verifier on records of simulated elections: the honest record passes; each
//! kind of tampering — by an outsider, or by a server that re-signs its forged board — is
//! detected and located.

use dobush_crypto::board::{BoardKey, TreeHead as CryptoHead};
use dobush_crypto::parameters::{ReVotePolicy, parameters_hash};
use dobush_crypto::record::{Board, BoardEntry, ElectionRecord};
use dobush_tests::election::SimElection;
use dobush_tests::fixtures::pilot_manifest;
pub(crate) use dobush_tests::fixtures::pilot_vote as vote;
use dobush_verifier::record::{Options, verify};
use dobush_verifier::report::Report;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::Value;

pub(crate) struct Closed {
    pub(crate) record: ElectionRecord,
    pub(crate) board: Board,
    pub(crate) key: BoardKey,
}

/// 12 e-voters, 10 cast, two of them re-vote (last counts), two check a ballot first.
pub(crate) fn election(policy: ReVotePolicy) -> Closed {
    let mut e = SimElection::new(pilot_manifest(), policy, 12, ChaCha20Rng::seed_from_u64(77));
    e.challenge(0, &vote(1, true));
    for i in 0..10 {
        e.cast(i, &vote(i % 9, i % 3 == 0));
    }
    e.challenge(5, &vote(2, false));
    if policy == ReVotePolicy::LastCounts {
        e.cast(3, &vote(8, false));
        e.cast(4, &vote(7, true));
    }
    let (record, board, key) = e.close();
    Closed { record, board, key }
}

pub(crate) fn check(record: &ElectionRecord, lines: &[String]) -> Report {
    let json = serde_json::to_string(record).unwrap();
    let mut jsonl = String::new();
    for l in lines {
        jsonl.push_str(l);
        jsonl.push('\n');
    }
    verify(&json, jsonl.as_bytes(), &Options::default())
}

/// A malicious server: rewrites the board and re-signs every head over the forged board.
pub(crate) fn forge(c: &Closed, lines: Vec<String>) -> (ElectionRecord, Vec<String>) {
    let board = Board::from_lines(lines.clone());
    let mut record = c.record.clone();
    let n = board.size();
    let last = record.tree_heads.len().saturating_sub(1);
    let mut previous = CryptoHead::genesis(&c.record.package.base_hash);
    for (k, h) in record.tree_heads.iter_mut().enumerate() {
        let size = if k == last { n } else { h.head.size.min(n) };
        *h = c.key.sign(CryptoHead { size, root: board.log().root_at(size).unwrap(), previous, ..h.head });
        previous = h.head.link();
    }
    (record, lines)
}

pub(crate) fn failing(r: &Report) -> Vec<&'static str> {
    r.checks.iter().filter(|c| !c.passed).map(|c| c.name).collect()
}

fn line_index(lines: &[String], kind: &str, nth: usize) -> usize {
    lines.iter().enumerate().filter(|(_, l)| l.contains(&format!("\"type\":\"{kind}\""))).nth(nth).unwrap().0
}

fn edit(line: &str, f: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(line).unwrap();
    f(&mut v);
    serde_json::to_string(&v).unwrap()
}

pub(crate) fn flip_hex(v: &mut Value) {
    let s = v.as_str().unwrap().to_owned();
    let c = if s.starts_with('0') { '1' } else { '0' };
    *v = Value::from(format!("{c}{}", &s[1..]));
}

#[test]
fn honest_records_verify() {
    for policy in [ReVotePolicy::Forbidden, ReVotePolicy::LastCounts] {
        let c = election(policy);
        let r = check(&c.record, c.board.lines());
        assert!(r.passed(), "{}", r.text());
        assert_eq!(
            r.checks.iter().find(|c| c.name == "ballots").unwrap().count,
            if policy == ReVotePolicy::LastCounts { 14 } else { 12 }
        );
    }
}

/// `dobush-record/1` is dropped, not read beside `dobush-record/2`; nor is a later version.
#[test]
fn unknown_version_is_refused() {
    let c = election(ReVotePolicy::Forbidden);
    for version in ["dobush-record/1", "dobush-record/3", ""] {
        let mut rec = c.record.clone();
        rec.version = version.into();
        let r = check(&rec, c.board.lines());
        assert_eq!(failing(&r), vec!["version"], "{version}");
    }
}

#[test]
fn wrong_election_context_is_refused() {
    let c = election(ReVotePolicy::Forbidden);
    let mut rec = c.record.clone();
    rec.package.manifest.contests[0].options[0].name = rec.package.manifest.contests[0].options[1].name.clone();
    let r = check(&rec, c.board.lines());
    assert!(r.failures_of("context").iter().any(|f| f.contains("extended hash")), "{}", r.text());
    let mut rec = c.record.clone();
    rec.package.base_hash[0] ^= 1;
    assert!(!check(&rec, c.board.lines()).passed());
}

#[test]
fn changed_ciphertext_is_located() {
    let c = election(ReVotePolicy::Forbidden);
    let mut lines = c.board.lines().to_vec();
    let i = line_index(&lines, "ballot", 3);
    lines[i] = edit(&lines[i], |v| flip_hex(&mut v["ballot"]["contests"][0]["selections"][2]["ciphertext"]["beta"]));
    let (rec, lines) = forge(&c, lines);
    let r = check(&rec, &lines);
    let f = r.failures_of("ballots");
    assert!(f.iter().any(|m| m.starts_with(&format!("entry {i}"))), "{}", r.text());
}

#[test]
fn changed_proof_response_and_challenge_are_located() {
    let c = election(ReVotePolicy::Forbidden);
    for field in ["z", "c"] {
        let mut lines = c.board.lines().to_vec();
        let i = line_index(&lines, "ballot", 1);
        lines[i] = edit(&lines[i], |v| flip_hex(&mut v["ballot"]["contests"][1]["selections"][0]["proof"][1][field]));
        let (rec, lines) = forge(&c, lines);
        let r = check(&rec, &lines);
        assert!(
            r.failures_of("ballots").iter().any(|m| m.starts_with(&format!("entry {i}")) && m.contains("question")),
            "{}",
            r.text()
        );
    }
}

#[test]
fn changed_tracking_code_is_located() {
    let c = election(ReVotePolicy::Forbidden);
    let mut lines = c.board.lines().to_vec();
    let i = line_index(&lines, "ballot", 2);
    lines[i] = edit(&lines[i], |v| flip_hex(&mut v["tracking_code"]));
    let (rec, lines) = forge(&c, lines);
    let r = check(&rec, &lines);
    assert!(r.failures_of("ballots").iter().any(|m| m.contains("tracking code")), "{}", r.text());
}

#[test]
fn changed_tree_head_signature_is_detected() {
    let c = election(ReVotePolicy::Forbidden);
    let mut rec = c.record.clone();
    rec.tree_heads[3].signature[7] ^= 1;
    let r = check(&rec, c.board.lines());
    assert!(
        r.failures_of("board").iter().any(|m| m.contains("tree head 3") && m.contains("signature")),
        "{}",
        r.text()
    );
}

#[test]
fn an_outsider_changing_the_board_breaks_the_signed_roots() {
    let c = election(ReVotePolicy::Forbidden);
    let mut lines = c.board.lines().to_vec();
    let i = line_index(&lines, "ballot", 0);
    lines[i] = edit(&lines[i], |v| flip_hex(&mut v["ballot"]["signature"]["s"]));
    let r = check(&c.record, &lines);
    assert!(r.failures_of("board").iter().any(|m| m.contains("root differs")), "{}", r.text());
    assert!(r.failures_of("ballots").iter().any(|m| m.contains("signature")), "{}", r.text());
}

#[test]
fn reordered_entries_are_detected() {
    let c = election(ReVotePolicy::Forbidden);
    let mut lines = c.board.lines().to_vec();
    lines.swap(0, 1); // opened before the credential list
    let (rec, lines) = forge(&c, lines);
    let r = check(&rec, &lines);
    assert!(failing(&r).contains(&"entries"), "{}", r.text());
    // Without re-signing, a swap of two ballots changes every later root.
    let mut lines = c.board.lines().to_vec();
    let (a, b) = (line_index(&lines, "ballot", 1), line_index(&lines, "ballot", 2));
    lines.swap(a, b);
    assert!(failing(&check(&c.record, &lines)).contains(&"board"));
}

#[test]
fn dropped_ballot_changes_totals_or_roots() {
    let c = election(ReVotePolicy::Forbidden);
    let mut lines = c.board.lines().to_vec();
    lines.remove(line_index(&lines, "ballot", 4));
    let r = check(&c.record, &lines);
    assert!(failing(&r).contains(&"board"), "{}", r.text());
    let (rec, lines) = forge(&c, lines);
    let r = check(&rec, &lines);
    assert!(failing(&r).contains(&"totals"), "{}", r.text());
}

#[test]
fn ballot_stuffed_with_a_credential_not_on_the_list_is_located() {
    let c = election(ReVotePolicy::Forbidden);
    // The server makes a valid ballot under a credential it invented.
    let mut e = SimElection::new(pilot_manifest(), ReVotePolicy::Forbidden, 1, ChaCha20Rng::seed_from_u64(1));
    e.ctx = dobush_crypto::context::ElectionContext::new(
        c.record.package.base_hash,
        c.record.package.joint_key,
        c.record.package.manifest.clone(),
        c.record.package.commission.hash(),
        parameters_hash(&c.record.package.board_key, &c.record.package.parameters),
    )
    .unwrap();
    let receipt = e.cast(0, &vote(0, true));
    let mut lines = c.board.lines().to_vec();
    let closed = lines.pop().unwrap();
    lines.push(receipt.entry.clone());
    lines.push(closed);
    let (rec, lines) = forge(&c, lines);
    let r = check(&rec, &lines);
    assert!(r.failures_of("eligibility").iter().any(|m| m.contains("not on the frozen list")), "{}", r.text());
}

#[test]
fn a_ballot_under_a_credential_revoked_before_the_freeze_is_located() {
    let mut e = SimElection::new(pilot_manifest(), ReVotePolicy::Forbidden, 4, ChaCha20Rng::seed_from_u64(78));
    e.cast(0, &vote(1, true));
    // The server kept a voter's first credential (revoked when they re-applied) and votes with it.
    std::mem::swap(&mut e.voters[1].credential, &mut e.revoked[0]);
    let receipt = e.cast(1, &vote(2, false));
    let (record, board, _) = e.close();
    let r = check(&record, board.lines());
    // (the same server could also "replace" a listed credential with a revoked one)
    let mut e2 = SimElection::new(pilot_manifest(), ReVotePolicy::Forbidden, 2, ChaCha20Rng::seed_from_u64(79));
    let reused = e2.revoked[0].public().0.to_hex();
    e2.replace_credential(0);
    let (rec2, board2, key2) = e2.close();
    let mut lines2 = board2.lines().to_vec();
    let i = line_index(&lines2, "credential_replaced", 0);
    lines2[i] = edit(&lines2[i], |v| v["new"] = Value::from(reused));
    let c2 = Closed { record: rec2, board: board2, key: key2 };
    let (rec2, lines2) = forge(&c2, lines2);
    let r2 = check(&rec2, &lines2);
    let expect = format!("entry {i}: the new credential was revoked before the freeze");
    assert!(r2.failures_of("credentials").iter().any(|m| m.contains(&expect)), "{}", r2.text());
    let located = format!("entry {}: signed by credential", receipt.index);
    assert!(
        r.failures_of("eligibility").iter().any(|m| m.contains(&located) && m.contains("revoked before the freeze")),
        "{}",
        r.text()
    );
}

#[test]
fn a_malformed_list_of_revoked_credentials_is_located() {
    let c = election(ReVotePolicy::Forbidden);
    let lines = c.board.lines().to_vec();
    assert_eq!(serde_json::from_str::<Value>(&lines[0]).unwrap()["revoked"].as_array().map(Vec::len), Some(2));
    type Tamper = fn(&mut Value);
    let cases: [(Tamper, &str); 4] = [
        (|v| v["revoked"].as_array_mut().unwrap().swap(0, 1), "revoked item 1: not sorted"),
        (
            |v| v["revoked"] = Value::Array(vec![v["credentials"][0]["credential"].clone()]),
            "revoked item 0: the credential is also listed",
        ),
        (|v| v["revoked"] = Value::Array(vec![]), "present but empty"),
        (|v| v["revoked"][0] = Value::from("00"), "revoked item 0"),
    ];
    for (f, expect) in cases {
        let mut forged = lines.clone();
        forged[0] = edit(&forged[0], f);
        let (rec, forged) = forge(&c, forged);
        let r = check(&rec, &forged);
        assert!(r.failures_of("credentials").iter().any(|m| m.contains(expect)), "{expect}: {}", r.text());
    }
}

#[test]
fn credential_added_after_the_freeze_is_detected() {
    let c = election(ReVotePolicy::Forbidden);
    let mut lines = c.board.lines().to_vec();
    // The server slips an extra credential into the list and re-signs: the count no longer
    // matches, or (if it raises the count too) the list no longer matches the zero report's
    // head that observers kept.
    let kept_zero_report = c.record.tree_heads[0];
    lines[0] = edit(&lines[0], |v| {
        let extra = v["credentials"][0].clone();
        v["credentials"].as_array_mut().unwrap().push(extra);
    });
    let (rec, forged) = forge(&c, lines.clone());
    assert!(failing(&check(&rec, &forged)).contains(&"credentials"));
    lines[0] = edit(&lines[0], |v| v["count"] = Value::from(13));
    let (rec, forged) = forge(&c, lines);
    let json = serde_json::to_string(&rec).unwrap();
    let mut jsonl = forged.join("\n");
    jsonl.push('\n');
    let since = dobush_verifier::board::TreeHead::parse(&serde_json::to_value(kept_zero_report).unwrap()).unwrap();
    let r = verify(&json, jsonl.as_bytes(), &Options { since: Some(since), ..Options::default() });
    assert!(r.failures_of("board").iter().any(|m| m.contains("split view")), "{}", r.text());
}

#[test]
fn a_credential_swapped_into_the_signed_list_breaks_the_commission_signatures() {
    let c = election(ReVotePolicy::Forbidden);
    let mut lines = c.board.lines().to_vec();
    // The server swaps a listed credential for one it made (count unchanged, still sorted),
    // re-signs every head, and keeps the members' signatures.
    let mine = dobush_crypto::credential::Credential::generate(&mut ChaCha20Rng::seed_from_u64(9))
        .unwrap()
        .public()
        .0
        .to_hex();
    lines[0] = edit(&lines[0], |v| {
        let items = v["credentials"].as_array_mut().unwrap();
        items[0]["credential"] = Value::from(mine);
        items.sort_by(|a, b| a["credential"].as_str().cmp(&b["credential"].as_str()));
    });
    let (rec, forged) = forge(&c, lines);
    let r = check(&rec, &forged);
    assert!(
        r.failures_of("credentials").iter().any(|m| m.contains("credential list signature 0 (member 1): invalid")),
        "{}",
        r.text()
    );
}

#[test]
fn an_unsigned_or_badly_signed_credential_list_is_refused() {
    let c = election(ReVotePolicy::Forbidden);
    // no signature entry at all
    let mut lines = c.board.lines().to_vec();
    assert!(lines[1].contains("\"type\":\"credential_list_signed\""));
    lines.remove(1);
    let (rec, forged) = forge(&c, lines);
    let r = check(&rec, &forged);
    assert!(r.failures_of("credentials").iter().any(|m| m.contains("not signed by the commission")), "{}", r.text());
    assert!(r.failures_of("entries").iter().any(|m| m.contains("second entry")), "{}", r.text());
    // an empty list of signatures, a changed signature, one signer twice
    for (what, change) in [
        (
            "carries no signature",
            Box::new(|v: &mut Value| v["signatures"] = Value::Array(vec![])) as Box<dyn Fn(&mut Value)>,
        ),
        ("(member 2): invalid", Box::new(|v: &mut Value| flip_hex(&mut v["signatures"][1]["signature"]))),
        (
            "same key",
            Box::new(|v: &mut Value| {
                let first = v["signatures"][0].clone();
                v["signatures"].as_array_mut().unwrap().push(first);
            }),
        ),
    ] {
        let mut lines = c.board.lines().to_vec();
        lines[1] = edit(&lines[1], |v| change(v));
        let (rec, forged) = forge(&c, lines);
        let r = check(&rec, &forged);
        assert!(r.failures_of("credentials").iter().any(|m| m.contains(what)), "{what}: {}", r.text());
    }
}

#[test]
fn a_replacement_not_signed_by_the_pinned_quorum_is_refused() {
    let mut e = SimElection::new(pilot_manifest(), ReVotePolicy::LastCounts, 4, ChaCha20Rng::seed_from_u64(81));
    e.cast(0, &vote(1, true));
    e.replace_credential(0);
    e.cast(0, &vote(2, false));
    let campaign = e.package.manifest.campaign_id.clone();
    let (record, board, key) = e.close();
    let c = Closed { record, board, key };
    let honest = check(&c.record, c.board.lines());
    assert!(honest.passed(), "{}", honest.text());
    assert!(
        honest
            .notes_of("credentials")
            .iter()
            .any(|n| n.contains("replacement under decision") && n.contains("member 1")),
        "{}",
        honest.text()
    );
    let i = line_index(c.board.lines(), "credential_replaced", 0);
    // The server replaces the credential on its own: a key of its own signs the same digest.
    let server_key = ed25519_dalek::SigningKey::generate(&mut ChaCha20Rng::seed_from_u64(82));
    let own = |v: &mut Value| {
        let old: dobush_crypto::signature::VerifyingKey = serde_json::from_value(v["old"].clone()).unwrap();
        let new: dobush_crypto::signature::VerifyingKey = serde_json::from_value(v["new"].clone()).unwrap();
        let fields = (old, new, v["style"].as_str().unwrap(), v["decision"].as_str().unwrap());
        let entry =
            dobush_crypto::record::sign_credential_replacement(&campaign, fields, &[("the server", &server_key)]);
        v["signatures"] = serde_json::to_value(entry).unwrap()["signatures"].clone();
    };
    type Tamper<'a> = Box<dyn Fn(&mut Value) + 'a>;
    let cases: [(&str, Tamper); 5] = [
        ("carries no signature", Box::new(|v| v["signatures"] = Value::Array(vec![]))),
        ("signatures", Box::new(|v| drop(v.as_object_mut().unwrap().remove("signatures")))),
        ("(member 1): invalid", Box::new(|v| flip_hex(&mut v["signatures"][0]["signature"]))),
        ("(member 1): invalid", Box::new(|v| v["decision"] = Value::from("another decision"))),
        (
            "same key",
            Box::new(|v| {
                let first = v["signatures"][0].clone();
                v["signatures"].as_array_mut().unwrap().push(first);
            }),
        ),
    ];
    for (what, change) in cases {
        let mut lines = c.board.lines().to_vec();
        lines[i] = edit(&lines[i], |v| change(v));
        let (rec, forged) = forge(&c, lines);
        let r = check(&rec, &forged);
        assert!(
            r.failures_of("credentials").iter().any(|m| m.contains(&format!("entry {i}")) && m.contains(what)),
            "{what}: {}",
            r.text()
        );
    }
    // signed validly, but by the server's own key and one pinned member: V18 (14-commission.md)
    // refuses the unpinned key and the missing quorum
    let mut lines = c.board.lines().to_vec();
    lines[i] = edit(&lines[i], |v| own(v));
    let (rec, forged) = forge(&c, lines);
    let r = check(&rec, &forged);
    assert!(r.checks.iter().find(|c| c.name == "credentials").unwrap().passed, "{}", r.text());
    let failures = r.failures_of("commission");
    assert!(
        failures.iter().any(|m| m.contains(&format!("entry {i}")) && m.contains("not a pinned commission member")),
        "{}",
        r.text()
    );
    assert!(
        failures.iter().any(|m| m.contains(&format!("entry {i}")) && m.contains("the quorum is 2")),
        "{}",
        r.text()
    );
}

/// V18 (14-commission.md §Acceptance) on every member-signed act, and the commission section
/// under the extended hash (V03).
#[test]
fn acts_signed_outside_the_pinned_commission_or_under_its_quorum_are_refused() {
    let c = election(ReVotePolicy::Forbidden);
    let honest = check(&c.record, c.board.lines());
    assert!(honest.passed(), "{}", honest.text());
    // each pinned member with the fingerprint crypto computes (14-commission.md §Member
    // fingerprints), and the package's fingerprint, for the paper comparison
    for m in &c.record.package.commission.members {
        let note = format!("pinned member: {} ({}), fingerprint {}", m.name, m.role, m.identity.fingerprint());
        assert!(honest.notes_of("commission").contains(&note), "{note}: {}", honest.text());
    }
    assert!(honest.notes_of("commission").iter().any(|n| n.starts_with("pinned member: member 1 (chair)")));
    let package_note = format!(
        "election package fingerprint {} (compare it with the commission's published one)",
        c.record.package.fingerprint().unwrap()
    );
    assert!(honest.notes_of("context").contains(&package_note), "{}", honest.text());
    let campaign = c.record.package.manifest.campaign_id.clone();
    let list_at = line_index(c.board.lines(), "credential_list_signed", 0);
    let list = c.board.lines()[0].clone();
    let outsiders: Vec<ed25519_dalek::SigningKey> =
        (0..2).map(|i| ed25519_dalek::SigningKey::from_bytes(&[90 + i; 32])).collect();
    // a list signed validly by keys the server holds, under the members' names
    let forged_list = |v: &mut Value| {
        let e = dobush_crypto::record::sign_credential_list(
            &campaign,
            list.as_bytes(),
            &[("member 1", &outsiders[0]), ("member 2", &outsiders[1])],
        );
        v["signatures"] = serde_json::to_value(e).unwrap()["signatures"].clone();
    };
    type Tamper<'a> = Box<dyn Fn(&mut Value) + 'a>;
    let cases: [(&str, Tamper); 3] = [
        ("not a pinned commission member", Box::new(forged_list)),
        ("the quorum is 2", Box::new(|v| drop(v["signatures"].as_array_mut().unwrap().drain(1..)))),
        ("its key is pinned to", Box::new(|v| v["signatures"][0]["member"] = Value::from("member 3"))),
    ];
    for (what, change) in cases {
        let mut lines = c.board.lines().to_vec();
        lines[list_at] = edit(&lines[list_at], |v| change(v));
        let (rec, forged) = forge(&c, lines);
        let r = check(&rec, &forged);
        assert!(
            r.failures_of("commission").iter().any(|m| m.contains(&format!("entry {list_at}")) && m.contains(what)),
            "{what}: {}",
            r.text()
        );
    }
    // the protocol: without the chair, by an outsider, one member twice
    let mut rec = c.record.clone();
    rec.protocol.as_mut().unwrap().signatures.remove(0);
    let r = check(&rec, c.board.lines());
    assert!(r.failures_of("commission").iter().any(|m| m.contains("chair")), "{}", r.text());
    let mut rec = c.record.clone();
    let p = rec.protocol.as_mut().unwrap();
    p.signatures[2] = dobush_crypto::election_protocol::ElectionProtocol::sign(&p.body, "member 3", &outsiders[0]);
    let r = check(&rec, c.board.lines());
    assert!(r.checks.iter().find(|c| c.name == "protocol").unwrap().passed, "valid, only not pinned: {}", r.text());
    assert!(
        r.failures_of("commission").iter().any(|m| m.contains("protocol: signature 2") && m.contains("not a pinned")),
        "{}",
        r.text()
    );
    let mut rec = c.record.clone();
    let p = rec.protocol.as_mut().unwrap();
    p.signatures[2] = p.signatures[0].clone();
    let r = check(&rec, c.board.lines());
    assert!(r.failures_of("commission").iter().any(|m| m.contains("signed twice")), "{}", r.text());
    // the section itself: a member's key swapped for the server's is another extended hash
    let mut rec = c.record.clone();
    rec.package.commission.members[1].identity =
        dobush_crypto::commission::SigningIdentity::Ed25519 { key: outsiders[0].verifying_key().to_bytes() };
    let r = check(&rec, c.board.lines());
    assert!(r.failures_of("context").iter().any(|f| f.contains("extended hash")), "{}", r.text());
    // and a section breaking its rules (a minority quorum) is refused before any hash
    let mut rec = c.record.clone();
    rec.package.commission.quorum.protocol = 1;
    let r = check(&rec, c.board.lines());
    assert!(r.failures_of("context").iter().any(|f| f.contains("more than half")), "{}", r.text());
}

#[test]
fn duplicated_ballot_is_detected() {
    let c = election(ReVotePolicy::LastCounts);
    let mut lines = c.board.lines().to_vec();
    let i = line_index(&lines, "ballot", 2);
    let dup = lines[i].clone();
    let closed = lines.pop().unwrap();
    lines.push(dup);
    lines.push(closed);
    let (rec, lines) = forge(&c, lines);
    let r = check(&rec, &lines);
    assert!(failing(&r).contains(&"uniqueness"), "{}", r.text());
}

#[test]
fn superseded_ballot_counted_is_detected() {
    let c = election(ReVotePolicy::LastCounts);
    // Drop one supersede marker and re-sign: the verifier recomputes the rule anyway.
    let mut lines = c.board.lines().to_vec();
    lines.remove(line_index(&lines, "superseded", 0));
    let (rec, lines2) = forge(&c, lines);
    let r = check(&rec, &lines2);
    assert!(r.failures_of("re-vote").iter().any(|m| m.contains("no marker")), "{}", r.text());
    // Totals that include a superseded ballot differ from the recomputation.
    let mut rec = c.record.clone();
    rec.encrypted_totals[0].totals.swap(0, 1);
    let r = check(&rec, c.board.lines());
    assert!(failing(&r).contains(&"totals"), "{}", r.text());
}

#[test]
fn second_ballot_under_forbidden_rule_is_detected() {
    // A package whose rule is "forbidden", consistent in itself (its extended hash recomputed),
    // over a board with a re-vote: the re-vote check locates the second ballot. (Its ballots'
    // proofs were made under the other package's extended hash, so they fail too.)
    let c = election(ReVotePolicy::LastCounts);
    let mut rec = c.record.clone();
    rec.package.parameters.re_vote.policy = ReVotePolicy::Forbidden;
    rehash(&mut rec);
    let r = check(&rec, c.board.lines());
    assert!(failing(&r).contains(&"re-vote"), "{}", r.text());
}

#[test]
fn the_re_vote_rule_and_the_board_key_are_bound_by_the_extended_hash() {
    // Issue 18: changing the rule, even to a string no reader knows, used to verify.
    let c = election(ReVotePolicy::LastCounts);
    let mut rec = serde_json::to_value(&c.record).unwrap();
    rec["package"]["parameters"]["re_vote"]["policy"] = "forbidden".into();
    let r = dobush_verifier::record::verify(&rec.to_string(), c.board.to_jsonl().as_bytes(), &Default::default());
    assert!(r.failures_of("context").iter().any(|m| m.contains("extended hash")), "{}", r.text());
    rec["package"]["parameters"]["re_vote"]["policy"] = "bogus".into();
    let r = dobush_verifier::record::verify(&rec.to_string(), c.board.to_jsonl().as_bytes(), &Default::default());
    assert!(!r.passed(), "{}", r.text());
    assert!(r.failures_of("context").iter().any(|m| m.contains("re-vote")), "{}", r.text());
    let mut rec = c.record.clone();
    rec.package.board_key = BoardKey::generate(&mut ChaCha20Rng::seed_from_u64(4)).public();
    let r = check(&rec, c.board.lines());
    assert!(r.failures_of("context").iter().any(|m| m.contains("extended hash")), "{}", r.text());
}

#[test]
fn a_tree_head_dropped_repeated_or_reordered_breaks_the_chain() {
    // Issue 18: dropping a tree head from the record used to verify.
    let c = election(ReVotePolicy::LastCounts);
    assert!(c.record.tree_heads.len() >= 3);
    let mut tampered: Vec<(&str, ElectionRecord)> = Vec::new();
    let mut rec = c.record.clone();
    rec.tree_heads.remove(1);
    tampered.push(("dropped", rec));
    let mut rec = c.record.clone();
    let again = rec.tree_heads[1];
    rec.tree_heads.insert(1, again);
    tampered.push(("repeated", rec));
    let mut rec = c.record.clone();
    rec.tree_heads.swap(0, 1);
    tampered.push(("reordered", rec));
    let mut rec = c.record.clone();
    rec.tree_heads.remove(0);
    tampered.push(("first dropped", rec));
    for (what, rec) in tampered {
        let r = check(&rec, c.board.lines());
        assert!(r.failures_of("board").iter().any(|m| m.contains("chain")), "{what}: {}", r.text());
    }
}

#[test]
fn a_chain_re_signed_with_the_board_key_breaks_the_protocol() {
    // The holder of the board key signs a second chain over the same board (here: every head a
    // second later). Each head verifies and the chain holds, but the members signed the first
    // chain's final head (review 18 round 1, M3).
    let c = election(ReVotePolicy::LastCounts);
    let mut rec = c.record.clone();
    let mut previous = CryptoHead::genesis(&rec.package.base_hash);
    for h in rec.tree_heads.iter_mut() {
        *h = c.key.sign(CryptoHead { timestamp_ms: h.head.timestamp_ms + 1000, previous, ..h.head });
        previous = h.head.link();
    }
    let r = check(&rec, c.board.lines());
    assert_eq!(failing(&r), vec!["protocol"], "{}", r.text());
    assert!(r.failures_of("protocol").iter().any(|m| m.contains("final tree head")), "{}", r.text());
    // The same chain with the protocol's final_head moved to it (and no member signature over
    // that body) is refused for its signatures instead.
    let p = rec.protocol.as_mut().unwrap();
    p.body.final_head = previous;
    let r = check(&rec, c.board.lines());
    assert!(!r.failures_of("protocol").iter().any(|m| m.contains("final tree head")), "{}", r.text());
    assert!(r.failures_of("protocol").iter().any(|m| m.contains("signature")), "{}", r.text());
}

/// Recomputes a tampered package's extended hash, so that only what the test changed differs.
fn rehash(rec: &mut ElectionRecord) {
    rec.package.extended_hash = *dobush_crypto::context::ElectionContext::new(
        rec.package.base_hash,
        rec.package.joint_key,
        rec.package.manifest.clone(),
        rec.package.commission.hash(),
        parameters_hash(&rec.package.board_key, &rec.package.parameters),
    )
    .unwrap()
    .extended_hash();
}

#[test]
fn wrong_total_is_located() {
    let c = election(ReVotePolicy::Forbidden);
    let mut rec = c.record.clone();
    rec.encrypted_totals[1].ballots += 1;
    let r = check(&rec, c.board.lines());
    assert!(r.failures_of("totals").iter().any(|m| m.contains("question")), "{}", r.text());
}

#[test]
fn challenged_ballot_with_a_false_opening_is_located() {
    let c = election(ReVotePolicy::Forbidden);
    let mut lines = c.board.lines().to_vec();
    let i = line_index(&lines, "challenged", 0);
    lines[i] = edit(&lines[i], |v| {
        let o = &mut v["opening"]["contests"][0];
        let (a, b) = (o[1]["mark"].clone(), o[2]["mark"].clone());
        o[1]["mark"] = b;
        o[2]["mark"] = a;
    });
    let (rec, lines) = forge(&c, lines);
    let r = check(&rec, &lines);
    assert!(r.failures_of("challenged").iter().any(|m| m.starts_with(&format!("entry {i}"))), "{}", r.text());
}

#[test]
fn challenged_ballot_cast_as_well_is_detected() {
    let c = election(ReVotePolicy::LastCounts);
    let mut lines = c.board.lines().to_vec();
    let i = line_index(&lines, "challenged", 0);
    let v: Value = serde_json::from_str(&lines[i]).unwrap();
    let cast = serde_json::json!({"type": "ballot", "ballot": v["ballot"], "tracking_code": v["tracking_code"]});
    let closed = lines.pop().unwrap();
    lines.push(serde_json::to_string(&cast).unwrap());
    lines.push(closed);
    let (rec, lines) = forge(&c, lines);
    let r = check(&rec, &lines);
    assert!(failing(&r).contains(&"uniqueness"), "{}", r.text());
}

#[test]
fn voter_receipts_check_against_the_record() {
    use dobush_verifier::record::verify_receipt;
    let mut e = SimElection::new(pilot_manifest(), ReVotePolicy::LastCounts, 4, ChaCha20Rng::seed_from_u64(8));
    let first = e.cast(0, &vote(1, true));
    let other = e.cast(1, &vote(2, true));
    let _replaced = e.cast(0, &vote(3, false));
    let (record, board, key) = e.close();
    let json = serde_json::to_string(&record).unwrap();
    let jsonl = board.to_jsonl();
    let run = |r: &dobush_crypto::record::Receipt| {
        verify_receipt(&json, jsonl.as_bytes(), &serde_json::to_string(r).unwrap())
    };
    let ok = run(&other);
    assert!(ok.passed(), "{}", ok.text());
    // The superseded ballot's receipt is genuine but the ballot no longer counts.
    assert!(run(&first).failures_of("receipt").iter().any(|m| m.contains("superseded")));
    // A receipt whose head was signed over a different board (split view).
    let mut forked = Board::from_lines(board.lines()[..3].to_vec());
    forked.append(&BoardEntry::Opened { timestamp_ms: 5 }).unwrap();
    let head = forked.sign_head(&key, record.package.base_hash, 99, None);
    let mut split = other.clone();
    split.tree_head = head;
    split.inclusion_proof = forked.receipt(2, other.tracking_code, head).unwrap().inclusion_proof;
    split.index = 2;
    split.entry = forked.lines()[2].clone();
    assert!(!run(&split).passed());
    // A head the board signed over the very board it published, but left out of the record's
    // chain (review 18-parameters-and-head-chain H3): the receipt is the proof of it.
    let unpublished = board.sign_head(&key, record.package.base_hash, 77, Some(&record.tree_heads[0].head));
    let mut hidden = other.clone();
    hidden.inclusion_proof = board.receipt(other.index, other.tracking_code, unpublished).unwrap().inclusion_proof;
    hidden.tree_head = unpublished;
    assert!(
        run(&hidden).failures_of("receipt").iter().any(|m| m.contains("did not publish")),
        "{}",
        run(&hidden).text()
    );
    // A head signed by someone else.
    let mut forged = other.clone();
    forged.tree_head = BoardKey::generate(&mut ChaCha20Rng::seed_from_u64(5)).sign(other.tree_head.head);
    assert!(run(&forged).failures_of("receipt").iter().any(|m| m.contains("not signed")));
}

#[test]
fn watch_accepts_a_growing_board_and_catches_a_split_view() {
    use dobush_verifier::board::TreeHead as VHead;
    use dobush_verifier::watch::{Pinned, step};
    let mut e = SimElection::new(pilot_manifest(), ReVotePolicy::Forbidden, 8, ChaCha20Rng::seed_from_u64(9));
    let to_v = |h: &dobush_crypto::board::SignedTreeHead| VHead::parse(&serde_json::to_value(h).unwrap()).unwrap();
    let pin = Pinned { base_hash: e.package.base_hash, board_key: e.package.board_key };
    // The observer starts from the board's first head (the zero report, chained to genesis).
    let mut kept = Vec::new();
    step(&mut kept, to_v(&e.heads[0]), &[], &pin).unwrap();
    let mut honest_heads = Vec::new();
    for i in 0..4 {
        let r = e.cast(i, &vote(i, true));
        honest_heads.push(r.tree_head);
        let new = to_v(&r.tree_head);
        let proof =
            kept.last().map(|l: &VHead| e.board.log().consistency_proof(l.size, new.size).unwrap()).unwrap_or_default();
        step(&mut kept, new, &proof, &pin).unwrap();
    }
    assert_eq!(kept.len(), 5);
    // The server shows this observer a board where ballot 2 was replaced.
    let mut lines = e.board.lines().to_vec();
    let i = line_index(&lines, "ballot", 1);
    lines[i] = lines[line_index(&lines, "ballot", 0)].clone();
    let forked = Board::from_lines(lines);
    let head = forked.sign_head(&e.board_key, e.package.base_hash, u64::MAX / 2, None);
    let proof = forked.log().consistency_proof(kept.last().unwrap().size, forked.size()).unwrap();
    let err = step(&mut kept, to_v(&head), &proof, &pin).unwrap_err();
    assert!(err.contains("split view"), "{err}");
    // A shrinking board and a foreign signature are refused too.
    let old = to_v(&honest_heads[0]);
    assert!(step(&mut kept, old, &[], &pin).unwrap_err().contains("shrank"));
    let foreign = BoardKey::generate(&mut ChaCha20Rng::seed_from_u64(3)).sign(honest_heads[3].head);
    assert!(step(&mut kept, to_v(&foreign), &[], &pin).unwrap_err().contains("signature"));
    // The same board under a second chain: every root consistent, every head signed by the
    // board key, but the new head does not carry the link of the last one kept.
    let r = e.cast(4, &vote(4, true));
    let second = e.board_key.sign(dobush_crypto::board::TreeHead {
        previous: dobush_crypto::board::TreeHead::genesis(&e.package.base_hash),
        ..r.tree_head.head
    });
    let proof = e.board.log().consistency_proof(kept.last().unwrap().size, second.head.size).unwrap();
    let err = step(&mut kept, to_v(&second), &proof, &pin).unwrap_err();
    assert!(err.contains("chain is broken"), "{err}");
    // A page that skips a head the board signed: the next head's previous names the one left out.
    let skipped = e.cast(5, &vote(5, true));
    let after = e.cast(6, &vote(6, true));
    let proof = e.board.log().consistency_proof(kept.last().unwrap().size, after.tree_head.head.size).unwrap();
    let err = step(&mut kept, to_v(&after.tree_head), &proof, &pin).unwrap_err();
    assert!(err.contains("chain is broken"), "{err}");
    // Following the whole page from the last kept head is accepted.
    let page = [to_v(&r.tree_head), to_v(&skipped.tree_head), to_v(&after.tree_head)];
    dobush_verifier::watch::follow(&mut kept, &page, &proof, &pin).unwrap();
    assert_eq!(kept.last().unwrap().size, after.tree_head.head.size);
}

#[test]
fn protocol_line_changed_is_located_even_when_members_signed_it() {
    use dobush_crypto::election_protocol::ElectionProtocol;
    let c = election(ReVotePolicy::Forbidden);
    let mut rec = c.record.clone();
    let p = rec.protocol.as_mut().unwrap();
    p.body.contests[0].lines[4].value += 1; // a candidate gets one more vote
    p.body.contests[0].lines[5].value -= 1; // and another one less: sums still hold
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    p.signatures = vec![ElectionProtocol::sign(&p.body, "member 1", &key)];
    let r = check(&rec, c.board.lines());
    assert!(r.failures_of("protocol").iter().any(|m| m.contains("line 6.5")), "{}", r.text());
}

#[test]
fn protocol_control_relation_broken_is_located() {
    let c = election(ReVotePolicy::Forbidden);
    let mut rec = c.record.clone();
    rec.protocol.as_mut().unwrap().body.general[1].value = 0; // issued < counted
    let r = check(&rec, c.board.lines());
    assert!(r.failures_of("protocol").iter().any(|m| m.contains("line 1 ≥ line 2 ≥ line 3")), "{}", r.text());
}

#[test]
fn protocol_values_whose_sums_wrap_are_located_not_wrapped() {
    // found by the fuzz smoke run (fuzz/regressions/verifier/protocol-sum-overflow)
    let c = election(ReVotePolicy::Forbidden);
    let mut rec = c.record.clone();
    let lines = &mut rec.protocol.as_mut().unwrap().body.contests[0].lines;
    let at =
        |lines: &[dobush_crypto::election_protocol::Line], key: &str| lines.iter().position(|l| l.key == key).unwrap();
    let (valid, invalid, ballots) = (at(lines, "valid"), at(lines, "invalid"), at(lines, "ballots"));
    lines[valid].value = u64::MAX;
    lines[invalid].value = lines[ballots].value + 1; // valid + invalid wraps to ballots
    let option = lines.iter().position(|l| l.key.starts_with("option:")).unwrap();
    lines[option].value = u64::MAX; // and the marks' sum overflows
    let r = check(&rec, c.board.lines());
    let failures = r.failures_of("protocol");
    assert!(failures.iter().any(|m| m.contains("valid + invalid = ballots")), "{}", r.text());
    assert!(failures.iter().any(|m| m.contains("does not fit in 64 bits")), "{}", r.text());
}

#[test]
fn protocol_signature_changed_is_located() {
    let c = election(ReVotePolicy::Forbidden);
    let mut rec = c.record.clone();
    rec.protocol.as_mut().unwrap().signatures[2].signature[0] ^= 1;
    let r = check(&rec, c.board.lines());
    assert!(r.failures_of("protocol").iter().any(|m| m.contains("signature 2")), "{}", r.text());
}

#[test]
fn a_replaced_credential_cannot_vote_twice_for_one_voter() {
    // Under last_counts the replacement's ballot supersedes the old credential's ballot.
    let mut e = SimElection::new(pilot_manifest(), ReVotePolicy::LastCounts, 4, ChaCha20Rng::seed_from_u64(31));
    e.cast(0, &vote(1, true));
    e.replace_credential(0);
    e.cast(0, &vote(2, true));
    e.cast(1, &vote(3, true));
    let (record, board, _) = e.close();
    let r = check(&record, board.lines());
    assert!(r.passed(), "{}", r.text());
    assert_eq!(record.protocol.as_ref().unwrap().body.general[2].value, 2, "two voters counted");
    // Under forbidden, the same board is refused.
    let mut rec = record.clone();
    rec.package.parameters.re_vote.policy = ReVotePolicy::Forbidden;
    rehash(&mut rec);
    // (the ballots' proofs were made under the other package, so the refusal is of the
    // supersede markers the forbidden rule does not allow)
    assert!(!check(&rec, board.lines()).failures_of("re-vote").is_empty());
    // The old credential cannot vote after its replacement.
    let mut e = SimElection::new(pilot_manifest(), ReVotePolicy::Forbidden, 3, ChaCha20Rng::seed_from_u64(32));
    let old_key = e.voters[0].credential.signing_key().clone();
    e.replace_credential(0);
    let (b, _) =
        dobush_crypto::ballot::encrypt_ballot(&e.ctx, &old_key, &vote(1, true), &mut ChaCha20Rng::seed_from_u64(2))
            .unwrap();
    let v = dobush_crypto::ballot::verify_ballot(&e.ctx, b, &mut ChaCha20Rng::seed_from_u64(3)).unwrap();
    let (record, board, key) = e.close();
    let mut lines = board.lines().to_vec();
    let closed = lines.pop().unwrap();
    lines.push(
        BoardEntry::Ballot { ballot: v.ballot().clone(), tracking_code: *v.tracking_code() }
            .to_bytes()
            .map(|b| String::from_utf8(b).unwrap())
            .unwrap(),
    );
    lines.push(closed);
    let c = Closed { record, board, key };
    let (rec, lines) = forge(&c, lines);
    let r = check(&rec, &lines);
    assert!(r.failures_of("eligibility").iter().any(|m| m.contains("revoked")), "{}", r.text());
}

#[test]
fn uppercase_hex_is_not_a_second_spelling() {
    let c = election(ReVotePolicy::Forbidden);
    let mut lines = c.board.lines().to_vec();
    let i = line_index(&lines, "ballot", 0);
    lines[i] = edit(&lines[i], |v| {
        let s = v["ballot"]["credential"].as_str().unwrap().to_uppercase();
        v["ballot"]["credential"] = Value::from(s);
    });
    let (rec, lines) = forge(&c, lines);
    let r = check(&rec, &lines);
    assert!(r.failures_of("ballots").iter().any(|m| m.contains("lowercase")), "{}", r.text());
}

#[test]
fn web_app_hashes_are_reported_and_malformed_ones_located() {
    let c = election(ReVotePolicy::LastCounts);
    let lines = c.board.lines().to_vec();
    let honest = check(&c.record, &lines);
    assert!(honest.passed(), "{}", honest.text());
    let expected: Vec<String> = dobush_tests::election::web_assets().iter().map(|(p, i)| format!("{p} {i}")).collect();
    assert_eq!(honest.notes_of("web app"), expected);
    let i = line_index(&lines, "web_assets", 0);
    // a server that re-signs a board whose web_assets entry is malformed
    type Tamper = fn(&mut Value);
    let tampered: [(Tamper, &str); 4] = [
        (|v| v["assets"][1][1] = Value::from("sha256-AAAA"), "assets[1]: integrity"),
        (|v| v["assets"][2][0] = v["assets"][0][0].clone(), "assets[2]: path \"/\" listed twice"),
        (|v| v["assets"][0] = Value::from("/"), "assets[0] must be [path, integrity]"),
        (|v| v["assets"] = Value::Array(vec![]), "must be a non-empty list"),
    ];
    for (f, expect) in tampered {
        let mut forged_lines = lines.clone();
        forged_lines[i] = edit(&forged_lines[i], f);
        let (record, forged_lines) = forge(&c, forged_lines);
        let r = check(&record, &forged_lines);
        let failures = r.failures_of("web app");
        assert!(
            failures.iter().any(|m| m.contains(&format!("entry {i}")) && m.contains(expect)),
            "{expect}: {failures:?}"
        );
    }
    // the hashes posted again after voting opened
    let mut moved = lines.clone();
    let entry = moved.remove(i);
    moved.push(entry);
    let (record, moved) = forge(&c, moved);
    let r = check(&record, &moved);
    assert!(r.failures_of("web app").iter().any(|m| m.contains("after voting opened")), "{}", r.text());
}

/// `dobush-verifier verify --html` (issue 21): the page shows the results the verifier re-derived
/// with the candidates' names, every check by id, and on a failing record no result but the
/// failure with its location; every text of the record is escaped.
#[test]
fn the_html_report_shows_re_derived_results_and_every_check() {
    use dobush_verifier::html::render;
    let c = election(ReVotePolicy::LastCounts);
    let rec = serde_json::to_value(&c.record).unwrap();
    let report = check(&c.record, c.board.lines());
    assert!(report.passed(), "{}", report.text());
    let page = render(&report, Some(&rec));
    assert!(
        page.contains("<title>✔ verifies")
            && page.contains("The record verifies")
            && page.contains("Results (re-derived)")
    );
    assert!(page.contains("Самаркандек айылдык кеңешинин шайлоосу"));
    for check in &report.checks {
        assert!(page.contains(&format!("<code>{}</code>", check.id)), "{}", check.id);
    }
    // Each option's row carries its name and the count the decryption check proved.
    let manifest = &c.record.package.manifest;
    for (contest, result) in manifest.contests.iter().zip(&c.record.results) {
        for (option, n) in contest.options.iter().zip(&result.counts) {
            let name = format!("{} · {} [{}]", option.name.0["ky"], option.name.0["ru"], option.id);
            assert!(
                page.contains(&format!("<tr><th scope=\"row\"><bdi>{name}</bdi></th><td class=\"n\">{n}</td>")),
                "{name} {n}"
            );
        }
    }
    assert!(!page.contains("<script") && !page.contains("http://") && !page.contains("https://"));
    // For a person to look at (target/tmp/).
    let _ = std::fs::write(concat!(env!("CARGO_TARGET_TMPDIR"), "/verifier-report.html"), &page);

    // A record whose results were changed: the page refuses to show results and locates the failure.
    let mut forged = c.record.clone();
    forged.results[0].counts[0] += 1;
    forged.package.manifest.title =
        dobush_crypto::manifest::Localized::new([("ky", "<script>alert(1)</script>".to_owned())]);
    let report = check(&forged, c.board.lines());
    assert!(!report.passed());
    let page = render(&report, Some(&serde_json::to_value(&forged).unwrap()));
    assert!(page.contains("<title>✘ does NOT verify") && !page.contains("Results (re-derived)"));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !page.contains("<script"));
    let failure = report.checks.iter().find(|c| !c.passed).unwrap();
    assert!(page.contains(&format!("<tr class=\"fail\"><td><code>{}</code>", failure.id)));
    let located = failure.failures[0]
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;");
    assert!(page.contains(&located), "{located}");
}
