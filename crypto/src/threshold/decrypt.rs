//! Partial decryption with Chaum–Pedersen proofs and combination by Lagrange interpolation
//! (`docs/protocol/07-threshold.md`).
//!
//! Key-holder `l` publishes `D_l = x_l·α` for a total `(α, β)` with a proof that
//! `log_G VK_l = log_α D_l`. Any `t` valid shares give `M = β − Σ λ_l·D_l = m·G`, and `m` is found
//! with the baby-step giant-step table ([`crate::dlog`]).

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::VartimeMultiscalarMul;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::{KeyShare, Parameters, lagrange_at_zero, transcript_with_context};
use crate::dlog::DlogTable;
use crate::elgamal::Ciphertext;
use crate::error::{DecodeError, ProofError};
use crate::group::GroupElement;
use crate::labels;
use crate::proofs::dleq::DleqProof;
use crate::proofs::{BatchVerifier, DirectCheck, EquationSink};
use crate::signature::{Signature, SigningKey, VerifyingKey};
use crate::threshold::KeyHolderPublic;
use crate::transcript::TranscriptProtocol;

/// Which encrypted total a decryption share is for: the contest's and the option's (selection's)
/// zero-based positions in the manifest (§Partial decryption).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TotalId {
    /// Contest index.
    pub contest: u32,
    /// Option (selection) index within the contest.
    pub option: u32,
}

/// What went wrong with a decryption share or a combination (`docs/protocol/07-threshold.md`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecryptionError {
    /// The share names a key-holder outside `1..=n`.
    #[error("unknown key-holder {index} (key-holders are 1..={n})")]
    UnknownKeyHolder {
        /// The index given.
        index: u32,
        /// Number of key-holders.
        n: u32,
    },
    /// Two shares of one key-holder.
    #[error("duplicate decryption share of key-holder {index}")]
    DuplicateKeyHolder {
        /// The key-holder.
        index: u32,
    },
    /// Fewer than `t` valid shares.
    #[error("{got} valid decryption shares, at least t = {needed} are needed")]
    TooFewShares {
        /// Valid shares available.
        got: usize,
        /// The threshold.
        needed: u32,
    },
    /// The share is for another total or ciphertext than the one being decrypted.
    #[error("decryption share of key-holder {key_holder} is for another total")]
    WrongTotal {
        /// The key-holder.
        key_holder: u32,
    },
    /// The list of verification keys does not have `n` entries.
    #[error("expected {expected} verification keys, got {actual}")]
    VerificationKeys {
        /// `n`.
        expected: usize,
        /// Given.
        actual: usize,
    },
    /// The key-holders' signing keys are not `n`, in index order.
    #[error("the key-holder list does not match the {n} verification keys")]
    SigningKeys {
        /// `n`, the number of verification keys.
        n: usize,
    },
    /// The key-holder's signature over the share fails (§Share signature): the share is not
    /// that key-holder's, and nothing may be said of it in its name.
    #[error("decryption share of key-holder {key_holder} is not signed by that key-holder: {source}")]
    Signature {
        /// The key-holder the share names.
        key_holder: u32,
        /// What failed.
        source: ProofError,
    },
    /// The Chaum–Pedersen proof fails.
    #[error("decryption share of key-holder {key_holder}: {source}")]
    Proof {
        /// The key-holder.
        key_holder: u32,
        /// What failed.
        source: ProofError,
    },
    /// The combined plaintext is not `m·G` for any `m` the table covers.
    #[error("decrypted total is not in 0..={max}")]
    OutOfRange {
        /// The table's bound.
        max: u64,
    },
    /// A decoding error (e.g. the combination is the identity where a point is required).
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

/// A key-holder's partial decryption of one total, with its proof (§Partial decryption).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecryptionShare {
    /// The key-holder `l`.
    pub key_holder: u32,
    /// Contest index of the total.
    pub contest: u32,
    /// Option index of the total.
    pub option: u32,
    /// `D_l = x_l·α`.
    pub share: GroupElement,
    /// Proof that `log_G VK_l = log_α D_l`.
    pub proof: DleqProof,
    /// The key-holder's signature over the share and its proof, by its ceremony signing key
    /// `Y_l` (§Share signature).
    pub signature: Signature,
}

