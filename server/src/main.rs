//! The Dobush server binary: `dobush-server` reads its settings (docs/configuration.md), migrates
//! the database and serves until SIGINT/SIGTERM.

use std::sync::Arc;

use dobush_server::clock::SystemClock;
use dobush_server::configuration::get_configuration;
use dobush_server::startup::Application;
use dobush_server::telemetry;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let settings = get_configuration()?;
    telemetry::init(&settings.log);
    let app = Application::build(settings, Arc::new(SystemClock)).await?;
    app.run_until_stopped().await?;
    tracing::info!("dobush-server stopped");
    Ok(())
}
