//! After voting (docs/server.md §Tally, protocol and record): the published encrypted totals,
//! ballot issuance, decryption shares, results, the electronic protocol (draft, save, members,
//! signatures) and the public election record. Under `/api/v1/campaigns`.

use actix_web::{HttpRequest, HttpResponse, web};
use dobush_crypto::election_protocol::ProtocolBody;
use dobush_crypto::threshold::decrypt::DecryptionShare;
use serde::Deserialize;
use serde_json::json;

use crate::cast::gate::voter_gate;
use crate::domain::Role;
use crate::election_protocol::{Member, SignatureRequest};
use crate::error::ApiError;
use crate::extract::body::ApiJson;
use crate::extract::session::{Session, rate_limit_voter, require_campaign_in_territory, require_staff};
use crate::models::load_campaign;
use crate::state::AppState;

/// Routes under `/api/v1/campaigns`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/{id}/totals", web::get().to(totals))
        .route("/{id}/ballot-issued", web::post().to(ballot_issued))
        .route("/{id}/decryption-shares", web::post().to(post_shares))
        .route("/{id}/decryption-shares", web::get().to(get_shares))
        .route("/{id}/results", web::get().to(results))
        .route("/{id}/protocol/draft", web::get().to(protocol_draft))
        .route("/{id}/protocol", web::put().to(protocol_save))
        .route("/{id}/protocol", web::get().to(protocol_get))
        .route("/{id}/protocol/signatures", web::post().to(protocol_sign))
        .route("/{id}/commission-members", web::post().to(member_register))
        .route("/{id}/commission-members", web::get().to(member_list))
        .route("/{id}/commission", web::get().to(commission_show))
        .route("/{id}/commission/confirm", web::post().to(commission_confirm))
        .route("/{id}/shmt-export", web::get().to(shmt_export))
        .route("/{id}/protocol.html", web::get().to(protocol_html))
        .route("/{id}/record", web::get().to(record_json))
        .route("/{id}/record/board.jsonl", web::get().to(record_board));
}

/// The encrypted totals published at closing (public).
async fn totals(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let totals = state
        .db
        .run(move |c| {
            load_campaign(c, &id)?;
            crate::close::totals::published_totals(c, &id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "encrypted_totals": totals })))
}

