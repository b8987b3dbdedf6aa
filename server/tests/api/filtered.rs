//! The re-voting filter's output on a real board (docs/protocol/13-revoting.md §6.8, §7.11):
//! t key-holders filter every style of a closed v2 campaign with their key shares, a key-holder
//! uploads each transcript, the server checks it against its board and posts `filtered`, the
//! encrypted totals TL-1 of the kept rows are published, and the ordinary tally decrypts them:
//! the last ballot of every voter counts, a replacement chain as one voter, a challenged ballot
//! never. Forged, foreign and repeated transcripts are refused.

use dobush_crypto::filter::run::board::{StyleBoard, setup, style_inputs};
use dobush_crypto::filter::run::drive::run_filter;
use dobush_crypto::filter::run::messages::FilterTranscript;
use dobush_crypto::record::{BoardEntry, FileRef};
use dobush_crypto::tally::ContestTotals;
use dobush_crypto::threshold::decrypt::{DecryptionShare, TotalId};
use rand::rngs::OsRng;
use serde_json::{Value, json};

use crate::ballots::Election;
use crate::ballots_v2::closed_v2_election_with_receipts;
use crate::helpers::*;

/// The board's entries as served.
pub(crate) async fn board_entries(e: &Election) -> Vec<BoardEntry> {
    let url = e.app.url(&format!("/api/v1/campaigns/{}/record/board.jsonl", e.id));
    let board = reqwest::get(url).await.unwrap().text().await.unwrap();
    board.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Every style with a ballot, with its inputs recomputed from the board as the server does.
pub(crate) async fn styles_to_filter(e: &Election) -> Vec<StyleBoard> {
    let entries = board_entries(e).await;
    style_inputs(&e.package, &entries).unwrap().into_iter().filter(StyleBoard::has_rows).collect()
}

/// The transcript of `style`'s filter by the key-holders of `filter` (1-based, ascending) with
/// `coordinator`, as the file a key-holder uploads.
pub(crate) fn filter_style(e: &Election, style: &StyleBoard, filter: &[u32], coordinator: u32) -> FilterTranscript {
    let (outcome, shares) = e.ceremony.c.finish().unwrap();
    let setup = setup(&e.package, &outcome.verification_keys, style, 1, filter.to_vec(), coordinator).unwrap();
    let mine: Vec<_> = filter.iter().map(|&j| shares[j as usize - 1].clone()).collect();
    run_filter(&setup, &style.inputs, &mine, &mut OsRng).unwrap().transcript
}

/// Uploads a transcript file as key-holder 1.
pub(crate) async fn upload(e: &Election, body: &[u8]) -> reqwest::Response {
    let kh = e.app.login(crate::ceremony::KEY_HOLDERS[0]).await;
    kh.post_raw(&format!("/api/v1/campaigns/{}/filter/transcripts", e.id), "application/json", body.to_vec()).await
}

/// Filters every style of a closed v2 campaign (F = {1, 3, 4}, coordinator 3) and uploads each
/// transcript; returns the files as uploaded, by style index.
pub(crate) async fn filter_all(e: &Election) -> Vec<(usize, Vec<u8>)> {
    let mut files = Vec::new();
    for style in styles_to_filter(e).await {
        let t = filter_style(e, &style, &[1, 3, 4], 3);
        let body = serde_json::to_vec(&t).unwrap();
        let r = upload(e, &body).await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        files.push((style.index, body));
    }
    files
}

/// Every key-holder of `holders` decrypts every published total and posts its shares.
pub(crate) async fn post_shares(e: &Election, holders: &[usize]) -> Value {
    let body: Value = crate::tally::totals(e).await.json().await.unwrap();
    let published: Vec<ContestTotals> = serde_json::from_value(body["encrypted_totals"].clone()).unwrap();
    let (_, key_shares) = e.ceremony.c.finish().unwrap();
    let ext = *e.ctx.extended_hash();
    let kh = e.app.login(crate::ceremony::KEY_HOLDERS[0]).await;
    let mut last = Value::Null;
    for &l in holders {
        let signer = e.ceremony.c.keys[l - 1].signing_key();
        let shares: Vec<DecryptionShare> = published
            .iter()
            .enumerate()
            .flat_map(|(q, c)| c.totals.iter().enumerate().map(move |(j, ct)| (q, j, ct)))
            .map(|(q, j, ct)| {
                let total = TotalId { contest: q as u32, option: j as u32 };
                key_shares[l - 1].partial_decrypt(&ext, total, ct, signer, &mut OsRng).unwrap()
            })
            .collect();
        let r = kh.post(&format!("/api/v1/campaigns/{}/decryption-shares", e.id), &json!({ "shares": shares })).await;
        assert_eq!(r.status(), 200);
        last = r.json().await.unwrap();
    }
    last
}

/// The filter's output is posted, published and tallied: voter 0 voted c2 then c3 (c3 counts),
/// voter 1 voted c1, had its credential replaced and voted c2 (c2 counts: one chain, one
/// voter), voter 2 only challenged a ballot (never counted). Before the filter the totals are
/// refused; after it they are TL-1 of the kept rows, and t key-holders' shares decrypt them.
async fn the_last_ballot_of_every_voter_counts_through_the_filter(b: Backend) {
    let (e, _) = closed_v2_election_with_receipts(b).await;
    assert_error(crate::tally::totals(&e).await, 409, "v2_not_tallied").await;
    let styles = styles_to_filter(&e).await;
    assert_eq!(styles.len(), 1, "the campaign has one style");
    let before = board_entries(&e).await.len();
    let files = filter_all(&e).await;
    // the board: one `filtered` entry per style, right after the revealed cast verifier secret,
    // binding the file served as the record's `filter/<i>.json` byte for byte
    let entries = board_entries(&e).await;
    assert!(matches!(entries[before - 1], BoardEntry::CastVerifierRevealed { .. }));
    assert_eq!(entries.len(), before + files.len());
    for ((index, body), entry) in files.iter().zip(&entries[before..]) {
        let BoardEntry::Filtered { style, transcript } = entry else { panic!("{entry:?}") };
        assert_eq!(*style, e.package.manifest.ballot_styles[*index].id);
        assert_eq!(*transcript, FileRef::of(body));
        let url = e.app.url(&format!("/api/v1/campaigns/{}/record/filter/{index}.json", e.id));
        let served = reqwest::get(url).await.unwrap();
        assert_eq!(served.status(), 200);
        assert_eq!(served.bytes().await.unwrap().as_ref(), body.as_slice());
    }
    for missing in ["1.json", "00.json", "0", "x.json", "-1.json"] {
        let url = e.app.url(&format!("/api/v1/campaigns/{}/record/filter/{missing}", e.id));
        assert_eq!(reqwest::get(url).await.unwrap().status(), 404, "{missing}");
    }
    // the totals: published, with two counted ballots, and they decrypt to the last votes
    let body: Value = crate::tally::totals(&e).await.json().await.unwrap();
    let totals: Vec<ContestTotals> = serde_json::from_value(body["encrypted_totals"].clone()).unwrap();
    assert_eq!(totals[0].ballots, 2);
    assert_eq!(crate::tally::decrypt(&e, &totals), vec![vec![0, 1, 1, 0, 0]]);
    // a second transcript of a filtered style: refused, whoever made it (the first counts)
    let again = filter_style(&e, &styles[0], &[1, 2, 3], 1);
    assert_error(upload(&e, &serde_json::to_vec(&again).unwrap()).await, 409, "already_filtered").await;
    // the ordinary tally: three key-holders' shares combine into the results
    let report = post_shares(&e, &[1, 2, 5]).await;
    assert_eq!(report["combined"], true, "{report}");
    let res: Value =
        reqwest::get(e.app.url(&format!("/api/v1/campaigns/{}/results", e.id))).await.unwrap().json().await.unwrap();
    assert_eq!(res["results"][0]["counts"], json!([0, 1, 1, 0, 0]), "{res}");
    assert_eq!(res["results"][0]["ballots"], 2, "{res}");
    // the exported record holds the files beside record.json and board.jsonl
    let id = e.id.clone();
    let export = e.app.with_db(move |c| dobush_server::export::build_record(c, &id).unwrap()).await;
    assert_eq!(export.record.encrypted_totals, totals);
    let dir = std::env::temp_dir().join(format!("dobush-filtered-{}", uuid::Uuid::new_v4().simple()));
    dobush_server::export::write_record(&export, &dir).unwrap();
    for (index, body) in &files {
        assert_eq!(&std::fs::read(dir.join(format!("filter/{index}.json"))).unwrap(), body);
    }
    // the independent verifier reads that record, from the directory and from memory: every
    // check holds (V20, V22, V24 the filter's, V16 the decryption of its totals) but the
    // protocol, which is signed later (pending: no result is refused)
    use dobush_verifier::record::{Options, verify_dir, verify_with_files};
    let read = |p: &str| std::fs::read(dir.join(p)).unwrap();
    let in_memory: Vec<(String, Vec<u8>)> =
        files.iter().map(|(index, _)| format!("filter/{index}.json")).map(|n| (n.clone(), read(&n))).collect();
    let record = String::from_utf8(read("record.json")).unwrap();
    let reports = [
        verify_with_files(&record, &read("board.jsonl"), &in_memory, &Options::default()),
        verify_dir(&dir, &Options::default()),
    ];
    for r in reports {
        let failing: Vec<&str> = r.checks.iter().filter(|c| !c.passed).map(|c| c.name).collect();
        assert_eq!(failing, ["protocol"], "{}", r.text());
        assert!(r.pending(), "{}", r.text());
        assert!(r.notes_of("filter").iter().any(|n| n.contains("counted 2")), "{}", r.text());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The key-holders' `tally` on the v2 record: it checks the board and every transcript itself
/// and recomputes the published totals; a transcript file altered, another valid transcript of
/// the style put in its place, or a `filtered` entry missing make it refuse to decrypt anything.
async fn the_key_holders_recompute_the_totals_from_the_record(b: Backend) {
    use dobush_crypto::record::{Board, ElectionRecord};
    use dobush_key_holders::tally_v2::recompute;
    let (e, _) = closed_v2_election_with_receipts(b).await;
    let files = filter_all(&e).await;
    let url = |p: &str| e.app.url(&format!("/api/v1/campaigns/{}/record{p}", e.id));
    let record: ElectionRecord = reqwest::get(url("")).await.unwrap().json().await.unwrap();
    let board_text = reqwest::get(url("/board.jsonl")).await.unwrap().text().await.unwrap();
    let lines: Vec<String> = board_text.lines().map(str::to_owned).collect();
    let (outcome, _) = e.ceremony.c.finish().unwrap();
    let vks = outcome.verification_keys;
    let served = |name: &str| -> anyhow::Result<Vec<u8>> {
        let i: usize = name.trim_start_matches("filter/").trim_end_matches(".json").parse()?;
        files.iter().find(|(j, _)| *j == i).map(|(_, b)| b.clone()).ok_or_else(|| anyhow::anyhow!("no {name}"))
    };
    let board = Board::from_lines(lines.clone());
    let (totals, counts) = recompute(&record, &e.ctx, &board, &vks, &served).unwrap();
    assert_eq!(totals, record.encrypted_totals);
    assert_eq!((counts.ballots, counts.counted, counts.superseded), (4, 2, 2));
    // a byte of the file changed
    let flipped = |name: &str| -> anyhow::Result<Vec<u8>> {
        let mut b = served(name)?;
        let at = b.len() / 2;
        b[at] ^= 1;
        Ok(b)
    };
    let err = recompute(&record, &e.ctx, &board, &vks, &flipped).unwrap_err().to_string();
    assert!(err.contains("not the file"), "{err}");
    // another transcript of the style, which verifies on its own, in place of the bound one
    let style = styles_to_filter(&e).await.remove(0);
    let other = serde_json::to_vec(&filter_style(&e, &style, &[1, 2, 3], 2)).unwrap();
    let swapped = |_: &str| -> anyhow::Result<Vec<u8>> { Ok(other.clone()) };
    let err = recompute(&record, &e.ctx, &board, &vks, &swapped).unwrap_err().to_string();
    assert!(err.contains("not the file"), "{err}");
    // the board without its `filtered` entry
    let unfiltered = Board::from_lines(lines[..lines.len() - 1].to_vec());
    let err = recompute(&record, &e.ctx, &unfiltered, &vks, &served).unwrap_err().to_string();
    assert!(err.contains("filter has not run"), "{err}");
}

/// The protocol of a filtered, tallied v2 campaign (13-revoting.md §6.8): line 3 is the
/// filter's counted ballots, line 4 every other cast e-ballot (a re-vote or a replaced chain's
/// earlier ballot), line 5 the challenged ballot; it is saved and signed by the pinned commission
/// and the record is then complete. Returns the record's three parts for the caller's checks.
pub(crate) async fn protocol_signed(e: &Election) -> Value {
    let admin = e.app.admin().await;
    let path = |p: &str| format!("/api/v1/campaigns/{}/{p}", e.id);
    let draft: Value = admin.get(&path("protocol/draft")).await.json().await.unwrap();
    let r = admin.put(&path("protocol"), &json!({ "body": draft })).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let digest = hex::decode(r.json::<Value>().await.unwrap()["digest"].as_str().unwrap()).unwrap();
    let anon = reqwest::Client::new();
    for k in crate::helpers::member_keys().iter().take(3) {
        use ed25519_dalek::Signer;
        let sig = json!({ "public_key": hex::encode(k.verifying_key().to_bytes()), "signature": hex::encode(k.sign(&digest).to_bytes()) });
        let r = anon.post(e.app.url(&path("protocol/signatures"))).json(&sig).send().await.unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }
    draft
}

async fn a_filtered_v2_campaign_gets_its_protocol_and_a_complete_record(b: Backend) {
    let (e, _) = closed_v2_election_with_receipts(b).await;
    filter_all(&e).await;
    assert_eq!(post_shares(&e, &[2, 3, 4]).await["combined"], true);
    let draft = protocol_signed(&e).await;
    let line = |k: &str| {
        draft["general"].as_array().unwrap().iter().find(|l| l["key"] == k).unwrap()["value"].as_u64().unwrap()
    };
    // three listed, two voters' last ballots counted, two earlier ones not, one challenge
    assert_eq!(["e_voters", "counted", "superseded", "challenged"].map(line), [3, 2, 2, 1], "{draft}");
    let contest: Vec<u64> =
        draft["contests"][0]["lines"].as_array().unwrap().iter().map(|l| l["value"].as_u64().unwrap()).collect();
    // ballots, valid, invalid, c1, c2, c3, against all
    assert_eq!(contest, vec![2, 2, 0, 0, 1, 1, 0]);
    let r = reqwest::get(e.app.url(&format!("/api/v1/campaigns/{}/record", e.id))).await.unwrap();
    assert_eq!(r.headers()["dobush-record-status"], "complete");
    // the independent verifier proves the whole record, the protocol's lines included (V14
    // derives lines 3 and 4 from the counting transcripts)
    let id = e.id.clone();
    let export = e.app.with_db(move |c| dobush_server::export::build_record(c, &id).unwrap()).await;
    let record = serde_json::to_string(&export.record).unwrap();
    let files: Vec<(String, Vec<u8>)> =
        export.filter_files.iter().map(|(n, b)| (n.clone(), b.clone().into_bytes())).collect();
    let opts = dobush_verifier::record::Options::default();
    let report = dobush_verifier::record::verify_with_files(&record, export.board.as_bytes(), &files, &opts);
    assert!(report.checks.iter().all(|c| c.passed), "{}", report.text());
    // a commission that signs other lines 3 and 4 than the filter's (the signatures valid over
    // the changed body) is refused by V14's derivation, naming the line
    let mut forged = export.record.clone();
    let protocol = forged.protocol.as_mut().unwrap();
    for l in &mut protocol.body.general {
        match l.key.as_str() {
            "counted" => l.value = 3,
            "superseded" => l.value = 1,
            _ => {}
        }
    }
    let digest = protocol.body.digest();
    for sig in &mut protocol.signatures {
        use ed25519_dalek::Signer;
        let keys = crate::helpers::member_keys();
        let k = keys.iter().find(|k| k.verifying_key().to_bytes() == sig.public_key).unwrap();
        sig.signature = k.sign(&digest).to_bytes();
    }
    let forged = serde_json::to_string(&forged).unwrap();
    let report = dobush_verifier::record::verify_with_files(&forged, export.board.as_bytes(), &files, &opts);
    let failures = report.failures_of("protocol");
    assert!(failures.iter().any(|f| f.contains("protocol line counted")), "{}", report.text());
    assert!(report.failures_of("commission").is_empty(), "the signatures hold: {}", report.text());
    // and a record whose protocol was dropped is no longer complete: pending, not proved
    let mut dropped = export.record.clone();
    dropped.protocol = None;
    let report = dobush_verifier::record::verify_with_files(
        &serde_json::to_string(&dropped).unwrap(),
        export.board.as_bytes(),
        &files,
        &opts,
    );
    assert!(!report.passed(), "{}", report.text());
}

/// What is refused, and stores nothing: a voter's upload, a body that is not JSON or not a
/// transcript, a transcript with any proof or count altered (the round and place named), one
/// of a style the manifest does not have, one from a quorum that is not t key-holders, and a
/// transcript before closing or for a v1 campaign.
async fn forged_and_foreign_transcripts_are_refused(b: Backend) {
    let (e, _) = closed_v2_election_with_receipts(b).await;
    let style = styles_to_filter(&e).await.remove(0);
    let honest = filter_style(&e, &style, &[2, 4, 5], 4);
    let path = format!("/api/v1/campaigns/{}/filter/transcripts", e.id);
    let body = serde_json::to_vec(&honest).unwrap();
    let voter = e.app.login(VOTER1).await;
    assert_eq!(voter.post_raw(&path, "application/json", body.clone()).await.status(), 403);
    let kh = e.app.login(crate::ceremony::KEY_HOLDERS[0]).await;
    assert_eq!(kh.post_raw(&path, "text/plain", body.clone()).await.status(), 415);
    let gzip = kh
        .req(reqwest::Method::POST, &path)
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(gzip.status(), 415, "a transcript is sent uncompressed");
    // one transcript is checked at a time: while one is, another is told to come back
    let busy = e.app.state.filter_checks.clone().try_acquire_owned().unwrap();
    let r = upload(&e, &body).await;
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    drop(busy);
    assert_error(upload(&e, b"[]").await, 422, "invalid_field").await;
    let mut value: Value = serde_json::from_slice(&body).unwrap();
    value["unknown"] = json!(1);
    assert_error(upload(&e, &serde_json::to_vec(&value).unwrap()).await, 422, "invalid_field").await;
    let forge = |f: &dyn Fn(&mut FilterTranscript)| {
        let mut t = honest.clone();
        f(&mut t);
        serde_json::to_vec(&t).unwrap()
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("a count raised", forge(&|t| t.selection.as_mut().unwrap().counted += 1), "round 10"),
        (
            "a kept row moved",
            forge(&|t| {
                let kept = &mut t.selection.as_mut().unwrap().kept;
                let k = kept.iter_mut().flatten().next().unwrap();
                *k = (*k + 1) % 4;
            }),
            "round 10",
        ),
        (
            // review 19-filtered H4: the counts are proved by the kept rows and the overrides
            "the counted ballots called overrides",
            forge(&|t| {
                let s = t.selection.as_mut().unwrap();
                (s.counted, s.overridden) = (0, s.counted);
            }),
            "0 overrides)",
        ),
        ("a member's tag shares swapped", forge(&|t| t.tags.swap(0, 1)), "round 6"),
        (
            "the shuffled rows reordered",
            forge(&|t| {
                let rows = &mut t.shuffles.as_mut().unwrap().rows.output;
                let mut all: Vec<Vec<_>> = rows.iter().map(<[_]>::to_vec).collect();
                all.swap(0, 1);
                *rows = dobush_crypto::shuffle::Rows::from_rows(all).unwrap();
            }),
            "round 5",
        ),
        ("another run", forge(&|t| t.run = 2), "only run 1"),
        ("a coordinator outside F", forge(&|t| t.coordinator = 1), "round 0"),
        ("a quorum of two", forge(&|t| t.filter.truncate(2)), "round 0"),
    ];
    for (what, bad, round) in cases {
        let r = assert_error(upload(&e, &bad).await, 422, "invalid_field").await;
        assert_eq!(r["field"], "transcript", "{what}: {r}");
        assert!(r.to_string().contains(round), "{what}: {r}");
    }
    let mut other = honest.clone();
    other.style = "no-such-style".into();
    let r = assert_error(upload(&e, &serde_json::to_vec(&other).unwrap()).await, 422, "invalid_field").await;
    assert_eq!(r["field"], "style", "{r}");
    // nothing was posted or published by any of them; the honest one still goes through
    assert!(!board_entries(&e).await.iter().any(|x| matches!(x, BoardEntry::Filtered { .. })));
    assert_error(crate::tally::totals(&e).await, 409, "v2_not_tallied").await;
    let r = upload(&e, &body).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    // a v1 campaign has no filter; an open v2 campaign not yet
    let v1 = crate::ballots::open_election(b, "last_counts").await;
    crate::tally::close(&v1).await;
    assert_error(upload(&v1, &body).await, 409, "not_v2").await;
    let open = crate::ballots_v2::open_v2(b, "last_counts").await;
    assert_error(upload(&open, &body).await, 409, "not_closed").await;
}

crate::backend_tests!(
    the_last_ballot_of_every_voter_counts_through_the_filter,
    the_key_holders_recompute_the_totals_from_the_record,
    a_filtered_v2_campaign_gets_its_protocol_and_a_complete_record,
    forged_and_foreign_transcripts_are_refused,
);
