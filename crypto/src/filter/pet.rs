//! Plaintext-equivalence tests (`docs/protocol/13-revoting.md` §7.8, PT-1 … PT-3): whether a
//! grouped row's X column encrypts the same credential as its list row's, without decrypting
//! either. The members blind the difference with their PET key shares `z_j` (round 8,
//! [`super::tags::blinding_shares`] with purpose `pet`) and decrypt the blinded difference with
//! pre-scaled shares (round 9, [`super::tags::decryption_shares`] with purpose `pet-decrypt`).

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::traits::IsIdentity;
use thiserror::Error;

use super::keys::Quorum;
use super::tags::{ShareBatch, ShareError, combine_blinding, combine_decryption};
use crate::elgamal::RawCiphertext;

/// What makes a PET invalid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PetError {
    /// PT-2: a blinded difference `Δ′α` is the identity (so `z = 0`).
    #[error("PT-2: the blinded difference of test {0} has the identity as α")]
    BlindedIdentity(usize),
    /// The shares do not fit.
    #[error(transparent)]
    Shares(#[from] ShareError),
}

/// PT-1: `Δ_q = (α_q − α_ℓ, β_q − β_ℓ)` of a row's X column and its list row's.
pub fn difference(row_x: &RawCiphertext, list_x: &RawCiphertext) -> RawCiphertext {
    *row_x - *list_x
}

/// How a test is decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Test {
    /// `Δ.α` is the identity: decided publicly, passing iff `Δ.β` is the identity.
    Public(bool),
    /// Blinded and decrypted by F (rounds 8–9).
    Blinded,
}

/// Whether `Δ` is decided publicly (§7.8).
pub fn classify(delta: &RawCiphertext) -> Test {
    if delta.alpha.is_identity() { Test::Public(delta.beta.is_identity()) } else { Test::Blinded }
}

/// PT-2: `Δ′ = (Σ_j z_j·Δ.α, Σ_j z_j·Δ.β)` from the verified round-8 batches of F over the
/// blinded tests' differences; refuses an identity `Δ′α`.
pub fn blinded(quorum: &Quorum, count: usize, batches: &[ShareBatch]) -> Result<Vec<RawCiphertext>, PetError> {
    let out = combine_blinding(quorum, count, batches)?;
    if let Some(i) = out.iter().position(|d| d.alpha.is_identity()) {
        return Err(PetError::BlindedIdentity(i));
    }
    Ok(out)
}

