//! Checks of a whole election record (`docs/record-format.md`): `record.json` and `board.jsonl`.
//! Each numbered check of the list is one report line.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use serde_json::Value;

use crate::ballot::{self, Ballot, Election};
use crate::board::{self, Hash, TreeHead};
use crate::encoding::{Decoded, Point, array, field, hex_n, point, scalar, string, uint};
use crate::load::{self, Context, VERSION};
use crate::report::Report;

/// Options of a run.
#[derive(Default)]
pub struct Options {
    /// A tree head saved earlier (e.g. from a receipt or `watch`); the board must extend it.
    pub since: Option<TreeHead>,
}

/// Reads a record directory and checks it.
pub fn verify_dir(dir: &Path, opts: &Options) -> Report {
    let record = std::fs::read_to_string(dir.join("record.json"));
    let board = std::fs::read(dir.join("board.jsonl"));
    match (record, board) {
        (Ok(r), Ok(b)) => verify(&r, &b, opts),
        (r, b) => {
            let mut rep = Report::default();
            let mut c = Report::start("files", "record.json and board.jsonl are readable");
            if let Err(e) = r {
                c.fail(format!("record.json: {e}"));
            }
            if let Err(e) = b {
                c.fail(format!("board.jsonl: {e}"));
            }
            rep.finish(c);
            rep
        }
    }
}

struct Entry {
    index: usize,
    v: Value,
    kind: String,
}

struct Cast {
    entry: usize,
    ballot: Ballot,
    code: [u8; 32],
}

/// Checks a record given the contents of its two files.
pub fn verify(record_json: &str, board_jsonl: &[u8], opts: &Options) -> Report {
    let mut rep = Report::default();
    let mut c = Report::start("version", "record version is known");
    let rec: Value = match serde_json::from_str(record_json) {
        Ok(v) => v,
        Err(e) => {
            c.fail(format!("record.json is not JSON: {e}"));
            rep.finish(c);
            return rep;
        }
    };
    let version = rec.get("version").and_then(Value::as_str).unwrap_or("");
    c.items(1);
    c.require(version == VERSION, || format!("unknown record version {version:?}; this verifier reads {VERSION:?}"));
    let known = version == VERSION;
    rep.finish(c);
    if !known {
        return rep;
    }

    // 1. Parameters and context.
    let mut c = Report::start("context", "generators re-derived, manifest hash and both context hashes recomputed");
    let ctx = match load::context(&rec) {
        Ok(x) => x,
        Err(e) => {
            c.fail(e.0);
            rep.finish(c);
            return rep;
        }
    };
    c.items(3);
    rep.finish(c);

    // 3. Board: Merkle log, tree heads, consistency with a saved head.
    let mut c = Report::start("board", "Merkle log recomputed, every tree head signed and consistent");
    c.require(board_jsonl.is_empty() || board_jsonl.ends_with(b"\n"), || "board.jsonl must end with a newline".into());
    let lines = load::board_lines(board_jsonl);
    let leaves: Vec<Hash> = lines.iter().map(|l| board::leaf(l)).collect();
    c.items(lines.len() as u64);
    let heads = match array(&rec, "tree_heads", "record")
        .and_then(|a| a.iter().map(TreeHead::parse).collect::<Decoded<Vec<_>>>())
    {
        Ok(h) => h,
        Err(e) => {
            c.fail(e.0);
            Vec::new()
        }
    };
    check_heads(&heads, &leaves, &ctx, opts, &mut c);
    rep.finish(c);

    // Entries.
    let mut c = Report::start("entries", "every board entry parses and the entries come in a valid order");
    let entries = parse_entries(&lines, &mut c);
    rep.finish(c);

    // The web app's published hashes (not counted; reported for comparison with served bytes).
    let mut c = Report::start("web app", "the served web app's asset hashes (web_assets): well-formed, reported");
    web_assets(&entries, &mut c);
    rep.finish(c);

    // 10. Credentials.
    let mut c = Report::start(
        "credentials",
        "frozen credential list signed by the commission, replacements signed by its signers; every ballot signed by a listed credential of its style",
    );
    let campaign_id = &ctx.election.manifest.campaign_id;
    let list_signers = list_signatures(campaign_id, &lines, &entries, &mut c);
    let creds = credential_list(campaign_id, &entries, &list_signers, &mut c);
    rep.finish(c);

    // 5. Ballots (parse; proofs batched and in parallel).
    let mut c = Report::start("ballots", "every ballot's proofs, signature and tracking code");
    let (cast, challenged) = check_ballots(&ctx, &entries, &mut c);
    rep.finish(c);

    let mut c = Report::start("uniqueness", "no duplicate ballot ids, tracking codes or ciphertexts");
    uniqueness(&cast, &challenged, &mut c);
    rep.finish(c);

    let mut c = Report::start(
        "eligibility",
        "each cast ballot's credential is on the list (or a recorded replacement) for its style",
    );
    eligibility(&cast, &creds, &mut c);
    rep.finish(c);

    // 4. Re-vote rule.
    let mut c = Report::start("re-vote", "the re-vote rule recomputed: which ballots count");
    let counted = revote(&rec, &cast, &entries, &creds, &mut c);
    rep.finish(c);

    // 9. Challenged ballots.
    let mut c = Report::start("challenged", "challenged ballots open to exactly their ciphertexts and are not counted");
    check_challenged(&ctx, &entries, &challenged, &mut c);
    rep.finish(c);

    // 6. Encrypted totals.
    let mut c = Report::start("totals", "encrypted totals recomputed from the counted ballots");
    let sums = check_totals(&rec, &ctx, &cast, &counted, &mut c);
    rep.finish(c);

    // 8. The protocol.
    let mut c =
        Report::start("protocol", "every protocol line re-derived from the record; control relations; signatures");
    let derived = crate::protocol::Derived {
        e_voters: creds.listed.len() as u64,
        counted: counted.len() as u64,
        superseded: (cast.len() - counted.len()) as u64,
        challenged: challenged.len() as u64,
        extended_hash: ctx.election.extended_hash,
        board_root: heads.last().map(|h| h.root).unwrap_or_default(),
    };
    crate::protocol::check(&rec, &ctx.election.manifest, &derived, &mut c);
    rep.finish(c);

    // 2. The key ceremony.
    let mut c = Report::start(
        "ceremony",
        "key ceremony: signatures, commitment hashes, coefficient and share proofs, complaints adjudicated, joint key, verification keys",
    );
    let outcome = crate::ceremony::check(&rec, &ctx, &mut c);
    rep.finish(c);

    // 7. Decryption.
    let mut c = Report::start(
        "decryption",
        "every decryption share's proof; t valid shares per total; combination equals the results",
    );
    crate::decryption::check(&rec, &ctx, outcome.as_ref(), &sums, &mut c);
    rep.finish(c);

    rep
}

