//! Campaign definition and lifecycle.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveTime;
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::audit;
use crate::db::AnyConnection;
use crate::domain::campaign::{
    BallotStyleRequest, NewCampaignRequest, PrecinctRequest, bishkek_instant, parse_ballot_styles, parse_manifest,
    parse_precincts,
};
use crate::domain::{Action, Role};
use crate::error::ApiError;
use crate::extract::body::ApiJson;
use crate::extract::session::{Session, require_staff};
use crate::lifecycle::apply_transition;
use crate::models::{CampaignRow, campaign_view, load_campaign};
use crate::schema::{ballot_styles, campaigns, precincts};
use crate::state::AppState;

/// Routes under `/api/campaigns`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("", web::post().to(create))
        .route("", web::get().to(list))
        .route("/{id}", web::get().to(get))
        .route("/{id}/transitions", web::post().to(transition))
        .route("/{id}/manifest", web::put().to(put_manifest))
        .route("/{id}/precincts", web::post().to(add_precincts));
}

fn insert_styles_and_precincts(
    c: &mut AnyConnection,
    id: &str,
    styles: &[crate::domain::campaign::BallotStyle],
    precs: &[crate::domain::campaign::Precinct],
) -> Result<(), ApiError> {
    for b in styles {
        diesel::insert_into(ballot_styles::table)
            .values((
                ballot_styles::campaign_id.eq(id),
                ballot_styles::code.eq(&b.code),
                ballot_styles::name.eq(&b.name),
            ))
            .execute(c)
            .map_err(|e| duplicate_or(e, "ballot_styles", "a ballot style with this code exists"))?;
    }
    for p in precs {
        diesel::insert_into(precincts::table)
            .values((
                precincts::campaign_id.eq(id),
                precincts::code.eq(&p.code),
                precincts::name.eq(&p.name),
                precincts::kind.eq(p.kind.as_str()),
                precincts::ballot_style.eq(&p.ballot_style),
                precincts::territory.eq(&p.territory),
            ))
            .execute(c)
            .map_err(|e| duplicate_or(e, "precincts", "a precinct with this code exists"))?;
    }
    Ok(())
}

fn duplicate_or(e: diesel::result::Error, field: &str, msg: &str) -> ApiError {
    if crate::db::is_unique_violation(&e) { ApiError::invalid(field, msg) } else { e.into() }
}

