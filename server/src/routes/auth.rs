//! `/auth/login`, `/auth/callback` (form_post), `/auth/logout`, `/api/me`.
//!
//! The callback is a cross-site POST from the provider, so SameSite=Lax/Strict cookies are not sent
//! with it: the login's state, nonce and PKCE verifier are kept server-side keyed by `state`.
//! A random browser-binding value in a `SameSite=None` cookie (whose hash is stored with the state)
//! ties the callback to the browser that started the login (login-CSRF defence).

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::auth::oidc::LoginError;
use crate::auth::session::random_token;
use crate::domain::Pin;
use crate::error::ApiError;
use crate::extract::body::ApiForm;
use crate::extract::session::{CSRF_COOKIE, SESSION_COOKIE, Session};
use crate::models::staff_roles;
use crate::refusal::refuse;
use crate::schema::{oidc_logins, voters};
use crate::state::AppState;

/// Cookie binding a login to the browser that started it.
pub const LOGIN_COOKIE: &str = "dobush_login";

/// Routes under `/auth`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/login", web::get().to(login))
        .route("/callback", web::post().to(callback))
        .route("/logout", web::post().to(logout));
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginQuery {
    /// `web` (cookies + redirect, default) or `api` (JSON with a bearer token, for the mobile app).
    client: Option<String>,
}

fn hash_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

async fn login(state: web::Data<AppState>, q: web::Query<LoginQuery>) -> Result<HttpResponse, ApiError> {
    let client = match q.client.as_deref() {
        None | Some("web") => "web",
        Some("api") => "api",
        Some(_) => return Err(ApiError::invalid("client", "must be web or api")),
    };
    let start = state.oidc.start().await?;
    let binding = random_token();
    let now = state.clock.now().timestamp();
    let ttl = state.settings.oidc.login_ttl_secs;
    let row = (
        oidc_logins::state.eq(start.state.clone()),
        oidc_logins::nonce.eq(start.nonce.clone()),
        oidc_logins::pkce_verifier.eq(start.pkce_verifier.clone()),
        oidc_logins::browser_hash.eq(hash_hex(&binding)),
        oidc_logins::client.eq(client),
        oidc_logins::created_at.eq(now),
    );
    state
        .db
        .write(move |c| {
            diesel::delete(oidc_logins::table.filter(oidc_logins::created_at.lt(now - ttl))).execute(c)?;
            diesel::insert_into(oidc_logins::table).values(row).execute(c)?;
            Ok(())
        })
        .await?;
    let cookie = Cookie::build(LOGIN_COOKIE, binding)
        .path("/auth/callback")
        .http_only(true)
        .secure(state.settings.server.cookie_secure)
        .same_site(SameSite::None)
        .max_age(CookieDuration::seconds(ttl))
        .finish();
    Ok(HttpResponse::SeeOther().insert_header((header::LOCATION, start.url)).cookie(cookie).finish())
}

#[derive(Debug, Deserialize)]
struct CallbackForm {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The answer to an `api` login.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    /// Bearer token.
    pub token: String,
    /// CSRF token (needed only when the cookie is used instead of the bearer header).
    pub csrf_token: String,
    /// Expiry, Unix seconds.
    pub expires_at: i64,
    /// The PIN logged in.
    pub pin: String,
}

