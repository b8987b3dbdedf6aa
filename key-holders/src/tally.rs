//! `tally`: checks the frozen board itself, recomputes the encrypted totals and only then makes
//! this key-holder's partial decryptions, of the totals it computed (`docs/record-format.md`,
//! `docs/protocol/07-threshold.md`). It decrypts nothing else. The record comes from files
//! ([`run`]) or from the server ([`run_server`], which posts the shares); both go through
//! [`check_and_decrypt`].

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::Path;

use anyhow::{Context, Result, anyhow};
use dobush_crypto::ballot::{EncryptedBallot, TrackingCode, verify_ballots};
use dobush_crypto::context::ElectionContext;
use dobush_crypto::record::{Board, BoardEntry, ElectionRecord, RECORD_VERSION, counted_ballots};
use dobush_crypto::signature::VerifyingKey;
use dobush_crypto::tally::{ContestTotals, EncryptedTally};
use dobush_crypto::threshold::KeyHolderPublic;
use dobush_crypto::threshold::decrypt::{DecryptionShare, ShareKeys, TotalId};
use dobush_crypto::threshold::dkg;
use rand_core::OsRng;
use serde_json::Value;

use crate::Refused;
use crate::keystore::{Keystore, Secrets};
pub use crate::tally_v2::{Counts, FileSource};
use crate::transport::Api;

macro_rules! refuse {
    ($($arg:tt)*) => {
        return Err(Refused(format!($($arg)*)).into())
    };
}

/// What `tally` found, for the summary line.
#[derive(Debug, Default)]
pub struct Summary {
    /// Board entries.
    pub entries: usize,
    /// Cast ballots verified.
    pub ballots: usize,
    /// Ballots counted.
    pub counted: usize,
    /// Ballots superseded by a re-vote.
    pub superseded: usize,
    /// Decryption shares written.
    pub shares: usize,
    /// The re-vote rule the ballots were counted under: the election package's (bound by its
    /// extended hash), for the key-holder to compare with the commission's decision.
    pub re_vote_policy: &'static str,
}

/// Reads `record.json` and `board.jsonl` from `record_dir`, checks everything, writes this
/// key-holder's decryption shares to `out`.
pub fn run(
    store: &Keystore,
    secrets: &Secrets,
    campaign: Option<&str>,
    record_dir: &Path,
    out: &Path,
) -> Result<Summary> {
    let record_path = record_dir.join("record.json");
    let board_path = record_dir.join("board.jsonl");
    let record_text =
        fs::read_to_string(&record_path).with_context(|| format!("cannot read {}", record_path.display()))?;
    let board_text =
        fs::read_to_string(&board_path).with_context(|| format!("cannot read {}", board_path.display()))?;
    let files = |name: &str| -> Result<Vec<u8>> {
        let path = record_dir.join(name);
        fs::read(&path).with_context(|| format!("cannot read {}", path.display()))
    };
    let source = record_path.display().to_string();
    let (summary, shares) = check_and_decrypt(store, secrets, campaign, &record_text, &board_text, &files, &source)?;
    let tmp = out.with_extension("part");
    fs::write(&tmp, serde_json::to_vec_pretty(&shares)?).with_context(|| format!("cannot write {}", tmp.display()))?;
    fs::rename(&tmp, out).with_context(|| format!("cannot write {}", out.display()))?;
    Ok(summary)
}

/// `tally --server`: downloads the record of `campaign` from the server
/// (`GET /api/v1/campaigns/{id}/record` and `…/record/board.jsonl`), makes the same checks as
/// [`run`] on it, and only then posts this key-holder's decryption shares
/// (`POST /api/v1/campaigns/{id}/decryption-shares`, `docs/server.md` §After voting). Returns the
/// summary and the server's answer (`accepted`, `rejected`, `combined`, …).
pub fn run_server(store: &Keystore, secrets: &Secrets, api: &Api, campaign: &str) -> Result<(Summary, Value)> {
    if !api.has_token() {
        anyhow::bail!("tally --server needs the key-holder's session token in DOBUSH_TOKEN");
    }
    let base = format!("/api/v1/campaigns/{campaign}/record");
    let record_text = api.get_text(&base).context("cannot download the election record")?;
    let board_text = api.get_text(&format!("{base}/board.jsonl")).context("cannot download the board")?;
    let files = |name: &str| -> Result<Vec<u8>> {
        api.get_bytes(&format!("{base}/{name}")).with_context(|| format!("cannot download {name}"))
    };
    let (summary, shares) =
        check_and_decrypt(store, secrets, Some(campaign), &record_text, &board_text, &files, "the server's record")?;
    let answer =
        api.post(&format!("/api/v1/campaigns/{campaign}/decryption-shares"), &serde_json::json!({ "shares": shares }))?;
    Ok((summary, answer))
}