fn check_heads(heads: &[TreeHead], leaves: &[Hash], ctx: &Context, opts: &Options, c: &mut crate::report::Running) {
    if heads.is_empty() {
        c.fail("no tree heads");
        return;
    }
    let mut sizes: Vec<u64> = heads.iter().map(|h| h.size).collect();
    if let Some(s) = &opts.since {
        sizes.push(s.size);
    }
    sizes.sort_unstable();
    sizes.dedup();
    let roots: BTreeMap<u64, Hash> = sizes.iter().copied().zip(board::roots_at(leaves, &sizes)).collect();
    let mut prev: Option<&TreeHead> = None;
    for (i, h) in heads.iter().enumerate() {
        c.require(h.verify(&ctx.board_key), || format!("tree head {i} (size {}): signature invalid", h.size));
        c.require(h.context == ctx.base_hash, || format!("tree head {i}: belongs to another election"));
        match roots.get(&h.size) {
            Some(r) => {
                c.require(*r == h.root, || format!("tree head {i} (size {}): root differs from the board's", h.size))
            }
            None => c.fail(format!("tree head {i}: size {} exceeds the board ({} entries)", h.size, leaves.len())),
        }
        if let Some(p) = prev {
            c.require(p.size <= h.size && p.timestamp_ms <= h.timestamp_ms, || {
                format!("tree head {i}: older than head {}", i - 1)
            });
        }
        prev = Some(h);
    }
    if let Some(last) = heads.last() {
        c.require(last.size == leaves.len() as u64, || {
            format!("final tree head covers {} entries but the board has {}", last.size, leaves.len())
        });
    }
    if let Some(s) = &opts.since {
        c.require(s.verify(&ctx.board_key), || "saved head: signature invalid".into());
        c.require(roots.get(&s.size) == Some(&s.root), || {
            format!("saved head (size {}) is not a prefix of this board: split view or rewritten history", s.size)
        });
    }
}

fn parse_entries(lines: &[&[u8]], c: &mut crate::report::Running) -> Vec<Entry> {
    let mut out = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        c.items(1);
        match serde_json::from_slice::<Value>(l) {
            Ok(v) => {
                let kind = v.get("type").and_then(Value::as_str).unwrap_or("").to_owned();
                const KINDS: [&str; 9] = [
                    "credential_list",
                    "credential_list_signed",
                    "credential_replaced",
                    "opened",
                    "ballot",
                    "challenged",
                    "superseded",
                    "web_assets",
                    "closed",
                ];
                if !KINDS.contains(&kind.as_str()) {
                    c.fail(format!("entry {i}: unknown type {kind:?}"));
                }
                out.push(Entry { index: i, v, kind });
            }
            Err(e) => c.fail(format!("entry {i}: not JSON: {e}")),
        }
    }
    let pos = |k: &str| out.iter().position(|e| e.kind == k);
    let count = |k: &str| out.iter().filter(|e| e.kind == k).count();
    c.require(count("credential_list") == 1 && pos("credential_list") == Some(0), || {
        "the credential list must be the first entry, once".into()
    });
    c.require(count("credential_list_signed") == 1 && pos("credential_list_signed") == Some(1), || {
        "the commission's signatures on the credential list (credential_list_signed) must be the second entry, once"
            .into()
    });
    c.require(count("opened") == 1, || "exactly one `opened` entry".into());
    c.require(count("closed") <= 1 && pos("closed").is_none_or(|p| p + 1 == out.len()), || {
        "`closed` must be the last entry".into()
    });
    if let Some(o) = pos("opened") {
        for e in &out {
            let voting = matches!(e.kind.as_str(), "ballot" | "challenged" | "superseded");
            c.require(!voting || e.index > o, || format!("entry {}: {} before voting opened", e.index, e.kind));
            c.require(e.kind != "credential_replaced" || e.index < pos("closed").unwrap_or(usize::MAX), || {
                format!("entry {}: replacement after closing", e.index)
            });
        }
    }
    out
}

