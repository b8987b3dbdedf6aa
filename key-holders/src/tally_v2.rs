//! `tally` on a v2 campaign (`docs/protocol/13-revoting.md` §6.8): the board checked entry by
//! entry (the frozen v2 list and its signatures, each replacement's proof and signatures, every
//! ballot's proofs, tracking code and uniqueness, the order of the entries), every style's
//! filter transcript read from the record, bound by its `filtered` entry and verified round by
//! round against the inputs recomputed from the board up to the input head, and the totals TL-1
//! of the kept rows recomputed here. `crate::tally` then compares them with the record's and
//! decrypts only them: this key-holder decrypts nothing it did not recompute.

use std::collections::HashSet;

use anyhow::Result;
use dobush_crypto::ballot_v2::ballot::{BallotV2, verify_ballots_v2};
use dobush_crypto::ballot_v2::replacement::{ReplacementStatement, verify_entry_nonce};
use dobush_crypto::commission::Act;
use dobush_crypto::context::ElectionContext;
use dobush_crypto::filter::run::board::{StyleOutput, filtered_totals, style_inputs, transcript_path, verify_style};
use dobush_crypto::filter::run::messages::FilterTranscript;
use dobush_crypto::group::GroupElement;
use dobush_crypto::record::{Board, BoardEntry, ElectionRecord, FileRef, list_digest_of};
use dobush_crypto::tally::ContestTotals;
use rand_core::OsRng;

use crate::Refused;

/// Reads a file of the record by its path in the record (`filter/<i>.json`): from the record's
/// directory or from the server.
pub type FileSource<'a> = &'a dyn Fn(&str) -> Result<Vec<u8>>;

/// The counts of the summary that come from the board.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Cast ballots verified.
    pub ballots: usize,
    /// Ballots counted.
    pub counted: usize,
    /// Ballots not counted: superseded (v1), or re-votes and cancelled ballots (v2).
    pub superseded: usize,
}

macro_rules! refuse {
    ($($arg:tt)*) => {
        return Err(Refused(format!($($arg)*)).into())
    };
}

/// Where the board is, entry by entry (13-revoting.md §4.2).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    BeforeOpening,
    Open,
    Closed,
    Revealed,
}

