//! The vote buyer of issue 19 (docs/protocol/13-revoting.md §1, §12; docs/threat-model.md):
//! he watched voter 0 cast ballot R, keeps R's receipt and tracking code, knows voter 0's
//! credential (he may have held the seed), reads everything public during voting and after
//! closing, and runs the independent verifier. In election A voter 0 votes again later; in
//! election B voter 0 does not, and voter 1 casts that extra ballot instead (same choices, same
//! times, same number of ballots and of voters). Every computation of a fixed list gives the
//! same output in A and B once the values that are random in every election (hashes, keys,
//! ciphertexts, ids) are masked: what is left is everything the buyer could compare.
//!
//! Then the key-holders filter and tally: the filter's transcripts (their shape: every length and
//! every count, with the shuffle positions that are random in every run masked), the record and
//! the verifier's report on it are the same in A and B, and the results differ exactly as the
//! votes do (A: voter 0's re-vote counts; B: voter 1's).

use serde_json::{Value, json};

use crate::ballots::Election;
use crate::ballots_v2::{open_v2, partial_record};
use crate::helpers::*;

/// Who casts, in order, with what choice: A has voter 0's re-vote, B voter 1's extra ballot.
const ELECTION_A: &[(usize, usize)] = &[(0, 1), (1, 0), (0, 2)];
const ELECTION_B: &[(usize, usize)] = &[(0, 1), (1, 0), (1, 2)];

/// `v` with the values that differ between any two elections, re-vote or not, replaced by
/// markers: the campaign id (in any string), lowercase hex strings of 32 digits or more
/// (hashes, keys, ciphertexts) and fingerprints, whole or as words of a longer string (a note).
fn masked(v: &Value, campaign: &str) -> Value {
    match v {
        Value::String(s) if s.starts_with('{') || s.starts_with('[') => match serde_json::from_str::<Value>(s) {
            Ok(inner) => json!({ "<json string>": masked(&inner, campaign) }),
            Err(_) => json!(mask_words(s, campaign)),
        },
        Value::String(s) => json!(mask_words(s, campaign)),
        Value::Array(a) => Value::Array(a.iter().map(|x| masked(x, campaign)).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, x)| (k.clone(), masked(x, campaign))).collect()),
        _ => v.clone(),
    }
}