/// The checks of `tally` on a record (`record.json`'s text, from `source`) and its board
/// (`board.jsonl`'s text); if they all hold, this key-holder's decryption shares of the totals
/// recomputed here, each verified.
pub fn check_and_decrypt(
    store: &Keystore,
    secrets: &Secrets,
    campaign: Option<&str>,
    record_text: &str,
    board_text: &str,
    filter_files: FileSource<'_>,
    source: &str,
) -> Result<(Summary, Vec<DecryptionShare>)> {
    let record: ElectionRecord =
        serde_json::from_str(record_text).with_context(|| format!("{source} is not an election record"))?;
    if record.version != RECORD_VERSION {
        refuse!("record version {:?} is not {RECORD_VERSION}", record.version);
    }
    let campaign_id = record.package.manifest.campaign_id.clone();
    if let Some(c) = campaign.filter(|c| *c != campaign_id) {
        refuse!("the record is of campaign {campaign_id:?}, not {c:?}");
    }

    // The election context, and that it is this key-holder's ceremony.
    let ctx = record.package.context().map_err(|e| Refused(format!("election package: {e}")))?;
    let (share, state) = store.load_share(&campaign_id)?;
    if hex::encode(record.package.base_hash) != state.base_hash {
        refuse!("the record's base context (campaign, key-holders, t) is not the one of this key-holder's ceremony");
    }
    if record.package.joint_key != state.outcome.joint_key {
        refuse!("the record's joint key is not the one this key-holder's ceremony produced");
    }
    let publics: Vec<KeyHolderPublic> = record
        .package
        .key_holders
        .iter()
        .map(|k| KeyHolderPublic { index: k.index, signing_key: VerifyingKey(k.signing_key), comm_key: k.comm_key })
        .collect();
    let outcome = dkg::evaluate(&state.params, &record.package.base_hash, &publics, &record.ceremony)
        .map_err(|e| Refused(format!("the record's ceremony transcript: {e}")))?;
    if outcome != state.outcome {
        refuse!("the record's ceremony transcript does not give the outcome this key-holder computed");
    }

    // The board and its final signed tree head.
    let Some(lines) = board_text.strip_suffix('\n').map(|b| b.split('\n').map(str::to_owned).collect::<Vec<_>>())
    else {
        refuse!("board.jsonl is empty or does not end with a newline");
    };
    let board = Board::from_lines(lines);
    let Some(final_head) = record.tree_heads.last() else {
        refuse!("the record has no signed tree head");
    };
    let mut previous = dobush_crypto::board::TreeHead::genesis(&record.package.base_hash);
    for (k, h) in record.tree_heads.iter().enumerate() {
        h.verify(&record.package.board_key).map_err(|e| Refused(format!("tree head {k}: {e}")))?;
        // the heads are a chain (10-board.md §Tree heads): none dropped, repeated or reordered
        if h.head.previous != previous {
            refuse!("tree head {k} is not chained to the head before it (a head is missing or out of order)");
        }
        previous = h.head.link();
        if h.head.context != record.package.base_hash {
            refuse!("tree head {k} belongs to another election");
        }
        match board.log().root_at(h.head.size) {
            Ok(root) if root == h.head.root => {}
            _ => refuse!("tree head {k} (size {}) does not match the board", h.head.size),
        }
    }
    if final_head.head.size != board.size() || final_head.head.root != board.log().root() {
        refuse!("the final signed tree head does not cover the whole board ({} entries)", board.size());
    }

    // The board's entries and the totals recomputed from them.
    let (totals, counts) = if record.package.parameters.is_v2() {
        crate::tally_v2::recompute(&record, &ctx, &board, &state.outcome.verification_keys, filter_files)?
    } else {
        v1_totals(&record, &ctx, &board)?
    };
    if totals.len() != record.encrypted_totals.len() {
        refuse!("the record has {} contests of totals, the manifest {}", record.encrypted_totals.len(), totals.len());
    }
    for (mine, theirs) in totals.iter().zip(&record.encrypted_totals) {
        if mine.contest_id != theirs.contest_id || mine.ballots != theirs.ballots {
            refuse!("contest {:?}: the published totals are not of the counted ballots", mine.contest_id);
        }
        if mine.totals.len() != theirs.totals.len() {
            refuse!("contest {:?}: the published totals have the wrong number of selections", mine.contest_id);
        }
        if let Some(j) = mine.totals.iter().zip(&theirs.totals).position(|(a, b)| a != b) {
            refuse!(
                "contest {:?}, selection {j}: the published encrypted total differs from the one recomputed from the board",
                mine.contest_id
            );
        }
    }

    // Only now: partial decryptions of the totals computed here.
    let ext = ctx.extended_hash();
    let share_keys = ShareKeys::new(&state.outcome.verification_keys, &publics)?;
    let mut shares: Vec<DecryptionShare> = Vec::new();
    for (ci, contest) in (0u32..).zip(&totals) {
        for (j, ct) in (0u32..).zip(&contest.totals) {
            let total = TotalId { contest: ci, option: j };
            let s = share.partial_decrypt(ext, total, ct, secrets.keys.signing_key(), &mut OsRng)?;
            s.verify(ext, &share_keys, total, ct)?;
            shares.push(s);
        }
    }
    let summary = Summary {
        entries: board.lines().len(),
        ballots: counts.ballots,
        counted: counts.counted,
        superseded: counts.superseded,
        shares: shares.len(),
        re_vote_policy: record.package.parameters.re_vote.policy.as_str(),
    };
    Ok((summary, shares))
}