/// The `web_assets` entry (at most one, before `opened`): `assets` is a non-empty list of
/// `[path, integrity]` with distinct absolute paths and SHA-384 Subresource-Integrity strings
/// (`sha384-` and the 64-character base64 of 48 bytes). Each asset is reported as a note.
fn web_assets(entries: &[Entry], c: &mut crate::report::Running) {
    let found: Vec<&Entry> = entries.iter().filter(|e| e.kind == "web_assets").collect();
    c.require(found.len() <= 1, || format!("{} web_assets entries; at most one is posted, at opening", found.len()));
    let opened = entries.iter().position(|e| e.kind == "opened").unwrap_or(usize::MAX);
    for e in found {
        c.require(e.index < opened, || format!("entry {}: web_assets after voting opened", e.index));
        let Some(obj) = e.v.as_object() else { continue };
        c.require(obj.len() == 2, || format!("entry {}: web_assets has fields other than type and assets", e.index));
        let Some(list) = obj.get("assets").and_then(Value::as_array).filter(|l| !l.is_empty()) else {
            c.fail(format!("entry {}: web_assets.assets must be a non-empty list", e.index));
            continue;
        };
        let mut paths = std::collections::HashSet::new();
        for (i, a) in list.iter().enumerate() {
            c.items(1);
            let pair = a.as_array().filter(|p| p.len() == 2).and_then(|p| Some((p[0].as_str()?, p[1].as_str()?)));
            let Some((path, integrity)) = pair else {
                c.fail(format!("entry {}: web_assets.assets[{i}] must be [path, integrity] (two strings)", e.index));
                continue;
            };
            c.require(path.starts_with('/'), || {
                format!("entry {}: web_assets.assets[{i}]: path {path:?} is not absolute", e.index)
            });
            c.require(paths.insert(path), || {
                format!("entry {}: web_assets.assets[{i}]: path {path:?} listed twice", e.index)
            });
            let b64 = integrity.strip_prefix("sha384-").unwrap_or("");
            let well_formed =
                b64.len() == 64 && b64.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
            c.require(well_formed, || {
                format!(
                    "entry {}: web_assets.assets[{i}]: integrity {integrity:?} is not sha384- and 64 base64 characters",
                    e.index
                )
            });
            c.note(format!("{path} {integrity}"));
        }
    }
}

struct Credentials {
    listed: HashMap<[u8; 32], String>,
    /// Credential → entry index from which it is revoked.
    revoked_at: HashMap<[u8; 32], usize>,
    /// Replacement credential → (style, entry index from which it is valid).
    replacements: HashMap<[u8; 32], (String, usize)>,
    /// Replacement credential → the credential it replaced.
    root_of: HashMap<[u8; 32], [u8; 32]>,
    /// Credentials revoked before the freeze (the list's `revoked`).
    revoked_before: std::collections::HashSet<[u8; 32]>,
}