fn mask_words(s: &str, campaign: &str) -> String {
    let hex = |w: &str| w.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    s.replace(campaign, "<campaign>")
        .split(' ')
        .map(|w| {
            let core = w.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-');
            let fingerprint = core.len() == 24 && core.split('-').all(|g| g.len() == 4 && hex(g));
            if (core.len() >= 32 && hex(core)) || fingerprint { w.replace(core, "<hex>") } else { w.to_owned() }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A verifier report as the `--json` output gives it to the buyer: each check's id, verdict,
/// item count, failures and notes (not its running time).
fn report(r: &dobush_verifier::report::Report) -> Value {
    Value::Array(
        r.checks
            .iter()
            .map(|c| json!({ "id": c.id, "passed": c.passed, "count": c.count, "failures": c.failures, "notes": c.notes }))
            .collect(),
    )
}

/// `r` with every running time zero (the only field a rerun of one election changes).
fn untimed(r: &dobush_verifier::report::Report) -> dobush_verifier::report::Report {
    let mut r = r.clone();
    for c in &mut r.checks {
        c.millis = 0;
    }
    r
}

/// An anonymous GET as the buyer makes it: status, the `Dobush-Record-Status` header and body.
async fn public(e: &Election, path: &str) -> Value {
    let r = reqwest::get(e.app.url(path)).await.unwrap();
    let status = r.status().as_u16();
    let record_status = r.headers().get("dobush-record-status").map(|h| h.to_str().unwrap().to_owned());
    let text = r.text().await.unwrap();
    let body = serde_json::from_str::<Value>(&text).unwrap_or_else(|_| {
        // board.jsonl: one JSON entry per line
        Value::Array(text.lines().map(|l| serde_json::from_str(l).unwrap_or(json!(l))).collect())
    });
    json!({ "path": path, "status": status, "record_status": record_status, "body": body })
}

/// Every public page the buyer can read, during voting or after closing.
async fn public_pages(e: &Election) -> Vec<Value> {
    let id = &e.id;
    let head: Value =
        reqwest::get(e.app.url(&format!("/api/v1/campaigns/{id}/board/head"))).await.unwrap().json().await.unwrap();
    let size = head["size"].as_u64().unwrap();
    let mut out = Vec::new();
    for p in [
        format!("/api/campaigns/{id}"),
        format!("/api/campaigns/{id}/turnout"),
        format!("/api/v1/campaigns/{id}/package"),
        format!("/api/v1/campaigns/{id}/credential-list"),
        format!("/api/v1/campaigns/{id}/board/head"),
        format!("/api/v1/campaigns/{id}/board/heads"),
        format!("/api/v1/campaigns/{id}/board/entries?start=0&end={size}"),
        format!("/api/v1/campaigns/{id}/totals"),
        format!("/api/v1/campaigns/{id}/results"),
        format!("/api/v1/campaigns/{id}/protocol"),
        format!("/api/v1/campaigns/{id}/record"),
        format!("/api/v1/campaigns/{id}/record/board.jsonl"),
    ] {
        out.push(masked(&public(e, &p).await, id));
    }
    out
}

/// What the buyer computes in one election, from the voter's receipt of R, the credential and
/// the public pages: during voting and after closing.
async fn buyer_view(b: Backend, casts: &[(usize, usize)]) -> Value {
    let e = open_v2(b, "last_counts").await;
    let credential = e.creds[0].public().0.to_hex();
    let mut receipt = None;
    let mut during = Vec::new();
    for (k, &(v, choice)) in casts.iter().enumerate() {
        let (request, _) = e.cast_request(v, choice);
        let r = e.cast(v, &request).await;
        assert_eq!(r.status(), 201);
        if k == 0 {
            receipt = Some(r.text().await.unwrap());
        }
        // after every ballot: everything public, and where the credential appears in it
        let pages = public_pages(&e).await;
        let seen: usize = pages.iter().map(|p| p.to_string().matches(&credential).count()).sum();
        during.push(json!({ "pages": pages, "credential_occurrences": seen }));
    }
    let receipt = receipt.unwrap();
    crate::tally::close(&e).await;
    let (record, board) = partial_record(&e).await;
    let opts = dobush_verifier::record::Options::default();
    let verified = dobush_verifier::record::verify(&record, board.as_bytes(), &opts);
    let checked = dobush_verifier::record::verify_receipt(&record, board.as_bytes(), &receipt);
    assert!(checked.failures_of("receipt").is_empty(), "{}", checked.text());
    let r: Value = serde_json::from_str(&receipt).unwrap();
    let after = public_pages(&e).await;
    // the buyer's own checks with the receipt: its entry on the board at its index, its code
    // found once, anything after it that names it
    let lines: Vec<&str> = board.lines().collect();
    let index = r["index"].as_u64().unwrap() as usize;
    let code = r["tracking_code"].as_str().unwrap();
    // then the key-holders filter and tally
    let filtered = filtered_view(&e, &receipt).await;
    json!({
        "during": during,
        "after": after,
        "credential_on_board": board.matches(&credential).count(),
        "verify": masked(&report(&verified), &e.id),
        "receipt": masked(&report(&checked), &e.id),
        "verify_text": masked(&json!(untimed(&verified).text()), &e.id),
        "receipt_text": masked(&json!(untimed(&checked).text()), &e.id),
        "receipt_entry_on_board": lines.get(index) == Some(&r["entry"].as_str().unwrap()),
        "code_occurrences": board.matches(code).count(),
        "entries_after_receipt": lines[index + 1..].iter().map(|l| masked(&serde_json::from_str(l).unwrap(), &e.id)).collect::<Vec<_>>(),
        "filtered": filtered,
    })
}

/// `v` (a filter transcript) with the numbers that are positions in a shuffled list (random in
/// every run: dummies' positions, kept rows, compared rows, revealed rows) masked and the lists
/// in group order (random: groups go by tag) compared as multisets; every other number (run,
/// members, counts, copies), every kind and every length kept.
fn transcript_shape(v: &Value) -> Value {
    match v {
        Value::Array(a) => Value::Array(a.iter().map(transcript_shape).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| {
                    let random = ["dummies", "kept", "a", "b", "row"].contains(&k.as_str());
                    let mut x = if random { numbers_masked(x) } else { transcript_shape(x) };
                    // lists in group order (groups by tag, ascending: a tag is a keyed hash of a
                    // credential, so this order is random in every election): as multisets
                    if ["comparisons", "kept", "orders"].contains(&k.as_str())
                        && let Value::Array(a) = &mut x
                    {
                        a.sort_by_key(Value::to_string);
                    }
                    (k.clone(), x)
                })
                .collect(),
        ),
        _ => v.clone(),
    }
}

/// A `filtered` entry's file length masked: the transcript writes positions in decimal, so its
/// length varies by a few bytes from run to run, as randomly as the positions themselves.
fn sizes_masked(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if o.contains_key("sha256") && o.get("bytes").is_some_and(Value::is_number) {
                o.insert("bytes".into(), json!("<bytes>"));
            }
            o.values_mut().for_each(sizes_masked);
        }
        Value::Array(a) => a.iter_mut().for_each(sizes_masked),
        _ => {}
    }
}

