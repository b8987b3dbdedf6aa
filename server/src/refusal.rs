//! Refused access: logged, counted, written to the audit log with an alert, then answered. The
//! HTTP layer decides what is a refusal; the audit chain records it (`audit::record_refusal`).

use actix_web::HttpRequest;

use crate::audit::record_refusal;
use crate::error::ApiError;
use crate::state::AppState;

/// The client address as seen by this server (not from forwarded headers, which a client can forge).
pub fn client_ip(req: &HttpRequest) -> Option<String> {
    req.peer_addr().map(|a| a.ip().to_string())
}

/// Logs, audits and raises an alert for a refused access, then returns `error` for the client.
pub async fn refuse(
    state: &AppState,
    req: &HttpRequest,
    actor: Option<&str>,
    kind: &'static str,
    error: ApiError,
) -> ApiError {
    let ip = client_ip(req);
    let actor = match actor {
        Some(a) => a.to_string(),
        None => format!("anonymous@{}", ip.as_deref().unwrap_or("unknown")),
    };
    let path = req.path().to_string();
    let reason = error.to_string();
    tracing::warn!(%actor, %path, kind, %reason, "access refused");
    state.metrics.access_refused();
    let at = state.clock.now().timestamp();
    let result = state.db.write(move |c| record_refusal(c, at, &actor, ip.as_deref(), &path, kind, &reason)).await;
    if let Err(e) = result {
        tracing::error!(error = %e, "could not record a refused access in the audit log");
    }
    error
}
