//! `spawn_app`: a fresh database (a uniquely named PostgreSQL database or a temporary SQLite file)
//! per test, the real server on port 0, a manual clock, and a real OpenID provider process
//! (`server/tests/oidc/provider.mjs`, panva/oidc-provider) shared by the tests of this binary.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, TimeZone, Utc};
use diesel::prelude::*;
use dobush_server::clock::ManualClock;
use dobush_server::configuration::Settings;
use dobush_server::db::Db;
use dobush_server::startup::Application;
use dobush_server::state::AppState;
use reqwest::Url;
use serde_json::Value;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// Generates `pg::<name>` and `sqlite::<name>` tests from `async fn <name>(Backend)`.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),+ $(,)?) => {
        mod pg {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::helpers::Backend::Postgres).await } )+
        }
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::helpers::Backend::Sqlite).await } )+
        }
    };
}

pub const ADMIN_PIN: &str = "10101197000001";
pub const ACR_STRONG: &str = "urn:dobush:test:cloud-signature";
pub const ACR_WEAK: &str = "urn:dobush:test:password";
pub const PROVIDER_PASSWORD: &str = "test-password";

/// The shared OIDC provider process. Its stdin is held open here; when the test process exits
/// the pipe closes and the provider exits (it watches stdin).
struct Provider {
    issuer: String,
    _child: Child,
    _stdin: ChildStdin,
}

static PROVIDER: OnceLock<Mutex<Option<Provider>>> = OnceLock::new();

fn oidc_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("oidc")
}

pub fn provider_issuer() -> String {
    let cell = PROVIDER.get_or_init(|| Mutex::new(None));
    let mut guard = cell.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = guard.as_ref() {
        return p.issuer.clone();
    }
    let dir = oidc_dir();
    if !dir.join("node_modules").join("oidc-provider").exists() {
        let status = Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&dir).status();
        assert!(
            matches!(status, Ok(s) if s.success()),
            "`npm ci` in {} failed; the OIDC tests need node 20 and npm (scripts/test.sh runs it)",
            dir.display()
        );
    }
    let mut child = Command::new("node")
        .arg("provider.mjs")
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting node server/tests/oidc/provider.mjs");
    let stdin = child.stdin.take().expect("provider stdin");
    let stdout = child.stdout.take().expect("provider stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("reading the provider's first line");
    let issuer = line
        .strip_prefix("LISTENING ")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| panic!("the OIDC provider did not start: {line:?}"));
    *guard = Some(Provider { issuer: issuer.clone(), _child: child, _stdin: stdin });
    issuer
}

/// A fresh database; dropped (PostgreSQL) or deleted (SQLite) when the test ends.
pub struct TestDb {
    pub url: String,
    backend: Backend,
    pg_name: Option<String>,
    sqlite_path: Option<PathBuf>,
}

pub fn pg_base_url() -> String {
    std::env::var("DOBUSH_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

impl TestDb {
    pub fn new(backend: Backend) -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        match backend {
            Backend::Postgres => {
                let base = pg_base_url();
                let mut admin = PgConnection::establish(&format!("{base}/postgres")).unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL is unreachable at {base} ({e}). The suite runs on both backends and never \
                         skips: start it with `pg_ctlcluster --skip-systemctl-redirect 15 main start` or set DOBUSH_TEST_PG_URL"
                    )
                });
                let name = format!("dobush_test_{id}");
                diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).expect("CREATE DATABASE");
                Self { url: format!("{base}/{name}"), backend, pg_name: Some(name), sqlite_path: None }
            }
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("dobush-test-{id}.sqlite3"));
                Self { url: format!("sqlite://{}", path.display()), backend, pg_name: None, sqlite_path: Some(path) }
            }
        }
    }
}

impl TestDb {
    /// A database this suite did not create (a throw-away cluster of a fault test): not dropped.
    pub fn external(url: String) -> Self {
        Self { url, backend: Backend::Postgres, pg_name: None, sqlite_path: None }
    }

    /// The PostgreSQL database name (for `pg_terminate_backend`).
    pub fn pg_name(&self) -> Option<&str> {
        self.pg_name.as_deref()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.pg_name
            && let Ok(mut admin) = PgConnection::establish(&format!("{}/postgres", pg_base_url()))
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin);
        }
        if let Some(p) = &self.sqlite_path {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
            }
        }
        let _ = self.backend;
    }
}

