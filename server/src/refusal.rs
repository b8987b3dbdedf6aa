//! Refused access: logged, counted, written to the audit log with an alert, then answered. The
//! HTTP layer decides what is a refusal; the audit chain records it (`audit::record_refusal`).
//!
//! A refusal of someone not signed in is aggregated instead (`audit::record_anonymous_refusal`):
//! one audit entry and one alert per kind and window (`[alerts] refusal_window_secs`), the rest
//! counted. The count is kept in this server's memory ([`AnonymousRefusals`](crate::refusal_counts::AnonymousRefusals)) and added to the
//! database's `refusal_counts` row about once a second ([`FLUSH_EVERY`](crate::refusal_counts::FLUSH_EVERY), one write transaction
//! for every window that grew), so that a crowd of invalid tokens costs no write per request
//! and queues on no row lock (review 18-hardening M2); only a window's first refusal on this
//! server is written while the request waits. The count holds across servers (each adds its own
//! to the same row); refusals counted but not yet added when a server stops are lost.

use actix_web::HttpRequest;

use crate::audit::record_refusal;
use crate::error::ApiError;
use crate::refusal_counts::Refused;
use crate::state::AppState;

/// The client's address: the peer, or behind a trusted proxy the address it forwarded
/// (`crate::client_address`; a client's own `X-Forwarded-For` is never believed).
pub fn client_ip(state: &AppState, req: &HttpRequest) -> Option<String> {
    state.proxies.client(req.peer_addr().map(|a| a.ip()), req.headers()).map(|ip| ip.to_string())
}

/// Logs, audits and raises an alert for a refused access, then returns `error` for the client.
/// A refusal of someone not signed in is counted in memory unless it opens its window on this
/// server ([`AnonymousRefusals`](crate::refusal_counts::AnonymousRefusals)).
pub async fn refuse(
    state: &AppState,
    req: &HttpRequest,
    actor: Option<&str>,
    kind: &'static str,
    error: ApiError,
) -> ApiError {
    let ip = client_ip(state, req);
    let anonymous = actor.is_none();
    let actor = match actor {
        Some(a) => a.to_string(),
        None => format!("anonymous@{}", ip.as_deref().unwrap_or("unknown")),
    };
    let path = req.path().to_string();
    let reason = error.to_string();
    // the application log names neither the person nor the path (a PIN may be in either) nor
    // the reason (it may echo the input); the audit row below has them all
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
    let who = if anonymous { "anonymous" } else { "signed-in person" };
    tracing::warn!(who, %route, kind, code = error.code(), "access refused (details in the audit log)");
    state.metrics.access_refused();
    let refused = Refused { at: state.clock.now().timestamp(), actor, ip, path, reason };
    let result = if anonymous {
        let window = i64::try_from(state.settings.alerts.refusal_window_secs).unwrap_or(i64::MAX).max(1);
        let window_start = refused.at - refused.at.rem_euclid(window);
        if !state.refusals.count(kind, window_start, &refused) {
            // counted; the next flush adds it to the database
            return error;
        }
        // written on a task of its own, whose end the request awaits: a request cancelled
        // meanwhile (its client gone) no longer leaves the window being written for ever
        // (review 18-hardening-round2 M1)
        state.refusals.open(&state.db, &state.metrics, kind, window_start, window, refused).await
    } else {
        state.metrics.refusal_write();
        state
            .db
            .write(move |c| {
                let r = refused.as_refusal(kind);
                record_refusal(c, r.at, r.actor, r.ip, r.path, kind, r.reason).map(drop)
            })
            .await
    };
    if let Err(e) = result {
        tracing::error!(error = %e, "could not record a refused access in the audit log");
    }
    error
}