/// PT-3: `π_q = Δ′β − Σ_j E_j = z·(X_q − X_ℓ)` from the verified round-9 batches; a test passes
/// iff `π_q` is the identity.
pub fn decide(quorum: &Quorum, blinded: &[RawCiphertext], batches: &[ShareBatch]) -> Result<Vec<bool>, PetError> {
    let betas: Vec<RistrettoPoint> = blinded.iter().map(|d| d.beta).collect();
    Ok(combine_decryption(quorum, &betas, batches)?.iter().map(IsIdentity::is_identity).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::dleq::{Purpose, RunContext};
    use crate::filter::keys::{FilterKeys, FilterSecrets, KeyPurpose, generate};
    use crate::filter::tags::{
        blinding_shares, decryption_shares, scaled_verification_key, verify_blinding_shares, verify_decryption_shares,
    };
    use crate::group::{hash_to_group, mul_base, random_scalar};
    use crate::proofs::DirectCheck;
    use crate::threshold::local::{Ceremony, run_ceremony};
    use curve25519_dalek::scalar::Scalar;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    const CTX: [u8; 32] = [11; 32];
    const RUN: RunContext<'static> = RunContext { context: &CTX, run: 1, style: "s" };

    fn enc(k: &RistrettoPoint, p: &RistrettoPoint, r: Scalar) -> RawCiphertext {
        RawCiphertext { alpha: mul_base(&r), beta: p + r * k }
    }

    struct Setup {
        c: Ceremony,
        quorum: Quorum,
        secrets: Vec<FilterSecrets>,
        keys: FilterKeys,
    }

    fn setup(rng: &mut ChaCha20Rng) -> Setup {
        let c = run_ceremony(rng, &[2; 32], 4, 2).unwrap();
        let quorum = Quorum::new(&c.params, &[2, 3]).unwrap();
        let (mut secrets, mut keys) = (Vec::new(), Vec::new());
        for j in quorum.members() {
            let (s, k) = generate(&CTX, 1, &quorum, *j, &[], rng).unwrap();
            secrets.push(s);
            keys.push(k);
        }
        let keys = FilterKeys::combine(&CTX, 1, &quorum, &[], &keys).unwrap();
        Setup { c, quorum, secrets, keys }
    }

    /// Rounds 8–9 with every proof checked; returns the outcome of each blinded test.
    fn run_pet(s: &Setup, deltas: &[RawCiphertext], rng: &mut ChaCha20Rng) -> Result<Vec<bool>, PetError> {
        let r8: Vec<ShareBatch> = s
            .secrets
            .iter()
            .map(|x| blinding_shares(RUN, Purpose::Pet, x, KeyPurpose::Pet, deltas, rng).unwrap())
            .collect();
        for b in &r8 {
            let zj = s.keys.member_key(b.member, KeyPurpose::Pet).unwrap();
            verify_blinding_shares(RUN, Purpose::Pet, zj, deltas, b, &mut DirectCheck::default()).unwrap();
        }
        let d2 = blinded(&s.quorum, deltas.len(), &r8)?;
        let alphas: Vec<RistrettoPoint> = d2.iter().map(|d| d.alpha).collect();
        let r9: Vec<ShareBatch> = s
            .quorum
            .members()
            .iter()
            .map(|j| {
                let share = &s.c.shares[*j as usize - 1];
                decryption_shares(RUN, Purpose::PetDecrypt, &s.quorum, share, &alphas, rng).unwrap()
            })
            .collect();
        for b in &r9 {
            let vk =
                scaled_verification_key(&s.quorum, b.member, s.c.outcome.verification_key(b.member).unwrap()).unwrap();
            verify_decryption_shares(RUN, Purpose::PetDecrypt, &vk, &alphas, b, &mut DirectCheck::default()).unwrap();
        }
        decide(&s.quorum, &d2, &r9)
    }

    #[test]
    fn equal_plaintexts_pass_and_unequal_are_dropped() {
        let mut rng = ChaCha20Rng::seed_from_u64(88);
        let s = setup(&mut rng);
        let k = *s.c.joint_key.point();
        let (x1, x2) = (hash_to_group(b"X1"), hash_to_group(b"X2"));
        let list = enc(&k, &x1, random_scalar(&mut rng));
        let same = enc(&k, &x1, random_scalar(&mut rng));
        let other = enc(&k, &x2, random_scalar(&mut rng));
        let deltas = [difference(&same, &list), difference(&other, &list)];
        assert!(deltas.iter().all(|d| classify(d) == Test::Blinded));
        assert_eq!(run_pet(&s, &deltas, &mut rng), Ok(vec![true, false]));
    }

    #[test]
    fn public_decision_when_alpha_difference_is_the_identity() {
        let mut rng = ChaCha20Rng::seed_from_u64(89);
        let s = setup(&mut rng);
        let k = *s.c.joint_key.point();
        let r = random_scalar(&mut rng);
        let list = enc(&k, &hash_to_group(b"X1"), r);
        // Same nonce: Δ.α = identity. Same plaintext passes publicly, another one fails publicly.
        assert_eq!(classify(&difference(&enc(&k, &hash_to_group(b"X1"), r), &list)), Test::Public(true));
        assert_eq!(classify(&difference(&enc(&k, &hash_to_group(b"X2"), r), &list)), Test::Public(false));
    }

    #[test]
    fn identity_blinded_difference_is_refused() {
        let mut rng = ChaCha20Rng::seed_from_u64(90);
        let s = setup(&mut rng);
        // A member whose z_j cancels the others' (z = 0) would make Δ′α the identity: modelled
        // by round-8 shares that sum to the identity.
        let delta = [RawCiphertext { alpha: hash_to_group(b"a"), beta: hash_to_group(b"b") }];
        let mut r8: Vec<ShareBatch> = s
            .secrets
            .iter()
            .map(|x| blinding_shares(RUN, Purpose::Pet, x, KeyPurpose::Pet, &delta, &mut rng).unwrap())
            .collect();
        let first = r8[0].images.clone();
        r8[1].images = first.iter().map(|p| -p).collect();
        assert_eq!(blinded(&s.quorum, 1, &r8), Err(PetError::BlindedIdentity(0)));
        // … and those shares do not verify against Z_j.
        let zj = s.keys.member_key(r8[1].member, KeyPurpose::Pet).unwrap();
        assert!(verify_blinding_shares(RUN, Purpose::Pet, zj, &delta, &r8[1], &mut DirectCheck::default()).is_err());
    }

    #[test]
    fn a_forged_decryption_share_that_passes_a_mismatch_is_refused() {
        let mut rng = ChaCha20Rng::seed_from_u64(91);
        let s = setup(&mut rng);
        let k = *s.c.joint_key.point();
        let deltas = [difference(
            &enc(&k, &hash_to_group(b"X2"), random_scalar(&mut rng)),
            &enc(&k, &hash_to_group(b"X1"), random_scalar(&mut rng)),
        )];
        let r8: Vec<ShareBatch> = s
            .secrets
            .iter()
            .map(|x| blinding_shares(RUN, Purpose::Pet, x, KeyPurpose::Pet, &deltas, &mut rng).unwrap())
            .collect();
        let d2 = blinded(&s.quorum, 1, &r8).unwrap();
        let alphas = [d2[0].alpha];
        let mut r9: Vec<ShareBatch> = s
            .quorum
            .members()
            .iter()
            .map(|j| {
                decryption_shares(RUN, Purpose::PetDecrypt, &s.quorum, &s.c.shares[*j as usize - 1], &alphas, &mut rng)
                    .unwrap()
            })
            .collect();
        assert_eq!(decide(&s.quorum, &d2, &r9), Ok(vec![false]));
        // Member 3 picks E_3 = Δ′β − E_2 so that π = identity: the test would pass.
        r9[1].images[0] = d2[0].beta - r9[0].images[0];
        assert_eq!(decide(&s.quorum, &d2, &r9), Ok(vec![true]));
        let vk = scaled_verification_key(&s.quorum, 3, s.c.outcome.verification_key(3).unwrap()).unwrap();
        assert!(
            verify_decryption_shares(RUN, Purpose::PetDecrypt, &vk, &alphas, &r9[1], &mut DirectCheck::default())
                .is_err()
        );
    }
}