pub struct TestApp {
    pub address: String,
    /// Stops the in-process server (its pool stays usable through `state`).
    pub server: actix_web::dev::ServerHandle,
    pub clock: Arc<ManualClock>,
    pub state: actix_web::web::Data<AppState>,
    pub backend: Backend,
    pub _db: TestDb,
}

/// 1 March 2023, 12:00 Bishkek time: registration for a 9 April 2023 vote is open.
pub fn default_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2023, 3, 1, 6, 0, 0).unwrap()
}

pub fn test_settings(db_url: &str) -> Settings {
    let mut s = Settings::default();
    s.server.port = 0;
    s.database.url = db_url.to_string();
    s.database.max_connections = 4;
    s.oidc.issuer_url = provider_issuer();
    s.oidc.client_id = "dobush-test".into();
    s.oidc.client_secret = "dobush-test-secret".into();
    s.oidc.scopes = vec!["pin".into(), "profile".into()];
    s.oidc.required_acr = ACR_STRONG.into();
    // two CEC administrators appointed independently (the second confirms commissions: dual
    // control between persons fixed before a commission is set up, 14-commission.md)
    s.bootstrap.cec_admin_pins = vec![ADMIN_PIN.into(), SECOND_ADMIN_PIN.into()];
    s.campaigns.allow_demo_mode = true;
    s.campaigns.allow_unfinished_ballot_v2 = true;
    s.rate_limit.per_address_per_minute = 100_000;
    s.rate_limit.per_voter_per_minute = 1_000;
    s.server.workers = 2;
    let key = std::env::temp_dir().join("dobush-test-board.key");
    // the server never generates its board key while serving: the tests make it beforehand
    dobush_server::board_log::generate_key_file(&key).expect("making the tests' board key");
    s.board.key_path = key.display().to_string();
    s
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_on(TestDb::new(backend), tweak).await
}

