//! The browser voter app (`web/`), embedded in the binary at build time from `web/dist/` (the
//! reproducible bundle committed in the repository; `web/test/dist.test.mjs` checks it is up to
//! date) and served at `/`. Nothing is read from disk at run time, so the bytes served are the
//! bytes this binary was built with, and their Subresource-Integrity hashes are published on
//! every campaign's board at opening (`web_assets` entry, docs/protocol/10-board.md). The routes
//! that serve them are `routes::webapp`.

use std::sync::OnceLock;

use base64::Engine;
use sha2::{Digest, Sha384};

/// The Content-Security-Policy of every response: the app loads only its own script and style
/// (pinned by SRI in `index.html`), talks only to this origin, and is never framed.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; require-trusted-types-for 'script'";

/// A served file: URL path, content type, bytes.
pub struct Asset {
    /// The URL path.
    pub path: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// The exact bytes served.
    pub bytes: &'static [u8],
}

/// Every served file of the app.
pub static ASSETS: [Asset; 3] = [
    Asset { path: "/", content_type: "text/html; charset=utf-8", bytes: include_bytes!("../../web/dist/index.html") },
    Asset {
        path: "/app.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../web/dist/app.js"),
    },
    Asset {
        path: "/app.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../web/dist/app.css"),
    },
];

/// The Subresource-Integrity string of `bytes`: `sha384-` and the base64 of the SHA-384 digest.
pub fn integrity(bytes: &[u8]) -> String {
    format!("sha384-{}", base64::engine::general_purpose::STANDARD.encode(Sha384::digest(bytes)))
}

/// `(path, integrity)` of every served asset, in `ASSETS` order: the `web_assets` board entry.
pub fn asset_hashes() -> &'static [(String, String)] {
    static HASHES: OnceLock<Vec<(String, String)>> = OnceLock::new();
    HASHES.get_or_init(|| ASSETS.iter().map(|a| (a.path.to_string(), integrity(a.bytes))).collect())
}