/// The frozen list and the replacements (09-credentials.md §What a verifier checks), each
/// replacement signed by members of `list_signers`.
fn credential_list(
    campaign_id: &str,
    entries: &[Entry],
    list_signers: &HashSet<[u8; 32]>,
    c: &mut crate::report::Running,
) -> Credentials {
    let mut creds = Credentials {
        listed: HashMap::new(),
        revoked_at: HashMap::new(),
        replacements: HashMap::new(),
        root_of: HashMap::new(),
        revoked_before: std::collections::HashSet::new(),
    };
    let Some(list) = entries.iter().find(|e| e.kind == "credential_list") else {
        c.fail("no credential list on the board");
        return creds;
    };
    let items = match array(&list.v, "credentials", "credential list") {
        Ok(a) => a.clone(),
        Err(e) => {
            c.fail(e.0);
            return creds;
        }
    };
    let mut prev: Option<[u8; 32]> = None;
    for (i, it) in items.iter().enumerate() {
        c.items(1);
        match (
            field(it, "credential", "credential").and_then(|v| point(v, "credential")),
            string(it, "style", "credential"),
        ) {
            (Ok(p), Ok(style)) => {
                c.require(prev.is_none_or(|q| q < p.bytes), || {
                    format!("credential list item {i}: not sorted or duplicate")
                });
                prev = Some(p.bytes);
                creds.listed.insert(p.bytes, style);
            }
            (Err(e), _) | (_, Err(e)) => c.fail(format!("credential list item {i}: {}", e.0)),
        }
    }
    match uint(&list.v, "count", "credential list") {
        Ok(n) => {
            c.require(n == items.len() as u64, || format!("credential list says count {n} but holds {}", items.len()))
        }
        Err(e) => c.fail(e.0),
    }
    // 09-credentials.md step 2: credentials revoked before the freeze, absent when none
    if list.v.get("revoked").is_some() {
        match array(&list.v, "revoked", "credential list") {
            Ok(rs) if rs.is_empty() => {
                c.fail("credential list: \"revoked\" is present but empty (it is left out when there are none)")
            }
            Ok(rs) => {
                let mut prev: Option<[u8; 32]> = None;
                for (i, r) in rs.iter().enumerate() {
                    c.items(1);
                    match point(r, "revoked credential") {
                        Ok(p) => {
                            c.require(prev.is_none_or(|q| q < p.bytes), || {
                                format!("credential list revoked item {i}: not sorted or duplicate")
                            });
                            c.require(!creds.listed.contains_key(&p.bytes), || {
                                format!("credential list revoked item {i}: the credential is also listed")
                            });
                            prev = Some(p.bytes);
                            creds.revoked_before.insert(p.bytes);
                        }
                        Err(e) => c.fail(format!("credential list revoked item {i}: {}", e.0)),
                    }
                }
            }
            Err(e) => c.fail(e.0),
        }
    }
    for e in entries.iter().filter(|e| e.kind == "credential_replaced") {
        let parsed = (|| -> Decoded<(Point, Point, String, String)> {
            Ok((
                point(field(&e.v, "old", "replacement")?, "old")?,
                point(field(&e.v, "new", "replacement")?, "new")?,
                string(&e.v, "style", "replacement")?,
                string(&e.v, "decision", "replacement")?,
            ))
        })();
        match parsed {
            Ok((old, new, style, decision)) => {
                replacement_signatures(campaign_id, e, (&old, &new, &style, &decision), list_signers, c);
                let known =
                    creds.listed.get(&old.bytes).or_else(|| creds.replacements.get(&old.bytes).map(|x| &x.0)).cloned();
                c.require(known.as_ref() == Some(&style), || {
                    format!("entry {}: replaces a credential that is not listed for style {style:?}", e.index)
                });
                c.require(
                    !creds.listed.contains_key(&new.bytes) && !creds.replacements.contains_key(&new.bytes),
                    || format!("entry {}: the new credential is already in use", e.index),
                );
                c.require(!creds.revoked_before.contains(&new.bytes), || {
                    format!("entry {}: the new credential was revoked before the freeze", e.index)
                });
                c.require(!creds.revoked_at.contains_key(&old.bytes), || {
                    format!("entry {}: the credential was already replaced", e.index)
                });
                creds.revoked_at.insert(old.bytes, e.index);
                creds.root_of.insert(new.bytes, old.bytes);
                creds.replacements.insert(new.bytes, (style, e.index));
            }
            Err(err) => c.fail(format!("entry {}: {}", e.index, err.0)),
        }
    }
    creds
}

/// 10-board.md §Credential list signatures: every signature in `credential_list_signed` is an
/// Ed25519 signature (strict) over SHA-256("dobush/v1/credential-list" ‖ u64be(len id) ‖ id ‖ the
/// exact line of the `credential_list` entry); at least one, no key twice. Returns the signers'
/// keys (they, and only they, may sign replacements) and notes them for comparison with the
/// commission's minutes.
fn list_signatures(
    campaign_id: &str,
    lines: &[&[u8]],
    entries: &[Entry],
    c: &mut crate::report::Running,
) -> HashSet<[u8; 32]> {
    use sha2::{Digest, Sha256};
    let (Some(list), Some(signed)) = (
        entries.iter().find(|e| e.kind == "credential_list"),
        entries.iter().find(|e| e.kind == "credential_list_signed"),
    ) else {
        c.fail("the credential list is not signed by the commission (no credential_list_signed entry)");
        return HashSet::new();
    };
    let Some(line) = lines.get(list.index) else { return HashSet::new() };
    let mut h = Sha256::new();
    h.update(b"dobush/v1/credential-list");
    h.update((campaign_id.len() as u64).to_be_bytes());
    h.update(campaign_id.as_bytes());
    h.update(line);
    let signers = member_signatures(signed, "credential list", &h.finalize().into(), None, c);
    c.note(format!("credential list signed by {}", signer_names(signed)));
    signers
}

