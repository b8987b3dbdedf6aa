//! Count proof for wide ranges: an aggregated bulletproofs range proof over Pedersen
//! commitments, linked to the ElGamal sum by a sigma proof (`docs/protocol/05-range.md`).
//!
//! Statement: `(α, β)` under `K` encrypts `v` with `lo ≤ v ≤ hi`.
//! - `V₁ = (v − lo)·G + s·H` is sent; `V₂ = (hi − lo)·G − V₁` commits to `hi − v` with blinding `−s`.
//! - Link proof of `(x, R, s)`: `α = R·G`, `β − lo·G = x·G + R·K`, `V₁ = x·G + s·H`.
//! - Range proof that both committed values lie in `[0, 2ⁿ)`, so `lo ≤ v ≤ hi`.
//!
//! `H` is derived by hashing to the group; nobody knows `log_G H`. The election key must NOT be
//! used as the blinding generator: whoever knows `log_G K` (the key-holders together) could open
//! `V₁` to any value and forge the range proof.

use std::sync::OnceLock;

use bulletproofs::{BulletproofGens, PedersenGens, RangeProof};
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::elgamal::KeyTable;
use crate::error::ProofError;
use crate::group::{GroupElement, generator_g, generator_h, mul_base, random_scalar, scalar_hex, small_mul_base};
use crate::labels;
use crate::proofs::{BaseId, Equation, EquationSink};
use crate::transcript::TranscriptProtocol;

/// Bulletproofs generators: `BulletproofGens::new(64, 2)` (derived by the bulletproofs crate
/// from its fixed labels) and `PedersenGens { B: G, B_blinding: H }`.
fn gens() -> &'static (BulletproofGens, PedersenGens) {
    static GENS: OnceLock<(BulletproofGens, PedersenGens)> = OnceLock::new();
    GENS.get_or_init(|| (BulletproofGens::new(64, 2), PedersenGens { B: generator_g(), B_blinding: generator_h() }))
}

/// The bit size `n ∈ {8, 16, 32, 64}` for a span `hi − lo`: the smallest with `hi − lo < 2ⁿ`.
pub fn bit_size(span: u64) -> usize {
    match span {
        s if s < 1 << 8 => 8,
        s if s < 1 << 16 => 16,
        s if s < 1 << 32 => 32,
        _ => 64,
    }
}

/// The link proof between the ElGamal sum and `V₁`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkProof {
    /// `A₁ = ρ_R·G`.
    pub a1: GroupElement,
    /// `A₂ = ρ_x·G + ρ_R·K`.
    pub a2: GroupElement,
    /// `A₃ = ρ_x·G + ρ_s·H`.
    pub a3: GroupElement,
    /// `z_x = ρ_x + c·x`.
    #[serde(with = "scalar_hex")]
    pub zx: Scalar,
    /// `z_R = ρ_R + c·R`.
    #[serde(with = "scalar_hex")]
    pub zr: Scalar,
    /// `z_s = ρ_s + c·s`.
    #[serde(with = "scalar_hex")]
    pub zs: Scalar,
}

/// A wide-range count proof.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeCountProof {
    /// `V₁ = (v − lo)·G + s·H`.
    pub v1: GroupElement,
    /// The link proof.
    pub link: LinkProof,
    /// The aggregated bulletproofs range proof over `(V₁, V₂)`.
    #[serde(serialize_with = "ser_rp", deserialize_with = "de_rp")]
    pub range: RangeProof,
}

impl PartialEq for RangeCountProof {
    fn eq(&self, o: &Self) -> bool {
        self.v1 == o.v1 && self.link == o.link && self.range.to_bytes() == o.range.to_bytes()
    }
}
impl Eq for RangeCountProof {}

fn ser_rp<S: Serializer>(rp: &RangeProof, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(rp.to_bytes()))
}

fn de_rp<'de, D: Deserializer<'de>>(d: D) -> Result<RangeProof, D::Error> {
    let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
    let b = crate::group::decode_hex(&s).map_err(|_| serde::de::Error::custom("range proof: not lowercase hex"))?;
    RangeProof::from_bytes(&b).map_err(|_| serde::de::Error::custom("range proof: malformed"))
}

