//! Casting and challenging ballots (docs/server.md §Casting), and installing a campaign's election
//! package (the public outcome of its key ceremony with the manifest: `crate::package`).
//!
//! A cast is checked in this order, each refusal a 4xx JSON error naming the reason: the caller
//! has an active e-voter credential for the ballot's style (`cast::gate::quick_cast_gate`, one query;
//! when it refuses it names the reason as the full gate does: voting window and state, register,
//! e-voter list, style); the ballot's credential is the caller's registered one; every proof and the credential signature verify
//! (batched with concurrent casts, off the actix workers: `verification`); then, in one write
//! transaction holding the campaign's board lock, shared with the casts waiting at the same time
//! (`cast::commit`, the group commit): the full gate (`cast::gate::cast_gates`), no ballot with the same tracking code, no
//! ciphertext seen before in this campaign (cast, superseded or challenged), no counted ballot of
//! the voter already under `forbidden` (409 `already_voted`; the unique index
//! `ballots_one_counted` backs it), the ballot row, its ciphertexts, the board entries (under
//! `last_counts` first a `superseded` entry for the previous counted ballot), the encrypted
//! totals, and a signed head.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use dobush_crypto::ballot::{BallotError, BallotOpening, EncryptedBallot, VerifiedBallot};
use dobush_crypto::manifest::Manifest;
use dobush_crypto::record::Receipt;
use serde::Deserialize;
use serde_json::json;

use crate::cast::gate::quick_cast_gate;
use crate::domain::Role;
use crate::error::ApiError;
use crate::extract::body::ApiJson;
use crate::extract::session::{Session, rate_limit_voter, require_staff};
use crate::package::{Election, build_package, store_package};
use crate::state::AppState;

/// Routes under `/api/campaigns`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/{id}/ballots", web::post().to(cast))
        .route("/{id}/challenges", web::post().to(challenge))
        .route("/{id}/election-package", web::put().to(install_package));
}

/// A verification failure as a 422 naming the part of the ballot that failed.
fn ballot_error(e: BallotError) -> ApiError {
    let field = match &e {
        BallotError::Proof { contest, selection: Some(s), .. } => format!("contests[{contest}].selections[{s}].proof"),
        BallotError::Proof { contest, selection: None, .. } => format!("contests[{contest}].count_proof"),
        BallotError::Signature(_) => "signature".into(),
        BallotError::Opening(_) => "opening".into(),
        _ => "ballot".into(),
    };
    ApiError::invalid(field, e.to_string())
}

async fn cast(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: ApiJson<EncryptedBallot>,
) -> Result<HttpResponse, ApiError> {
    rate_limit_voter(&state, &session)?;
    let id = path.into_inner();
    let started = std::time::Instant::now();
    let (election, verified) = check(&state, &req, &session, &id, body.0).await?;
    let checked = started.elapsed();
    let receipt = record(&state, &req, &session, id, election, verified, None).await?;
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    tracing::debug!(checked_ms = ms(checked), recorded_ms = ms(started.elapsed() - checked), "cast");
    Ok(HttpResponse::Created().json(receipt))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChallengeRequest {
    ballot: EncryptedBallot,
    opening: BallotOpening,
}

/// A Benaloh-challenged ballot with its opening: verified, posted as a `challenged` entry, never
/// counted; its ciphertexts are recorded so that the ballot can never be cast afterwards.
async fn challenge(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: ApiJson<ChallengeRequest>,
) -> Result<HttpResponse, ApiError> {
    rate_limit_voter(&state, &session)?;
    let id = path.into_inner();
    let ChallengeRequest { ballot, opening } = body.0;
    let (election, verified) = check(&state, &req, &session, &id, ballot).await?;
    let plaintext = {
        let (election, verified, opening) = (election.clone(), verified.clone(), opening.clone());
        web::block(move || dobush_crypto::ballot::verify_challenged_ballot(&election.context, &verified, &opening))
            .await
            .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("opening check task: {e}")))?
            .map_err(ballot_error)?
    };
    let receipt = record(&state, &req, &session, id, election, verified, Some(opening)).await?;
    Ok(HttpResponse::Created().json(json!({ "receipt": receipt, "plaintext": plaintext })))
}

