//! The filter of deniable re-voting (`docs/protocol/13-revoting.md`): its building blocks, one
//! module per block. The rounds that use them are built on top.

pub mod comparisons;
pub mod cover;
pub mod totals;
