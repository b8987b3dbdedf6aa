//! Round 1's proof designated to the coordinator (`13-revoting.md` §7.2, DV-1 … DV-4): member
//! j proves that its private shares are `Q_i = y·P_i` (`y = λ_j·s_j`, `Y = VK′_j`) **or** that
//! it knows `z_c` with `Z_c = z_c·G`, the coordinator's PET key. The coordinator, who did not
//! make the proof and knows `z_c`, is convinced that the shares are right; anyone else is not,
//! since the coordinator could have made the proof itself from `z_c`. So the shares stay
//! evidence to nobody (§7.2), and a member that offsets its shares is caught before the
//! coordinator names anything (review 19-sanitation C1, M1).
//!
//! The statement is the batched one of §9.3 (weights from `T.challenge_bytes("weights")`)
//! under the domain `filter-view` with purpose `view`; then `T.point("designated", Z_c)`, the
//! commitments `A1 = w·G`, `B1 = w·P*`, `A2 = s₂·G − c₂·Z_c`, and `c = T.challenge("c")`;
//! `c₁ = c − c₂`, `s₁ = w + c₁·y`. The verifier checks `s₁·G = A1 + c₁·Y`,
//! `s₁·P* = B1 + c₁·Q*`, `s₂·G = A2 + c₂·Z_c` and `c₁ + c₂ = c`.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroizing;

use crate::error::ProofError;
use crate::filter::dleq::{BatchStatement, combine_in};
use crate::group::{GroupElement, mul_base, random_scalar};
use crate::labels;
use crate::transcript::TranscriptProtocol;

/// A proof designated to the holder of `Z_c` (DV-1 … DV-4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DesignatedProof {
    a1: GroupElement,
    b1: GroupElement,
    a2: GroupElement,
    c1: Scalar,
    s1: Scalar,
    c2: Scalar,
    s2: Scalar,
}

fn element(p: RistrettoPoint) -> Result<GroupElement, ProofError> {
    GroupElement::from_point(p).map_err(|_| ProofError::Shape("a commitment is the identity"))
}

impl DesignatedProof {
    /// Member's proof of `Q_i = y·P_i` designated to `Z_c` (purpose [`Purpose::View`]).
    ///
    /// [`Purpose::View`]: crate::filter::dleq::Purpose::View
    pub fn prove<R: RngCore + CryptoRng>(
        st: &BatchStatement<'_>,
        designated: &GroupElement,
        secret: &Scalar,
        rng: &mut R,
    ) -> Result<Self, ProofError> {
        let (mut t, p_star, _) = combine_in(labels::DS_FILTER_VIEW, st)?;
        t.append_element(labels::L_DESIGNATED, designated);
        let (c2, s2) = (random_scalar(rng), random_scalar(rng));
        let w = Zeroizing::new(random_scalar(rng));
        let a1 = element(mul_base(&w))?;
        let b1 = element(*w * p_star)?;
        let a2 = element(mul_base(&s2) - c2 * designated.point())?;
        t.append_element(labels::L_CAP_A1, &a1);
        t.append_element(labels::L_CAP_B, &b1);
        t.append_element(labels::L_CAP_A2, &a2);
        let c = t.challenge_scalar(labels::L_C);
        let c1 = c - c2;
        Ok(Self { a1, b1, a2, c1, s1: *w + c1 * secret, c2, s2 })
    }

    /// Verifies the proof for the statement and the designated key.
    pub fn verify(&self, st: &BatchStatement<'_>, designated: &GroupElement) -> Result<(), ProofError> {
        let (mut t, p_star, q_star) = combine_in(labels::DS_FILTER_VIEW, st)?;
        t.append_element(labels::L_DESIGNATED, designated);
        t.append_element(labels::L_CAP_A1, &self.a1);
        t.append_element(labels::L_CAP_B, &self.b1);
        t.append_element(labels::L_CAP_A2, &self.a2);
        let c = t.challenge_scalar(labels::L_C);
        if self.c1 + self.c2 != c {
            return Err(ProofError::Challenge);
        }
        let holds = mul_base(&self.s1) == self.a1.point() + self.c1 * st.key.point()
            && self.s1 * p_star == self.b1.point() + self.c1 * q_star
            && mul_base(&self.s2) == self.a2.point() + self.c2 * designated.point();
        if holds { Ok(()) } else { Err(ProofError::Equation) }
    }

