//! Alerts pushed to a configured webhook (`[alerts] webhook_url`), so that the 24-hour reporting
//! duty (`routes::staff::ALERT_REPORT_SECS`) does not rely on someone watching a gauge.
//!
//! An outbox: every alert row starts with `pushed_at` NULL; a task of each server POSTs the
//! pending alerts (oldest first, at most [`BATCH`] per request) every `push_interval_ms` and marks
//! them pushed once the webhook answered 2xx. So an alert raised in any transaction, on any server,
//! is delivered at least once, also after a restart or a webhook outage; two servers may deliver
//! the same alert twice, and the receiver deduplicates by `id`. The message holds no personal
//! data: no actor, address, path or reason (they may hold a PIN); those stay in the audit log,
//! which `audit_seq` points to. With `webhook_secret_path` each request is signed
//! ([`SIGNATURE_HEADER`]: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t "." body)>`), so a
//! receiver refuses alerts forged by anyone who can reach it (review 18-hardening M5).

use std::time::Duration;

use diesel::prelude::*;
use serde_json::json;

use crate::clock::Clock;
use crate::db::Db;
use crate::error::ApiError;
use crate::schema::{alerts, refusal_counts};
use zeroize::Zeroizing;

/// Alerts per webhook request, at most.
pub const BATCH: i64 = 100;

/// Violations must be reported within 24 hours (ШМТ regulation): an open alert older than this is
/// overdue.
pub const ALERT_REPORT_SECS: i64 = 24 * 3600;

/// The header that carries a delivery's signature.
pub const SIGNATURE_HEADER: &str = "dobush-signature";

/// The webhook's shared secret, read from `path`: at least 32 bytes (surrounding whitespace
/// trimmed).
pub fn load_secret(path: &std::path::Path) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    let bytes =
        Zeroizing::new(std::fs::read(path).map_err(|e| anyhow::anyhow!("webhook secret {}: {e}", path.display()))?);
    let trimmed = Zeroizing::new(bytes.trim_ascii().to_vec());
    if trimmed.len() < 32 {
        anyhow::bail!("webhook secret {}: at least 32 bytes are needed", path.display());
    }
    Ok(trimmed)
}

/// `t=<at>,v1=<hex HMAC-SHA256(secret, at "." body)>`.
pub fn signature(secret: &[u8], at: i64, body: &str) -> Result<String, ApiError> {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret)
        .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("webhook secret: {e}")))?;
    mac.update(at.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    Ok(format!("t={at},v1={}", hex::encode(mac.finalize().into_bytes())))
}

/// Starts the delivery task (on the current Tokio runtime); it runs as long as the runtime does.
pub fn start(
    db: Db,
    clock: std::sync::Arc<dyn Clock>,
    url: String,
    secret: Option<Zeroizing<Vec<u8>>>,
    every: Duration,
) -> anyhow::Result<()> {
    let http = openidconnect::reqwest::Client::builder()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()?;
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            match push_pending(&db, clock.as_ref(), &http, &url, secret.as_deref().map(Vec::as_slice)).await {
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
    secret: Option<&[u8]>,
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
    let text = json!({ "alerts": body }).to_string();
    let mut request = http.post(url).header("content-type", "application/json");
    if let Some(secret) = secret {
        request = request.header(SIGNATURE_HEADER, signature(secret, clock.now().timestamp(), &text)?);
    }
    let response = request.body(text).send().await.map_err(|e| ApiError::Unavailable(format!("alert webhook: {e}")))?;
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
