//! The e-voter credential list (docs/protocol/09-credentials.md §How credentials bind
//! ballots, step 3): what the board's first entry holds, and the commission members' signatures
//! over it (the board's second entry), signed by commission members once the list is frozen.

use diesel::prelude::*;
use dobush_crypto::election_protocol::MemberSignature;
use dobush_crypto::record::{BoardEntry, ListedCredential, ListedCredentialV2, list_digest_of};
use dobush_crypto::signature::{Signature, VerifyingKey};
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

/// The `credential_list` board entry and its exact bytes (docs/protocol/10-board.md §Entries),
/// or in a v2 campaign the `credential_list_v2` entry (13-revoting.md §4.2). Once the board is
/// open it is the board's first entry, as frozen, whatever changed since (a replacement during
/// voting is its own `credential_replaced` entry). Before, it is the list as it would be frozen
/// now: the active credentials, sorted by encoding, with their count, and the credentials
/// revoked so far (v2: their number only, and each credential's PIN commitment).
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
    let entry = if package_format_v2(c, campaign_id)? == Some(true) {
        credential_list_v2(c, campaign_id)?
    } else {
        let mut credentials = Vec::new();
        for (hex, style) in active_credentials(c, campaign_id)? {
            credentials.push(ListedCredential { credential: stored_key(hex)?, style });
        }
        let revoked =
            revoked_credentials(c, campaign_id)?.into_iter().map(stored_key).collect::<Result<Vec<_>, _>>()?;
        let count = credentials.len() as u64;
        BoardEntry::CredentialList { credentials, count, revoked }
    };
    let bytes = entry.to_bytes().map_err(|e| ApiError::Unexpected(e.into()))?;
    Ok((entry, bytes))
}