    /// The coordinator's simulation from `z_c` of a proof of any images (what makes the proof
    /// evidence to nobody else; tests show it verifies).
    pub fn simulate<R: RngCore + CryptoRng>(
        st: &BatchStatement<'_>,
        designated: &GroupElement,
        designated_secret: &Scalar,
        rng: &mut R,
    ) -> Result<Self, ProofError> {
        let (mut t, p_star, q_star) = combine_in(labels::DS_FILTER_VIEW, st)?;
        t.append_element(labels::L_DESIGNATED, designated);
        let (c1, s1) = (random_scalar(rng), random_scalar(rng));
        let v = Zeroizing::new(random_scalar(rng));
        let a1 = element(mul_base(&s1) - c1 * st.key.point())?;
        let b1 = element(s1 * p_star - c1 * q_star)?;
        let a2 = element(mul_base(&v))?;
        t.append_element(labels::L_CAP_A1, &a1);
        t.append_element(labels::L_CAP_B, &b1);
        t.append_element(labels::L_CAP_A2, &a2);
        let c = t.challenge_scalar(labels::L_C);
        let c2 = c - c1;
        Ok(Self { a1, b1, a2, c1, s1, c2, s2: *v + c2 * designated_secret })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::dleq::{Purpose, RunContext};
    use crate::group::hash_to_group;
    use rand::rngs::OsRng;

    fn setup(n: usize) -> (Scalar, GroupElement, Vec<RistrettoPoint>, Vec<RistrettoPoint>, Scalar, GroupElement) {
        let mut rng = OsRng;
        let y = random_scalar(&mut rng);
        let key = GroupElement::from_point(mul_base(&y)).unwrap();
        let bases: Vec<RistrettoPoint> =
            (0..n).map(|i| hash_to_group(&[b"test".as_slice(), &[i as u8]].concat())).collect();
        let images = bases.iter().map(|p| y * p).collect();
        let z = random_scalar(&mut rng);
        let zk = GroupElement::from_point(mul_base(&z)).unwrap();
        (y, key, bases, images, z, zk)
    }

    fn statement<'a>(
        key: &'a GroupElement,
        bases: &'a [RistrettoPoint],
        images: &'a [RistrettoPoint],
    ) -> BatchStatement<'a> {
        BatchStatement {
            run: RunContext { context: &[7; 32], run: 1, style: "s" },
            purpose: Purpose::View,
            member: 2,
            key,
            bases,
            images,
        }
    }

    #[test]
    fn an_honest_proof_verifies_and_every_change_is_refused() {
        let (y, key, bases, images, _, zk) = setup(4);
        let st = statement(&key, &bases, &images);
        let proof = DesignatedProof::prove(&st, &zk, &y, &mut OsRng).unwrap();
        proof.verify(&st, &zk).unwrap();
        // An offset share (the attack of review 19-sanitation C1) is refused.
        let mut offset = images.clone();
        offset[1] += mul_base(&Scalar::ONE);
        assert!(proof.verify(&statement(&key, &bases, &offset), &zk).is_err());
        assert!(
            DesignatedProof::prove(&statement(&key, &bases, &offset), &zk, &y, &mut OsRng)
                .unwrap()
                .verify(&statement(&key, &bases, &offset), &zk)
                .is_err()
        );
        // Another designated key, member, run or context.
        let (_, _, _, _, _, other) = setup(1);
        assert!(proof.verify(&st, &other).is_err());
        let mut st2 = st;
        st2.member = 3;
        assert!(proof.verify(&st2, &zk).is_err());
        let mut st3 = st;
        st3.run = RunContext { context: &[7; 32], run: 2, style: "s" };
        assert!(proof.verify(&st3, &zk).is_err());
        // Each field of the proof altered.
        let one = Scalar::ONE;
        let g = mul_base(&one);
        let mut alts = Vec::new();
        for f in 0..7 {
            let mut p = proof.clone();
            match f {
                0 => p.a1 = GroupElement::from_point(p.a1.point() + g).unwrap(),
                1 => p.b1 = GroupElement::from_point(p.b1.point() + g).unwrap(),
                2 => p.a2 = GroupElement::from_point(p.a2.point() + g).unwrap(),
                3 => p.c1 += one,
                4 => p.s1 += one,
                5 => p.c2 += one,
                _ => p.s2 += one,
            }
            alts.push(p);
        }
        for p in alts {
            assert!(p.verify(&st, &zk).is_err());
        }
    }

    #[test]
    fn the_coordinator_can_simulate_a_proof_of_false_shares_so_it_proves_nothing_to_others() {
        let (_, key, bases, images, z, zk) = setup(3);
        let mut false_images = images.clone();
        false_images[0] += mul_base(&Scalar::ONE);
        let st = statement(&key, &bases, &false_images);
        let sim = DesignatedProof::simulate(&st, &zk, &z, &mut OsRng).unwrap();
        sim.verify(&st, &zk).unwrap();
        // Without z_c no one else can: a simulation with a wrong z fails.
        let wrong = DesignatedProof::simulate(&st, &zk, &(z + Scalar::ONE), &mut OsRng).unwrap();
        assert!(wrong.verify(&st, &zk).is_err());
    }
}
