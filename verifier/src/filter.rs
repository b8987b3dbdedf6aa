//! The filter of deniable re-voting (`13-revoting.md` §7, §9), checked from the text of the
//! specification: one module per building block.

pub mod comparisons;
pub mod cover;
pub mod dleq;
pub mod groups;
pub mod inputs;
pub mod keys;
pub mod pet;
pub mod run;
pub mod sanitation;
pub mod signed;
pub mod tags;
pub mod totals;
