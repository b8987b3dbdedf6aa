//! The verifiable shuffle of rows of ElGamal ciphertexts (`docs/protocol/12-shuffle.md`): the
//! Terelius–Wikström proof of a shuffle, generalised to rows of `w` ciphertexts that move
//! together under one permutation.
//!
//! - [`shuffle_rows`] permutes and re-encrypts the rows (§Shuffling) and returns the output with
//!   the [`ShuffleSecret`] (permutation and nonces, zeroized on drop);
//! - [`prove_shuffle`] proves SH-0 for a [`ShuffleStatement`] (§Prover);
//! - [`verify_shuffle`] checks SH-1 … SH-6 as one random linear combination and, when it fails,
//!   names the first equation that does not hold (§Verifier).
//!
//! Each column has its own key (§Notation: `K_k`), bound in the statement before any
//! commitment. The commitment generators are hashed to the group from the context and the
//! purpose (§Generators); no column key is ever one of them, so the proof stays sound for the
//! key-holders who jointly know its secret (§Soundness).

mod generators;
mod parallel;
mod permute;
mod proof;
mod prover;
mod transcript;
mod verifier;

#[cfg(test)]
mod tests;

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

use crate::elgamal::{Ciphertext, PublicKey};
use crate::error::ProofError;

pub use permute::{ShuffleSecret, shuffle_rows};
pub use proof::{PairCommitment, ShuffleProof};
pub use prover::prove_shuffle;
pub use verifier::verify_shuffle;

/// The largest number of rows a shuffle may have (§Notation).
pub const MAX_ROWS: usize = u32::MAX as usize;
/// The largest number of ciphertexts per row (§Notation).
pub const MAX_WIDTH: usize = 1024;
/// The longest purpose string, in bytes (§Notation).
pub const MAX_PURPOSE_LEN: usize = 256;

/// `N ≥ 1` rows of `w ≥ 1` ciphertexts each, stored row after row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rows {
    width: usize,
    cts: Vec<Ciphertext>,
}

impl Rows {
    /// Rows of `width` ciphertexts from their concatenation (row 0 first).
    pub fn new(width: usize, cts: Vec<Ciphertext>) -> Result<Self, ShuffleError> {
        if width == 0 || width > MAX_WIDTH {
            return Err(ShuffleError::Shape("the width must be between 1 and 1024"));
        }
        if cts.is_empty() || !cts.len().is_multiple_of(width) {
            return Err(ShuffleError::Shape("there must be at least one row, every row of the same width"));
        }
        if cts.len() / width > MAX_ROWS {
            return Err(ShuffleError::Shape("too many rows"));
        }
        Ok(Self { width, cts })
    }

    /// Rows from a list of rows, which must all have the same width.
    pub fn from_rows(rows: Vec<Vec<Ciphertext>>) -> Result<Self, ShuffleError> {
        let width = rows.first().map_or(0, Vec::len);
        if rows.iter().any(|r| r.len() != width) {
            return Err(ShuffleError::Shape("every row must have the same width"));
        }
        Self::new(width, rows.into_iter().flatten().collect())
    }

    /// The number of rows `N` (at least 1).
    pub fn len(&self) -> usize {
        self.cts.len() / self.width
    }

    /// Always false: a value of this type has at least one row.
    pub fn is_empty(&self) -> bool {
        self.cts.is_empty()
    }

    /// The width `w` (at least 1).
    pub fn width(&self) -> usize {
        self.width
    }

    /// Row `i`, if it exists.
    pub fn row(&self, i: usize) -> Option<&[Ciphertext]> {
        let start = i.checked_mul(self.width)?;
        self.cts.get(start..start.checked_add(self.width)?)
    }

    /// The rows in order.
    pub fn iter(&self) -> std::slice::ChunksExact<'_, Ciphertext> {
        self.cts.chunks_exact(self.width)
    }

    /// Every ciphertext, row after row.
    pub fn ciphertexts(&self) -> &[Ciphertext] {
        &self.cts
    }

    /// The rows as a list of rows.
    pub fn to_vecs(&self) -> Vec<Vec<Ciphertext>> {
        self.iter().map(<[Ciphertext]>::to_vec).collect()
    }
}

