//! Tags (`docs/protocol/13-revoting.md` §7.6) and the two share lists every later round reuses:
//!
//! - **blinding shares** `(y_j·A, y_j·B)` of ciphertexts `(A, B)`, with one batched proof
//!   (§9.3) against `Y_j` (the tag key `K_j`, a station's tag key `K′_{j,st}`, the PET key `Z_j`);
//!   their sum over F is TG-1 `(A′, B′) = (y·A, y·B)`;
//! - **pre-scaled decryption shares** `D_j = λ_j·s_j·A′`, with one batched proof against
//!   `VK′_j = λ_j·VK_j`; then TG-2 `τ = B′ − Σ_{j∈F} D_j`.
//!
//! With the tag key, `τ = k·V` for a ciphertext `V` of the tag base: a deterministic function of
//! the plaintext under a key nobody alone knows.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use rand_core::{CryptoRng, RngCore};
use thiserror::Error;
use zeroize::Zeroizing;

use super::dleq::{BatchStatement, BatchedDleqProof, Purpose, RunContext};
use super::keys::{FilterSecrets, KeyPurpose, Quorum};
use crate::elgamal::RawCiphertext;
use crate::error::ProofError;
use crate::group::GroupElement;
use crate::proofs::EquationSink;
use crate::threshold::KeyShare;

/// What went wrong with a list of shares.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ShareError {
    /// The shares' number, member or quorum do not fit the statement.
    #[error("shares: {0}")]
    Shape(String),
    /// The batched proof of member `member` fails.
    #[error("shares of member {member} ({purpose}): {source}")]
    Proof {
        /// The member.
        member: u32,
        /// The purpose of the batch.
        purpose: &'static str,
        /// What failed.
        source: ProofError,
    },
}

/// One member's shares of one list, with the batched proof: `images[i] = y·bases[i]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareBatch {
    /// The member `j`.
    pub member: u32,
    /// `Q_i`.
    pub images: Vec<RistrettoPoint>,
    /// The batched proof (§9.3).
    pub proof: BatchedDleqProof,
}

/// The bases of blinding shares: `A_0, B_0, A_1, B_1, …` (A before B).
pub fn blinding_bases(cts: &[RawCiphertext]) -> Vec<RistrettoPoint> {
    cts.iter().flat_map(|c| [c.alpha, c.beta]).collect()
}

fn prove<R: RngCore + CryptoRng>(
    run: RunContext<'_>,
    purpose: Purpose,
    member: u32,
    secret: &Scalar,
    bases: Vec<RistrettoPoint>,
    rng: &mut R,
) -> Result<ShareBatch, ShareError> {
    let key = GroupElement::from_point(curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE * secret)
        .map_err(|_| ShareError::Shape("a zero secret".into()))?;
    let images: Vec<RistrettoPoint> = bases.iter().map(|p| secret * p).collect();
    let st = BatchStatement { run, purpose, member, key: &key, bases: &bases, images: &images };
    let proof = BatchedDleqProof::prove(&st, secret, rng).map_err(|source| ShareError::Proof {
        member,
        purpose: purpose.as_str(),
        source,
    })?;
    Ok(ShareBatch { member, images, proof })
}

fn verify<S: EquationSink>(
    run: RunContext<'_>,
    purpose: Purpose,
    key: &GroupElement,
    bases: &[RistrettoPoint],
    batch: &ShareBatch,
    sink: &mut S,
) -> Result<(), ShareError> {
    if batch.images.len() != bases.len() {
        return Err(ShareError::Shape(format!(
            "member {} gives {} shares for {} bases",
            batch.member,
            batch.images.len(),
            bases.len()
        )));
    }
    let st = BatchStatement { run, purpose, member: batch.member, key, bases, images: &batch.images };
    batch.proof.verify(&st, sink).map_err(|source| ShareError::Proof {
        member: batch.member,
        purpose: purpose.as_str(),
        source,
    })
}

