//! Extractors of the HTTP layer: the request's body ([`body`]).

pub mod body;
