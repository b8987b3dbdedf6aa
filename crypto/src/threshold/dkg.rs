//! Pedersen distributed key generation with Feldman commitments (`docs/protocol/06-dkg.md`).
//!
//! Every key-holder `i` is a dealer of a random polynomial `f_i` of degree `t − 1`:
//!
//! 1. **Commit** (§Round 1): publishes `h_i`, a hash of its Feldman commitments
//!    `K_{i,j} = a_{i,j}·G` and their Schnorr proofs, so that nobody can choose a polynomial after
//!    seeing another's (rushing).
//! 2. **Reveal and deal** (§Round 2): once every hash is in, reveals the commitments and proofs
//!    and sends `s_{i→l} = f_i(l)` to every other key-holder `l`, encrypted to `l`'s
//!    communication key.
//! 3. **Check and complain** (§Round 3): each recipient checks `s·G = Σ_j l^j·K_{i,j}`; on
//!    failure it publishes a complaint that reveals the decryption key of the share with a
//!    Chaum–Pedersen proof, so that anyone can decide who cheated ([`adjudicate`]).
//! 4. **Result** (§Result): the qualified dealers `Q`, the joint key `K = Σ_{i∈Q} K_{i,0}`,
//!    every key-holder's verification key and each key-holder's secret share ([`evaluate`],
//!    [`derive_key_share`]).
//!
//! Every message is signed by its sender ([`Signed`]); every transcript starts with its domain
//! separator and the base context hash.
//!
//! The files under `dkg/` follow these steps: `polynomial.rs` (a dealer's polynomial, its
//! commitments and their hash), `shares.rs` (encrypting, opening and checking a share),
//! `complaints.rs` (complaining and adjudicating), `signed.rs` (the signature on every message)
//! and `evaluation.rs` (the published transcript evaluated into the outcome and a key-holder's
//! share).

mod complaints;
mod evaluation;
mod polynomial;
mod shares;
mod signed;
#[cfg(test)]
mod tests;

pub use complaints::{Complaint, ComplaintFault, Verdict, adjudicate};
pub use evaluation::{
    CeremonyOutcome, CeremonyTranscript, Disqualification, UnfoundedComplaint, derive_key_share, evaluate,
};
pub use polynomial::{CommitmentHash, DealerCommitments, Polynomial};
pub use shares::{ENCRYPTED_SHARE_LEN, EncryptedShare};
pub use signed::{CeremonyMessage, Signed};
