//! `/health` and `/metrics`.

use actix_web::{HttpResponse, web};
use diesel::prelude::*;
use serde_json::json;

use crate::error::ApiError;
use crate::metrics::DbGauges;
use crate::schema::{alerts, audit_log};
use crate::state::AppState;

/// Liveness and database reachability: 200 `{"status":"ok"}` or 503.
pub async fn health(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.db.run(|c| Ok(diesel::sql_query("SELECT 1").execute(c)?)).await?;
    Ok(HttpResponse::Ok().json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") })))
}

/// Prometheus text exposition.
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let day_ago = state.clock.now().timestamp() - crate::routes::staff::ALERT_REPORT_SECS;
    let gauges = state
        .db
        .run(move |c| {
            let open = alerts::table.filter(alerts::acknowledged_at.is_null());
            let open_alerts = open.count().get_result(c)?;
            let overdue_alerts = open.filter(alerts::at.le(day_ago)).count().get_result(c)?;
            let audit_entries = audit_log::table.count().get_result(c)?;
            Ok(DbGauges { open_alerts, overdue_alerts, audit_entries })
        })
        .await?;
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(state.metrics.render(&gauges)))
}
