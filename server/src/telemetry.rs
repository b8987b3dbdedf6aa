//! Logging through `tracing`. `RUST_LOG`, when set, overrides the configured filter, except in
//! production (`server.production`), where only `log.filter` counts: its guard (no debug or
//! trace) would mean nothing if an environment variable could lift it.
//!
//! PINs stay out of these logs (the audit log is where they belong): a request's span carries its
//! route pattern (`/api/staff/{pin}/{role}`), never its path, and a refusal is logged without
//! the refused person's PIN (`refusal::refuse`). tracing-actix-web's `emit_event_on_error` (a
//! default feature, off here: `Cargo.toml`) would log every 4xx's error text, which can echo a PIN
//! from a path or a JSON body; server errors are logged by `error.rs` instead.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use tracing::Span;
use tracing_actix_web::RootSpanBuilder;
use tracing_subscriber::EnvFilter;

use crate::configuration::LogSettings;

/// Installs the global subscriber once; later calls (tests) are no-ops. `production`: ignore
/// `RUST_LOG`.
pub fn init(settings: &LogSettings, production: bool) {
    let from_env = if production { None } else { EnvFilter::try_from_default_env().ok() };
    let filter = from_env.unwrap_or_else(|| EnvFilter::new(&settings.filter));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let result = if settings.json { builder.json().try_init() } else { builder.try_init() };
    drop(result);
}

/// Runs blocking work (diesel) on the blocking pool, inside the caller's span.
pub async fn spawn_blocking_with_tracing<F, R>(f: F) -> Result<R, actix_web::error::BlockingError>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let span = tracing::Span::current();
    actix_web::web::block(move || span.in_scope(f)).await
}

/// The root span of every request: method, route pattern and status, never the path or the query
/// (they may hold a PIN) nor the error's text (it may echo the input).
#[derive(Debug)]
pub struct RedactedRootSpan;

impl RootSpanBuilder for RedactedRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let route = request.match_pattern().unwrap_or_else(|| "unmatched".into());
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            http.status_code = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, actix_web::Error>) {
        let status = match outcome {
            Ok(response) => response.status(),
            Err(error) => error.as_response_error().status_code(),
        };
        span.record("http.status_code", status.as_u16());
    }
}
