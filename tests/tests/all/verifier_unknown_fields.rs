//! The verifier refuses what it does not know (issue 18; record-format.md §Conventions): a field
//! added to any object of `record.json`, of a board entry or of a receipt is a located failure,
//! and so is an unknown enumeration value.

use dobush_crypto::parameters::ReVotePolicy;
use dobush_tests::election::SimElection;
use dobush_tests::fixtures::pilot_manifest;
use dobush_verifier::record::{Options, verify, verify_receipt};
use dobush_verifier::report::Report;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::Value;

use crate::verifier::{Closed, forge, vote};

const UNKNOWN: &str = "x_unknown";

/// Every kind of entry: a challenge, ballots, a re-vote (superseded), a replaced credential.
fn election() -> Closed {
    let mut e = SimElection::new(pilot_manifest(), ReVotePolicy::LastCounts, 6, ChaCha20Rng::seed_from_u64(180));
    e.challenge(0, &vote(1, true));
    for i in 0..4 {
        e.cast(i, &vote(i % 9, i % 2 == 0));
    }
    e.cast(1, &vote(5, false));
    e.replace_credential(2);
    e.cast(2, &vote(3, true));
    let (record, board, key) = e.close();
    Closed { record, board, key }
}

fn jsonl(lines: &[String]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

fn run(record: &Value, lines: &[String]) -> Report {
    verify(&serde_json::to_string(record).unwrap(), jsonl(lines).as_bytes(), &Options::default())
}

/// `v` at a path of keys and indexes, e.g. `"package/manifest/contests/0"`.
fn at<'a>(v: &'a mut Value, path: &str) -> &'a mut Value {
    path.split('/').filter(|s| !s.is_empty()).fold(v, |v, k| match k.parse::<usize>() {
        Ok(i) => &mut v[i],
        Err(_) => &mut v[k],
    })
}

fn add_unknown(v: &mut Value, path: &str) {
    let obj = at(v, path);
    assert!(obj.is_object(), "{path} is not an object");
    obj[UNKNOWN] = Value::from(1);
}

/// The failure that names the unknown field and contains `location`, in check `check`.
fn assert_located(r: &Report, check: &str, location: &str) {
    let f = r.failures_of(check);
    assert!(
        f.iter().any(|m| m.contains(location) && m.contains(&format!("unknown field \"{UNKNOWN}\""))),
        "{check} / {location}: {}",
        r.text()
    );
}

#[test]
fn an_unknown_field_anywhere_in_record_json_is_located() {
    let c = election();
    let rec = serde_json::to_value(&c.record).unwrap();
    let honest = run(&rec, c.board.lines());
    assert!(honest.passed(), "{}", honest.text());
    let cases = [
        ("", "version", "record.json"),
        ("package", "context", "package"),
        ("package/manifest", "context", "manifest"),
        ("package/manifest/contests/1", "context", "manifest.contests[1]"),
        ("package/manifest/contests/0/options/2", "context", "manifest.contests[0].options[2]"),
        ("package/manifest/ballot_styles/0", "context", "manifest.ballot_styles[0]"),
        ("package/key_holders/1", "context", "package.key_holders[1]"),
        ("package/commission", "context", "commission"),
        ("package/commission/members/0", "context", "member"),
        ("package/commission/quorum", "context", "quorum"),
        ("tree_heads/1", "board", "tree_heads[1]"),
        ("encrypted_totals/1", "totals", "encrypted_totals[1]"),
        ("encrypted_totals/0/totals/0", "totals", "total"),
        ("ceremony", "ceremony", "ceremony"),
        ("ceremony/commitment_hashes/0", "ceremony", ""),
        ("ceremony/commitment_hashes/0/message", "ceremony", ""),
        ("ceremony/reveals/1/message", "ceremony", ""),
        ("ceremony/shares/0/message", "ceremony", ""),
        ("ceremony/shares/0/signature", "ceremony", ""),
        ("decryption_shares/3", "decryption", "#3"),
        ("decryption_shares/3/proof", "decryption", "#3"),
        ("decryption_shares/3/signature", "decryption", "#3"),
        ("results/0", "decryption", "results[0]"),
        ("protocol", "protocol", "protocol"),
        ("protocol/body", "protocol", "protocol body"),
        ("protocol/body/general/0", "protocol", "general[0]"),
        ("protocol/body/contests/1", "protocol", "contests[1]"),
        ("protocol/body/contests/1/lines/2", "protocol", "contests[1] lines[2]"),
        ("protocol/signatures/0", "protocol", "signatures[0]"),
    ];
    for (path, check, location) in cases {
        let mut v = rec.clone();
        add_unknown(&mut v, path);
        assert_located(&run(&v, c.board.lines()), check, location);
    }
}

