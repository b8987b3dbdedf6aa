//! Settings: a TOML file, then `DOBUSH_*` environment variables on top.
//!
//! The file is `$DOBUSH_CONFIG` if set, else `config/dobush.toml` if it exists; every setting has a
//! default, so the file is optional. An environment variable `DOBUSH_<SECTION>__<KEY>` overrides
//! `[section] key` (e.g. `DOBUSH_DATABASE__URL`, `DOBUSH_SERVER__PORT`). Values are parsed as TOML
//! scalars or arrays when possible (`8080`, `true`, `["a","b"]`), otherwise taken as strings.
//! Every setting is documented in `docs/configuration.md`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// All settings. Unknown keys are refused so that typos do not silently fall back to defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// HTTP listener and request limits.
    pub server: ServerSettings,
    /// Database connection.
    pub database: DatabaseSettings,
    /// Login through the OpenID Connect provider (Tunduk).
    pub oidc: OidcSettings,
    /// Session tokens.
    pub session: SessionSettings,
    /// Rate limits.
    pub rate_limit: RateLimitSettings,
    /// Campaign policy switches.
    pub campaigns: CampaignSettings,
    /// Staff granted at start-up.
    pub bootstrap: BootstrapSettings,
    /// Logging.
    pub log: LogSettings,
    /// The bulletin board (its signing key).
    pub board: BoardSettings,
    /// Alerts: refusal aggregation and delivery.
    pub alerts: AlertSettings,
}

/// `[alerts]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertSettings {
    /// Refusals of callers not signed in are aggregated per kind over windows of this many
    /// seconds: one audit entry and one alert per window, the rest counted.
    pub refusal_window_secs: u64,
    /// URL that every new alert is POSTed to as JSON (`{"alerts": [...]}`, no personal data),
    /// so that the 24-hour reporting duty does not rely on someone watching. Empty: none.
    pub webhook_url: String,
    /// File with the webhook's shared secret (at least 32 bytes): every delivery carries
    /// `Dobush-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t "." body)>`, so the
    /// receiver refuses alerts nobody else could have sent. Empty: unsigned (never in production).
    pub webhook_secret_path: String,
    /// Milliseconds between two deliveries of pending alerts to the webhook.
    pub push_interval_ms: u64,
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            refusal_window_secs: 300,
            webhook_url: String::new(),
            webhook_secret_path: String::new(),
            push_interval_ms: 2_000,
        }
    }
}

/// `[server]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// Address to bind.
    pub host: String,
    /// Port to bind; 0 picks a free port (tests).
    pub port: u16,
    /// Public base URL (scheme://host[:port]) used for the OIDC redirect URI. Empty: derived from
    /// the bound address.
    pub public_url: String,
    /// Worker threads; 0 = number of CPUs.
    pub workers: usize,
    /// Largest accepted JSON body, bytes.
    pub max_json_bytes: usize,
    /// Largest accepted voter-register import body, bytes.
    pub max_import_bytes: usize,
    /// Seconds to let in-flight requests finish on SIGTERM/SIGINT.
    pub shutdown_timeout_secs: u64,
    /// Mark cookies `Secure` (must be true behind HTTPS in production).
    pub cookie_secure: bool,
    /// Where a browser goes after a successful web login.
    pub post_login_redirect: String,
    /// Milliseconds a client has to send a request's whole head (request line and headers) from
    /// the moment its connection opens or its previous request ended; then 408 and the connection
    /// is closed (slow-header clients). 0 disables (never in production).
    pub client_header_timeout_ms: u64,
    /// Seconds a client has to send a request's whole body once its handler reads it; then 408.
    pub client_body_timeout_secs: u64,
    /// Milliseconds given to a client to close its side after the server closes a connection.
    pub client_disconnect_timeout_ms: u64,
    /// Milliseconds a response may go without the client taking any of it (`crate::connection`:
    /// at least 8 KiB per this long); then the connection is closed. At least 1.
    pub client_send_timeout_ms: u64,
    /// Connections each worker serves at once; more wait in the kernel's accept queue. Each costs
    /// two file descriptors: `2 × max_connections × workers` must stay well below the process's
    /// `NOFILE` limit (docs/deploy.md). At least 1.
    pub max_connections: usize,
    /// New connections each worker accepts at once (TLS-free handshakes, so this bounds only
    /// the burst being set up). At least 1.
    pub max_connection_rate: usize,
    /// v2 ballots verified at once on the blocking pool (each alone, not batched); 0 = number of
    /// CPUs. A crowd of v2 casts cannot occupy the pool beyond this.
    pub v2_verifications: usize,
    /// Milliseconds a v2 cast waits for a verification slot before 503 with `Retry-After`;
    /// 0: answer 503 at once when every slot is taken.
    pub v2_verification_wait_ms: u64,
    /// The load balancers in front of this server, as IP addresses or networks (`10.0.0.5`,
    /// `10.0.0.0/8`): from these peers only, `X-Forwarded-For` names the client, and rate limits
    /// and refusal records key on it (`crate::client_address`). Empty: the peer is the client.
    pub trusted_proxies: Vec<String>,
    /// Tests only: a production configuration may name an `http://` loopback `public_url` (the
    /// tests' identity provider redirects to the test server). Refused by a build without the
    /// `demo` feature, which is the only build that serves production.
    pub loopback_public_url_for_tests: bool,
    /// This is a production deployment (`DOBUSH_SERVER__PRODUCTION=true`). Set explicitly, never
    /// guessed: the server then refuses to start unless every production guard holds
    /// ([`Settings::production_problems`]) and sends HSTS.
    pub production: bool,
}

