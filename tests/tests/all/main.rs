//! The cross-crate test binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod differential;
mod e2e;
mod filter;
mod filter_run;
mod filter_tags;
mod schemas;
mod shuffle;
mod vectors;
mod verifier;
mod verifier_decryption;
mod verifier_unknown_fields;
