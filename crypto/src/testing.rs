//! Test helpers: a complete key ceremony run in process by `n` simulated key-holders
//! ([`crate::threshold::local`], re-exported here), so that other crates' tests have a real
//! threshold key.
//!
//! Compiled only with the crate feature `test-helpers` (and in this crate's own tests).

pub use crate::threshold::local::*;