impl ServerSettings {
    /// `trusted_proxies` parsed: each an IP address (a network of one) or a network.
    /// A network of prefix 0 (`0.0.0.0/0`, `::/0`) is refused: it would believe every client's
    /// own `X-Forwarded-For`.
    pub fn trusted_proxy_nets(&self) -> Result<Vec<ipnet::IpNet>, ConfigError> {
        self.trusted_proxies
            .iter()
            .map(|s| {
                let s = s.trim();
                let net = s
                    .parse::<ipnet::IpNet>()
                    .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        ConfigError::Invalid(format!(
                            "server.trusted_proxies: {s:?} is neither an IP address nor a network (a.b.c.d/n)"
                        ))
                    })?;
                if net.prefix_len() == 0 {
                    return Err(ConfigError::Invalid(format!(
                        "server.trusted_proxies: {s:?} trusts every address, so any client could name itself"
                    )));
                }
                Ok(net)
            })
            .collect()
    }
}

/// `[database]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// `sqlite://<path>` (default, a file under ./data) or `postgres://user@host:port/db`.
    pub url: String,
    /// Pool size.
    pub max_connections: u32,
    /// Seconds to wait for a pooled connection before answering 503.
    pub connect_timeout_secs: u64,
}

/// `[oidc]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OidcSettings {
    /// Issuer URL of the provider (discovery at `<issuer>/.well-known/openid-configuration`).
    /// Empty disables login.
    pub issuer_url: String,
    /// Client id registered at the provider.
    pub client_id: String,
    /// Client secret (client_secret_basic).
    pub client_secret: String,
    /// Scopes requested in addition to `openid`.
    pub scopes: Vec<String>,
    /// The `acr` the ID token must carry (the cloud-signature level). Empty: not checked.
    pub required_acr: String,
    /// The ID-token claim that holds the 14-digit PIN.
    pub pin_claim: String,
    /// Seconds a started login stays valid.
    pub login_ttl_secs: i64,
    /// The JWS algorithms an ID token may be signed with (e.g. `["RS256"]`). Empty: whatever the
    /// provider's discovery document advertises (refused in production). `none` and the HMAC
    /// algorithms cannot be pinned ([`ID_TOKEN_ALGS`]).
    pub id_token_algs: Vec<String>,
}

/// `[session]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionSettings {
    /// PKCS#8 PEM file with the Ed25519 signing key. Empty: a fresh key per process (tokens die
    /// with a restart; never use with more than one server).
    pub signing_key_path: String,
    /// Token lifetime, seconds.
    pub ttl_secs: i64,
    /// `iss` and `aud` of session tokens.
    pub issuer: String,
}