/// The voter's app shows the ballot: recorded once (protocol line 2, "e-ballots issued").
/// Only for a voter on the e-voter list while voting is open; repeated calls change nothing.
async fn ballot_issued(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    rate_limit_voter(&state, &session)?;
    let id = path.into_inner();
    let now = state.clock.now();
    let pin = session.pin.as_str().to_string();
    let result = state
        .db
        .write(move |c| {
            voter_gate(c, &id, &pin, now)?;
            crate::cast::issuance::mark_issued(c, &id, &pin, now.timestamp())
        })
        .await;
    match result {
        Ok(()) => Ok(HttpResponse::NoContent().finish()),
        Err(e @ ApiError::Forbidden { .. }) => {
            Err(crate::refusal::refuse(&state, &req, Some(session.pin.as_str()), "ballot_issued_refused", e).await)
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SharesRequest {
    shares: Vec<DecryptionShare>,
}

/// At most this many shares per request (contests × selections × key-holders of any real ballot
/// stays far below).
const MAX_SHARES: usize = 10_000;

/// A key-holder posts decryption shares: refused whole (422, recorded as a refusal) if one is not
/// signed by the key-holder it names; otherwise each verified on arrival and stored (a repeat of
/// a valid one is not), the report says which were set aside and whether the results are
/// combined.
async fn post_shares(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: ApiJson<SharesRequest>,
) -> Result<HttpResponse, ApiError> {
    require_staff(&state, &req, &session, &[Role::KeyHolder]).await?;
    let shares = body.0.shares;
    if shares.is_empty() || shares.len() > MAX_SHARES {
        return Err(ApiError::invalid("shares", format!("1 to {MAX_SHARES} shares")));
    }
    let id = path.into_inner();
    let now = state.clock.now().timestamp();
    let actor = session.pin.as_str().to_string();
    match state.db.write(move |c| crate::tally::submit_shares(c, &id, &shares, &actor, now)).await {
        Ok(report) => Ok(HttpResponse::Ok().json(report)),
        // a share that is nobody's (unsigned, altered, of an unknown key-holder or total): the
        // submission stored nothing, so its trace is the refusal record (who, which field, why)
        Err(e @ ApiError::Invalid { .. }) => {
            Err(crate::refusal::refuse(&state, &req, Some(session.pin.as_str()), "decryption_shares_refused", e).await)
        }
        Err(e) => Err(e),
    }
}

/// Every share received, in order, with its verdict (public).
async fn get_shares(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let shares = state
        .db
        .run(move |c| {
            load_campaign(c, &id)?;
            crate::tally::load_shares(c, &id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "decryption_shares": shares })))
}

/// The combined results (public; 409 `not_tallied` before).
async fn results(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let results = state
        .db
        .run(move |c| {
            load_campaign(c, &id)?;
            crate::tally::load_results(c, &id)?.ok_or_else(|| {
                ApiError::conflict(
                    "not_tallied",
                    "the results are combined once t valid decryption shares of every total are in",
                )
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "results": results })))
}

/// The protocol as the server computes it (public).
async fn protocol_draft(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let now = crate::clock::millis(state.clock.now());
    let body = state.db.run(move |c| crate::election_protocol::draft(c, &id, now)).await?;
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SaveRequest {
    body: ProtocolBody,
    #[serde(default)]
    decision: Option<String>,
}

/// Saves the protocol (CEC or territorial administrator): control relations first (§44).
async fn protocol_save(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: ApiJson<SaveRequest>,
) -> Result<HttpResponse, ApiError> {
    let grants = require_staff(&state, &req, &session, &[Role::CecAdmin, Role::TecAdmin]).await?;
    let id = path.into_inner();
    require_campaign_in_territory(&state, &req, &session, &grants, &id).await?;
    let SaveRequest { body, decision } = body.0;
    if decision.as_ref().is_some_and(|d| d.chars().count() > 500) {
        return Err(ApiError::invalid("decision", "at most 500 characters"));
    }
    let now = state.clock.now().timestamp();
    let actor = session.pin.as_str().to_string();
    let digest = state
        .db
        .write(move |c| crate::election_protocol::save(c, &id, &body, decision.as_deref(), &actor, now))
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "digest": digest })))
}

/// The saved protocol with its signatures, and its digest (public).
async fn protocol_get(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let p = state
        .db
        .run(move |c| {
            load_campaign(c, &id)?;
            crate::election_protocol::signed_protocol(c, &id)?
                .ok_or_else(|| ApiError::NotFound("no protocol is saved yet".into()))
        })
        .await?;
    let digest = hex::encode(p.body.digest());
    Ok(HttpResponse::Ok().json(json!({ "protocol": p, "digest": digest })))
}

/// A member's signature (no login: the signature itself authenticates, against the key the
/// CEC administrator registered).
async fn protocol_sign(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: ApiJson<SignatureRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let now = state.clock.now().timestamp();
    let req = body.0;
    let signed = state.db.write(move |c| crate::election_protocol::add_signature(c, &id, &req, now)).await?;
    Ok(HttpResponse::Ok().json(json!({ "protocol_signed": signed })))
}

/// Registers a commission member's Ed25519 key (CEC administrator).
async fn member_register(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: ApiJson<Member>,
) -> Result<HttpResponse, ApiError> {
    require_staff(&state, &req, &session, &[Role::CecAdmin]).await?;
    let id = path.into_inner();
    let now = state.clock.now().timestamp();
    let actor = session.pin.as_str().to_string();
    let m = body.0;
    let view = m.clone();
    state.db.write(move |c| crate::election_protocol::register_member(c, &id, &m, &actor, now)).await?;
    Ok(HttpResponse::Created().json(view))
}