/// 10-board.md §Credential replacement signatures: a `credential_replaced` entry carries at least
/// one strict Ed25519 signature, no key twice, over SHA-256("dobush/v1/credential-replacement" ‖
/// u64be(len id) ‖ id ‖ old ‖ new ‖ u64be(len style) ‖ style ‖ u64be(len decision) ‖ decision),
/// each by a key that signed the credential list.
fn replacement_signatures(
    campaign_id: &str,
    e: &Entry,
    (old, new, style, decision): (&Point, &Point, &str, &str),
    list_signers: &HashSet<[u8; 32]>,
    c: &mut crate::report::Running,
) {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"dobush/v1/credential-replacement");
    h.update((campaign_id.len() as u64).to_be_bytes());
    h.update(campaign_id.as_bytes());
    h.update(old.bytes);
    h.update(new.bytes);
    h.update((style.len() as u64).to_be_bytes());
    h.update(style.as_bytes());
    h.update((decision.len() as u64).to_be_bytes());
    h.update(decision.as_bytes());
    member_signatures(e, "credential replacement", &h.finalize().into(), Some(list_signers), c);
    c.note(format!("entry {}: replacement under decision {decision:?} signed by {}", e.index, signer_names(e)));
}

/// The `signatures` of entry `e` over `digest`: at least one, no key twice, each valid (strict
/// Ed25519) and, with `allowed`, each key in it. Returns the keys.
fn member_signatures(
    e: &Entry,
    what: &str,
    digest: &[u8; 32],
    allowed: Option<&HashSet<[u8; 32]>>,
    c: &mut crate::report::Running,
) -> HashSet<[u8; 32]> {
    let mut seen = HashSet::new();
    let sigs = match array(&e.v, "signatures", what) {
        Ok(a) => a,
        Err(err) => {
            c.fail(format!("entry {}: {}", e.index, err.0));
            return seen;
        }
    };
    c.require(!sigs.is_empty(), || format!("entry {}: the {what} carries no signature", e.index));
    for (i, sg) in sigs.iter().enumerate() {
        c.items(1);
        let member = sg.get("member").and_then(Value::as_str).unwrap_or("?");
        let parsed = (|| -> Decoded<([u8; 32], [u8; 64])> {
            Ok((
                hex_n(field(sg, "public_key", "signature")?, "public_key")?,
                hex_n(field(sg, "signature", "signature")?, "signature")?,
            ))
        })();
        match parsed {
            Ok((pk, sig)) => {
                c.require(seen.insert(pk), || {
                    format!("entry {}: signature {i} ({member}): a second signature by the same key", e.index)
                });
                if let Some(allowed) = allowed {
                    c.require(allowed.contains(&pk), || {
                        format!(
                            "entry {}: {what} signature {i} ({member}): the key did not sign the credential list",
                            e.index
                        )
                    });
                }
                let ok = ed25519_dalek::VerifyingKey::from_bytes(&pk)
                    .ok()
                    .and_then(|k| k.verify_strict(digest, &ed25519_dalek::Signature::from_bytes(&sig)).ok());
                c.require(ok.is_some(), || format!("entry {}: {what} signature {i} ({member}): invalid", e.index));
            }
            Err(err) => c.fail(format!("entry {}: signature {i}: {}", e.index, err.0)),
        }
    }
    seen
}

/// The `member` names of entry `e`'s signatures, for the report.
fn signer_names(e: &Entry) -> String {
    let names: Vec<&str> =
        e.v.get("signatures")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|s| s.get("member").and_then(Value::as_str)).collect())
            .unwrap_or_default();
    if names.is_empty() { "nobody".into() } else { names.join(", ") }
}

fn check_ballots(ctx: &Context, entries: &[Entry], c: &mut crate::report::Running) -> (Vec<Cast>, Vec<Cast>) {
    let mut parsed: Vec<(usize, bool, Ballot, [u8; 32])> = Vec::new();
    for e in entries.iter().filter(|e| e.kind == "ballot" || e.kind == "challenged") {
        let r = field(&e.v, "ballot", "entry")
            .and_then(ballot::parse)
            .and_then(|b| Ok((b, hex_n::<32>(field(&e.v, "tracking_code", "entry")?, "tracking_code")?)));
        match r {
            Ok((b, code)) => parsed.push((e.index, e.kind == "challenged", b, code)),
            Err(err) => c.fail(format!("entry {}: {}", e.index, err.0)),
        }
    }
    let ballots: Vec<&Ballot> = parsed.iter().map(|p| &p.2).collect();
    let results = verify_with_progress(&ctx.election, &ballots);
    let (mut cast, mut challenged) = (Vec::new(), Vec::new());
    for ((index, is_challenge, b, code), r) in parsed.into_iter().zip(results) {
        c.items(1);
        match r {
            Ok(computed) => {
                c.require(computed == code, || format!("entry {index}: tracking code differs from the ballot's"));
                let item = Cast { entry: index, ballot: b, code };
                if is_challenge { challenged.push(item) } else { cast.push(item) }
            }
            Err(msg) => c.fail(format!("entry {index} (ballot {}): {msg}", hex::encode(b.id))),
        }
    }
    (cast, challenged)
}

