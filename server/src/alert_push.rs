//! Alerts pushed to a configured webhook (`[alerts] webhook_url`), so that the 24-hour reporting
//! duty (`routes::staff::ALERT_REPORT_SECS`) does not rely on someone watching a gauge.
//!
//! An outbox: every alert row starts with `pushed_at` NULL; a task of each server POSTs the
//! pending alerts (oldest first, at most [`BATCH`] per request) every `push_interval_ms` and marks
//! them pushed once the webhook answered 2xx. So an alert raised in any transaction, on any server,
//! is delivered at least once, also after a restart or a webhook outage; two servers may deliver
//! the same alert twice, and the receiver deduplicates by `id`. The message holds no personal
//! data: no actor, address, path or reason (they may hold a PIN); those stay in the audit log,
//! which `audit_seq` points to.

use std::time::Duration;

use diesel::prelude::*;
use serde_json::json;

use crate::clock::Clock;
use crate::db::Db;
use crate::error::ApiError;
use crate::schema::{alerts, refusal_counts};

/// Alerts per webhook request, at most.
pub const BATCH: i64 = 100;

/// Violations must be reported within 24 hours (ШМТ regulation): an open alert older than this is
/// overdue.
pub const ALERT_REPORT_SECS: i64 = 24 * 3600;

/// Starts the delivery task (on the current Tokio runtime); it runs as long as the runtime does.
pub fn start(db: Db, clock: std::sync::Arc<dyn Clock>, url: String, every: Duration) -> anyhow::Result<()> {
    let http = openidconnect::reqwest::Client::builder()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()?;
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            match push_pending(&db, clock.as_ref(), &http, &url).await {
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "alerts not delivered to the webhook; retrying"),
            }
        }
    });
    Ok(())
}

/// Delivers the pending alerts once; returns how many were delivered.
pub async fn push_pending(
    db: &Db,
    clock: &dyn Clock,
    http: &openidconnect::reqwest::Client,
    url: &str,
) -> Result<usize, ApiError> {
    let pending: Vec<(i64, i64, String, i64, Option<i64>)> = db
        .run(|c| {
            Ok(alerts::table
                .left_join(refusal_counts::table.on(refusal_counts::alert_id.eq(alerts::id)))
                .filter(alerts::pushed_at.is_null())
                .order(alerts::id.asc())
                .limit(BATCH)
                .select((alerts::id, alerts::at, alerts::kind, alerts::audit_seq, refusal_counts::count.nullable()))
                .load(c)?)
        })
        .await?;
    if pending.is_empty() {
        return Ok(0);
    }
    let body: Vec<serde_json::Value> = pending
        .iter()
        .map(|(id, at, kind, seq, count)| {
            json!({
                "id": id, "at": at, "kind": kind, "audit_seq": seq, "count": count.unwrap_or(1),
                "report_due_at": at + ALERT_REPORT_SECS,
            })
        })
        .collect();
    let response = http
        .post(url)
        .header("content-type", "application/json")
        .body(json!({ "alerts": body }).to_string())
        .send()
        .await
        .map_err(|e| ApiError::Unavailable(format!("alert webhook: {e}")))?;
    if !response.status().is_success() {
        return Err(ApiError::Unavailable(format!("alert webhook answered {}", response.status())));
    }
    let ids: Vec<i64> = pending.iter().map(|p| p.0).collect();
    let n = ids.len();
    let now = clock.now().timestamp();
    db.run(move |c| {
        diesel::update(alerts::table.filter(alerts::id.eq_any(ids)).filter(alerts::pushed_at.is_null()))
            .set(alerts::pushed_at.eq(now))
            .execute(c)?;
        Ok(())
    })
    .await?;
    Ok(n)
}
