//! The public election record (`docs/record-format.md` §Election record): `record.json` and
//! `board.jsonl`, served after closing (`GET /api/v1/campaigns/{id}/record` and
//! `…/record/board.jsonl`) and written by `dobush-server export-record --campaign ID --out DIR`.
//!
//! Before the results are combined and the protocol is signed the record is *partial*: its
//! `decryption_shares`, `results` and `protocol` hold what exists so far (possibly nothing). The
//! record itself carries no marker (writers emit no unknown fields); the HTTP answer says so in
//! the header `Dobush-Record-Status: partial|complete`, the command line on standard error.
//!
//! A v2 campaign (13-revoting.md) is exported the same way once closed, with its filter
//! transcripts as `filter/<i>.json` (`crate::filter`): its encrypted totals are the filter's
//! output, empty until every style with a ballot is filtered.

use std::path::Path;

use anyhow::Context;
use dobush_crypto::record::{ElectionRecord, RECORD_VERSION};

use crate::db::AnyConnection;
use crate::domain::CampaignState;
use crate::error::ApiError;
use crate::models::load_campaign;

/// A built record.
#[derive(Debug, Clone)]
pub struct RecordExport {
    /// `record.json`.
    pub record: ElectionRecord,
    /// `board.jsonl`: every entry line followed by `\n`.
    pub board: String,
    /// True once the results are combined and the protocol is signed.
    pub complete: bool,
    /// The filter transcripts of a v2 campaign: (`filter/<i>.json`, the file's text), one per
    /// `filtered` entry (docs/record-format.md §Filter transcript).
    pub filter_files: Vec<(String, String)>,
}

impl RecordExport {
    /// `partial` or `complete`.
    pub fn status(&self) -> &'static str {
        record_status(self.complete)
    }
}

/// The record's status as the header `Dobush-Record-Status` says it: `partial` or `complete`.
pub fn record_status(complete: bool) -> &'static str {
    if complete { "complete" } else { "partial" }
}

/// Builds the record of a closed campaign, both files (409 `not_closed` before, 409
/// `totals_mismatch` if the closing refused to publish the totals).
pub fn build_record(c: &mut AnyConnection, campaign: &str) -> Result<RecordExport, ApiError> {
    let (record, complete) = election_record(c, campaign)?;
    let board = board_jsonl(c, campaign)?;
    // one `filtered` entry per style (the server accepts no second one), so the
    // `filter/<i>.<board index>.json` form of record-format.md never arises
    let filter_files = crate::filter::transcripts(c, campaign)?
        .into_iter()
        .map(|(style, _, body)| (dobush_crypto::filter::run::board::transcript_path(style), body))
        .collect();
    Ok(RecordExport { record, board, complete, filter_files })
}

/// `board.jsonl` of a campaign: every entry line followed by `\n`.
pub fn board_jsonl(c: &mut AnyConnection, campaign: &str) -> Result<String, ApiError> {
    let lines = crate::board_log::load_lines(c, campaign)?;
    let mut board = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
    for l in &lines {
        board.push_str(l);
        board.push('\n');
    }
    Ok(board)
}

/// `record.json` of a closed campaign without reading the board's entries (they are in
/// `board.jsonl`), and whether it is complete; refusals as [`build_record`].
pub fn election_record(c: &mut AnyConnection, campaign: &str) -> Result<(ElectionRecord, bool), ApiError> {
    let row = load_campaign(c, campaign)?;
    let st = row.state()?;
    if !matches!(st, CampaignState::Closed | CampaignState::Tallied | CampaignState::ProtocolSigned) {
        return Err(ApiError::conflict(
            "not_closed",
            format!("the election record is published after voting closes (the campaign is in state {})", st.as_str()),
        ));
    }
    let election = crate::package::load_election(c, campaign)?;
    let encrypted_totals = match crate::close::totals::published_totals(c, campaign) {
        // a v2 campaign's totals exist once every style is filtered (`crate::filter`)
        Err(ApiError::Conflict { code: crate::close::totals::V2_NOT_TALLIED, .. })
            if election.package.parameters.is_v2() =>
        {
            Vec::new()
        }
        other => other?,
    };
    let tree_heads = crate::board_log::load_heads(c, campaign, election.package.base_hash)?;
    let ceremony = crate::tally::ceremony_transcript(c, campaign)?.unwrap_or_default();
    let decryption_shares = crate::tally::load_shares(c, campaign)?;
    let results = crate::tally::load_results(c, campaign)?;
    let protocol = crate::election_protocol::signed_protocol(c, campaign)?;
    let complete = results.is_some() && protocol.is_some() && st == CampaignState::ProtocolSigned;
    let record = ElectionRecord {
        version: RECORD_VERSION.into(),
        package: election.package,
        tree_heads,
        encrypted_totals,
        ceremony,
        decryption_shares,
        results: results.unwrap_or_default(),
        protocol,
    };
    Ok((record, complete))
}

/// Writes `record.json` (pretty), `board.jsonl` and the filter transcripts into `dir` (created).
pub fn write_record(export: &RecordExport, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let json = serde_json::to_vec_pretty(&export.record)?;
    if !export.filter_files.is_empty() {
        std::fs::create_dir_all(dir.join("filter")).with_context(|| format!("creating {}/filter", dir.display()))?;
    }
    let files = [("record.json", json.as_slice()), ("board.jsonl", export.board.as_bytes())]
        .into_iter()
        .chain(export.filter_files.iter().map(|(name, body)| (name.as_str(), body.as_bytes())));
    for (name, bytes) in files {
        let path = dir.join(name);
        let tmp = dir.join(format!("{name}.part"));
        std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
