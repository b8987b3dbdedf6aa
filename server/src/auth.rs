//! Login (OIDC), session tokens, and the request extractors that check them.

pub mod extract;
pub mod oidc;
pub mod session;
