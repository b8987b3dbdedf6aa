//! Schnorr proof of knowledge of `x` with `P = x·G` (`docs/protocol/04-proofs.md` §Schnorr).
//!
//! Commitment `A = w·G`; challenge `c` from the transcript after `A`; response `z = w + c·x`.
//! Check: `z·G − A − c·P = 0`.

use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};

use crate::error::ProofError;
use crate::group::{GroupElement, mul_base, random_scalar, scalar_hex};
use crate::labels;
use crate::proofs::{Equation, EquationSink};
use crate::transcript::TranscriptProtocol;

/// A Schnorr proof of knowledge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchnorrProof {
    /// Commitment `A = w·G`.
    pub commitment: GroupElement,
    /// Response `z = w + c·x`.
    #[serde(with = "scalar_hex")]
    pub response: Scalar,
}

impl SchnorrProof {
    /// Proves knowledge of `x` for `P = x·G`. The transcript must hold the statement (incl. `P`).
    /// Draws: `w` (64 bytes).
    pub fn prove<R: RngCore + CryptoRng>(t: &mut Transcript, x: &Scalar, rng: &mut R) -> Result<Self, ProofError> {
        let w = random_scalar(rng);
        let commitment = GroupElement::from_point(mul_base(&w)).map_err(|_| ProofError::Shape("zero nonce"))?;
        t.append_element(labels::L_CAP_A, &commitment);
        let c = t.challenge_scalar(labels::L_C);
        Ok(Self { commitment, response: w + c * x })
    }

    /// Verifies against `P`; the transcript must hold the same statement as the prover's.
    pub fn verify<S: EquationSink>(
        &self,
        t: &mut Transcript,
        public: &GroupElement,
        sink: &mut S,
    ) -> Result<(), ProofError> {
        t.append_element(labels::L_CAP_A, &self.commitment);
        let c = t.challenge_scalar(labels::L_C);
        sink.equation(Equation {
            g: self.response,
            h: Scalar::ZERO,
            fixed: &[],
            terms: &[(-Scalar::ONE, *self.commitment.point()), (-c, *public.point())],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels;
    use crate::proofs::{BatchVerifier, DirectCheck};
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn stmt(p: &GroupElement, ctx: &[u8]) -> Transcript {
        let mut t = Transcript::protocol(labels::DS_DKG_COEFFICIENT);
        t.append_message(labels::L_CONTEXT, ctx);
        t.append_element(labels::L_CAP_P, p);
        t
    }

    #[test]
    fn completeness_and_soundness_checks() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let x = random_scalar(&mut rng);
        let p = GroupElement::from_point(mul_base(&x)).unwrap();
        let proof = SchnorrProof::prove(&mut stmt(&p, b"ctx"), &x, &mut rng).unwrap();
        proof.verify(&mut stmt(&p, b"ctx"), &p, &mut DirectCheck::default()).unwrap();
        let mut b = BatchVerifier::new(&mut rng);
        proof.verify(&mut stmt(&p, b"ctx"), &p, &mut b).unwrap();
        b.finish().unwrap();

        // Another context, another statement, altered commitment or response: rejected.
        assert!(proof.verify(&mut stmt(&p, b"other"), &p, &mut DirectCheck::default()).is_err());
        let q = GroupElement::from_point(mul_base(&(x + Scalar::ONE))).unwrap();
        assert!(proof.verify(&mut stmt(&q, b"ctx"), &q, &mut DirectCheck::default()).is_err());
        let mut bad = proof.clone();
        bad.response += Scalar::ONE;
        assert!(bad.verify(&mut stmt(&p, b"ctx"), &p, &mut DirectCheck::default()).is_err());
        let mut bad = proof.clone();
        bad.commitment = q;
        assert!(bad.verify(&mut stmt(&p, b"ctx"), &p, &mut DirectCheck::default()).is_err());
        let mut b = BatchVerifier::new(&mut rng);
        let mut bad = proof;
        bad.response += Scalar::ONE;
        bad.verify(&mut stmt(&p, b"ctx"), &p, &mut b).unwrap();
        assert!(b.finish().is_err());
    }
}