/// The v2 list as it would be frozen now (13-revoting.md §4.2): every active credential with its
/// style and PIN commitment, sorted by encoding; `stations` empty (overrides are not built); the
/// number of credentials revoked or withdrawn so far, never which.
fn credential_list_v2(c: &mut AnyConnection, campaign_id: &str) -> Result<BoardEntry, ApiError> {
    let mut rows: Vec<(String, String, Option<String>)> = evoter_credentials::table
        .filter(evoter_credentials::campaign_id.eq(campaign_id))
        .filter(evoter_credentials::status.eq("active"))
        .select((evoter_credentials::public_key, evoter_credentials::ballot_style, evoter_credentials::pin_commitment))
        .load(c)?;
    rows.sort();
    let mut credentials = Vec::with_capacity(rows.len());
    for (hex, style, pc) in rows {
        let mut pin_commitment = [0u8; 32];
        // a v2 package is installed only with every active credential bound (`require_all_bound`)
        pc.and_then(|pc| hex::decode_to_slice(pc, &mut pin_commitment).ok()).ok_or_else(|| {
            ApiError::Unexpected(anyhow::anyhow!(
                "an active credential of v2 campaign {campaign_id} has no PIN commitment"
            ))
        })?;
        credentials.push(ListedCredentialV2 {
            credential: stored_key(hex)?,
            style,
            pin_commitment,
            stations: Vec::new(),
        });
    }
    let revoked_count: i64 = evoter_credentials::table
        .filter(evoter_credentials::campaign_id.eq(campaign_id))
        .filter(evoter_credentials::status.ne("active"))
        .count()
        .get_result(c)?;
    let count = credentials.len() as u64;
    Ok(BoardEntry::CredentialListV2 { credentials, count, revoked_count: revoked_count.unsigned_abs() })
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
    let digest = list_digest_of(campaign_id, &entry, &bytes);
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

/// What a v2 application sends besides the credential (13-revoting.md §3.3): the PIN
/// commitment, the salt and the binding, unchecked.
pub type RegistrationParts = ([u8; 32], [u8; 32], Signature);

/// A v2 application's PIN commitment, salt and registration binding (13-revoting.md §3.3),
/// checked by [`check_registration`] for the logged-in voter's PIN, and the base hash it was
/// checked under. Stored with the credential; only the PIN commitment is ever published.
#[derive(Clone, Debug)]
pub struct Registration {
    /// pc = SHA-256("dobush/v2/pin-commitment" ‖ salt ‖ PIN).
    pub pin_commitment: [u8; 32],
    /// The application's salt.
    pub salt: [u8; 32],
    /// The credential's signature over the binding.
    pub binding: Signature,
    /// The base hash the binding was checked under.
    pub base_hash: [u8; 32],
    /// The decision the binding names (`""` at application).
    pub decision: String,
}

/// The ballot format of a campaign as far as it is decided: `Some(true)` once a v2 package is
/// installed, `Some(false)` once a v1 package is, `None` before any package.
pub fn package_format_v2(c: &mut AnyConnection, campaign: &str) -> Result<Option<bool>, ApiError> {
    Ok(crate::commission::installed_package(c, campaign)?.map(|p| p.parameters.is_v2()))
}

/// Whether a campaign's credentials are treated as v2 by the public endpoints (13-revoting.md
/// §4.4): its package is v2, or before any package some voter applied with a binding.
pub fn treated_as_v2(c: &mut AnyConnection, campaign: &str) -> Result<bool, ApiError> {
    if let Some(v2) = package_format_v2(c, campaign)? {
        return Ok(v2);
    }
    let bound: i64 = evoter_credentials::table
        .filter(evoter_credentials::campaign_id.eq(campaign))
        .filter(evoter_credentials::binding_base_hash.is_not_null())
        .count()
        .get_result(c)?;
    Ok(bound > 0)
}

/// The base hash a registration binding is checked under: the installed package's, or before it
/// the key ceremony's once every key-holder registered; 409 `base_context_not_fixed` before that.
pub fn binding_base_hash(c: &mut AnyConnection, campaign: &str) -> Result<[u8; 32], ApiError> {
    if let Some(p) = crate::commission::installed_package(c, campaign)? {
        return Ok(p.base_hash);
    }
    crate::ceremony::store::load(c, campaign)?.and_then(|x| x.base_hash).ok_or_else(|| {
        ApiError::conflict(
            "base_context_not_fixed",
            "a v2 application binds the election's base context, which is fixed once every key-holder has registered; apply again then",
        )
    })
}

/// Checks a v2 registration (13-revoting.md §3.3) of `credential` for the voter `pin` of
/// `campaign`, ballot style `style` and `decision` (`""` at application): the salt and PIN give
/// the PIN commitment and the credential signed the binding under the campaign's base hash. 422
/// `invalid_field` (`binding` or `pin_commitment`) otherwise; 409 `pin_commitment_in_use` for a
/// PIN commitment registered before in this campaign.
pub fn check_registration(
    c: &mut AnyConnection,
    (campaign, pin, style, decision): (&str, &str, &str, &str),
    credential: &VerifyingKey,
    (pin_commitment, salt, binding): RegistrationParts,
) -> Result<Registration, ApiError> {
    use dobush_crypto::ballot_v2::registration::{BindingStatement, Pin, RegistrationError, verify_binding};
    let base_hash = binding_base_hash(c, campaign)?;
    let pin = Pin::parse(pin).map_err(|e| ApiError::invalid("pin", e.to_string()))?;
    let st = BindingStatement { base_hash: &base_hash, campaign, pin: &pin, salt: &salt, style, decision, credential };
    verify_binding(&st, &binding, &pin_commitment).map_err(|e| match e {
        RegistrationError::PinCommitment => ApiError::invalid(
            "pin_commitment",
            "the salt and your PIN do not give this PIN commitment (13-revoting.md §3.3)",
        ),
        e => ApiError::invalid(
            "binding",
            format!("the registration binding is not the credential's signature for your PIN, this campaign, your ballot style and the decision: {e}"),
        ),
    })?;
    let used: i64 = evoter_credentials::table
        .filter(evoter_credentials::campaign_id.eq(campaign))
        .filter(evoter_credentials::pin_commitment.eq(hex::encode(pin_commitment)))
        .count()
        .get_result(c)?;
    if used > 0 {
        return Err(ApiError::conflict(
            "pin_commitment_in_use",
            "this PIN commitment was registered before in this campaign; draw a new salt",
        ));
    }
    Ok(Registration { pin_commitment, salt, binding, base_hash, decision: decision.to_owned() })
}

/// Registers `key` as the voter's active credential, with its v2 registration if any; a key
/// registered before (by anyone, in any status) is refused with 409 `credential_in_use`.
pub fn insert_active_credential(
    c: &mut AnyConnection,
    (campaign, pin, style): (&str, &str, &str),
    key: &str,
    registration: Option<&Registration>,
    at: i64,
) -> Result<(), ApiError> {
    let binding = registration
        .map(|r| serde_json::to_string(&r.binding))
        .transpose()
        .map_err(|e| ApiError::Unexpected(e.into()))?;
    diesel::insert_into(evoter_credentials::table)
        .values((
            evoter_credentials::campaign_id.eq(campaign),
            evoter_credentials::pin.eq(pin),
            evoter_credentials::ballot_style.eq(style),
            evoter_credentials::public_key.eq(key),
            evoter_credentials::status.eq("active"),
            evoter_credentials::registered_at.eq(at),
            evoter_credentials::ended_at.eq(None::<i64>),
            evoter_credentials::pin_commitment.eq(registration.map(|r| hex::encode(r.pin_commitment))),
            evoter_credentials::pin_salt.eq(registration.map(|r| hex::encode(r.salt))),
            evoter_credentials::registration_binding.eq(binding),
            evoter_credentials::binding_base_hash.eq(registration.map(|r| hex::encode(r.base_hash))),
            evoter_credentials::binding_decision.eq(registration.map(|r| r.decision.as_str())),
        ))
        .execute(c)
        .map_err(|e| {
            if is_unique_violation(&e) {
                ApiError::conflict(
                    "credential_in_use",
                    "this credential (or PIN commitment) was already registered; make a new one",
                )
            } else {
                e.into()
            }
        })?;
    Ok(())
}

/// 409 `credentials_unbound` unless every active credential of `campaign` carries a v2
/// registration checked under `base_hash` (a v2 package is installed only then: its list names
/// a PIN commitment for every credential, 13-revoting.md §4.2).
pub fn require_all_bound(c: &mut AnyConnection, campaign: &str, base_hash: &[u8; 32]) -> Result<(), ApiError> {
    let unbound: i64 = evoter_credentials::table
        .filter(evoter_credentials::campaign_id.eq(campaign))
        .filter(evoter_credentials::status.eq("active"))
        .filter(
            evoter_credentials::binding_base_hash
                .is_null()
                .or(evoter_credentials::binding_base_hash.ne(hex::encode(base_hash))),
        )
        .count()
        .get_result(c)?;
    if unbound > 0 {
        return Err(ApiError::conflict(
            "credentials_unbound",
            format!(
                "{unbound} e-voter(s) applied without a registration binding under this election's base context; a v2 package needs every e-voter to re-apply with one (13-revoting.md §3.3)"
            ),
        ));
    }
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
    let (entry, bytes) = credential_list(c, id)?;
    let digest = list_digest_of(id, &entry, &bytes);
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
