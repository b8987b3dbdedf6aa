//! A filtered v2 record read by the independent verifier (13-revoting.md §6.8, §6.9;
//! record-format.md §Election record): the closed v2 campaign of `ballots_v2`, whose filter the
//! test runs itself in process — crypto's `run_filter` on inputs crypto builds from the exported
//! board, the members' key shares from the ceremony — then appends the `filtered` entries with
//! their signed tree heads and publishes TL-1 as the encrypted totals, as the server will. The
//! verifier (`verify_with_files`) accepts the filter's checks (V20, V22, V24) and refuses every
//! tampering with a failure located where it belongs.
//!
//! The same checks on the record the server itself filters and exports (`filtered.rs`'s flow):
//! it verifies, and each tampering is refused where it should be.
//!
//! SQLite only: nothing here depends on the backend.

use dobush_crypto::board::{BoardKey, SignedTreeHead, TreeHead};
use dobush_crypto::elgamal::Ciphertext;
use dobush_crypto::filter::run::Setup;
use dobush_crypto::filter::run::drive::run_filter;
use dobush_crypto::filter::run::inputs::{BallotInput, Inputs, ReplacementInput};
use dobush_crypto::filter::totals::{StyleKept, contest_totals};
use dobush_crypto::record::{Board, BoardEntry};
use dobush_crypto::threshold::Parameters;
use dobush_verifier::record::{Options, verify_with_files};
use dobush_verifier::report::Report;
use rand::rngs::OsRng;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::ballots::Election;
use crate::helpers::Backend;

/// A filtered record: `record.json`, the board's lines and the files under `filter/`.
#[derive(Clone)]
pub(crate) struct Filtered {
    pub record: Value,
    pub lines: Vec<String>,
    pub files: Vec<(String, Vec<u8>)>,
}

impl Filtered {
    pub fn verify(&self) -> Report {
        let board: String = self.lines.iter().map(|l| format!("{l}\n")).collect();
        verify_with_files(&self.record.to_string(), board.as_bytes(), &self.files, &Options::default())
    }
}

/// A `filtered` entry exactly as record-format.md §Board writes it (fields in that order).
pub(crate) fn filtered_line(style: &str, file: &[u8]) -> String {
    format!(
        r#"{{"type":"filtered","style":{},"transcript":{{"sha256":"{}","bytes":{}}}}}"#,
        serde_json::to_string(style).unwrap(),
        hex::encode(Sha256::digest(file)),
        file.len()
    )
}

/// `record`'s chain of heads extended by one head per line after the last head's size, each
/// signed by the board key and linked to the one before (10-board.md §Tree heads).
pub(crate) fn extend_heads(record: &mut Value, lines: &[String], key: &BoardKey) {
    let board = Board::from_lines(lines.to_vec());
    let heads = record["tree_heads"].as_array_mut().unwrap();
    let last: SignedTreeHead = serde_json::from_value(heads.last().unwrap().clone()).unwrap();
    let mut previous = last.head;
    for size in last.head.size + 1..=lines.len() as u64 {
        let head = TreeHead {
            size,
            root: board.log().root_at(size).unwrap(),
            previous: previous.link(),
            timestamp_ms: previous.timestamp_ms + 1,
            ..previous
        };
        heads.push(serde_json::to_value(key.sign(head)).unwrap());
        previous = head;
    }
}

fn ciphertexts(c: &[dobush_crypto::ballot::EncryptedContest]) -> Vec<Ciphertext> {
    c.iter().flat_map(|k| k.selections.iter().map(|s| s.ciphertext)).collect()
}