/// Checks a v2 board and its filter transcripts and recomputes the totals (see the module).
pub fn recompute(
    record: &ElectionRecord,
    ctx: &ElectionContext,
    board: &Board,
    verification_keys: &[GroupElement],
    files: FileSource<'_>,
) -> Result<(Vec<ContestTotals>, Counts)> {
    let package = &record.package;
    let campaign = &package.manifest.campaign_id;
    let mut entries: Vec<BoardEntry> = Vec::with_capacity(board.lines().len());
    let mut seen_credentials: HashSet<[u8; 32]> = HashSet::new();
    let mut ballots: Vec<(usize, BallotV2, dobush_crypto::ballot::TrackingCode)> = Vec::new();
    let mut filtered: Vec<(usize, String, FileRef)> = Vec::new();
    let mut phase = Phase::BeforeOpening;
    for (n, line) in board.lines().iter().enumerate() {
        let line_no = n + 1;
        let entry: BoardEntry =
            serde_json::from_str(line).map_err(|e| Refused(format!("board line {line_no} is not an entry: {e}")))?;
        match &entry {
            BoardEntry::CredentialListV2 { credentials, count, .. } if n == 0 => {
                dobush_crypto::record::check_credential_list_v2(credentials, *count)
                    .map_err(|e| Refused(format!("board line 1: {e}")))?;
                for c in credentials {
                    if package.manifest.style(&c.style).is_none() {
                        refuse!("board line 1: a credential of style {:?}, which the manifest does not have", c.style);
                    }
                    seen_credentials.insert(*c.credential.0.as_bytes());
                }
            }
            _ if n == 0 => refuse!("board line 1 is not the v2 credential list"),
            BoardEntry::CredentialListSigned { signatures } if n == 1 => {
                let (Some(first), Some(list)) = (entries.first(), board.lines().first()) else {
                    refuse!("board line 2: no credential list before it");
                };
                let digest = list_digest_of(campaign, first, list.as_bytes());
                package
                    .commission
                    .check_act(Act::CredentialList, &digest, signatures)
                    .map_err(|e| Refused(format!("board line 2: credential list signatures: {e}")))?;
            }
            _ if n == 1 => refuse!("board line 2 is not the commission's signatures on the credential list"),
            BoardEntry::WebAssets { .. } if phase == Phase::BeforeOpening => {}
            BoardEntry::Opened { .. } if phase == Phase::BeforeOpening => phase = Phase::Open,
            BoardEntry::CredentialReplacedV2 {
                style,
                new,
                new_pin_commitment,
                old_tbase,
                proof,
                decision,
                signatures,
            } if phase == Phase::Open => {
                if package.manifest.style(style).is_none() || !seen_credentials.insert(*new.0.as_bytes()) {
                    refuse!(
                        "board line {line_no}: a replacement of an unknown style, or whose new credential is not new"
                    );
                }
                let st = ReplacementStatement { campaign, style, new, new_pin_commitment, old_tbase, decision };
                let digest = st.digest();
                verify_entry_nonce(ctx, &digest, old_tbase, proof)
                    .map_err(|e| Refused(format!("board line {line_no}: replacement proof: {e}")))?;
                package
                    .commission
                    .check_act(Act::Replacement, &digest, signatures)
                    .map_err(|e| Refused(format!("board line {line_no}: replacement signatures: {e}")))?;
            }
            BoardEntry::BallotV2 { ballot, tracking_code } if phase == Phase::Open => {
                ballots.push((line_no, ballot.clone(), *tracking_code));
            }
            BoardEntry::ChallengedV2 { .. } if phase == Phase::Open => {}
            BoardEntry::Closed { .. } if phase == Phase::Open => phase = Phase::Closed,
            BoardEntry::CastVerifierRevealed { .. } if phase == Phase::Closed => phase = Phase::Revealed,
            BoardEntry::Filtered { style, transcript } if phase == Phase::Revealed => {
                filtered.push((n, style.clone(), *transcript));
            }
            _ => refuse!("board line {line_no}: an entry that a v2 board does not hold here"),
        }
        entries.push(entry);
    }
    if phase != Phase::Revealed {
        refuse!("the board is not closed with its cast verifier secret revealed");
    }

    // Every ballot's proofs, tracking code and uniqueness.
    let lines: Vec<(usize, dobush_crypto::ballot::TrackingCode)> = ballots.iter().map(|(l, _, c)| (*l, *c)).collect();
    let results = verify_ballots_v2(ctx, ballots.into_iter().map(|(_, b, _)| b).collect(), &mut OsRng);
    let (mut ids, mut codes, mut alphas) = (HashSet::new(), HashSet::new(), HashSet::new());
    for ((line_no, code), r) in lines.iter().zip(results) {
        let v = r.map_err(|e| Refused(format!("board line {line_no}: ballot invalid: {e}")))?;
        if v.tracking_code() != code {
            refuse!("board line {line_no}: the tracking code is not the ballot's");
        }
        let b = v.ballot();
        let fresh = alphas.insert(*b.cred.alpha.as_bytes()) && alphas.insert(*b.tbase.alpha.as_bytes());
        if !ids.insert(b.ballot_id) || !codes.insert(*code) || !fresh {
            refuse!("board line {line_no}: ballot id, tracking code or encrypted credential repeated");
        }
    }

    // Every style's transcript, against the rows of the board up to the input head.
    let Some(&(input_size, _, _)) = filtered.first() else {
        refuse!("the board has no `filtered` entry: the filter has not run");
    };
    if !record.tree_heads.iter().any(|h| h.head.size == input_size as u64) {
        refuse!("no signed tree head covers exactly the board before the first `filtered` entry (the input head)");
    }
    let styles = style_inputs(package, entries.get(..input_size).unwrap_or(&entries))
        .map_err(|e| Refused(format!("the filter's inputs: {e}")))?;
    let mut outputs = Vec::new();
    for s in &styles {
        let mine: Vec<&(usize, String, FileRef)> = filtered.iter().filter(|(_, st, _)| *st == s.style).collect();
        let entry = match (mine.as_slice(), s.has_rows()) {
            ([], false) => continue,
            ([one], true) => *one,
            (_, true) => refuse!("style {:?}: it needs exactly one `filtered` entry", s.style),
            (_, false) => refuse!("style {:?} has no ballot but a `filtered` entry", s.style),
        };
        let name = transcript_path(s.index);
        let bytes = files(&name)?;
        if FileRef::of(&bytes) != entry.2 {
            refuse!("{name}: not the file the board's `filtered` entry (line {}) binds", entry.0 + 1);
        }
        let t = FilterTranscript::from_json(&bytes).map_err(|e| Refused(format!("{name}: {e}")))?;
        let f = verify_style(package, verification_keys, s, &t, &mut OsRng)
            .map_err(|e| Refused(format!("{name}: the filter of style {:?} does not verify: {e}", s.style)))?;
        outputs.push(StyleOutput::verified(package, s, &f).map_err(|e| Refused(format!("{name}: {e}")))?);
    }
    if let Some((n, style, _)) = filtered.iter().find(|(_, st, _)| !styles.iter().any(|s| s.style == *st)) {
        refuse!("board line {}: a `filtered` entry of style {style:?}, which the manifest does not have", n + 1);
    }
    let totals = filtered_totals(package, &styles, &outputs).map_err(|e| Refused(format!("totals: {e}")))?;
    let counted = outputs.iter().map(|o| o.counted).sum::<u64>();
    let counted = usize::try_from(counted).map_err(|_| Refused("counted out of range".into()))?;
    let ballots = lines.len();
    Ok((totals, Counts { ballots, counted, superseded: ballots.saturating_sub(counted) }))
}
