//! The shuffle's commitment generators `h_0 … h_{N−1}` and `ĥ` (`docs/protocol/12-shuffle.md`
//! §Generators, SH-G1 and SH-G2), hashed to the group so that nobody knows a relation between
//! them, `G` and `H`.

use curve25519_dalek::ristretto::{RistrettoBasepointTable, RistrettoPoint};
use rayon::prelude::*;

use crate::group::hash_to_group;
use crate::labels;

/// `prefix ‖ ctx ‖ LE64(len(purpose)) ‖ purpose`, the common part of SH-G1 and SH-G2.
fn seed_input(prefix: &[u8], context: &[u8; 32], purpose: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(prefix.len() + 32 + 8 + purpose.len() + 8);
    v.extend_from_slice(prefix);
    v.extend_from_slice(context);
    v.extend_from_slice(&(purpose.len() as u64).to_le_bytes());
    v.extend_from_slice(purpose.as_bytes());
    v
}

/// The generators of one shuffle.
pub(crate) struct Generators {
    /// `h_i`, one per row (SH-G1).
    pub h: Vec<RistrettoPoint>,
    /// `ĥ`, the base of the commitment chain (SH-G2).
    pub h_hat: RistrettoPoint,
}

impl Generators {
    /// Derives `h_0 … h_{n−1}` (in parallel) and `ĥ`.
    pub fn derive(context: &[u8; 32], purpose: &str, n: usize) -> Self {
        let prefix = seed_input(labels::SHUFFLE_GENERATOR, context, purpose);
        let h = (0..n as u64)
            .into_par_iter()
            .map_init(
                || prefix.clone(),
                |buf, i| {
                    buf.truncate(prefix.len());
                    buf.extend_from_slice(&i.to_le_bytes());
                    hash_to_group(buf)
                },
            )
            .collect();
        let h_hat = hash_to_group(&seed_input(labels::SHUFFLE_CHAIN_BASE, context, purpose));
        Self { h, h_hat }
    }

    /// A fixed-base table of `ĥ`, for the prover's constant-time products.
    pub fn h_hat_table(&self) -> RistrettoBasepointTable {
        RistrettoBasepointTable::create(&self.h_hat)
    }
}
