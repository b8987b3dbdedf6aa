//! The filter of deniable re-voting (`docs/protocol/13-revoting.md` §7, §9): its building blocks,
//! one module per block. The rounds that use them are built on top.

pub mod comparisons;
pub mod cover;
pub mod designated;
pub mod dleq;
pub mod groups;
pub mod keys;
pub mod pet;
pub mod run;
pub mod tags;
pub mod totals;
