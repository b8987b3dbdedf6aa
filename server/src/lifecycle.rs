//! The campaign lifecycle (docs/server.md §Lifecycle): one action per edge of
//! `draft → test_mode → registration → key_ceremony → manifest_frozen → voting_open → closed →
//! tallied → protocol_signed`, with its checks and side effects, in the caller's write
//! transaction.

use diesel::prelude::*;
use serde_json::json;

use crate::audit;
use crate::db::AnyConnection;
use crate::domain::Action;
use crate::error::ApiError;
use crate::models::CampaignRow;
use crate::schema::{
    ballot_ciphertexts, ballots, ballots_issued, board_entries, campaigns, decryption_shares, encrypted_totals,
    evoter_credentials, key_shares, protocol_signatures, protocols, tallies, tree_heads, voters,
};

/// Deletes every piece of a campaign's test data; returns how many rows of each kind went.
pub fn erase_test_data(c: &mut AnyConnection, id: &str) -> Result<serde_json::Value, ApiError> {
    let ciphertexts =
        diesel::delete(ballot_ciphertexts::table.filter(ballot_ciphertexts::campaign_id.eq(id))).execute(c)?;
    let board = diesel::delete(board_entries::table.filter(board_entries::campaign_id.eq(id))).execute(c)?;
    let heads = diesel::delete(tree_heads::table.filter(tree_heads::campaign_id.eq(id))).execute(c)?;
    let totals = diesel::delete(encrypted_totals::table.filter(encrypted_totals::campaign_id.eq(id))).execute(c)?;
    let tally = erase_tally(c, id)?;
    let ballots_n = diesel::delete(ballots::table.filter(ballots::campaign_id.eq(id))).execute(c)?;
    let creds = diesel::delete(evoter_credentials::table.filter(evoter_credentials::campaign_id.eq(id))).execute(c)?;
    let keys = diesel::delete(key_shares::table.filter(key_shares::campaign_id.eq(id))).execute(c)?;
    let list_signatures = diesel::delete(
        crate::schema::credential_list_signatures::table
            .filter(crate::schema::credential_list_signatures::campaign_id.eq(id)),
    )
    .execute(c)?;
    let voters_n = diesel::delete(voters::table.filter(voters::campaign_id.eq(id))).execute(c)?;
    diesel::update(campaigns::table.filter(campaigns::id.eq(id)))
        .set((campaigns::election_public_key.eq(None::<String>), campaigns::manifest_hash.eq(None::<String>)))
        .execute(c)?;
    Ok(json!({
        "ballots": ballots_n, "ciphertexts": ciphertexts, "board_entries": board, "tree_heads": heads,
        "encrypted_totals": totals, "tally": tally, "credentials": creds, "key_shares": keys, "voters": voters_n,
        "credential_list_signatures": list_signatures,
    }))
}

/// Test-data erasure: issuance, the published tally, decryption shares, the protocol and its
/// signatures (commission members' keys are configuration and stay). Returns the rows deleted.
fn erase_tally(c: &mut AnyConnection, campaign: &str) -> Result<usize, ApiError> {
    Ok(diesel::delete(ballots_issued::table.filter(ballots_issued::campaign_id.eq(campaign))).execute(c)?
        + diesel::delete(tallies::table.filter(tallies::campaign_id.eq(campaign))).execute(c)?
        + diesel::delete(decryption_shares::table.filter(decryption_shares::campaign_id.eq(campaign))).execute(c)?
        + diesel::delete(protocols::table.filter(protocols::campaign_id.eq(campaign))).execute(c)?
        + diesel::delete(protocol_signatures::table.filter(protocol_signatures::campaign_id.eq(campaign)))
            .execute(c)?)
}

