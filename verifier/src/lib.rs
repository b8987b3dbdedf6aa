//! # dobush-verifier
//!
//! An independent verifier of Dobush election records, written from `docs/protocol/` and
//! `docs/record-format.md`. It shares no code with the rest of the workspace: a bug in the
//! election software must not be able to hide itself by being repeated here.
//!
//! Its modules, each importing only from modules after it in this list:
//! - [`record`]: checks a record (`verify_dir`, `verify`) and a voter's receipt (`verify_receipt`):
//!   the checks that open the record, then a loop over [`registry::REGISTRY`];
//! - [`registry`]: every check in the order the report prints them; [`checks`]: one file per
//!   check, each with its id (`docs/verifier-checks.md`); [`findings`]: what a check passes on
//!   to the checks after it;
//! - the larger checks' work: [`decryption`], [`ceremony`], [`election_protocol`], [`filtered`]
//!   (a v2 record's `filtered` entries, their transcript files and each style's filter inputs);
//! - [`load`]: the record decoded (version, context, board lines and entries); [`report`];
//! - `docs/protocol/` re-implemented: [`ballot`], [`ballot_v2`] (library code no check calls yet), [`board`], [`sigma`], [`manifest`], [`transcript`],
//!   [`encoding`].
//!
//! [`watch`] is the `watch` command, an observer of a live board.
#![forbid(unsafe_code)]

pub mod ballot;
pub mod ballot_v2;
pub mod board;
pub mod ceremony;
pub mod checks;
pub mod commission;
pub mod decryption;
pub mod election_protocol;
pub mod encoding;
pub mod filter;
pub mod filtered;
pub mod findings;
pub mod fingerprint;
pub mod html;
pub mod json;
pub mod load;
pub mod manifest;
pub mod parameters;
pub mod record;
pub mod registry;
pub mod report;
pub mod shuffle;
pub mod sigma;
pub mod transcript;
pub mod watch;
