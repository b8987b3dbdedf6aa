//! Batched Chaum–Pedersen proofs (`docs/protocol/13-revoting.md` §9.3): one proof that
//! `Q_i = y·P_i` for every `i`, with `Y = y·G`, as the Chaum–Pedersen proof of 04-proofs.md
//! for `(Y, P*, Q*)` where `P* = Σ e_i·P_i`, `Q* = Σ e_i·Q_i` and the 128-bit weights `e_i`
//! are read from the ChaCha20 (RFC 8439) keystream keyed by a challenge of the whole statement.

use chacha20::ChaCha20;
use chacha20::cipher::{KeyIvInit, StreamCipher};
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};

use crate::error::ProofError;
use crate::group::GroupElement;
use crate::labels;
use crate::proofs::EquationSink;
use crate::proofs::dleq::DleqProof;
use crate::transcript::TranscriptProtocol;

/// What a batched proof is for (§9.3 "Purposes"): a closed list, appended as its UTF-8 name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Purpose {
    /// Round 1: a member's private decryption shares for the coordinator, with a proof
    /// designated to it (§7.2, never published).
    View,
    /// Round 3: blinding shares of each sanitation test under its own key (§7.3, SN-2).
    SanitizePet,
    /// Round 4: decryption shares of the blinded sanitation differences (§7.3).
    SanitizePetDecrypt,
    /// Round 3: station tag shares `(k′_{j,st}·A, k′_{j,st}·B)`, one batch per station (§7.4).
    StationTag,
    /// Round 4: decryption shares of the combined station tag ciphertexts (§7.4).
    StationTagDecrypt,
    /// Round 6: tag shares of the shuffled rows (§7.6).
    TagRows,
    /// Round 6: tag shares of the shuffled list rows.
    TagList,
    /// Round 6: tag shares of the shuffled pointer rows.
    TagPointers,
    /// Round 7: decryption shares of the rows' combined tag ciphertexts.
    TagDecryptRows,
    /// Round 7: decryption shares of the list rows' combined tag ciphertexts.
    TagDecryptList,
    /// Round 7: decryption shares of the pointer rows' combined tag ciphertexts.
    TagDecryptPointers,
    /// Round 8: PET blinding shares `(z_j·Δα, z_j·Δβ)` (§7.8).
    Pet,
    /// Round 9: decryption shares of the blinded differences `Δ′α` (§7.8).
    PetDecrypt,
}

impl Purpose {
    /// Every purpose, in the order of §9.3.
    pub const ALL: [Purpose; 13] = [
        Purpose::View,
        Purpose::SanitizePet,
        Purpose::SanitizePetDecrypt,
        Purpose::StationTag,
        Purpose::StationTagDecrypt,
        Purpose::TagRows,
        Purpose::TagList,
        Purpose::TagPointers,
        Purpose::TagDecryptRows,
        Purpose::TagDecryptList,
        Purpose::TagDecryptPointers,
        Purpose::Pet,
        Purpose::PetDecrypt,
    ];

    /// The name appended to the transcript.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::View => "view",
            Purpose::SanitizePet => "sanitize-pet",
            Purpose::SanitizePetDecrypt => "sanitize-pet-decrypt",
            Purpose::StationTag => "station-tag",
            Purpose::StationTagDecrypt => "station-tag-decrypt",
            Purpose::TagRows => "tag-rows",
            Purpose::TagList => "tag-list",
            Purpose::TagPointers => "tag-pointers",
            Purpose::TagDecryptRows => "tag-decrypt-rows",
            Purpose::TagDecryptList => "tag-decrypt-list",
            Purpose::TagDecryptPointers => "tag-decrypt-pointers",
            Purpose::Pet => "pet",
            Purpose::PetDecrypt => "pet-decrypt",
        }
    }

    /// The purpose of a name; `None` for a name §9.3 does not list.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

