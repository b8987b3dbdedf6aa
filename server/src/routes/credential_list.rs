//! The frozen credential list and the commission's signatures over it (issue 8;
//! docs/protocol/10-board.md §Credential list signatures).
//!
//! After the application deadline anyone can read the list exactly as the board will hold it
//! (`GET /api/v1/campaigns/{id}/credential-list`). Commission members sign its digest on their
//! own computers (`dobush-key-holders sign-list`) and a commission administrator uploads each
//! signature (`POST /api/campaigns/{id}/credential-list/signatures`); the server verifies it
//! against the list as it stands and never holds a member's key. Opening the polls posts the
//! list and the signatures over that exact list as the board's first two entries, and is refused
//! without one.

use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;
use dobush_crypto::election_protocol::MemberSignature;
use dobush_crypto::record::credential_list_digest;
use serde::Deserialize;
use serde_json::json;

use crate::audit;
use crate::auth::extract::{Session, require_staff};
use crate::clock::bishkek_date;
use crate::credentials::{credential_list, list_signatures};
use crate::db::AnyConnection;
use crate::domain::member_signature::hex_field;
use crate::domain::{CampaignState, Role, text};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::models::{CampaignRow, load_campaign};
use crate::schema::credential_list_signatures;
use crate::state::AppState;

/// `GET /{id}/credential-list` under `/api/v1/campaigns` (public).
pub fn configure_public(cfg: &mut web::ServiceConfig) {
    cfg.route("/{id}/credential-list", web::get().to(show));
}

/// `POST /{id}/credential-list/signatures` under `/api/campaigns` (commission staff).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/{id}/credential-list/signatures", web::post().to(upload));
}

/// The list is frozen once the last application day (Asia/Bishkek) is over.
fn frozen(row: &CampaignRow, now: chrono::DateTime<chrono::Utc>) -> Result<bool, ApiError> {
    Ok(bishkek_date(now) > row.last_application_day()?)
}

fn require_frozen(row: &CampaignRow, now: chrono::DateTime<chrono::Utc>) -> Result<(), ApiError> {
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
fn current(c: &mut AnyConnection, id: &str) -> Result<(String, [u8; 32], Vec<MemberSignature>), ApiError> {
    let (_, bytes) = credential_list(c, id)?;
    let digest = credential_list_digest(id, &bytes);
    let signatures = list_signatures(c, id, &digest)?;
    let text = String::from_utf8(bytes).map_err(|e| ApiError::Unexpected(e.into()))?;
    Ok((text, digest, signatures))
}

async fn show(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let now = state.clock.now();
    let body = state
        .db
        .run(move |c| {
            let row = load_campaign(c, &id)?;
            require_frozen(&row, now)?;
            let (entry, digest, signatures) = current(c, &id)?;
            Ok(json!({
                "campaign_id": id,
                "entry": entry,
                "digest": hex::encode(digest),
                "signatures": signatures,
            }))
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignatureRequest {
    /// The member's name and role as printed.
    member: String,
    /// 64 hex digits: the member's Ed25519 public key.
    public_key: String,
    /// 128 hex digits: the signature over the list digest.
    signature: String,
}

async fn upload(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: ApiJson<SignatureRequest>,
) -> Result<HttpResponse, ApiError> {
    require_staff(&state, &req, &session, &[Role::CecAdmin, Role::TecAdmin]).await?;
    let b = body.0;
    let member = text::name(&b.member, 200).map_err(|e| ApiError::invalid("member", e))?;
    let public_key: [u8; 32] = hex_field("public_key", &b.public_key)?;
    let signature: [u8; 64] = hex_field("signature", &b.signature)?;
    let id = path.into_inner();
    let now = state.clock.now();
    let actor = session.pin.as_str().to_string();
    let sig = MemberSignature { member, public_key, signature };
    let body = state.db.write(move |c| add_signature(c, &id, &sig, &actor, now)).await?;
    Ok(HttpResponse::Ok().json(body))
}

/// Verifies a member's signature over the frozen list as it stands now and stores it, inside the
/// caller's write transaction (before voting opens); audited as `credential_list.signed` by `actor`.
pub(crate) fn add_signature(
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
    let (_, digest, _) = current(c, id)?;
    sig.verify_digest(&digest).map_err(|e| {
        ApiError::invalid(
            "signature",
            format!("{e}: it must sign the digest {} of the list as it stands now", hex::encode(digest)),
        )
    })?;
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