#[test]
fn an_unknown_field_in_any_board_entry_is_located() {
    let c = election();
    let lines = c.board.lines().to_vec();
    let first = |kind: &str| {
        lines.iter().position(|l| l.starts_with(&format!("{{\"type\":\"{kind}\""))).unwrap_or_else(|| panic!("{kind}"))
    };
    let cases = [
        ("credential_list", "", "entries"),
        ("credential_list", "credentials/0", "credentials"),
        ("credential_list_signed", "", "entries"),
        ("credential_list_signed", "signatures/0", "credentials"),
        ("credential_replaced", "", "entries"),
        ("credential_replaced", "signatures/0", "credentials"),
        ("web_assets", "", "entries"),
        ("opened", "", "entries"),
        ("ballot", "", "entries"),
        ("ballot", "ballot", "ballots"),
        ("ballot", "ballot/signature", "ballots"),
        ("ballot", "ballot/contests/0", "ballots"),
        ("ballot", "ballot/contests/0/selections/1", "ballots"),
        ("ballot", "ballot/contests/0/selections/1/ciphertext", "ballots"),
        ("ballot", "ballot/contests/0/selections/1/proof/0", "ballots"),
        ("ballot", "ballot/contests/0/count_proof", "ballots"),
        ("ballot", "ballot/contests/1/count_proof/proof/0", "ballots"),
        ("challenged", "", "entries"),
        ("challenged", "opening", "challenged"),
        ("challenged", "opening/contests/0/1", "challenged"),
        ("superseded", "", "entries"),
        ("closed", "", "entries"),
    ];
    for (kind, path, check) in cases {
        let i = first(kind);
        let mut forged = lines.clone();
        let mut v: Value = serde_json::from_str(&forged[i]).unwrap();
        add_unknown(&mut v, path);
        forged[i] = serde_json::to_string(&v).unwrap();
        // A server that re-signs its heads over the changed board: only the field is wrong.
        let (rec, forged) = forge(&c, forged);
        let r = run(&serde_json::to_value(&rec).unwrap(), &forged);
        assert_located(&r, check, &format!("entry {i}"));
    }
}

#[test]
fn an_unknown_field_in_a_receipt_is_located() {
    let mut e = SimElection::new(pilot_manifest(), ReVotePolicy::Forbidden, 3, ChaCha20Rng::seed_from_u64(181));
    let receipt = e.cast(0, &vote(1, true));
    let (record, board, _) = e.close();
    let (json, lines) = (serde_json::to_string(&record).unwrap(), jsonl(board.lines()));
    let honest = serde_json::to_value(&receipt).unwrap();
    assert!(verify_receipt(&json, lines.as_bytes(), &honest.to_string()).passed());
    for (path, location) in [("", "receipt"), ("tree_head", "receipt tree_head")] {
        let mut v = honest.clone();
        add_unknown(&mut v, path);
        assert_located(&verify_receipt(&json, lines.as_bytes(), &v.to_string()), "receipt", location);
    }
}