/// Verifies ballots in slices of 8,192, printing progress to standard error when it is a
/// terminal and the record is large.
fn verify_with_progress(e: &Election, ballots: &[&Ballot]) -> Vec<Result<[u8; 32], String>> {
    use std::io::{IsTerminal, Write};
    const SLICE: usize = 8192;
    let show = ballots.len() > SLICE && std::io::stderr().is_terminal();
    let start = std::time::Instant::now();
    let mut out = Vec::with_capacity(ballots.len());
    for chunk in ballots.chunks(SLICE) {
        out.extend(ballot::verify_all(e, chunk));
        if show {
            let done = out.len();
            let rate = done as f64 / start.elapsed().as_secs_f64().max(1e-9);
            let left = (ballots.len() - done) as f64 / rate.max(1e-9);
            let width = 30;
            let filled = done * width / ballots.len().max(1);
            eprint!(
                "\r  ballots [{}{}] {done}/{} {rate:.0}/s, {left:.0} s left ",
                "#".repeat(filled),
                " ".repeat(width - filled),
                ballots.len()
            );
            let _ = std::io::stderr().flush();
        }
    }
    if show {
        eprintln!();
    }
    out
}

fn uniqueness(cast: &[Cast], challenged: &[Cast], c: &mut crate::report::Running) {
    let (mut ids, mut codes, mut alphas) = (HashSet::new(), HashSet::new(), HashSet::new());
    for b in cast.iter().chain(challenged) {
        c.items(1);
        c.require(ids.insert(b.ballot.id), || format!("entry {}: duplicate ballot id", b.entry));
        c.require(codes.insert(b.code), || format!("entry {}: duplicate tracking code", b.entry));
        for (a, _) in b.ballot.contests.iter().flat_map(|k| &k.cts) {
            if !alphas.insert(a.bytes) {
                c.fail(format!("entry {}: a ciphertext appears in another ballot (copied or replayed)", b.entry));
                break;
            }
        }
    }
}

fn eligibility(cast: &[Cast], creds: &Credentials, c: &mut crate::report::Running) {
    for b in cast {
        c.items(1);
        let k = b.ballot.credential.bytes;
        let style = match (creds.listed.get(&k), creds.replacements.get(&k)) {
            (Some(s), _) => Some(s.clone()),
            (None, Some((s, from))) if *from < b.entry => Some(s.clone()),
            _ => None,
        };
        match style {
            None if creds.revoked_before.contains(&k) => c.fail(format!(
                "entry {}: signed by credential {} which was revoked before the freeze",
                b.entry,
                hex::encode(k)
            )),
            None => c.fail(format!(
                "entry {}: signed by credential {} which is not on the frozen list nor a recorded replacement",
                b.entry,
                hex::encode(k)
            )),
            Some(s) => c.require(s == b.ballot.style, || {
                format!("entry {}: ballot style {:?} but the credential is for {s:?}", b.entry, b.ballot.style)
            }),
        }
        if let Some(at) = creds.revoked_at.get(&k) {
            c.require(b.entry < *at, || format!("entry {}: signed by a credential revoked at entry {at}", b.entry));
        }
    }
}

/// Which cast ballots count (indexes into `cast`).
fn revote(
    rec: &Value,
    cast: &[Cast],
    entries: &[Entry],
    creds: &Credentials,
    c: &mut crate::report::Running,
) -> Vec<usize> {
    let policy = rec.get("re_vote_policy").and_then(Value::as_str).unwrap_or("");
    // A replacement credential belongs to the voter of the credential it replaced.
    let voter = |k: [u8; 32]| {
        let mut k = k;
        for _ in 0..=creds.root_of.len() {
            match creds.root_of.get(&k) {
                Some(r) => k = *r,
                None => break,
            }
        }
        k
    };
    let mut last: HashMap<[u8; 32], usize> = HashMap::new();
    let mut expected: Vec<([u8; 32], [u8; 32])> = Vec::new();
    for (i, b) in cast.iter().enumerate() {
        c.items(1);
        if let Some(prev) = last.insert(voter(b.ballot.credential.bytes), i) {
            match policy {
                "last_counts" => expected.push((cast[prev].code, b.code)),
                "forbidden" => c.fail(format!(
                    "entry {}: a second ballot of one credential under the forbidden re-vote rule",
                    b.entry
                )),
                p => {
                    c.fail(format!("unknown re-vote policy {p:?}"));
                    break;
                }
            }
        }
    }
    let mut markers = Vec::new();
    for e in entries.iter().filter(|e| e.kind == "superseded") {
        match (
            hex_n::<32>(field(&e.v, "tracking_code", "marker").unwrap_or(&Value::Null), "marker"),
            hex_n::<32>(field(&e.v, "by", "marker").unwrap_or(&Value::Null), "marker"),
        ) {
            (Ok(a), Ok(b)) => markers.push((a, b)),
            _ => c.fail(format!("entry {}: malformed supersede marker", e.index)),
        }
    }
    c.require(policy != "forbidden" || markers.is_empty(), || "supersede markers under the forbidden rule".into());
    if policy == "last_counts" {
        let (m, x): (HashSet<_>, HashSet<_>) = (markers.iter().copied().collect(), expected.iter().copied().collect());
        for (a, _) in m.difference(&x) {
            c.fail(format!("supersede marker for ballot {} does not follow from the board", hex::encode(a)));
        }
        for (a, _) in x.difference(&m) {
            c.fail(format!("ballot {} was superseded but the board has no marker for it", hex::encode(a)));
        }
    }
    let mut counted: Vec<usize> = last.into_values().collect();
    counted.sort_unstable();
    counted
}

