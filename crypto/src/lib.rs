//! # dobush-crypto
//!
//! The cryptographic core of Dobush: exponential ElGamal on Ristretto255, Fiat–Shamir proofs
//! over Merlin transcripts, bulletproofs range proofs, threshold keys for the commission's
//! key-holders, ballots bound to the election, their voter credential and ballot style, and a
//! homomorphic tally. It does no I/O.
//!
//! The protocol is specified in `docs/protocol/` and the serialized forms in
//! `docs/record-format.md`; every module cites the section it implements.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod ballot;
pub mod ballot_v2;
pub mod board;
pub mod commission;
pub mod context;
pub mod credential;
pub mod dlog;
pub mod election_protocol;
pub mod elgamal;
pub mod error;
pub mod filter;
pub mod group;
pub mod labels;
pub mod manifest;
pub mod parameters;
pub mod proofs;
pub mod record;
pub mod shmt;
pub mod shuffle;
pub mod signature;
pub mod tally;
pub mod threshold;
pub mod transcript;

/// In-process key ceremony for tests (crate feature `test-helpers`; never in production).
#[cfg(any(test, feature = "test-helpers"))]
pub mod testing;
