//! Shared fixtures for the cross-crate tests, and the known-answer vector generator.

pub mod fixtures;
pub mod vectors;