/// The digest of a list of decryption shares, in order (07-threshold.md §Share list digest):
/// `SHA-256("dobush/v2/decryption-shares" ‖ u64be(count) ‖` for each share
/// `u32be(key_holder) ‖ u32be(contest) ‖ u32be(option) ‖ D ‖ A ‖ B ‖ z ‖ R ‖ s)`, 204 bytes per
/// share, every field fixed-length.
pub fn shares_digest(shares: &[DecryptionShare]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(labels::DECRYPTION_SHARES_DIGEST);
    h.update((shares.len() as u64).to_be_bytes());
    for s in shares {
        h.update(s.key_holder.to_be_bytes());
        h.update(s.contest.to_be_bytes());
        h.update(s.option.to_be_bytes());
        h.update(s.share.as_bytes());
        h.update(s.proof.a.as_bytes());
        h.update(s.proof.b.as_bytes());
        h.update(s.proof.response.as_bytes());
        h.update(s.signature.r.as_bytes());
        h.update(s.signature.s.as_bytes());
    }
    h.finalize().into()
}

/// The keys a decryption share is checked against: every key-holder's verification key
/// `VK_l` (from the ceremony outcome) and signing key `Y_l` (from the key-holder list), index
/// `l` at position `l − 1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareKeys {
    verification: Vec<GroupElement>,
    /// `None` for a key-holder whose signing key is not known here ([`ShareKeys::own`]).
    signing: Vec<Option<VerifyingKey>>,
}

impl ShareKeys {
    /// Pairs the verification keys with the key-holder list: both of the same length `n`, the
    /// list in index order `1..=n`.
    pub fn new(verification_keys: &[GroupElement], key_holders: &[KeyHolderPublic]) -> Result<Self, DecryptionError> {
        let n = verification_keys.len();
        if key_holders.len() != n || key_holders.iter().zip(1u32..).any(|(k, l)| k.index != l) {
            return Err(DecryptionError::SigningKeys { n });
        }
        let signing = key_holders.iter().map(|k| Some(k.signing_key)).collect();
        Ok(Self { verification: verification_keys.to_vec(), signing })
    }

    /// The keys one key-holder knows of itself: every verification key, and only its own
    /// signing key (its `rehearse`, which checks its own share alone). A share of any other
    /// key-holder is refused as of an unknown key-holder.
    pub fn own(verification_keys: &[GroupElement], me: &KeyHolderPublic) -> Result<Self, DecryptionError> {
        let n = verification_keys.len();
        let Some(position) = me.index.checked_sub(1).map(|i| i as usize).filter(|i| *i < n) else {
            return Err(DecryptionError::SigningKeys { n });
        };
        let mut signing = vec![None; n];
        signing[position] = Some(me.signing_key);
        Ok(Self { verification: verification_keys.to_vec(), signing })
    }

    /// `n`.
    pub fn len(&self) -> usize {
        self.verification.len()
    }

    /// Whether there are no key-holders (never, for keys of a ceremony).
    pub fn is_empty(&self) -> bool {
        self.verification.is_empty()
    }

    /// `(VK_l, Y_l)`, or `UnknownKeyHolder`.
    fn of(&self, key_holder: u32) -> Result<(&GroupElement, &VerifyingKey), DecryptionError> {
        let i = key_holder.checked_sub(1).map(|i| i as usize);
        i.and_then(|i| Some((self.verification.get(i)?, self.signing.get(i)?.as_ref()?)))
            .ok_or(DecryptionError::UnknownKeyHolder { index: key_holder, n: self.verification.len() as u32 })
    }
}

/// The statement transcript: extended context, key-holder, `VK_l`, contest, option, `α`, `β`,
/// `D_l`; the proof then appends `A`, `B` and draws `c`.
fn share_transcript(
    context: &[u8; 32],
    key_holder: u32,
    vk: &GroupElement,
    total: TotalId,
    ct: &Ciphertext,
    d: &GroupElement,
) -> Transcript {
    let mut t = transcript_with_context(labels::DS_DECRYPTION_SHARE, context);
    t.append_u64(labels::L_KEY_HOLDER, u64::from(key_holder));
    t.append_element(labels::L_CAP_VK, vk);
    t.append_u64(labels::L_CONTEST, u64::from(total.contest));
    t.append_u64(labels::L_OPTION, u64::from(total.option));
    t.append_element(labels::L_ALPHA, &ct.alpha);
    t.append_element(labels::L_BETA, &ct.beta);
    t.append_element(labels::L_CAP_D, d);
    t
}

