//! Demo-only endpoints (docs/server.md §Demo mode), refused — and audited — for every campaign not
//! created in demo mode and whenever the configuration does not allow demo mode
//! (`campaigns.allow_demo_mode`, false by default and never set in production):
//!
//! * `GET  /api/campaigns/{id}/demo`: whether demo login works here, and demo citizens to log in as;
//! * `POST /api/campaigns/{id}/demo/login`: a session without Tunduk for a citizen on the demo
//!   campaign's register, confined to that campaign (no staff role, no other campaign);
//! * `POST /api/campaigns/{id}/demo/open[?hours=N]`: freeze the list, run the demo key-holders' ceremony,
//!   set the window to start now and open voting (`demo::open_now`);
//! * `POST /api/campaigns/{id}/demo/close`: end the window now and close the polls, then the demo
//!   key-holders decrypt the totals and demo commission members sign the protocol
//!   (`demo::finish_now`): the campaign ends `protocol_signed` with a complete record;
//! * `POST /api/demo/campaigns`: a fresh demo-mode campaign with `voters` generated citizens (the
//!   load generator's).

use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;

use crate::demo::{
    DemoCampaign, close_now, demo_pin, finish_now, insert_demo_campaign, load_campaign_manifest, open_now, require_demo,
};
use crate::domain::{CampaignState, Pin, RevotePolicy};
use crate::error::ApiError;
use crate::extract::body::ApiJson;
use crate::models::{CampaignRow, load_campaign};
use crate::refusal::refuse;
use crate::schema::{evoter_credentials, voters};
use crate::state::AppState;

use super::auth::session_cookies;

/// Routes under `/api/campaigns`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/{id}/demo", web::get().to(info))
        .route("/{id}/demo/login", web::post().to(login))
        .route("/{id}/demo/open", web::post().to(open))
        .route("/{id}/demo/close", web::post().to(close));
}

/// Routes under `/api/demo`.
pub fn configure_root(cfg: &mut web::ServiceConfig) {
    cfg.route("/campaigns", web::post().to(create));
}

/// Citizens listed by `GET …/demo`.
const LISTED_CITIZENS: i64 = 100;

/// Refuses (audited, alerted) unless the configuration allows demo mode.
async fn require_demo_config(state: &AppState, req: &HttpRequest) -> Result<(), ApiError> {
    if state.settings.campaigns.allow_demo_mode {
        return Ok(());
    }
    let e = ApiError::forbidden("demo_disabled", "demo mode is disabled in this configuration");
    Err(refuse(state, req, None, "demo_disabled", e).await)
}

/// The campaign, if the configuration allows demo mode and it was created in demo mode; every
/// refusal is audited.
async fn demo_campaign(state: &AppState, req: &HttpRequest, id: &str) -> Result<CampaignRow, ApiError> {
    require_demo_config(state, req).await?;
    let cid = id.to_string();
    let row = state.db.run(move |c| load_campaign(c, &cid)).await?;
    match require_demo(&row) {
        Ok(()) => Ok(row),
        Err(e) => Err(refuse(state, req, None, "not_a_demo_campaign", e).await),
    }
}