/// `[rate_limit]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitSettings {
    /// Requests per minute per client address on /api and /auth; 0 disables.
    pub per_address_per_minute: u32,
    /// Write requests per minute per logged-in voter; 0 disables.
    pub per_voter_per_minute: u32,
}

/// `[campaigns]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CampaignSettings {
    /// Whether demo-mode campaigns may be created (never in production).
    pub allow_demo_mode: bool,
    /// Whether an election package may select v2 ballots (13-revoting.md). Tests only, until
    /// issue 19 is finished: a v2 campaign cannot be tallied yet, and its credential list and
    /// replacements still name credentials (review 19-cast-v2 F1–F4). Refused by a build
    /// without the `demo` feature and in production.
    pub allow_unfinished_ballot_v2: bool,
}

/// `[bootstrap]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BootstrapSettings {
    /// PINs granted the CEC administrator role at start-up (idempotent; recorded in the audit log).
    pub cec_admin_pins: Vec<String>,
}

/// `[log]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// `tracing` filter directive (RUST_LOG syntax), e.g. `info,dobush_server=debug`.
    pub filter: String,
    /// JSON lines instead of human-readable text.
    pub json: bool,
}

/// `[board]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BoardSettings {
    /// File holding the board's Ed25519 secret seed (64 hex digits). The server refuses to start
    /// without it and never generates it (`dobush-server generate-board-key` makes it once).
    pub key_path: String,
    /// Shard rows per ballot style for the encrypted totals kept at cast time (`crate::tally`).
    pub totals_shards: u32,
}

/// Default number of shard rows per ballot style (`[board] totals_shards`).
pub const DEFAULT_SHARDS: u32 = 16;

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 8080,
            public_url: String::new(),
            workers: 0,
            max_json_bytes: 64 * 1024,
            max_import_bytes: 16 * 1024 * 1024,
            shutdown_timeout_secs: 30,
            cookie_secure: false,
            post_login_redirect: "/#/cabinet".into(),
            client_header_timeout_ms: 5_000,
            client_body_timeout_secs: 30,
            client_disconnect_timeout_ms: 1_000,
            client_send_timeout_ms: 10_000,
            max_connections: 1_024,
            max_connection_rate: 256,
            v2_verifications: 0,
            v2_verification_wait_ms: 2_000,
            trusted_proxies: Vec::new(),
            loopback_public_url_for_tests: false,
            production: false,
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self { url: "sqlite://./data/dobush.sqlite3".into(), max_connections: 8, connect_timeout_secs: 5 }
    }
}

impl Default for OidcSettings {
    fn default() -> Self {
        Self {
            issuer_url: String::new(),
            client_id: String::new(),
            client_secret: String::new(),
            scopes: vec!["pin".into()],
            required_acr: String::new(),
            pin_claim: "pin".into(),
            login_ttl_secs: 600,
            id_token_algs: Vec::new(),
        }
    }
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self { signing_key_path: String::new(), ttl_secs: 900, issuer: "dobush".into() }
    }
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self { per_address_per_minute: 600, per_voter_per_minute: 30 }
    }
}

impl Default for BoardSettings {
    fn default() -> Self {
        Self { key_path: "./data/board.key".into(), totals_shards: DEFAULT_SHARDS }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        Self { filter: "info".into(), json: false }
    }
}

/// Why the settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The merged settings are not valid.
    #[error("invalid settings: {0}")]
    Invalid(String),
}

/// Loads the settings from the file named by `DOBUSH_CONFIG` (or `config/dobush.toml`) and the
/// process environment.
pub fn get_configuration() -> Result<Settings, ConfigError> {
    let path = std::env::var_os("DOBUSH_CONFIG").map(PathBuf::from);
    let default_path = Path::new("config/dobush.toml");
    let path = match path {
        Some(p) => Some(p),
        None if default_path.exists() => Some(default_path.to_path_buf()),
        None => None,
    };
    let text = match &path {
        Some(p) => std::fs::read_to_string(p).map_err(|source| ConfigError::Read { path: p.clone(), source })?,
        None => String::new(),
    };
    load(&text, std::env::vars())
}

