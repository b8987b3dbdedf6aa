//! The filter's building blocks (`docs/protocol/13-revoting.md` §7, §9).

pub mod dleq;
pub mod groups;
pub mod keys;
pub mod pet;
pub mod tags;
