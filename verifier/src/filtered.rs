//! A v2 record's filter output (record-format.md §Board, §Election record; 13-revoting.md §4.2,
//! §5, §6.8, §6.9): the `filtered` entries and the transcript files they bind, the input head,
//! and each style's filter inputs recomputed from the board. Pure functions; V22 (`filter`)
//! calls them and checks each transcript, V20 (`filtered`) reports the binding and which entry
//! counts, V24 (`filtered totals`) recomputes TL-1 from the counting transcripts.

use std::collections::{BTreeMap, HashMap, HashSet};

use curve25519_dalek::ristretto::RistrettoPoint;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::ballot_v2::Ciphertext as V2Ciphertext;
use crate::board::TreeHead;
use crate::encoding::{Decoded, Point, exact, field, hex_n, string, uint};
use crate::filter::run::{self, Failure, Outcome, StyleInputs};
use crate::load::{Context, Entry};
use crate::manifest::Manifest;
use crate::parameters::ReVotePolicy;

/// The directory of the filter transcripts in a record (record-format.md §Election record).
pub const FILTER_DIR: &str = "filter";

/// The largest transcript file this version reads: it holds a whole file in memory (a reader
/// that streams it, 13-revoting.md §6.6, is a later item). 1 GiB is far above a style of
/// 100,000 ballots.
pub const MAX_FILTER_FILE: u64 = 1 << 30;

/// The board entry type that binds a transcript.
pub const KIND: &str = "filtered";
/// The fields of a `filtered` entry (record-format.md §Board), in their order.
pub const ENTRY_FIELDS: &[&str] = &["type", "style", "transcript"];
/// The fields of its `transcript`.
pub const TRANSCRIPT_FIELDS: &[&str] = &["sha256", "bytes"];

/// The row limit c of a style's filter (13-revoting.md §9.2): `forbidden` is c = 2 (one
/// e-ballot per chain), `last_counts` c = 6 (five e-ballots). The package has no
/// `re_vote.max_rows` field yet; when it lands, c is that field.
pub fn row_limit(policy: ReVotePolicy) -> u64 {
    match policy {
        ReVotePolicy::Forbidden => 2,
        ReVotePolicy::LastCounts => 6,
    }
}

/// A `filtered` entry that decodes, and its file.
pub struct Bound {
    /// Board index.
    pub index: usize,
    /// The entry's style.
    pub style: String,
    /// The style's position in the manifest, if it is one of its styles.
    pub position: Option<usize>,
    /// The file it binds (`filter/<i>.json` or `filter/<i>.<board index>.json`), for a style of
    /// the manifest.
    pub file: Option<String>,
    /// The file, read strictly, when it is present with the entry's size and SHA-256 and its
    /// `style` is the entry's; `Err` when those bytes are no JSON (a transcript that fails).
    pub transcript: Option<Result<Value, Failure>>,
}

/// The `filtered` entries of a board and the files they bind.
pub struct Binding {
    /// Every `filtered` entry that decodes, board order.
    pub entries: Vec<Bound>,
    /// Located failures (V20's).
    pub failures: Vec<String>,
    /// The input head's size (the first `filtered` entry's index), when the record's chain has a
    /// head of that size.
    pub input_head: Option<u64>,
}

fn decode(e: &Entry) -> Decoded<(String, [u8; 32], u64)> {
    let what = format!("entry {} (filtered)", e.index);
    exact(&e.v, ENTRY_FIELDS, &what)?;
    let style = string(&e.v, "style", &what)?;
    let t = field(&e.v, "transcript", &what)?;
    let what = format!("{what}: transcript");
    exact(t, TRANSCRIPT_FIELDS, &what)?;
    Ok((style, hex_n::<32>(field(t, "sha256", &what)?, &format!("{what}.sha256"))?, uint(t, "bytes", &what)?))
}

/// The file name a `filtered` entry binds: `filter/<i>.json` for the style's last entry,
/// `filter/<i>.<board index>.json` for an earlier one (record-format.md §Election record).
pub fn file_name(position: usize, index: usize, last: bool) -> String {
    if last { format!("{FILTER_DIR}/{position}.json") } else { format!("{FILTER_DIR}/{position}.{index}.json") }
}

