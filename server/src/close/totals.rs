//! At closing ([`publish_at_close`], in the closing transaction) the server sums the shards
//! (`crate::close::shards`), recomputes the totals from the board itself (every `ballot` entry,
//! the re-vote rule `record::counted_ballots` with the board's credential replacements), and
//! compares. Equal: the totals are published (`tallies.status = 'published'`,
//! `GET /api/v1/campaigns/{id}/totals`). Different: nothing is published (`status = 'mismatch'`,
//! the endpoint answers 409 `totals_mismatch`) and an alert `tally_mismatch` is raised with both
//! values in the audit log. The board is closed either way.

use diesel::prelude::*;
use dobush_crypto::ballot::{EncryptedBallot, TrackingCode};
use dobush_crypto::context::ElectionContext;
use dobush_crypto::parameters::ReVotePolicy;
use dobush_crypto::record::{BoardEntry, counted_ballots};
use dobush_crypto::signature::VerifyingKey;
use dobush_crypto::tally::{ContestTotals, EncryptedTally};
use serde_json::json;

use crate::db::AnyConnection;
use crate::error::ApiError;
use crate::schema::tallies;

fn corrupt(what: impl std::fmt::Display) -> ApiError {
    ApiError::Unexpected(anyhow::anyhow!("totals: {what}"))
}

/// What the board says: its totals recomputed, and the counts of the protocol's general lines
/// that come from the board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardCount {
    /// The encrypted totals of the counted ballots.
    pub totals: Vec<ContestTotals>,
    /// The frozen credential list's `count` (protocol line 1).
    pub e_voters: u64,
    /// Counted ballots (line 3).
    pub counted: u64,
    /// Superseded ballots (line 4).
    pub superseded: u64,
    /// Challenged ballots (line 5).
    pub challenged: u64,
    /// Whether the board holds the `closed` entry.
    pub closed: bool,
}

/// Recomputes the totals from the board's lines (the ballots were verified when accepted; the
/// board is the server's own): the re-vote rule over the `ballot` entries, with the credential
/// replacements, then the sums of the counted ballots.
pub fn count_board(ctx: &ElectionContext, policy: ReVotePolicy, lines: &[String]) -> Result<BoardCount, ApiError> {
    let mut ballots: Vec<EncryptedBallot> = Vec::new();
    let mut pairs: Vec<(VerifyingKey, TrackingCode)> = Vec::new();
    let mut replacements = Vec::new();
    let (mut e_voters, mut challenged, mut closed) = (0, 0, false);
    for line in lines {
        let entry: BoardEntry = serde_json::from_str(line).map_err(corrupt)?;
        match entry {
            BoardEntry::CredentialList { count, .. } | BoardEntry::CredentialListV2 { count, .. } => e_voters = count,
            BoardEntry::CredentialReplaced { old, new, .. } => replacements.push((old, new)),
            BoardEntry::Ballot { ballot, tracking_code } => {
                pairs.push((ballot.credential, tracking_code));
                ballots.push(ballot);
            }
            BoardEntry::Challenged { .. } => challenged += 1,
            BoardEntry::BallotV2 { .. }
            | BoardEntry::ChallengedV2 { .. }
            | BoardEntry::CredentialReplacedV2 { .. }
            | BoardEntry::Filtered { .. } => {
                return Err(ApiError::conflict(V2_NOT_TALLIED, V2_NOT_TALLIED_MESSAGE));
            }
            BoardEntry::Closed { .. } => closed = true,
            BoardEntry::Opened { .. }
            | BoardEntry::CredentialListSigned { .. }
            | BoardEntry::Superseded { .. }
            | BoardEntry::CastVerifierRevealed { .. }
            | BoardEntry::WebAssets { .. } => {}
        }
    }
    let (counted, superseded) = counted_ballots(policy, &pairs, &replacements).map_err(corrupt)?;
    let mut tally = EncryptedTally::new(ctx);
    for i in &counted {
        let b = ballots.get(*i).ok_or_else(|| corrupt("counted index out of range"))?;
        tally.add_stored(b).map_err(corrupt)?;
    }
    Ok(BoardCount {
        totals: tally.totals().map_err(corrupt)?,
        e_voters,
        counted: counted.len() as u64,
        superseded: superseded.len() as u64,
        challenged,
        closed,
    })
}

