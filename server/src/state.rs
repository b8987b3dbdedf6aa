//! The shared state of every request, and how a handler or an extractor finds it.

use std::sync::Arc;

use actix_web::{HttpRequest, web};

use crate::auth::oidc::Oidc;
use crate::auth::session::SessionKeys;
use crate::clock::Clock;
use crate::configuration::Settings;
use crate::db::Db;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::ratelimit::RateLimiter;

/// Shared state of every request.
pub struct AppState {
    /// Database pool.
    pub db: Db,
    /// Settings.
    pub settings: Arc<Settings>,
    /// The clock for every deadline and window decision.
    pub clock: Arc<dyn Clock>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Session token keys.
    pub sessions: SessionKeys,
    /// The OIDC relying party.
    pub oidc: Oidc,
    /// Rate limiter.
    pub limiter: RateLimiter,
    /// Anonymous refusals counted in memory until the next flush (`crate::refusal_counts`).
    pub refusals: Arc<crate::refusal_counts::AnonymousRefusals>,
    /// The load balancers whose `X-Forwarded-For` names the client (`server.trusted_proxies`).
    pub proxies: crate::client_address::TrustedProxies,
    /// Turnout as last published per campaign, by the number of slots ended.
    pub turnout: crate::read_cache::Published,
    /// Every campaign's bulletin board and the board key.
    pub boards: Arc<crate::board_log::Boards>,
    /// Ballot verification, batched across concurrent requests.
    pub verifier: crate::cast::batch::BatchVerifier,
    /// Recording of verified ballots, committed in groups.
    pub committer: crate::cast::commit::Committer,
    /// One filter transcript read and checked at a time (`routes::filter`): each is large and its
    /// check is long (review 19-filtered H1, M1).
    pub filter_checks: Arc<tokio::sync::Semaphore>,
}

/// The application state of a request.
pub fn state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("application state missing")))
}