#[test]
fn an_unknown_enumeration_value_is_refused() {
    let c = election();
    let rec = serde_json::to_value(&c.record).unwrap();
    let cases: [(&str, &str, &str); 4] = [
        ("package/parameters/re_vote/policy", "bogus", "context"),
        ("package/commission/members/0/role", "bogus", "context"),
        ("package/commission/members/0/identity/kind", "bogus", "context"),
        ("protocol/body/version", "dobush-protocol/0", "protocol"),
    ];
    for (path, value, check) in cases {
        let mut v = rec.clone();
        *at(&mut v, path) = Value::from(value);
        let r = run(&v, c.board.lines());
        assert!(!r.failures_of(check).is_empty(), "{path}: {}", r.text());
    }
    // An unknown entry type, and an unknown count-proof kind, on a re-signed board.
    let lines = c.board.lines().to_vec();
    let i = lines.iter().position(|l| l.starts_with("{\"type\":\"opened\"")).unwrap();
    let mut forged = lines.clone();
    forged[i] = forged[i].replace("\"opened\"", "\"opened_early\"");
    let (rec2, forged) = forge(&c, forged);
    let r = run(&serde_json::to_value(&rec2).unwrap(), &forged);
    assert!(r.failures_of("entries").iter().any(|m| m.contains(&format!("entry {i}: unknown type"))), "{}", r.text());
    let i = lines.iter().position(|l| l.starts_with("{\"type\":\"ballot\"")).unwrap();
    let mut forged = lines.clone();
    let mut v: Value = serde_json::from_str(&forged[i]).unwrap();
    v["ballot"]["contests"][0]["count_proof"]["kind"] = Value::from("sigma");
    forged[i] = serde_json::to_string(&v).unwrap();
    let (rec2, forged) = forge(&c, forged);
    let r = run(&serde_json::to_value(&rec2).unwrap(), &forged);
    assert!(r.failures_of("ballots").iter().any(|m| m.contains(&format!("entry {i}"))), "{}", r.text());
}

/// A repeated key is refused wherever JSON is read (record-format.md §Encoding, J1; review
/// 19-stations-ballot-v2 L2): `serde_json::Value` would keep the last value silently, so the same
/// hashed bytes could be read two ways by two tools.
#[test]
fn a_repeated_key_anywhere_is_refused() {
    let c = election();
    let text = serde_json::to_string(&c.record).unwrap();
    let honest = verify(&text, jsonl(c.board.lines()).as_bytes(), &Options::default());
    assert!(honest.passed(), "{}", honest.text());
    // record.json: the version repeated (first a bogus one), and the re-vote policy repeated inside
    // the package with the other value; each reads as the honest record to a keep-the-last parser.
    let policy = r#""policy":"last_counts""#;
    assert!(text.contains(policy));
    for forged in [
        text.replacen('{', r#"{"version":"dobush-record/0","#, 1),
        text.replacen(policy, &format!(r#""policy":"forbidden",{policy}"#), 1),
    ] {
        assert!(serde_json::from_str::<Value>(&forged).unwrap() == serde_json::from_str::<Value>(&text).unwrap());
        let r = verify(&forged, jsonl(c.board.lines()).as_bytes(), &Options::default());
        assert!(!r.passed() && r.text().contains("repeats"), "{}", r.text());
    }
    // A board entry, on a board re-signed by the server: the ballot's tracking code given twice.
    let lines = c.board.lines().to_vec();
    let i = lines.iter().position(|l| l.starts_with("{\"type\":\"ballot\"")).unwrap();
    let mut forged = lines.clone();
    forged[i] = forged[i].replacen(
        "{\"type\":\"ballot\",",
        &format!("{{\"type\":\"ballot\",\"tracking_code\":\"{}\",", "00".repeat(32)),
        1,
    );
    assert_ne!(forged[i], lines[i]);
    let (rec2, forged) = forge(&c, forged);
    let r = run(&serde_json::to_value(&rec2).unwrap(), &forged);
    assert!(
        r.failures_of("entries").iter().any(|m| m.contains(&format!("entry {i}")) && m.contains("repeats")),
        "{}",
        r.text()
    );
    // A receipt.
    let mut e = SimElection::new(pilot_manifest(), ReVotePolicy::Forbidden, 3, ChaCha20Rng::seed_from_u64(182));
    let receipt = e.cast(0, &vote(1, true));
    let (record, board, _) = e.close();
    let (json, lines) = (serde_json::to_string(&record).unwrap(), jsonl(board.lines()));
    let honest = serde_json::to_string(&receipt).unwrap();
    assert!(verify_receipt(&json, lines.as_bytes(), &honest).passed());
    let forged = honest.replacen('{', r#"{"index":0,"#, 1);
    let r = verify_receipt(&json, lines.as_bytes(), &forged);
    assert!(!r.passed() && r.text().contains("repeats"), "{}", r.text());
}