/// The checks before the transaction: the quick gate (the voter's active credential and style;
/// the full gate runs again when the cast is recorded), the credential, full verification.
async fn check(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    session: &Session,
    id: &str,
    ballot: EncryptedBallot,
) -> Result<(Arc<Election>, VerifiedBallot), ApiError> {
    let now = state.clock.now();
    let (cid, pin, style, boards) =
        (id.to_string(), session.pin.as_str().to_string(), ballot.style.clone(), state.boards.clone());
    let gate = state
        .db
        .run(move |c| {
            let credential = quick_cast_gate(c, &cid, &pin, &style, now)?;
            let election = boards.election(c, &cid)?;
            Ok((credential, election))
        })
        .await;
    let (credential, election) = match gate {
        Ok(g) => g,
        Err(e) => return Err(audited(state, req, session, e).await),
    };
    if ballot.credential.0.to_hex() != credential {
        return Err(ApiError::invalid(
            "credential",
            "the ballot is not made with your registered credential (a ballot of another voter cannot be cast)",
        ));
    }
    let gated = std::time::Instant::now();
    let verified = state.verifier.verify(election.clone(), ballot).await?.map_err(ballot_error)?;
    tracing::debug!(verified_ms = gated.elapsed().as_secs_f64() * 1e3, "ballot verified");
    Ok((election, verified))
}

/// A refusal of the gate (403) goes to the audit log as `cast_refused`.
async fn audited(state: &web::Data<AppState>, req: &HttpRequest, session: &Session, e: ApiError) -> ApiError {
    match e {
        e @ ApiError::Forbidden { .. } => {
            crate::refusal::refuse(state, req, Some(session.pin.as_str()), "cast_refused", e).await
        }
        e => e,
    }
}

/// Records a verified ballot (with the casts waiting with it: `crate::cast::commit`) and returns its
/// receipt.
async fn record(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    session: &Session,
    id: String,
    election: Arc<Election>,
    verified: VerifiedBallot,
    opening: Option<BallotOpening>,
) -> Result<Receipt, ApiError> {
    let job = crate::cast::commit::CastJob::new(session.pin.as_str(), verified, opening, election)?;
    match state.committer.record(&id, job).await {
        Ok(receipt) => Ok(receipt),
        Err(e) => Err(audited(state, req, session, e).await),
    }
}

/// The manifest to install: everything else in the package comes from the stored outcome of
/// the campaign's key ceremony, never from the request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackageRequest {
    manifest: Manifest,
}

/// Installs the election package (CEC administrator, in state `key_ceremony`, once the key
/// ceremony is complete): the threshold, the key-holders, the base hash and the joint key are
/// the ceremony's; the server adds the manifest, computes the extended hash and adds its board
/// key.
async fn install_package(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: ApiJson<PackageRequest>,
) -> Result<HttpResponse, ApiError> {
    require_staff(&state, &req, &session, &[Role::CecAdmin]).await?;
    let id = path.into_inner();
    let PackageRequest { manifest } = body.0;
    if manifest.campaign_id != id {
        return Err(ApiError::invalid("manifest.campaign_id", format!("must be this campaign's id {id}")));
    }
    manifest.validate().map_err(|e| ApiError::invalid("manifest", e.to_string()))?;
    let cid = id.clone();
    let (done, commission, policy) = state
        .db
        .run(move |c| {
            let done = crate::ceremony::store::require_complete(c, &cid, "the election package")?;
            let policy = crate::models::load_campaign(c, &cid)?.revote_policy()?.to_package();
            Ok((done, crate::commission::confirmed(c, &cid)?, policy))
        })
        .await?;
    let package = build_package(state.boards.public_key(), &id, manifest, &done, commission, policy)?;
    let now = state.clock.now().timestamp();
    let actor = session.pin.as_str().to_string();
    let (cid, pkg) = (id.clone(), package.clone());
    state.db.write(move |c| store_package(c, &cid, &pkg, &actor, now)).await?;
    state.boards.forget(&id);
    Ok(HttpResponse::Ok().json(package))
}

/// Decodes `bytes` as this module's request bodies and runs the checks its handlers make before
/// they touch the database. For the fuzz targets in `fuzz/` only (feature `fuzzing`).
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_bodies(bytes: &[u8]) {
    use crate::extract::body::decode_json;
    let _ = decode_json::<EncryptedBallot>(bytes);
    let _ = decode_json::<ChallengeRequest>(bytes);
    if let Ok(b) = decode_json::<PackageRequest>(bytes) {
        let _ = b.manifest.validate();
    }
}