/// The registered members (public: their keys verify the published signatures).
async fn member_list(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let members = state
        .db
        .run(move |c| {
            load_campaign(c, &id)?;
            crate::election_protocol::members(c, &id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "members": members })))
}

/// The commission section (docs/protocol/14-commission.md): pinned once the package is
/// installed, before that as proposed from the registered members, with whether it is confirmed.
async fn commission_show(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let body = state.db.run(move |c| crate::commission::show(c, &id)).await?;
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmRequest {
    /// 64 hex digits: the hash of the section the confirming administrator compared.
    commission_hash: String,
    /// The campaign's re-vote rule as the confirming administrator read it (`forbidden` or
    /// `last_counts`): it goes into the package's `parameters` under the same dual control.
    re_vote_policy: String,
}

/// A second CEC administrator confirms the commission section by its hash (dual control,
/// 14-commission.md §Dual control).
async fn commission_confirm(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: ApiJson<ConfirmRequest>,
) -> Result<HttpResponse, ApiError> {
    require_staff(&state, &req, &session, &[Role::CecAdmin]).await?;
    let id = path.into_inner();
    let now = state.clock.now().timestamp();
    let actor = session.pin.as_str().to_string();
    let ConfirmRequest { commission_hash, re_vote_policy } = body.0;
    let answer = state
        .db
        .write(move |c| {
            crate::commission::require_independent_confirmer(c, &id, &actor)?;
            crate::commission::confirm(c, &id, &commission_hash, &re_vote_policy, &actor, now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(answer))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShmtQuery {
    /// A precinct code the protocol covers (default: the campaign's protocol).
    #[serde(default)]
    precinct: Option<String>,
}

/// The ШМТ export of the signed protocol, signed by the board key (public; docs/shmt-export.md).
async fn shmt_export(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<ShmtQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let now = state.clock.now();
    let precinct = q.into_inner().precinct;
    let boards = state.boards.clone();
    let export = state.db.run(move |c| crate::shmt::export(c, boards.key(), &id, precinct.as_deref(), now)).await?;
    Ok(HttpResponse::Ok().json(export))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrintQuery {
    /// `ky` (default) or `ru`.
    #[serde(default)]
    lang: Option<String>,
    /// As for the export.
    #[serde(default)]
    precinct: Option<String>,
}

/// The printable control copies of the saved protocol (§46–48; public): self-contained HTML, a
/// Content-Security-Policy that allows no script and no external resource.
async fn protocol_html(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<PrintQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let PrintQuery { lang, precinct } = q.into_inner();
    let lang = crate::shmt::Lang::parse(lang.as_deref())?;
    let now = state.clock.now();
    let html = state.db.run(move |c| crate::shmt::printable(c, &id, precinct.as_deref(), lang, now)).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
        ))
        .insert_header(("Cache-Control", "no-store"))
        .body(html))
}

/// `record.json` (docs/record-format.md §Election record); `Dobush-Record-Status` says whether
/// it is partial (results or protocol still missing) or complete.
async fn record_json(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    // the record without its board: a reader of record.json does not cost a read of every entry
    let (record, complete) = state.db.run(move |c| crate::export::election_record(c, &id)).await?;
    Ok(HttpResponse::Ok().insert_header(("Dobush-Record-Status", crate::export::record_status(complete))).json(&record))
}

/// `board.jsonl` of the record: the whole closed board.
async fn record_board(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    // the record's status and board only: not its filter transcripts (review 19-filtered H2)
    let (board, complete) = state
        .db
        .run(move |c| {
            let (_, complete) = crate::export::election_record(c, &id)?;
            Ok((crate::export::board_jsonl(c, &id)?, complete))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Dobush-Record-Status", crate::export::record_status(complete)))
        .content_type("application/jsonl; charset=utf-8")
        .body(board))
}
