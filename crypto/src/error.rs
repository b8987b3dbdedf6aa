//! Error types of the crypto crate. Each names what was wrong so that callers can report it
//! precisely (the server turns them into 4xx messages, the verifier into located failures).

use thiserror::Error;

/// Decoding of a byte or hex encoding failed. See `docs/protocol/01-group.md` §Encodings.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input had the wrong length.
    #[error("expected {expected} bytes, got {actual}")]
    Length {
        /// Required length.
        expected: usize,
        /// Length given.
        actual: usize,
    },
    /// Not valid lowercase hexadecimal.
    #[error("not valid lowercase hexadecimal")]
    Hex,
    /// The bytes are not the canonical encoding of a Ristretto255 point.
    #[error("not a canonical Ristretto255 point encoding")]
    InvalidPoint,
    /// The identity point where it is meaningless (keys, commitments, ciphertexts).
    #[error("the identity point is not allowed here")]
    Identity,
    /// The bytes are not a canonical scalar (must be below the group order ℓ).
    #[error("not a canonical scalar (must be below the group order)")]
    NonCanonicalScalar,
    /// A zero scalar where a secret key is expected.
    #[error("zero is not a valid secret key")]
    ZeroScalar,
    /// A structural problem (wrong count, unknown identifier, …).
    #[error("{0}")]
    Structure(String),
}

/// A proof or signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The verification equation(s) did not hold.
    #[error("verification equation failed")]
    Equation,
    /// The challenges of a disjunctive proof do not add up to the Fiat–Shamir challenge.
    #[error("challenge does not match the transcript")]
    Challenge,
    /// The proof has the wrong shape (e.g. number of branches) for its statement.
    #[error("proof has the wrong shape for its statement: {0}")]
    Shape(&'static str),
    /// The bulletproofs range proof failed.
    #[error("range proof failed")]
    RangeProof,
}
