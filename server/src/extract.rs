//! Extractors of the HTTP layer: who is calling and may they do this ([`session`]), and the
//! request's body ([`body`]).

pub mod body;
pub mod session;
