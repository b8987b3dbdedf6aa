//! HTTP routes. Every endpoint is listed in docs/openapi.yaml.

use actix_web::web;

pub mod auth;
pub mod ballots;
pub mod board;
pub mod cabinet;
pub mod campaigns;
pub mod ceremony;
pub mod credential_list;
#[cfg(feature = "demo")]
pub mod demo;
pub mod filter;
pub mod health;
pub mod register;
pub mod replacement;
pub mod staff;
pub mod tally;
pub mod turnout;
pub mod webapp;

/// Routes under `/api`.
pub fn configure_api(cfg: &mut web::ServiceConfig) {
    cfg.route("/me", web::get().to(auth::me))
        .configure(staff::configure)
        .service(
            // casting first: the router tries each pattern of a scope in order (a regular
            // expression each), and a cast is the request of voting day
            web::scope("/campaigns")
                .configure(ballots::configure)
                .configure(campaigns::configure)
                .configure(register::configure)
                .configure(cabinet::configure)
                .configure(turnout::configure)
                .configure(replacement::configure)
                .configure(ceremony::configure)
                .configure(credential_list::configure)
                .configure(demo_routes),
        )
        .service(web::scope("/demo").configure(demo_root_routes))
        .route("/v1/web-assets", web::get().to(webapp::list))
        .service(
            web::scope("/v1/campaigns")
                .configure(board::configure)
                .configure(credential_list::configure_public)
                .configure(tally::configure)
                .configure(filter::configure),
        );
}

/// The demo endpoints under `/api/campaigns`; none in a build without the `demo` feature.
fn demo_routes(cfg: &mut web::ServiceConfig) {
    #[cfg(feature = "demo")]
    demo::configure(cfg);
    #[cfg(not(feature = "demo"))]
    let _ = cfg;
}

/// The demo endpoints under `/api/demo`; none in a build without the `demo` feature.
fn demo_root_routes(cfg: &mut web::ServiceConfig) {
    #[cfg(feature = "demo")]
    demo::configure_root(cfg);
    #[cfg(not(feature = "demo"))]
    let _ = cfg;
}