/// Merges a TOML document and `DOBUSH_*` variables into [`Settings`].
pub fn load(toml_text: &str, env: impl IntoIterator<Item = (String, String)>) -> Result<Settings, ConfigError> {
    let mut root: toml::Table = toml_text.parse().map_err(|e: toml::de::Error| ConfigError::Invalid(e.to_string()))?;
    for (key, value) in env {
        let Some(rest) = key.strip_prefix("DOBUSH_") else { continue };
        if rest == "CONFIG" {
            continue;
        }
        let Some((section, field)) = rest.split_once("__") else {
            return Err(ConfigError::Invalid(format!("{key}: expected DOBUSH_<SECTION>__<KEY>")));
        };
        let section = section.to_ascii_lowercase();
        let field = field.to_ascii_lowercase();
        let entry = root.entry(section.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let toml::Value::Table(table) = entry else {
            return Err(ConfigError::Invalid(format!("{section} is not a section")));
        };
        table.insert(field, parse_env_value(&value));
    }
    let settings: Settings =
        toml::Value::Table(root).try_into().map_err(|e: toml::de::Error| ConfigError::Invalid(e.to_string()))?;
    settings.check()?;
    Ok(settings)
}

fn parse_env_value(raw: &str) -> toml::Value {
    let doc = format!("v = {raw}");
    match doc.parse::<toml::Table>() {
        Ok(mut t) => t.remove("v").unwrap_or_else(|| toml::Value::String(raw.to_string())),
        Err(_) => toml::Value::String(raw.to_string()),
    }
}

impl Settings {
    fn check(&self) -> Result<(), ConfigError> {
        let url = &self.database.url;
        if !(url.starts_with("sqlite://") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(ConfigError::Invalid(
                "database.url must start with sqlite://, postgres:// or postgresql://".into(),
            ));
        }
        if !(1..=86_400).contains(&self.session.ttl_secs) || !(1..=86_400).contains(&self.oidc.login_ttl_secs) {
            return Err(ConfigError::Invalid("session.ttl_secs and oidc.login_ttl_secs must be 1..=86400".into()));
        }
        if self.alerts.refusal_window_secs == 0 || self.alerts.push_interval_ms == 0 {
            return Err(ConfigError::Invalid(
                "alerts.refusal_window_secs and alerts.push_interval_ms must be at least 1".into(),
            ));
        }
        if !(self.alerts.webhook_url.is_empty()
            || self.alerts.webhook_url.starts_with("https://")
            || self.alerts.webhook_url.starts_with("http://"))
        {
            return Err(ConfigError::Invalid("alerts.webhook_url must be an http(s) URL".into()));
        }
        if self.server.client_body_timeout_secs == 0 {
            return Err(ConfigError::Invalid("server.client_body_timeout_secs must be at least 1".into()));
        }
        if self.server.client_send_timeout_ms == 0
            || self.server.max_connections == 0
            || self.server.max_connection_rate == 0
        {
            return Err(ConfigError::Invalid(
                "server.client_send_timeout_ms, max_connections and max_connection_rate must be at least 1".into(),
            ));
        }
        if self.server.loopback_public_url_for_tests && !cfg!(feature = "demo") {
            return Err(ConfigError::Invalid(
                "server.loopback_public_url_for_tests: for the tests only; this build serves production".into(),
            ));
        }
        self.server.trusted_proxy_nets()?;
        if self.database.max_connections == 0 {
            return Err(ConfigError::Invalid("database.max_connections must be at least 1".into()));
        }
        for alg in &self.oidc.id_token_algs {
            if !ID_TOKEN_ALGS.contains(&alg.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "oidc.id_token_algs: {alg:?} is not one of {}",
                    ID_TOKEN_ALGS.join(", ")
                )));
            }
        }
        if self.campaigns.allow_unfinished_ballot_v2 && !cfg!(feature = "demo") {
            return Err(ConfigError::Invalid(
                "campaigns.allow_unfinished_ballot_v2: for the tests only; this build serves production".into(),
            ));
        }
        if self.campaigns.allow_demo_mode && !cfg!(feature = "demo") {
            return Err(ConfigError::Invalid(
                "campaigns.allow_demo_mode: this build has no demo mode (built without the `demo` feature)".into(),
            ));
        }
        let problems = self.production_problems();
        if !problems.is_empty() {
            return Err(ConfigError::Invalid(format!("server.production = true, but: {}", problems.join("; "))));
        }
        Ok(())
    }

    /// Checks the settings as [`load`] does (for settings built in code, e.g. by tests).
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.check()
    }

    /// Why this configuration may not serve production (empty when `server.production` is false
    /// or every guard holds): Secure cookies, a required `acr`, the session key from a file, demo
    /// mode off, pinned ID-token algorithms.
    pub fn production_problems(&self) -> Vec<String> {
        if !self.server.production {
            return Vec::new();
        }
        let mut problems = Vec::new();
        if !self.server.cookie_secure {
            problems.push("server.cookie_secure must be true".to_string());
        }
        if self.oidc.required_acr.is_empty() {
            problems.push("oidc.required_acr must be set".to_string());
        }
        if self.session.signing_key_path.is_empty() {
            problems.push("session.signing_key_path must name the session key file".to_string());
        }
        if self.campaigns.allow_unfinished_ballot_v2 {
            problems
                .push("campaigns.allow_unfinished_ballot_v2 must be false (v2 ballots are not finished)".to_string());
        }
        if self.campaigns.allow_demo_mode {
            problems.push("campaigns.allow_demo_mode must be false".to_string());
        }
        if self.oidc.id_token_algs.is_empty() {
            problems.push("oidc.id_token_algs must pin the ID token's algorithms".to_string());
        }
        if self.server.client_header_timeout_ms == 0 {
            problems.push("server.client_header_timeout_ms must not be 0 (slow-header clients)".to_string());
        }
        if self.rate_limit.per_address_per_minute == 0 || self.rate_limit.per_voter_per_minute == 0 {
            problems.push("rate_limit.per_address_per_minute and per_voter_per_minute must not be 0".to_string());
        }
        // Each directive's level: after its last `=`, or the directive itself; a bare target
        // (`actix_http`) means every level of that target, a number its level (4 debug, 5 trace).
        let verbose = self.log.filter.split(',').map(str::trim).filter(|d| !d.is_empty()).any(|d| {
            let level = d.rsplit('=').next().unwrap_or(d).trim().to_ascii_lowercase();
            !["off", "error", "warn", "info", "0", "1", "2", "3"].contains(&level.as_str())
        });
        if verbose {
            problems.push(
                "log.filter must stop at info: no debug, trace, numeric level above 3 or bare target \
                 (dependencies log request paths, which can hold a PIN)"
                    .to_string(),
            );
        }
        // violations are reported within 24 hours: alerts are pushed, signed, over https
        // (review 18-hardening M5)
        if !self.alerts.webhook_url.starts_with("https://") {
            problems.push("alerts.webhook_url must be set and https".to_string());
        }
        if self.alerts.webhook_secret_path.is_empty() {
            problems.push("alerts.webhook_secret_path must name the webhook's secret file".to_string());
        }
        // SQLite is the embedded single-server default (demo, development): production keeps
        // its board in PostgreSQL, which several servers share and whose backups are managed
        if !(self.database.url.starts_with("postgres://") || self.database.url.starts_with("postgresql://")) {
            problems.push("database.url must be a PostgreSQL URL (SQLite is for the demo and development)".to_string());
        }
        // the ID tokens come over this connection: https, or plain http only to a TLS-terminating
        // proxy on this host's loopback interface
        if !https_or_loopback(&self.oidc.issuer_url) {
            problems.push("oidc.issuer_url must be https (or http to a proxy on the loopback interface)".to_string());
        }
        // the OIDC redirect URI is `<public_url>/auth/callback`: empty, it would be the bound
        // address over plain http, and the provider would send the login's code there
        // (review 18-hardening M6). The browser and the provider go there, so a loopback
        // address can never be right (it is the voter's own machine; review
        // 18-hardening-round2 L4); the tests' exception needs a build that cannot serve
        // production.
        let test_exception = self.server.loopback_public_url_for_tests
            && cfg!(feature = "demo")
            && loopback_http(&self.server.public_url);
        if !(https_url(&self.server.public_url) || test_exception) {
            problems.push(
                "server.public_url must be set and https://host[:port], with a host, a numeric port and no \
                 spaces"
                    .to_string(),
            );
        }
        // a relative key path depends on the directory the server happens to be started in
        // (review 18-hardening L3)
        if !Path::new(&self.board.key_path).is_absolute() {
            problems.push("board.key_path must be an absolute path".to_string());
        }
        problems
    }
}

