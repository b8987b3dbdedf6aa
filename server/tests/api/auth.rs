use dobush_server::auth::session::SessionKeys;
use dobush_server::clock::Clock;
use serde_json::json;

use crate::helpers::{ACR_STRONG, ACR_WEAK, ADMIN_PIN, Backend, assert_error, http_client, spawn_app};

async fn login_end_to_end_through_the_provider(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let r = admin.get("/api/me").await;
    assert_eq!(r.status(), 200);
    let me: serde_json::Value = r.json().await.unwrap();
    assert_eq!(me["pin"], ADMIN_PIN);
    assert_eq!(admin.pin, ADMIN_PIN);
    assert_eq!(me["staff_roles"][0]["role"], "cec_admin");
    assert_eq!(me["via"], "bearer");
}

async fn web_login_uses_cookies_and_csrf(b: Backend) {
    let app = spawn_app(b).await;
    let mut user = app.try_login(ADMIN_PIN, ACR_STRONG, "web").await.unwrap();
    let me: serde_json::Value = user.get("/api/me").await.json().await.unwrap();
    assert_eq!(me["via"], "cookie");
    // an unsafe request from the cookie session without the CSRF header is refused and alerted
    let before = app.open_alerts().await;
    let r = user.http.post(app.url("/auth/logout")).send().await.unwrap();
    assert_error(r, 403, "csrf_failed").await;
    user.csrf = "wrong".into();
    assert_error(user.post("/auth/logout", &json!({})).await, 403, "csrf_failed").await;
    assert_eq!(app.open_alerts().await, before + 2);
    let user = app.try_login(ADMIN_PIN, ACR_STRONG, "web").await.unwrap();
    assert_eq!(user.post("/auth/logout", &json!({})).await.status(), 204);
}

async fn weak_acr_is_refused(b: Backend) {
    let app = spawn_app(b).await;
    let e = app.try_login(ADMIN_PIN, ACR_WEAK, "api").await.err().unwrap();
    assert_eq!(e.status, 403);
    assert_eq!(e.body["error"], "insufficient_acr");
    assert_eq!(app.open_alerts().await, 1);
}

async fn unknown_people_and_missing_pins_are_refused(b: Backend) {
    let app = spawn_app(b).await;
    let e = app.try_login("29999199900099", ACR_STRONG, "api").await.err().unwrap();
    assert_eq!((e.status, e.body["error"].as_str()), (403, Some("unknown_person")));
    let e = app.try_login("nopin-citizen", ACR_STRONG, "api").await.err().unwrap();
    assert_eq!((e.status, e.body["error"].as_str()), (403, Some("no_pin")));
    assert_eq!(app.open_alerts().await, 2);
}

async fn callback_state_is_single_use_and_bound_to_the_browser(b: Backend) {
    let app = spawn_app(b).await;
    let http = http_client();
    let r = http.get(app.url("/auth/login?client=api")).send().await.unwrap();
    let start = reqwest::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    assert!(start.query().unwrap().contains("code_challenge_method=S256"));
    assert!(start.query().unwrap().contains("response_mode=form_post"));
    assert!(start.query().unwrap().contains("nonce="));
    let (action, fields) =
        crate::helpers::provider_login(&http, start, ADMIN_PIN, crate::helpers::PROVIDER_PASSWORD, ACR_STRONG).await;
    // another browser (no binding cookie) cannot use this callback
    let r = http_client().post(&action).form(&fields).send().await.unwrap();
    assert_error(r, 403, "login_not_bound").await;
    // the state was consumed by that attempt: the rightful browser must start again
    let r = http.post(&action).form(&fields).send().await.unwrap();
    let body = assert_error(r, 400, "malformed_request").await;
    assert_eq!(body["field"], "state");
    // a GET callback is not accepted (form_post only)
    let r = http.get(app.url("/auth/callback")).send().await.unwrap();
    assert_eq!(r.status(), 404);
}

