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
//!
//! A campaign whose package selects v2 ballots (`parameters.ballot_v2`, 13-revoting.md §3.7)
//! accepts only `{"ballot": <v2 ballot>, "opening_proof": <cast opening>}` (and a v1 campaign
//! only v1 ballots; 422 `ballot_format` otherwise): the same gates, the ballot verified, then the
//! cast opening (§3.4) checked against the caller's active registered credential (403
//! `credential_mismatch`); the opening is dropped there, never stored, logged or published. In
//! the transaction the α-uniqueness rule covers cred.α and tbase.α too, `forbidden` refuses a
//! second ballot, and under `last_counts` the ballot is appended as `ballot_v2` with no
//! `superseded` entry and no share of any total (v2 is counted only through the filter).

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use dobush_crypto::ballot::{BallotError, BallotOpening, EncryptedBallot, VerifiedBallot};
use dobush_crypto::ballot_v2::ballot::{BallotV2, VerifiedBallotV2, body_hash_v2};
use dobush_crypto::ballot_v2::cast_opening::{CastOpening, CastVerifierSecret, OpeningStatement, verify_cast_opening};
use dobush_crypto::group::GroupElement;
use dobush_crypto::manifest::Manifest;
use dobush_crypto::record::Receipt;
use dobush_crypto::signature::VerifyingKey;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::json;

use crate::cast::commit::VerifiedCast;
use crate::cast::gate::quick_cast_gate;
use crate::domain::Role;
use crate::error::ApiError;
use crate::extract::body::{ApiJson, JsonBytes, decode_json};
use crate::extract::session::{Session, rate_limit_voter, require_staff};
use crate::package::{BallotFormat, Election, build_package, store_package};
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
        BallotError::CredentialProof(_) => "credential_proof".into(),
        BallotError::Opening(_) => "opening".into(),
        _ => "ballot".into(),
    };
    ApiError::invalid(field, e.to_string())
}

/// Which format a body is in, read without judging the rest: a cast with `opening_proof` is v2,
/// a challenge whose `ballot` has `cred` is v2. The body is then decoded strictly as that format
/// (every field, no other) and the campaign's format decides whether it is accepted.
#[derive(Deserialize)]
struct CastProbe {
    #[serde(default)]
    opening_proof: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct ChallengeProbe {
    ballot: BallotProbe,
}

#[derive(Deserialize)]
struct BallotProbe {
    #[serde(default)]
    cred: Option<IgnoredAny>,
}

/// A v2 cast (13-revoting.md §3.4, §3.7): the ballot and the cast opening.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CastV2Request {
    ballot: BallotV2,
    /// Checked, then dropped: never stored, logged or published.
    opening_proof: CastOpening,
}

/// A cast of either format, decoded.
enum CastBody {
    V1(Box<EncryptedBallot>),
    V2(Box<CastV2Request>),
}

impl CastBody {
    fn decode(bytes: &[u8]) -> Result<Self, ApiError> {
        match serde_json::from_slice::<CastProbe>(bytes) {
            Ok(CastProbe { opening_proof: Some(_) }) => decode_json(bytes).map(|r| Self::V2(Box::new(r))),
            _ => decode_json(bytes).map(|b| Self::V1(Box::new(b))),
        }
    }
}

async fn cast(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: JsonBytes,
) -> Result<HttpResponse, ApiError> {
    rate_limit_voter(&state, &session)?;
    let id = path.into_inner();
    let started = std::time::Instant::now();
    let (election, verified) = match CastBody::decode(&body.0)? {
        CastBody::V1(ballot) => {
            let (election, verified) = check(&state, &req, &session, &id, *ballot).await?;
            (election, verified.into())
        }
        CastBody::V2(request) => {
            let CastV2Request { ballot, opening_proof } = *request;
            check_v2(&state, &req, &session, &id, ballot, Some(opening_proof)).await?
        }
    };
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

/// A Benaloh check of a v2 ballot: the opening of its votes only (13-revoting.md §4.2).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChallengeV2Request {
    ballot: BallotV2,
    opening: BallotOpening,
}

