//! Extractors: who is calling, and may they do this.

use std::future::Future;
use std::pin::Pin as StdPin;

use actix_web::dev::Payload;
use actix_web::http::{Method, header};
use actix_web::{FromRequest, HttpRequest};
use subtle::ConstantTimeEq;

use crate::auth::session::{SessionClaims, SessionError};
use crate::domain::{Pin, Role};
use crate::error::ApiError;
use crate::models::{StaffGrant, staff_roles};
use crate::refusal::refuse;
use crate::state::{AppState, state};

/// Session cookie (HttpOnly, SameSite=Strict).
pub const SESSION_COOKIE: &str = "dobush_session";
/// CSRF cookie (readable by the web app's script, which echoes it in [`CSRF_HEADER`]).
pub const CSRF_COOKIE: &str = "dobush_csrf";
/// Header that must carry the session's CSRF token on unsafe cookie-authenticated requests.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Session {
    /// The caller's PIN.
    pub pin: Pin,
    /// The token's claims.
    pub claims: SessionClaims,
    /// Whether the token came from the cookie (then CSRF was checked) or a bearer header.
    pub via_cookie: bool,
}

impl FromRequest for Session {
    type Error = ApiError;
    type Future = StdPin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(&req).await })
    }
}

async fn authenticate(req: &HttpRequest) -> Result<Session, ApiError> {
    let state = state(req)?;
    let (token, via_cookie) = if let Some(h) = req.headers().get(header::AUTHORIZATION) {
        let v = h.to_str().map_err(|_| ApiError::Unauthorized("malformed Authorization header".into()))?;
        let t = v
            .strip_prefix("Bearer ")
            .ok_or_else(|| ApiError::Unauthorized("Authorization must be `Bearer <token>`".into()))?;
        (t.trim().to_string(), false)
    } else if let Some(c) = req.cookie(SESSION_COOKIE) {
        (c.value().to_string(), true)
    } else {
        return Err(ApiError::Unauthorized("login required".into()));
    };
    let now = state.clock.now().timestamp();
    let claims = match state.sessions.verify(&token, now) {
        Ok(c) => c,
        Err(SessionError::Expired) => return Err(ApiError::Unauthorized(SessionError::Expired.to_string())),
        Err(SessionError::Invalid) => {
            let e = ApiError::Unauthorized(SessionError::Invalid.to_string());
            return Err(refuse(&state, req, None, "invalid_token", e).await);
        }
    };
    let pin = Pin::parse(&claims.sub).map_err(|_| ApiError::Unauthorized("invalid session token".into()))?;
    let jti = claims.jti.clone();
    if state.db.run(move |c| crate::auth::revocation::is_revoked(c, &jti)).await? {
        // a token replayed after its logout is a sign of theft: audited (and alerted) with the
        // person it names, like any refusal of a signed-in caller
        let e = ApiError::Unauthorized("this session has ended (logged out); log in again".into());
        return Err(refuse(&state, req, Some(pin.as_str()), "revoked_session", e).await);
    }
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if via_cookie && !safe {
        let sent = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !bool::from(sent.as_bytes().ct_eq(claims.csrf.as_bytes())) {
            let e = ApiError::forbidden("csrf_failed", format!("missing or wrong {CSRF_HEADER} header"));
            return Err(refuse(&state, req, Some(pin.as_str()), "csrf", e).await);
        }
    }
    if let Some(campaign) = &claims.demo {
        demo_scope(&state, req, &pin, campaign).await?;
    }
    Ok(Session { pin, claims, via_cookie })
}

/// A demo session works only while the configuration allows demo mode, and only on its own
/// campaign's routes (and `/api/me`, `/auth/logout`); anything else is refused and audited.
async fn demo_scope(state: &AppState, req: &HttpRequest, pin: &Pin, campaign: &str) -> Result<(), ApiError> {
    if !state.settings.campaigns.allow_demo_mode {
        let e =
            ApiError::forbidden("demo_disabled", "demo mode is disabled in this configuration; demo sessions are void");
        return Err(refuse(state, req, Some(pin.as_str()), "demo_session", e).await);
    }
    let path = req.path();
    let own_campaign =
        path.starts_with("/api/campaigns/") && req.match_info().get("id").is_some_and(|id| id == campaign);
    if own_campaign || path == "/api/me" || path == "/auth/logout" {
        return Ok(());
    }
    let e =
        ApiError::forbidden("demo_session", format!("a demo session is valid only for the demo campaign {campaign}"));
    Err(refuse(state, req, Some(pin.as_str()), "demo_session", e).await)
}

/// Requires one of `allowed`; otherwise the refusal is audited, alerted and answered 403.
pub async fn require_staff(
    state: &AppState,
    req: &HttpRequest,
    session: &Session,
    allowed: &[Role],
) -> Result<Vec<StaffGrant>, ApiError> {
    let pin = session.pin.as_str().to_string();
    // A demo session never carries a staff role, whoever's PIN it names.
    let grants =
        if session.claims.demo.is_some() { Vec::new() } else { state.db.run(move |c| staff_roles(c, &pin)).await? };
    let matching: Vec<StaffGrant> = grants.into_iter().filter(|g| allowed.contains(&g.role)).collect();
    if matching.is_empty() {
        let names: Vec<&str> = allowed.iter().map(|r| r.as_str()).collect();
        let e = ApiError::forbidden("forbidden_role", format!("this action requires the role {}", names.join(" or ")));
        return Err(refuse(state, req, Some(session.pin.as_str()), "role", e).await);
    }
    Ok(matching)
}

/// The per-voter write limit of a voter's requests (the cabinet, casting, ballot issuance):
/// 429 with the seconds to wait.
pub fn rate_limit_voter(state: &AppState, session: &Session) -> Result<(), ApiError> {
    let key = format!("voter:{}", session.pin);
    state.limiter.check(&key, state.settings.rate_limit.per_voter_per_minute).map_err(|retry_after_secs| {
        state.metrics.rate_limited();
        ApiError::TooManyRequests { retry_after_secs }
    })
}

/// The territories `grants` may act in; `None` = all (a CEC administrator).
pub fn territories(grants: &[StaffGrant]) -> Option<std::collections::HashSet<String>> {
    if grants.iter().any(|g| g.role == Role::CecAdmin) {
        None
    } else {
        Some(grants.iter().filter_map(|g| g.territory.clone()).collect())
    }
}

/// A campaign-wide action (the protocol, the credential list's signatures) by a territorial
/// administrator: allowed only if every precinct of campaign `id` lies in its territories;
/// otherwise refused (403 `outside_territory`, audited). A CEC administrator acts everywhere.
pub async fn require_campaign_in_territory(
    state: &AppState,
    req: &HttpRequest,
    session: &Session,
    grants: &[StaffGrant],
    id: &str,
) -> Result<(), ApiError> {
    let Some(allowed) = territories(grants) else { return Ok(()) };
    let cid = id.to_string();
    let precincts = state.db.run(move |c| crate::models::load_precincts(c, &cid)).await?;
    let outside: Vec<String> = precincts.into_iter().map(|p| p.territory).filter(|t| !allowed.contains(t)).collect();
    if outside.is_empty() {
        return Ok(());
    }
    let e = ApiError::forbidden(
        "outside_territory",
        format!("this campaign has precincts in territories outside yours ({})", outside.join(", ")),
    );
    Err(refuse(state, req, Some(session.pin.as_str()), "territory", e).await)
}
