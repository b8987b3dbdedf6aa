//! Casting and challenging ballots (issue 3 "Casting a ballot", issue 8), and installing a
//! campaign's election package (the public outcome of its key ceremony).
//!
//! A cast is checked in this order, each refusal a 4xx JSON error naming the reason: the voting
//! window and state, the e-voter list and ballot style (`casting::cast_gate`); the ballot's
//! credential is the caller's registered one; every proof and the credential signature verify
//! (batched with concurrent casts, off the actix workers: `verification`); then, in one write transaction holding the campaign's board lock
//! (`board::Boards::append_in_transaction`): the gate again, no ballot with the same tracking
//! code, no ciphertext seen before in this campaign (cast, superseded or challenged), the ballot
//! row (the unique index `ballots_one_counted` refuses a second counted ballot of a voter: under
//! `forbidden` that is 409 `already_voted`), its ciphertexts, the board entries (under
//! `last_counts` first a `superseded` entry for the previous counted ballot), and a signed head.

use std::collections::HashSet;
use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;
use dobush_crypto::ballot::{BallotError, BallotOpening, EncryptedBallot, TrackingCode, VerifiedBallot};
use dobush_crypto::context::{ElectionContext, KeyHolderIdentity, base_hash};
use dobush_crypto::manifest::Manifest;
use dobush_crypto::record::{BoardEntry, ElectionPackage, PublishedKeyHolder, RECORD_VERSION, Receipt};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::audit;
use crate::auth::extract::{Session, require_staff};
use crate::board::{Election, election_packages, millis};
use crate::casting::cast_gate;
use crate::domain::{CampaignState, RevotePolicy, Role};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::models::load_campaign;
use crate::schema::{ballot_ciphertexts, ballot_styles, ballots, campaigns};
use crate::startup::AppState;

use super::cabinet::rate_limit_voter;

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
    let (election, verified) = check(&state, &req, &session, &id, body.0).await?;
    let receipt = record(&state, &session, id, election, verified, None).await?;
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
    let receipt = record(&state, &session, id, election, verified, Some(opening)).await?;
    Ok(HttpResponse::Created().json(json!({ "receipt": receipt, "plaintext": plaintext })))
}

/// The checks before the transaction: gate, credential, full verification.
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
            let gate = cast_gate(c, &cid, &pin, &style, now)?;
            let election = boards.election(c, &cid)?;
            Ok((gate, election))
        })
        .await;
    let (gate, election) = match gate {
        Ok(g) => g,
        Err(e @ ApiError::Forbidden { .. }) => {
            return Err(audit::refuse(state, req, Some(session.pin.as_str()), "cast_refused", e).await);
        }
        Err(e) => return Err(e),
    };
    if ballot.credential.0.to_hex() != gate.credential {
        return Err(ApiError::invalid(
            "credential",
            "the ballot is not made with your registered credential (a ballot of another voter cannot be cast)",
        ));
    }
    let verified = state.verifier.verify(election.clone(), ballot).await?.map_err(ballot_error)?;
    Ok((election, verified))
}

/// True if `e` violates the unique index named `pg_name` (PostgreSQL) / on `sqlite_column`.
fn violates(e: &diesel::result::Error, pg_name: &str, sqlite_column: &str) -> bool {
    match e {
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, info) => {
            info.constraint_name() == Some(pg_name) || info.message().contains(sqlite_column)
        }
        _ => false,
    }
}

fn tracking_code_from_hex(hex: &str) -> Result<TrackingCode, ApiError> {
    serde_json::from_value(serde_json::Value::String(hex.to_string()))
        .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("stored tracking code: {e}")))
}

