//! The key ceremony over HTTP (`crate::ceremony`): the administrator configures it, the
//! key-holders post their signed messages, everyone reads the public transcript.

use actix_web::{HttpRequest, HttpResponse, web};
use dobush_crypto::threshold::KeyHolderPublic;
use dobush_crypto::threshold::dkg::{CommitmentHash, DealerCommitments, EncryptedShare, Signed};
use serde::Deserialize;

use crate::ceremony;
use crate::ceremony::relay::{ComplaintList, Incoming};
use crate::ceremony::setup::DEFAULT_THRESHOLD;
use crate::domain::Role;
use crate::error::ApiError;
use crate::extract::body::ApiJson;
use crate::extract::session::{Session, require_staff};
use crate::models::load_campaign;
use crate::state::AppState;

/// Routes under `/api/campaigns`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/{id}/ceremony", web::get().to(status))
        .route("/{id}/ceremony", web::put().to(setup))
        .route("/{id}/ceremony/transcript", web::get().to(transcript))
        .route("/{id}/ceremony/outcome", web::get().to(outcome))
        .route("/{id}/ceremony/key-holders", web::post().to(register))
        .route("/{id}/ceremony/commitment-hashes", web::post().to(commitment_hash))
        .route("/{id}/ceremony/reveals", web::post().to(reveal))
        .route("/{id}/ceremony/shares", web::post().to(share))
        .route("/{id}/ceremony/complaints", web::post().to(complaints));
}

async fn status(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let view = state.db.run(move |c| ceremony::view::status_view(c, &id)).await?;
    Ok(HttpResponse::Ok().json(view))
}

async fn transcript(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let t = state
        .db
        .run(move |c| {
            load_campaign(c, &id)?;
            ceremony::store::load_transcript(c, &id)?
                .ok_or_else(|| ApiError::NotFound(format!("campaign {id} has no key ceremony configured")))
        })
        .await?;
    Ok(HttpResponse::Ok().json(t))
}

async fn outcome(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let done = state
        .db
        .run(move |c| {
            load_campaign(c, &id)?;
            ceremony::store::require_complete(c, &id, "the outcome")
        })
        .await?;
    Ok(HttpResponse::Ok().json(done.outcome))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetupRequest {
    #[serde(default)]
    threshold: Option<u32>,
    key_holders: Vec<String>,
}

/// Configures (or restarts) the ceremony: `t` and the key-holders' staff PINs in index order.
async fn setup(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: ApiJson<SetupRequest>,
) -> Result<HttpResponse, ApiError> {
    require_staff(&state, &req, &session, &[Role::CecAdmin]).await?;
    let id = path.into_inner();
    let SetupRequest { threshold, key_holders } = body.0;
    let now = state.clock.now().timestamp();
    let actor = session.pin.as_str().to_string();
    let cid = id.clone();
    let (removed, view) = state
        .db
        .write(move |c| {
            let removed =
                ceremony::setup::configure(c, &cid, threshold.unwrap_or(DEFAULT_THRESHOLD), &key_holders, now, &actor)?;
            Ok((removed, ceremony::view::status_view(c, &cid)?))
        })
        .await?;
    if removed {
        state.boards.forget(&id);
    }
    Ok(HttpResponse::Ok().json(view))
}

/// Every key-holder message: the role, then (in one write transaction) the slot, the order of
/// rounds and the crypto checks. A refusal for the wrong key-holder is audited and alerted.
async fn relay(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    id: String,
    msg: Incoming,
) -> Result<HttpResponse, ApiError> {
    require_staff(&state, &req, &session, &[Role::KeyHolder]).await?;
    let now = state.clock.now().timestamp();
    let pin = session.pin.as_str().to_string();
    let result = state.db.write(move |c| ceremony::relay::accept(c, &id, &pin, &msg, now)).await;
    match result {
        Ok(a) if a.repeated => Ok(HttpResponse::Ok().json(a)),
        Ok(a) => Ok(HttpResponse::Created().json(a)),
        Err(e @ ApiError::Forbidden { .. }) => {
            Err(crate::refusal::refuse(&state, &req, Some(session.pin.as_str()), "ceremony_slot", e).await)
        }
        Err(e) => Err(e),
    }
}

async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: ApiJson<KeyHolderPublic>,
) -> Result<HttpResponse, ApiError> {
    relay(state, req, session, path.into_inner(), Incoming::Register(body.0)).await
}

async fn commitment_hash(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: ApiJson<Signed<CommitmentHash>>,
) -> Result<HttpResponse, ApiError> {
    relay(state, req, session, path.into_inner(), Incoming::CommitmentHash(body.0)).await
}

async fn reveal(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: ApiJson<Signed<DealerCommitments>>,
) -> Result<HttpResponse, ApiError> {
    relay(state, req, session, path.into_inner(), Incoming::Reveal(body.0)).await
}

async fn share(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: ApiJson<Signed<EncryptedShare>>,
) -> Result<HttpResponse, ApiError> {
    relay(state, req, session, path.into_inner(), Incoming::Share(body.0)).await
}

async fn complaints(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: ApiJson<ComplaintList>,
) -> Result<HttpResponse, ApiError> {
    relay(state, req, session, path.into_inner(), Incoming::Complaints(body.0)).await
}

/// Decodes `bytes` as this module's request bodies and runs the checks its handlers make before
/// they touch the database. For the fuzz targets in `fuzz/` only (feature `fuzzing`).
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_bodies(bytes: &[u8]) {
    use crate::extract::body::decode_json;
    let _ = decode_json::<SetupRequest>(bytes);
    let _ = decode_json::<KeyHolderPublic>(bytes);
    let _ = decode_json::<Signed<CommitmentHash>>(bytes);
    let _ = decode_json::<Signed<DealerCommitments>>(bytes);
    let _ = decode_json::<Signed<EncryptedShare>>(bytes);
    let _ = decode_json::<ComplaintList>(bytes);
}
