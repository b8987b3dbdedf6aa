//! Staff roles (CEC administrators only), the audit log and alerts.

use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::audit::{self, AuditEntry};
use crate::domain::{Pin, Role, text};
use crate::error::ApiError;
use crate::extract::body::ApiJson;
use crate::extract::session::{Session, require_staff};
use crate::schema::{alerts, audit_log, refusal_counts, staff};
use crate::state::AppState;

/// Routes `/api/staff`, `/api/audit`, `/api/alerts`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/staff", web::get().to(list_staff))
        .route("/staff", web::post().to(grant))
        .route("/staff/{pin}/{role}", web::delete().to(revoke))
        .route("/audit", web::get().to(audit_entries))
        .route("/audit/verify", web::get().to(audit_verify))
        .route("/alerts", web::get().to(list_alerts))
        .route("/alerts/{id}/acknowledge", web::post().to(acknowledge));
}

#[derive(Debug, Queryable, Serialize)]
struct StaffRow {
    pin: String,
    role: String,
    territory: Option<String>,
    granted_at: i64,
    granted_by: String,
}

async fn list_staff(state: web::Data<AppState>, req: HttpRequest, session: Session) -> Result<HttpResponse, ApiError> {
    require_staff(&state, &req, &session, &[Role::CecAdmin]).await?;
    let rows: Vec<StaffRow> = state
        .db
        .run(|c| {
            Ok(staff::table
                .order((staff::pin.asc(), staff::role.asc()))
                .select((staff::pin, staff::role, staff::territory, staff::granted_at, staff::granted_by))
                .load(c)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "staff": rows })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantRequest {
    pin: String,
    role: String,
    #[serde(default)]
    territory: Option<String>,
}

async fn grant(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    body: ApiJson<GrantRequest>,
) -> Result<HttpResponse, ApiError> {
    require_staff(&state, &req, &session, &[Role::CecAdmin]).await?;
    let b = body.0;
    let pin = Pin::parse(&b.pin).map_err(|e| ApiError::invalid("pin", e))?;
    let role = Role::parse_staff(&b.role).map_err(|e| ApiError::invalid("role", e))?;
    let territory = match (role, b.territory) {
        (Role::TecAdmin, Some(t)) => Some(text::code(&t).map_err(|e| ApiError::invalid("territory", e))?),
        (Role::TecAdmin, None) => return Err(ApiError::invalid("territory", "required for tec_admin")),
        (_, Some(_)) => return Err(ApiError::invalid("territory", "only tec_admin has a territory")),
        (_, None) => None,
    };
    let now = state.clock.now().timestamp();
    let actor = session.pin.as_str().to_string();
    state
        .db
        .write(move |c| {
            diesel::insert_into(staff::table)
                .values((
                    staff::pin.eq(pin.as_str()),
                    staff::role.eq(role.as_str()),
                    staff::territory.eq(&territory),
                    staff::granted_at.eq(now),
                    staff::granted_by.eq(&actor),
                ))
                .execute(c)
                .map_err(|e| {
                    if crate::db::is_unique_violation(&e) {
                        ApiError::conflict("already_granted", "this PIN already has this role")
                    } else {
                        e.into()
                    }
                })?;
            let details = json!({ "pin": pin.as_str(), "role": role.as_str(), "territory": territory });
            audit::append(c, now, &actor, "staff.grant", None, &details)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::Created().json(json!({ "granted": true })))
}

async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    require_staff(&state, &req, &session, &[Role::CecAdmin]).await?;
    let (pin, role) = path.into_inner();
    let pin = Pin::parse(&pin).map_err(|e| ApiError::invalid("pin", e))?;
    let role = Role::parse_staff(&role).map_err(|e| ApiError::invalid("role", e))?;
    if role == Role::CecAdmin && pin == session.pin {
        return Err(ApiError::conflict("self_revoke", "a CEC administrator cannot revoke their own role"));
    }
    let now = state.clock.now().timestamp();
    let actor = session.pin.as_str().to_string();
    state
        .db
        .write(move |c| {
            let n =
                diesel::delete(staff::table.filter(staff::pin.eq(pin.as_str())).filter(staff::role.eq(role.as_str())))
                    .execute(c)?;
            if n == 0 {
                return Err(ApiError::NotFound("this PIN does not have this role".into()));
            }
            audit::append(
                c,
                now,
                &actor,
                "staff.revoke",
                None,
                &json!({ "pin": pin.as_str(), "role": role.as_str() }),
            )?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    after_seq: Option<i64>,
    limit: Option<i64>,
    campaign_id: Option<String>,
}

async fn audit_entries(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    require_staff(&state, &req, &session, &[Role::CecAdmin, Role::Observer]).await?;
    let after = q.after_seq.unwrap_or(0);
    let campaign = q.campaign_id.clone();
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 1000"));
    }
    let rows: Vec<AuditEntry> = state
        .db
        .run(move |c| {
            let mut query = audit_log::table.filter(audit_log::seq.gt(after)).into_boxed();
            if let Some(cid) = campaign {
                query = query.filter(audit_log::campaign_id.eq(cid));
            }
            Ok(query.order(audit_log::seq.asc()).limit(limit).select(AuditEntry::as_select()).load(c)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "entries": rows })))
}

async fn audit_verify(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
) -> Result<HttpResponse, ApiError> {
    require_staff(&state, &req, &session, &[Role::CecAdmin, Role::Observer]).await?;
    let report = state.db.run(audit::verify_chain).await?;
    Ok(HttpResponse::Ok().json(report))
}

pub use crate::alert_push::ALERT_REPORT_SECS;

#[derive(Debug, Queryable, Serialize)]
struct AlertRow {
    id: i64,
    at: i64,
    kind: String,
    actor: String,
    ip: Option<String>,
    path: String,
    reason: String,
    audit_seq: i64,
    acknowledged_at: Option<i64>,
    acknowledged_by: Option<String>,
    /// When the webhook took it (`crate::alert_push`).
    pushed_at: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertQuery {
    status: Option<String>,
}

async fn list_alerts(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    q: web::Query<AlertQuery>,
) -> Result<HttpResponse, ApiError> {
    require_staff(&state, &req, &session, &[Role::CecAdmin, Role::Observer]).await?;
    let open_only = match q.status.as_deref() {
        None | Some("open") => true,
        Some("all") => false,
        Some(_) => return Err(ApiError::invalid("status", "must be open or all")),
    };
    // newest first; an aggregated refusal's alert carries how many refusals it stands for
    let rows: Vec<(AlertRow, Option<i64>)> = state
        .db
        .run(move |c| {
            let mut query = alerts::table
                .left_join(refusal_counts::table.on(refusal_counts::alert_id.eq(alerts::id)))
                .select((alerts::all_columns, refusal_counts::count.nullable()))
                .into_boxed();
            if open_only {
                query = query.filter(alerts::acknowledged_at.is_null());
            }
            Ok(query.order(alerts::id.desc()).limit(1000).load(c)?)
        })
        .await?;
    let now = state.clock.now().timestamp();
    let alerts: Vec<Value> = rows
        .into_iter()
        .map(|(a, count)| {
            let due = a.at + ALERT_REPORT_SECS;
            let overdue = a.acknowledged_at.is_none() && now >= due;
            let mut v = serde_json::to_value(a).unwrap_or(Value::Null);
            v["report_due_at"] = due.into();
            v["overdue"] = overdue.into();
            v["count"] = count.unwrap_or(1).into();
            v
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "alerts": alerts })))
}

async fn acknowledge(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    require_staff(&state, &req, &session, &[Role::CecAdmin]).await?;
    let id = path.into_inner();
    let now = state.clock.now().timestamp();
    let actor = session.pin.as_str().to_string();
    state
        .db
        .write(move |c| {
            let n = diesel::update(alerts::table.filter(alerts::id.eq(id)).filter(alerts::acknowledged_at.is_null()))
                .set((alerts::acknowledged_at.eq(now), alerts::acknowledged_by.eq(&actor)))
                .execute(c)?;
            if n == 0 {
                return Err(ApiError::NotFound(format!("no open alert {id}")));
            }
            audit::append(c, now, &actor, "alert.acknowledge", None, &json!({ "alert": id }))?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Decodes `bytes` as this module's request bodies and runs the checks its handlers make before
/// they touch the database. For the fuzz targets in `fuzz/` only (feature `fuzzing`).
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_bodies(bytes: &[u8]) {
    use crate::extract::body::decode_json;
    if let Ok(b) = decode_json::<GrantRequest>(bytes) {
        let _ = (Pin::parse(&b.pin), Role::parse_staff(&b.role), b.territory.map(|t| text::code(&t)));
    }
}
