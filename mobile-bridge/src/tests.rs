//! Unit tests of every exported function, success and failure paths, on the pilot election of
//! `vectors/ballots-pilot.json` and the committed fixtures under `tests/fixtures/`.

use std::path::PathBuf;

use dobush_crypto::ballot::{EncryptedBallot, verify_ballot};
use dobush_crypto::board::BoardKey;
use dobush_crypto::record::{Board, BoardEntry};
use serde_json::{Value, json};

use super::*;

/// The fixtures' board key seed (a test key: the fixtures are not a real election).
/// The vectors' board key's secret seed (tests/src/vectors.rs: the package's board key is under
/// the extended hash, so the fixtures must sign with that very key).
const FIXTURE_BOARD_SEED: [u8; 32] = [0x42; 32];

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn vectors() -> Value {
    let path = manifest_dir().join("../vectors/ballots-pilot.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The pilot election of the vectors as a package, with the fixture board key; and a receipt
/// for the vectors' second ballot on a small board signed by that key. Deterministic.
fn build_fixtures() -> (String, String) {
    let v = vectors();
    let e = &v["election"];
    let board_key = BoardKey::from_bytes(&FIXTURE_BOARD_SEED);
    let holders: Vec<Value> = e["key_holders"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, k)| json!({"index": i + 1, "signing_key": k["signing_key"], "comm_key": k["comm_key"]}))
        .collect();
    let package: ElectionPackage = serde_json::from_value(json!({
        "version": RECORD_VERSION,
        "manifest": e["manifest"],
        "threshold": e["threshold"],
        "key_holders": holders,
        "joint_key": e["joint_key"],
        "base_hash": e["base_hash"],
        "extended_hash": e["extended_hash"],
        "board_key": hex::encode(board_key.public()),
        "commission": e["commission"],
        "parameters": e["parameters"],
    }))
    .unwrap();
    let ctx = package.context().unwrap();

    let mut board = Board::new();
    board.append(&BoardEntry::Opened { timestamp_ms: 1_680_998_400_000 }).unwrap();
    let mut cast = Vec::new();
    for b in v["ballots"].as_array().unwrap().iter().take(3) {
        let ballot: EncryptedBallot = serde_json::from_value(b["ballot"].clone()).unwrap();
        let verified = verify_ballot(&ctx, ballot, &mut OsRng).unwrap();
        assert_eq!(verified.tracking_code().to_hex(), b["tracking_code"].as_str().unwrap());
        let code = *verified.tracking_code();
        let (index, _) =
            board.append(&BoardEntry::Ballot { ballot: verified.into_inner(), tracking_code: code }).unwrap();
        cast.push((index, code));
    }
    let head = board.sign_head(&board_key, package.base_hash, 1_680_998_460_000, None);
    let (index, code) = cast[1];
    let receipt = board.receipt(index, code, head).unwrap();
    let pretty = |x: Value| serde_json::to_string_pretty(&x).unwrap() + "\n";
    (pretty(serde_json::to_value(&package).unwrap()), pretty(serde_json::to_value(&receipt).unwrap()))
}

fn fixture_path(name: &str) -> PathBuf {
    manifest_dir().join("tests/fixtures").join(name)
}

fn package_json() -> String {
    std::fs::read_to_string(fixture_path("pilot-package.json")).unwrap()
}

fn receipt_json() -> String {
    std::fs::read_to_string(fixture_path("pilot-receipt.json")).unwrap()
}

fn election() -> Arc<Election> {
    Election::load(package_json()).unwrap()
}

/// Rewrites the fixtures (`cargo test -p dobush-mobile-bridge -- --ignored write_fixtures`).
#[test]
#[ignore]
fn write_fixtures() {
    let (package, receipt) = build_fixtures();
    std::fs::create_dir_all(manifest_dir().join("tests/fixtures")).unwrap();
    std::fs::write(fixture_path("pilot-package.json"), package).unwrap();
    std::fs::write(fixture_path("pilot-receipt.json"), receipt).unwrap();
}

#[test]
fn committed_fixtures_are_up_to_date_and_verify() {
    let (package, receipt) = build_fixtures();
    assert_eq!(package_json(), package, "run the ignored test write_fixtures");
    assert_eq!(receipt_json(), receipt, "run the ignored test write_fixtures");
    let e = election();
    let r = e.verify_receipt(receipt_json()).unwrap();
    let v = vectors();
    assert_eq!(r.tracking_code.hex, v["ballots"][1]["tracking_code"].as_str().unwrap());
    assert_eq!(r.tracking_code.short, v["ballots"][1]["tracking_code_short"].as_str().unwrap());
    assert_eq!((r.index, r.tree_size), (2, 4));
}

#[test]
fn bridge_and_record_versions() {
    assert_eq!(bridge_version(), env!("CARGO_PKG_VERSION"));
    assert_eq!(record_version(), "dobush-record/2");
}

#[test]
fn election_loads_and_describes_itself() {
    let e = election();
    let v = vectors();
    assert_eq!(e.extended_hash_hex(), v["election"]["extended_hash"].as_str().unwrap());
    assert_eq!(e.base_hash_hex(), v["election"]["base_hash"].as_str().unwrap());
    assert_eq!(e.campaign_id(), "samarkandek-2023");
    assert_eq!(
        e.ballot_styles(),
        vec![BallotStyle { id: "samarkandek".into(), contest_ids: vec!["council".into(), "question".into()] }]
    );
    let manifest: Value = serde_json::from_str(&e.manifest_json().unwrap()).unwrap();
    assert_eq!(manifest, v["election"]["manifest"]);
    let pinned = Election::load_pinned(package_json(), e.extended_hash_hex()).unwrap();
    assert_eq!(pinned.extended_hash_hex(), e.extended_hash_hex());
}

fn edited_package(edit: impl FnOnce(&mut Value)) -> String {
    let mut p: Value = serde_json::from_str(&package_json()).unwrap();
    edit(&mut p);
    p.to_string()
}

#[test]
fn tampered_packages_are_rejected() {
    let flip = |h: &str| {
        let mut b = hex::decode(h).unwrap();
        b[0] ^= 1;
        hex::encode(b)
    };
    let cases: Vec<(&str, String)> = vec![
        ("extended hash", edited_package(|p| p["extended_hash"] = json!(flip(p["extended_hash"].as_str().unwrap())))),
        ("base hash", edited_package(|p| p["base_hash"] = json!(flip(p["base_hash"].as_str().unwrap())))),
        // A changed option name changes the manifest hash and so the extended hash.
        (
            "extended hash",
            edited_package(|p| p["manifest"]["contests"][0]["options"][0]["name"]["ru"] = json!("Другой")),
        ),
        // Another joint key (a valid point: a key-holder's) with the published hashes.
        ("extended hash", edited_package(|p| p["joint_key"] = p["key_holders"][0]["comm_key"].clone())),
        ("base hash", edited_package(|p| p["threshold"] = json!(2))),
        ("version", edited_package(|p| p["version"] = json!("dobush-record/1"))),
    ];
    for (what, json) in cases {
        match Election::load(json) {
            Err(BridgeError::PackageRejected(m)) => assert!(m.contains(what), "{what}: {m}"),
            other => panic!("{what}: expected PackageRejected, got {other:?}"),
        }
    }
    assert!(matches!(Election::load("{".into()), Err(BridgeError::InvalidInput(_))));
    assert!(matches!(
        Election::load(edited_package(|p| p["joint_key"] = json!("00"))),
        Err(BridgeError::InvalidInput(_))
    ));
}

#[test]
fn pinned_load_refuses_another_context() {
    let e = election();
    let mut other = hex::decode(e.extended_hash_hex()).unwrap();
    other[31] ^= 0x80;
    assert!(matches!(Election::load_pinned(package_json(), hex::encode(other)), Err(BridgeError::PackageRejected(_))));
    assert!(matches!(Election::load_pinned(package_json(), "abc".into()), Err(BridgeError::InvalidInput(_))));
}

#[test]
fn credentials_generate_and_restore() {
    let c = new_credential().unwrap();
    let code = c.recovery_code();
    assert_eq!(code.len(), 36);
    let back = restore_credential(code.to_lowercase()).unwrap();
    assert_eq!(back.public_hex(), c.public_hex());
    assert_eq!(back.fingerprint(), c.fingerprint());
    assert_ne!(new_credential().unwrap().public_hex(), c.public_hex());

    // The vectors' credential, restored from its recovery code.
    let v = vectors();
    let cred = &v["ballots"][0]["credential"];
    let restored = restore_credential(cred["recovery_code"].as_str().unwrap().into()).unwrap();
    assert_eq!(restored.public_hex(), cred["public"].as_str().unwrap());
    assert_eq!(restored.fingerprint(), cred["fingerprint"].as_str().unwrap());
}

#[test]
fn wrong_recovery_codes_are_rejected() {
    let code = new_credential().unwrap().recovery_code();
    let mut chars: Vec<char> = code.chars().collect();
    chars[0] = if chars[0] == '7' { '8' } else { '7' };
    let typo: String = chars.into_iter().collect();
    // A one-symbol typo is caught by the 16-bit checksum except with probability 2^-16; then
    // it is another credential.
    match restore_credential(typo) {
        Err(BridgeError::InvalidRecoveryCode(m)) => assert!(m.contains("checksum"), "{m}"),
        Ok(other) => assert_ne!(other.public_hex(), restore_credential(code.clone()).unwrap().public_hex()),
        Err(e) => panic!("unexpected {e:?}"),
    }
    for bad in ["", "0000", "UUUU-UUUU-UUUU-UUUU-UUUU-UUUU-UUUU-U", &code[..code.len() - 1]] {
        assert!(matches!(restore_credential(bad.into()), Err(BridgeError::InvalidRecoveryCode(_))), "{bad}");
    }
}

fn plaintext(council: usize, yes: bool) -> String {
    let mut marks = vec![0u8; 9];
    marks[council] = 1;
    json!({
        "style": "samarkandek",
        "contests": [
            {"contest_id": "council", "selections": marks},
            {"contest_id": "question", "selections": if yes { [1, 0] } else { [0, 1] }},
        ]
    })
    .to_string()
}

#[test]
fn challenge_opens_the_ballot_and_forbids_casting() {
    let e = election();
    let cred = new_credential().unwrap();
    let b = e.encrypt(cred.clone(), plaintext(2, true)).unwrap();
    assert_eq!(b.tracking_code_hex().len(), 64);
    assert_eq!(b.tracking_code_short().len(), 19);
    let ballot: Value = serde_json::from_str(&b.ballot_json()).unwrap();
    assert_eq!(ballot["credential"].as_str().unwrap(), cred.public_hex());

    let opening = b.challenge().unwrap();
    assert!(b.is_challenged().unwrap() && !b.is_cast().unwrap());
    assert_eq!(b.challenge().unwrap(), opening, "a second look shows the same opening");
    assert_eq!(b.cast_json(), Err(BridgeError::BallotChallenged));
    assert!(BridgeError::BallotChallenged.to_string().contains("can never be cast; encrypt again"));

    // A second device (another Election from the same package) checks it.
    let checked = election().verify_challenged(b.ballot_json(), opening.clone()).unwrap();
    assert_eq!(checked.tracking_code.hex, b.tracking_code_hex());
    assert_eq!(checked.tracking_code.short, b.tracking_code_short());
    let got: Value = serde_json::from_str(&checked.plaintext_json).unwrap();
    let want: Value = serde_json::from_str(&plaintext(2, true)).unwrap();
    assert_eq!(got, want);

    // Encrypting again gives a fresh ballot with another tracking code, castable.
    let again = e.encrypt(cred, plaintext(2, true)).unwrap();
    assert_ne!(again.tracking_code_hex(), b.tracking_code_hex());
    assert!(again.cast_json().is_ok());
}

#[test]
fn cast_drops_the_secrets_and_forbids_challenging() {
    let e = election();
    let b = e.encrypt(new_credential().unwrap(), plaintext(0, false)).unwrap();
    let sent = b.cast_json().unwrap();
    assert_eq!(sent, b.ballot_json());
    assert!(b.is_cast().unwrap() && !b.is_challenged().unwrap());
    assert_eq!(b.challenge(), Err(BridgeError::BallotCast));
    assert_eq!(b.cast_json().unwrap(), sent, "a retried send gets the same ballot");
    // What is sent verifies on the server's side and has the shown tracking code.
    let ballot: EncryptedBallot = serde_json::from_str(&sent).unwrap();
    let verified = verify_ballot(&e.ctx, ballot, &mut OsRng).unwrap();
    assert_eq!(verified.tracking_code().to_hex(), b.tracking_code_hex());
}

#[test]
fn invalid_plaintexts_are_refused() {
    let e = election();
    let cred = new_credential().unwrap();
    let two_marks = json!({
        "style": "samarkandek",
        "contests": [
            {"contest_id": "council", "selections": [1, 1, 0, 0, 0, 0, 0, 0, 0]},
            {"contest_id": "question", "selections": [1, 0]},
        ]
    });
    let other_style = json!({"style": "elsewhere", "contests": []});
    for p in [two_marks, other_style] {
        assert!(matches!(e.encrypt(cred.clone(), p.to_string()), Err(BridgeError::InvalidBallot(_))), "{p}");
    }
    assert!(matches!(e.encrypt(cred, "[1, 2]".into()), Err(BridgeError::InvalidInput(_))));
}

#[test]
fn wrong_openings_and_tampered_ballots_are_refused() {
    let e = election();
    let cred = new_credential().unwrap();
    let a = e.encrypt(cred.clone(), plaintext(1, true)).unwrap();
    let b = e.encrypt(cred, plaintext(1, true)).unwrap();
    let (oa, ob) = (a.challenge().unwrap(), b.challenge().unwrap());
    assert!(matches!(e.verify_challenged(a.ballot_json(), ob), Err(BridgeError::OpeningMismatch(_))));

    // Same ballot id, another mark: the opening no longer re-encrypts to the ciphertexts.
    let mut opening: Value = serde_json::from_str(&oa).unwrap();
    opening["contests"][0][1]["mark"] = json!(0);
    opening["contests"][0][2]["mark"] = json!(1);
    assert!(matches!(e.verify_challenged(a.ballot_json(), opening.to_string()), Err(BridgeError::OpeningMismatch(_))));

    // A ballot whose first two ciphertexts were swapped fails its proofs.
    let mut ballot: Value = serde_json::from_str(&a.ballot_json()).unwrap();
    let sels = ballot["contests"][0]["selections"].as_array_mut().unwrap();
    sels.swap(0, 1);
    assert!(matches!(e.verify_challenged(ballot.to_string(), oa.clone()), Err(BridgeError::BallotRejected(_))));
    assert!(matches!(e.verify_challenged("{}".into(), oa), Err(BridgeError::InvalidInput(_))));
}

#[test]
fn tampered_receipts_are_rejected() {
    let e = election();
    let edited = |edit: &dyn Fn(&mut Value)| {
        let mut r: Value = serde_json::from_str(&receipt_json()).unwrap();
        edit(&mut r);
        r.to_string()
    };
    let other_code = vectors()["ballots"][0]["tracking_code"].clone();
    let cases = [
        ("index", edited(&|r| r["index"] = json!(1))),
        ("tracking code", edited(&|r| r["tracking_code"] = other_code.clone())),
        ("proof", edited(&|r| r["inclusion_proof"][0] = json!("00".repeat(32)))),
        ("size", edited(&|r| r["tree_head"]["size"] = json!(5))),
        ("timestamp", edited(&|r| r["tree_head"]["timestamp_ms"] = json!(1))),
        (
            "entry",
            edited(&|r| r["entry"] = json!(r["entry"].as_str().unwrap().replacen("samarkandek", "samarkandeK", 1))),
        ),
    ];
    for (what, json) in cases {
        assert!(matches!(e.verify_receipt(json), Err(BridgeError::ReceiptRejected(_))), "{what}");
    }
    assert!(matches!(e.verify_receipt("null".into()), Err(BridgeError::InvalidInput(_))));

    // A package naming another board key is not this election's package: the board key is under
    // the extended hash (02-transcripts.md §Parameters hash), so such a package does not load.
    let other_board = BoardKey::from_bytes(&[7; 32]).public();
    assert!(Election::load(edited_package(|p| p["board_key"] = json!(hex::encode(other_board)))).is_err());
    // … and a receipt whose head lacks its link to the head before it is refused.
    let unlinked = edited(&|r| {
        r["tree_head"].as_object_mut().unwrap().remove("previous");
    });
    assert!(e.verify_receipt(unlinked).is_err());
}