/// `https://<host>[:port]…`, or [`loopback_http`].
fn https_or_loopback(url: &str) -> bool {
    https_url(url) || loopback_http(url)
}

/// `https://<host>[:port]…`: a host, no user part, a numeric port if any, no whitespace or
/// control characters anywhere.
fn https_url(url: &str) -> bool {
    url.strip_prefix("https://").and_then(|rest| authority(url, rest)).is_some()
}

/// `http://127.0.0.1…`, `http://[::1]…` or `http://localhost…` (and nothing longer that starts so,
/// such as `http://127.0.0.1.example`).
fn loopback_http(url: &str) -> bool {
    url.strip_prefix("http://")
        .and_then(|rest| authority(url, rest))
        .is_some_and(|host| ["127.0.0.1", "[::1]", "localhost"].contains(&host))
}

/// The host of `rest` (a URL after its `scheme://`): `host[:port]` up to the first `/`, `?` or
/// `#`, the host a DNS name, an IPv4 address or a bracketed IPv6 address, the port 1..=65535;
/// `None` if it is not so, or if `url` holds whitespace or a control character.
fn authority<'a>(url: &str, rest: &'a str) -> Option<&'a str> {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => (&authority[..i], Some(&authority[i + 1..])),
        _ => (authority, None),
    };
    let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
        None => {
            !host.is_empty()
                && !host.starts_with(['.', '-'])
                && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        }
    };
    let port_ok = port.is_none_or(|p| {
        !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) && p.parse::<u16>().is_ok_and(|p| p > 0)
    });
    (host_ok && port_ok).then_some(host)
}