/// The statement: `(α, β)` under `K` encrypts `v` with `lo ≤ v ≤ hi`.
pub struct RangeStatement<'a> {
    /// The election key.
    pub pk: &'a RistrettoPoint,
    /// First ciphertext component.
    pub alpha: &'a RistrettoPoint,
    /// Second ciphertext component.
    pub beta: &'a RistrettoPoint,
    /// Smallest allowed value.
    pub lo: u64,
    /// Largest allowed value.
    pub hi: u64,
}

fn nonzero(p: RistrettoPoint) -> Result<GroupElement, ProofError> {
    GroupElement::from_point(p).map_err(|_| ProofError::Shape("identity commitment"))
}

impl RangeCountProof {
    /// Proves `lo ≤ v ≤ hi` for `(α, β) = (R·G, v·G + R·K)`. The transcript must hold the
    /// statement. Draws `s, ρ_x, ρ_R, ρ_s` (64 bytes each), then the bulletproofs prover's own.
    pub fn prove<R: RngCore + CryptoRng>(
        t: &mut Transcript,
        key: &KeyTable,
        st: &RangeStatement<'_>,
        value: u64,
        r: &Scalar,
        rng: &mut R,
    ) -> Result<Self, ProofError> {
        if st.hi < st.lo || value < st.lo || value > st.hi {
            return Err(ProofError::Shape("value outside the proof's range"));
        }
        if key.public_key().point() != st.pk {
            return Err(ProofError::Shape("key table does not match the statement's key"));
        }
        let x = Scalar::from(value - st.lo);
        let s = random_scalar(rng);
        let v1 = nonzero(mul_base(&x) + s * generator_h())?;
        t.append_element(labels::L_CAP_V1, &v1);
        let (rx, rr, rs) = (random_scalar(rng), random_scalar(rng), random_scalar(rng));
        let a1 = nonzero(mul_base(&rr))?;
        let a2 = nonzero(mul_base(&rx) + key.mul(&rr))?;
        let a3 = nonzero(mul_base(&rx) + rs * generator_h())?;
        t.append_element(labels::L_CAP_A1, &a1);
        t.append_element(labels::L_CAP_A2, &a2);
        t.append_element(labels::L_CAP_A3, &a3);
        let c = t.challenge_scalar(labels::L_C);
        let link = LinkProof { a1, a2, a3, zx: rx + c * x, zr: rr + c * r, zs: rs + c * s };
        let (bp, pc) = gens();
        let n = bit_size(st.hi - st.lo);
        let (range, commitments) =
            RangeProof::prove_multiple_with_rng(bp, pc, t, &[value - st.lo, st.hi - value], &[s, -s], n, rng)
                .map_err(|_| ProofError::RangeProof)?;
        if commitments.first() != Some(&CompressedRistretto(*v1.as_bytes())) {
            return Err(ProofError::RangeProof);
        }
        Ok(Self { v1, link, range })
    }