/// A Benaloh-challenged ballot with its opening: verified, posted as a `challenged` entry, never
/// counted; its ciphertexts are recorded so that the ballot can never be cast afterwards.
async fn challenge(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: JsonBytes,
) -> Result<HttpResponse, ApiError> {
    rate_limit_voter(&state, &session)?;
    let id = path.into_inner();
    if let Ok(ChallengeProbe { ballot: BallotProbe { cred: Some(_) } }) = serde_json::from_slice(&body.0) {
        let ChallengeV2Request { ballot, opening } = decode_json(&body.0)?;
        return challenge_v2(state, req, session, id, ballot, opening).await;
    }
    let ChallengeRequest { ballot, opening } = decode_json(&body.0)?;
    let (election, verified) = check(&state, &req, &session, &id, ballot).await?;
    let plaintext = {
        let (election, verified, opening) = (election.clone(), verified.clone(), opening.clone());
        web::block(move || dobush_crypto::ballot::verify_challenged_ballot(&election.context, &verified, &opening))
            .await
            .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("opening check task: {e}")))?
            .map_err(ballot_error)?
    };
    let receipt = record(&state, &req, &session, id, election, verified.into(), Some(opening)).await?;
    Ok(HttpResponse::Created().json(json!({ "receipt": receipt, "plaintext": plaintext })))
}

/// [`challenge`] of a v2 ballot: no cast opening (the device makes one only to cast), the votes'
/// opening checked and published; r_X and r_V are never part of it.
async fn challenge_v2(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    id: String,
    ballot: BallotV2,
    opening: BallotOpening,
) -> Result<HttpResponse, ApiError> {
    let (election, verified) = check_v2(&state, &req, &session, &id, ballot, None).await?;
    let VerifiedCast::V2 { ballot: v2, .. } = &verified else {
        return Err(ApiError::Unexpected(anyhow::anyhow!("a v2 check gave a v1 ballot")));
    };
    let plaintext = {
        let (election, v2, opening) = (election.clone(), v2.clone(), opening.clone());
        web::block(move || {
            dobush_crypto::ballot_v2::ballot::verify_challenged_ballot_v2(&election.context, &v2, &opening)
        })
        .await
        .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("opening check task: {e}")))?
        .map_err(ballot_error)?
    };
    let receipt = record(&state, &req, &session, id, election, verified, Some(opening)).await?;
    Ok(HttpResponse::Created().json(json!({ "receipt": receipt, "plaintext": plaintext })))
}

/// The refusal of a ballot of the other format than the campaign's package selects.
fn wrong_format(campaign_v2: bool) -> ApiError {
    if campaign_v2 {
        ApiError::invalid(
            "ballot_format",
            "this campaign accepts only v2 ballots (encrypted credential) with their opening_proof; update the app",
        )
    } else {
        ApiError::invalid("ballot_format", "this campaign accepts only v1 ballots")
    }
}

/// The checks of a v2 ballot before the transaction (13-revoting.md §3.4, §3.7): the quick gate,
/// the campaign's format, full verification, then, for a cast, the cast opening against the
/// caller's active registered credential X_reg and the package's Y_S (403
/// `credential_mismatch`). `opening` is consumed here and dropped: it is never stored, logged
/// or published, and no error names its values.
async fn check_v2(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    session: &Session,
    id: &str,
    ballot: BallotV2,
    opening: Option<CastOpening>,
) -> Result<(Arc<Election>, VerifiedCast), ApiError> {
    let (credential, election) = gate(state, req, session, id, &ballot.style).await?;
    let Some(verifier_key) = election.cast_verifier_key().copied() else { return Err(wrong_format(false)) };
    let verified = state.verifier.verify_v2(election.clone(), ballot).await?.map_err(ballot_error)?;
    let registered = match opening {
        None => None,
        Some(opening) => {
            let x_reg = GroupElement::from_hex(&credential)
                .map(VerifyingKey)
                .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("stored credential: {e}")))?;
            if !opens(&election, &verified, &x_reg, &verifier_key, &opening) {
                let e = ApiError::forbidden(
                    "credential_mismatch",
                    "the ballot is not made with your registered credential (its cast opening does not verify)",
                );
                return Err(audited(state, req, session, e).await);
            }
            Some(credential)
        }
    };
    Ok((election, VerifiedCast::V2 { ballot: Box::new(verified), registered }))
}

