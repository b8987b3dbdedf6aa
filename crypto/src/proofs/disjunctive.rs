//! Disjunctive Chaum–Pedersen proof (Cramer–Damgård–Schoenmakers): a ciphertext `(α, β)` under
//! `K` encrypts one of a public list of integers `v₀ < v₁ < … ` (`docs/protocol/04-proofs.md` §Disjunctive).
//!
//! For each value `vᵢ` a branch `(Aᵢ, Bᵢ, cᵢ, zᵢ)` with
//! `zᵢ·G = Aᵢ + cᵢ·α` and `zᵢ·K = Bᵢ + cᵢ·(β − vᵢ·G)`, and `Σ cᵢ = c`, the Fiat–Shamir challenge
//! drawn after every `(Aᵢ, Bᵢ)`. With one value this is exactly a Chaum–Pedersen proof that
//! `(α, β − v·G)` is an encryption of zero.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};

use crate::elgamal::KeyTable;
use crate::error::ProofError;
use crate::group::{GroupElement, mul_base, random_scalar, scalar_hex, small_mul_base};
use crate::labels;
use crate::proofs::{BaseId, Equation, EquationSink};
use crate::transcript::TranscriptProtocol;

/// The largest number of values a disjunctive proof may cover (wider ranges use bulletproofs).
pub const MAX_BRANCHES: u64 = 16;

/// One branch of a disjunctive proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Branch {
    /// `Aᵢ`.
    pub a: GroupElement,
    /// `Bᵢ`.
    pub b: GroupElement,
    /// `cᵢ`.
    #[serde(with = "scalar_hex")]
    pub c: Scalar,
    /// `zᵢ`.
    #[serde(with = "scalar_hex")]
    pub z: Scalar,
}

/// A disjunctive proof: one branch per allowed value, in the order of the value list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DisjunctiveProof {
    /// Branches, one per allowed value.
    pub branches: Vec<Branch>,
}

/// The statement: `(α, β)` under `K` encrypts one of `values`.
pub struct Statement<'a> {
    /// The election key.
    pub pk: &'a RistrettoPoint,
    /// First ciphertext component.
    pub alpha: &'a RistrettoPoint,
    /// Second ciphertext component.
    pub beta: &'a RistrettoPoint,
    /// The allowed values, strictly increasing, at most [`MAX_BRANCHES`].
    pub values: &'a [u64],
}

impl Statement<'_> {
    fn check_values(&self) -> Result<(), ProofError> {
        if self.values.is_empty()
            || self.values.len() as u64 > MAX_BRANCHES
            || self.values.windows(2).any(|w| w[0] >= w[1])
        {
            return Err(ProofError::Shape("allowed values must be 1..=16 strictly increasing integers"));
        }
        Ok(())
    }
}

fn nonzero(p: RistrettoPoint) -> Result<GroupElement, ProofError> {
    GroupElement::from_point(p).map_err(|_| ProofError::Shape("identity commitment"))
}

impl DisjunctiveProof {
    /// Proves that `(α, β) = (R·G, v·G + R·K)` with `v` in the value list. The transcript must
    /// hold the statement. Draws, for each value in list order: `w` for the true one, `cᵢ` then
    /// `zᵢ` for every other (64 bytes each).
    pub fn prove<R: RngCore + CryptoRng>(
        t: &mut Transcript,
        key: &KeyTable,
        st: &Statement<'_>,
        value: u64,
        r: &Scalar,
        rng: &mut R,
    ) -> Result<Self, ProofError> {
        st.check_values()?;
        if key.public_key().point() != st.pk {
            return Err(ProofError::Shape("key table does not match the statement's key"));
        }
        let idx = st
            .values
            .iter()
            .position(|v| *v == value)
            .ok_or(ProofError::Shape("value not among the allowed values"))?;
        let mut w = Scalar::ZERO;
        let mut pending = Vec::with_capacity(st.values.len());
        for &v in st.values {
            if v == value {
                w = random_scalar(rng);
                let a = nonzero(mul_base(&w))?;
                let b = nonzero(key.mul(&w))?;
                pending.push(Branch { a, b, c: Scalar::ZERO, z: Scalar::ZERO });
            } else {
                let c = random_scalar(rng);
                let z = random_scalar(rng);
                let a = nonzero(mul_base(&z) - c * st.alpha)?;
                let b = nonzero(key.mul(&z) - c * (st.beta - small_mul_base(v)))?;
                pending.push(Branch { a, b, c, z });
            }
        }
        for br in &pending {
            t.append_element(labels::L_CAP_A, &br.a);
            t.append_element(labels::L_CAP_B, &br.b);
        }
        let c = t.challenge_scalar(labels::L_C);
        let others: Scalar = pending.iter().map(|b| b.c).sum();
        let real = pending.get_mut(idx).ok_or(ProofError::Shape("branch index"))?;
        real.c = c - others;
        real.z = w + real.c * r;
        Ok(Self { branches: pending })
    }

