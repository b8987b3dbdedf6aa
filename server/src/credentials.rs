//! The e-voter credential list (issue 8, docs/protocol/09-credentials.md §How credentials bind
//! ballots, step 3): what the board's first entry holds, and the commission members' signatures
//! over it (the board's second entry).

use diesel::prelude::*;

use dobush_crypto::election_protocol::MemberSignature;
use dobush_crypto::record::{BoardEntry, ListedCredential, credential_list_digest};

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

diesel::table! {
    /// Commission members' signatures over the credential list (migration
    /// `2026-11-22-000006_credential_list_signatures`).
    credential_list_signatures (campaign_id, public_key) {
        campaign_id -> Text,
        public_key -> Text,
        member -> Text,
        signature -> Text,
        list_digest -> Text,
        uploaded_by -> Text,
        created_at -> BigInt,
    }
}

/// The `credential_list` board entry as it would be frozen now (docs/protocol/10-board.md
/// §Entries): the active credentials, sorted by encoding, with their count; and its exact bytes.
pub fn credential_list(c: &mut AnyConnection, campaign_id: &str) -> Result<(BoardEntry, Vec<u8>), ApiError> {
    let mut credentials = Vec::new();
    for (hex, style) in active_credentials(c, campaign_id)? {
        let credential = serde_json::from_value(serde_json::Value::String(hex))
            .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("stored credential does not decode: {e}")))?;
        credentials.push(ListedCredential { credential, style });
    }
    let count = credentials.len() as u64;
    let entry = BoardEntry::CredentialList { credentials, count };
    let bytes = entry.to_bytes().map_err(|e| ApiError::Unexpected(e.into()))?;
    Ok((entry, bytes))
}

/// The stored signatures over exactly this list (`digest`), in the order they arrived; signatures
/// over an earlier list (before a replacement) are left out.
pub fn list_signatures(c: &mut AnyConnection, campaign_id: &str, digest: &[u8; 32]) -> Result<Vec<MemberSignature>, ApiError> {
    let rows: Vec<(String, String, String)> = credential_list_signatures::table
        .filter(credential_list_signatures::campaign_id.eq(campaign_id))
        .filter(credential_list_signatures::list_digest.eq(hex::encode(digest)))
        .order(credential_list_signatures::created_at.asc())
        .select((credential_list_signatures::member, credential_list_signatures::public_key, credential_list_signatures::signature))
        .load(c)?;
    rows.into_iter().map(|(member, pk, sig)| crate::domain::member_signature::from_row(member, &pk, &sig)).collect()
}

/// The list entry and the `credential_list_signed` entry to open the board with, or 409
/// `credential_list_unsigned` if no commission member has signed this exact list.
pub fn signed_list(c: &mut AnyConnection, campaign_id: &str) -> Result<(BoardEntry, BoardEntry), ApiError> {
    let (entry, bytes) = credential_list(c, campaign_id)?;
    let digest = credential_list_digest(campaign_id, &bytes);
    let signatures = list_signatures(c, campaign_id, &digest)?;
    if signatures.is_empty() {
        return Err(ApiError::conflict(
            "credential_list_unsigned",
            "no commission member has signed the frozen credential list as it stands now (GET /api/v1/campaigns/{id}/credential-list, then POST /api/campaigns/{id}/credential-list/signatures)",
        ));
    }
    Ok((entry, BoardEntry::CredentialListSigned { signatures }))
}