/// Applies one lifecycle `action` to campaign `row` inside the caller's write transaction, with
/// its checks (the voting window by `ts`) and side effects (test-data erasure, the board's
/// opening and closing, the manifest hash), and audits it as done by `actor`.
pub fn apply_transition(
    c: &mut AnyConnection,
    boards: &crate::board_log::Boards,
    row: &CampaignRow,
    action: Action,
    ts: i64,
    actor: &str,
) -> Result<(), ApiError> {
    let id = row.id.as_str();
    let from = row.state()?;
    let to = action.apply(from)?;
    match action {
        Action::OpenVoting if ts < row.opens_at || ts >= row.closes_at => {
            return Err(ApiError::conflict(
                "outside_voting_window",
                format!(
                    "voting can only be opened within the voting window, {}–{} Asia/Bishkek on {}",
                    row.window_start, row.window_end, row.voting_day
                ),
            ));
        }
        Action::CloseVoting if ts < row.closes_at => {
            return Err(ApiError::conflict(
                "voting_window_not_over",
                format!("voting closes at {} Asia/Bishkek on {}", row.window_end, row.voting_day),
            ));
        }
        Action::FreezeManifest if row.manifest.trim() == "{}" => {
            return Err(ApiError::conflict("manifest_empty", "the campaign has no manifest (contests) to freeze"));
        }
        Action::RecordTally | Action::SignProtocol => manual_transition_allowed(c, id, action)?,
        _ => {}
    }
    if matches!(action, Action::FreezeManifest | Action::OpenVoting) {
        // base context → key ceremony → manifest frozen → extended context → voting
        // (docs/protocol/README.md): both need the completed ceremony and the package built
        // from its outcome.
        crate::ceremony::store::require_complete(c, id, action.as_str())?;
        if !crate::package::installed(c, id)? {
            return Err(ApiError::conflict(
                "no_election_package",
                format!(
                    "{} needs the election package (PUT /api/campaigns/{id}/election-package) installed first",
                    action.as_str()
                ),
            ));
        }
    }
    if action == Action::EraseTestDataAndOpenRegistration {
        let counts = erase_test_data(c, id)?;
        audit::append(c, ts, actor, "campaign.test_data_erased", Some(id), &counts)?;
    }
    let update =
        diesel::update(campaigns::table.filter(campaigns::id.eq(id)).filter(campaigns::state.eq(from.as_str())))
            .set((campaigns::state.eq(to.as_str()), campaigns::updated_at.eq(ts)))
            .execute(c)?;
    if update != 1 {
        return Err(ApiError::conflict("concurrent_transition", "the campaign changed state meanwhile; reload"));
    }
    if action == Action::OpenVoting {
        boards.open_board(c, id, ts)?;
    }
    if action == Action::CloseVoting {
        boards.close_board(c, id, ts)?;
        crate::close::totals::publish_at_close(c, id, ts)?;
    }
    if action == Action::FreezeManifest {
        // the manifest hash the election context binds, so every ballot (the package's manifest is
        // the campaign's: `package::store_package`)
        let hash = hex::encode(crate::package::load_election(c, id)?.context.manifest_hash());
        diesel::update(campaigns::table.filter(campaigns::id.eq(id)))
            .set(campaigns::manifest_hash.eq(hash))
            .execute(c)?;
    }
    let details = json!({ "action": action.as_str(), "from": from.as_str(), "to": to.as_str() });
    audit::append(c, ts, actor, "campaign.transition", Some(id), &details)?;
    Ok(())
}

/// The automatic lifecycle steps (`record_tally`, `sign_protocol`): `UPDATE … WHERE state =
/// <from>` and the audit entry `campaign.transition` by `system` with `details` added.
pub fn advance(
    c: &mut AnyConnection,
    campaign: &str,
    action: Action,
    mut details: serde_json::Value,
    now_secs: i64,
) -> Result<(), ApiError> {
    let (from, to) = action.edge();
    let n =
        diesel::update(campaigns::table.filter(campaigns::id.eq(campaign)).filter(campaigns::state.eq(from.as_str())))
            .set((campaigns::state.eq(to.as_str()), campaigns::updated_at.eq(now_secs)))
            .execute(c)?;
    if n == 1 {
        details["action"] = action.as_str().into();
        details["from"] = from.as_str().into();
        details["to"] = to.as_str().into();
        crate::audit::append(c, now_secs, "system", "campaign.transition", Some(campaign), &details)?;
    }
    Ok(())
}

/// `record_tally` and `sign_protocol` by hand: only for a campaign without an election package
/// (nothing was cast electronically). With one, the campaign becomes `tallied` when the results
/// are combined and `protocol_signed` when the members' signatures reach the quorum.
pub fn manual_transition_allowed(c: &mut AnyConnection, campaign: &str, action: Action) -> Result<(), ApiError> {
    match crate::package::load_election(c, campaign) {
        Err(ApiError::Conflict { code: "no_election_key", .. }) => Ok(()),
        Err(e) => Err(e),
        Ok(_) if action == Action::RecordTally => Err(ApiError::conflict(
            "automatic_transition",
            "the campaign becomes tallied when t valid decryption shares of every total are in",
        )),
        Ok(_) => Err(ApiError::conflict(
            "automatic_transition",
            "the campaign becomes protocol_signed when the commission members' signatures reach the quorum",
        )),
    }
}