/// The closed v2 campaign of `ballots_v2`, filtered by the test (one run, F = {1 … t}) and its
/// totals published as TL-1, its heads signed by the board key. Returns it with the election
/// (whose server holds the board key).
pub(crate) async fn hand_filtered(b: Backend) -> (Filtered, Election) {
    let e = crate::ballots_v2::closed_v2_election(b).await;
    let (record, board) = crate::ballots_v2::partial_record(&e).await;
    let mut record: Value = serde_json::from_str(&record).unwrap();
    let mut lines: Vec<String> = board.lines().map(str::to_owned).collect();
    let package = &e.package;
    let manifest = &package.manifest;
    // the board's inputs, read with crypto's own types (13-revoting.md §5)
    let mut per_style: std::collections::BTreeMap<String, Inputs> = Default::default();
    for (i, line) in lines.iter().enumerate() {
        let index = i as u64;
        match serde_json::from_str::<BoardEntry>(line).unwrap() {
            BoardEntry::BallotV2 { ballot, .. } => {
                per_style.entry(ballot.style.clone()).or_default().ballots.push(BallotInput {
                    index,
                    cred: ballot.cred,
                    tbase: ballot.tbase,
                    votes: ciphertexts(&ballot.contests),
                })
            }
            BoardEntry::CredentialListV2 { credentials, .. } => {
                for c in credentials {
                    per_style.entry(c.style).or_default().list.push(c.credential.0);
                }
            }
            BoardEntry::CredentialReplacedV2 { style, new, old_tbase, .. } => {
                per_style.entry(style).or_default().replacements.push(ReplacementInput { index, new: new.0, old_tbase })
            }
            _ => {}
        }
    }
    let (outcome, shares) = e.ceremony.c.finish().unwrap();
    let t = package.threshold;
    let n = package.key_holders.len() as u32;
    let filter: Vec<u32> = (1..=t).collect();
    let members: Vec<_> = filter.iter().map(|j| shares[*j as usize - 1].clone()).collect();
    let options: Vec<usize> = manifest.contests.iter().map(|c| c.selection_count()).collect();
    let mut kept: Vec<(Vec<usize>, Vec<Vec<Ciphertext>>, u64)> = Vec::new();
    let mut files = Vec::new();
    for (position, style) in manifest.ballot_styles.iter().enumerate() {
        let Some(inputs) = per_style.get(&style.id).filter(|i| !i.ballots.is_empty()) else { continue };
        let contests: Vec<usize> =
            style.contests.iter().map(|id| manifest.contests.iter().position(|c| &c.id == id).unwrap()).collect();
        let setup = Setup {
            context: package.extended_hash,
            base_hash: package.base_hash,
            run: 1,
            style: style.id.clone(),
            election_key: package.joint_key,
            params: Parameters::new(n, t).unwrap(),
            verification_keys: outcome.verification_keys.clone(),
            // 13-revoting.md §9.2: the campaign's rule is `last_counts`
            row_limit: 6,
            selections: contests.iter().map(|q| options[*q]).sum(),
            filter: filter.clone(),
            coordinator: filter[0],
        };
        let out = run_filter(&setup, inputs, &members, &mut OsRng).unwrap();
        let bytes = serde_json::to_vec(&out.transcript).unwrap();
        lines.push(filtered_line(&style.id, &bytes));
        files.push((format!("filter/{position}.json"), bytes));
        kept.push((contests, out.filtered.kept_rows, out.filtered.counted));
    }
    assert!(!files.is_empty());
    // TL-1 (13-revoting.md §7.11), `ballots` the counted ballots of the styles with the contest
    let rows: Vec<Vec<&[Ciphertext]>> = kept.iter().map(|(_, r, _)| r.iter().map(Vec::as_slice).collect()).collect();
    let styles: Vec<StyleKept<'_>> =
        kept.iter().zip(&rows).map(|((contests, _, _), rows)| StyleKept { contests, rows }).collect();
    let totals = contest_totals(&package.joint_key, &options, &styles).unwrap();
    record["encrypted_totals"] = manifest
        .contests
        .iter()
        .zip(totals)
        .enumerate()
        .map(|(q, (contest, totals))| {
            let ballots: u64 = kept.iter().filter(|(c, _, _)| c.contains(&q)).map(|(_, _, n)| n).sum();
            let totals: Vec<Ciphertext> = totals.into_iter().map(|t| t.validate().unwrap()).collect();
            json!({ "contest_id": contest.id, "ballots": ballots, "totals": totals })
        })
        .collect();
    // the input head: the head signed at closing covers the board up to the first `filtered`
    let first = lines.len() - files.len();
    assert!(
        record["tree_heads"].as_array().unwrap().iter().any(|h| h["size"] == json!(first)),
        "the server signed the input head"
    );
    extend_heads(&mut record, &lines, e.app.state.boards.key());
    (Filtered { record, lines, files }, e)
}