/// The server's answer to posted decryption shares (`accepted`, `rejected` with reasons,
/// `complete_key_holders`, `missing_key_holders`, `combined`), for the key-holder to read.
pub fn describe_answer(answer: &Value) -> String {
    let list = |k: &str| {
        answer[k].as_array().map(|a| a.iter().map(Value::to_string).collect::<Vec<_>>().join(", ")).unwrap_or_default()
    };
    let mut out = format!(
        "server: accepted {}, rejected {}, already published {}",
        answer["accepted"].as_u64().unwrap_or(0),
        answer["rejected"].as_array().map_or(0, Vec::len),
        answer["duplicates"].as_array().map_or(0, Vec::len)
    );
    for r in answer["rejected"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "\nserver: rejected share of contest {}, option {}: {}",
            r["contest"],
            r["option"],
            r["reason"].as_str().unwrap_or("?")
        ));
    }
    out.push_str(&format!(
        "\nserver: key-holders with every share: [{}]; missing: [{}]",
        list("complete_key_holders"),
        list("missing_key_holders")
    ));
    out.push_str(if answer["combined"] == Value::Bool(true) {
        "\nserver: results combined"
    } else {
        "\nserver: results not combined yet (fewer than t valid shares of some total)"
    });
    out
}

/// A v1 board: its entries checked (credentials, replacements, ballots, supersede markers) and
/// the totals of the ballots the re-vote rule counts.
fn v1_totals(record: &ElectionRecord, ctx: &ElectionContext, board: &Board) -> Result<(Vec<ContestTotals>, Counts)> {
    // Entries: credentials, ballots, supersede markers.
    let mut active: HashMap<VerifyingKey, String> = HashMap::new();
    let mut seen_credentials: HashSet<VerifyingKey> = HashSet::new();
    let mut replacements = Vec::new();
    let mut ballots: Vec<(usize, EncryptedBallot, TrackingCode)> = Vec::new();
    let mut markers: Vec<(TrackingCode, TrackingCode)> = Vec::new();
    let (mut opened, mut closed, mut list_signed) = (false, false, false);
    for (n, line) in board.lines().iter().enumerate() {
        let line_no = n + 1;
        let entry: BoardEntry =
            serde_json::from_str(line).map_err(|e| Refused(format!("board line {line_no} is not an entry: {e}")))?;
        if closed {
            refuse!("board line {line_no}: entry after `closed`");
        }
        match entry {
            BoardEntry::CredentialList { credentials, count, revoked } => {
                if n != 0 {
                    refuse!("board line {line_no}: the credential list must be the first entry, once");
                }
                dobush_crypto::record::check_credential_list(&credentials, count, &revoked)
                    .map_err(|e| Refused(format!("board line {line_no}: {e}")))?;
                // revoked before the freeze: never again usable, not even as a replacement
                seen_credentials.extend(revoked);
                for c in credentials {
                    seen_credentials.insert(c.credential);
                    active.insert(c.credential, c.style);
                }
            }
            BoardEntry::CredentialListV2 { .. } | BoardEntry::CredentialReplacedV2 { .. } => {
                refuse!("board line {line_no}: a v2 credential entry on a v1 campaign's board");
            }
            _ if n == 0 => refuse!("board line 1 is not the credential list"),
            BoardEntry::CredentialListSigned { signatures } => {
                let list = board.lines().first().map(String::as_bytes).unwrap_or_default();
                if n != 1 {
                    refuse!("board line {line_no}: the list's signatures must follow the credential list, once");
                }
                dobush_crypto::record::check_credential_list_signatures(
                    &record.package.commission,
                    &record.package.manifest.campaign_id,
                    list,
                    &signatures,
                )
                .map_err(|e| Refused(format!("board line {line_no}: credential list signatures: {e}")))?;
                list_signed = true;
            }
            _ if n == 1 => refuse!("board line 2 is not the commission's signatures on the credential list"),
            BoardEntry::CredentialReplaced { old, new, style, decision, signatures } => {
                if active.get(&old) != Some(&style) || !seen_credentials.insert(new) {
                    refuse!("board line {line_no}: invalid credential replacement");
                }
                dobush_crypto::record::check_replacement_signatures(
                    &record.package.commission,
                    &record.package.manifest.campaign_id,
                    (&old, &new, &style, &decision),
                    &signatures,
                )
                .map_err(|e| Refused(format!("board line {line_no}: credential replacement signatures: {e}")))?;
                active.remove(&old);
                active.insert(new, style);
                replacements.push((old, new));
            }
            BoardEntry::Opened { .. } => {
                if opened {
                    refuse!("board line {line_no}: voting opened twice");
                }
                opened = true;
            }
            BoardEntry::Ballot { ballot, tracking_code } => {
                if !opened {
                    refuse!("board line {line_no}: ballot before voting opened");
                }
                if active.get(&ballot.credential) != Some(&ballot.style) {
                    refuse!(
                        "board line {line_no}: the ballot's credential {} is not on the list (or not for style {:?})",
                        ballot.credential.0.to_hex(),
                        ballot.style
                    );
                }
                ballots.push((line_no, ballot, tracking_code));
            }
            BoardEntry::Superseded { tracking_code, by } => markers.push((tracking_code, by)),
            BoardEntry::Closed { .. } => closed = true,
            BoardEntry::BallotV2 { .. }
            | BoardEntry::ChallengedV2 { .. }
            | BoardEntry::CastVerifierRevealed { .. }
            | BoardEntry::Filtered { .. } => {
                refuse!("board line {line_no}: a v2 entry on a v1 campaign's board");
            }
            BoardEntry::Challenged { .. } | BoardEntry::WebAssets { .. } => {}
        }
    }
    if !closed {
        refuse!("the board is not closed: no `closed` entry");
    }
    if !list_signed {
        refuse!("the credential list is not signed by the commission");
    }

    // Every cast ballot's proofs and credential signature, and its tracking code.
    let lines_no: Vec<(usize, TrackingCode)> = ballots.iter().map(|(l, _, c)| (*l, *c)).collect();
    let results = verify_ballots(ctx, ballots.into_iter().map(|(_, b, _)| b).collect(), &mut OsRng);
    let mut verified = Vec::with_capacity(results.len());
    let (mut ids, mut codes) = (HashSet::new(), HashSet::new());
    for ((line_no, code), r) in lines_no.iter().zip(results) {
        let v = r.map_err(|e| Refused(format!("board line {line_no}: ballot invalid: {e}")))?;
        if v.tracking_code() != code {
            refuse!("board line {line_no}: the tracking code is not the ballot's");
        }
        if !ids.insert(v.ballot().ballot_id) || !codes.insert(*code) {
            refuse!("board line {line_no}: ballot id or tracking code repeated");
        }
        verified.push(v);
    }

    // The re-vote rule, and the totals.
    let pairs: Vec<_> = verified.iter().map(|v| (v.ballot().credential, *v.tracking_code())).collect();
    let (counted, superseded) = counted_ballots(record.package.parameters.re_vote.policy, &pairs, &replacements)
        .map_err(|e| Refused(format!("re-vote rule: {e}")))?;
    if superseded != markers {
        refuse!("the board's supersede markers differ from the re-vote rule recomputed");
    }
    let mut tally = EncryptedTally::new(ctx);
    for &i in &counted {
        let b = verified.get(i).ok_or_else(|| anyhow!("counted index out of range"))?;
        tally.add(b)?;
    }
    let totals = tally.totals()?;
    Ok((totals, Counts { ballots: verified.len(), counted: counted.len(), superseded: superseded.len() }))
}