/// Where a batched proof is made: the election, the run and the style (§6, §9.3).
#[derive(Clone, Copy, Debug)]
pub struct RunContext<'a> {
    /// The extended context hash.
    pub context: &'a [u8; 32],
    /// The run, numbered from 1.
    pub run: u64,
    /// The style's id (`""` for messages of the whole run).
    pub style: &'a str,
}

/// The statement of a batched proof: `Q_i = y·P_i` for all `i`, with `Y = y·G`.
#[derive(Clone, Copy, Debug)]
pub struct BatchStatement<'a> {
    /// Election, run and style.
    pub run: RunContext<'a>,
    /// What the proof is for.
    pub purpose: Purpose,
    /// The proving member `j` of the filter quorum.
    pub member: u32,
    /// `Y = y·G` (`K_j`, `K′_{j,st}`, `Z_j` or `VK′_j`).
    pub key: &'a GroupElement,
    /// The bases `P_i`.
    pub bases: &'a [RistrettoPoint],
    /// The images `Q_i`.
    pub images: &'a [RistrettoPoint],
}

/// A batched Chaum–Pedersen proof: the Chaum–Pedersen proof for `(Y, P*, Q*)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BatchedDleqProof(pub DleqProof);

/// The weights `e_0 … e_{m−1}`: bytes `16i … 16i+15` of the ChaCha20 keystream (RFC 8439, key
/// `seed`, a nonce of 12 zero bytes, initial counter 0), little-endian, each below 2¹²⁸.
pub fn weights(seed: &[u8; 32], m: usize) -> Vec<Scalar> {
    let mut cipher = ChaCha20::new(seed.into(), &[0u8; 12].into());
    let mut out = Vec::with_capacity(m);
    let mut block = [0u8; 16];
    for _ in 0..m {
        block = [0u8; 16];
        cipher.apply_keystream(&mut block);
        let mut wide = [0u8; 32];
        wide[..16].copy_from_slice(&block);
        out.push(Scalar::from_bytes_mod_order(wide));
    }
    block.fill(0);
    out
}

/// The seed of the weights, `T.challenge_bytes("weights", 32)` (for test vectors).
pub fn weights_seed(st: &BatchStatement<'_>) -> Result<[u8; 32], ProofError> {
    let mut t = statement_transcript(st)?;
    Ok(t.challenge_32(labels::L_WEIGHTS))
}

/// The transcript of §9.3 up to and including the last pair.
fn statement_transcript(st: &BatchStatement<'_>) -> Result<Transcript, ProofError> {
    statement_transcript_in(labels::DS_BATCHED_DLEQ, st)
}

/// The statement's transcript under the domain `ds` (§9.3, or §7.2's `filter-view`).
fn statement_transcript_in(ds: &'static [u8], st: &BatchStatement<'_>) -> Result<Transcript, ProofError> {
    if st.bases.len() != st.images.len() {
        return Err(ProofError::Shape("as many images Q_i as bases P_i"));
    }
    if st.bases.is_empty() {
        return Err(ProofError::Shape("a batched proof is about at least one pair"));
    }
    let mut t = Transcript::protocol(ds);
    t.append_message(labels::L_CONTEXT, st.run.context);
    t.append_u64(labels::L_RUN, st.run.run);
    t.append_str(labels::L_STYLE, st.run.style);
    t.append_str(labels::L_PURPOSE, st.purpose.as_str());
    t.append_u64(labels::L_MEMBER, u64::from(st.member));
    t.append_element(labels::L_CAP_Y, st.key);
    t.append_u64(labels::L_COUNT, st.bases.len() as u64);
    for (p, q) in st.bases.iter().zip(st.images) {
        t.append_message(labels::L_CAP_P, p.compress().as_bytes());
        t.append_message(labels::L_CAP_Q, q.compress().as_bytes());
    }
    Ok(t)
}

/// The transcript of §9.3 after the weights' seed, and `(P*, Q*)`.
fn combine(st: &BatchStatement<'_>) -> Result<(Transcript, RistrettoPoint, RistrettoPoint), ProofError> {
    combine_in(labels::DS_BATCHED_DLEQ, st)
}