fn check_challenged(ctx: &Context, entries: &[Entry], challenged: &[Cast], c: &mut crate::report::Running) {
    let k = ctx.election.joint_key.p;
    for ch in challenged {
        c.items(1);
        let Some(e) = entries.get(ch.entry) else { continue };
        let opening = match field(&e.v, "opening", "challenged") {
            Ok(o) => o,
            Err(err) => {
                c.fail(format!("entry {}: {}", ch.entry, err.0));
                continue;
            }
        };
        let r = (|| -> Result<(), String> {
            let oid =
                hex_n::<16>(field(opening, "ballot_id", "opening").map_err(|e| e.0)?, "ballot_id").map_err(|e| e.0)?;
            if oid != ch.ballot.id {
                return Err("the opening is for another ballot id".into());
            }
            let contests = opening.get("contests").and_then(Value::as_array).ok_or("opening: contests missing")?;
            if contests.len() != ch.ballot.contests.len() {
                return Err("opening: wrong number of contests".into());
            }
            let style = ctx.election.manifest.styles.get(&ch.ballot.style).ok_or("unknown style")?;
            for ((oc, bc), ci) in contests.iter().zip(&ch.ballot.contests).zip(style) {
                let sels = oc.as_array().ok_or("opening: contest must be an array")?;
                if sels.len() != bc.cts.len() {
                    return Err(format!("opening of contest {:?}: wrong number of selections", bc.id));
                }
                let mut sum = 0u64;
                let contest = ctx.election.manifest.contests.get(*ci).ok_or("unknown contest")?;
                for (j, (s, (a, b))) in sels.iter().zip(&bc.cts).enumerate() {
                    let m = s.get("mark").and_then(Value::as_u64).filter(|m| *m <= 1).ok_or("mark must be 0 or 1")?;
                    let r: Scalar = scalar(field(s, "nonce", "opening").map_err(|e| e.0)?, "nonce").map_err(|e| e.0)?;
                    let alpha: RistrettoPoint = r * RISTRETTO_BASEPOINT_POINT;
                    let beta: RistrettoPoint = Scalar::from(m) * RISTRETTO_BASEPOINT_POINT + r * k;
                    if alpha.compress().to_bytes() != a.bytes || beta.compress().to_bytes() != b.bytes {
                        return Err(format!(
                            "contest {:?}, selection {j}: opening does not re-encrypt to the ciphertext",
                            bc.id
                        ));
                    }
                    sum += m * contest.weight(j);
                }
                if !contest.allowed().contains(&sum) {
                    return Err(format!("contest {:?}: opened marks are not a valid vote", bc.id));
                }
            }
            Ok(())
        })();
        if let Err(msg) = r {
            c.fail(format!("entry {}: {msg}", ch.entry));
        }
    }
}

