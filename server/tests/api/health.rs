use crate::helpers::{Backend, assert_error, http_client, spawn_app};

async fn health_reports_ok(b: Backend) {
    let app = spawn_app(b).await;
    let r = http_client().get(app.url("/health")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    // the suite really runs on the backend it names
    let expected = match app.backend {
        Backend::Postgres => dobush_server::db::Backend::Postgres,
        Backend::Sqlite => dobush_server::db::Backend::Sqlite,
    };
    assert_eq!(app.state.db.backend(), expected);
}

async fn metrics_expose_open_alerts(b: Backend) {
    let app = spawn_app(b).await;
    let r = http_client().get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(text.contains("\ndobush_open_alerts 0\n"), "{text}");
    // bootstrap granted the two CEC administrators: one audit entry each
    assert!(text.contains("\ndobush_audit_log_entries 2\n"), "{text}");
}

async fn unknown_routes_are_json_404(b: Backend) {
    let app = spawn_app(b).await;
    let r = http_client().get(app.url("/nope")).send().await.unwrap();
    assert_error(r, 404, "not_found").await;
}

#[tokio::test]
async fn a_lost_database_gives_clear_503s() {
    use diesel::{Connection, PgConnection, RunQueryDsl};
    let app = crate::helpers::spawn_app_with(Backend::Postgres, |s| s.database.connect_timeout_secs = 1).await;
    assert_eq!(http_client().get(app.url("/health")).send().await.unwrap().status(), 200);
    let url = app._db.url.clone();
    let (base, name) = url.rsplit_once('/').unwrap();
    let mut admin = PgConnection::establish(&format!("{base}/postgres")).unwrap();
    diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut admin).unwrap();
    let r = http_client().get(app.url("/health")).send().await.unwrap();
    assert_error(r, 503, "unavailable").await;
    let r = http_client().get(app.url("/api/campaigns")).send().await.unwrap();
    assert_error(r, 503, "unavailable").await;
}

crate::backend_tests!(health_reports_ok, metrics_expose_open_alerts, unknown_routes_are_json_404);
