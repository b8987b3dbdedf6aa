//! The record's JSON Schema (`docs/schemas/record.schema.json`, docs/record-format.md §JSON
//! Schema): what the writers write validates — the simulated election here, the server's exported
//! record in `e2e.rs` — and malformed records and board entries do not.

use dobush_crypto::parameters::ReVotePolicy;
use dobush_tests::election::SimElection;
use dobush_tests::fixtures::pilot_manifest;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::Value;

use crate::verifier::{election, vote};

/// Validators of `record.json` and of one board line (the same definitions, rooted at
/// `#/$defs/boardEntry`).
pub(crate) struct Schemas {
    record: jsonschema::Validator,
    entry: jsonschema::Validator,
}

pub(crate) fn schemas() -> Schemas {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/schemas/record.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut entry = schema.clone();
    let o = entry.as_object_mut().unwrap();
    o.retain(|k, _| k == "$schema" || k == "$defs");
    o.insert("$ref".into(), "#/$defs/boardEntry".into());
    Schemas {
        record: jsonschema::draft202012::new(&schema).unwrap(),
        entry: jsonschema::draft202012::new(&entry).unwrap(),
    }
}

impl Schemas {
    /// Every schema error of a record and its board lines, located.
    pub(crate) fn errors(&self, record: &Value, lines: &[&str]) -> Vec<String> {
        let mut out: Vec<String> =
            self.record.iter_errors(record).map(|e| format!("record.json{}: {e}", e.instance_path())).collect();
        for (i, l) in lines.iter().enumerate() {
            let v: Value = serde_json::from_str(l).unwrap();
            out.extend(self.entry.iter_errors(&v).map(|e| format!("board entry {i}{}: {e}", e.instance_path())));
        }
        out
    }
}

#[test]
fn records_and_boards_validate_against_the_schema_and_malformed_ones_do_not() {
    let s = schemas();
    // checked and re-cast ballots, revocations; then a replacement
    let c = election(ReVotePolicy::LastCounts);
    let record = serde_json::to_value(&c.record).unwrap();
    let lines: Vec<&str> = c.board.lines().iter().map(String::as_str).collect();
    assert_eq!(s.errors(&record, &lines), Vec::<String>::new());
    let mut e = SimElection::new(pilot_manifest(), ReVotePolicy::LastCounts, 3, ChaCha20Rng::seed_from_u64(5));
    e.cast(0, &vote(1, true));
    e.replace_credential(0);
    e.cast(0, &vote(2, false));
    let (r2, b2, _) = e.close();
    let lines2: Vec<&str> = b2.lines().iter().map(String::as_str).collect();
    assert!(lines2.iter().any(|l| l.contains("\"credential_replaced\"")));
    assert_eq!(s.errors(&serde_json::to_value(&r2).unwrap(), &lines2), Vec::<String>::new());

    // malformed records: each refused, at the right place
    type Tamper = fn(&mut Value);
    let records: [(Tamper, &str); 8] = [
        (|v| v["version"] = "dobush-record/1".into(), "record.json/version"),
        (
            |v| v["package"]["joint_key"] = v["package"]["joint_key"].as_str().unwrap().to_uppercase().into(),
            "record.json/package/joint_key",
        ),
        (
            |v| v["package"]["parameters"]["re_vote"]["policy"] = "first_counts".into(),
            "record.json/package/parameters/re_vote/policy",
        ),
        (|v| v["results"][0]["extra"] = 1.into(), "record.json/results/0"),
        (
            |v| {
                v["decryption_shares"][0].as_object_mut().unwrap().remove("proof");
            },
            "record.json/decryption_shares/0",
        ),
        (
            |v| {
                v["decryption_shares"][0].as_object_mut().unwrap().remove("signature");
            },
            "record.json/decryption_shares/0",
        ),
        (|v| v["decryption_shares"][0]["signature"]["extra"] = 1.into(), "record.json/decryption_shares/0/signature"),
        (|v| v["tree_heads"][0]["size"] = (-1).into(), "record.json/tree_heads/0/size"),
    ];
    for (f, at) in records {
        let mut bad = record.clone();
        f(&mut bad);
        let errors = s.errors(&bad, &[]);
        assert!(errors.iter().any(|m| m.starts_with(&format!("{at}:"))), "{at}: {errors:?}");
    }
    // malformed board entries
    let entries: [(usize, Tamper); 5] = [
        (0, |v| v["revoked"] = Value::Array(vec![])),
        (0, |v| v["count"] = "3".into()),
        (2, |v| v["assets"][0][1] = "sha256-AAAA".into()),
        (lines.iter().position(|l| l.contains("\"type\":\"ballot\"")).unwrap(), |v| {
            v["ballot"]["ballot_id"] = "00".into()
        }),
        (lines.len() - 1, |v| v["type"] = "reopened".into()),
    ];
    for (i, f) in entries {
        let mut v: Value = serde_json::from_str(lines[i]).unwrap();
        f(&mut v);
        let line = v.to_string();
        let errors = s.errors(&record, &[line.as_str()]);
        assert!(errors.iter().any(|m| m.starts_with("board entry 0")), "entry {i}: {line}");
    }
}

/// The v2 credential entries of `vectors/board-v2.json` (13-revoting.md §4.2) validate; the v1
/// fields in them (a `revoked` list, an `old` credential) or a missing PIN commitment do not.
#[test]
fn v2_credential_entries_validate_and_v1_fields_in_them_do_not() {
    let s = schemas();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../vectors/board-v2.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for which in ["list_v2", "replacement_v2"] {
        let entry: Value = serde_json::from_str(v[which]["entry"].as_str().unwrap()).unwrap();
        assert!(s.entry.is_valid(&entry), "{which}");
    }
    let list: Value = serde_json::from_str(v["list_v2"]["entry"].as_str().unwrap()).unwrap();
    let replacement: Value = serde_json::from_str(v["replacement_v2"]["entry"].as_str().unwrap()).unwrap();
    type Tamper = fn(&mut Value);
    let tampers: [(&Value, Tamper); 4] = [
        (&list, |v| v["revoked"] = Value::Array(vec![])),
        (&list, |v| {
            v["credentials"][0].as_object_mut().unwrap().remove("pin_commitment");
        }),
        (&replacement, |v| v["old"] = v["new"].clone()),
        (&replacement, |v| {
            v["proof"].as_object_mut().unwrap().remove("z");
        }),
    ];
    for (i, (base, f)) in tampers.into_iter().enumerate() {
        let mut bad = base.clone();
        f(&mut bad);
        assert!(!s.entry.is_valid(&bad), "tamper {i}");
    }
}
