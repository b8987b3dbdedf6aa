//! The shuffle proof and its serialized form (`docs/protocol/12-shuffle.md` §Serialized form).
//! Decoding is strict: points with rule E1 (through [`GroupElement`]), scalars with rule E2,
//! unknown fields rejected; the lengths are checked against the statement by the verifier.

use curve25519_dalek::scalar::Scalar;
use serde::{Deserialize, Serialize};

use super::ShuffleError;
use crate::group::{GroupElement, scalar_hex, scalar_vec_hex};

/// `(T₄α_k, T₄β_k)`: the commitment of the re-encryption equations of one column (SH-P5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairCommitment {
    /// `T₄α_k = Σ_i ω'_i·α'_{i,k} − ω₄_k·G`.
    pub alpha: GroupElement,
    /// `T₄β_k = Σ_i ω'_i·β'_{i,k} − ω₄_k·K`.
    pub beta: GroupElement,
}

/// A proof of a shuffle of `N` rows of width `w`: 3N + 3 + 2w points, 2N + 3 + w scalars.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShuffleProof {
    /// `P_j = r_j·G + h_{π(j)}` (SH-P1), one per input row.
    pub permutation_commitments: Vec<GroupElement>,
    /// `Ĉ_i = r̂_i·G + u'_i·Ĉ_{i−1}` (SH-P3), one per output row.
    pub chain: Vec<GroupElement>,
    /// `T₁ = ω₁·G`.
    pub t1: GroupElement,
    /// `T₂ = ω₂·G`.
    pub t2: GroupElement,
    /// `T₃ = ω₃·G + Σ_i ω'_i·h_i`.
    pub t3: GroupElement,
    /// `(T₄α_k, T₄β_k)`, one per column.
    pub t4: Vec<PairCommitment>,
    /// `T̂_i = ω̂_i·G + ω'_i·Ĉ_{i−1}`, one per output row.
    pub t_hat: Vec<GroupElement>,
    /// `s₁ = ω₁ + c·r̄`.
    #[serde(with = "scalar_hex")]
    pub s1: Scalar,
    /// `s₂ = ω₂ + c·r̂`.
    #[serde(with = "scalar_hex")]
    pub s2: Scalar,
    /// `s₃ = ω₃ + c·r̃`.
    #[serde(with = "scalar_hex")]
    pub s3: Scalar,
    /// `s₄_k = ω₄_k + c·ρ_k`, one per column.
    #[serde(with = "scalar_vec_hex")]
    pub s4: Vec<Scalar>,
    /// `ŝ_i = ω̂_i + c·r̂_i`, one per output row.
    #[serde(with = "scalar_vec_hex")]
    pub s_hat: Vec<Scalar>,
    /// `s'_i = ω'_i + c·u'_i`, one per output row, shared by every column.
    #[serde(with = "scalar_vec_hex")]
    pub s_prime: Vec<Scalar>,
}

impl ShuffleProof {
    /// Checks that every list has the length the statement's `(N, w)` requires.
    pub(crate) fn check_shape(&self, n: usize, w: usize) -> Result<(), ShuffleError> {
        let rows = [self.permutation_commitments.len(), self.chain.len(), self.t_hat.len()];
        if rows.iter().chain([self.s_hat.len(), self.s_prime.len()].iter()).any(|&l| l != n) {
            return Err(ShuffleError::Shape("a per-row list of the proof does not have one entry per row"));
        }
        if self.t4.len() != w || self.s4.len() != w {
            return Err(ShuffleError::Shape("a per-column list of the proof does not have one entry per column"));
        }
        Ok(())
    }

    /// The size of the proof's group elements in bytes: `32·(5N + 6 + 3w)`.
    pub fn size_in_bytes(&self) -> usize {
        let points = 3 + self.permutation_commitments.len() + self.chain.len() + self.t_hat.len() + 2 * self.t4.len();
        let scalars = 3 + self.s4.len() + self.s_hat.len() + self.s_prime.len();
        32 * (points + scalars)
    }
}