/// The transaction: checks against earlier ballots, the rows, the board entries, the head.
async fn record(
    state: &web::Data<AppState>,
    session: &Session,
    id: String,
    election: Arc<Election>,
    verified: VerifiedBallot,
    opening: Option<BallotOpening>,
) -> Result<Receipt, ApiError> {
    let now = state.clock.now();
    let now_secs = now.timestamp();
    let pin = session.pin.as_str().to_string();
    let boards = state.boards.clone();
    let shards = state.settings.board.totals_shards;
    state
        .db
        .run(move |c| {
            boards.append_in_transaction(c, &id, |c, app| {
                let b = verified.ballot();
                let gate = cast_gate(c, &id, &pin, &b.style, now)?;
                if b.credential.0.to_hex() != gate.credential {
                    return Err(ApiError::invalid("credential", "your registered credential changed; make the ballot again"));
                }
                let tc = *verified.tracking_code();
                let tc_hex = tc.to_hex();
                let dup: i64 = ballots::table
                    .filter(ballots::campaign_id.eq(&id))
                    .filter(ballots::tracking_code.eq(&tc_hex))
                    .count()
                    .get_result(c)?;
                if dup > 0 {
                    return Err(ApiError::conflict("duplicate_ballot", format!("this ballot (tracking code {tc_hex}) was already submitted")));
                }
                let alphas: Vec<String> =
                    b.contests.iter().flat_map(|k| k.selections.iter().map(|s| s.ciphertext.alpha.to_hex())).collect();
                if alphas.iter().collect::<HashSet<_>>().len() != alphas.len() {
                    return Err(ApiError::invalid("contests", "two selections share a ciphertext"));
                }
                let seen: i64 = ballot_ciphertexts::table
                    .filter(ballot_ciphertexts::campaign_id.eq(&id))
                    .filter(ballot_ciphertexts::ciphertext_hash.eq_any(&alphas))
                    .count()
                    .get_result(c)?;
                if seen > 0 {
                    return Err(ApiError::conflict(
                        "ciphertext_replayed",
                        "a ciphertext of this ballot was submitted before (a copied, replayed or challenged ballot cannot be cast)",
                    ));
                }
                let challenged = opening.is_some();
                let previous: Option<(i64, String, String)> = if !challenged && gate.revote_policy == RevotePolicy::LastCounts {
                    ballots::table
                        .filter(ballots::campaign_id.eq(&id))
                        .filter(ballots::pin.eq(&pin))
                        .filter(ballots::status.eq("counted"))
                        .select((ballots::id, ballots::tracking_code, ballots::payload))
                        .first(c)
                        .optional()?
                } else {
                    None
                };
                if let Some((pid, _, _)) = &previous {
                    diesel::update(ballots::table.filter(ballots::id.eq(pid))).set(ballots::status.eq("superseded")).execute(c)?;
                }
                let payload = serde_json::to_string(b).map_err(|e| ApiError::Unexpected(e.into()))?;
                let ballot_hash = hex::encode(Sha256::digest(payload.as_bytes()));
                let inserted = diesel::insert_into(ballots::table)
                    .values((
                        ballots::campaign_id.eq(&id),
                        ballots::pin.eq(&pin),
                        ballots::credential_id.eq(gate.credential_id),
                        ballots::ballot_style.eq(&b.style),
                        ballots::payload.eq(&payload),
                        ballots::ballot_hash.eq(&ballot_hash),
                        ballots::tracking_code.eq(&tc_hex),
                        ballots::status.eq(if challenged { "challenged" } else { "counted" }),
                        ballots::received_at.eq(now_secs),
                    ))
                    .execute(c);
                match inserted {
                    Ok(_) => {}
                    Err(e) if violates(&e, "ballots_one_counted", "ballots.pin") => {
                        return Err(match gate.revote_policy {
                            RevotePolicy::Forbidden => ApiError::conflict(
                                "already_voted",
                                "you have already voted; this campaign does not allow re-voting",
                            ),
                            RevotePolicy::LastCounts => {
                                ApiError::conflict("concurrent_cast", "another ballot of yours was being cast; try again")
                            }
                        });
                    }
                    Err(e) if violates(&e, "ballots_hash", "ballots.ballot_hash") => {
                        return Err(ApiError::conflict("duplicate_ballot", "this ballot was already submitted"));
                    }
                    Err(e) => return Err(e.into()),
                }
                let bid: i64 = ballots::table
                    .filter(ballots::campaign_id.eq(&id))
                    .filter(ballots::ballot_hash.eq(&ballot_hash))
                    .select(ballots::id)
                    .first(c)?;
                for a in &alphas {
                    diesel::insert_into(ballot_ciphertexts::table)
                        .values((
                            ballot_ciphertexts::campaign_id.eq(&id),
                            ballot_ciphertexts::ciphertext_hash.eq(a),
                            ballot_ciphertexts::ballot_id.eq(bid),
                        ))
                        .execute(c)?;
                }
                crate::tally::mark_issued(c, &id, &pin, now_secs)?;
                if !challenged {
                    let superseded = previous.as_ref().map(|(_, _, payload)| payload.as_str());
                    crate::tally::accumulate(c, &id, &election.context, &verified, superseded, shards)?;
                }
                if let Some((pid, ptc, _)) = &previous {
                    let entry = BoardEntry::Superseded { tracking_code: tracking_code_from_hex(ptc)?, by: tc };
                    app.append(c, &entry, Some(*pid), now_secs)?;
                    diesel::update(ballots::table.filter(ballots::id.eq(pid))).set(ballots::superseded_by.eq(bid)).execute(c)?;
                }
                let entry = match opening {
                    Some(opening) => BoardEntry::Challenged { ballot: b.clone(), tracking_code: tc, opening },
                    None => BoardEntry::Ballot { ballot: b.clone(), tracking_code: tc },
                };
                let index = app.append(c, &entry, Some(bid), now_secs)?;
                let idx = i64::try_from(index).map_err(|e| ApiError::Unexpected(e.into()))?;
                diesel::update(ballots::table.filter(ballots::id.eq(bid))).set(ballots::board_index.eq(idx)).execute(c)?;
                let head = app.sign_head(c, election.package.base_hash, millis(now))?;
                app.board()
                    .receipt(index, tc, head)
                    .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("receipt: {e}")))
            })
        })
        .await
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
    let done = state.db.run(move |c| crate::ceremony::require_complete(c, &cid, "the election package")).await?;
    let package = build_package(&state.boards, &id, manifest, &done)?;
    let now = state.clock.now().timestamp();
    let actor = session.pin.as_str().to_string();
    let (cid, pkg) = (id.clone(), package.clone());
    state.db.write(move |c| store_package(c, &cid, &pkg, &actor, now)).await?;
    state.boards.forget(&id);
    Ok(HttpResponse::Ok().json(package))
}