/// CO-0 … CO-5 (13-revoting.md §3.4) of `opening` for `verified`, the registered credential
/// `x_reg` and the campaign's key `y_s`. Five equations on a handful of points: checked on the
/// request's own task.
fn opens(
    election: &Election,
    verified: &VerifiedBallotV2,
    x_reg: &VerifyingKey,
    y_s: &GroupElement,
    opening: &CastOpening,
) -> bool {
    let b = verified.ballot();
    let body_hash = body_hash_v2(&election.context, b);
    let enc = b.encrypted_credential();
    let st = OpeningStatement {
        ctx: &election.context,
        body_hash: &body_hash,
        enc: &enc,
        registered: x_reg,
        verifier_key: y_s,
    };
    verify_cast_opening(&st, opening).is_ok()
}

/// The quick gate (`quick_cast_gate`: the caller's active credential, hex, if the ballot is of
/// their style; a 403 audited) and the campaign's election.
async fn gate(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    session: &Session,
    id: &str,
    style: &str,
) -> Result<(String, Arc<Election>), ApiError> {
    let now = state.clock.now();
    let (cid, pin, style, boards) =
        (id.to_string(), session.pin.as_str().to_string(), style.to_string(), state.boards.clone());
    let gate = state
        .db
        .run(move |c| {
            let credential = quick_cast_gate(c, &cid, &pin, &style, now)?;
            let election = boards.election(c, &cid)?;
            Ok((credential, election))
        })
        .await;
    match gate {
        Ok(g) => Ok(g),
        Err(e) => Err(audited(state, req, session, e).await),
    }
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
    let (credential, election) = gate(state, req, session, id, &ballot.style).await?;
    if election.cast_verifier_key().is_some() {
        return Err(wrong_format(true));
    }
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
    verified: VerifiedCast,
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
    /// `v1` (the default) or `v2` (13-revoting.md §4.1): with `v2` a fresh cast verifier secret
    /// y is drawn and its key Y_S published in the package.
    #[serde(default)]
    ballot_format: BallotFormat,
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
    let PackageRequest { manifest, ballot_format } = body.0;
    if ballot_format == BallotFormat::V2 && !state.settings.campaigns.allow_unfinished_ballot_v2 {
        // review 19-cast-v2 F1–F4: one administrator could otherwise make a real campaign that
        // cannot be tallied and whose list and replacements still name credentials
        return Err(ApiError::invalid(
            "ballot_format",
            "v2 ballots are not finished (issue 19: the re-voting filter is not yet run between the key-holders' \
             machines, 13-revoting.md §6); this server does not accept them",
        ));
    }
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
    // drawn fresh for every package (a package installed again gets a new y), zeroized on drop
    let cast_verifier = match ballot_format {
        BallotFormat::V1 => None,
        BallotFormat::V2 => Some(CastVerifierSecret::generate(&mut rand::rngs::OsRng)),
    };
    let package =
        build_package(state.boards.public_key(), &id, manifest, &done, commission, policy, cast_verifier.as_ref())?;
    let now = state.clock.now().timestamp();
    let actor = session.pin.as_str().to_string();
    let (cid, pkg) = (id.clone(), package.clone());
    state
        .db
        .write(move |c| {
            if pkg.parameters.is_v2() {
                // the v2 list names every credential's PIN commitment (13-revoting.md §4.2)
                crate::credentials::require_all_bound(c, &cid, &pkg.base_hash)?;
            }
            store_package(c, &cid, &pkg, cast_verifier.as_ref(), &actor, now)
        })
        .await?;
    state.boards.forget(&id);
    Ok(HttpResponse::Ok().json(package))
}

/// Decodes `bytes` as this module's request bodies and runs the checks its handlers make before
/// they touch the database. For the fuzz targets in `fuzz/` only (feature `fuzzing`).
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_bodies(bytes: &[u8]) {
    let _ = CastBody::decode(bytes);
    let _ = decode_json::<ChallengeRequest>(bytes);
    let _ = decode_json::<ChallengeV2Request>(bytes);
    if let Ok(b) = decode_json::<PackageRequest>(bytes) {
        let _ = b.manifest.validate();
    }
}
