//! Building and running the HTTP server.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::middleware::{Compress, DefaultHeaders, Next, from_fn};
use actix_web::{App, HttpRequest, HttpServer, web};
use anyhow::Context;
use diesel::prelude::*;
use tracing_actix_web::TracingLogger;

use crate::auth::oidc::Oidc;
use crate::auth::session::SessionKeys;
use crate::clock::Clock;
use crate::configuration::Settings;
use crate::db::Db;
use crate::domain::{Pin, Role};
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::ratelimit::RateLimiter;
use crate::routes;
use crate::state::AppState;

pub use crate::connection::HSTS;

/// A built server, bound to its port.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
}

impl Application {
    /// Connects the database, applies migrations, grants bootstrap staff, binds the listener.
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        settings.validate()?;
        raise_file_limit(&settings);
        let db = {
            let s = settings.database.clone();
            tokio::task::spawn_blocking(move || -> anyhow::Result<Db> {
                let db = Db::connect(&s.url, s.max_connections, Duration::from_secs(s.connect_timeout_secs))?;
                db.migrate()?;
                Ok(db)
            })
            .await
            .context("database start-up task")??
        };
        bootstrap_staff(&db, &settings, clock.as_ref()).await?;
        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))
            .with_context(|| format!("binding {}:{}", settings.server.host, settings.server.port))?;
        let port = listener.local_addr()?.port();
        let public_url = if settings.server.public_url.is_empty() {
            format!("http://{}:{}", settings.server.host, port)
        } else {
            settings.server.public_url.trim_end_matches('/').to_string()
        };
        let oidc = Oidc::new(&settings.oidc, format!("{public_url}/auth/callback"))?;
        let sessions = SessionKeys::from_settings(&settings.session)?;
        let boards = Arc::new(crate::board_log::Boards::new(crate::board_log::load_key(std::path::Path::new(
            &settings.board.key_path,
        ))?));
        let committer = crate::cast::commit::Committer::new(
            db.clone(),
            boards.clone(),
            clock.clone(),
            settings.board.totals_shards,
        );
        if !settings.alerts.webhook_url.is_empty() {
            let secret = match settings.alerts.webhook_secret_path.as_str() {
                "" => None,
                path => Some(crate::alert_push::load_secret(std::path::Path::new(path))?),
            };
            crate::alert_push::start(
                db.clone(),
                clock.clone(),
                settings.alerts.webhook_url.clone(),
                secret,
                Duration::from_millis(settings.alerts.push_interval_ms),
            )?;
        }
        let proxies = crate::client_address::TrustedProxies::new(settings.server.trusted_proxy_nets()?);
        let metrics = Arc::new(Metrics::default());
        let refusals = Arc::new(crate::refusal_counts::AnonymousRefusals::default());
        crate::refusal_counts::start_flushing(
            db.clone(),
            refusals.clone(),
            clock.clone(),
            metrics.clone(),
            settings.alerts.refusal_window_secs,
        );
        // v2 ballots are verified each on the blocking pool: at most this many at once (F6)
        let verifier = crate::cast::batch::BatchVerifier::start(
            match settings.server.v2_verifications {
                0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
                n => n,
            },
            Duration::from_millis(settings.server.v2_verification_wait_ms),
        );
        let state = web::Data::new(AppState {
            db,
            settings: Arc::new(settings),
            clock,
            metrics,
            refusals,
            sessions,
            oidc,
            limiter: RateLimiter::default(),
            proxies,
            turnout: Default::default(),
            boards,
            verifier,
            committer,
            filter_checks: Arc::new(tokio::sync::Semaphore::new(1)),
        });
        let server = run(listener, state.clone())?;
        tracing::info!(port, "dobush-server listening");
        Ok(Self { port, server, state })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle that stops the server (graceful with `stop(true)`), e.g. to hand its database to
    /// another process.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// The shared state (tests inspect the database through it).
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until SIGINT/SIGTERM, then lets in-flight requests finish (graceful shutdown).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Raises the soft limit on open file descriptors to the hard limit (review
/// 18-hardening-round2 M2: the soft limit is often 1024, about 500 connections at two descriptors
/// each), and warns when the connection caps can still exhaust it.
fn raise_file_limit(settings: &Settings) {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let mut soft = limit.current;
    if limit.current < limit.maximum {
        let raised = rustix::process::Rlimit { current: limit.maximum, maximum: limit.maximum };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => soft = limit.maximum,
            Err(error) => tracing::warn!(%error, "could not raise the open-file limit to its hard limit"),
        }
    }
    let workers = match settings.server.workers {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    // two descriptors per connection (the socket and its watchdog's duplicate), and a reserve
    // for the database pool, the identity provider, the webhook and the files
    let needed =
        (settings.server.max_connections as u64).saturating_mul(2).saturating_mul(workers as u64).saturating_add(256);
    match soft {
        Some(soft) if soft < needed => tracing::warn!(
            soft,
            needed,
            "the open-file limit is below 2 × server.max_connections × workers + 256: raise LimitNOFILE \
             (docs/deploy.md) or lower server.max_connections"
        ),
        _ => tracing::info!(limit = ?soft, "open-file limit"),
    }
}

async fn bootstrap_staff(db: &Db, settings: &Settings, clock: &dyn Clock) -> anyhow::Result<()> {
    let mut pins = Vec::new();
    for p in &settings.bootstrap.cec_admin_pins {
        pins.push(Pin::parse(p).map_err(|e| anyhow::anyhow!("bootstrap.cec_admin_pins: {p}: {e}"))?);
    }
    let now = clock.now().timestamp();
    db.write(move |c| {
        use crate::schema::staff;
        for pin in pins {
            let exists: i64 = staff::table
                .filter(staff::pin.eq(pin.as_str()))
                .filter(staff::role.eq(Role::CecAdmin.as_str()))
                .count()
                .get_result(c)?;
            if exists == 0 {
                diesel::insert_into(staff::table)
                    .values((
                        staff::pin.eq(pin.as_str()),
                        staff::role.eq(Role::CecAdmin.as_str()),
                        staff::territory.eq(None::<String>),
                        staff::granted_at.eq(now),
                        staff::granted_by.eq("bootstrap"),
                    ))
                    .execute(c)?;
                let details = serde_json::json!({ "pin": pin.as_str(), "role": "cec_admin" });
                crate::audit::append(c, now, "system", "staff.grant", None, &details)?;
            }
        }
        Ok(())
    })
    .await
    .map_err(|e| anyhow::anyhow!("bootstrap staff: {e}"))
}

async fn count_responses(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let metrics = req.app_data::<web::Data<AppState>>().map(|s| s.metrics.clone());
    let res = next.call(req).await;
    let status = match &res {
        Ok(r) => r.status().as_u16(),
        Err(e) => e.as_response_error().status_code().as_u16(),
    };
    if let Some(m) = metrics {
        m.http_response(status);
    }
    res
}

async fn limit_per_address(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if let Some(state) = req.app_data::<web::Data<AppState>>() {
        let client = state.proxies.client(req.peer_addr().map(|a| a.ip()), req.headers());
        let key = format!("ip:{}", crate::client_address::bucket(client));
        if let Err(retry_after_secs) = state.limiter.check(&key, state.settings.rate_limit.per_address_per_minute) {
            state.metrics.rate_limited();
            return Err(ApiError::TooManyRequests { retry_after_secs }.into());
        }
    }
    next.call(req).await
}

/// `/auth` bodies (the provider's form_post) are never compressed: a coded body is refused (415)
/// before any handler runs (the form itself is read by `extract::body::ApiForm`, bounded as
/// every other body).
async fn identity_bodies_only(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let coded = req
        .headers()
        .get(actix_web::http::header::CONTENT_ENCODING)
        .is_some_and(|v| !v.to_str().is_ok_and(|v| v.trim().eq_ignore_ascii_case("identity")));
    if coded {
        return Err(ApiError::UnsupportedMediaType("bodies sent to /auth must not be compressed".into()).into());
    }
    next.call(req).await
}

async fn not_found(req: HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!("no route for {} {}", req.method(), req.path())))
}

