//! The browser voter app's files at `/`, and `GET /api/v1/web-assets` (`crate::webapp`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::webapp::{ASSETS, Asset, asset_hashes};

/// Routes at the root: the app's files.
pub fn configure(cfg: &mut web::ServiceConfig) {
    for a in &ASSETS {
        cfg.route(a.path, web::get().to(move |_: HttpRequest| async move { serve(a) }));
    }
}

fn serve(a: &'static Asset) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CONTENT_TYPE, a.content_type)).body(a.bytes)
}

/// `GET /api/v1/web-assets`: what this server serves, with the hashes it publishes on the board.
pub async fn list() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "assets": asset_hashes() }))
}