/// Blinding shares `(y_j·A, y_j·B)` of every ciphertext with the member's key `which`
/// (rounds 6, 8: `tag-*`, `pet`).
pub fn blinding_shares<R: RngCore + CryptoRng>(
    run: RunContext<'_>,
    purpose: Purpose,
    secrets: &FilterSecrets,
    which: KeyPurpose,
    cts: &[RawCiphertext],
    rng: &mut R,
) -> Result<ShareBatch, ShareError> {
    prove(run, purpose, secrets.member(), secrets.secret(which), blinding_bases(cts), rng)
}

/// Blinding shares of `cts` by member `member` under a one-off secret (§7.3's per-test keys),
/// with their batched proof against `secret·G`.
pub fn blinding_shares_under<R: RngCore + CryptoRng>(
    run: RunContext<'_>,
    purpose: Purpose,
    member: u32,
    secret: &Scalar,
    cts: &[RawCiphertext],
    rng: &mut R,
) -> Result<ShareBatch, ShareError> {
    prove(run, purpose, member, secret, blinding_bases(cts), rng)
}

/// Station tag shares `(k′_{j,st}·A, k′_{j,st}·B)` of every ciphertext with the member's key
/// share of the station at position `station` of the package (round 3, `station-tag`, §7.4).
pub fn station_tag_shares<R: RngCore + CryptoRng>(
    run: RunContext<'_>,
    secrets: &FilterSecrets,
    station: usize,
    cts: &[RawCiphertext],
    rng: &mut R,
) -> Result<ShareBatch, ShareError> {
    let secret = secrets
        .station_secret(station)
        .ok_or_else(|| ShareError::Shape(format!("no station tag key share for station {station}")))?;
    prove(run, Purpose::StationTag, secrets.member(), secret, blinding_bases(cts), rng)
}

/// Checks member `batch.member`'s blinding shares against its key share `key` (`K_j`,
/// `K′_{j,st}` or `Z_j`), adding the proof's equations to `sink`.
pub fn verify_blinding_shares<S: EquationSink>(
    run: RunContext<'_>,
    purpose: Purpose,
    key: &GroupElement,
    cts: &[RawCiphertext],
    batch: &ShareBatch,
    sink: &mut S,
) -> Result<(), ShareError> {
    verify(run, purpose, key, &blinding_bases(cts), batch, sink)
}

/// TG-1 (and PT-2): `(A′, B′) = (Σ_j Q_{2i}, Σ_j Q_{2i+1})` over the verified batches of every
/// member of F.
pub fn combine_blinding(
    quorum: &Quorum,
    count: usize,
    batches: &[ShareBatch],
) -> Result<Vec<RawCiphertext>, ShareError> {
    check_members(quorum, batches)?;
    let mut out = vec![RawCiphertext::zero(); count];
    for b in batches {
        if b.images.len() != 2 * count {
            return Err(ShareError::Shape(format!(
                "member {} gives {} shares, {} expected",
                b.member,
                b.images.len(),
                2 * count
            )));
        }
        for (o, q) in out.iter_mut().zip(b.images.chunks_exact(2)) {
            o.alpha += q[0];
            o.beta += q[1];
        }
    }
    Ok(out)
}

fn check_members(quorum: &Quorum, batches: &[ShareBatch]) -> Result<(), ShareError> {
    let mut members: Vec<u32> = batches.iter().map(|b| b.member).collect();
    members.sort_unstable();
    if members != quorum.members() {
        return Err(ShareError::Shape(format!("shares of members {members:?}, the quorum is {:?}", quorum.members())));
    }
    Ok(())
}

/// `VK′_j = λ_j·VK_j` (§2), or `None` if `j` is not in F.
pub fn scaled_verification_key(quorum: &Quorum, member: u32, vk: &GroupElement) -> Option<GroupElement> {
    let lambda = quorum.lagrange(member)?;
    GroupElement::from_point(lambda * vk.point()).ok()
}