impl Serialize for Rows {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Rows {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let rows = Vec::<Vec<Ciphertext>>::deserialize(d)?;
        Self::from_rows(rows).map_err(serde::de::Error::custom)
    }
}

/// What a shuffle proof is about (§Statement): the election context, the shuffle's purpose, the
/// key of each column, and the input and output rows.
#[derive(Clone, Copy, Debug)]
pub struct ShuffleStatement<'a> {
    /// The extended context hash of the election.
    pub context: &'a [u8; 32],
    /// The shuffle's name inside the election (1 to 256 bytes of UTF-8).
    pub purpose: &'a str,
    /// The column keys `K_0 … K_{w−1}`: column `k` of every row is re-encrypted under `K_k` (the
    /// election key `K`, or `H` for a column of Pedersen commitments, 13-revoting.md §5).
    pub keys: &'a [PublicKey],
    /// The input rows `C`.
    pub input: &'a Rows,
    /// The output rows `C'`.
    pub output: &'a Rows,
}

impl ShuffleStatement<'_> {
    /// Checks the purpose and that input and output have the same shape; returns `(N, w)`.
    pub(crate) fn shape(&self) -> Result<(usize, usize), ShuffleError> {
        if self.purpose.is_empty() || self.purpose.len() > MAX_PURPOSE_LEN {
            return Err(ShuffleError::Shape("the purpose must be 1 to 256 bytes"));
        }
        if self.input.len() != self.output.len() {
            return Err(ShuffleError::Shape("the output must have as many rows as the input"));
        }
        if self.input.width() != self.output.width() {
            return Err(ShuffleError::Shape("the output rows must be as wide as the input rows"));
        }
        if self.keys.len() != self.input.width() {
            return Err(ShuffleError::Shape("there must be one key per column"));
        }
        Ok((self.input.len(), self.input.width()))
    }
}

/// A verification equation of the shuffle proof (§Verifier).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ShuffleEquation {
    /// SH-1: the permutation commitments add up to the sum of the generators.
    Sh1,
    /// SH-2: the end of the commitment chain holds the product of the challenges.
    Sh2,
    /// SH-3: the challenge-weighted permutation commitments open to the responses `s'`.
    Sh3,
    /// SH-4: the first components of a column.
    Sh4 {
        /// The column `k`.
        column: usize,
    },
    /// SH-5: the second components of a column.
    Sh5 {
        /// The column `k`.
        column: usize,
    },
    /// SH-6: one step of the commitment chain.
    Sh6 {
        /// The row `i`.
        row: usize,
    },
}

impl fmt::Display for ShuffleEquation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sh1 => f.write_str("SH-1"),
            Self::Sh2 => f.write_str("SH-2"),
            Self::Sh3 => f.write_str("SH-3"),
            Self::Sh4 { column } => write!(f, "SH-4 column {column}"),
            Self::Sh5 { column } => write!(f, "SH-5 column {column}"),
            Self::Sh6 { row } => write!(f, "SH-6 row {row}"),
        }
    }
}

/// A shuffle that cannot be made, or a shuffle proof that does not verify.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ShuffleError {
    /// Sizes that do not fit the statement or the limits (§Statement, §Encodings and checks).
    #[error("shuffle has the wrong shape: {0}")]
    Shape(&'static str),
    /// A verification equation does not hold (the first one, in the order of §Verifier).
    #[error("shuffle proof equation {0} does not hold")]
    Equation(ShuffleEquation),
    /// The batch of equations fails although each equation holds on its own (a bug; the proof
    /// is refused all the same).
    #[error("the shuffle proof's batched equations do not hold")]
    Batch,
    /// The prover would have published the identity (probability about 1/ℓ; rule E1).
    #[error("the shuffle would publish the identity point")]
    Identity,
}

impl From<ShuffleError> for ProofError {
    fn from(e: ShuffleError) -> Self {
        match e {
            ShuffleError::Shape(s) => ProofError::Shape(s),
            ShuffleError::Equation(_) | ShuffleError::Batch => ProofError::Equation,
            ShuffleError::Identity => ProofError::Shape("identity point"),
        }
    }
}
