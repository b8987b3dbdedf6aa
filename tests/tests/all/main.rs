//! The cross-crate test binary.

mod vectors;
