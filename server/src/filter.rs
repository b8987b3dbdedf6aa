//! The re-voting filter's output (`docs/protocol/13-revoting.md` §6.8, §7.11): a style's filter
//! transcript is checked here against the board, round by round, with the code every member
//! runs (`dobush_crypto::filter::run::board`), and only then posted as a `filtered` board entry
//! whose record file is `filter/<style index>.json` (record-format.md §Filter transcript). Once
//! every style with a ballot has its entry, the encrypted totals TL-1 of the kept rows are
//! published (`tallies.status = published`), and the tally goes on as for v1 (07-threshold.md).
//!
//! The check is the heavy part and runs outside any write transaction ([`prepare`], then
//! [`check`]); [`accept`] appends in one short write transaction after checking again that
//! nothing it relies on changed. A transcript is self-authenticating: its proofs are against the
//! key-holders' verification keys, so only t key-holders together can make one that verifies.
//!
//! Not built yet (13-revoting.md §6.1–6.7): the run between the key-holders' machines through the
//! server's relay, signed round messages and rounds 11–12 (`dobush-filter/3`); today a complete
//! `dobush-filter/2` transcript is uploaded (`POST …/filter/transcripts`).

use diesel::prelude::*;
use dobush_crypto::filter::run::board::{StyleBoard, StyleOutput, filtered_totals, style_inputs, verify_style};
use dobush_crypto::filter::run::messages::FilterTranscript;
use dobush_crypto::group::GroupElement;
use dobush_crypto::record::{BoardEntry, FileRef};
use rand::rngs::OsRng;
use serde_json::json;

use crate::db::AnyConnection;
use crate::domain::CampaignState;
use crate::error::ApiError;
use crate::schema::{filter_transcripts, tallies};

/// The largest transcript file accepted, in bytes (a style of about 20,000 ballots at k = 5;
/// larger runs need the relay's chunked upload, 13-revoting.md §6.6).
pub const MAX_TRANSCRIPT_BYTES: usize = 256 * 1024 * 1024;

fn corrupt(what: impl std::fmt::Display) -> ApiError {
    ApiError::Unexpected(anyhow::anyhow!("filter: {what}"))
}

/// What a transcript is checked against: the campaign's package, the ceremony's verification
/// keys and every style's inputs from the board up to the filter's input head.
pub struct Prepared {
    election: crate::package::Election,
    verification_keys: Vec<GroupElement>,
    styles: Vec<StyleBoard>,
    /// The board's size when read: an [`accept`] of a board that grew by anything but
    /// `filtered` entries is refused.
    board_size: u64,
    /// The styles with a `filtered` entry when read.
    filtered: Vec<String>,
}

/// A transcript that verified.
pub struct Checked {
    style: String,
    style_index: usize,
    run: u64,
    output: StyleOutput,
    file: FileRef,
}

/// What [`accept`] did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Accepted {
    /// The style.
    pub style: String,
    /// The `filtered` entry's board index.
    pub board_index: u64,
    /// counted_s.
    pub counted: u64,
    /// The file's SHA-256 (hex) and length.
    pub transcript: FileRef,
    /// Whether every style is now filtered and the encrypted totals are published.
    pub totals_published: bool,
}

/// The board's entries, parsed, and the index of the first `filtered` one (the input head's
/// size), or its size.
fn entries(c: &mut AnyConnection, campaign: &str) -> Result<(Vec<BoardEntry>, u64), ApiError> {
    let lines = crate::board_log::load_lines(c, campaign)?;
    let entries = lines.iter().map(|l| serde_json::from_str(l).map_err(corrupt)).collect::<Result<Vec<_>, _>>()?;
    let first_filtered = entries.iter().position(|e| matches!(e, BoardEntry::Filtered { .. })).unwrap_or(entries.len());
    Ok((entries, first_filtered as u64))
}