/// [`combine`] under the domain `ds`.
pub(crate) fn combine_in(
    ds: &'static [u8],
    st: &BatchStatement<'_>,
) -> Result<(Transcript, RistrettoPoint, RistrettoPoint), ProofError> {
    let mut t = statement_transcript_in(ds, st)?;
    let seed = t.challenge_32(labels::L_WEIGHTS);
    let e = weights(&seed, st.bases.len());
    let p_star = RistrettoPoint::vartime_multiscalar_mul(&e, st.bases);
    let q_star = RistrettoPoint::vartime_multiscalar_mul(&e, st.images);
    // P* is the identity only if every P_i is (or with probability 2⁻¹²⁸): no proof then.
    if p_star.is_identity() {
        return Err(ProofError::Shape("the combined base P* is the identity"));
    }
    Ok((t, p_star, q_star))
}

impl BatchedDleqProof {
    /// Proves the statement with the secret `y` (`Y = y·G`, `Q_i = y·P_i`). Draws the
    /// Chaum–Pedersen nonce (64 bytes).
    pub fn prove<R: RngCore + CryptoRng>(
        st: &BatchStatement<'_>,
        secret: &Scalar,
        rng: &mut R,
    ) -> Result<Self, ProofError> {
        let (mut t, p_star, _) = combine(st)?;
        DleqProof::prove(&mut t, &p_star, secret, rng).map(Self)
    }