fn numbers_masked(v: &Value) -> Value {
    match v {
        Value::Number(_) => json!("<position>"),
        Value::Array(a) => Value::Array(a.iter().map(numbers_masked).collect()),
        _ => v.clone(),
    }
}

/// After closing: the key-holders filter every style and tally (13-revoting.md §6.8). What the
/// buyer reads then (the pages with the results taken out, each transcript's shape, the record
/// and the verifier's report on it with the files, the receipt check) and, apart, the results.
async fn filtered_view(e: &Election, receipt: &str) -> Value {
    let files = crate::filtered::filter_all(e).await;
    let combined = crate::filtered::post_shares(e, &[1, 2, 3]).await;
    assert_eq!(combined["combined"], true, "{combined}");
    let results = public(e, &format!("/api/v1/campaigns/{}/results", e.id)).await;
    let strip = |mut v: Value| {
        sizes_masked(&mut v);
        // the decrypted counts are the one thing that must differ: compared apart
        for place in ["/body/results", "/body/results/0/counts"] {
            if let Some(x) = v.pointer_mut(place) {
                *x = json!("<results>");
            }
        }
        v
    };
    let pages: Vec<Value> = public_pages(e).await.into_iter().map(strip).collect();
    let url = |p: &str| e.app.url(&format!("/api/v1/campaigns/{}/record{p}", e.id));
    let record = reqwest::get(url("")).await.unwrap().text().await.unwrap();
    let board = reqwest::get(url("/board.jsonl")).await.unwrap().text().await.unwrap();
    let named: Vec<(String, Vec<u8>)> = files.iter().map(|(i, b)| (format!("filter/{i}.json"), b.clone())).collect();
    let opts = dobush_verifier::record::Options::default();
    let verified = dobush_verifier::record::verify_with_files(&record, board.as_bytes(), &named, &opts);
    // everything proved but the protocol, which nobody has signed yet
    for c in &verified.checks {
        assert!(c.passed || (c.name == "protocol" && c.pending), "{}", verified.text());
    }
    let checked = dobush_verifier::record::verify_receipt(&record, board.as_bytes(), receipt);
    let shapes: Vec<Value> =
        files.iter().map(|(_, b)| transcript_shape(&masked(&serde_json::from_slice(b).unwrap(), &e.id))).collect();
    json!({
        "pages": pages,
        "transcripts": shapes,
        "verify": masked(&report(&verified), &e.id),
        "verify_text": masked(&json!(untimed(&verified).text()), &e.id),
        "receipt": masked(&report(&checked), &e.id),
        "results": results["body"]["results"].clone(),
    })
}

/// The buyer's computations give equal outputs whether the bought voter voted again (A) or
/// another voter cast the extra ballot (B).
async fn the_buyer_sees_the_same_whether_or_not_the_voter_voted_again(b: Backend) {
    let mut a = buyer_view(b, ELECTION_A).await;
    let mut bb = buyer_view(b, ELECTION_B).await;
    // the results differ exactly as the votes do: c1, c2, c3, against all, blank; A counts voter
    // 0's re-vote (c3) and voter 1's c1, B voter 0's c2 and voter 1's c3
    let results = |v: &mut Value| v["filtered"]["results"].take();
    assert_eq!(results(&mut a)[0]["counts"], json!([1, 0, 1, 0, 0]));
    assert_eq!(results(&mut bb)[0]["counts"], json!([0, 1, 1, 0, 0]));
    // not blind: the views hold the pages, the reports and the receipt check
    assert_eq!(a["during"].as_array().unwrap().len(), 3);
    assert_eq!(a["verify"].as_array().unwrap().len(), 20);
    assert_eq!(a["credential_on_board"], 1, "on the credential list only");
    assert_eq!(a["code_occurrences"], 1);
    assert_eq!(a["filtered"]["transcripts"].as_array().unwrap().len(), 1);
    assert!(a["filtered"]["transcripts"][0]["selection"]["counted"] == 2, "two voters' last ballots");
    if a != bb {
        let (ta, tb) = (serde_json::to_string_pretty(&a).unwrap(), serde_json::to_string_pretty(&bb).unwrap());
        let first = ta.lines().zip(tb.lines()).position(|(x, y)| x != y).unwrap_or(0);
        let around = |t: &str| t.lines().skip(first.saturating_sub(8)).take(16).collect::<Vec<_>>().join("\n");
        panic!("the buyer tells A from B at line {first}:\nA:\n{}\nB:\n{}", around(&ta), around(&tb));
    }
}

crate::backend_tests!(the_buyer_sees_the_same_whether_or_not_the_voter_voted_again);
