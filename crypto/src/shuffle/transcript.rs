//! The shuffle's transcript and challenges (`docs/protocol/12-shuffle.md` §Transcript and
//! challenges): the statement first (rule F1: context, purpose, sizes, the key of every column, the rows), then the permutation commitments, the seed of
//! the per-row challenges `u_j` (SH-C1), the chain, the other commitments, and `c` (SH-C2).

use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rayon::prelude::*;
use sha2::{Digest, Sha512};

use super::ShuffleStatement;
use super::proof::PairCommitment;
use crate::group::GroupElement;
use crate::labels;
use crate::transcript::TranscriptProtocol;

/// A shuffle transcript: it can only be created with the whole statement in it, and it hands out
/// each challenge only after the commitments it depends on.
pub(crate) struct ShuffleTranscript(Transcript);

impl ShuffleTranscript {
    /// `T ← new("shuffle")`, then the context, purpose, sizes, column keys, input and output rows.
    pub fn new(stmt: &ShuffleStatement<'_>) -> Self {
        let mut t = Transcript::protocol(labels::DS_SHUFFLE);
        t.append_message(labels::L_CONTEXT, stmt.context);
        t.append_str(labels::L_PURPOSE, stmt.purpose);
        t.append_u64(labels::L_ROWS, stmt.input.len() as u64);
        t.append_u64(labels::L_WIDTH, stmt.input.width() as u64);
        for key in stmt.keys {
            t.append_element(labels::L_PK, &key.0);
        }
        for ct in stmt.input.ciphertexts().iter().chain(stmt.output.ciphertexts()) {
            t.append_element(labels::L_ALPHA, &ct.alpha);
            t.append_element(labels::L_BETA, &ct.beta);
        }
        Self(t)
    }

    /// Absorbs the permutation commitments `P_j` and returns the per-row challenges `u_j`.
    pub fn permutation_commitments(&mut self, p: &[GroupElement]) -> Vec<Scalar> {
        for pj in p {
            self.0.append_element(labels::L_PC, pj);
        }
        let seed = self.0.challenge_32(labels::L_U);
        row_challenges(&seed, p.len())
    }

    /// Absorbs the commitment chain `Ĉ_i`.
    pub fn chain(&mut self, chain: &[GroupElement]) {
        for c in chain {
            self.0.append_element(labels::L_CC, c);
        }
    }

    /// Absorbs `T₁, T₂, T₃`, every `T₄_k` and every `T̂_i`, and returns the challenge `c`.
    pub fn commitments(&mut self, t: [&GroupElement; 3], t4: &[PairCommitment], t_hat: &[GroupElement]) -> Scalar {
        self.0.append_element(labels::L_T1, t[0]);
        self.0.append_element(labels::L_T2, t[1]);
        self.0.append_element(labels::L_T3, t[2]);
        for p in t4 {
            self.0.append_element(labels::L_T4A, &p.alpha);
            self.0.append_element(labels::L_T4B, &p.beta);
        }
        for th in t_hat {
            self.0.append_element(labels::L_TH, th);
        }
        self.0.challenge_scalar(labels::L_C)
    }
}

/// SH-C1: `u_j = wide(SHA-512("dobush/v1/shuffle/u" ‖ seed ‖ LE64(j)))`, computed in parallel.
fn row_challenges(seed: &[u8; 32], n: usize) -> Vec<Scalar> {
    let mut prefix = Sha512::new();
    prefix.update(labels::SHUFFLE_CHALLENGE);
    prefix.update(seed);
    (0..n as u64)
        .into_par_iter()
        .map(|j| {
            let mut h = prefix.clone();
            h.update(j.to_le_bytes());
            Scalar::from_bytes_mod_order_wide(&h.finalize().into())
        })
        .collect()
}