/// Reads what a transcript of `campaign` is checked against: 409 unless the campaign is a v2
/// campaign whose board is closed and its cast verifier secret revealed.
pub fn prepare(c: &mut AnyConnection, campaign: &str) -> Result<Prepared, ApiError> {
    let st = crate::models::load_campaign(c, campaign)?.state()?;
    if st != CampaignState::Closed {
        return Err(ApiError::conflict(
            "not_closed",
            format!(
                "filter transcripts are accepted once voting is closed and before the tally (state {})",
                st.as_str()
            ),
        ));
    }
    let election = crate::package::load_election(c, campaign)?;
    if !election.package.parameters.is_v2() {
        return Err(ApiError::conflict(
            "not_v2",
            "this campaign casts v1 ballots: its totals are the board's sums, there is no filter",
        ));
    }
    let (entries, input_size) = entries(c, campaign)?;
    let filtered = entries
        .iter()
        .filter_map(|e| match e {
            BoardEntry::Filtered { style, .. } => Some(style.clone()),
            _ => None,
        })
        .collect();
    let revealed = entries
        .iter()
        .take(usize::try_from(input_size).map_err(corrupt)?)
        .any(|e| matches!(e, BoardEntry::CastVerifierRevealed { .. }));
    if !revealed {
        return Err(ApiError::conflict("not_closed", "the board is not closed with its cast verifier secret revealed"));
    }
    let Some(transcript) = crate::tally::ceremony_transcript(c, campaign)? else {
        return Err(ApiError::conflict("no_ceremony", "this campaign's key ceremony was not run through this server"));
    };
    let (_, outcome) = crate::tally::evaluate_ceremony(&election.package, &transcript).map_err(corrupt)?;
    let inputs = entries.get(..usize::try_from(input_size).map_err(corrupt)?).unwrap_or(&entries);
    let styles = style_inputs(&election.package, inputs).map_err(corrupt)?;
    Ok(Prepared {
        election,
        verification_keys: outcome.verification_keys,
        styles,
        board_size: entries.len() as u64,
        filtered,
    })
}

/// Checks a transcript file (the exact bytes to publish) against the board: strictly decoded
/// (422 field `transcript`), of a style of the manifest with a ballot (422 field `style`) and no
/// `filtered` entry yet (409 `already_filtered`, before any proof is checked), of run 1 (restarts
/// are not built: 13-revoting.md §6.7), and verified round by round (422 field `transcript`,
/// with the round and place that fail).
pub fn check(p: &Prepared, body: &[u8]) -> Result<Checked, ApiError> {
    if body.len() > MAX_TRANSCRIPT_BYTES {
        return Err(ApiError::invalid("transcript", format!("larger than {MAX_TRANSCRIPT_BYTES} bytes")));
    }
    let transcript = FilterTranscript::from_json(body).map_err(|e| ApiError::invalid("transcript", e))?;
    let Some(style) = p.styles.iter().find(|s| s.style == transcript.style) else {
        return Err(ApiError::invalid("style", format!("{:?} is not a style of the manifest", transcript.style)));
    };
    if !style.has_rows() {
        return Err(ApiError::invalid("style", "this style has no ballot: it has no filter"));
    }
    if p.filtered.contains(&style.style) {
        return Err(already_filtered(&style.style));
    }
    if transcript.run != 1 {
        return Err(ApiError::invalid(
            "transcript",
            "run: only run 1 exists until restarts are built (13-revoting.md §6.7)",
        ));
    }
    let filtered = verify_style(&p.election.package, &p.verification_keys, style, &transcript, &mut OsRng)
        .map_err(|e| ApiError::invalid("transcript", e.to_string()))?;
    let output = StyleOutput::verified(&p.election.package, style, &filtered).map_err(corrupt)?;
    Ok(Checked {
        style: style.style.clone(),
        style_index: style.index,
        run: transcript.run,
        output,
        file: FileRef::of(body),
    })
}

fn already_filtered(style: &str) -> ApiError {
    ApiError::conflict(
        "already_filtered",
        format!("style {style:?} has its filtered entry already: the first that verified counts"),
    )
}