/// Binds every `filtered` entry to its file (record-format.md §Election record): the style a
/// style of the manifest, the file present with exactly the entry's size and SHA-256, its
/// `style` the entry's, runs from 1 and non-decreasing in board order, no file under `filter/`
/// that no entry binds (nor one given twice), and the input head — the first head of the chain
/// whose size is the first `filtered` entry's index (13-revoting.md §6.1) — there.
pub fn bind(entries: &[Entry], files: &[(String, Vec<u8>)], manifest: &Manifest, heads: &[TreeHead]) -> Binding {
    let mut failures = Vec::new();
    let mut by_name: HashMap<&str, &[u8]> = HashMap::new();
    for (name, bytes) in files {
        if by_name.insert(name.as_str(), bytes.as_slice()).is_some() {
            failures.push(format!("{name}: given twice"));
        }
    }
    let mut decoded = Vec::new();
    for e in entries.iter().filter(|e| e.kind == KIND) {
        match decode(e) {
            Ok(d) => decoded.push((e.index, d)),
            Err(err) => failures.push(err.0),
        }
    }
    let mut last_of: HashMap<&str, usize> = HashMap::new();
    for (index, (style, _, _)) in &decoded {
        last_of.insert(style.as_str(), *index);
    }
    let mut bound = Vec::with_capacity(decoded.len());
    let mut expected: HashSet<String> = HashSet::new();
    let mut last_run: Option<(usize, u64)> = None;
    for (index, (style, sha, bytes)) in &decoded {
        let at = format!("entry {index} (filtered, style {style:?})");
        let position = manifest.style_order.iter().position(|s| s == style);
        let file = position.map(|p| file_name(p, *index, last_of.get(style.as_str()) == Some(index)));
        let mut transcript = None;
        match (&file, position) {
            (_, None) => failures.push(format!("{at}: not a ballot style of the manifest")),
            (None, _) => {}
            (Some(name), Some(_)) => {
                expected.insert(name.clone());
                match by_name.get(name.as_str()) {
                    None => failures.push(format!("{at}: its transcript file {name} is missing")),
                    Some(got) => {
                        let digest: [u8; 32] = Sha256::digest(got).into();
                        if got.len() as u64 != *bytes || digest != *sha {
                            failures.push(format!(
                                "{at}: {name} has {} bytes and SHA-256 {}; the entry binds {bytes} bytes and {}",
                                got.len(),
                                hex::encode(digest),
                                hex::encode(sha)
                            ));
                        } else {
                            transcript = Some(run::parse_transcript(got));
                        }
                    }
                }
            }
        }
        let mut other_style = None;
        if let Some(Ok(v)) = &transcript {
            match v.get("style").and_then(Value::as_str) {
                Some(s) if s == style => {}
                other => other_style = Some(other.map(str::to_owned)),
            }
            if let Some(r) = v.get("run").and_then(Value::as_u64) {
                if r == 0 {
                    failures.push(format!("{at}: run 0 (runs count from 1)"));
                }
                if let Some((prev, pr)) = last_run.filter(|(_, pr)| *pr > r) {
                    failures.push(format!("{at}: run {r} after entry {prev}'s run {pr} (runs must not decrease)"));
                }
                last_run = Some((*index, r));
            }
        }
        if let Some(other) = other_style {
            let name = file.as_deref().unwrap_or("");
            failures.push(format!("{at}: {name} is the transcript of style {other:?}, not the entry's"));
            transcript = None;
        }
        bound.push(Bound { index: *index, style: style.clone(), position, file, transcript });
    }
    for (name, _) in files {
        if !expected.contains(name) {
            failures.push(format!("{name}: no `filtered` entry binds this file"));
        }
    }
    let first = entries.iter().find(|e| e.kind == KIND).map(|e| e.index as u64);
    let input_head = first.filter(|size| heads.iter().any(|h| h.size == *size));
    if let (Some(size), None) = (first, input_head) {
        failures.push(format!(
            "no tree head of size {size}: the input head (the first head whose size is the first `filtered` entry's \
             index, 13-revoting.md §6.1) is missing"
        ));
    }
    Binding { entries: bound, failures, input_head }
}

