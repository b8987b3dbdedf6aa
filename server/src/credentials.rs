//! The e-voter credential list (docs/protocol/09-credentials.md §How credentials bind
//! ballots, step 3): what the board's first entry holds, and the commission members' signatures
//! over it (the board's second entry), signed by commission members once the list is frozen.

use diesel::prelude::*;
use dobush_crypto::election_protocol::MemberSignature;
use dobush_crypto::record::{BoardEntry, ListedCredential, credential_list_digest};
use dobush_crypto::signature::VerifyingKey;
use serde_json::json;

use crate::audit;
use crate::clock::bishkek_date;
use crate::db::{AnyConnection, is_unique_violation};
use crate::domain::CampaignState;
use crate::error::ApiError;
use crate::models::{CampaignRow, load_campaign};
use crate::schema::{board_entries, credential_list_signatures, evoter_credentials, voters};

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

/// Credentials of a campaign revoked before the board opened (a voter re-applied or withdrew;
/// docs/protocol/09-credentials.md step 2), as hex, sorted by encoding.
pub fn revoked_credentials(c: &mut AnyConnection, campaign_id: &str) -> Result<Vec<String>, ApiError> {
    let mut rows: Vec<String> = evoter_credentials::table
        .filter(evoter_credentials::campaign_id.eq(campaign_id))
        .filter(evoter_credentials::status.ne("active"))
        .select(evoter_credentials::public_key)
        .load(c)?;
    rows.sort();
    Ok(rows)
}

fn stored_key(hex: String) -> Result<VerifyingKey, ApiError> {
    serde_json::from_value(serde_json::Value::String(hex))
        .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("stored credential does not decode: {e}")))
}

/// The `credential_list` board entry and its exact bytes (docs/protocol/10-board.md §Entries).
/// Once the board is open it is the board's first entry, as frozen, whatever changed since (a
/// replacement during voting is its own `credential_replaced` entry). Before, it is the list as
/// it would be frozen now: the active credentials, sorted by encoding, with their count, and the
/// credentials revoked so far.
pub fn credential_list(c: &mut AnyConnection, campaign_id: &str) -> Result<(BoardEntry, Vec<u8>), ApiError> {
    let frozen: Option<String> = board_entries::table
        .filter(board_entries::campaign_id.eq(campaign_id))
        .filter(board_entries::idx.eq(0))
        .select(board_entries::payload)
        .first(c)
        .optional()?;
    if let Some(line) = frozen {
        let entry = serde_json::from_str(&line).map_err(|e| {
            ApiError::Unexpected(anyhow::anyhow!("board entry 0 of {campaign_id} does not decode: {e}"))
        })?;
        return Ok((entry, line.into_bytes()));
    }
    let mut credentials = Vec::new();
    for (hex, style) in active_credentials(c, campaign_id)? {
        credentials.push(ListedCredential { credential: stored_key(hex)?, style });
    }
    let revoked = revoked_credentials(c, campaign_id)?.into_iter().map(stored_key).collect::<Result<Vec<_>, _>>()?;
    let count = credentials.len() as u64;
    let entry = BoardEntry::CredentialList { credentials, count, revoked };
    let bytes = entry.to_bytes().map_err(|e| ApiError::Unexpected(e.into()))?;
    Ok((entry, bytes))
}

/// The stored signatures over exactly this list (`digest`), in the order they arrived; signatures
/// over an earlier list (before a replacement) are left out.
pub fn list_signatures(
    c: &mut AnyConnection,
    campaign_id: &str,
    digest: &[u8; 32],
) -> Result<Vec<MemberSignature>, ApiError> {
    let rows: Vec<(String, String, String)> = credential_list_signatures::table
        .filter(credential_list_signatures::campaign_id.eq(campaign_id))
        .filter(credential_list_signatures::list_digest.eq(hex::encode(digest)))
        .order(credential_list_signatures::created_at.asc())
        .select((
            credential_list_signatures::member,
            credential_list_signatures::public_key,
            credential_list_signatures::signature,
        ))
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
    // the polls open only with the pinned commission's quorum (14-commission.md §Acceptance)
    let pinned = crate::commission::pinned(c, campaign_id)?;
    crate::commission::check_act(&pinned, dobush_crypto::commission::Act::CredentialList, &digest, &signatures)?;
    Ok((entry, BoardEntry::CredentialListSigned { signatures }))
}

/// Serialises a voter's concurrent changes: a no-op UPDATE of their register row takes its row
/// lock on PostgreSQL until commit (SQLite writers are serialised by `write_transaction` anyway).
pub fn lock_voter(c: &mut AnyConnection, campaign: &str, pin: &str) -> Result<(), ApiError> {
    diesel::update(voters::table.filter(voters::campaign_id.eq(campaign)).filter(voters::pin.eq(pin)))
        .set(voters::imported_at.eq(voters::imported_at))
        .execute(c)?;
    Ok(())
}