async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    body: ApiJson<NewCampaignRequest>,
) -> Result<HttpResponse, ApiError> {
    require_staff(&state, &req, &session, &[Role::CecAdmin]).await?;
    let new = body.0.parse()?;
    if new.demo_mode && !state.settings.campaigns.allow_demo_mode {
        return Err(ApiError::invalid("demo_mode", "demo-mode campaigns are disabled in this configuration"));
    }
    let opens = bishkek_instant(new.voting_day, new.window_start)
        .ok_or_else(|| ApiError::invalid("voting_window.start", "not a valid instant"))?;
    let closes = bishkek_instant(new.voting_day, new.window_end)
        .ok_or_else(|| ApiError::invalid("voting_window.end", "not a valid instant"))?;
    let id = uuid::Uuid::new_v4().to_string();
    let now = state.clock.now().timestamp();
    let actor = session.pin.as_str().to_string();
    let view = state
        .db
        .write(move |c| {
            diesel::insert_into(campaigns::table)
                .values((
                    campaigns::id.eq(&id),
                    campaigns::name.eq(&new.name),
                    campaigns::kind.eq(new.kind.as_str()),
                    campaigns::state.eq("draft"),
                    campaigns::voting_day.eq(new.voting_day.format("%Y-%m-%d").to_string()),
                    campaigns::window_start.eq(fmt_time(new.window_start)),
                    campaigns::window_end.eq(fmt_time(new.window_end)),
                    campaigns::opens_at.eq(opens.timestamp()),
                    campaigns::closes_at.eq(closes.timestamp()),
                    campaigns::last_application_day.eq(new.last_application_day.format("%Y-%m-%d").to_string()),
                    campaigns::demo_mode.eq(new.demo_mode),
                    campaigns::revote_policy.eq(new.revote_policy.as_str()),
                    campaigns::manifest.eq(new.manifest.to_string()),
                    campaigns::manifest_hash.eq(None::<String>),
                    campaigns::election_public_key.eq(None::<String>),
                    campaigns::created_at.eq(now),
                    campaigns::updated_at.eq(now),
                    campaigns::created_by.eq(&actor),
                ))
                .execute(c)?;
            insert_styles_and_precincts(c, &id, &new.ballot_styles, &new.precincts)?;
            let details = json!({
                "name": new.name, "kind": new.kind.as_str(), "voting_day": new.voting_day.to_string(),
                "demo_mode": new.demo_mode, "revote_policy": new.revote_policy.as_str(),
                "ballot_styles": new.ballot_styles.len(), "precincts": new.precincts.len(),
            });
            audit::append(c, now, &actor, "campaign.create", Some(&id), &details)?;
            let row = load_campaign(c, &id)?;
            campaign_view(c, row)
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}

fn fmt_time(t: NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

async fn list(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let rows = state
        .db
        .run(|c| {
            let rows: Vec<CampaignRow> =
                campaigns::table.order(campaigns::created_at.asc()).select(CampaignRow::as_select()).load(c)?;
            Ok(rows
                .into_iter()
                .map(|r| json!({ "id": r.id, "name": r.name, "kind": r.kind, "state": r.state, "voting_day": r.voting_day, "demo_mode": r.demo_mode }))
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "campaigns": rows })))
}

async fn get(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let view = state
        .db
        .run(move |c| {
            let row = load_campaign(c, &id)?;
            campaign_view(c, row)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The common shape of a CEC administrator's change to one campaign: role check, then in one write
/// transaction load the campaign, apply `change` (which audits itself), and answer the new view.
async fn edit_campaign<F>(
    state: &AppState,
    req: &HttpRequest,
    session: &Session,
    id: String,
    change: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(&mut AnyConnection, &CampaignRow, i64, &str) -> Result<(), ApiError> + Send + 'static,
{
    require_staff(state, req, session, &[Role::CecAdmin]).await?;
    let now = state.clock.now().timestamp();
    let actor = session.pin.as_str().to_string();
    let view = state
        .db
        .write(move |c| {
            let row = load_campaign(c, &id)?;
            change(c, &row, now, &actor)?;
            let row = load_campaign(c, &id)?;
            campaign_view(c, row)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

fn state_refusal(code: &'static str, what: &str, st: crate::domain::CampaignState) -> ApiError {
    ApiError::conflict(code, format!("{what} cannot change in state {}", st.as_str()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TransitionRequest {
    action: String,
}

async fn transition(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: ApiJson<TransitionRequest>,
) -> Result<HttpResponse, ApiError> {
    let action = Action::parse(&body.0.action).map_err(|e| ApiError::invalid("action", e))?;
    let boards = state.boards.clone();
    edit_campaign(&state, &req, &session, path.into_inner(), move |c, row, ts, actor| {
        apply_transition(c, &boards, row, action, ts, actor)
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestRequest {
    manifest: serde_json::Value,
}

async fn put_manifest(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: ApiJson<ManifestRequest>,
) -> Result<HttpResponse, ApiError> {
    let manifest = parse_manifest(Some(body.0.manifest))?;
    edit_campaign(&state, &req, &session, path.into_inner(), move |c, row, now, actor| {
        let st = row.state()?;
        if !st.manifest_editable() {
            return Err(state_refusal("manifest_frozen", "the manifest", st));
        }
        if crate::package::installed(c, &row.id)? {
            return Err(ApiError::conflict(
                "manifest_in_package",
                "the manifest is the installed election package's; it changes only by installing the package \
                 again (PUT /api/campaigns/{id}/election-package)",
            ));
        }
        let text = manifest.to_string();
        diesel::update(campaigns::table.filter(campaigns::id.eq(&row.id)))
            .set((campaigns::manifest.eq(&text), campaigns::updated_at.eq(now)))
            .execute(c)?;
        let details = json!({ "sha256": hex::encode(Sha256::digest(text.as_bytes())) });
        audit::append(c, now, actor, "campaign.manifest", Some(&row.id), &details)?;
        Ok(())
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AddPrecinctsRequest {
    #[serde(default)]
    ballot_styles: Vec<BallotStyleRequest>,
    #[serde(default)]
    precincts: Vec<PrecinctRequest>,
}

async fn add_precincts(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: ApiJson<AddPrecinctsRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let new_styles = parse_ballot_styles(&body.ballot_styles)?;
    edit_campaign(&state, &req, &session, path.into_inner(), move |c, row, now, actor| {
        let st = row.state()?;
        if !st.register_editable() {
            return Err(state_refusal("register_closed", "precincts", st));
        }
        let mut codes: Vec<String> =
            ballot_styles::table.filter(ballot_styles::campaign_id.eq(&row.id)).select(ballot_styles::code).load(c)?;
        codes.extend(new_styles.iter().map(|b| b.code.clone()));
        let default = if codes.len() == 1 { codes.first().cloned() } else { None };
        let precs = parse_precincts(&body.precincts, &codes, default.as_deref())?;
        insert_styles_and_precincts(c, &row.id, &new_styles, &precs)?;
        let details = json!({
            "ballot_styles": new_styles.iter().map(|b| b.code.clone()).collect::<Vec<_>>(),
            "precincts": precs.iter().map(|p| p.code.clone()).collect::<Vec<_>>(),
        });
        audit::append(c, now, actor, "campaign.precincts", Some(&row.id), &details)?;
        Ok(())
    })
    .await
}

/// Decodes `bytes` as this module's request bodies and runs the checks its handlers make before
/// they touch the database. For the fuzz targets in `fuzz/` only (feature `fuzzing`).
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_bodies(bytes: &[u8]) {
    use crate::extract::body::decode_json;
    if let Ok(b) = decode_json::<NewCampaignRequest>(bytes) {
        let _ = b.parse();
    }
    if let Ok(b) = decode_json::<TransitionRequest>(bytes) {
        let _ = Action::parse(&b.action);
    }
    if let Ok(b) = decode_json::<ManifestRequest>(bytes) {
        let _ = parse_manifest(Some(b.manifest));
    }
    if let Ok(b) = decode_json::<AddPrecinctsRequest>(bytes)
        && let Ok(styles) = parse_ballot_styles(&b.ballot_styles)
    {
        let codes: Vec<String> = styles.iter().map(|s| s.code.clone()).collect();
        let default = if codes.len() == 1 { codes.first().cloned() } else { None };
        let _ = parse_precincts(&b.precincts, &codes, default.as_deref());
    }
}