/// Appends the `filtered` entry of a checked transcript and stores its file, in the caller's
/// write transaction; publishes the totals if every style with a ballot is now filtered. 409
/// `already_filtered` for a style that has its entry (the first that verified counts, §6.8),
/// 409 `board_changed` if the board grew by anything but `filtered` entries since [`prepare`],
/// 409 `run_order` for a run below an earlier entry's.
pub fn accept(
    c: &mut AnyConnection,
    boards: &crate::board_log::Boards,
    (campaign, actor): (&str, &str),
    p: &Prepared,
    checked: &Checked,
    body: &[u8],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Accepted, ApiError> {
    let st = crate::models::load_campaign(c, campaign)?.state()?;
    if st != CampaignState::Closed {
        return Err(ApiError::conflict("not_closed", format!("the campaign is in state {}", st.as_str())));
    }
    let (entries, _) = entries(c, campaign)?;
    let size = usize::try_from(p.board_size).map_err(corrupt)?;
    if entries.len() < size
        || entries.get(size..).into_iter().flatten().any(|e| !matches!(e, BoardEntry::Filtered { .. }))
    {
        return Err(ApiError::conflict(
            "board_changed",
            "the board changed while the transcript was checked; try again",
        ));
    }
    let existing: Vec<(String, i64)> = filter_transcripts::table
        .filter(filter_transcripts::campaign_id.eq(campaign))
        .select((filter_transcripts::style, filter_transcripts::run))
        .load(c)?;
    if existing.iter().any(|(s, _)| *s == checked.style) {
        return Err(already_filtered(&checked.style));
    }
    let run = i64::try_from(checked.run).map_err(|_| ApiError::invalid("transcript", "run out of range"))?;
    if existing.iter().any(|(_, r)| *r > run) {
        return Err(ApiError::conflict("run_order", "a later run has a filtered entry already: runs never go back"));
    }
    let text = std::str::from_utf8(body).map_err(|e| ApiError::invalid("transcript", e.to_string()))?;
    let entry = BoardEntry::Filtered { style: checked.style.clone(), transcript: checked.file };
    let index = boards.filtered(c, campaign, &entry, now)?;
    let ts = now.timestamp();
    diesel::insert_into(filter_transcripts::table)
        .values((
            filter_transcripts::campaign_id.eq(campaign),
            filter_transcripts::board_idx.eq(i64::try_from(index).map_err(corrupt)?),
            filter_transcripts::style.eq(&checked.style),
            filter_transcripts::style_index.eq(i64::try_from(checked.style_index).map_err(corrupt)?),
            filter_transcripts::run.eq(run),
            filter_transcripts::sha256.eq(hex::encode(checked.file.sha256)),
            filter_transcripts::body.eq(text),
            filter_transcripts::output.eq(checked.output.to_json()),
            filter_transcripts::created_at.eq(ts),
        ))
        .execute(c)?;
    crate::audit::append(
        c,
        ts,
        actor,
        "filter.accepted",
        Some(campaign),
        &json!({ "style": checked.style, "board_index": index, "run": checked.run, "counted": checked.output.counted,
                 "sha256": hex::encode(checked.file.sha256), "bytes": checked.file.bytes }),
    )?;
    let totals_published = publish_if_complete(c, campaign, p, ts)?;
    Ok(Accepted {
        style: checked.style.clone(),
        board_index: index,
        counted: checked.output.counted,
        transcript: checked.file,
        totals_published,
    })
}

/// The accepted transcripts of a campaign: (style index, board index, the file's text), board
/// order.
pub fn transcripts(c: &mut AnyConnection, campaign: &str) -> Result<Vec<(usize, u64, String)>, ApiError> {
    let rows: Vec<(i64, i64, String)> = filter_transcripts::table
        .filter(filter_transcripts::campaign_id.eq(campaign))
        .order(filter_transcripts::board_idx.asc())
        .select((filter_transcripts::style_index, filter_transcripts::board_idx, filter_transcripts::body))
        .load(c)?;
    rows.into_iter()
        .map(|(s, i, body)| Ok((usize::try_from(s).map_err(corrupt)?, u64::try_from(i).map_err(corrupt)?, body)))
        .collect()
}

/// What a v2 board says for the protocol's general lines (13-revoting.md §6.8): line 1 the
/// frozen list's count, line 3 Σ counted_s of the accepted transcripts, line 4 every other
/// `ballot_v2` entry (re-votes and ballots cancelled by a paper vote together: the filter does
/// not say publicly which is which), line 5 the `challenged_v2` entries. The totals are the
/// published ones.
pub fn board_count(c: &mut AnyConnection, campaign: &str) -> Result<crate::close::totals::BoardCount, ApiError> {
    let (entries, _) = entries(c, campaign)?;
    let (mut e_voters, mut cast, mut challenged, mut closed) = (0, 0u64, 0, false);
    for e in &entries {
        match e {
            BoardEntry::CredentialListV2 { count, .. } => e_voters = *count,
            BoardEntry::BallotV2 { .. } => cast += 1,
            BoardEntry::ChallengedV2 { .. } => challenged += 1,
            BoardEntry::Closed { .. } => closed = true,
            _ => {}
        }
    }
    let stored: Vec<String> = filter_transcripts::table
        .filter(filter_transcripts::campaign_id.eq(campaign))
        .select(filter_transcripts::output)
        .load(c)?;
    let counted =
        stored.iter().map(|t| StyleOutput::from_json(t).map(|o| o.counted).map_err(corrupt)).sum::<Result<u64, _>>()?;
    let superseded = cast.checked_sub(counted).ok_or_else(|| corrupt("more ballots counted than cast"))?;
    let totals = crate::close::totals::published_totals(c, campaign)?;
    Ok(crate::close::totals::BoardCount { totals, e_voters, counted, superseded, challenged, closed })
}

/// Style `index`'s accepted transcript: its SHA-256 (hex) and the file's text.
pub fn transcript(c: &mut AnyConnection, campaign: &str, index: usize) -> Result<Option<(String, String)>, ApiError> {
    let index = i64::try_from(index).map_err(corrupt)?;
    Ok(filter_transcripts::table
        .filter(filter_transcripts::campaign_id.eq(campaign))
        .filter(filter_transcripts::style_index.eq(index))
        .select((filter_transcripts::sha256, filter_transcripts::body))
        .first(c)
        .optional()?)
}

/// Publishes TL-1 of every accepted transcript's kept rows once every style with a ballot has
/// one (their proofs were checked at acceptance; the kept rows are read again from the files).
fn publish_if_complete(c: &mut AnyConnection, campaign: &str, p: &Prepared, now_secs: i64) -> Result<bool, ApiError> {
    let stored: Vec<String> = filter_transcripts::table
        .filter(filter_transcripts::campaign_id.eq(campaign))
        .select(filter_transcripts::output)
        .load(c)?;
    let outputs = stored.iter().map(|t| StyleOutput::from_json(t).map_err(corrupt)).collect::<Result<Vec<_>, _>>()?;
    let done = |s: &StyleBoard| outputs.iter().any(|o| o.index == s.index);
    if !p.styles.iter().filter(|s| s.has_rows()).all(done) {
        return Ok(false);
    }
    let totals = filtered_totals(&p.election.package, &p.styles, &outputs).map_err(corrupt)?;
    let text = serde_json::to_string(&totals).map_err(corrupt)?;
    let updated = diesel::update(
        tallies::table
            .filter(tallies::campaign_id.eq(campaign))
            .filter(tallies::status.eq(crate::close::totals::V2_NOT_TALLIED)),
    )
    .set((
        tallies::status.eq(crate::close::totals::PUBLISHED),
        tallies::board_totals.eq(&text),
        tallies::shard_totals.eq(&text),
    ))
    .execute(c)?;
    if updated != 1 {
        return Err(corrupt("the closed v2 campaign has no tally row awaiting the filter"));
    }
    let counted: u64 = outputs.iter().map(|o| o.counted).sum();
    crate::audit::append(
        c,
        now_secs,
        "system",
        "tally.totals_published",
        Some(campaign),
        &json!({ "counted": counted }),
    )?;
    Ok(true)
}
