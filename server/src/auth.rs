//! Login (OIDC) and session tokens; the extractors that check them are `crate::extract::session`.

pub mod oidc;
pub mod revocation;
pub mod session;
