//! The seed corpora of the fuzz targets (`fuzz/`): the ballots of `vectors/`, and a small closed
//! election (3 voters under last-counts, one re-vote, one challenge) as record, board entries,
//! receipt and package. Written by the `fuzz_seeds` binary and by the fuzz smoke test
//! (`fuzz/tests/smoke.rs`).

use std::path::Path;

use crate::election::SimElection;
use crate::fixtures::{pilot_manifest, pilot_vote as vote};
use dobush_crypto::parameters::ReVotePolicy;
use rand::SeedableRng;

fn write(dir: &Path, target: &str, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let d = dir.join(target);
    std::fs::create_dir_all(&d)?;
    std::fs::write(d.join(name), bytes)
}

/// Writes every target's seeds under `out/<target>/`.
pub fn write_all(out: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let out = out.to_path_buf();
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors");
    for file in ["ballots-pilot.json", "ballots-wide.json"] {
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(vectors.join(file))?)?;
        for (i, b) in v["ballots"].as_array().into_iter().flatten().enumerate() {
            let ballot = serde_json::to_vec(&b["ballot"])?;
            let name = format!("{file}-{i}");
            write(&out, "ballot", &name, &ballot)?;
            write(&out, "api_bodies", &name, &ballot)?;
            let challenge = serde_json::json!({ "ballot": b["ballot"], "opening": b["opening"] });
            write(&out, "api_bodies", &format!("{name}-challenge"), &serde_json::to_vec(&challenge)?)?;
        }
    }
    let mut e =
        SimElection::new(pilot_manifest(), ReVotePolicy::LastCounts, 3, rand_chacha::ChaCha20Rng::seed_from_u64(7));
    let receipt = e.cast(0, &vote(1, true));
    e.cast(1, &vote(2, false));
    // a credential replaced while voting (signed by a list signer) and a ballot under the new one
    e.replace_credential(1);
    e.cast(1, &vote(6, true));
    e.challenge(2, &vote(3, true));
    e.cast(2, &vote(4, true));
    e.cast(0, &vote(5, false));
    let (record, board, _) = e.close();
    let record_json = serde_json::to_string(&record)?;
    let jsonl = board.to_jsonl();
    let receipt_json = serde_json::to_string(&receipt)?;
    for (i, line) in board.lines().iter().enumerate() {
        write(&out, "record", &format!("entry-{i}"), line.as_bytes())?;
        if line.contains("\"type\":\"credential_replaced\"") {
            // the commission's replacement request as the server receives it
            let v: serde_json::Value = serde_json::from_str(line)?;
            let body = serde_json::json!({
                "pin": "20101199000001", "credential": v["new"], "decision": v["decision"], "signatures": v["signatures"],
            });
            write(&out, "api_bodies", "replacement", &serde_json::to_vec(&body)?)?;
        }
    }
    write(&out, "record", "package", serde_json::to_string(&record.package)?.as_bytes())?;
    let package_json = serde_json::to_string(&record.package)?;
    write(&out, "record", "package-receipt", format!("{package_json}\n{receipt_json}").as_bytes())?;
    write(&out, "record", "record", record_json.as_bytes())?;
    write(
        &out,
        "api_bodies",
        "manifest",
        serde_json::to_string(&serde_json::json!({ "manifest": record.package.manifest }))?.as_bytes(),
    )?;
    // the verifier target reads record.json, a NUL, board.jsonl, and optionally a NUL and a receipt
    let mut both = record_json.clone().into_bytes();
    both.push(0);
    both.extend_from_slice(jsonl.as_bytes());
    write(&out, "verifier", "record-board", &both)?;
    both.push(0);
    both.extend_from_slice(receipt_json.as_bytes());
    write(&out, "verifier", "record-board-receipt", &both)?;
    Ok(())
}