/// What the board gives one style's filter (13-revoting.md §5), before the transcript's run and
/// the ceremony's keys: its `ballot_v2` entries, its list credentials and its replacements.
#[derive(Default)]
pub struct StyleRows {
    /// `ballot_v2` entries, board order.
    pub ballots: Vec<run::Ballot>,
    /// `credential_list_v2` items of the style, list order.
    pub list: Vec<Point>,
    /// `credential_replaced_v2` entries of the style, board order.
    pub replacements: Vec<run::Replacement>,
}

fn ct(c: &V2Ciphertext) -> (Point, Point) {
    (c.alpha, c.beta)
}

/// Reads the rows of every style from the board's entries before `upto` (the input head's size):
/// each `ballot_v2` entry with its board index, `cred`, `tbase` and its votes' ciphertexts in
/// ballot order; the `credential_list_v2` items; each `credential_replaced_v2` with its index,
/// `new` and `old_tbase`. An entry that does not decode (a failure of V07 or V08) leaves no
/// style's rows known: the located reasons are returned.
pub fn board_rows(entries: &[Entry], upto: u64) -> Result<BTreeMap<String, StyleRows>, Vec<String>> {
    let mut out: BTreeMap<String, StyleRows> = BTreeMap::new();
    let mut bad = Vec::new();
    for e in entries.iter().filter(|e| (e.index as u64) < upto) {
        let index = e.index as u64;
        match e.kind.as_str() {
            "ballot_v2" => match field(&e.v, "ballot", "ballot_v2").and_then(crate::ballot_v2::ballot::parse) {
                Ok(b) => out.entry(b.style.clone()).or_default().ballots.push(run::Ballot {
                    index,
                    cred: ct(&b.enc.cred),
                    tbase: ct(&b.enc.tbase),
                    votes: b.contests.iter().flat_map(|k| k.cts.iter().copied()).collect(),
                }),
                Err(err) => bad.push(format!("entry {index}: {}", err.0)),
            },
            "credential_list_v2" => match crate::ballot_v2::board::parse_list(&e.v) {
                Ok(l) => {
                    for it in l.credentials {
                        out.entry(it.style).or_default().list.push(it.credential);
                    }
                }
                Err(err) => bad.push(format!("entry {index}: {}", err.0)),
            },
            "credential_replaced_v2" => match crate::ballot_v2::board::parse_replacement(&e.v) {
                Ok(r) => out.entry(r.style).or_default().replacements.push(run::Replacement {
                    index,
                    new: r.new,
                    old_tbase: ct(&r.old_tbase),
                }),
                Err(err) => bad.push(format!("entry {index}: {}", err.0)),
            },
            _ => {}
        }
    }
    if bad.is_empty() { Ok(out) } else { Err(bad) }
}

/// The inputs of style `style`'s filter in run `run` (13-revoting.md §5; the same as
/// `crypto/src/filter/run/inputs.rs` builds): the context, the base hash, K, n, t and
/// VK_1 … VK_n of the record (the ceremony's outcome), c ([`row_limit`]), k the selections of
/// the style's contests in all, its rows from the board, no override and no station (neither
/// exists yet).
pub fn style_inputs(
    ctx: &Context,
    verification_keys: &[RistrettoPoint],
    style: &str,
    rows: &StyleRows,
    run: u64,
) -> Result<StyleInputs, String> {
    let m = &ctx.election.manifest;
    let contests = m.styles.get(style).ok_or_else(|| format!("style {style:?} is not in the manifest"))?;
    let mut selections = 0usize;
    for q in contests {
        selections += m.contests.get(*q).map(|c| c.selections()).ok_or("a style names no contest")?;
    }
    Ok(StyleInputs {
        context: ctx.election.extended_hash,
        base_hash: ctx.base_hash,
        run,
        style: style.to_owned(),
        election_key: ctx.election.joint_key,
        n: ctx.key_holders.len() as u64,
        t: ctx.threshold,
        verification_keys: verification_keys.iter().map(|p| Point { p: *p, bytes: p.compress().to_bytes() }).collect(),
        row_limit: row_limit(ctx.parameters.re_vote),
        selections,
        ballots: rows.ballots.clone(),
        overrides: Vec::new(),
        list: rows.list.clone(),
        replacements: rows.replacements.clone(),
        stations: Vec::new(),
    })
}

