//! Shared fixtures for the cross-crate tests, and the known-answer vector generator.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

pub mod election;
pub mod fixtures;
pub mod fuzz_seeds;
pub mod load;
pub mod vectors;