/// Registers `key` as the voter's active credential; a key registered before (by anyone, in any
/// status) is refused with 409 `credential_in_use`.
pub fn insert_active_credential(
    c: &mut AnyConnection,
    campaign: &str,
    pin: &str,
    style: &str,
    key: &str,
    at: i64,
) -> Result<(), ApiError> {
    diesel::insert_into(evoter_credentials::table)
        .values((
            evoter_credentials::campaign_id.eq(campaign),
            evoter_credentials::pin.eq(pin),
            evoter_credentials::ballot_style.eq(style),
            evoter_credentials::public_key.eq(key),
            evoter_credentials::status.eq("active"),
            evoter_credentials::registered_at.eq(at),
            evoter_credentials::ended_at.eq(None::<i64>),
        ))
        .execute(c)
        .map_err(|e| {
            if is_unique_violation(&e) {
                ApiError::conflict("credential_in_use", "this credential was already registered; make a new one")
            } else {
                e.into()
            }
        })?;
    Ok(())
}

/// The list is frozen once the last application day (Asia/Bishkek) is over.
fn frozen(row: &CampaignRow, now: chrono::DateTime<chrono::Utc>) -> Result<bool, ApiError> {
    Ok(bishkek_date(now) > row.last_application_day()?)
}

/// 409 `applications_open` until the list is frozen.
pub fn require_frozen(row: &CampaignRow, now: chrono::DateTime<chrono::Utc>) -> Result<(), ApiError> {
    if frozen(row, now)? {
        Ok(())
    } else {
        Err(ApiError::conflict(
            "applications_open",
            format!(
                "the credential list is frozen after the last application day, {} (Asia/Bishkek)",
                row.last_application_day
            ),
        ))
    }
}

/// The list entry's exact text, its digest and the signatures over it.
pub fn current(c: &mut AnyConnection, id: &str) -> Result<(String, [u8; 32], Vec<MemberSignature>), ApiError> {
    let (_, bytes) = credential_list(c, id)?;
    let digest = credential_list_digest(id, &bytes);
    let signatures = list_signatures(c, id, &digest)?;
    let text = String::from_utf8(bytes).map_err(|e| ApiError::Unexpected(e.into()))?;
    Ok((text, digest, signatures))
}

/// Verifies a pinned member's signature (14-commission.md §Acceptance; before the package, a
/// member of the commission confirmed under dual control) over the frozen list as it stands now
/// and stores it, inside the caller's write transaction (before voting opens); audited as `credential_list.signed` by `actor`.
pub fn add_signature(
    c: &mut AnyConnection,
    id: &str,
    sig: &MemberSignature,
    actor: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<serde_json::Value, ApiError> {
    let row = load_campaign(c, id)?;
    let st = row.state()?;
    if !matches!(st, CampaignState::Registration | CampaignState::KeyCeremony | CampaignState::ManifestFrozen) {
        return Err(ApiError::conflict(
            "invalid_state",
            format!("the credential list is signed before voting opens; the campaign is in state {}", st.as_str()),
        ));
    }
    require_frozen(&row, now)?;
    let pinned = crate::commission::current(c, id)?;
    let (_, digest, _) = current(c, id)?;
    // a key pinned in the package (403 `not_a_member` otherwise), named as pinned
    let sig = &crate::commission::check_signature(&pinned, &digest, sig.public_key, sig.signature)?;
    let ts = now.timestamp();
    let public_key = hex::encode(sig.public_key);
    diesel::delete(
        credential_list_signatures::table
            .filter(credential_list_signatures::campaign_id.eq(id))
            .filter(credential_list_signatures::public_key.eq(&public_key)),
    )
    .execute(c)?;
    diesel::insert_into(credential_list_signatures::table)
        .values((
            credential_list_signatures::campaign_id.eq(id),
            credential_list_signatures::public_key.eq(&public_key),
            credential_list_signatures::member.eq(&sig.member),
            credential_list_signatures::signature.eq(hex::encode(sig.signature)),
            credential_list_signatures::list_digest.eq(hex::encode(digest)),
            credential_list_signatures::uploaded_by.eq(actor),
            credential_list_signatures::created_at.eq(ts),
        ))
        .execute(c)?;
    let details = json!({ "member": sig.member, "public_key": public_key, "digest": hex::encode(digest) });
    audit::append(c, ts, actor, "credential_list.signed", Some(id), &details)?;
    let (_, _, signatures) = current(c, id)?;
    Ok(json!({ "digest": hex::encode(digest), "signatures": signatures }))
}
