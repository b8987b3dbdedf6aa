//! The filter of deniable re-voting (`13-revoting.md`), checked from the text of the
//! specification: one module per building block.

pub mod comparisons;
pub mod cover;
pub mod totals;
