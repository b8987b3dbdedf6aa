//! The cross-crate test binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod differential;
mod vectors;
mod verifier;
mod verifier_decryption;