fn check_totals(
    rec: &Value,
    ctx: &Context,
    cast: &[Cast],
    counted: &[usize],
    c: &mut crate::report::Running,
) -> crate::decryption::Totals {
    let m = &ctx.election.manifest;
    let k = ctx.election.joint_key.p;
    let mut sums: Vec<Vec<(RistrettoPoint, RistrettoPoint)>> =
        m.contests.iter().map(|x| vec![(RISTRETTO_BASEPOINT_POINT, k); x.selections()]).collect();
    let mut counts = vec![0u64; m.contests.len()];
    for &i in counted {
        let Some(b) = cast.get(i) else { continue };
        let Some(style) = m.styles.get(&b.ballot.style) else { continue };
        for (ci, bc) in style.iter().zip(&b.ballot.contests) {
            if let (Some(s), Some(n)) = (sums.get_mut(*ci), counts.get_mut(*ci)) {
                for (acc, (a, be)) in s.iter_mut().zip(&bc.cts) {
                    acc.0 += a.p;
                    acc.1 += be.p;
                }
                *n += 1;
            }
        }
    }
    let totals = match array(rec, "encrypted_totals", "record") {
        Ok(t) => t,
        Err(e) => {
            c.fail(e.0);
            return crate::decryption::Totals { totals: sums, ballots: counts };
        }
    };
    c.require(totals.len() == m.contests.len(), || "encrypted totals: one per contest expected".into());
    for ((t, contest), (s, n)) in totals.iter().zip(&m.contests).zip(sums.iter().zip(&counts)) {
        c.items(1);
        let id = t.get("contest_id").and_then(Value::as_str).unwrap_or("");
        c.require(id == contest.id, || format!("encrypted totals: {id:?} where {:?} was expected", contest.id));
        c.require(t.get("ballots").and_then(Value::as_u64) == Some(*n), || {
            format!("contest {:?}: published ballot count differs from the counted ballots ({n})", contest.id)
        });
        let published = t.get("totals").and_then(Value::as_array).cloned().unwrap_or_default();
        c.require(published.len() == s.len(), || format!("contest {:?}: wrong number of totals", contest.id));
        for (j, (p, (a, b))) in published.iter().zip(s).enumerate() {
            let ok = (|| -> Decoded<bool> {
                let pa = point(field(p, "alpha", "total")?, "total")?;
                let pb = point(field(p, "beta", "total")?, "total")?;
                Ok(pa.bytes == a.compress().to_bytes() && pb.bytes == b.compress().to_bytes())
            })();
            c.require(ok == Ok(true), || {
                format!(
                    "contest {:?}, selection {j}: encrypted total differs from the sum of the counted ballots",
                    contest.id
                )
            });
        }
    }
    crate::decryption::Totals { totals: sums, ballots: counts }
}

/// `verifier receipt`: checks a voter's receipt against the record: the receipt's head is
/// signed by the board key for this election, the inclusion proof leads to its root, that head
/// is a prefix of the final board (so the final head is consistent with it), the entry on the
/// board at the receipt's position is exactly the receipt's entry, and the ballot is counted
/// (not superseded, not challenged).
pub fn verify_receipt(record_json: &str, board_jsonl: &[u8], receipt_json: &str) -> Report {
    let mut rep = verify(record_json, board_jsonl, &Options::default());
    let mut c = Report::start(
        "receipt",
        "the voter's receipt: signed head, inclusion, consistency with the final head, counted",
    );
    c.items(1);
    let r = (|| -> Result<(), String> {
        let rec: Value = serde_json::from_str(record_json).map_err(|e| e.to_string())?;
        let ctx = load::context(&rec).map_err(|e| e.0)?;
        let v: Value = serde_json::from_str(receipt_json).map_err(|e| format!("receipt is not JSON: {e}"))?;
        let head = TreeHead::parse(field(&v, "tree_head", "receipt").map_err(|e| e.0)?).map_err(|e| e.0)?;
        if head.context != ctx.base_hash || !head.verify(&ctx.board_key) {
            return Err("the receipt's tree head is not signed by this election's board".into());
        }
        let index = uint(&v, "index", "receipt").map_err(|e| e.0)?;
        let entry = string(&v, "entry", "receipt").map_err(|e| e.0)?;
        let code =
            hex_n::<32>(field(&v, "tracking_code", "receipt").map_err(|e| e.0)?, "tracking_code").map_err(|e| e.0)?;
        let proof: Vec<Hash> = array(&v, "inclusion_proof", "receipt")
            .map_err(|e| e.0)?
            .iter()
            .map(|h| hex_n::<32>(h, "inclusion proof"))
            .collect::<Decoded<_>>()
            .map_err(|e| e.0)?;
        if !board::verify_inclusion(&board::leaf(entry.as_bytes()), index, head.size, &proof, &head.root) {
            return Err("the inclusion proof does not lead to the receipt's tree head".into());
        }
        let lines = load::board_lines(board_jsonl);
        let leaves: Vec<Hash> = lines.iter().map(|l| board::leaf(l)).collect();
        if board::roots_at(&leaves, &[head.size]).first() != Some(&head.root) {
            return Err(
                "the receipt's tree head is not consistent with the published board (split view or rewritten history)"
                    .into(),
            );
        }
        if lines.get(index as usize).copied() != Some(entry.as_bytes()) {
            return Err(format!("board position {index} does not hold the receipt's entry"));
        }
        let ev: Value = serde_json::from_str(&entry).map_err(|e| e.to_string())?;
        if ev.get("type").and_then(Value::as_str) != Some("ballot")
            || hex_n::<32>(ev.get("tracking_code").unwrap_or(&Value::Null), "entry").ok() != Some(code)
        {
            return Err("the receipt's entry is not a cast ballot with the receipt's tracking code".into());
        }
        let hex_code = Value::from(hex::encode(code));
        for l in &lines {
            let Ok(e) = serde_json::from_slice::<Value>(l) else { continue };
            if e.get("type").and_then(Value::as_str) == Some("superseded") && e.get("tracking_code") == Some(&hex_code)
            {
                return Err("the ballot was superseded by a later ballot of the same credential".into());
            }
        }
        Ok(())
    })();
    if let Err(m) = r {
        c.fail(m);
    }
    rep.finish(c);
    rep
}