/// The message key-holder `l` signs with `Y_l` (§Share signature): the extended context, the
/// share's key-holder, total, ciphertext, `D_l` and the whole proof (`A`, `B`, `z`), so that no
/// part of a signed share can be altered and still be attributed to its key-holder.
fn signature_transcript(
    context: &[u8; 32],
    key_holder: u32,
    total: TotalId,
    ct: &Ciphertext,
    d: &GroupElement,
    proof: &DleqProof,
) -> Transcript {
    let mut t = transcript_with_context(labels::DS_DECRYPTION_SHARE_SIGNATURE, context);
    t.append_u64(labels::L_KEY_HOLDER, u64::from(key_holder));
    t.append_u64(labels::L_CONTEST, u64::from(total.contest));
    t.append_u64(labels::L_OPTION, u64::from(total.option));
    t.append_element(labels::L_ALPHA, &ct.alpha);
    t.append_element(labels::L_BETA, &ct.beta);
    t.append_element(labels::L_CAP_D, d);
    t.append_element(labels::L_CAP_A, &proof.a);
    t.append_element(labels::L_CAP_B, &proof.b);
    t.append_scalar(labels::L_Z, &proof.response);
    t
}

impl KeyShare {
    /// The partial decryption `D_l = x_l·α` of the total `total` with its proof, under the
    /// extended context hash, signed with the key-holder's ceremony signing key `signer`.
    /// Draws the proof's nonce (64 bytes), then the signature's (32 bytes).
    pub fn partial_decrypt<R: RngCore + CryptoRng>(
        &self,
        context: &[u8; 32],
        total: TotalId,
        ciphertext: &Ciphertext,
        signer: &SigningKey,
        rng: &mut R,
    ) -> Result<DecryptionShare, DecryptionError> {
        // x_l ≠ 0 and α ≠ identity, so D is not the identity.
        let d = GroupElement::from_nonzero_multiple(self.secret() * ciphertext.alpha.point());
        let vk = self.verification_key();
        let mut t = share_transcript(context, self.index(), &vk, total, ciphertext, &d);
        let proof = DleqProof::prove(&mut t, ciphertext.alpha.point(), self.secret(), rng)
            .map_err(|source| DecryptionError::Proof { key_holder: self.index(), source })?;
        let mut t = signature_transcript(context, self.index(), total, ciphertext, &d, &proof);
        let signature = signer.sign(&mut t, rng);
        Ok(DecryptionShare {
            key_holder: self.index(),
            contest: total.contest,
            option: total.option,
            share: d,
            proof,
            signature,
        })
    }
}

impl DecryptionShare {
    /// The total this share claims to be for.
    pub fn total(&self) -> TotalId {
        TotalId { contest: self.contest, option: self.option }
    }

    /// Signs the share as it stands with `signer`, replacing its signature (what
    /// [`KeyShare::partial_decrypt`] does; tests use it to play a key-holder who signs a wrong
    /// share). Draws 32 bytes.
    #[cfg(any(test, feature = "test-helpers"))]
    pub fn sign<R: RngCore + CryptoRng>(
        &mut self,
        context: &[u8; 32],
        ciphertext: &Ciphertext,
        signer: &SigningKey,
        rng: &mut R,
    ) {
        let mut t = signature_transcript(context, self.key_holder, self.total(), ciphertext, &self.share, &self.proof);
        self.signature = signer.sign(&mut t, rng);
    }

    /// Checks the key-holder's signature over the share (§Share signature) on its own: a share
    /// that fails it is no key-holder's, and is refused rather than reported in its name.
    pub fn verify_signature(
        &self,
        context: &[u8; 32],
        keys: &ShareKeys,
        ciphertext: &Ciphertext,
    ) -> Result<(), DecryptionError> {
        self.signature_into(context, keys, ciphertext, &mut DirectCheck::default())
    }

    fn signature_into<S: EquationSink>(
        &self,
        context: &[u8; 32],
        keys: &ShareKeys,
        ciphertext: &Ciphertext,
        sink: &mut S,
    ) -> Result<(), DecryptionError> {
        let (_, signer) = keys.of(self.key_holder)?;
        let mut t = signature_transcript(context, self.key_holder, self.total(), ciphertext, &self.share, &self.proof);
        signer
            .verify_into(&mut t, &self.signature, sink)
            .map_err(|source| DecryptionError::Signature { key_holder: self.key_holder, source })
    }

