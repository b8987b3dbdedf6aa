//! Closing the polls: the encrypted totals kept at cast time ([`shards`]), compared with the
//! board's and published at closing (docs/record-format.md §Encrypted totals).

pub mod shards;
