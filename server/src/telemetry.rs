//! Logging through `tracing`. `RUST_LOG`, when set, overrides the configured filter.

use tracing_subscriber::EnvFilter;

use crate::configuration::LogSettings;

/// Installs the global subscriber once; later calls (tests) are no-ops.
pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.filter));
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
