//! Chaum–Pedersen proof of equality of discrete logarithms (DLEQ):
//! knowledge of `x` with `X = x·G` and `Y = x·P` (`docs/protocol/04-proofs.md` §Chaum–Pedersen).
//!
//! Commitments `A = w·G`, `B = w·P`; challenge `c`; response `z = w + c·x`.
//! Checks: `z·G − A − c·X = 0` and `z·P − B − c·Y = 0`.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};

use crate::error::ProofError;
use crate::group::{GroupElement, mul_base, random_scalar, scalar_hex};
use crate::labels;
use crate::proofs::{Equation, EquationSink};
use crate::transcript::TranscriptProtocol;

/// A Chaum–Pedersen proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DleqProof {
    /// `A = w·G`.
    pub a: GroupElement,
    /// `B = w·P`.
    pub b: GroupElement,
    /// `z = w + c·x`.
    #[serde(with = "scalar_hex")]
    pub response: Scalar,
}

impl DleqProof {
    /// Proves `log_G X = log_P Y = x`. The transcript must hold the statement `(X, P, Y)`.
    /// Draws: `w` (64 bytes).
    pub fn prove<R: RngCore + CryptoRng>(
        t: &mut Transcript,
        p: &RistrettoPoint,
        x: &Scalar,
        rng: &mut R,
    ) -> Result<Self, ProofError> {
        let w = random_scalar(rng);
        let a = GroupElement::from_point(mul_base(&w)).map_err(|_| ProofError::Shape("zero nonce"))?;
        let b = GroupElement::from_point(w * p).map_err(|_| ProofError::Shape("zero nonce"))?;
        t.append_element(labels::L_CAP_A, &a);
        t.append_element(labels::L_CAP_B, &b);
        let c = t.challenge_scalar(labels::L_C);
        Ok(Self { a, b, response: w + c * x })
    }

    /// Verifies for the statement `(X, P, Y)` already in the transcript.
    pub fn verify<S: EquationSink>(
        &self,
        t: &mut Transcript,
        x_pub: &RistrettoPoint,
        p: &RistrettoPoint,
        y: &RistrettoPoint,
        sink: &mut S,
    ) -> Result<(), ProofError> {
        t.append_element(labels::L_CAP_A, &self.a);
        t.append_element(labels::L_CAP_B, &self.b);
        let c = t.challenge_scalar(labels::L_C);
        sink.equation(Equation {
            g: self.response,
            h: Scalar::ZERO,
            fixed: &[],
            terms: &[(-Scalar::ONE, *self.a.point()), (-c, *x_pub)],
        })?;
        sink.equation(Equation {
            g: Scalar::ZERO,
            h: Scalar::ZERO,
            fixed: &[],
            terms: &[(self.response, *p), (-Scalar::ONE, *self.b.point()), (-c, *y)],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::hash_to_group;
    use crate::labels;
    use crate::proofs::{BatchVerifier, DirectCheck};
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn stmt(ctx: &[u8], x: &RistrettoPoint, p: &RistrettoPoint, y: &RistrettoPoint) -> Transcript {
        let mut t = Transcript::protocol(labels::DS_DECRYPTION_SHARE);
        t.append_message(labels::L_CONTEXT, ctx);
        t.append_message(labels::L_CAP_X, x.compress().as_bytes());
        t.append_message(labels::L_CAP_P, p.compress().as_bytes());
        t.append_message(labels::L_CAP_Y, y.compress().as_bytes());
        t
    }

    #[test]
    fn dleq_accepts_honest_rejects_altered() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let x = random_scalar(&mut rng);
        let p = hash_to_group(b"some point");
        let (xp, y) = (mul_base(&x), x * p);
        let proof = DleqProof::prove(&mut stmt(b"c", &xp, &p, &y), &p, &x, &mut rng).unwrap();
        let ok = |pr: &DleqProof, ctx: &[u8], xp: &RistrettoPoint, p: &RistrettoPoint, y: &RistrettoPoint| {
            pr.verify(&mut stmt(ctx, xp, p, y), xp, p, y, &mut DirectCheck::default()).is_ok()
        };
        assert!(ok(&proof, b"c", &xp, &p, &y));
        assert!(!ok(&proof, b"d", &xp, &p, &y), "other context");
        let y2 = y + p;
        assert!(!ok(&proof, b"c", &xp, &p, &y2), "other Y");
        let p2 = p + p;
        assert!(!ok(&proof, b"c", &xp, &p2, &y), "other P");
        let mut bad = proof.clone();
        bad.response += Scalar::ONE;
        assert!(!ok(&bad, b"c", &xp, &p, &y));
        let mut bad = proof.clone();
        bad.b = bad.a;
        assert!(!ok(&bad, b"c", &xp, &p, &y));
        // A wrong share Y' = x'·P with a proof for x' fails against X = x·G.
        let x2 = x + Scalar::ONE;
        let y3 = x2 * p;
        let forged = DleqProof::prove(&mut stmt(b"c", &xp, &p, &y3), &p, &x2, &mut rng).unwrap();
        assert!(!ok(&forged, b"c", &xp, &p, &y3));
        let mut b = BatchVerifier::new(&mut rng);
        forged.verify(&mut stmt(b"c", &xp, &p, &y3), &xp, &p, &y3, &mut b).unwrap();
        assert!(b.finish().is_err());
    }
}
