//! The frozen credential list and the commission's signatures over it (docs/protocol/10-board.md
//! §Credential list signatures).
//!
//! After the application deadline anyone can read the list exactly as the board will hold it
//! (`GET /api/v1/campaigns/{id}/credential-list`). Commission members sign its digest on their
//! own computers (`dobush-key-holders sign-list`) and a commission administrator uploads each
//! signature (`POST /api/campaigns/{id}/credential-list/signatures`); the server verifies it
//! against the list as it stands and never holds a member's key. Opening the polls posts the
//! list and the signatures over that exact list as the board's first two entries, and is refused
//! without one.

use actix_web::{HttpRequest, HttpResponse, web};
use dobush_crypto::election_protocol::MemberSignature;
use serde::Deserialize;
use serde_json::json;

use crate::credentials::{add_signature, current, require_frozen};
use crate::domain::member_signature::hex_field;
use crate::domain::{Role, text};
use crate::error::ApiError;
use crate::extract::body::ApiJson;
use crate::extract::session::{Session, require_campaign_in_territory, require_staff};
use crate::models::load_campaign;
use crate::state::AppState;

/// `GET /{id}/credential-list` under `/api/v1/campaigns` (public).
pub fn configure_public(cfg: &mut web::ServiceConfig) {
    cfg.route("/{id}/credential-list", web::get().to(show));
}

/// `POST /{id}/credential-list/signatures` under `/api/campaigns` (commission staff).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/{id}/credential-list/signatures", web::post().to(upload));
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
    let grants = require_staff(&state, &req, &session, &[Role::CecAdmin, Role::TecAdmin]).await?;
    let id = path.into_inner();
    require_campaign_in_territory(&state, &req, &session, &grants, &id).await?;
    let b = body.0;
    let member = text::name(&b.member, 200).map_err(|e| ApiError::invalid("member", e))?;
    let public_key: [u8; 32] = hex_field("public_key", &b.public_key)?;
    let signature: [u8; 64] = hex_field("signature", &b.signature)?;
    let now = state.clock.now();
    let actor = session.pin.as_str().to_string();
    let sig = MemberSignature { member, public_key, signature };
    let body = state.db.write(move |c| add_signature(c, &id, &sig, &actor, now)).await?;
    Ok(HttpResponse::Ok().json(body))
}
