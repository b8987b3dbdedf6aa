//! The e-voter credential list (issue 8, docs/protocol/09-credentials.md §How credentials bind
//! ballots, step 3): what the board's first entry will hold once the application deadline passes.

use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::error::ApiError;
use crate::schema::evoter_credentials;

/// Active credentials of a campaign as `(hex, ballot style)`, sorted by the 32-byte encoding
/// (lowercase hex sorts the same way), without duplicates (a unique index guarantees it).
pub fn active_credentials(c: &mut AnyConnection, campaign_id: &str) -> Result<Vec<(String, String)>, ApiError> {
    let mut rows: Vec<(String, String)> = evoter_credentials::table
        .filter(evoter_credentials::campaign_id.eq(campaign_id))
        .filter(evoter_credentials::status.eq("active"))
        .select((evoter_credentials::public_key, evoter_credentials::ballot_style))
        .load(c)?;
    // Sorted here, bytewise, not by the database's collation.
    rows.sort();
    Ok(rows)
}

/// The `credential_list` board entry (docs/protocol/10-board.md §Entries):
/// `{"type": "credential_list", "credentials": [{"credential", "style"}], "count"}`.
/// Freezing (at the deadline, as the board's first entry, signed by the commission) comes with the
/// board.
pub fn credential_list_entry(c: &mut AnyConnection, campaign_id: &str) -> Result<serde_json::Value, ApiError> {
    let items: Vec<serde_json::Value> = active_credentials(c, campaign_id)?
        .into_iter()
        .map(|(credential, style)| serde_json::json!({ "credential": credential, "style": style }))
        .collect();
    Ok(serde_json::json!({ "type": "credential_list", "count": items.len(), "credentials": items }))
}