async fn cookies_carry_the_right_attributes(b: Backend) {
    let app = crate::helpers::spawn_app_with(b, |s| s.server.cookie_secure = true).await;
    let r = http_client().get(app.url("/auth/login")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let set = r.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect::<Vec<_>>();
    let binding = set.iter().find(|c| c.starts_with("dobush_login=")).unwrap();
    for attr in ["HttpOnly", "SameSite=None", "Secure", "Path=/auth/callback"] {
        assert!(binding.contains(attr), "{attr} in {binding}");
    }
    // the web login's session cookie: HttpOnly + SameSite=Strict; the CSRF cookie readable by script
    let app = spawn_app(b).await;
    let http = http_client();
    let r = http.get(app.url("/auth/login?client=web")).send().await.unwrap();
    let start = reqwest::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let (action, fields) =
        crate::helpers::provider_login(&http, start, ADMIN_PIN, crate::helpers::PROVIDER_PASSWORD, ACR_STRONG).await;
    let r = http.post(&action).form(&fields).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/#/cabinet");
    let set = r.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect::<Vec<_>>();
    let session = set.iter().find(|c| c.starts_with("dobush_session=")).unwrap();
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Strict"), "{session}");
    let csrf = set.iter().find(|c| c.starts_with("dobush_csrf=")).unwrap();
    assert!(!csrf.contains("HttpOnly") && csrf.contains("SameSite=Strict"), "{csrf}");
}

async fn bad_tokens_are_refused(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let http = http_client();
    let me = app.url("/api/me");
    // no token
    assert_error(http.get(&me).send().await.unwrap(), 401, "unauthorized").await;
    let alerts = app.open_alerts().await;
    // a token from another server (foreign key)
    let foreign = SessionKeys::new(&ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]), "dobush", 900).unwrap();
    let (t, _) = foreign.issue(ADMIN_PIN, app.clock.now().timestamp()).unwrap();
    assert_error(http.get(&me).bearer_auth(t).send().await.unwrap(), 401, "unauthorized").await;
    // alg confusion: HS256 keyed with our public key
    let claims: serde_json::Value = {
        let payload = admin.token.split('.').nth(1).unwrap();
        serde_json::from_slice(&base64url(payload)).unwrap()
    };
    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(&app.state.sessions.public_key()),
    )
    .unwrap();
    assert_error(http.get(&me).bearer_auth(hs).send().await.unwrap(), 401, "unauthorized").await;
    // alg none
    let parts: Vec<&str> = admin.token.split('.').collect();
    let none = format!("{}.{}.", b64(br#"{"alg":"none","typ":"JWT"}"#), parts[1]);
    assert_error(http.get(&me).bearer_auth(none).send().await.unwrap(), 401, "unauthorized").await;
    // tampered payload
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(claims.to_string().replace(ADMIN_PIN, "10101197000002").as_bytes()),
        parts[2]
    );
    assert_error(http.get(&me).bearer_auth(tampered).send().await.unwrap(), 401, "unauthorized").await;
    // anonymous refusals: counted each, one alert per kind and window (audit::record_anonymous_refusal)
    assert_eq!(app.refusals("invalid_token").await, 4, "each forged token is counted");
    assert_eq!(app.open_alerts().await, alerts + 1, "in one alert");
    // expiry follows the injected clock
    assert_eq!(admin.get("/api/me").await.status(), 200);
    app.clock.advance(chrono::Duration::seconds(app.state.settings.session.ttl_secs));
    let body = assert_error(admin.get("/api/me").await, 401, "unauthorized").await;
    assert!(body["message"].as_str().unwrap().contains("expired"));
}

fn b64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn base64url(s: &str) -> Vec<u8> {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let vals: Vec<u32> = s.bytes().map(|c| A.iter().position(|a| *a == c).unwrap() as u32).collect();
    let mut out = Vec::new();
    for chunk in vals.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, v)| acc | (v << (18 - 6 * i)));
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

#[tokio::test]
async fn the_provider_is_not_a_fake_that_accepts_anything() {
    // wrong password: the provider shows its form again and never redirects back
    let http = http_client();
    let issuer = crate::helpers::provider_issuer();
    let url = format!(
        "{issuer}/auth?client_id=dobush-test&response_type=code&scope=openid%20pin&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fauth%2Fcallback\
         &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&nonce=n&state=s&response_mode=form_post"
    );
    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let interaction = reqwest::Url::parse(&url).unwrap().join(r.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(http.get(interaction.clone()).send().await.unwrap().status(), 200);
    let r = http
        .post(interaction)
        .form(&[("login", ADMIN_PIN), ("password", "guess"), ("acr", ACR_STRONG)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("wrong login or password"));
}

crate::backend_tests!(
    login_end_to_end_through_the_provider,
    web_login_uses_cookies_and_csrf,
    weak_acr_is_refused,
    unknown_people_and_missing_pins_are_refused,
    callback_state_is_single_use_and_bound_to_the_browser,
    bad_tokens_are_refused,
    cookies_carry_the_right_attributes,
);