/// Pre-scaled decryption shares `D_j = λ_j·s_j·α` of every `α` (rounds 3, 4, 7, 9), with one
/// batched proof against `VK′_j`. The scaled secret is zeroized after use.
pub fn decryption_shares<R: RngCore + CryptoRng>(
    run: RunContext<'_>,
    purpose: Purpose,
    quorum: &Quorum,
    share: &KeyShare,
    alphas: &[RistrettoPoint],
    rng: &mut R,
) -> Result<ShareBatch, ShareError> {
    let lambda = quorum
        .lagrange(share.index())
        .ok_or_else(|| ShareError::Shape(format!("key-holder {} is not in the quorum", share.index())))?;
    let scaled = Zeroizing::new(lambda * share.secret());
    prove(run, purpose, share.index(), &scaled, alphas.to_vec(), rng)
}

/// Checks member `batch.member`'s pre-scaled decryption shares against `VK′_j`
/// ([`scaled_verification_key`]).
pub fn verify_decryption_shares<S: EquationSink>(
    run: RunContext<'_>,
    purpose: Purpose,
    scaled_vk: &GroupElement,
    alphas: &[RistrettoPoint],
    batch: &ShareBatch,
    sink: &mut S,
) -> Result<(), ShareError> {
    verify(run, purpose, scaled_vk, alphas, batch, sink)
}

