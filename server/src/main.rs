//! The Dobush server binary: `dobush-server` reads its settings (docs/configuration.md), migrates
//! the database and serves until SIGINT/SIGTERM. `dobush-server demo` does the same on SQLite
//! under `./data` with a seeded demo campaign (`dobush_server::demo`).

use std::sync::Arc;

use dobush_server::clock::SystemClock;
use dobush_server::configuration::get_configuration;
use dobush_server::startup::Application;
use dobush_server::telemetry;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    match std::env::args().nth(1).as_deref() {
        None => {}
        Some("demo") => return dobush_server::demo::run().await,
        Some("export-record") => {
            let args: Vec<String> = std::env::args().skip(2).collect();
            return dobush_server::export::run_cli(&args).await;
        }
        Some(other) => {
            anyhow::bail!(
                "unknown command {other:?}; usage: dobush-server [demo | export-record --campaign ID --out DIR]"
            )
        }
    }
    let settings = get_configuration()?;
    telemetry::init(&settings.log);
    let app = Application::build(settings, Arc::new(SystemClock)).await?;
    app.run_until_stopped().await?;
    tracing::info!("dobush-server stopped");
    Ok(())
}