fn json_config_error(err: actix_web::error::JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    ApiError::Malformed { field: None, message: err.to_string() }.into()
}

fn query_config_error(err: actix_web::error::QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    ApiError::Malformed { field: None, message: format!("invalid query string: {err}") }.into()
}

fn path_config_error(err: actix_web::error::PathError, _: &HttpRequest) -> actix_web::Error {
    ApiError::Malformed { field: None, message: format!("invalid path: {err}") }.into()
}

fn run(listener: TcpListener, state: web::Data<AppState>) -> anyhow::Result<Server> {
    let s = state.settings.clone();
    let largest_body = s.server.max_import_bytes.max(s.server.max_json_bytes);
    let json_limit = s.server.max_json_bytes;
    let production = s.server.production;
    let watch = crate::connection::on_connect(crate::connection::Guard {
        idle: Duration::from_millis(s.server.client_header_timeout_ms),
        send: Duration::from_millis(s.server.client_send_timeout_ms),
        production,
        metrics: state.metrics.clone(),
    });
    let mut server = HttpServer::new(move || {
        // HSTS in production, which is served over HTTPS only (docs/deploy.md): browsers never
        // try plain HTTP
        let mut headers = DefaultHeaders::new();
        for header in crate::connection::security_headers(production) {
            headers = headers.add(header);
        }
        App::new()
            .wrap(Compress::default())
            .wrap(headers)
            .wrap(from_fn(count_responses))
            .wrap(TracingLogger::<crate::telemetry::RedactedRootSpan>::new())
            // outermost: each request suspends its connection's deadline until its answer is out
            .wrap(from_fn(crate::connection::track))
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(largest_body))
            .app_data(web::JsonConfig::default().limit(json_limit).error_handler(json_config_error))
            .app_data(web::QueryConfig::default().error_handler(query_config_error))
            .app_data(web::PathConfig::default().error_handler(path_config_error))
            .route("/health", web::get().to(routes::health::health))
            .route("/metrics", web::get().to(routes::health::metrics))
            .service(
                web::scope("/auth")
                    .wrap(from_fn(identity_bodies_only))
                    .wrap(from_fn(limit_per_address))
                    .configure(routes::auth::configure),
            )
            .service(web::scope("/api").wrap(from_fn(limit_per_address)).configure(routes::configure_api))
            .configure(routes::webapp::configure)
            .default_service(web::to(not_found))
    })
    // slow clients: the first head must arrive within its deadline (then 408 and the connection
    // closes); every later head and any unread body by `connection`'s watchdog, the bodies that
    // are read by `extract::body::read_body`
    .on_connect(watch)
    // a bounded number of connections per worker (each costs two descriptors; review
    // 18-hardening-round2 M2), more wait in the accept queue
    .max_connections(s.server.max_connections)
    .max_connection_rate(s.server.max_connection_rate)
    .client_request_timeout(Duration::from_millis(s.server.client_header_timeout_ms))
    .client_disconnect_timeout(Duration::from_millis(s.server.client_disconnect_timeout_ms))
    .listen(listener)?
    .shutdown_timeout(s.server.shutdown_timeout_secs);
    if s.server.workers > 0 {
        server = server.workers(s.server.workers);
    }
    Ok(server.run())
}