/// One style's filter as V22 found it.
pub struct StyleFilter {
    /// Style id.
    pub style: String,
    /// Its `ballot_v2` entries.
    pub ballots: usize,
    /// Its entries whose transcripts were checked and failed, board order, before the counting one.
    pub failed: Vec<(usize, String)>,
    /// The counting entry (the first whose transcript verifies) and its outcome.
    pub counting: Option<(usize, Outcome)>,
}

/// What V22 found, for V20 and V24.
pub struct FilterFindings {
    /// The entries and their files.
    pub binding: Binding,
    /// Per style of the manifest, manifest order.
    pub styles: Vec<StyleFilter>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn manifest() -> Manifest {
        let contest = |id: &str| {
            json!({"id": id, "title": {"ky": id}, "options": [{"id": "a", "name": {"ky": "a"}}, {"id": "b", "name": {"ky": "b"}}],
                   "min_marks": 1, "max_marks": 1, "against_all": false, "blank_allowed": false})
        };
        // styles deliberately not in byte order: a file is named by the manifest's order
        let v = json!({"campaign_id": "c", "title": {"ky": "t"}, "contests": [contest("q1"), contest("q2")],
                       "ballot_styles": [{"id": "s-b", "contests": ["q1", "q2"]}, {"id": "s-a", "contests": ["q2"]}]});
        crate::manifest::parse(&v).unwrap()
    }

    fn head(size: u64) -> TreeHead {
        TreeHead { context: [0; 32], size, root: [0; 32], timestamp_ms: 0, previous: [0; 32], signature: [0; 64] }
    }

    fn transcript(style: &str, run: u64) -> Vec<u8> {
        serde_json::to_vec(&json!({"version": "dobush-filter/2", "run": run, "style": style})).unwrap()
    }

    fn entry(index: usize, style: &str, file: &[u8]) -> Entry {
        let sha: [u8; 32] = Sha256::digest(file).into();
        let v = json!({"type": "filtered", "style": style, "transcript": {"sha256": hex::encode(sha), "bytes": file.len()}});
        crate::load::entry(index, v.to_string().as_bytes()).unwrap()
    }

    struct Case {
        entries: Vec<Entry>,
        files: Vec<(String, Vec<u8>)>,
        heads: Vec<TreeHead>,
    }

    /// Style s-a (position 1) filtered twice (entries 10 and 12), s-b (position 0) once (11).
    fn honest() -> Case {
        let (a1, b, a2) = (transcript("s-a", 1), transcript("s-b", 1), transcript("s-a", 1));
        let mut second = a2.clone();
        second.push(b'\n');
        Case {
            entries: vec![entry(10, "s-a", &a1), entry(11, "s-b", &b), entry(12, "s-a", &second)],
            files: vec![("filter/1.10.json".into(), a1), ("filter/0.json".into(), b), ("filter/1.json".into(), second)],
            heads: vec![head(3), head(10), head(11), head(12), head(13)],
        }
    }

    fn bound(c: &Case) -> Binding {
        bind(&c.entries, &c.files, &manifest(), &c.heads)
    }

    fn fails(c: &Case, expected: &str) {
        let b = bound(c);
        assert!(b.failures.iter().any(|f| f.contains(expected)), "{expected:?} not in {:?}", b.failures);
    }

