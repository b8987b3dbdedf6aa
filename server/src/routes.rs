//! HTTP routes. Every endpoint is listed in docs/openapi.yaml.

use actix_web::web;

pub mod auth;
pub mod health;

/// Routes under `/api`.
pub fn configure_api(cfg: &mut web::ServiceConfig) {
    cfg.route("/me", web::get().to(auth::me));
}