/// The ID-token algorithms `oidc.id_token_algs` may name (asymmetric only).
pub const ID_TOKEN_ALGS: [&str; 10] =
    ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_file() {
        let s = load(
            "[server]\nport = 9000\n[database]\nurl = \"sqlite://x.db\"\n",
            [
                ("DOBUSH_SERVER__PORT".to_string(), "9100".to_string()),
                ("DOBUSH_OIDC__REQUIRED_ACR".to_string(), "urn:x".to_string()),
                ("DOBUSH_BOOTSTRAP__CEC_ADMIN_PINS".to_string(), "[\"12345678901234\"]".to_string()),
                ("OTHER".to_string(), "ignored".to_string()),
            ],
        )
        .unwrap();
        assert_eq!(s.server.port, 9100);
        assert_eq!(s.database.url, "sqlite://x.db");
        assert_eq!(s.oidc.required_acr, "urn:x");
        assert_eq!(s.bootstrap.cec_admin_pins, vec!["12345678901234".to_string()]);
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let nets =
            |v: &str| load(&format!("[server]\ntrusted_proxies = {v}\n"), []).map(|s| s.server.trusted_proxy_nets());
        assert_eq!(nets("[\"fd00::/8\", \" 192.0.2.1 \"]").unwrap().unwrap().len(), 2);
        assert!(nets("[\"10.0.0.0/33\"]").is_err());
        assert!(nets("[\"lb.example\"]").is_err());
        assert!(nets("[\"0.0.0.0/0\"]").is_err());
        assert!(nets("[\"::/0\"]").is_err());
    }

    #[test]
    fn unknown_keys_and_bad_urls_are_refused() {
        assert!(load("[server]\nprot = 1\n", []).is_err());
        assert!(load("[database]\nurl = \"mysql://x\"\n", []).is_err());
        assert!(load("", [("DOBUSH_PORT".to_string(), "1".to_string())]).is_err());
        assert!(load("[oidc]\nid_token_algs = [\"HS256\"]\n", []).is_err());
        assert!(load("[oidc]\nid_token_algs = [\"none\"]\n", []).is_err());
    }

    #[test]
    fn production_is_explicit_and_guarded() {
        // a PostgreSQL URL alone does not make a production configuration
        assert!(load("[database]\nurl = \"postgres://x@h/db\"\n", []).is_ok());
        let good = "[server]\nproduction = true\ncookie_secure = true\npublic_url = \"https://vote.example\"\n\
                    [board]\nkey_path = \"/etc/dobush/board.key\"\n\
                    [database]\nurl = \"postgres://dobush@db/dobush\"\n\
                    [oidc]\nissuer_url = \"https://tunduk.example\"\nrequired_acr = \"urn:x\"\nid_token_algs = [\"RS256\"]\n\
                    [session]\nsigning_key_path = \"/etc/dobush/session.pem\"\n\
                    [alerts]\nwebhook_url = \"https://alerts.example/hook\"\n\
                    webhook_secret_path = \"/etc/dobush/webhook.secret\"\n";
        assert!(load(good, []).is_ok());
        assert!(load(&format!("{good}[log]\nfilter = \"warn,dobush_server=info,actix_web=off\"\n"), []).is_ok());
        for (key, value, problem) in [
            ("DOBUSH_SERVER__COOKIE_SECURE", "false", "cookie_secure"),
            ("DOBUSH_OIDC__REQUIRED_ACR", "\"\"", "required_acr"),
            ("DOBUSH_SESSION__SIGNING_KEY_PATH", "\"\"", "signing_key_path"),
            ("DOBUSH_CAMPAIGNS__ALLOW_DEMO_MODE", "true", "allow_demo_mode"),
            ("DOBUSH_OIDC__ID_TOKEN_ALGS", "[]", "id_token_algs"),
            ("DOBUSH_SERVER__CLIENT_HEADER_TIMEOUT_MS", "0", "client_header_timeout_ms"),
            ("DOBUSH_RATE_LIMIT__PER_ADDRESS_PER_MINUTE", "0", "per_address_per_minute"),
            ("DOBUSH_RATE_LIMIT__PER_VOTER_PER_MINUTE", "0", "per_voter_per_minute"),
            ("DOBUSH_LOG__FILTER", "\"info,actix_web=debug\"", "log.filter"),
            ("DOBUSH_LOG__FILTER", "\"TRACE\"", "log.filter"),
            ("DOBUSH_LOG__FILTER", "\"info,actix_http\"", "log.filter"),
            ("DOBUSH_LOG__FILTER", "\"4\"", "log.filter"),
            ("DOBUSH_ALERTS__WEBHOOK_URL", "\"http://alerts.example/hook\"", "webhook_url"),
            ("DOBUSH_ALERTS__WEBHOOK_URL", "\"\"", "webhook_url"),
            ("DOBUSH_ALERTS__WEBHOOK_SECRET_PATH", "\"\"", "webhook_secret_path"),
            ("DOBUSH_DATABASE__URL", "\"sqlite://./data/dobush.sqlite3\"", "database.url"),
            ("DOBUSH_OIDC__ISSUER_URL", "\"http://tunduk.example\"", "issuer_url"),
            ("DOBUSH_OIDC__ISSUER_URL", "\"http://127.0.0.1.example\"", "issuer_url"),
            ("DOBUSH_OIDC__ISSUER_URL", "\"http://localhost.example:80\"", "issuer_url"),
            ("DOBUSH_OIDC__ISSUER_URL", "\"\"", "issuer_url"),
            ("DOBUSH_OIDC__ISSUER_URL", "\"http://127.0.0.1@tunduk.example\"", "issuer_url"),
            ("DOBUSH_OIDC__ISSUER_URL", "\"https://\"", "issuer_url"),
            ("DOBUSH_SERVER__PUBLIC_URL", "\"\"", "public_url"),
            ("DOBUSH_SERVER__PUBLIC_URL", "\"http://vote.example\"", "public_url"),
            ("DOBUSH_SERVER__PUBLIC_URL", "\"http://127.0.0.1.example:8080\"", "public_url"),
            ("DOBUSH_SERVER__PUBLIC_URL", "\"https://\"", "public_url"),
            ("DOBUSH_SERVER__PUBLIC_URL", "\"https://127.0.0.1@evil.example\"", "public_url"),
            ("DOBUSH_SERVER__PUBLIC_URL", "\"ftp://vote.example\"", "public_url"),
            // review 18-hardening-round2 L4: loopback http, an empty host, a non-numeric or
            // out-of-range port, whitespace
            ("DOBUSH_SERVER__PUBLIC_URL", "\"http://127.0.0.1:8080\"", "public_url"),
            ("DOBUSH_SERVER__PUBLIC_URL", "\"http://localhost\"", "public_url"),
            ("DOBUSH_SERVER__PUBLIC_URL", "\"http://[::1]:80/\"", "public_url"),
            ("DOBUSH_SERVER__PUBLIC_URL", "\"https://:443\"", "public_url"),
            ("DOBUSH_SERVER__PUBLIC_URL", "\"https://vote.example:abc\"", "public_url"),
            ("DOBUSH_SERVER__PUBLIC_URL", "\"https://vote.example:\"", "public_url"),
            ("DOBUSH_SERVER__PUBLIC_URL", "\"https://vote.example:70000\"", "public_url"),
            ("DOBUSH_SERVER__PUBLIC_URL", "\"https://vote.example\\n\"", "public_url"),
            ("DOBUSH_SERVER__PUBLIC_URL", "\"https://vote.example \"", "public_url"),
            ("DOBUSH_SERVER__PUBLIC_URL", "\" https://vote.example\"", "public_url"),
            ("DOBUSH_SERVER__PUBLIC_URL", "\"https://vote example\"", "public_url"),
            ("DOBUSH_SERVER__PUBLIC_URL", "\"https://[::1\"", "public_url"),
            ("DOBUSH_OIDC__ISSUER_URL", "\"https://:443\"", "issuer_url"),
            ("DOBUSH_OIDC__ISSUER_URL", "\"https://tunduk.example:x\"", "issuer_url"),
            ("DOBUSH_BOARD__KEY_PATH", "\"./data/board.key\"", "board.key_path"),
            ("DOBUSH_BOARD__KEY_PATH", "\"board.key\"", "board.key_path"),
        ] {
            let err = load(good, [(key.to_string(), value.to_string())]).unwrap_err().to_string();
            assert!(err.contains(problem), "{key}={value}: {err}");
        }
        // http to a TLS-terminating proxy on the loopback interface
        for issuer in ["http://127.0.0.1:8443/oidc", "http://[::1]:8443", "http://localhost/realms/tunduk"] {
            let ok = load(good, [("DOBUSH_OIDC__ISSUER_URL".to_string(), format!("\"{issuer}\""))]);
            assert!(ok.is_ok(), "{issuer}: {ok:?}");
        }
        for public in ["https://vote.example:8443/", "https://[2001:db8::1]", "https://10.0.0.1:443/x?y#z"] {
            let ok = load(good, [("DOBUSH_SERVER__PUBLIC_URL".to_string(), format!("\"{public}\""))]);
            assert!(ok.is_ok(), "{public}: {ok:?}");
        }
        // the tests' exception: only with its flag, only in a build with the demo feature
        for public in ["http://127.0.0.1:8080", "http://[::1]", "http://localhost:80/"] {
            let env = [
                ("DOBUSH_SERVER__PUBLIC_URL".to_string(), format!("\"{public}\"")),
                ("DOBUSH_SERVER__LOOPBACK_PUBLIC_URL_FOR_TESTS".to_string(), "true".to_string()),
            ];
            assert_eq!(load(good, env).is_ok(), cfg!(feature = "demo"), "{public}");
        }
        let env = [
            ("DOBUSH_SERVER__PUBLIC_URL".to_string(), "\"http://vote.example\"".to_string()),
            ("DOBUSH_SERVER__LOOPBACK_PUBLIC_URL_FOR_TESTS".to_string(), "true".to_string()),
        ];
        assert!(load(good, env).is_err(), "the flag admits loopback http only");
    }
}

#[cfg(test)]
mod example_file {
    #[test]
    fn the_example_file_holds_every_default() {
        let text = include_str!("../config/example.toml");
        let parsed = super::load(text, []).unwrap();
        let defaults = super::Settings::default();
        assert_eq!(format!("{parsed:?}"), format!("{defaults:?}"));
    }
}