    /// Verifies against the statement already in the transcript. `pk_base` is `K` registered in
    /// the sink.
    pub fn verify<S: EquationSink>(
        &self,
        t: &mut Transcript,
        st: &Statement<'_>,
        pk_base: BaseId,
        sink: &mut S,
    ) -> Result<(), ProofError> {
        st.check_values()?;
        if self.branches.len() != st.values.len() {
            return Err(ProofError::Shape("number of branches does not match the allowed values"));
        }
        for br in &self.branches {
            t.append_element(labels::L_CAP_A, &br.a);
            t.append_element(labels::L_CAP_B, &br.b);
        }
        let c = t.challenge_scalar(labels::L_C);
        let sum: Scalar = self.branches.iter().map(|b| b.c).sum();
        if sum != c {
            return Err(ProofError::Challenge);
        }
        for (&v, br) in st.values.iter().zip(&self.branches) {
            // zᵢ·G − Aᵢ − cᵢ·α = 0
            sink.equation(Equation {
                g: br.z,
                h: Scalar::ZERO,
                fixed: &[],
                terms: &[(-Scalar::ONE, *br.a.point()), (-br.c, *st.alpha)],
            })?;
            // zᵢ·K − Bᵢ − cᵢ·β + cᵢ·vᵢ·G = 0
            sink.equation(Equation {
                g: br.c * Scalar::from(v),
                h: Scalar::ZERO,
                fixed: &[(pk_base, br.z)],
                terms: &[(-Scalar::ONE, *br.b.point()), (-br.c, *st.beta)],
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elgamal::{KeyTable, SecretKey, encrypt};
    use crate::labels;
    use crate::proofs::{BatchVerifier, DirectCheck};
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn tr(ctx: &[u8], values: &[u64]) -> Transcript {
        let mut t = Transcript::protocol(labels::DS_SELECTION);
        t.append_message(labels::L_CONTEXT, ctx);
        for v in values {
            t.append_u64(labels::L_VALUE, *v);
        }
        t
    }

    impl DisjunctiveProof {
        fn prove_t(
            t: &mut Transcript,
            st: &Statement<'_>,
            v: u64,
            r: &Scalar,
            rng: &mut ChaCha20Rng,
        ) -> Result<Self, ProofError> {
            let key = KeyTable::new(crate::elgamal::PublicKey(GroupElement::from_point(*st.pk).unwrap()));
            Self::prove(t, &key, st, v, r, rng)
        }
    }

    fn check(p: &DisjunctiveProof, ctx: &[u8], st: &Statement<'_>) -> bool {
        let mut d = DirectCheck::default();
        let base = d.base(st.pk);
        p.verify(&mut tr(ctx, st.values), st, base, &mut d).is_ok()
    }

    #[test]
    fn every_value_in_range_proves_and_out_of_range_fails() {
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let pk = SecretKey::generate(&mut rng).public_key();
        let sets: [&[u64]; 5] =
            [&[0, 1], &[1], &[1, 2, 3, 4], &[1, 2, 9], &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]];
        for values in sets {
            for &v in values {
                let (ct, r) = encrypt(&pk, v, &mut rng).unwrap();
                let st = Statement { pk: pk.point(), alpha: ct.alpha.point(), beta: ct.beta.point(), values };
                let p = DisjunctiveProof::prove_t(&mut tr(b"x", values), &st, v, r.scalar(), &mut rng).unwrap();
                assert!(check(&p, b"x", &st));
                assert!(!check(&p, b"y", &st), "other context");
            }
        }
        // A prover who lies about the value produces a proof that fails.
        let (ct, r) = encrypt(&pk, 2, &mut rng).unwrap();
        let st = Statement { pk: pk.point(), alpha: ct.alpha.point(), beta: ct.beta.point(), values: &[0, 1] };
        let p = DisjunctiveProof::prove_t(&mut tr(b"x", &[0, 1]), &st, 1, r.scalar(), &mut rng).unwrap();
        assert!(!check(&p, b"x", &st));
        assert!(DisjunctiveProof::prove_t(&mut tr(b"x", &[0, 1]), &st, 2, r.scalar(), &mut rng).is_err());
        // Unordered or too many values are refused.
        let st = Statement { values: &[1, 0], ..st };
        assert!(DisjunctiveProof::prove_t(&mut tr(b"x", &[1, 0]), &st, 1, r.scalar(), &mut rng).is_err());
    }

    #[test]
    fn altered_parts_are_rejected() {
        let mut rng = ChaCha20Rng::seed_from_u64(12);
        let pk = SecretKey::generate(&mut rng).public_key();
        let (ct, r) = encrypt(&pk, 1, &mut rng).unwrap();
        let st = Statement { pk: pk.point(), alpha: ct.alpha.point(), beta: ct.beta.point(), values: &[0, 1] };
        let p = DisjunctiveProof::prove_t(&mut tr(b"x", &[0, 1]), &st, 1, r.scalar(), &mut rng).unwrap();
        assert!(check(&p, b"x", &st));
        for i in 0..2 {
            let mut q = p.clone();
            q.branches[i].c += Scalar::ONE;
            assert!(!check(&q, b"x", &st));
            let mut q = p.clone();
            q.branches[i].z += Scalar::ONE;
            assert!(!check(&q, b"x", &st));
            let mut q = p.clone();
            q.branches[i].a = q.branches[1 - i].a;
            assert!(!check(&q, b"x", &st));
            let mut q = p.clone();
            q.branches[i].b = q.branches[1 - i].b;
            assert!(!check(&q, b"x", &st));
        }
        // Shifting challenge between branches keeps the sum but breaks the equations.
        let mut q = p.clone();
        q.branches[0].c += Scalar::ONE;
        q.branches[1].c -= Scalar::ONE;
        assert!(!check(&q, b"x", &st));
        let mut b = BatchVerifier::new(&mut rng);
        let base = b.base(st.pk);
        q.verify(&mut tr(b"x", &[0, 1]), &st, base, &mut b).unwrap();
        assert!(b.finish().is_err());
        // Another ciphertext, the other statement range.
        let (ct2, _) = encrypt(&pk, 1, &mut rng).unwrap();
        let st2 = Statement { alpha: ct2.alpha.point(), beta: ct2.beta.point(), ..st };
        assert!(!check(&p, b"x", &st2));
        let st3 = Statement { values: &[0, 1, 2], ..st };
        assert!(!check(&p, b"x", &st3));
    }
}