    /// Adds the proof's two equations (CP-1, CP-2 on `(Y, P*, Q*)`) to `sink`.
    pub fn verify<S: EquationSink>(&self, st: &BatchStatement<'_>, sink: &mut S) -> Result<(), ProofError> {
        let (mut t, p_star, q_star) = combine(st)?;
        self.0.verify(&mut t, st.key.point(), &p_star, &q_star, sink)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::{hash_to_group, mul_base, random_nonzero_scalar};
    use crate::proofs::{BatchVerifier, DirectCheck};
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    const CTX: [u8; 32] = [7; 32];

    struct Case {
        y: Scalar,
        key: GroupElement,
        bases: Vec<RistrettoPoint>,
        images: Vec<RistrettoPoint>,
    }

    fn case(rng: &mut ChaCha20Rng, m: usize) -> Case {
        let y = random_nonzero_scalar(rng);
        let key = GroupElement::from_point(mul_base(&y)).unwrap();
        let bases: Vec<_> = (0..m).map(|i| hash_to_group(&(i as u64).to_le_bytes())).collect();
        let images = bases.iter().map(|p| y * p).collect();
        Case { y, key, bases, images }
    }

    fn stmt<'a>(c: &'a Case, images: &'a [RistrettoPoint]) -> BatchStatement<'a> {
        BatchStatement {
            run: RunContext { context: &CTX, run: 1, style: "s1" },
            purpose: Purpose::TagRows,
            member: 2,
            key: &c.key,
            bases: &c.bases,
            images,
        }
    }

    fn ok(p: &BatchedDleqProof, st: &BatchStatement<'_>) -> bool {
        p.verify(st, &mut DirectCheck::default()).is_ok()
    }

    #[test]
    fn weights_are_the_rfc8439_keystream() {
        // RFC 8439 §A.1 test vector #1: key 0, nonce 0, counter 0; the first 32 keystream bytes.
        let ks = hex::decode("76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7").unwrap();
        let e = weights(&[0u8; 32], 3);
        let le = |b: &[u8]| {
            let mut w = [0u8; 32];
            w[..16].copy_from_slice(b);
            Scalar::from_bytes_mod_order(w)
        };
        assert_eq!(e[0], le(&ks[..16]));
        assert_eq!(e[1], le(&ks[16..32]));
        assert_ne!(e[1], e[2]);
        assert!(e.iter().all(|x| x.as_bytes()[16..].iter().all(|b| *b == 0)), "128-bit weights");
        assert_eq!(Purpose::ALL.map(|p| Purpose::from_name(p.as_str())), Purpose::ALL.map(Some));
        assert_eq!(Purpose::from_name("tag"), None);
    }

    #[test]
    fn honest_verifies_and_every_alteration_is_refused() {
        let mut rng = ChaCha20Rng::seed_from_u64(19);
        let c = case(&mut rng, 40);
        let st = stmt(&c, &c.images);
        let proof = BatchedDleqProof::prove(&st, &c.y, &mut rng).unwrap();
        assert!(ok(&proof, &st));
        let mut b = BatchVerifier::new(&mut rng);
        proof.verify(&st, &mut b).unwrap();
        b.finish().unwrap();

        // One false Q_i among many, at each end and in the middle; also a prover who proves it.
        for i in [0, 17, 39] {
            let mut imgs = c.images.clone();
            imgs[i] += mul_base(&Scalar::ONE);
            assert!(!ok(&proof, &stmt(&c, &imgs)), "false Q_{i}");
            let forged = BatchedDleqProof::prove(&stmt(&c, &imgs), &c.y, &mut rng).unwrap();
            assert!(!ok(&forged, &stmt(&c, &imgs)), "proved false Q_{i}");
        }
        // Swapped images, another P, another Y.
        let mut imgs = c.images.clone();
        imgs.swap(3, 4);
        assert!(!ok(&proof, &stmt(&c, &imgs)));
        let mut other = case(&mut ChaCha20Rng::seed_from_u64(20), 40);
        other.images = c.images.clone();
        other.key = c.key;
        other.bases[5] = hash_to_group(b"other");
        assert!(!ok(&proof, &stmt(&other, &c.images)), "altered P");
        let y2 = GroupElement::from_point(mul_base(&(c.y + Scalar::ONE))).unwrap();
        assert!(!ok(&proof, &BatchStatement { key: &y2, ..st }), "altered Y");
        // Purpose, run, style, member, context, count.
        assert!(!ok(&proof, &BatchStatement { purpose: Purpose::TagList, ..st }), "purpose");
        assert!(!ok(&proof, &BatchStatement { run: RunContext { run: 2, ..st.run }, ..st }), "run");
        assert!(!ok(&proof, &BatchStatement { run: RunContext { style: "s2", ..st.run }, ..st }), "style");
        assert!(!ok(&proof, &BatchStatement { member: 3, ..st }), "member");
        assert!(!ok(&proof, &BatchStatement { run: RunContext { context: &[8; 32], ..st.run }, ..st }), "context");
        assert!(!ok(&proof, &BatchStatement { bases: &c.bases[..39], images: &c.images[..39], ..st }), "count");
        assert!(proof.verify(&BatchStatement { images: &c.images[..39], ..st }, &mut DirectCheck::default()).is_err());
        // Altered proof values.
        let mut bad = proof.clone();
        bad.0.response += Scalar::ONE;
        assert!(!ok(&bad, &st));
        let mut bad = proof.clone();
        bad.0.a = bad.0.b;
        assert!(!ok(&bad, &st));
        // A false pair inside a batch of many proofs fails the batch.
        let mut imgs = c.images.clone();
        imgs[7] = c.bases[7];
        let mut b = BatchVerifier::new(&mut rng);
        proof.verify(&stmt(&c, &c.images), &mut b).unwrap();
        proof.verify(&stmt(&c, &imgs), &mut b).unwrap();
        assert!(b.finish().is_err());
    }

    #[test]
    fn empty_or_identity_statements_are_refused() {
        let mut rng = ChaCha20Rng::seed_from_u64(21);
        let c = case(&mut rng, 1);
        let empty = BatchStatement { bases: &[], images: &[], ..stmt(&c, &c.images) };
        assert!(BatchedDleqProof::prove(&empty, &c.y, &mut rng).is_err());
        let id = [RistrettoPoint::default()];
        let ids = BatchStatement { bases: &id, images: &id, ..stmt(&c, &c.images) };
        assert!(BatchedDleqProof::prove(&ids, &c.y, &mut rng).is_err());
    }
}