/// `tallies.status` values.
pub const PUBLISHED: &str = "published";
/// `tallies.status` when the shards and the board disagree.
pub const MISMATCH: &str = "mismatch";
/// `tallies.status` of a closed v2 campaign: its ballots are counted only through the filter
/// (13-revoting.md §7), which the server does not run yet, so no totals exist.
pub const V2_NOT_TALLIED: &str = "v2_not_tallied";
const V2_NOT_TALLIED_MESSAGE: &str = "this campaign casts v2 ballots (encrypted credentials), which are counted only \
     through the re-voting filter; the filter is not implemented yet, so no totals are computed";

/// Inside the closing transaction, after the board's `closed` entry: compares the shards with
/// the board and publishes the totals, or refuses to and raises an alert. Returns the status
/// (`None` for a campaign without an election package: nothing was cast). The re-vote rule is
/// the package's (bound by its extended hash), never the campaign row's.
pub fn publish_at_close(
    c: &mut AnyConnection,
    campaign: &str,
    now_secs: i64,
) -> Result<Option<&'static str>, ApiError> {
    let election = match crate::package::load_election(c, campaign) {
        Ok(e) => e,
        Err(ApiError::Conflict { code: "no_election_key", .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    if election.package.parameters.is_v2() {
        // summing every v2 ballot would count a re-vote twice: refuse to make totals at all
        diesel::delete(tallies::table.filter(tallies::campaign_id.eq(campaign))).execute(c)?;
        diesel::insert_into(tallies::table)
            .values((
                tallies::campaign_id.eq(campaign),
                tallies::status.eq(V2_NOT_TALLIED),
                tallies::board_totals.eq("[]"),
                tallies::shard_totals.eq("[]"),
                tallies::closed_at.eq(now_secs),
            ))
            .execute(c)?;
        crate::audit::append(c, now_secs, "system", "tally.v2_not_tallied", Some(campaign), &json!({}))?;
        return Ok(Some(V2_NOT_TALLIED));
    }
    let lines = crate::board_log::load_lines(c, campaign)?;
    let board = count_board(&election.context, election.package.parameters.re_vote.policy, &lines)?;
    let (shards, shard_ballots) = super::shards::shard_totals(c, campaign, &election.context)?;
    let board_text = serde_json::to_string(&board.totals).map_err(corrupt)?;
    let shard_text = serde_json::to_string(&shards).map_err(corrupt)?;
    let equal = board.totals == shards && i64::try_from(board.counted).ok() == Some(shard_ballots);
    let status = if equal { PUBLISHED } else { MISMATCH };
    diesel::delete(tallies::table.filter(tallies::campaign_id.eq(campaign))).execute(c)?;
    diesel::insert_into(tallies::table)
        .values((
            tallies::campaign_id.eq(campaign),
            tallies::status.eq(status),
            tallies::board_totals.eq(&board_text),
            tallies::shard_totals.eq(&shard_text),
            tallies::closed_at.eq(now_secs),
        ))
        .execute(c)?;
    if equal {
        crate::audit::append(
            c,
            now_secs,
            "system",
            "tally.totals_published",
            Some(campaign),
            &json!({ "counted": board.counted, "superseded": board.superseded, "challenged": board.challenged }),
        )?;
    } else {
        crate::audit::raise_alert(
            c,
            now_secs,
            "tally.totals_mismatch",
            "tally_mismatch",
            campaign,
            "the encrypted totals kept at cast time differ from those recomputed from the board; nothing was published",
            &json!({ "board": board.totals, "board_counted": board.counted, "shards": shards, "shard_ballots": shard_ballots }),
        )?;
    }
    Ok(Some(status))
}

/// The published encrypted totals: 409 before closing, 409 `totals_mismatch` if the closing
/// found the shards and the board to differ.
pub fn published_totals(c: &mut AnyConnection, campaign: &str) -> Result<Vec<ContestTotals>, ApiError> {
    let row: Option<(String, String)> = tallies::table
        .filter(tallies::campaign_id.eq(campaign))
        .select((tallies::status, tallies::board_totals))
        .first(c)
        .optional()?;
    match row {
        None => Err(ApiError::conflict("not_closed", "the encrypted totals are published when voting closes")),
        Some((status, _)) if status == V2_NOT_TALLIED => {
            Err(ApiError::conflict(V2_NOT_TALLIED, V2_NOT_TALLIED_MESSAGE))
        }
        Some((status, _)) if status != PUBLISHED => Err(ApiError::conflict(
            "totals_mismatch",
            "the totals kept at cast time differ from the board's; they are not published (an alert was raised)",
        )),
        Some((_, text)) => serde_json::from_str(&text).map_err(corrupt),
    }
}