/// The app on a given database.
pub async fn spawn_app_on(db: TestDb, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let backend = db.backend;
    let mut settings = test_settings(&db.url);
    tweak(&mut settings);
    let clock = Arc::new(ManualClock::new(default_now()));
    let app = Application::build(settings, clock.clone()).await.expect("building the application");
    let port = app.port();
    let state = app.state();
    let server = app.handle();
    tokio::spawn(app.run_until_stopped());
    TestApp { address: format!("http://127.0.0.1:{port}"), server, clock, state, backend, _db: db }
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// A logged-in user: a bearer token and, for web logins, the cookie jar and CSRF token.
#[derive(Clone)]
pub struct User {
    pub pin: String,
    pub token: String,
    pub csrf: String,
    pub http: reqwest::Client,
    pub base: String,
    pub use_cookie: bool,
}

/// What a login attempt ended with, when it did not produce a session.
#[derive(Debug)]
pub struct LoginRefused {
    pub status: u16,
    pub body: Value,
}

fn html_unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let Some(end) = tail.find(';') else {
            out.push_str(tail);
            return out;
        };
        let ent = &tail[1..end];
        let ch = match ent {
            "amp" => Some('&'),
            "quot" => Some('"'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "apos" => Some('\''),
            e if e.starts_with("#x") || e.starts_with("#X") => {
                u32::from_str_radix(&e[2..], 16).ok().and_then(char::from_u32)
            }
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match ch {
            Some(c) => out.push(c),
            None => out.push_str(&tail[..=end]),
        }
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The browser side of the provider's pages up to the form_post page; returns (action, fields).
pub async fn provider_login(
    http: &reqwest::Client,
    start: Url,
    login: &str,
    password: &str,
    acr: &str,
) -> (String, Vec<(String, String)>) {
    // authorize → interaction page
    let mut url = start;
    let mut page = None;
    for _ in 0..5 {
        let r = http.get(url.clone()).send().await.unwrap();
        if r.status().is_redirection() {
            let loc = r.headers()["location"].to_str().unwrap().to_string();
            url = url.join(&loc).unwrap();
            continue;
        }
        assert_eq!(r.status(), 200, "provider page {url}");
        page = Some(r.text().await.unwrap());
        break;
    }
    let page = page.expect("interaction page");
    assert!(page.contains("name=\"login\""), "not the login form: {page}");
    // submit the login form (same URL)
    let r =
        http.post(url.clone()).form(&[("login", login), ("password", password), ("acr", acr)]).send().await.unwrap();
    if r.status() == 200 {
        let body = r.text().await.unwrap();
        panic!("the provider refused the login: {body}");
    }
    assert!(r.status().is_redirection(), "login POST: {}", r.status());
    let mut next = url.join(r.headers()["location"].to_str().unwrap()).unwrap();
    // resume → (maybe more redirects) → form_post page
    for _ in 0..5 {
        let r = http.get(next.clone()).send().await.unwrap();
        if r.status().is_redirection() {
            next = next.join(r.headers()["location"].to_str().unwrap()).unwrap();
            continue;
        }
        let html = r.text().await.unwrap();
        let action = regex_lite::Regex::new(r#"<form[^>]*action="([^"]+)""#).unwrap();
        let input = regex_lite::Regex::new(r#"<input[^>]*name="([^"]+)"[^>]*value="([^"]*)""#).unwrap();
        let action = html_unescape(&action.captures(&html).unwrap_or_else(|| panic!("no form_post form: {html}"))[1]);
        let fields = input.captures_iter(&html).map(|c| (c[1].to_string(), html_unescape(&c[2]))).collect();
        return (action, fields);
    }
    panic!("too many redirects at the provider");
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn db(&self) -> Db {
        self.state.db.clone()
    }

    /// Full login through the real provider; `client` is "api" (bearer) or "web" (cookies).
    pub async fn try_login(&self, login: &str, acr: &str, client: &str) -> Result<User, LoginRefused> {
        let http = http_client();
        let r = http.get(self.url(&format!("/auth/login?client={client}"))).send().await.unwrap();
        assert_eq!(r.status(), 303, "login start");
        let start = Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
        let (action, fields) = provider_login(&http, start, login, PROVIDER_PASSWORD, acr).await;
        assert!(action.starts_with(&self.address), "form_post goes to {action}");
        let r = http.post(&action).form(&fields).send().await.unwrap();
        let status = r.status().as_u16();
        if client == "web" && status == 303 {
            let csrf =
                r.cookies().find(|c| c.name() == "dobush_csrf").map(|c| c.value().to_string()).expect("csrf cookie");
            let token = r
                .cookies()
                .find(|c| c.name() == "dobush_session")
                .map(|c| c.value().to_string())
                .expect("session cookie");
            return Ok(User { pin: login.into(), token, csrf, http, base: self.address.clone(), use_cookie: true });
        }
        let body: Value = r.json().await.unwrap_or(Value::Null);
        if status == 200 {
            return Ok(User {
                pin: body["pin"].as_str().unwrap().into(),
                token: body["token"].as_str().unwrap().into(),
                csrf: body["csrf_token"].as_str().unwrap().into(),
                http,
                base: self.address.clone(),
                use_cookie: false,
            });
        }
        Err(LoginRefused { status, body })
    }

    pub async fn login(&self, pin: &str) -> User {
        self.try_login(pin, ACR_STRONG, "api").await.unwrap_or_else(|e| panic!("login of {pin} refused: {e:?}"))
    }

    pub async fn admin(&self) -> User {
        self.login(ADMIN_PIN).await
    }

    pub async fn open_alerts(&self) -> i64 {
        use dobush_server::schema::alerts;
        let db = self.db();
        tokio::task::spawn_blocking(move || {
            let mut c = db.get().unwrap();
            alerts::table.filter(alerts::acknowledged_at.is_null()).count().get_result::<i64>(&mut *c).unwrap()
        })
        .await
        .unwrap()
    }

    /// Waits until the anonymous refusals counted in the server's memory are in the database
    /// (they are added about once a second, `dobush_server::refusal`).
    pub async fn refusals_flushed(&self) {
        let started = std::time::Instant::now();
        while self.state.refusals.unflushed() > 0 {
            assert!(started.elapsed() < std::time::Duration::from_secs(30), "counted refusals never flushed");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Refusals of `kind` recorded: one per alert, or the count an aggregated alert stands for
    /// (refusals of callers not signed in, `audit::record_anonymous_refusal`).
    pub async fn refusals(&self, kind: &'static str) -> i64 {
        use dobush_server::schema::{alerts, refusal_counts};
        self.refusals_flushed().await;
        self.with_db(move |c| {
            let counts: Vec<Option<i64>> = alerts::table
                .left_join(refusal_counts::table.on(refusal_counts::alert_id.eq(alerts::id)))
                .filter(alerts::kind.eq(kind))
                .select(refusal_counts::count.nullable())
                .load(c)
                .unwrap();
            counts.into_iter().map(|n| n.unwrap_or(1)).sum()
        })
        .await
    }

    /// Runs blocking diesel code against the app's database.
    pub async fn with_db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dobush_server::db::AnyConnection) -> T + Send + 'static,
    ) -> T {
        let db = self.db();
        tokio::task::spawn_blocking(move || {
            let mut c = db.get().unwrap();
            f(&mut c)
        })
        .await
        .unwrap()
    }
}

impl User {
    /// A request with this user's credentials.
    pub fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let rb = self.http.request(method, format!("{}{}", self.base, path));
        if self.use_cookie { rb.header("x-csrf-token", &self.csrf) } else { rb.bearer_auth(&self.token) }
    }
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.req(reqwest::Method::GET, path).send().await.unwrap()
    }
    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.req(reqwest::Method::POST, path).json(body).send().await.unwrap()
    }
    pub async fn put(&self, path: &str, body: &Value) -> reqwest::Response {
        self.req(reqwest::Method::PUT, path).json(body).send().await.unwrap()
    }
    pub async fn delete(&self, path: &str) -> reqwest::Response {
        self.req(reqwest::Method::DELETE, path).send().await.unwrap()
    }
    pub async fn post_raw(&self, path: &str, content_type: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.req(reqwest::Method::POST, path).header("content-type", content_type).body(body).send().await.unwrap()
    }
}

/// Asserts a JSON error with the given status and code; returns the body.
pub async fn assert_error(r: reqwest::Response, status: u16, code: &str) -> Value {
    let got = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "body: {body}");
    assert_eq!(body["error"], code, "body: {body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "message in {body}");
    body
}

// ---- fixtures ---------------------------------------------------------------------------------

/// RFC 9496 encodings of 2·G … 7·G: valid public credentials.
pub const CREDS: [&str; 6] = [
    "6a493210f7499cd17fecb510ae0cea23a110e8d5b901f8acadd3095c73a3b919",
    "94741f5d5d52755ece4f23f044ee27d5d1ea1e2bd196b462166b16152a9d0259",
    "da80862773358b466ffadfe0b3293ab3d9fd53c5ea6c955358f568322daf6a57",
    "e882b131016b52c1d3337080187cf768423efccbb517bb495ab812c4160ff44e",
    "f64746d3c92b13050ed8d80236a7f0007c3b3f962f5ba793d19a601ebb1df403",
    "44f53520926ec81fbd5a387845beb7df85a96a24ece18738bdcfa6a7822a176d",
];

pub const VOTER1: &str = "21504199000012";
pub const VOTER2: &str = "11203198500034";
pub const VOTER3: &str = "20101197000056";

/// A village council like the 2023 pilot: Batken, 9 April 2023, 08:00–20:00 Bishkek.
pub fn pilot_campaign() -> Value {
    serde_json::json!({
        "name": "Samarkandek village council 2023",
        "kind": "village_council",
        "voting_day": "2023-04-09",
        "voting_window": { "start": "08:00", "end": "20:00" },
        "precincts": [
            { "code": "P1", "name": "School No. 1", "kind": "ordinary", "territory": "batken" },
            { "code": "P2", "name": "Osh school", "kind": "ordinary", "territory": "osh" },
            { "code": "E1", "name": "Electronic precinct", "kind": "electronic", "territory": "batken" }
        ],
        "manifest": { "contests": [ { "id": "council", "candidates": ["A", "B", "C"] } ] }
    })
}

pub const REGISTER_CSV: &str = "pin,full_name,birth_date,precinct\n\
21504199000012,Aibek Asanov,1990-04-15,P1\n\
11203198500034,Aigul Bekova,1985-03-12,P1\n\
20101197000056,Nurlan Osmonov,1970-01-01,P2\n";

pub async fn create_campaign(admin: &User, body: &Value) -> String {
    let r = admin.post("/api/campaigns", body).await;
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, 201, "{v}");
    v["id"].as_str().unwrap().to_string()
}

pub async fn transition(admin: &User, id: &str, action: &str) -> reqwest::Response {
    admin.post(&format!("/api/campaigns/{id}/transitions"), &serde_json::json!({ "action": action })).await
}

/// Creates the pilot campaign, walks it to registration and imports the register.
pub async fn campaign_in_registration(admin: &User) -> String {
    let id = create_campaign(admin, &pilot_campaign()).await;
    for a in ["start_test", "erase_test_data_and_open_registration"] {
        assert_eq!(transition(admin, &id, a).await.status(), 200, "{a}");
    }
    import_csv(admin, &id, REGISTER_CSV).await;
    id
}

pub async fn import_csv(admin: &User, id: &str, csv: &str) -> Value {
    let r = admin.post_raw(&format!("/api/campaigns/{id}/voters/import"), "text/csv", csv.to_string()).await;
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{v}");
    v
}

pub async fn grant(admin: &User, pin: &str, role: &str, territory: Option<&str>) {
    let mut body = serde_json::json!({ "pin": pin, "role": role });
    if let Some(t) = territory {
        body["territory"] = t.into();
    }
    assert_eq!(admin.post("/api/staff", &body).await.status(), 201);
}

/// A Bishkek wall-clock instant.
pub fn bishkek(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> DateTime<Utc> {
    use chrono::{FixedOffset, TimeZone};
    FixedOffset::east_opt(6 * 3600).unwrap().with_ymd_and_hms(y, m, d, h, min, s).unwrap().with_timezone(&Utc)
}

/// Inserts a ballot row the way the cast endpoint will (tests of erasure and turnout).
pub fn insert_ballot(
    c: &mut dobush_server::db::AnyConnection,
    campaign: &str,
    pin: &str,
    credential_id: i64,
    n: usize,
    status: &str,
    at: i64,
) {
    use dobush_server::schema::ballots;
    diesel::insert_into(ballots::table)
        .values((
            ballots::campaign_id.eq(campaign),
            ballots::pin.eq(pin),
            ballots::credential_id.eq(credential_id),
            ballots::ballot_style.eq("main"),
            ballots::tracking_code.eq(format!("t{n}")),
            ballots::status.eq(status),
            ballots::received_at.eq(at),
        ))
        .execute(c)
        .unwrap();
}

/// The test commission that [`pin_commission`] registers: `(name, role)`, the chair first.
/// (Names are letters, digits and . - ' ’ only, 14-commission.md; `shmt.rs` tests the escaping of
/// the printout with a hostile campaign name instead.)
pub const MEMBERS: [(&str, &str); 3] =
    [("Чыныбаева Гүлнара", "chair"), ("Асанова Айгүл", "secretary"), ("Петров Пётр", "member")];

/// The test members' signing keys (seeds 7, 8, 9), in [`MEMBERS`] order.
pub fn member_keys() -> Vec<ed25519_dalek::SigningKey> {
    (0..3u8).map(|i| ed25519_dalek::SigningKey::from_bytes(&[i + 7; 32])).collect()
}

/// The second CEC administrator of dual control (docs/protocol/14-commission.md §Dual control).
pub const SECOND_ADMIN_PIN: &str = "10101197000003";

/// The second CEC administrator, appointed at startup like the first (`bootstrap.cec_admin_pins`).
pub async fn second_admin(app: &TestApp) -> User {
    app.login(SECOND_ADMIN_PIN).await
}

/// The commission of campaign `id` set under dual control: `admin` registers [`MEMBERS`] with
/// [`member_keys`] in the electronic precinct E1, the second administrator confirms the section
/// by its hash. Returns the keys.
/// Nothing is done for a commission already confirmed; a registered one is only confirmed.
pub async fn pin_commission(app: &TestApp, admin: &User, id: &str) -> Vec<ed25519_dalek::SigningKey> {
    let keys = member_keys();
    let shown = reqwest::get(app.url(&format!("/api/v1/campaigns/{id}/commission"))).await.unwrap();
    if shown.status() == 200 {
        let shown: Value = shown.json().await.unwrap();
        if shown["confirmed"] != true {
            confirm_commission(app, id).await;
        }
        return keys;
    }
    for (k, (name, role)) in keys.iter().zip(MEMBERS) {
        let m = serde_json::json!({ "name": name, "role": role, "precinct": "E1", "public_key": hex::encode(k.verifying_key().to_bytes()) });
        let r = admin.post(&format!("/api/v1/campaigns/{id}/commission-members"), &m).await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    confirm_commission(app, id).await;
    keys
}

/// The second administrator confirms campaign `id`'s commission as it stands.
pub async fn confirm_commission(app: &TestApp, id: &str) {
    let shown: Value =
        reqwest::get(app.url(&format!("/api/v1/campaigns/{id}/commission"))).await.unwrap().json().await.unwrap();
    let second = second_admin(app).await;
    let r = second
        .post(
            &format!("/api/v1/campaigns/{id}/commission/confirm"),
            &serde_json::json!({ "commission_hash": shown["commission_hash"], "re_vote_policy": shown["re_vote_policy"] }),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

/// `signers` (indexes into [`MEMBERS`]) sign `digest` on their own computers.
pub fn member_signatures(
    digest: &[u8; 32],
    signers: &[usize],
) -> Vec<dobush_crypto::election_protocol::MemberSignature> {
    let keys = member_keys();
    signers
        .iter()
        .map(|&i| dobush_crypto::election_protocol::MemberSignature::sign_digest(digest, MEMBERS[i].0, &keys[i]))
        .collect()
}

/// The chair and the secretary of the commission pinned by [`pin_commission`] (the quorum, 2 of
/// 3) sign the frozen credential list on their own computers and the administrator uploads the
/// signatures (docs/protocol/10-board.md §Credential list signatures). Returns the chair's key.
/// The clock must be past the last application day.
pub async fn sign_credential_list(app: &TestApp, admin: &User, id: &str) -> ed25519_dalek::SigningKey {
    let list: Value =
        reqwest::get(app.url(&format!("/api/v1/campaigns/{id}/credential-list"))).await.unwrap().json().await.unwrap();
    let entry = list["entry"].as_str().unwrap();
    // the v1 or v2 label, as the entry's type says (13-revoting.md §4.2)
    let parsed: dobush_crypto::record::BoardEntry = serde_json::from_str(entry).unwrap();
    let digest = dobush_crypto::record::list_digest_of(id, &parsed, entry.as_bytes());
    assert_eq!(list["digest"], hex::encode(digest));
    for sig in member_signatures(&digest, &[0, 1]) {
        let r = admin
            .post(&format!("/api/campaigns/{id}/credential-list/signatures"), &serde_json::to_value(&sig).unwrap())
            .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }
    member_keys().remove(0)
}

/// Writes a fresh Ed25519 session key (PKCS#8 PEM) into `dir`; returns its path.
pub fn write_session_key(dir: &std::path::Path) -> String {
    use ed25519_dalek::pkcs8::EncodePrivateKey;
    let key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
    let pem = key.to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF).unwrap();
    let path = dir.join("session.pem");
    std::fs::write(&path, pem.as_bytes()).unwrap();
    path.display().to_string()
}

/// A validator of `docs/schemas/<file>`, rooted at its definition `root` (e.g. `boardEntry`)
/// when given, else at the schema's root.
pub fn schema(file: &str, root: Option<&str>) -> jsonschema::Validator {
    let path = format!("{}/../docs/schemas/{file}", env!("CARGO_MANIFEST_DIR"));
    let mut schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    if let Some(def) = root
        && let Some(o) = schema.as_object_mut()
    {
        o.retain(|k, _| k == "$schema" || k == "$defs");
        o.insert("$ref".into(), format!("#/$defs/{def}").into());
    }
    jsonschema::draft202012::new(&schema).unwrap()
}

/// A v2 application body (13-revoting.md §3.3) for `key` by voter `pin` with ballot style
/// `style` and `decision` under base hash `base`: `{credential, pin_commitment, salt, binding}`.
pub fn v2_application(
    base: &[u8; 32],
    campaign: &str,
    pin: &str,
    style: &str,
    key: &dobush_crypto::signature::SigningKey,
    decision: &str,
) -> Value {
    let salt = dobush_crypto::ballot_v2::registration::draw_salt(&mut rand::rngs::OsRng);
    v2_application_salted(base, (campaign, pin, style, decision), key, &salt)
}

/// [`v2_application`] with a given salt.
pub fn v2_application_salted(
    base: &[u8; 32],
    (campaign, pin, style, decision): (&str, &str, &str, &str),
    key: &dobush_crypto::signature::SigningKey,
    salt: &[u8; 32],
) -> Value {
    use dobush_crypto::ballot_v2::registration::{BindingStatement, Pin, sign_binding};
    let pin = Pin::parse(pin).unwrap();
    let credential = key.verifying_key();
    let st = BindingStatement { base_hash: base, campaign, pin: &pin, salt, style, decision, credential: &credential };
    let binding = sign_binding(&st, key, &mut rand::rngs::OsRng).unwrap();
    serde_json::json!({
        "credential": credential.0.to_hex(),
        "pin_commitment": hex::encode(st.pin_commitment()),
        "salt": hex::encode(salt),
        "binding": binding,
    })
}