    #[test]
    fn an_honest_record_binds_every_file() {
        let c = honest();
        let b = bound(&c);
        assert!(b.failures.is_empty(), "{:?}", b.failures);
        assert_eq!(b.input_head, Some(10));
        let files: Vec<(usize, Option<&str>, Option<usize>)> =
            b.entries.iter().map(|e| (e.index, e.file.as_deref(), e.position)).collect();
        assert_eq!(
            files,
            [
                (10, Some("filter/1.10.json"), Some(1)),
                (11, Some("filter/0.json"), Some(0)),
                (12, Some("filter/1.json"), Some(1))
            ]
        );
        assert!(b.entries.iter().all(|e| matches!(e.transcript, Some(Ok(_)))));
        assert_eq!(row_limit(ReVotePolicy::Forbidden), 2);
        assert_eq!(row_limit(ReVotePolicy::LastCounts), 6);
    }

    #[test]
    fn every_binding_fault_is_located() {
        let mut c = honest();
        c.files[1].1[0] ^= 1;
        let n = c.files[1].1.len();
        fails(&c, &format!("entry 11 (filtered, style \"s-b\"): filter/0.json has {n} bytes and SHA-256"));
        let mut c = honest();
        c.files[1].1.push(b' ');
        fails(&c, &format!("filter/0.json has {} bytes", n + 1));
        // two styles' files swapped: neither entry's hash holds
        let mut c = honest();
        let (b, a) = (c.files[1].1.clone(), c.files[2].1.clone());
        (c.files[1].1, c.files[2].1) = (a, b);
        fails(&c, "entry 11 (filtered, style \"s-b\"): filter/0.json has");
        fails(&c, "entry 12 (filtered, style \"s-a\"): filter/1.json has");
        let mut c = honest();
        c.files.remove(0);
        fails(&c, "entry 10 (filtered, style \"s-a\"): its transcript file filter/1.10.json is missing");
        let mut c = honest();
        c.files[0].0 = "filter/1.9.json".into();
        fails(&c, "filter/1.9.json: no `filtered` entry binds this file");
        let mut c = honest();
        c.files.push(c.files[1].clone());
        fails(&c, "filter/0.json: given twice");
        // the file of another style, bound by its own hash
        let mut c = honest();
        let other = transcript("s-a", 1);
        c.entries[1] = entry(11, "s-b", &other);
        c.files[1].1 = other;
        fails(&c, "entry 11 (filtered, style \"s-b\"): filter/0.json is the transcript of style Some(\"s-a\")");
        assert!(bound(&c).entries[1].transcript.is_none(), "not checked as s-b's");
        let mut c = honest();
        c.entries.push(entry(13, "s-z", b"{}"));
        fails(&c, "entry 13 (filtered, style \"s-z\"): not a ballot style of the manifest");
        let mut c = honest();
        c.heads.retain(|h| h.size != 10);
        fails(&c, "no tree head of size 10");
        assert_eq!(bound(&c).input_head, None);
        // runs from 1, never decreasing in board order
        let mut c = honest();
        let (b2, a0) = (transcript("s-b", 2), transcript("s-a", 0));
        c.entries[1] = entry(11, "s-b", &b2);
        c.files[1].1 = b2;
        fails(&c, "entry 12 (filtered, style \"s-a\"): run 1 after entry 11's run 2");
        c.entries[0] = entry(10, "s-a", &a0);
        c.files[0].1 = a0;
        fails(&c, "entry 10 (filtered, style \"s-a\"): run 0");
        // strict decoding of the entry
        let mut c = honest();
        let mut v = c.entries[1].v.clone();
        v["transcript"]["extra"] = json!(1);
        c.entries[1] = crate::load::entry(11, v.to_string().as_bytes()).unwrap();
        fails(&c, "entry 11 (filtered): transcript: unknown field \"extra\"");
        let mut c = honest();
        let mut v = c.entries[1].v.clone();
        v["transcript"]["sha256"] = json!(v["transcript"]["sha256"].as_str().unwrap().to_uppercase());
        c.entries[1] = crate::load::entry(11, v.to_string().as_bytes()).unwrap();
        fails(&c, "not lowercase hex");
        // a file that is no JSON is bound, and fails as a transcript
        let mut c = honest();
        c.files[1].1 = b"{".to_vec();
        c.entries[1] = entry(11, "s-b", b"{");
        let b = bound(&c);
        assert!(b.failures.is_empty() && matches!(b.entries[1].transcript, Some(Err(_))), "{:?}", b.failures);
    }
}
