//! # dobush-verifier
//!
//! An independent verifier of Dobush election records, written from `docs/protocol/` and
//! `docs/record-format.md`. It shares no code with the rest of the workspace: a bug in the
//! election software must not be able to hide itself by being repeated here.
#![forbid(unsafe_code)]

pub mod ballot;
pub mod board;
pub mod ceremony;
pub mod decryption;
pub mod encoding;
pub mod manifest;
pub mod protocol;
pub mod record;
pub mod report;
pub mod shuffle;
pub mod sigma;
pub mod transcript;
pub mod watch;
