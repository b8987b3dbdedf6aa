//! `/health` and `/metrics`.

use actix_web::{HttpResponse, web};
use diesel::prelude::*;
use serde_json::json;

use crate::error::ApiError;
use crate::metrics::DbGauges;
use crate::schema::{alerts, audit_log};
use crate::startup::AppState;

/// Liveness and database reachability: 200 `{"status":"ok"}` or 503.
pub async fn health(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.db.run(|c| Ok(diesel::sql_query("SELECT 1").execute(c)?)).await?;
    Ok(HttpResponse::Ok().json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") })))
}

/// Prometheus text exposition.
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let gauges = state
        .db
        .run(|c| {
            let open_alerts = alerts::table.filter(alerts::acknowledged_at.is_null()).count().get_result(c)?;
            let audit_entries = audit_log::table.count().get_result(c)?;
            Ok(DbGauges { open_alerts, audit_entries })
        })
        .await?;
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(state.metrics.render(&gauges)))
}