/// TG-2 (and PT-3): `β_i − Σ_{j∈F} D_{j,i}` over the verified batches of every member of F.
pub fn combine_decryption(
    quorum: &Quorum,
    betas: &[RistrettoPoint],
    batches: &[ShareBatch],
) -> Result<Vec<RistrettoPoint>, ShareError> {
    check_members(quorum, batches)?;
    let mut out = betas.to_vec();
    for b in batches {
        if b.images.len() != betas.len() {
            return Err(ShareError::Shape(format!(
                "member {} gives {} shares, {} expected",
                b.member,
                b.images.len(),
                betas.len()
            )));
        }
        for (o, d) in out.iter_mut().zip(&b.images) {
            *o -= d;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::keys::{FilterKeys, generate};
    use crate::group::hash_to_group;
    use crate::proofs::{BatchVerifier, DirectCheck};
    use crate::threshold::local::run_ceremony;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    const CTX: [u8; 32] = [9; 32];
    const RUN: RunContext<'static> = RunContext { context: &CTX, run: 1, style: "s" };

    /// Encrypts a point P (a tag base) under K: (r·G, P + r·K).
    fn enc(k: &RistrettoPoint, p: &RistrettoPoint, rng: &mut ChaCha20Rng) -> RawCiphertext {
        let r = crate::group::random_scalar(rng);
        RawCiphertext { alpha: crate::group::mul_base(&r), beta: p + r * k }
    }

    #[test]
    fn tags_with_a_real_threshold_key() {
        let mut rng = ChaCha20Rng::seed_from_u64(76);
        let c = run_ceremony(&mut rng, &[1; 32], 5, 3).unwrap();
        let k_el = *c.joint_key.point();
        let quorum = Quorum::new(&c.params, &[1, 3, 4]).unwrap();
        let mut secrets = Vec::new();
        let mut keys = Vec::new();
        for j in quorum.members() {
            let (s, k) = generate(&CTX, 1, &quorum, *j, &[], &mut rng).unwrap();
            secrets.push(s);
            keys.push(k);
        }
        let fk = FilterKeys::combine(&CTX, 1, &quorum, &[], &keys).unwrap();

        // Two encryptions of TB(X1) and one of TB(X2).
        let (v1, v2) = (hash_to_group(b"tb1"), hash_to_group(b"tb2"));
        let cts = vec![enc(&k_el, &v1, &mut rng), enc(&k_el, &v1, &mut rng), enc(&k_el, &v2, &mut rng)];
        assert_ne!(cts[0], cts[1]);

        // Round 6.
        let batches: Vec<ShareBatch> = secrets
            .iter()
            .map(|s| blinding_shares(RUN, Purpose::TagRows, s, KeyPurpose::Tag, &cts, &mut rng).unwrap())
            .collect();
        let mut bv = BatchVerifier::new(&mut rng);
        for b in &batches {
            let kj = fk.member_key(b.member, KeyPurpose::Tag).unwrap();
            verify_blinding_shares(RUN, Purpose::TagRows, kj, &cts, b, &mut bv).unwrap();
        }
        bv.finish().unwrap();
        let combined = combine_blinding(&quorum, cts.len(), &batches).unwrap();
        assert!(combine_blinding(&quorum, cts.len(), &batches[..2]).is_err(), "a member missing");

        // Round 7.
        let alphas: Vec<RistrettoPoint> = combined.iter().map(|c| c.alpha).collect();
        let betas: Vec<RistrettoPoint> = combined.iter().map(|c| c.beta).collect();
        let dec: Vec<ShareBatch> = quorum
            .members()
            .iter()
            .map(|j| {
                let share = &c.shares[*j as usize - 1];
                decryption_shares(RUN, Purpose::TagDecryptRows, &quorum, share, &alphas, &mut rng).unwrap()
            })
            .collect();
        for b in &dec {
            let vk = c.outcome.verification_key(b.member).unwrap();
            let vk2 = scaled_verification_key(&quorum, b.member, vk).unwrap();
            verify_decryption_shares(RUN, Purpose::TagDecryptRows, &vk2, &alphas, b, &mut DirectCheck::default())
                .unwrap();
            // Against the unscaled VK_j the proof fails, unless λ_j = 1 (member 4 of {1, 3, 4}).
            let unscaled =
                verify_decryption_shares(RUN, Purpose::TagDecryptRows, vk, &alphas, b, &mut DirectCheck::default());
            assert_eq!(unscaled.is_ok(), quorum.lagrange(b.member) == Some(Scalar::ONE), "member {}", b.member);
        }
        let tags = combine_decryption(&quorum, &betas, &dec).unwrap();
        let k: Scalar = secrets.iter().map(|s| s.secret(KeyPurpose::Tag)).sum();
        assert_eq!(tags[0], k * v1, "τ = k·V");
        assert_eq!(tags[2], k * v2);
        assert_eq!(tags[0], tags[1], "two encryptions of one value: one tag");
        assert_ne!(tags[0], tags[2], "different values: different tags");
        assert_eq!(*fk.combined(KeyPurpose::Tag).point(), crate::group::mul_base(&k));

        // A wrong tag share is refused, and so is a wrong decryption share.
        let mut bad = batches[1].clone();
        bad.images[3] += v1;
        let kj = fk.member_key(bad.member, KeyPurpose::Tag).unwrap();
        assert!(verify_blinding_shares(RUN, Purpose::TagRows, kj, &cts, &bad, &mut DirectCheck::default()).is_err());
        let mut bad = dec[2].clone();
        bad.images[0] += v1;
        let vk2 =
            scaled_verification_key(&quorum, bad.member, c.outcome.verification_key(bad.member).unwrap()).unwrap();
        assert!(
            verify_decryption_shares(RUN, Purpose::TagDecryptRows, &vk2, &alphas, &bad, &mut DirectCheck::default())
                .is_err()
        );
        // A share list proved for another list, purpose or member is refused.
        assert!(
            verify_blinding_shares(RUN, Purpose::TagList, kj, &cts, &batches[1], &mut DirectCheck::default()).is_err()
        );
        let other = fk.member_key(batches[0].member, KeyPurpose::Tag).unwrap();
        assert!(
            verify_blinding_shares(RUN, Purpose::TagRows, other, &cts, &batches[1], &mut DirectCheck::default())
                .is_err()
        );
        assert!(
            verify_blinding_shares(RUN, Purpose::TagRows, kj, &cts[..2], &batches[1], &mut DirectCheck::default())
                .is_err()
        );
        // A key-holder outside F makes no shares.
        assert!(decryption_shares(RUN, Purpose::TagDecryptRows, &quorum, &c.shares[1], &alphas, &mut rng).is_err());
    }
}