async fn callback(
    state: web::Data<AppState>,
    req: HttpRequest,
    ApiForm(form): ApiForm<CallbackForm>,
) -> Result<HttpResponse, ApiError> {
    let login_state =
        form.state.ok_or_else(|| ApiError::Malformed { field: Some("state".into()), message: "missing".into() })?;
    let now = state.clock.now().timestamp();
    let st = login_state.clone();
    let pending: Option<(String, String, String, String, i64)> = state
        .db
        .write(move |c| {
            let row = oidc_logins::table
                .filter(oidc_logins::state.eq(&st))
                .select((
                    oidc_logins::nonce,
                    oidc_logins::pkce_verifier,
                    oidc_logins::browser_hash,
                    oidc_logins::client,
                    oidc_logins::created_at,
                ))
                .first(c)
                .optional()?;
            diesel::delete(oidc_logins::table.filter(oidc_logins::state.eq(&st))).execute(c)?;
            Ok(row)
        })
        .await?;
    let Some((nonce, verifier, browser_hash, client, created_at)) = pending else {
        state.metrics.login(false);
        return Err(ApiError::Malformed {
            field: Some("state".into()),
            message: "unknown or already used login; start again".into(),
        });
    };
    if now - created_at > state.settings.oidc.login_ttl_secs {
        state.metrics.login(false);
        return Err(ApiError::Malformed {
            field: Some("state".into()),
            message: "the login expired; start again".into(),
        });
    }
    let sent = req.cookie(LOGIN_COOKIE).map(|c| hash_hex(c.value())).unwrap_or_default();
    if !bool::from(sent.as_bytes().ct_eq(browser_hash.as_bytes())) {
        state.metrics.login(false);
        let e = ApiError::forbidden("login_not_bound", "this login was started in another browser");
        return Err(refuse(&state, &req, None, "login_binding", e).await);
    }
    if let Some(err) = form.error {
        state.metrics.login(false);
        let desc = form.error_description.unwrap_or_default();
        return Err(ApiError::forbidden("login_failed", format!("the identity provider answered {err}: {desc}")));
    }
    if let Some(iss) = &form.iss
        && iss != state.oidc.issuer()
    {
        state.metrics.login(false);
        let e = ApiError::forbidden("login_failed", "the response comes from another issuer");
        return Err(refuse(&state, &req, None, "login_issuer", e).await);
    }
    let code =
        form.code.ok_or_else(|| ApiError::Malformed { field: Some("code".into()), message: "missing".into() })?;
    let identity = match state.oidc.finish(&code, &nonce, &verifier).await {
        Ok(i) => i,
        Err(LoginError::Unavailable(m)) => return Err(ApiError::Unavailable(m)),
        Err(e @ LoginError::CodeRefused) => {
            state.metrics.login(false);
            return Err(ApiError::forbidden("login_failed", e.to_string()));
        }
        Err(e @ LoginError::BadIdToken(_)) => {
            state.metrics.login(false);
            let e = ApiError::forbidden("login_failed", e.to_string());
            return Err(refuse(&state, &req, None, "id_token", e).await);
        }
    };
    let required = &state.settings.oidc.required_acr;
    if !required.is_empty() && identity.acr.as_deref() != Some(required.as_str()) {
        state.metrics.login(false);
        let e = ApiError::forbidden(
            "insufficient_acr",
            format!("this login needs authentication level {required} (e.g. the cloud signature)"),
        );
        return Err(refuse(&state, &req, Some(&identity.subject), "acr", e).await);
    }
    let Some(pin) = identity.pin.as_deref().and_then(|p| Pin::parse(p).ok()) else {
        state.metrics.login(false);
        let e = ApiError::forbidden("no_pin", "the identity provider did not supply a valid PIN");
        return Err(refuse(&state, &req, Some(&identity.subject), "pin_claim", e).await);
    };
    let p = pin.as_str().to_string();
    let (is_staff, is_voter) = state
        .db
        .run(move |c| {
            let staff = !staff_roles(c, &p)?.is_empty();
            let voter: i64 = voters::table.filter(voters::pin.eq(&p)).count().get_result(c)?;
            Ok((staff, voter > 0))
        })
        .await?;
    if !is_staff && !is_voter {
        state.metrics.login(false);
        let e = ApiError::forbidden("unknown_person", "this PIN is neither on a voter register nor a staff member");
        return Err(refuse(&state, &req, Some(pin.as_str()), "unknown_person", e).await);
    }
    if is_staff {
        let p = pin.as_str().to_string();
        state
            .db
            .write(move |c| crate::audit::append(c, now, &p, "auth.login", None, &serde_json::json!({})).map(drop))
            .await?;
    }
    let (token, claims) = state.sessions.issue(pin.as_str(), now)?;
    state.metrics.login(true);
    let (session, csrf) = session_cookies(&state, &token, &claims, now);
    let mut clear = Cookie::build(LOGIN_COOKIE, "").path("/auth/callback").finish();
    clear.make_removal();
    let mut resp = if client == "api" {
        HttpResponse::Ok()
    } else {
        let mut r = HttpResponse::SeeOther();
        r.insert_header((header::LOCATION, state.settings.server.post_login_redirect.clone()));
        r
    };
    resp.cookie(session).cookie(csrf).cookie(clear);
    if client == "api" {
        Ok(resp.json(TokenResponse { token, csrf_token: claims.csrf, expires_at: claims.exp, pin: claims.sub }))
    } else {
        Ok(resp.finish())
    }
}

/// The session cookie (HttpOnly, SameSite=Strict) and the CSRF cookie the web app's script reads.
pub(crate) fn session_cookies(
    state: &AppState,
    token: &str,
    claims: &crate::auth::session::SessionClaims,
    now: i64,
) -> (Cookie<'static>, Cookie<'static>) {
    let secure = state.settings.server.cookie_secure;
    let max_age = CookieDuration::seconds(claims.exp - now);
    let session = Cookie::build(SESSION_COOKIE, token.to_string())
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(max_age)
        .finish();
    let csrf = Cookie::build(CSRF_COOKIE, claims.csrf.clone())
        .path("/")
        .http_only(false)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(max_age)
        .finish();
    (session, csrf)
}

/// Ends the session server-side (`auth::revocation`): its token, cookie or bearer, is refused
/// from now on by every server, then clears the cookies.
async fn logout(state: web::Data<AppState>, session: Session) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now().timestamp();
    let claims = session.claims;
    state.db.write(move |c| crate::auth::revocation::revoke(c, &claims, now)).await?;
    let mut s = Cookie::build(SESSION_COOKIE, "").path("/").finish();
    s.make_removal();
    let mut c = Cookie::build(CSRF_COOKIE, "").path("/").finish();
    c.make_removal();
    Ok(HttpResponse::NoContent().cookie(s).cookie(c).finish())
}

/// Who am I: PIN, staff roles, and the campaigns whose register holds me.
pub async fn me(state: web::Data<AppState>, session: Session) -> Result<HttpResponse, ApiError> {
    let p = session.pin.as_str().to_string();
    let (roles, campaigns) = state
        .db
        .run(move |c| {
            let roles = staff_roles(c, &p)?;
            let campaigns: Vec<String> =
                voters::table.filter(voters::pin.eq(&p)).select(voters::campaign_id).load(c)?;
            Ok((roles, campaigns))
        })
        .await?;
    let roles: Vec<serde_json::Value> =
        roles.into_iter().map(|g| serde_json::json!({ "role": g.role, "territory": g.territory })).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "pin": session.pin,
        "staff_roles": roles,
        "voter_in_campaigns": campaigns,
        "expires_at": session.claims.exp,
        "via": if session.via_cookie { "cookie" } else { "bearer" },
    })))
}