    /// Verifies against the statement already in the transcript. The link equations go to the
    /// sink; the bulletproof is checked here with its own multiscalar multiplication.
    pub fn verify<S: EquationSink, R: RngCore + CryptoRng>(
        &self,
        t: &mut Transcript,
        st: &RangeStatement<'_>,
        pk_base: BaseId,
        sink: &mut S,
        rng: &mut R,
    ) -> Result<(), ProofError> {
        if st.hi < st.lo {
            return Err(ProofError::Shape("empty range"));
        }
        t.append_element(labels::L_CAP_V1, &self.v1);
        let l = &self.link;
        t.append_element(labels::L_CAP_A1, &l.a1);
        t.append_element(labels::L_CAP_A2, &l.a2);
        t.append_element(labels::L_CAP_A3, &l.a3);
        let c = t.challenge_scalar(labels::L_C);
        // z_R·G − A₁ − c·α = 0
        sink.equation(Equation {
            g: l.zr,
            h: Scalar::ZERO,
            fixed: &[],
            terms: &[(-Scalar::ONE, *l.a1.point()), (-c, *st.alpha)],
        })?;
        // z_x·G + z_R·K − A₂ − c·β + c·lo·G = 0
        sink.equation(Equation {
            g: l.zx + c * Scalar::from(st.lo),
            h: Scalar::ZERO,
            fixed: &[(pk_base, l.zr)],
            terms: &[(-Scalar::ONE, *l.a2.point()), (-c, *st.beta)],
        })?;
        // z_x·G + z_s·H − A₃ − c·V₁ = 0
        sink.equation(Equation {
            g: l.zx,
            h: l.zs,
            fixed: &[],
            terms: &[(-Scalar::ONE, *l.a3.point()), (-c, *self.v1.point())],
        })?;
        let v2 = small_mul_base(st.hi - st.lo) - self.v1.point();
        let (bp, pc) = gens();
        self.range
            .verify_multiple_with_rng(
                bp,
                pc,
                t,
                &[CompressedRistretto(*self.v1.as_bytes()), v2.compress()],
                bit_size(st.hi - st.lo),
                rng,
            )
            .map_err(|_| ProofError::RangeProof)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elgamal::{KeyTable, SecretKey, encrypt};
    use crate::labels;
    use crate::proofs::DirectCheck;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn tr(ctx: &[u8]) -> Transcript {
        let mut t = Transcript::protocol(labels::DS_COUNT_RANGE);
        t.append_message(labels::L_CONTEXT, ctx);
        t
    }

    fn check(p: &RangeCountProof, ctx: &[u8], st: &RangeStatement<'_>, rng: &mut ChaCha20Rng) -> bool {
        let mut d = DirectCheck::default();
        let base = d.base(st.pk);
        p.verify(&mut tr(ctx), st, base, &mut d, rng).is_ok()
    }

    #[test]
    fn range_proof_accepts_in_range_and_rejects_tampering() {
        let mut rng = ChaCha20Rng::seed_from_u64(21);
        let pk = SecretKey::generate(&mut rng).public_key();
        let (lo, hi) = (0u64, 21u64);
        for v in [0u64, 7, 21] {
            let (ct, r) = encrypt(&pk, v, &mut rng).unwrap();
            let st = RangeStatement { pk: pk.point(), alpha: ct.alpha.point(), beta: ct.beta.point(), lo, hi };
            let p = RangeCountProof::prove(&mut tr(b"x"), &KeyTable::new(pk), &st, v, r.scalar(), &mut rng).unwrap();
            assert!(check(&p, b"x", &st, &mut rng));
            assert!(!check(&p, b"y", &st, &mut rng), "other context");
            let st2 = RangeStatement {
                lo: 1,
                ..RangeStatement { pk: pk.point(), alpha: ct.alpha.point(), beta: ct.beta.point(), lo, hi }
            };
            assert!(!check(&p, b"x", &st2, &mut rng), "other bound");
        }
        let (ct, r) = encrypt(&pk, 5, &mut rng).unwrap();
        let st = RangeStatement { pk: pk.point(), alpha: ct.alpha.point(), beta: ct.beta.point(), lo, hi };
        let p = RangeCountProof::prove(&mut tr(b"x"), &KeyTable::new(pk), &st, 5, r.scalar(), &mut rng).unwrap();
        let mut q = p.clone();
        q.link.zx += Scalar::ONE;
        assert!(!check(&q, b"x", &st, &mut rng));
        let mut q = p.clone();
        q.v1 = q.link.a1;
        assert!(!check(&q, b"x", &st, &mut rng));
        let mut bytes = p.range.to_bytes();
        bytes[40] ^= 1;
        if let Ok(rp) = RangeProof::from_bytes(&bytes) {
            let q = RangeCountProof { range: rp, ..p.clone() };
            assert!(!check(&q, b"x", &st, &mut rng));
        }
        // Lying about the value: the prover's range proof cannot be made for an out-of-range
        // value, and a claimed in-range value breaks the link.
        let (ct, r) = encrypt(&pk, 30, &mut rng).unwrap();
        let st = RangeStatement { pk: pk.point(), alpha: ct.alpha.point(), beta: ct.beta.point(), lo, hi };
        let p = RangeCountProof::prove(&mut tr(b"x"), &KeyTable::new(pk), &st, 20, r.scalar(), &mut rng).unwrap();
        assert!(!check(&p, b"x", &st, &mut rng));
        // A roundtrip through JSON keeps the proof valid.
        let json = serde_json::to_string(&p).unwrap();
        let back: RangeCountProof = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);
    }
}