    /// Adds the share's signature equation and two proof equations to `sink` (so that many
    /// shares can be batched), after checking that it is for `total` and that its key-holder is
    /// one of `keys`.
    pub fn verify_into<S: EquationSink>(
        &self,
        context: &[u8; 32],
        keys: &ShareKeys,
        total: TotalId,
        ciphertext: &Ciphertext,
        sink: &mut S,
    ) -> Result<(), DecryptionError> {
        if self.total() != total {
            return Err(DecryptionError::WrongTotal { key_holder: self.key_holder });
        }
        let (vk, _) = keys.of(self.key_holder)?;
        self.signature_into(context, keys, ciphertext, sink)?;
        let mut t = share_transcript(context, self.key_holder, vk, total, ciphertext, &self.share);
        self.proof
            .verify(&mut t, vk.point(), ciphertext.alpha.point(), self.share.point(), sink)
            .map_err(|source| DecryptionError::Proof { key_holder: self.key_holder, source })
    }

    /// Verifies the share on its own: its signature, then its proof.
    pub fn verify(
        &self,
        context: &[u8; 32],
        keys: &ShareKeys,
        total: TotalId,
        ciphertext: &Ciphertext,
    ) -> Result<VerifiedDecryptionShare, DecryptionError> {
        self.verify_into(context, keys, total, ciphertext, &mut DirectCheck::default())?;
        Ok(self.verified(total, ciphertext))
    }

    fn verified(&self, total: TotalId, ciphertext: &Ciphertext) -> VerifiedDecryptionShare {
        VerifiedDecryptionShare { key_holder: self.key_holder, total, ciphertext: *ciphertext, share: self.share }
    }
}

/// A decryption share whose proof has been verified for one total and ciphertext. Only the
/// verification functions of this module construct it; [`combine`] accepts nothing else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifiedDecryptionShare {
    key_holder: u32,
    total: TotalId,
    ciphertext: Ciphertext,
    share: GroupElement,
}

impl VerifiedDecryptionShare {
    /// The key-holder.
    pub fn key_holder(&self) -> u32 {
        self.key_holder
    }

    /// The total it was verified for.
    pub fn total(&self) -> TotalId {
        self.total
    }
}

/// One share to verify: the total and ciphertext it must be for, and the share.
pub type ShareToVerify<'a> = (TotalId, &'a Ciphertext, &'a DecryptionShare);