/// The election package of campaign `id` from its completed key ceremony and `manifest`: the
/// base hash recomputed and checked, the extended hash computed, the server's board key added.
pub(crate) fn build_package(
    boards: &crate::board::Boards,
    id: &str,
    manifest: Manifest,
    done: &crate::ceremony::CompletedCeremony,
) -> Result<ElectionPackage, ApiError> {
    if manifest.campaign_id != id {
        return Err(ApiError::invalid("manifest.campaign_id", format!("must be this campaign's id {id}")));
    }
    manifest.validate().map_err(|e| ApiError::invalid("manifest", e.to_string()))?;
    let key_holders: Vec<PublishedKeyHolder> = done
        .key_holders
        .iter()
        .map(|k| PublishedKeyHolder { index: k.index, signing_key: k.signing_key.0, comm_key: k.comm_key })
        .collect();
    let identities: Vec<KeyHolderIdentity> =
        key_holders.iter().map(|k| KeyHolderIdentity { signing_key: k.signing_key, comm_key: k.comm_key }).collect();
    let threshold = done.params.t();
    let base = base_hash(id, threshold, &identities);
    if base != done.base_hash {
        return Err(ApiError::Unexpected(anyhow::anyhow!("the stored base hash of campaign {id} is not that of its key-holders")));
    }
    let joint_key = done.outcome.joint_key;
    let ctx = ElectionContext::new(base, joint_key, manifest.clone()).map_err(|e| ApiError::invalid("manifest", e.to_string()))?;
    let package = ElectionPackage {
        version: RECORD_VERSION.into(),
        manifest,
        threshold,
        key_holders,
        joint_key,
        base_hash: base,
        extended_hash: *ctx.extended_hash(),
        board_key: boards.public_key(),
    };
    package.context().map_err(|e| ApiError::invalid("key_holders", e.to_string()))?;
    Ok(package)
}

/// Stores `package` as campaign `cid`'s election package inside the caller's write transaction
/// (the campaign must be in state `key_ceremony`, its ceremony complete with this package's key,
/// and every ballot style of the campaign in the manifest), sets the campaign's election key and
/// audits it. The caller then drops the cached election (`Boards::forget`).
pub(crate) fn store_package(
    c: &mut crate::db::AnyConnection,
    cid: &str,
    pkg: &ElectionPackage,
    actor: &str,
    now: i64,
) -> Result<(), ApiError> {
    let text = serde_json::to_string(pkg).map_err(|e| ApiError::Unexpected(e.into()))?;
    let row = load_campaign(c, cid)?;
    let st = row.state()?;
    if st != CampaignState::KeyCeremony {
        return Err(ApiError::conflict(
            "invalid_state",
            format!("the election package is installed in state key_ceremony; the campaign is in state {}", st.as_str()),
        ));
    }
    let done = crate::ceremony::require_complete(c, cid, "the election package")?;
    if done.outcome.joint_key != pkg.joint_key || done.base_hash != pkg.base_hash {
        return Err(ApiError::conflict("ceremony_changed", "the key ceremony changed meanwhile; install the package again"));
    }
    let codes: Vec<String> = ballot_styles::table.filter(ballot_styles::campaign_id.eq(cid)).select(ballot_styles::code).load(c)?;
    if let Some(missing) = codes.iter().find(|code| pkg.manifest.style(code).is_none()) {
        return Err(ApiError::invalid("manifest.ballot_styles", format!("the campaign's ballot style {missing} is missing")));
    }
    diesel::delete(election_packages::table.filter(election_packages::campaign_id.eq(cid))).execute(c)?;
    diesel::insert_into(election_packages::table)
        .values((
            election_packages::campaign_id.eq(cid),
            election_packages::package.eq(&text),
            election_packages::created_at.eq(now),
        ))
        .execute(c)?;
    diesel::update(campaigns::table.filter(campaigns::id.eq(cid)))
        .set(campaigns::election_public_key.eq(pkg.joint_key.0.to_hex()))
        .execute(c)?;
    let details = json!({
        "base_hash": hex::encode(pkg.base_hash), "extended_hash": hex::encode(pkg.extended_hash),
        "threshold": pkg.threshold, "key_holders": pkg.key_holders.len(),
        "board_key": hex::encode(pkg.board_key),
    });
    audit::append(c, now, actor, "campaign.election_package", Some(cid), &details)?;
    Ok(())
}

/// Decodes `bytes` as this module's request bodies and runs the checks its handlers make before
/// they touch the database. For the fuzz targets in `fuzz/` only (feature `fuzzing`).
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_bodies(bytes: &[u8]) {
    use crate::extract::decode_json;
    let _ = decode_json::<EncryptedBallot>(bytes);
    let _ = decode_json::<ChallengeRequest>(bytes);
    if let Ok(b) = decode_json::<PackageRequest>(bytes) {
        let _ = b.manifest.validate();
    }
}
