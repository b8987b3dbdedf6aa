//! The Dobush server binary: `dobush-server` reads its settings (docs/configuration.md), migrates
//! the database and serves until SIGINT/SIGTERM. `dobush-server demo` does the same on SQLite
//! under `./data` with a seeded demo campaign (`dobush_server::demo`); `dobush-server export-record`
//! writes a campaign's election record (`dobush_server::export`); `dobush-server
//! generate-board-key --out FILE` makes the board key once, before the first start (serving never
//! generates it).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use dobush_server::clock::SystemClock;
use dobush_server::configuration::get_configuration;
#[cfg(feature = "demo")]
use dobush_server::demo;
use dobush_server::startup::Application;
use dobush_server::{export, telemetry};

const USAGE: &str = "dobush-server [demo | export-record --campaign ID --out DIR | generate-board-key --out FILE]";

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    match std::env::args().nth(1).as_deref() {
        None => {}
        Some("demo") => return run_demo().await,
        Some("export-record") => {
            let args: Vec<String> = std::env::args().skip(2).collect();
            return export_record(&args).await;
        }
        Some("generate-board-key") => {
            let args: Vec<String> = std::env::args().skip(2).collect();
            return generate_board_key(&args);
        }
        Some(other) => {
            anyhow::bail!("unknown command {other:?}; usage: {USAGE}")
        }
    }
    let settings = get_configuration()?;
    if settings.server.production && cfg!(feature = "demo") {
        anyhow::bail!(
            "this dobush-server was built with the `demo` feature (demo key-holders, demo login): it refuses \
             server.production = true; build it with --no-default-features (docs/deploy.md)"
        );
    }
    telemetry::init(&settings.log, settings.server.production);
    let app = Application::build(settings, Arc::new(SystemClock)).await?;
    app.run_until_stopped().await?;
    tracing::info!("dobush-server stopped");
    Ok(())
}

/// In a build without the `demo` feature (a production build) there is no demo.
#[cfg(not(feature = "demo"))]
async fn run_demo() -> anyhow::Result<()> {
    anyhow::bail!("this dobush-server was built without the `demo` feature: it has no demo mode")
}

/// Runs the demo server until SIGINT/SIGTERM.
#[cfg(feature = "demo")]
async fn run_demo() -> anyhow::Result<()> {
    let mut settings = get_configuration()?;
    if settings.server.production {
        anyhow::bail!("`dobush-server demo` refuses a production configuration (server.production = true)");
    }
    if std::env::var_os("DOBUSH_DATABASE__URL").is_none() {
        settings.database.url = "sqlite://./data/demo.sqlite3".into();
    }
    settings.campaigns.allow_demo_mode = true;
    std::fs::create_dir_all("data")?;
    telemetry::init(&settings.log, settings.server.production);
    // the demo makes its own board key (the serving command never does)
    let key_path = Path::new(&settings.board.key_path);
    if dobush_server::board_log::generate_key_file(key_path)? {
        println!("generated the demo's board key at {}", key_path.display());
    }
    let host = settings.server.host.clone();
    // a PostgreSQL URL may hold a password: only a SQLite path is printed
    let sqlite_url = Some(settings.database.url.clone()).filter(|u| u.starts_with("sqlite:"));
    let app = Application::build(settings, Arc::new(SystemClock)).await?;
    let port = app.port();
    let now = chrono::Utc::now().timestamp();
    let created = app
        .state()
        .db
        .write(move |c| demo::seed(c, now))
        .await
        .map_err(|e| anyhow::anyhow!("seeding the demo campaign: {e}"))?;
    let base = format!("http://{host}:{port}");
    let db = sqlite_url.clone().unwrap_or_else(|| "the database of DOBUSH_DATABASE__URL".into());
    println!("Dobush demo {} on {base} ({db})", if created { "seeded" } else { "resumed" });
    print!("{}", demo::addresses(&base, demo::DEMO_CAMPAIGN, sqlite_url.as_deref()));
    println!("Stop with Ctrl-C.");
    app.run_until_stopped().await?;
    Ok(())
}

/// `dobush-server generate-board-key --out FILE`: makes the board's signing key once, before the
/// first start (mode 0600); refuses to overwrite a key. Prints the public key.
fn generate_board_key(args: &[String]) -> anyhow::Result<()> {
    let [flag, out] = args else { anyhow::bail!("usage: dobush-server generate-board-key --out FILE") };
    if flag != "--out" {
        anyhow::bail!("usage: dobush-server generate-board-key --out FILE");
    }
    let path = Path::new(out);
    if !dobush_server::board_log::generate_key_file(path)? {
        anyhow::bail!(
            "{out} already exists: a board key is never replaced (every head of a campaign needs the same key)"
        );
    }
    let key = dobush_server::board_log::load_key(path)?;
    println!("board key written to {out}; public key {}; back it up", hex::encode(key.public()));
    Ok(())
}

/// `dobush-server export-record --campaign ID --out DIR`: reads the configured database.
async fn export_record(args: &[String]) -> anyhow::Result<()> {
    let mut campaign = None;
    let mut out = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--campaign" => campaign = it.next().cloned(),
            "--out" => out = it.next().cloned(),
            other => {
                anyhow::bail!("unknown argument {other:?}; usage: dobush-server export-record --campaign ID --out DIR")
            }
        }
    }
    let (Some(campaign), Some(out)) = (campaign, out) else {
        anyhow::bail!("usage: dobush-server export-record --campaign ID --out DIR");
    };
    let settings = get_configuration()?;
    let record = tokio::task::spawn_blocking(move || -> anyhow::Result<export::RecordExport> {
        let s = &settings.database;
        let db = dobush_server::db::Db::connect(&s.url, 1, std::time::Duration::from_secs(s.connect_timeout_secs))?;
        db.migrate()?;
        let mut c = db.get().map_err(|e| anyhow::anyhow!("database: {e}"))?;
        export::build_record(&mut c, &campaign).map_err(|e| anyhow::anyhow!("{e}"))
    })
    .await
    .context("export task")??;
    export::write_record(&record, Path::new(&out))?;
    eprintln!(
        "wrote {out}/record.json and {out}/board.jsonl ({} entries, record {})",
        record.board.lines().count(),
        record.status()
    );
    Ok(())
}