/// Verifies many shares (of many totals) at once: all signature and proof equations into one
/// [`BatchVerifier`]; if the batch fails, each share is checked alone so that the bad ones are
/// named. Returns one result per item, in order. Draws one 64-byte weight per equation (three per
/// share, in item order), and nothing more.
pub fn verify_shares<R: RngCore + CryptoRng>(
    context: &[u8; 32],
    keys: &ShareKeys,
    items: &[ShareToVerify<'_>],
    rng: &mut R,
) -> Vec<Result<VerifiedDecryptionShare, DecryptionError>> {
    let mut batch = BatchVerifier::new(rng);
    let mut shaped: Vec<Result<(), DecryptionError>> = Vec::with_capacity(items.len());
    for (total, ct, share) in items {
        let mark = batch.mark();
        let r = share.verify_into(context, keys, *total, ct, &mut batch);
        if r.is_err() {
            batch.rollback(mark);
        }
        shaped.push(r);
    }
    let all_ok = batch.finish().is_ok();
    items
        .iter()
        .zip(shaped)
        .map(|((total, ct, share), r)| {
            r?;
            if all_ok { Ok(share.verified(*total, ct)) } else { share.verify(context, keys, *total, ct) }
        })
        .collect()
}

/// Combines verified shares of one total (§Combination): requires at least `t` shares, all for
/// `total` and `ciphertext`, of distinct key-holders in `1..=n`; computes the Lagrange
/// coefficients at 0 over their indices, `M = β − Σ λ_l·D_l`, and solves `M = m·G` with `table`.
pub fn combine(
    params: &Parameters,
    total: TotalId,
    ciphertext: &Ciphertext,
    shares: &[VerifiedDecryptionShare],
    table: &DlogTable,
) -> Result<u64, DecryptionError> {
    let mut indices = Vec::with_capacity(shares.len());
    for s in shares {
        if s.total != total || s.ciphertext != *ciphertext {
            return Err(DecryptionError::WrongTotal { key_holder: s.key_holder });
        }
        if s.key_holder == 0 || s.key_holder > params.n() {
            return Err(DecryptionError::UnknownKeyHolder { index: s.key_holder, n: params.n() });
        }
        if indices.contains(&s.key_holder) {
            return Err(DecryptionError::DuplicateKeyHolder { index: s.key_holder });
        }
        indices.push(s.key_holder);
    }
    if shares.len() < params.t() as usize {
        return Err(DecryptionError::TooFewShares { got: shares.len(), needed: params.t() });
    }
    let lambdas = lagrange_at_zero(&indices)?;
    let combined = RistrettoPoint::vartime_multiscalar_mul(
        lambdas.iter().map(|l| -l).chain(std::iter::once(Scalar::ONE)),
        shares.iter().map(|s| *s.share.point()).chain(std::iter::once(*ciphertext.beta.point())),
    );
    table.solve(&combined).ok_or(DecryptionError::OutOfRange { max: table.max() })
}

/// The result of [`verify_and_combine`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Combination {
    /// The decrypted total.
    pub count: u64,
    /// The key-holders whose shares were used, in the order given.
    pub used: Vec<u32>,
    /// The shares left out and why (invalid, for another total, unknown or repeated key-holder).
    pub rejected: Vec<(u32, DecryptionError)>,
}