async fn info(state: web::Data<AppState>, req: HttpRequest, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let row = demo_campaign(&state, &req, &id).await?;
    let cid = id.clone();
    let (total, citizens) = state
        .db
        .run(move |c| {
            let total: i64 = voters::table.filter(voters::campaign_id.eq(&cid)).count().get_result(c)?;
            let rows: Vec<(String, String)> = voters::table
                .filter(voters::campaign_id.eq(&cid))
                .order(voters::pin.asc())
                .limit(LISTED_CITIZENS)
                .select((voters::pin, voters::full_name))
                .load(c)?;
            let active: Vec<String> = evoter_credentials::table
                .filter(evoter_credentials::campaign_id.eq(&cid))
                .filter(evoter_credentials::status.eq("active"))
                .filter(evoter_credentials::pin.eq_any(rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>()))
                .select(evoter_credentials::pin)
                .load(c)?;
            let list: Vec<serde_json::Value> = rows
                .into_iter()
                .map(|(pin, name)| json!({ "pin": pin, "full_name": name, "e_voter": active.contains(&pin) }))
                .collect();
            Ok((total, list))
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "campaign_id": id,
        "demo_login": true,
        "state": row.state,
        "citizens_total": total,
        "citizens": citizens,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginRequest {
    pin: String,
    /// `web` (cookies, default) or `api` (the bearer token in the answer).
    #[serde(default)]
    client: Option<String>,
}

async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: ApiJson<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let LoginRequest { pin, client } = body.0;
    let api = match client.as_deref() {
        None | Some("web") => false,
        Some("api") => true,
        Some(_) => return Err(ApiError::invalid("client", "must be web or api")),
    };
    let pin = Pin::parse(&pin).map_err(|e| ApiError::invalid("pin", e))?;
    if let Err(e) = demo_campaign(&state, &req, &id).await {
        state.metrics.login(false);
        return Err(e);
    }
    let (cid, p) = (id.clone(), pin.as_str().to_string());
    let on_register: i64 = state
        .db
        .run(move |c| {
            Ok(voters::table.filter(voters::campaign_id.eq(&cid)).filter(voters::pin.eq(&p)).count().get_result(c)?)
        })
        .await?;
    if on_register == 0 {
        state.metrics.login(false);
        let e = ApiError::forbidden("not_on_register", "this PIN is not a demo citizen of this campaign");
        return Err(refuse(&state, &req, Some(pin.as_str()), "demo_login", e).await);
    }
    let now = state.clock.now().timestamp();
    let (token, claims) = state.sessions.issue_scoped(pin.as_str(), Some(&id), now)?;
    state.metrics.login(true);
    let (session, csrf) = session_cookies(&state, &token, &claims, now);
    let mut answer =
        json!({ "pin": claims.sub, "campaign_id": id, "csrf_token": claims.csrf, "expires_at": claims.exp });
    if api {
        answer["token"] = token.into();
    }
    Ok(HttpResponse::Ok().cookie(session).cookie(csrf).json(answer))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenQuery {
    /// Length of the voting window from now, hours (1–24; default 8).
    #[serde(default)]
    hours: Option<u32>,
}

async fn open(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<OpenQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let hours = q.hours.unwrap_or(8);
    if !(1..=24).contains(&hours) {
        return Err(ApiError::invalid("hours", "must be 1 to 24"));
    }
    demo_campaign(&state, &req, &id).await?;
    let (now, boards, cid) = (state.clock.now(), state.boards.clone(), id.clone());
    let opened = state.db.write(move |c| open_now(c, &boards, &cid, now, hours)).await;
    state.boards.forget(&id);
    Ok(HttpResponse::Ok().json(opened?))
}

/// Closes the polls (if open), then runs the demo key-holders' decryption and the demo
/// commission's protocol signing (`demo::finish_now`), in a second transaction: a closing stays
/// closed even if a later step is refused (e.g. `totals_mismatch`), and a repeated call resumes.
async fn close(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let row = demo_campaign(&state, &req, &id).await?;
    let after_voting =
        matches!(row.state()?, CampaignState::Closed | CampaignState::Tallied | CampaignState::ProtocolSigned);
    if !after_voting {
        let (now, boards, cid) = (state.clock.now(), state.boards.clone(), id.clone());
        let closed = state.db.write(move |c| close_now(c, &boards, &cid, now)).await;
        state.boards.forget(&id);
        closed?;
    }
    let (now, cid) = (state.clock.now(), id.clone());
    let finished = state.db.write(move |c| finish_now(c, &cid, now)).await?;
    Ok(HttpResponse::Ok().json(json!({
        "campaign_id": id,
        "state": finished.state,
        "decrypting_key_holders": finished.decrypting_key_holders,
        "protocol_digest": finished.protocol_digest,
        "signatures": finished.signatures,
        "record": format!("/api/v1/campaigns/{id}/record"),
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateRequest {
    /// Demo citizens on the register (1–1,000,000), PINs `9000000000001`… in order.
    voters: u32,
    /// Candidates of the one contest (1–30; default 5).
    #[serde(default)]
    options: Option<usize>,
    /// `forbidden` or `last_counts` (default).
    #[serde(default)]
    revote_policy: Option<String>,
}

async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ApiJson<CreateRequest>,
) -> Result<HttpResponse, ApiError> {
    require_demo_config(&state, &req).await?;
    let CreateRequest { voters, options, revote_policy } = body.0;
    if !(1..=1_000_000).contains(&voters) {
        return Err(ApiError::invalid("voters", "must be 1 to 1000000"));
    }
    let options = options.unwrap_or(5);
    if !(1..=30).contains(&options) {
        return Err(ApiError::invalid("options", "must be 1 to 30"));
    }
    let policy = RevotePolicy::parse(revote_policy.as_deref().unwrap_or("last_counts"))
        .map_err(|e| ApiError::invalid("revote_policy", e))?;
    let id = format!("demo-{}", uuid::Uuid::new_v4().simple());
    let manifest = load_campaign_manifest(&id, options);
    let now = state.clock.now().timestamp();
    let cid = id.clone();
    state
        .db
        .write(move |c| {
            let citizens = (1..=voters).map(|i| (demo_pin(i), format!("Демо Шайлоочу {i}"))).collect();
            let d = DemoCampaign {
                id: &cid,
                name: "Демо (жүктөө сыноосу)",
                manifest: &manifest,
                citizens,
                revote_policy: policy.as_str(),
            };
            insert_demo_campaign(c, &d, now).map(drop)
        })
        .await?;
    Ok(HttpResponse::Created().json(json!({
        "id": id, "voters": voters, "first_pin": demo_pin(1), "last_pin": demo_pin(voters), "options": options,
    })))
}