/// The closed v2 campaign of `ballots_v2` filtered by the server (`filtered::filter_all`: F =
/// {1, 3, 4} filter, a key-holder uploads, the server posts `filtered`), tallied by key-holders
/// 1, 2 and 5, and exported (`export-record`'s code) into a directory; returns the record as
/// written there, with the election.
pub(crate) async fn server_filtered(b: Backend) -> (Filtered, Election, std::path::PathBuf) {
    let (e, _) = crate::ballots_v2::closed_v2_election_with_receipts(b).await;
    crate::filtered::filter_all(&e).await;
    crate::filtered::post_shares(&e, &[1, 2, 5]).await;
    let id = e.id.clone();
    let export = e.app.with_db(move |c| dobush_server::export::build_record(c, &id).unwrap()).await;
    let dir = std::env::temp_dir().join(format!("dobush-filtered-record-{}", uuid::Uuid::new_v4().simple()));
    dobush_server::export::write_record(&export, &dir).unwrap();
    let read = |p: &str| std::fs::read(dir.join(p)).unwrap();
    let files = export.filter_files.iter().map(|(name, _)| (name.clone(), read(name))).collect();
    let record = serde_json::from_slice(&read("record.json")).unwrap();
    let lines = String::from_utf8(read("board.jsonl")).unwrap().lines().map(str::to_owned).collect();
    (Filtered { record, lines, files }, e, dir)
}

/// The honest filtered record: the filter's checks pass, the totals are V24's, and what still
/// fails is only what the tally adds (no decryption share yet; the protocol pending).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filtered_v2_record_verifies_its_transcripts_and_totals() {
    let (f, _) = hand_filtered(Backend::Sqlite).await;
    let r = f.verify();
    for name in ["entries", "filter", "filtered", "filtered totals", "totals", "ballots", "board"] {
        assert!(r.failures_of(name).is_empty(), "{name}: {}", r.text());
    }
    let failing: Vec<&str> = r.checks.iter().filter(|c| !c.passed).map(|c| c.name).collect();
    assert_eq!(failing, ["protocol", "decryption"], "{}", r.text());
    // nothing refused: the record says it is waiting for the tally (review 19-filtered-verifier M3)
    assert!(r.pending(), "{}", r.text());
    assert!(r.notes_of("totals").iter().any(|n| n.contains("V24")), "{}", r.text());
    assert!(r.notes_of("filtered").iter().any(|n| n.contains("counts")), "{}", r.text());
    assert!(r.notes_of("filter").iter().any(|n| n.contains("counted 2")), "{}", r.text());
    let count = |name: &str| r.checks.iter().find(|c| c.name == name).map(|c| c.count);
    assert_eq!(count("filter"), Some(f.files.len() as u64));
}

/// `f` with its board changed by `change` and every head re-signed over it by the holder of the
/// board key (`record_mutations::resign`): what refuses it is the verifier's reading.
fn forged(f: &Filtered, e: &Election, change: impl Fn(&mut Vec<String>)) -> Filtered {
    let mut g = f.clone();
    change(&mut g.lines);
    crate::record_mutations::resign(&mut g.record, &g.lines, e.app.state.boards.key());
    g
}

/// `r` is refused (not pending), `check` naming `expected` among its failures.
fn refused_at(r: &Report, check: &str, expected: &str) {
    assert!(
        r.failures_of(check).iter().any(|m| m.contains(expected)),
        "{check} does not say {expected:?}:\n{}",
        r.text()
    );
    assert!(!r.pending() && r.text().contains("does NOT verify"), "{expected}: refused, not pending");
}