/// Verifies every share of one total one by one, sets aside the invalid ones (and second shares
/// of a key-holder), and combines the valid ones if there are at least `t`: missing or invalid
/// shares are tolerated and reported. Uses no randomness.
pub fn verify_and_combine(
    params: &Parameters,
    context: &[u8; 32],
    keys: &ShareKeys,
    total: TotalId,
    ciphertext: &Ciphertext,
    shares: &[DecryptionShare],
    table: &DlogTable,
) -> Result<Combination, DecryptionError> {
    if keys.len() != params.n() as usize {
        return Err(DecryptionError::VerificationKeys { expected: params.n() as usize, actual: keys.len() });
    }
    let mut valid: Vec<VerifiedDecryptionShare> = Vec::with_capacity(shares.len());
    let mut rejected = Vec::new();
    for s in shares {
        // verified first: a share is named a key-holder's (even as a duplicate) only when that
        // key-holder signed it
        match s.verify(context, keys, total, ciphertext) {
            Ok(_) if valid.iter().any(|v| v.key_holder == s.key_holder) => {
                rejected.push((s.key_holder, DecryptionError::DuplicateKeyHolder { index: s.key_holder }));
            }
            Ok(v) => valid.push(v),
            Err(e) => rejected.push((s.key_holder, e)),
        }
    }
    let count = combine(params, total, ciphertext, &valid, table)?;
    Ok(Combination { count, used: valid.iter().map(|v| v.key_holder).collect(), rejected })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elgamal::encrypt;
    use crate::testing::{Ceremony, run_ceremony};
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    const EXT: [u8; 32] = [9u8; 32];
    const TOTAL: TotalId = TotalId { contest: 1, option: 2 };

    fn ceremony(seed: u64) -> (ChaCha20Rng, Ceremony) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let c = run_ceremony(&mut rng, &[3u8; 32], 5, 3).unwrap();
        (rng, c)
    }

    fn vks(c: &Ceremony) -> ShareKeys {
        ShareKeys::new(&c.outcome.verification_keys, &c.publics).unwrap()
    }

    /// Key-holder `k + 1`'s signed share of `total`.
    fn share(c: &Ceremony, k: usize, total: TotalId, ct: &Ciphertext, rng: &mut ChaCha20Rng) -> DecryptionShare {
        c.shares[k].partial_decrypt(&EXT, total, ct, c.keys[k].signing_key(), rng).unwrap()
    }

    /// `s`, altered, signed again by key-holder `k + 1`: a key-holder who signs a wrong share.
    fn resigned(
        c: &Ceremony,
        k: usize,
        mut s: DecryptionShare,
        ct: &Ciphertext,
        rng: &mut ChaCha20Rng,
    ) -> DecryptionShare {
        s.sign(&EXT, ct, c.keys[k].signing_key(), rng);
        s
    }

    /// Every key-holder's signed share of `total`.
    fn all_shares(c: &Ceremony, total: TotalId, ct: &Ciphertext, rng: &mut ChaCha20Rng) -> Vec<DecryptionShare> {
        (0..c.shares.len()).map(|k| share(c, k, total, ct, rng)).collect()
    }

    #[test]
    fn every_t_subset_decrypts() {
        let (mut rng, c) = ceremony(1);
        let table = DlogTable::new(1000);
        let (ct, _) = encrypt(&c.joint_key, 421, &mut rng).unwrap();
        let all: Vec<DecryptionShare> = all_shares(&c, TOTAL, &ct, &mut rng);
        let verified: Vec<VerifiedDecryptionShare> =
            all.iter().map(|s| s.verify(&EXT, &vks(&c), TOTAL, &ct).unwrap()).collect();
        let mut subsets = 0;
        for mask in 0u32..32 {
            let subset: Vec<VerifiedDecryptionShare> =
                (0..5).filter(|k| mask & (1 << k) != 0).map(|k| verified[k]).collect();
            let r = combine(&c.params, TOTAL, &ct, &subset, &table);
            if subset.len() >= 3 {
                assert_eq!(r, Ok(421), "subset {mask:05b}");
                subsets += 1;
            } else {
                assert_eq!(r, Err(DecryptionError::TooFewShares { got: subset.len(), needed: 3 }));
            }
        }
        assert_eq!(subsets, 16); // C(5,3) + C(5,4) + C(5,5)
        // The share's JSON form round-trips.
        let json = serde_json::to_string(&all[0]).unwrap();
        assert_eq!(serde_json::from_str::<DecryptionShare>(&json).unwrap(), all[0]);
    }

    #[test]
    fn absent_and_invalid_shares_are_tolerated_and_reported() {
        let (mut rng, c) = ceremony(2);
        let table = DlogTable::new(200);
        let (ct, _) = encrypt(&c.joint_key, 17, &mut rng).unwrap();
        // Key-holder 2 is absent; key-holder 4 signs and uploads a wrong share.
        let mut shares: Vec<DecryptionShare> =
            [0usize, 2, 3, 4].iter().map(|&k| share(&c, k, TOTAL, &ct, &mut rng)).collect();
        let mut wrong = shares[2].clone();
        wrong.share = shares[0].share;
        shares[2] = resigned(&c, 3, wrong, &ct, &mut rng);
        let r = verify_and_combine(&c.params, &EXT, &vks(&c), TOTAL, &ct, &shares, &table).unwrap();
        assert_eq!(r.count, 17);
        assert_eq!(r.used, vec![1, 3, 5]);
        assert_eq!(r.rejected.len(), 1);
        assert!(matches!(r.rejected[0], (4, DecryptionError::Proof { key_holder: 4, .. })));
        // With one more missing, fewer than t remain.
        shares.remove(3);
        assert_eq!(
            verify_and_combine(&c.params, &EXT, &vks(&c), TOTAL, &ct, &shares, &table).err(),
            Some(DecryptionError::TooFewShares { got: 2, needed: 3 })
        );
    }

    #[test]
    fn invalid_shares_are_rejected() {
        let (mut rng, c) = ceremony(3);
        let (ct, _) = encrypt(&c.joint_key, 5, &mut rng).unwrap();
        let good = share(&c, 1, TOTAL, &ct, &mut rng);
        good.verify(&EXT, &vks(&c), TOTAL, &ct).unwrap();
        let verdict = |s: &DecryptionShare| s.verify(&EXT, &vks(&c), TOTAL, &ct).err();
        let unsigned =
            |s: &DecryptionShare| matches!(verdict(s), Some(DecryptionError::Signature { key_holder: 2, .. }));
        let unproved = |s: &DecryptionShare| matches!(verdict(s), Some(DecryptionError::Proof { key_holder: 2, .. }));
        // Altered D, response, A, B: the signature fails (nobody can alter a share and leave it
        // in key-holder 2's name); signed again by key-holder 2, the proof fails.
        let mut altered = Vec::new();
        let mut bad = good.clone();
        bad.share = c.outcome.joint_key.0;
        altered.push(bad);
        let mut bad = good.clone();
        bad.proof.response += Scalar::ONE;
        altered.push(bad);
        let mut bad = good.clone();
        bad.proof.a = bad.proof.b;
        altered.push(bad);
        let mut bad = good.clone();
        bad.proof.b = bad.proof.a;
        altered.push(bad);
        for bad in altered {
            assert!(unsigned(&bad), "{bad:?}");
            assert!(unproved(&resigned(&c, 1, bad, &ct, &mut rng)));
        }
        // The signature altered, or made by another key-holder's key.
        let mut bad = good.clone();
        bad.signature.s += Scalar::ONE;
        assert!(unsigned(&bad));
        let mut bad = good.clone();
        bad.signature.r = good.share;
        assert!(unsigned(&bad));
        assert!(unsigned(&resigned(&c, 0, good.clone(), &ct, &mut rng)), "signed by key-holder 1");
        // Another key-holder's index: its signature fails; signed by that key-holder, its
        // proof (against another VK) fails.
        let mut bad = good.clone();
        bad.key_holder = 3;
        assert!(matches!(
            bad.verify(&EXT, &vks(&c), TOTAL, &ct),
            Err(DecryptionError::Signature { key_holder: 3, .. })
        ));
        let bad3 = resigned(&c, 2, bad.clone(), &ct, &mut rng);
        assert!(matches!(bad3.verify(&EXT, &vks(&c), TOTAL, &ct), Err(DecryptionError::Proof { key_holder: 3, .. })));
        bad.key_holder = 6;
        assert_eq!(
            bad.verify(&EXT, &vks(&c), TOTAL, &ct).err(),
            Some(DecryptionError::UnknownKeyHolder { index: 6, n: 5 })
        );
        bad.key_holder = 0;
        assert!(verdict(&bad).is_some());
        // Another total, context or ciphertext.
        let other = TotalId { contest: 1, option: 3 };
        assert_eq!(good.verify(&EXT, &vks(&c), other, &ct).err(), Some(DecryptionError::WrongTotal { key_holder: 2 }));
        let mut relabelled = good.clone();
        relabelled.option = 3;
        assert!(relabelled.verify(&EXT, &vks(&c), other, &ct).is_err());
        assert!(good.verify(&[0u8; 32], &vks(&c), TOTAL, &ct).is_err());
        let (ct2, _) = encrypt(&c.joint_key, 5, &mut rng).unwrap();
        assert!(good.verify(&EXT, &vks(&c), TOTAL, &ct2).is_err());
        let swapped = Ciphertext { alpha: ct.alpha, beta: ct2.beta };
        assert!(good.verify(&EXT, &vks(&c), TOTAL, &swapped).is_err(), "β is in the statement");
        // The signature alone covers the context, the ciphertext and the total (not only
        // through the proof).
        let keys = vks(&c);
        assert!(good.verify_signature(&EXT, &keys, &ct).is_ok());
        assert!(good.verify_signature(&[0u8; 32], &keys, &ct).is_err(), "context");
        assert!(good.verify_signature(&EXT, &keys, &ct2).is_err(), "ciphertext");
        assert!(good.verify_signature(&EXT, &keys, &swapped).is_err(), "β");
        let mut other_contest = good.clone();
        other_contest.contest = 0;
        assert!(other_contest.verify_signature(&EXT, &keys, &ct).is_err(), "contest");
        let mut other_option = good.clone();
        other_option.option = 3;
        assert!(other_option.verify_signature(&EXT, &keys, &ct).is_err(), "option");
        // A key-holder's own keys check its own shares only.
        let own = ShareKeys::own(&c.outcome.verification_keys, &c.publics[1]).unwrap();
        assert!(good.verify(&EXT, &own, TOTAL, &ct).is_ok());
        let first = share(&c, 0, TOTAL, &ct, &mut rng);
        assert_eq!(
            first.verify(&EXT, &own, TOTAL, &ct).err(),
            Some(DecryptionError::UnknownKeyHolder { index: 1, n: 5 })
        );
        // Keys: the list must be the n key-holders in index order.
        let vk = &c.outcome.verification_keys;
        assert!(ShareKeys::new(vk, &c.publics[..4]).is_err());
        let mut reordered = c.publics.clone();
        reordered.swap(0, 1);
        assert_eq!(ShareKeys::new(vk, &reordered), Err(DecryptionError::SigningKeys { n: 5 }));
    }

    #[test]
    fn combination_rejects_duplicates_and_foreign_shares() {
        let (mut rng, c) = ceremony(4);
        let table = DlogTable::new(100);
        let (ct, _) = encrypt(&c.joint_key, 3, &mut rng).unwrap();
        let v: Vec<VerifiedDecryptionShare> = all_shares(&c, TOTAL, &ct, &mut rng)
            .iter()
            .map(|s| s.verify(&EXT, &vks(&c), TOTAL, &ct).unwrap())
            .collect();
        assert_eq!(
            combine(&c.params, TOTAL, &ct, &[v[0], v[1], v[1]], &table),
            Err(DecryptionError::DuplicateKeyHolder { index: 2 })
        );
        assert_eq!(
            combine(&c.params, TOTAL, &ct, &[v[0], v[1]], &table),
            Err(DecryptionError::TooFewShares { got: 2, needed: 3 })
        );
        let (ct2, _) = encrypt(&c.joint_key, 3, &mut rng).unwrap();
        assert_eq!(
            combine(&c.params, TOTAL, &ct2, &[v[0], v[1], v[2]], &table),
            Err(DecryptionError::WrongTotal { key_holder: 1 })
        );
        let small = DlogTable::new(2);
        assert_eq!(combine(&c.params, TOTAL, &ct, &v, &small), Err(DecryptionError::OutOfRange { max: 2 }));
        // Verification keys of another size are refused.
        let shares: Vec<DecryptionShare> = all_shares(&c, TOTAL, &ct, &mut rng);
        assert!(matches!(
            verify_and_combine(
                &c.params,
                &EXT,
                &ShareKeys::new(&c.outcome.verification_keys[..4], &c.publics[..4]).unwrap(),
                TOTAL,
                &ct,
                &shares,
                &table
            ),
            Err(DecryptionError::VerificationKeys { expected: 5, actual: 4 })
        ));
        // Duplicates are reported, not fatal.
        let dup = vec![shares[0].clone(), shares[0].clone(), shares[2].clone(), shares[3].clone()];
        let r = verify_and_combine(&c.params, &EXT, &vks(&c), TOTAL, &ct, &dup, &table).unwrap();
        assert_eq!((r.count, r.used.clone()), (3, vec![1, 3, 4]));
        assert_eq!(r.rejected, vec![(1, DecryptionError::DuplicateKeyHolder { index: 1 })]);
    }

    #[test]
    fn batch_verification_names_the_bad_share() {
        let (mut rng, c) = ceremony(5);
        let (ct_a, _) = encrypt(&c.joint_key, 1, &mut rng).unwrap();
        let (ct_b, _) = encrypt(&c.joint_key, 0, &mut rng).unwrap();
        let tb = TotalId { contest: 0, option: 0 };
        let mut shares = Vec::new();
        for k in 0..c.shares.len() {
            shares.push((TOTAL, ct_a, share(&c, k, TOTAL, &ct_a, &mut rng)));
            shares.push((tb, ct_b, share(&c, k, tb, &ct_b, &mut rng)));
        }
        let items: Vec<ShareToVerify<'_>> = shares.iter().map(|(t, ct, s)| (*t, ct, s)).collect();
        assert!(verify_shares(&EXT, &vks(&c), &items, &mut rng).iter().all(Result::is_ok));
        shares[3].2.proof.response += Scalar::ONE;
        shares[6].2.key_holder = 9;
        let items: Vec<ShareToVerify<'_>> = shares.iter().map(|(t, ct, s)| (*t, ct, s)).collect();
        let r = verify_shares(&EXT, &vks(&c), &items, &mut rng);
        let bad: Vec<usize> = r.iter().enumerate().filter(|(_, r)| r.is_err()).map(|(k, _)| k).collect();
        assert_eq!(bad, vec![3, 6]);
        // The verified shares of total A decrypt it.
        let va: Vec<VerifiedDecryptionShare> = r.iter().step_by(2).filter_map(|r| r.as_ref().ok().copied()).collect();
        assert_eq!(combine(&c.params, TOTAL, &ct_a, &va, &DlogTable::new(10)), Ok(1));
    }
}
