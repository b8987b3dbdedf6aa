//! Closing the polls: the encrypted totals kept at cast time ([`shards`]), compared with the
//! board's and published at closing ([`totals`]; docs/record-format.md §Encrypted totals).

pub mod shards;
pub mod totals;