/// Every tampering with the server's filtered record (its files, entries or totals) is refused,
/// located: a flipped byte, a dropped file, an unbound file, an entry's SHA-256 changed, a
/// `filtered` entry before `cast_verifier_revealed`, changed totals, a wrong `ballots`, and a
/// `filtered` entry on a v1 board. (Its campaign has one style: a file swapped between two
/// styles is `verifier/src/filtered.rs`'s unit test.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tampering_with_a_filtered_v2_record_is_refused() {
    let (f, e, dir) = server_filtered(Backend::Sqlite).await;
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(f.verify().failures_of("filtered").is_empty());
    // the shapes of docs/schemas/record.schema.json, the `filtered` entry among them
    let errors: Vec<String> =
        crate::helpers::schema("record.schema.json", None).iter_errors(&f.record).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let entry = crate::helpers::schema("record.schema.json", Some("boardEntry"));
    for line in &f.lines {
        assert!(entry.is_valid(&serde_json::from_str::<Value>(line).unwrap()), "{line}");
    }
    let mut extra: Value = serde_json::from_str(f.lines.last().unwrap()).unwrap();
    extra["transcript"]["extra"] = json!(1);
    assert!(!entry.is_valid(&extra), "an unknown field of `transcript`");
    let entry = f.lines.iter().position(|l| l.starts_with(r#"{"type":"filtered""#)).unwrap();
    let name = f.files[0].0.clone();
    let at = format!("entry {entry} (filtered, style \"main\")");

    let mut g = f.clone();
    let middle = g.files[0].1.len() / 2;
    g.files[0].1[middle] ^= 1;
    let r = g.verify();
    refused_at(&r, "filtered", &format!("{at}: {name} has"));
    refused_at(
        &r,
        "filtered",
        "style \"main\": 4 `ballot_v2` entries, but no `filtered` entry whose transcript verifies",
    );
    refused_at(&r, "filter", &format!("style \"main\", entry {entry}: its transcript file is not bound"));

    let mut g = f.clone();
    g.files.clear();
    refused_at(&g.verify(), "filtered", &format!("{at}: its transcript file {name} is missing"));

    let mut g = f.clone();
    g.files.push(("filter/0.3.json".into(), b"{}".to_vec()));
    refused_at(&g.verify(), "filtered", "filter/0.3.json: no `filtered` entry binds this file");

    // the entry's hash changed, the heads re-signed over the changed board
    let g = forged(&f, &e, |l| {
        let mut v: Value = serde_json::from_str(&l[entry]).unwrap();
        v["transcript"]["sha256"] = json!("00".repeat(32));
        l[entry] = format!(
            r#"{{"type":"filtered","style":"main","transcript":{{"sha256":"{}","bytes":{}}}}}"#,
            v["transcript"]["sha256"].as_str().unwrap(),
            v["transcript"]["bytes"]
        );
    });
    refused_at(
        &g.verify(),
        "filtered",
        &format!("the entry binds {} bytes and {}", f.files[0].1.len(), "00".repeat(32)),
    );

    // a `filtered` entry before `cast_verifier_revealed`
    let g = forged(&f, &e, |l| l.swap(entry - 1, entry));
    refused_at(&g.verify(), "entries", "a `filtered` entry before `cast_verifier_revealed`");

    // the totals: a changed ciphertext, a wrong `ballots`
    let mut g = f.clone();
    let other = g.record["encrypted_totals"][0]["totals"][1].clone();
    g.record["encrypted_totals"][0]["totals"][0] = other;
    refused_at(&g.verify(), "filtered totals", "selection 0: encrypted total differs from TL-1");
    let mut g = f.clone();
    g.record["encrypted_totals"][0]["ballots"] = json!(3);
    refused_at(&g.verify(), "filtered totals", "published ballot count differs from the counted ballots (2)");

    // a `filtered` entry and its file on a v1 board
    let v1 = crate::ballots::open_election(Backend::Sqlite, "last_counts").await;
    crate::tally::vote(&v1, 0, 1).await;
    crate::tally::close(&v1).await;
    let (record, board) = crate::ballots_v2::partial_record(&v1).await;
    let file = f.files[0].1.clone();
    let mut g = Filtered {
        record: serde_json::from_str(&record).unwrap(),
        lines: board.lines().map(str::to_owned).collect(),
        files: vec![("filter/0.json".into(), file.clone())],
    };
    g.lines.push(filtered_line("main", &file));
    crate::record_mutations::resign(&mut g.record, &g.lines, v1.app.state.boards.key());
    let r = g.verify();
    refused_at(&r, "entries", "a \"filtered\" entry on the board of a v1 campaign");
    refused_at(&r, "filtered", "a `filtered` entry on the board of a v1 campaign");
}

/// `f` (one `filtered` entry, style "main" at position 0) with that entry replaced by one entry
/// per transcript of `transcripts`, in order: the earlier files `filter/0.<board index>.json`,
/// the last `filter/0.json`, the heads after the input head signed again over the new board.
fn refiltered(f: &Filtered, e: &Election, transcripts: &[Vec<u8>]) -> Filtered {
    let first = f.lines.iter().position(|l| l.starts_with(r#"{"type":"filtered""#)).unwrap();
    let mut g = f.clone();
    g.lines.truncate(first);
    let heads = g.record["tree_heads"].as_array_mut().unwrap();
    heads.retain(|h| h["size"].as_u64().unwrap() <= first as u64);
    g.files.clear();
    for (k, t) in transcripts.iter().enumerate() {
        let index = g.lines.len();
        g.lines.push(filtered_line("main", t));
        let name = if k + 1 == transcripts.len() { "filter/0.json".into() } else { format!("filter/0.{index}.json") };
        g.files.push((name, t.clone()));
    }
    extend_heads(&mut g.record, &g.lines, e.app.state.boards.key());
    g
}

/// A style filtered more than once (13-revoting.md §6.8, the recovery of a bad `filtered`
/// entry): the first entry whose transcript verifies counts; a failing entry before it and any
/// entry after it are findings (notes), so the record still verifies; with no verifying
/// transcript the style has no result and the record is refused, every transcript's failure
/// located.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_verifying_transcript_of_a_style_counts() {
    let (f, e, dir) = server_filtered(Backend::Sqlite).await;
    std::fs::remove_dir_all(&dir).unwrap();
    let honest = f.files[0].1.clone();
    let first = f.lines.iter().position(|l| l.starts_with(r#"{"type":"filtered""#)).unwrap();
    let (a, b) = (first, first + 1);
    // the same transcript written again (one more byte): a second verifying one, after the first
    let mut again = honest.clone();
    again.push(b'\n');
    // a transcript whose count is raised: bound by its own hash, it fails round 10
    let mut v: Value = serde_json::from_slice(&honest).unwrap();
    v["selection"]["counted"] = json!(v["selection"]["counted"].as_u64().unwrap() + 1);
    let bad = serde_json::to_vec(&v).unwrap();
    let passes_but_protocol = |r: &Report| {
        let failing: Vec<&str> = r.checks.iter().filter(|c| !c.passed).map(|c| c.name).collect();
        assert_eq!(failing, ["protocol"], "{}", r.text());
    };

    let g = refiltered(&f, &e, &[honest.clone(), again.clone()]);
    assert_eq!(g.files[0].0, format!("filter/0.{a}.json"));
    let r = g.verify();
    passes_but_protocol(&r);
    let notes = r.notes_of("filtered");
    assert!(notes.iter().any(|n| n == &format!("style \"main\": entry {a} counts")), "{notes:?}");
    assert!(notes.iter().any(|n| n.contains(&format!("entry {b} (style \"main\"): after the counting entry {a}"))));

    let g = refiltered(&f, &e, &[bad.clone(), honest.clone()]);
    let r = g.verify();
    passes_but_protocol(&r);
    let notes = r.notes_of("filtered");
    assert!(notes.iter().any(|n| n == &format!("style \"main\": entry {b} counts")), "{notes:?}");
    assert!(notes.iter().any(|n| n.contains(&format!("entry {a} (style \"main\"): its transcript does not verify"))));
    let notes = r.notes_of("filter");
    assert!(
        notes.iter().any(|n| n.starts_with(&format!("finding: style \"main\", entry {a}: filter round 10"))),
        "{notes:?}"
    );

    let g = refiltered(&f, &e, &[bad.clone(), bad]);
    let r = g.verify();
    refused_at(
        &r,
        "filtered",
        "style \"main\": 4 `ballot_v2` entries, but no `filtered` entry whose transcript verifies",
    );
    for i in [a, b] {
        refused_at(&r, "filter", &format!("style \"main\", entry {i}: filter round 10"));
    }
    refused_at(&r, "filtered totals", "style \"main\": no counting transcript");
}

/// The verifier's filter inputs are crypto's (`filter::run::board::style_inputs`, which the
/// server and the key-holders' tools use), on the server's real board: the same ballots (board
/// index, `cred`, `tbase`, the votes in ballot order), list credentials and replacements, the
/// same k, c, context, keys and verification keys; c is §9.2's for both re-vote rules.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_verifiers_filter_inputs_are_cryptos() {
    use dobush_crypto::filter::run::board as cboard;
    use dobush_verifier::filtered as vfiltered;
    let (f, e, dir) = server_filtered(Backend::Sqlite).await;
    std::fs::remove_dir_all(&dir).unwrap();
    let first = f.lines.iter().position(|l| l.starts_with(r#"{"type":"filtered""#)).unwrap();
    let entries: Vec<BoardEntry> = f.lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    let styles = cboard::style_inputs(&e.package, &entries).unwrap();
    let entries: Vec<dobush_verifier::load::Entry> =
        f.lines.iter().enumerate().map(|(i, l)| dobush_verifier::load::entry(i, l.as_bytes()).unwrap()).collect();
    let rows = vfiltered::board_rows(&entries, first as u64).unwrap();
    let ctx = dobush_verifier::load::context(&f.record).unwrap();
    let (outcome, _) = e.ceremony.c.finish().unwrap();
    let vks: Vec<_> = outcome.verification_keys.iter().map(|g| *g.point()).collect();
    let c = |x: &Ciphertext| (*x.alpha.as_bytes(), *x.beta.as_bytes());
    let v = |x: &(dobush_verifier::encoding::Point, dobush_verifier::encoding::Point)| (x.0.bytes, x.1.bytes);
    let empty = vfiltered::StyleRows::default();
    let mut ballots = 0;
    for s in &styles {
        let mine = vfiltered::style_inputs(&ctx, &vks, &s.style, rows.get(&s.style).unwrap_or(&empty), 1).unwrap();
        let theirs = &s.inputs;
        assert_eq!(mine.ballots.len(), theirs.ballots.len());
        for (a, b) in mine.ballots.iter().zip(&theirs.ballots) {
            assert_eq!((a.index, v(&a.cred), v(&a.tbase)), (b.index, c(&b.cred), c(&b.tbase)));
            assert_eq!(a.votes.iter().map(v).collect::<Vec<_>>(), b.votes.iter().map(c).collect::<Vec<_>>());
        }
        ballots += mine.ballots.len();
        assert_eq!(
            mine.list.iter().map(|p| p.bytes).collect::<Vec<_>>(),
            theirs.list.iter().map(|g| *g.as_bytes()).collect::<Vec<_>>()
        );
        assert_eq!(mine.replacements.len(), theirs.replacements.len());
        for (a, b) in mine.replacements.iter().zip(&theirs.replacements) {
            assert_eq!((a.index, a.new.bytes, v(&a.old_tbase)), (b.index, *b.new.as_bytes(), c(&b.old_tbase)));
        }
        assert!(mine.overrides.is_empty() && theirs.overrides.is_empty());
        assert!(mine.stations.is_empty() && theirs.stations.is_empty());
        let setup = cboard::setup(&e.package, &outcome.verification_keys, s, 1, vec![1, 3, 4], 3).unwrap();
        assert_eq!((mine.selections, mine.row_limit), (setup.selections, setup.row_limit));
        assert_eq!((mine.context, mine.base_hash), (setup.context, setup.base_hash));
        assert_eq!(mine.election_key.bytes, *setup.election_key.0.as_bytes());
        assert_eq!((mine.n, mine.t), (u64::from(setup.params.n()), u64::from(setup.params.t())));
        let keys: Vec<[u8; 32]> = setup.verification_keys.iter().map(|g| *g.as_bytes()).collect();
        assert_eq!(mine.verification_keys.iter().map(|p| p.bytes).collect::<Vec<_>>(), keys);
    }
    assert_eq!(ballots, 4, "the campaign's four cast ballots");
    assert!(rows.values().map(|r| r.replacements.len()).sum::<usize>() > 0, "a replacement among the inputs");
    use dobush_crypto::parameters::ReVotePolicy as C;
    use dobush_verifier::parameters::ReVotePolicy as V;
    for (mine, theirs) in [(V::Forbidden, C::Forbidden), (V::LastCounts, C::LastCounts)] {
        assert_eq!(vfiltered::row_limit(mine), cboard::row_limit(theirs));
    }
}
