//! Pedersen distributed key generation with Feldman commitments (`docs/protocol/06-dkg.md`).
//!
//! Every key-holder `i` is a dealer of a random polynomial `f_i` of degree `t − 1`:
//!
//! 1. **Commit** (§Round 1): publishes `h_i`, a hash of its Feldman commitments
//!    `K_{i,j} = a_{i,j}·G` and their Schnorr proofs, so that nobody can choose a polynomial after
//!    seeing another's (rushing).
//! 2. **Reveal and deal** (§Round 2): once every hash is in, reveals the commitments and proofs
//!    and sends `s_{i→l} = f_i(l)` to every other key-holder `l`, encrypted to `l`'s
//!    communication key.
//! 3. **Check and complain** (§Round 3): each recipient checks `s·G = Σ_j l^j·K_{i,j}`; on
//!    failure it publishes a complaint that reveals the decryption key of the share with a
//!    Chaum–Pedersen proof, so that anyone can decide who cheated ([`adjudicate`]).
//! 4. **Result** (§Result): the qualified dealers `Q`, the joint key `K = Σ_{i∈Q} K_{i,0}`,
//!    every key-holder's verification key and each key-holder's secret share ([`evaluate`],
//!    [`derive_key_share`]).
//!
//! Every message is signed by its sender ([`Signed`]); every transcript starts with its domain
//! separator and the base context hash.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Tag};
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::{
    DealerFault, DkgError, KeyHolderKeys, KeyHolderPublic, KeyShare, Parameters, check_key_holders, eval_in_exponent,
    transcript_with_context,
};
use crate::elgamal::PublicKey;
use crate::error::DecodeError;
use crate::group::{GroupElement, bytes_hex, decode_scalar, mul_base, random_nonzero_scalar};
use crate::labels;
use crate::proofs::dleq::DleqProof;
use crate::proofs::schnorr::SchnorrProof;
use crate::proofs::{DirectCheck, EquationSink};
use crate::signature::{Signature, VerifyingKey, fingerprint};
use crate::transcript::TranscriptProtocol;

/// Length of an encrypted share: the 32-byte scalar and the 16-byte Poly1305 tag.
pub const ENCRYPTED_SHARE_LEN: usize = 48;

// ---------------------------------------------------------------------------------------------
// Polynomial and Feldman commitments
// ---------------------------------------------------------------------------------------------

/// A dealer's secret polynomial `f(x) = a_0 + a_1·x + … + a_{t−1}·x^{t−1}` (§Polynomial).
/// Zeroized on drop, redacted in `Debug`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Polynomial {
    coefficients: Vec<Scalar>,
}

impl Polynomial {
    /// A random polynomial of degree `t − 1`. Draws `a_0, …, a_{t−1}` in that order, each 64
    /// bytes (again while zero: a zero coefficient would make its commitment the identity).
    pub fn random<R: RngCore + CryptoRng>(params: &Parameters, rng: &mut R) -> Self {
        Self { coefficients: (0..params.t()).map(|_| random_nonzero_scalar(rng)).collect() }
    }

    /// The number of coefficients `t`.
    pub fn threshold(&self) -> usize {
        self.coefficients.len()
    }

    /// The coefficients' canonical encodings concatenated (`32·t` bytes), for storage encrypted
    /// under the key-holder's passphrase.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(32 * self.coefficients.len()));
        for a in &self.coefficients {
            out.extend_from_slice(a.as_bytes());
        }
        out
    }

    /// Decodes [`Polynomial::to_bytes`]: `t` canonical non-zero scalars.
    pub fn from_bytes(params: &Parameters, bytes: &[u8]) -> Result<Self, DkgError> {
        let t = params.t() as usize;
        if bytes.len() != 32 * t {
            return Err(DecodeError::Length { expected: 32 * t, actual: bytes.len() }.into());
        }
        let mut coefficients = Vec::with_capacity(t);
        for chunk in bytes.chunks_exact(32) {
            let a = decode_scalar(chunk)?;
            if a == Scalar::ZERO {
                return Err(DecodeError::ZeroScalar.into());
            }
            coefficients.push(a);
        }
        Ok(Self { coefficients })
    }

    /// `f(x)` by Horner's rule.
    pub(crate) fn evaluate(&self, x: u32) -> Scalar {
        let xs = Scalar::from(x);
        self.coefficients.iter().rev().fold(Scalar::ZERO, |acc, a| acc * xs + a)
    }

    /// The Feldman commitments `K_j = a_j·G` with a Schnorr proof of knowledge of every `a_j`
    /// (§Coefficient proofs). Draws one Schnorr nonce (64 bytes) per coefficient, `j = 0, …, t−1`.
    pub fn commit<R: RngCore + CryptoRng>(
        &self,
        params: &Parameters,
        context: &[u8; 32],
        dealer: u32,
        rng: &mut R,
    ) -> Result<DealerCommitments, DkgError> {
        params.check_index("dealer", dealer)?;
        check_count("polynomial coefficients", params.t(), self.coefficients.len())?;
        let commitments: Vec<GroupElement> =
            self.coefficients.iter().map(|a| GroupElement::from_nonzero_multiple(mul_base(a))).collect();
        let mut proofs = Vec::with_capacity(commitments.len());
        for (j, a) in (0u32..).zip(&self.coefficients) {
            let mut t = coefficient_transcript(context, dealer, &commitments, j);
            proofs.push(SchnorrProof::prove(&mut t, a, rng)?);
        }
        Ok(DealerCommitments { dealer, commitments, proofs })
    }

    /// Encrypts `f(l)` to key-holder `l = recipient.index` (§Share encryption) and proves
    /// knowledge of the ephemeral secret. Draws the ephemeral secret `e` (64 bytes, again while
    /// zero), then the proof's nonce (64 bytes).
    pub fn encrypt_share<R: RngCore + CryptoRng>(
        &self,
        context: &[u8; 32],
        dealer: u32,
        recipient: &KeyHolderPublic,
        rng: &mut R,
    ) -> Result<EncryptedShare, DkgError> {
        if recipient.index == dealer {
            return Err(DkgError::SelfAddressed { index: dealer });
        }
        let e = Zeroizing::new(random_nonzero_scalar(rng));
        // e ≠ 0 and C ≠ identity, so neither E nor S is the identity.
        let ephemeral = GroupElement::from_nonzero_multiple(mul_base(&e));
        let shared = GroupElement::from_nonzero_multiple(*e * recipient.comm_key.point());
        let key = share_key(context, dealer, recipient.index, &ephemeral, &shared);
        let cipher = ChaCha20Poly1305::new_from_slice(key.as_ref()).map_err(|_| DkgError::Encryption)?;
        let mut buf = Zeroizing::new(self.evaluate(recipient.index).to_bytes());
        let tag = cipher
            .encrypt_in_place_detached(&Default::default(), &share_aad(context, dealer, recipient.index), buf.as_mut())
            .map_err(|_| DkgError::Encryption)?;
        let mut ciphertext = [0u8; ENCRYPTED_SHARE_LEN];
        ciphertext[..32].copy_from_slice(buf.as_ref());
        ciphertext[32..].copy_from_slice(tag.as_slice());
        let mut t = ephemeral_transcript(context, dealer, recipient, &ephemeral, &ciphertext);
        let proof = SchnorrProof::prove(&mut t, &e, rng)?;
        Ok(EncryptedShare { dealer, recipient: recipient.index, ephemeral, ciphertext, proof })
    }

    /// Encrypts a share to every key-holder but the dealer, in index order (one
    /// [`Polynomial::encrypt_share`] each, so the draws are one `e` per recipient in that order).
    pub fn encrypt_shares<R: RngCore + CryptoRng>(
        &self,
        params: &Parameters,
        context: &[u8; 32],
        dealer: u32,
        publics: &[KeyHolderPublic],
        rng: &mut R,
    ) -> Result<Vec<EncryptedShare>, DkgError> {
        check_key_holders(params, publics)?;
        params.check_index("dealer", dealer)?;
        publics.iter().filter(|p| p.index != dealer).map(|p| self.encrypt_share(context, dealer, p, rng)).collect()
    }
}

impl fmt::Debug for Polynomial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Polynomial(t={}, coefficients=<redacted>)", self.coefficients.len())
    }
}

/// Both indices in `1..=n` and different (a key-holder neither deals to nor accuses itself).
fn check_two_key_holders(params: &Parameters, a: (&'static str, u32), b: (&'static str, u32)) -> Result<(), DkgError> {
    params.check_index(a.0, a.1)?;
    params.check_index(b.0, b.1)?;
    if a.1 == b.1 {
        return Err(DkgError::SelfAddressed { index: a.1 });
    }
    Ok(())
}

fn check_count(what: &'static str, expected: u32, actual: usize) -> Result<(), DkgError> {
    if actual != expected as usize {
        return Err(DkgError::WrongCount { what, expected: expected as usize, actual });
    }
    Ok(())
}

/// The transcript of the proof for coefficient `j` (§Coefficient proofs): context, dealer, `t`,
/// every commitment of the dealer, then `j`.
fn coefficient_transcript(context: &[u8; 32], dealer: u32, commitments: &[GroupElement], j: u32) -> Transcript {
    let mut t = transcript_with_context(labels::DS_DKG_COEFFICIENT, context);
    t.append_u64(labels::L_DEALER, u64::from(dealer));
    t.append_u64(labels::L_T, commitments.len() as u64);
    for k in commitments {
        t.append_element(labels::L_CAP_K, k);
    }
    t.append_u64(labels::L_J, u64::from(j));
    t
}

/// A dealer's Feldman commitments `K_{i,0..t−1}` and their Schnorr proofs: the round-2 reveal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DealerCommitments {
    /// The dealer's index `i`.
    pub dealer: u32,
    /// `K_{i,j} = a_{i,j}·G` for `j = 0, …, t−1`.
    pub commitments: Vec<GroupElement>,
    /// A proof of knowledge of `a_{i,j}` for every `j`.
    pub proofs: Vec<SchnorrProof>,
}

impl DealerCommitments {
    /// Checks the shape: the dealer index is in range, exactly `t` commitments and `t` proofs.
    pub fn validate(&self, params: &Parameters) -> Result<(), DkgError> {
        params.check_index("dealer", self.dealer)?;
        check_count("commitments", params.t(), self.commitments.len())?;
        check_count("coefficient proofs", params.t(), self.proofs.len())
    }

    /// The round-1 commitment hash (§Round 1): context, dealer, `t`, every `K_j`, then every
    /// proof's `A_j` and `z_j`, squeezed as 32 bytes under `commitment-hash`.
    pub fn hash(&self, context: &[u8; 32]) -> [u8; 32] {
        let mut t = transcript_with_context(labels::DS_DKG_COMMIT, context);
        t.append_u64(labels::L_DEALER, u64::from(self.dealer));
        t.append_u64(labels::L_T, self.commitments.len() as u64);
        for k in &self.commitments {
            t.append_element(labels::L_CAP_K, k);
        }
        for p in &self.proofs {
            t.append_element(labels::L_CAP_A, &p.commitment);
            t.append_scalar(labels::L_Z, &p.response);
        }
        t.challenge_32(labels::L_COMMITMENT_HASH)
    }

    /// The round-1 message committing to these commitments.
    pub fn commitment_hash(&self, context: &[u8; 32]) -> CommitmentHash {
        CommitmentHash { dealer: self.dealer, hash: self.hash(context) }
    }

    /// Checks the reveal against the dealer's round-1 hash.
    pub fn check_hash(&self, context: &[u8; 32], committed: &CommitmentHash) -> Result<(), DkgError> {
        if committed.dealer != self.dealer {
            return Err(DkgError::Mismatch("commitment hash of another dealer"));
        }
        if committed.hash != self.hash(context) {
            return Err(DkgError::CommitmentHashMismatch { dealer: self.dealer });
        }
        Ok(())
    }

    /// Adds the equations of every coefficient proof to `sink` (for batching). Checks the shape
    /// first.
    pub fn verify_into<S: EquationSink>(
        &self,
        params: &Parameters,
        context: &[u8; 32],
        sink: &mut S,
    ) -> Result<(), DkgError> {
        self.validate(params)?;
        for ((j, k), proof) in (0u32..).zip(&self.commitments).zip(&self.proofs) {
            let mut t = coefficient_transcript(context, self.dealer, &self.commitments, j);
            proof
                .verify(&mut t, k, sink)
                .map_err(|_| DkgError::CoefficientProof { dealer: self.dealer, coefficient: j })?;
        }
        Ok(())
    }

    /// Verifies every coefficient proof, naming the first that fails.
    pub fn verify(&self, params: &Parameters, context: &[u8; 32]) -> Result<(), DkgError> {
        self.verify_into(params, context, &mut DirectCheck::default())
    }

    /// `Σ_j l^j·K_{i,j}`: what `s_{i→l}·G` must equal (§Round 3).
    pub fn expected_share(&self, recipient: u32) -> RistrettoPoint {
        eval_in_exponent(recipient, self.commitments.iter().map(|k| k.point()))
    }
}

/// The round-1 message: a dealer's commitment hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitmentHash {
    /// The dealer's index.
    pub dealer: u32,
    /// [`DealerCommitments::hash`] of the commitments the dealer will reveal.
    #[serde(with = "bytes_hex")]
    pub hash: [u8; 32],
}

// ---------------------------------------------------------------------------------------------
// Encrypted shares
// ---------------------------------------------------------------------------------------------

/// A share `s_{i→l}` encrypted to key-holder `l` (§Share encryption).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptedShare {
    /// The dealer `i`.
    pub dealer: u32,
    /// The recipient `l`.
    pub recipient: u32,
    /// The ephemeral key `E = e·G`.
    pub ephemeral: GroupElement,
    /// ChaCha20-Poly1305 of the 32-byte share under the derived key: ciphertext ‖ tag.
    #[serde(with = "bytes_hex")]
    pub ciphertext: [u8; ENCRYPTED_SHARE_LEN],
    /// Proof of knowledge of `e = log_G E`, bound to the dealer, the recipient and the
    /// ciphertext, so that no dealer can reuse (a multiple of) another dealer's `E` and have an
    /// honest complaint reveal that dealer's key (§Share encryption).
    pub proof: SchnorrProof,
}

impl EncryptedShare {
    /// Checks the indices: both in range and different.
    pub fn validate(&self, params: &Parameters) -> Result<(), DkgError> {
        check_two_key_holders(params, ("dealer", self.dealer), ("recipient", self.recipient))
    }

    /// Adds the equation of the ephemeral key's proof to `sink`; `recipient` is the recipient's
    /// public keys.
    pub fn verify_into<S: EquationSink>(
        &self,
        context: &[u8; 32],
        recipient: &KeyHolderPublic,
        sink: &mut S,
    ) -> Result<(), DkgError> {
        if recipient.index != self.recipient {
            return Err(DkgError::Mismatch("share verified against another recipient"));
        }
        let mut t = ephemeral_transcript(context, self.dealer, recipient, &self.ephemeral, &self.ciphertext);
        self.proof.verify(&mut t, &self.ephemeral, sink).map_err(|_| DkgError::BadShare {
            dealer: self.dealer,
            recipient: self.recipient,
            fault: DealerFault::InvalidShareProof { recipient: self.recipient },
        })
    }

    /// Verifies the ephemeral key's proof: fails with [`DkgError::BadShare`] naming
    /// [`DealerFault::InvalidShareProof`].
    pub fn verify(&self, context: &[u8; 32], recipient: &KeyHolderPublic) -> Result<(), DkgError> {
        self.verify_into(context, recipient, &mut DirectCheck::default())
    }
}

/// The transcript of the proof of knowledge of `e`: context, dealer, recipient, the recipient's
/// communication key `C`, `E` and the ciphertext.
fn ephemeral_transcript(
    context: &[u8; 32],
    dealer: u32,
    recipient: &KeyHolderPublic,
    ephemeral: &GroupElement,
    ciphertext: &[u8; ENCRYPTED_SHARE_LEN],
) -> Transcript {
    let mut t = transcript_with_context(labels::DS_DKG_SHARE_EPHEMERAL, context);
    t.append_u64(labels::L_DEALER, u64::from(dealer));
    t.append_u64(labels::L_RECIPIENT, u64::from(recipient.index));
    t.append_element(labels::L_CAP_C, &recipient.comm_key);
    t.append_element(labels::L_CAP_E, ephemeral);
    t.append_message(labels::L_CIPHERTEXT, ciphertext);
    t
}

/// The AEAD key of a share: 32 challenge bytes `key` of a transcript over context, dealer,
/// recipient, `E` and `S = e·C_l = c_l·E`.
fn share_key(
    context: &[u8; 32],
    dealer: u32,
    recipient: u32,
    ephemeral: &GroupElement,
    shared: &GroupElement,
) -> Zeroizing<[u8; 32]> {
    let mut t = transcript_with_context(labels::DS_DKG_SHARE_KEY, context);
    t.append_u64(labels::L_DEALER, u64::from(dealer));
    t.append_u64(labels::L_RECIPIENT, u64::from(recipient));
    t.append_element(labels::L_CAP_E, ephemeral);
    t.append_element(labels::L_CAP_S, shared);
    let mut key = Zeroizing::new([0u8; 32]);
    t.challenge_bytes(labels::L_KEY, key.as_mut());
    key
}

/// The AEAD's associated data: `context ‖ LE32(dealer) ‖ LE32(recipient)`.
fn share_aad(context: &[u8; 32], dealer: u32, recipient: u32) -> [u8; 40] {
    let mut aad = [0u8; 40];
    aad[..32].copy_from_slice(context);
    aad[32..36].copy_from_slice(&dealer.to_le_bytes());
    aad[36..].copy_from_slice(&recipient.to_le_bytes());
    aad
}

/// Opens a share with the Diffie–Hellman value `S` and checks it against the dealer's
/// commitments. The error names what the dealer did wrong.
fn open_share(
    context: &[u8; 32],
    share: &EncryptedShare,
    shared: &GroupElement,
    commitments: &DealerCommitments,
) -> Result<Zeroizing<Scalar>, DealerFault> {
    let recipient = share.recipient;
    let key = share_key(context, share.dealer, recipient, &share.ephemeral, shared);
    let cipher =
        ChaCha20Poly1305::new_from_slice(key.as_ref()).map_err(|_| DealerFault::UndecryptableShare { recipient })?;
    let mut buf = Zeroizing::new([0u8; 32]);
    buf.copy_from_slice(&share.ciphertext[..32]);
    let mut tag = Tag::default();
    tag.copy_from_slice(&share.ciphertext[32..]);
    cipher
        .decrypt_in_place_detached(
            &Default::default(),
            &share_aad(context, share.dealer, recipient),
            buf.as_mut(),
            &tag,
        )
        .map_err(|_| DealerFault::UndecryptableShare { recipient })?;
    let s = Zeroizing::new(decode_scalar(buf.as_ref()).map_err(|_| DealerFault::NonCanonicalShare { recipient })?);
    if mul_base(&s) != commitments.expected_share(recipient) {
        return Err(DealerFault::ShareMismatch { recipient });
    }
    Ok(s)
}

/// The transcript of a complaint's proof (§Complaints): context, complainer, dealer, the
/// complainer's communication key `C`, the share's `E` and ciphertext, and the revealed `S`.
fn complaint_transcript(
    context: &[u8; 32],
    comm_key: &GroupElement,
    share: &EncryptedShare,
    shared: &GroupElement,
) -> Transcript {
    let mut t = transcript_with_context(labels::DS_DKG_COMPLAINT, context);
    t.append_u64(labels::L_COMPLAINER, u64::from(share.recipient));
    t.append_u64(labels::L_DEALER, u64::from(share.dealer));
    t.append_element(labels::L_CAP_C, comm_key);
    t.append_element(labels::L_CAP_E, &share.ephemeral);
    t.append_message(labels::L_CIPHERTEXT, &share.ciphertext);
    t.append_element(labels::L_CAP_S, shared);
    t
}

impl KeyHolderKeys {
    fn open(
        &self,
        context: &[u8; 32],
        share: &EncryptedShare,
        commitments: &DealerCommitments,
    ) -> Result<Zeroizing<Scalar>, DkgError> {
        if commitments.dealer != share.dealer {
            return Err(DkgError::Mismatch("share and commitments of different dealers"));
        }
        share.verify(context, &self.public(share.recipient))?;
        let shared = GroupElement::from_nonzero_multiple(self.comm_secret() * share.ephemeral.point());
        open_share(context, share, &shared, commitments).map_err(|fault| DkgError::BadShare {
            dealer: share.dealer,
            recipient: share.recipient,
            fault,
        })
    }

    /// The recipient's check of a share (§Round 3): checks the ephemeral key's proof, decrypts
    /// the share and checks `s·G = Σ_j l^j·K_{i,j}`. [`DkgError::BadShare`] means the recipient
    /// must [`complain`](KeyHolderKeys::complain), except for
    /// [`DealerFault::InvalidShareProof`], which everyone sees without a complaint. The caller
    /// checks that `share.recipient` is this key-holder's index and that `commitments` passed
    /// [`DealerCommitments::verify`].
    pub fn check_share(
        &self,
        context: &[u8; 32],
        share: &EncryptedShare,
        commitments: &DealerCommitments,
    ) -> Result<(), DkgError> {
        self.open(context, share, commitments).map(|_| ())
    }

    /// A complaint against the dealer of `share` (§Complaints): reveals `S = c·E` with a proof
    /// that `log_G C = log_E S`. Refuses (with [`DealerFault::InvalidShareProof`]) a share whose
    /// ephemeral key comes without a valid proof of knowledge: revealing `c·E` for an `E` the
    /// dealer may have copied from another dealer would disclose that dealer's share. Draws the
    /// proof's nonce (64 bytes).
    pub fn complain<R: RngCore + CryptoRng>(
        &self,
        context: &[u8; 32],
        share: &EncryptedShare,
        rng: &mut R,
    ) -> Result<Complaint, DkgError> {
        share.verify(context, &self.public(share.recipient))?;
        let shared = GroupElement::from_nonzero_multiple(self.comm_secret() * share.ephemeral.point());
        let mut t = complaint_transcript(context, &self.comm_key(), share, &shared);
        let proof = DleqProof::prove(&mut t, share.ephemeral.point(), self.comm_secret(), rng)?;
        Ok(Complaint { complainer: share.recipient, dealer: share.dealer, shared_secret: shared, proof })
    }
}

/// A publicly verifiable complaint of key-holder `l` against dealer `i` (§Complaints).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Complaint {
    /// The complaining recipient `l`.
    pub complainer: u32,
    /// The accused dealer `i`.
    pub dealer: u32,
    /// `S = c_l·E`, which lets anyone derive the share's AEAD key.
    pub shared_secret: GroupElement,
    /// Proof that `log_G C_l = log_E S`.
    pub proof: DleqProof,
}

impl Complaint {
    /// Checks the indices: both in range and different.
    pub fn validate(&self, params: &Parameters) -> Result<(), DkgError> {
        check_two_key_holders(params, ("complainer", self.complainer), ("dealer", self.dealer))
    }
}

/// Why a complaint is unfounded: the complainer, not the dealer, is at fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Error)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ComplaintFault {
    /// The Chaum–Pedersen proof does not verify: `S` is not `c_l·E`.
    #[error("the complaint's proof is invalid")]
    InvalidProof,
    /// The revealed share decrypts and matches the dealer's commitments.
    #[error("the disputed share is valid")]
    ShareIsValid,
}

/// The outcome of [`adjudicate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The dealer cheated and is disqualified.
    DealerCheated(DealerFault),
    /// The complaint is unfounded; the complainer is at fault.
    ComplaintUnfounded(ComplaintFault),
}

/// Decides a complaint whose messages' signatures and shapes are checked and whose dealer's
/// commitments are verified.
fn judge(
    context: &[u8; 32],
    complainer: &KeyHolderPublic,
    commitments: &DealerCommitments,
    share: &EncryptedShare,
    complaint: &Complaint,
) -> Result<Verdict, DkgError> {
    if complaint.dealer != share.dealer || complaint.complainer != share.recipient || commitments.dealer != share.dealer
    {
        return Err(DkgError::Mismatch("complaint, share and commitments must name one dealer and recipient"));
    }
    if let Err(DkgError::BadShare { fault, .. }) = share.verify(context, complainer) {
        return Ok(Verdict::DealerCheated(fault));
    }
    let complainer_comm_key = &complainer.comm_key;
    let mut t = complaint_transcript(context, complainer_comm_key, share, &complaint.shared_secret);
    if complaint
        .proof
        .verify(
            &mut t,
            complainer_comm_key.point(),
            share.ephemeral.point(),
            complaint.shared_secret.point(),
            &mut DirectCheck::default(),
        )
        .is_err()
    {
        return Ok(Verdict::ComplaintUnfounded(ComplaintFault::InvalidProof));
    }
    Ok(match open_share(context, share, &complaint.shared_secret, commitments) {
        Err(fault) => Verdict::DealerCheated(fault),
        Ok(_) => Verdict::ComplaintUnfounded(ComplaintFault::ShareIsValid),
    })
}

/// Decides a complaint publicly (§Complaints): checks the three messages' signatures, that they
/// concern one dealer and recipient, the dealer's coefficient proofs and the share's
/// ephemeral-key proof (failing proofs condemn the dealer); then the complaint's proof (failing:
/// unfounded), re-derives the AEAD key from the revealed `S`, decrypts the dealer's signed share
/// and checks it against the commitments.
pub fn adjudicate(
    params: &Parameters,
    context: &[u8; 32],
    publics: &[KeyHolderPublic],
    reveal: &Signed<DealerCommitments>,
    share: &Signed<EncryptedShare>,
    complaint: &Signed<Complaint>,
) -> Result<Verdict, DkgError> {
    check_key_holders(params, publics)?;
    let r = reveal.verify(context, publics)?;
    let s = share.verify(context, publics)?;
    let c = complaint.verify(context, publics)?;
    r.validate(params)?;
    s.validate(params)?;
    c.validate(params)?;
    let complainer = key_holder(publics, c.complainer)?;
    if r.dealer != s.dealer {
        return Err(DkgError::Mismatch("reveal and share of different dealers"));
    }
    if let Err(DkgError::CoefficientProof { coefficient, .. }) = r.verify(params, context) {
        return Ok(Verdict::DealerCheated(DealerFault::InvalidCoefficientProof { coefficient }));
    }
    judge(context, complainer, r, s, c)
}

// ---------------------------------------------------------------------------------------------
// Signed messages
// ---------------------------------------------------------------------------------------------

/// A message of the ceremony that its sender signs (§Signed messages).
pub trait CeremonyMessage {
    /// The message kind, appended under `kind`.
    const KIND: &'static str;
    /// The sender's index.
    fn sender(&self) -> u32;
    /// Appends the message's canonical content to the signing transcript.
    fn append_content(&self, t: &mut Transcript);
}

impl CeremonyMessage for CommitmentHash {
    const KIND: &'static str = labels::DKG_KIND_COMMITMENT_HASH;
    fn sender(&self) -> u32 {
        self.dealer
    }
    fn append_content(&self, t: &mut Transcript) {
        t.append_u64(labels::L_DEALER, u64::from(self.dealer));
        t.append_message(labels::L_HASH, &self.hash);
    }
}

impl CeremonyMessage for DealerCommitments {
    const KIND: &'static str = labels::DKG_KIND_REVEAL;
    fn sender(&self) -> u32 {
        self.dealer
    }
    fn append_content(&self, t: &mut Transcript) {
        t.append_u64(labels::L_DEALER, u64::from(self.dealer));
        t.append_u64(labels::L_COUNT, self.commitments.len() as u64);
        for k in &self.commitments {
            t.append_element(labels::L_CAP_K, k);
        }
        t.append_u64(labels::L_COUNT, self.proofs.len() as u64);
        for p in &self.proofs {
            t.append_element(labels::L_CAP_A, &p.commitment);
            t.append_scalar(labels::L_Z, &p.response);
        }
    }
}

impl CeremonyMessage for EncryptedShare {
    const KIND: &'static str = labels::DKG_KIND_ENCRYPTED_SHARE;
    fn sender(&self) -> u32 {
        self.dealer
    }
    fn append_content(&self, t: &mut Transcript) {
        t.append_u64(labels::L_DEALER, u64::from(self.dealer));
        t.append_u64(labels::L_RECIPIENT, u64::from(self.recipient));
        t.append_element(labels::L_CAP_E, &self.ephemeral);
        t.append_message(labels::L_CIPHERTEXT, &self.ciphertext);
        t.append_element(labels::L_CAP_A, &self.proof.commitment);
        t.append_scalar(labels::L_Z, &self.proof.response);
    }
}

impl CeremonyMessage for Complaint {
    const KIND: &'static str = labels::DKG_KIND_COMPLAINT;
    fn sender(&self) -> u32 {
        self.complainer
    }
    fn append_content(&self, t: &mut Transcript) {
        t.append_u64(labels::L_COMPLAINER, u64::from(self.complainer));
        t.append_u64(labels::L_DEALER, u64::from(self.dealer));
        t.append_element(labels::L_CAP_S, &self.shared_secret);
        t.append_element(labels::L_CAP_A, &self.proof.a);
        t.append_element(labels::L_CAP_B, &self.proof.b);
        t.append_scalar(labels::L_Z, &self.proof.response);
    }
}

fn message_transcript<M: CeremonyMessage>(context: &[u8; 32], message: &M) -> Transcript {
    let mut t = transcript_with_context(labels::DS_DKG_MESSAGE, context);
    t.append_str(labels::L_KIND, M::KIND);
    t.append_u64(labels::L_SENDER, u64::from(message.sender()));
    message.append_content(&mut t);
    t
}

/// A ceremony message with its sender's signature (§Signed messages).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signed<M> {
    /// The message.
    pub message: M,
    /// Schnorr signature by the sender's signing key over the message transcript.
    pub signature: Signature,
}

impl<M: CeremonyMessage> Signed<M> {
    /// Signs `message` with the sender's signing key. Draws 32 bytes (the signature's hedge).
    pub fn sign<R: RngCore + CryptoRng>(message: M, context: &[u8; 32], keys: &KeyHolderKeys, rng: &mut R) -> Self {
        let signature = keys.signing_key().sign(&mut message_transcript(context, &message), rng);
        Self { message, signature }
    }

    /// Verifies the signature under `key` and returns the message.
    pub fn verify_with(&self, context: &[u8; 32], key: &VerifyingKey) -> Result<&M, DkgError> {
        key.verify(&mut message_transcript(context, &self.message), &self.signature)
            .map_err(|_| DkgError::Signature { kind: M::KIND, sender: self.message.sender() })?;
        Ok(&self.message)
    }

    /// Verifies the signature under the signing key of the sender named in the message.
    pub fn verify<'a>(&'a self, context: &[u8; 32], publics: &[KeyHolderPublic]) -> Result<&'a M, DkgError> {
        let sender = key_holder(publics, self.message.sender())?;
        self.verify_with(context, &sender.signing_key)
    }
}

/// The key-holder with index `index` in a list checked by [`check_key_holders`].
fn key_holder(publics: &[KeyHolderPublic], index: u32) -> Result<&KeyHolderPublic, DkgError> {
    index
        .checked_sub(1)
        .and_then(|i| publics.get(i as usize))
        .filter(|p| p.index == index)
        .ok_or(DkgError::IndexOutOfRange { what: "key-holder", index, n: publics.len() as u32 })
}

// ---------------------------------------------------------------------------------------------
// The transcript and its evaluation
// ---------------------------------------------------------------------------------------------

/// Every message of a ceremony, as relayed and published (§Transcript).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CeremonyTranscript {
    /// Round 1: one per dealer.
    pub commitment_hashes: Vec<Signed<CommitmentHash>>,
    /// Round 2: one per dealer.
    pub reveals: Vec<Signed<DealerCommitments>>,
    /// Round 2: one per ordered pair of distinct key-holders.
    pub shares: Vec<Signed<EncryptedShare>>,
    /// Round 3: at most one per (complainer, dealer).
    pub complaints: Vec<Signed<Complaint>>,
}

/// A disqualified dealer and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disqualification {
    /// The dealer.
    pub dealer: u32,
    /// The first fault found (in the order of §Disqualification).
    pub fault: DealerFault,
}

/// A complaint found unfounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnfoundedComplaint {
    /// The complainer (at fault).
    pub complainer: u32,
    /// The dealer it accused.
    pub dealer: u32,
    /// Why the complaint fails.
    pub reason: ComplaintFault,
}

/// The public result of a ceremony (§Result), computable by anyone from the transcript.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CeremonyOutcome {
    /// The qualified dealers `Q`, ascending.
    pub qualified: Vec<u32>,
    /// The disqualified dealers, ascending.
    pub disqualified: Vec<Disqualification>,
    /// Complaints found unfounded, in transcript order.
    pub unfounded_complaints: Vec<UnfoundedComplaint>,
    /// The joint election key `K = Σ_{i∈Q} K_{i,0}`.
    pub joint_key: PublicKey,
    /// `VK_l = Σ_{i∈Q} Σ_j l^j·K_{i,j}` for `l = 1..=n`, in index order.
    pub verification_keys: Vec<GroupElement>,
}

impl CeremonyOutcome {
    /// `VK_l` of key-holder `index`.
    pub fn verification_key(&self, index: u32) -> Option<&GroupElement> {
        index.checked_sub(1).and_then(|i| self.verification_keys.get(i as usize))
    }

    /// The joint key's fingerprint for the commission's minutes (kind [`labels::FP_JOINT_KEY`]).
    pub fn joint_key_fingerprint(&self) -> String {
        fingerprint(labels::FP_JOINT_KEY, &self.joint_key.0)
    }
}

/// The transcript's messages after signature and shape checks, indexed.
struct Indexed<'a> {
    hashes: BTreeMap<u32, &'a CommitmentHash>,
    reveals: BTreeMap<u32, &'a DealerCommitments>,
    shares: BTreeMap<(u32, u32), &'a EncryptedShare>,
    complaints: Vec<&'a Complaint>,
}

fn index_transcript<'a>(
    params: &Parameters,
    context: &[u8; 32],
    publics: &[KeyHolderPublic],
    transcript: &'a CeremonyTranscript,
) -> Result<Indexed<'a>, DkgError> {
    check_key_holders(params, publics)?;
    let mut hashes = BTreeMap::new();
    for m in &transcript.commitment_hashes {
        let h = m.verify(context, publics)?;
        params.check_index("dealer", h.dealer)?;
        if hashes.insert(h.dealer, h).is_some() {
            return Err(DkgError::DuplicateMessage { kind: CommitmentHash::KIND, sender: h.dealer });
        }
    }
    let mut reveals = BTreeMap::new();
    for m in &transcript.reveals {
        let r = m.verify(context, publics)?;
        r.validate(params)?;
        if reveals.insert(r.dealer, r).is_some() {
            return Err(DkgError::DuplicateMessage { kind: DealerCommitments::KIND, sender: r.dealer });
        }
    }
    let mut shares = BTreeMap::new();
    for m in &transcript.shares {
        let s = m.verify(context, publics)?;
        s.validate(params)?;
        if shares.insert((s.dealer, s.recipient), s).is_some() {
            return Err(DkgError::DuplicateShare { dealer: s.dealer, recipient: s.recipient });
        }
    }
    let mut complaints = Vec::new();
    let mut seen = BTreeSet::new();
    for m in &transcript.complaints {
        let c = m.verify(context, publics)?;
        c.validate(params)?;
        if !seen.insert((c.complainer, c.dealer)) {
            return Err(DkgError::DuplicateComplaint { complainer: c.complainer, dealer: c.dealer });
        }
        complaints.push(c);
    }
    Ok(Indexed { hashes, reveals, shares, complaints })
}

/// The first fault of dealer `i` visible without complaints, in the order of §Disqualification.
fn dealer_fault(
    params: &Parameters,
    context: &[u8; 32],
    publics: &[KeyHolderPublic],
    ix: &Indexed<'_>,
    dealer: u32,
) -> Option<DealerFault> {
    let Some(hash) = ix.hashes.get(&dealer) else {
        return Some(DealerFault::NoCommitmentHash);
    };
    let Some(reveal) = ix.reveals.get(&dealer) else {
        return Some(DealerFault::NoReveal);
    };
    if reveal.check_hash(context, hash).is_err() {
        return Some(DealerFault::CommitmentHashMismatch);
    }
    if let Err(DkgError::CoefficientProof { coefficient, .. }) = reveal.verify(params, context) {
        return Some(DealerFault::InvalidCoefficientProof { coefficient });
    }
    params.indices().filter(|&l| l != dealer).find_map(|recipient| {
        let Some(share) = ix.shares.get(&(dealer, recipient)) else {
            return Some(DealerFault::MissingShare { recipient });
        };
        // The list is checked, so the recipient is always found.
        let public = key_holder(publics, recipient).ok()?;
        share.verify(context, public).err().map(|_| DealerFault::InvalidShareProof { recipient })
    })
}

/// Evaluates a ceremony transcript (§Result): checks every signature and shape (any failure is
/// an error: the relaying server must not have accepted such a message), disqualifies dealers
/// (§Disqualification), adjudicates every complaint against a dealer not yet disqualified, and
/// computes the joint key and every verification key. Anyone can run it; it uses no secret.
pub fn evaluate(
    params: &Parameters,
    context: &[u8; 32],
    publics: &[KeyHolderPublic],
    transcript: &CeremonyTranscript,
) -> Result<CeremonyOutcome, DkgError> {
    let ix = index_transcript(params, context, publics, transcript)?;
    let mut faults: BTreeMap<u32, DealerFault> =
        params.indices().filter_map(|i| dealer_fault(params, context, publics, &ix, i).map(|f| (i, f))).collect();
    let mut unfounded_complaints = Vec::new();
    for c in &ix.complaints {
        if faults.contains_key(&c.dealer) {
            continue;
        }
        let (Some(reveal), Some(share)) = (ix.reveals.get(&c.dealer), ix.shares.get(&(c.dealer, c.complainer))) else {
            continue; // unreachable: a dealer without them is already disqualified
        };
        let complainer = key_holder(publics, c.complainer)?;
        match judge(context, complainer, reveal, share, c)? {
            Verdict::DealerCheated(fault) => {
                faults.insert(c.dealer, fault);
            }
            Verdict::ComplaintUnfounded(reason) => {
                unfounded_complaints.push(UnfoundedComplaint { complainer: c.complainer, dealer: c.dealer, reason })
            }
        }
    }
    let qualified: Vec<u32> = params.indices().filter(|i| !faults.contains_key(i)).collect();
    if qualified.len() < params.t() as usize {
        return Err(DkgError::TooFewQualified { qualified: qualified.len(), t: params.t() });
    }
    // The joint polynomial's commitments A_j = Σ_{i∈Q} K_{i,j}.
    let mut joint = vec![RistrettoPoint::default(); params.t() as usize];
    for i in &qualified {
        let reveal = ix.reveals.get(i).ok_or(DkgError::Missing { what: "reveal", index: *i })?;
        for (acc, k) in joint.iter_mut().zip(&reveal.commitments) {
            *acc += k.point();
        }
    }
    let joint_key = PublicKey(
        GroupElement::from_point(joint.first().copied().unwrap_or_default())
            .map_err(|_| DkgError::Degenerate("joint key"))?,
    );
    let verification_keys = params
        .indices()
        .map(|l| {
            GroupElement::from_point(eval_in_exponent(l, &joint)).map_err(|_| DkgError::Degenerate("verification key"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CeremonyOutcome {
        qualified,
        disqualified: faults.into_iter().map(|(dealer, fault)| Disqualification { dealer, fault }).collect(),
        unfounded_complaints,
        joint_key,
        verification_keys,
    })
}

/// A key-holder's last step (§Result): evaluates the transcript itself, then sums
/// `x_l = Σ_{i∈Q} s_{i→l}` (its own `f_l(l)` if it is qualified, every other share decrypted and
/// checked) and checks `x_l·G = VK_l`. Errors if `keys` or `polynomial` are not those of
/// key-holder `index` in the transcript, or if a qualified dealer's share is bad (the key-holder
/// should have complained).
pub fn derive_key_share(
    params: &Parameters,
    context: &[u8; 32],
    publics: &[KeyHolderPublic],
    transcript: &CeremonyTranscript,
    keys: &KeyHolderKeys,
    index: u32,
    polynomial: &Polynomial,
) -> Result<(CeremonyOutcome, KeyShare), DkgError> {
    let outcome = evaluate(params, context, publics, transcript)?;
    let me = key_holder(publics, index)?;
    if *me != keys.public(index) {
        return Err(DkgError::Mismatch("keys are not those of this key-holder"));
    }
    let ix = index_transcript(params, context, publics, transcript)?;
    let mut x = Zeroizing::new(Scalar::ZERO);
    for &i in &outcome.qualified {
        let reveal = ix.reveals.get(&i).ok_or(DkgError::Missing { what: "reveal", index: i })?;
        if i == index {
            let own = polynomial.commit_points();
            if own.len() != reveal.commitments.len() || own.iter().zip(&reveal.commitments).any(|(a, b)| a != b.point())
            {
                return Err(DkgError::Mismatch("polynomial is not the one this key-holder revealed"));
            }
            *x += polynomial.evaluate(index);
        } else {
            let share = ix.shares.get(&(i, index)).ok_or(DkgError::Missing { what: "share", index: i })?;
            *x += *keys.open(context, share, reveal)?;
        }
    }
    let share = KeyShare::new(index, *x).map_err(|_| DkgError::Degenerate("key share"))?;
    if Some(&share.verification_key()) != outcome.verification_key(index) {
        return Err(DkgError::VerificationKeyMismatch { index });
    }
    Ok((outcome, share))
}

impl Polynomial {
    fn commit_points(&self) -> Vec<RistrettoPoint> {
        self.coefficients.iter().map(mul_base).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::InProcessCeremony;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    const CTX: [u8; 32] = [7u8; 32];

    fn setup(seed: u64) -> (ChaCha20Rng, InProcessCeremony) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let c = InProcessCeremony::new(&mut rng, CTX, 5, 3).unwrap();
        (rng, c)
    }

    #[test]
    fn honest_ceremony_3_of_5() {
        let (mut rng, mut c) = setup(1);
        c.round1(&mut rng).unwrap();
        c.round2(&mut rng).unwrap();
        assert_eq!(c.round3(&mut rng).unwrap(), 0, "no complaints");
        let (outcome, shares) = c.finish().unwrap();
        assert_eq!(outcome.qualified, vec![1, 2, 3, 4, 5]);
        assert!(outcome.disqualified.is_empty() && outcome.unfounded_complaints.is_empty());
        // The joint key is Σ a_{i,0}·G and each x_l·G = VK_l.
        let secret: Scalar = c.polynomials.iter().map(|p| p.evaluate(0)).sum();
        assert_eq!(mul_base(&secret), *outcome.joint_key.point());
        for s in &shares {
            assert_eq!(Some(&s.verification_key()), outcome.verification_key(s.index()));
        }
        // Any t shares interpolate to the joint secret.
        let lambdas = crate::threshold::lagrange_at_zero(&[2, 4, 5]).unwrap();
        let rec: Scalar = [1usize, 3, 4].iter().zip(&lambdas).map(|(&k, l)| l * shares[k].secret()).sum();
        assert_eq!(rec, secret);
        // The transcript and outcome round-trip through JSON, and re-evaluate identically.
        let json = serde_json::to_string(&c.transcript).unwrap();
        let back: CeremonyTranscript = serde_json::from_str(&json).unwrap();
        assert_eq!(evaluate(&c.params, &CTX, &c.publics, &back).unwrap(), outcome);
        let oj = serde_json::to_string(&outcome).unwrap();
        assert_eq!(serde_json::from_str::<CeremonyOutcome>(&oj).unwrap(), outcome);
        assert_eq!(outcome.joint_key_fingerprint().len(), 24);
        assert!(format!("{:?}", c.polynomials[0]).contains("redacted"));
    }

    #[test]
    fn bad_share_is_detected_adjudicated_and_dealer_excluded() {
        let (mut rng, mut c) = setup(2);
        c.round1(&mut rng).unwrap();
        c.round2(&mut rng).unwrap();
        // Dealer 2 sends key-holder 4 a share of another polynomial, properly signed.
        let wrong = Polynomial::random(&c.params, &mut rng);
        let bad = wrong.encrypt_share(&CTX, 2, &c.publics[3], &mut rng).unwrap();
        c.replace_share(Signed::sign(bad.clone(), &CTX, &c.keys[1], &mut rng));
        // Key-holder 4 detects it.
        let reveal2 = &c.transcript.reveals[1].message;
        assert!(matches!(
            c.keys[3].check_share(&CTX, &bad, reveal2),
            Err(DkgError::BadShare { dealer: 2, recipient: 4, fault: DealerFault::ShareMismatch { recipient: 4 } })
        ));
        assert_eq!(c.round3(&mut rng).unwrap(), 1, "one complaint");
        // Anyone adjudicates the complaint from public, signed messages.
        let complaint = c.transcript.complaints[0].clone();
        let share = c.transcript.shares.iter().find(|s| s.message.dealer == 2 && s.message.recipient == 4).unwrap();
        let verdict = adjudicate(&c.params, &CTX, &c.publics, &c.transcript.reveals[1], share, &complaint).unwrap();
        assert_eq!(verdict, Verdict::DealerCheated(DealerFault::ShareMismatch { recipient: 4 }));

        let (outcome, shares) = c.finish().unwrap();
        assert_eq!(outcome.qualified, vec![1, 3, 4, 5]);
        assert_eq!(
            outcome.disqualified,
            vec![Disqualification { dealer: 2, fault: DealerFault::ShareMismatch { recipient: 4 } }]
        );
        // The key excludes dealer 2, and every key-holder (dealer 2 too) holds a working share.
        let secret: Scalar = [0usize, 2, 3, 4].iter().map(|&k| c.polynomials[k].evaluate(0)).sum();
        assert_eq!(mul_base(&secret), *outcome.joint_key.point());
        assert_eq!(shares.len(), 5);
        let lambdas = crate::threshold::lagrange_at_zero(&[1, 2, 4]).unwrap();
        let rec: Scalar = [0usize, 1, 3].iter().zip(&lambdas).map(|(&k, l)| l * shares[k].secret()).sum();
        assert_eq!(rec, secret);
    }

    #[test]
    fn undecryptable_share_condemns_dealer() {
        let (mut rng, mut c) = setup(3);
        c.round1(&mut rng).unwrap();
        c.round2(&mut rng).unwrap();
        // Dealer 5 sends key-holder 1 random bytes, with a valid proof for its ephemeral key: only
        // the complaint can show that they do not decrypt.
        let e = random_nonzero_scalar(&mut rng);
        let ephemeral = GroupElement::from_point(mul_base(&e)).unwrap();
        let mut ciphertext = [0u8; ENCRYPTED_SHARE_LEN];
        rng.fill_bytes(&mut ciphertext);
        let mut t = ephemeral_transcript(&CTX, 5, &c.publics[0], &ephemeral, &ciphertext);
        let proof = SchnorrProof::prove(&mut t, &e, &mut rng).unwrap();
        let bad = EncryptedShare { dealer: 5, recipient: 1, ephemeral, ciphertext, proof };
        bad.verify(&CTX, &c.publics[0]).unwrap();
        c.replace_share(Signed::sign(bad, &CTX, &c.keys[4], &mut rng));
        assert_eq!(c.round3(&mut rng).unwrap(), 1);
        let (outcome, _) = c.finish().unwrap();
        assert_eq!(
            outcome.disqualified,
            vec![Disqualification { dealer: 5, fault: DealerFault::UndecryptableShare { recipient: 1 } }]
        );
    }

    #[test]
    fn copied_ephemeral_key_is_caught_without_a_complaint() {
        let (mut rng, mut c) = setup(10);
        c.round1(&mut rng).unwrap();
        c.round2(&mut rng).unwrap();
        // Dealer 1 sends key-holder 4 a share whose E is 2·E' for the E' of dealer 3's share to 4,
        // hoping that 4's complaint reveals c_4·2·E' and with it dealer 3's share. It cannot prove
        // knowledge of log_G E, so the share is rejected publicly and 4 must not complain.
        let honest = c
            .transcript
            .shares
            .iter()
            .find(|s| s.message.dealer == 3 && s.message.recipient == 4)
            .unwrap()
            .message
            .clone();
        let mut copied = honest.clone();
        copied.dealer = 1;
        copied.ephemeral = GroupElement::from_point(honest.ephemeral.point() + honest.ephemeral.point()).unwrap();
        c.replace_share(Signed::sign(copied.clone(), &CTX, &c.keys[0], &mut rng));
        let fault = DealerFault::InvalidShareProof { recipient: 4 };
        assert_eq!(copied.verify(&CTX, &c.publics[3]), Err(DkgError::BadShare { dealer: 1, recipient: 4, fault }));
        assert_eq!(
            c.keys[3].complain(&CTX, &copied, &mut rng).err(),
            Some(DkgError::BadShare { dealer: 1, recipient: 4, fault })
        );
        assert_eq!(c.round3(&mut rng).unwrap(), 0);
        let (outcome, _) = c.finish().unwrap();
        assert_eq!(outcome.disqualified, vec![Disqualification { dealer: 1, fault }]);
        // The honest share's proof is bound to its dealer, recipient and ciphertext.
        honest.verify(&CTX, &c.publics[3]).unwrap();
        let mut moved = honest.clone();
        moved.ciphertext[5] ^= 1;
        assert!(moved.verify(&CTX, &c.publics[3]).is_err());
        assert!(honest.verify(&CTX, &c.publics[2]).is_err());
    }

    #[test]
    fn unfounded_complaint_is_recognised() {
        let (mut rng, mut c) = setup(4);
        c.round1(&mut rng).unwrap();
        c.round2(&mut rng).unwrap();
        assert_eq!(c.round3(&mut rng).unwrap(), 0);
        // Key-holder 3 complains about a valid share of dealer 1.
        let share =
            c.transcript.shares.iter().find(|s| s.message.dealer == 1 && s.message.recipient == 3).unwrap().clone();
        let complaint = c.keys[2].complain(&CTX, &share.message, &mut rng).unwrap();
        let signed = Signed::sign(complaint.clone(), &CTX, &c.keys[2], &mut rng);
        let v = adjudicate(&c.params, &CTX, &c.publics, &c.transcript.reveals[0], &share, &signed).unwrap();
        assert_eq!(v, Verdict::ComplaintUnfounded(ComplaintFault::ShareIsValid));
        // A complaint revealing a false S (proof made for another value) is unfounded too.
        let mut forged = complaint;
        forged.shared_secret = c.publics[2].comm_key;
        let forged = Signed::sign(forged, &CTX, &c.keys[2], &mut rng);
        let v = adjudicate(&c.params, &CTX, &c.publics, &c.transcript.reveals[0], &share, &forged).unwrap();
        assert_eq!(v, Verdict::ComplaintUnfounded(ComplaintFault::InvalidProof));

        c.transcript.complaints.push(signed);
        let (outcome, shares) = c.finish().unwrap();
        assert_eq!(outcome.qualified, vec![1, 2, 3, 4, 5]);
        assert_eq!(
            outcome.unfounded_complaints,
            vec![UnfoundedComplaint { complainer: 3, dealer: 1, reason: ComplaintFault::ShareIsValid }]
        );
        assert_eq!(shares.len(), 5);
        // A complaint signed by someone else than the complainer is rejected outright.
        let stolen = Signed::sign(c.transcript.complaints[0].message.clone(), &CTX, &c.keys[0], &mut rng);
        assert!(matches!(
            adjudicate(&c.params, &CTX, &c.publics, &c.transcript.reveals[0], &share, &stolen),
            Err(DkgError::Signature { kind: "complaint", sender: 3 })
        ));
    }

    #[test]
    fn coefficient_proofs_bind_context_and_dealer() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let params = Parameters::new(5, 3).unwrap();
        let poly = Polynomial::random(&params, &mut rng);
        let reveal = poly.commit(&params, &CTX, 2, &mut rng).unwrap();
        reveal.verify(&params, &CTX).unwrap();
        assert!(matches!(
            reveal.verify(&params, &[8u8; 32]),
            Err(DkgError::CoefficientProof { dealer: 2, coefficient: 0 })
        ));
        let mut other_dealer = reveal.clone();
        other_dealer.dealer = 3;
        assert!(matches!(other_dealer.verify(&params, &CTX), Err(DkgError::CoefficientProof { dealer: 3, .. })));
        // Proofs are bound to all commitments and to their own index.
        let mut swapped = reveal.clone();
        swapped.proofs.swap(0, 1);
        assert!(swapped.verify(&params, &CTX).is_err());
        let mut altered = reveal.clone();
        altered.commitments[2] = altered.commitments[1];
        assert!(matches!(altered.verify(&params, &CTX), Err(DkgError::CoefficientProof { coefficient: 0, .. })));
        let mut altered = reveal.clone();
        altered.proofs[1].response += Scalar::ONE;
        assert!(matches!(altered.verify(&params, &CTX), Err(DkgError::CoefficientProof { coefficient: 1, .. })));
        // Shape: t commitments and proofs, dealer in range.
        let mut short = reveal.clone();
        short.commitments.pop();
        assert!(matches!(short.verify(&params, &CTX), Err(DkgError::WrongCount { what: "commitments", .. })));
        let mut far = reveal.clone();
        far.dealer = 6;
        assert!(matches!(far.validate(&params), Err(DkgError::IndexOutOfRange { index: 6, .. })));
        // Batched verification agrees.
        let mut batch = crate::proofs::BatchVerifier::new(&mut rng);
        reveal.verify_into(&params, &CTX, &mut batch).unwrap();
        batch.finish().unwrap();
    }

    #[test]
    fn commit_then_reveal_mismatch_disqualifies() {
        let (mut rng, mut c) = setup(6);
        c.round1(&mut rng).unwrap();
        // Dealer 3 reveals commitments of a polynomial other than the one it committed to (as a
        // rushing dealer adapting to others' reveals would), with valid proofs and signature.
        let other = Polynomial::random(&c.params, &mut rng);
        c.commitments[2] = other.commit(&c.params, &CTX, 3, &mut rng).unwrap();
        c.polynomials[2] = other;
        c.round2(&mut rng).unwrap();
        let reveal = &c.transcript.reveals[2].message;
        assert!(reveal.verify(&c.params, &CTX).is_ok());
        assert_eq!(
            reveal.check_hash(&CTX, &c.transcript.commitment_hashes[2].message),
            Err(DkgError::CommitmentHashMismatch { dealer: 3 })
        );
        c.round3(&mut rng).unwrap();
        let (outcome, _) = c.finish().unwrap();
        assert_eq!(
            outcome.disqualified,
            vec![Disqualification { dealer: 3, fault: DealerFault::CommitmentHashMismatch }]
        );
        assert_eq!(outcome.qualified, vec![1, 2, 4, 5]);
    }

    #[test]
    fn signatures_bind_sender_and_context() {
        let (mut rng, mut c) = setup(7);
        c.round1(&mut rng).unwrap();
        let msg = c.transcript.commitment_hashes[0].clone();
        msg.verify(&CTX, &c.publics).unwrap();
        // Signed by key-holder 2 but claiming to come from dealer 1: rejected.
        let forged = Signed::sign(msg.message, &CTX, &c.keys[1], &mut rng);
        assert_eq!(forged.verify(&CTX, &c.publics), Err(DkgError::Signature { kind: "commitment-hash", sender: 1 }));
        // Another context, an altered message: rejected.
        assert!(msg.verify(&[0u8; 32], &c.publics).is_err());
        let mut altered = msg.clone();
        altered.message.hash[0] ^= 1;
        assert!(altered.verify(&CTX, &c.publics).is_err());
        // Unknown sender.
        let mut far = msg.clone();
        far.message.dealer = 9;
        assert!(matches!(far.verify(&CTX, &c.publics), Err(DkgError::IndexOutOfRange { index: 9, .. })));
        // A forged message in the transcript makes evaluation fail.
        c.transcript.commitment_hashes[0] = forged;
        c.round2(&mut rng).unwrap();
        assert!(matches!(c.finish(), Err(DkgError::Signature { .. })));
    }

    #[test]
    fn strict_transcript_checks() {
        let (mut rng, mut c) = setup(8);
        c.round1(&mut rng).unwrap();
        c.round2(&mut rng).unwrap();
        let good = c.transcript.clone();
        // Duplicate messages.
        c.transcript.commitment_hashes.push(c.transcript.commitment_hashes[0].clone());
        assert_eq!(c.finish().err(), Some(DkgError::DuplicateMessage { kind: "commitment-hash", sender: 1 }));
        c.transcript = good.clone();
        c.transcript.shares.push(c.transcript.shares[0].clone());
        assert!(matches!(c.finish(), Err(DkgError::DuplicateShare { dealer: 1, recipient: 2 })));
        // A share to oneself.
        c.transcript = good.clone();
        let mut own = c.transcript.shares[0].message.clone();
        own.recipient = 1;
        let own = Signed::sign(own, &CTX, &c.keys[0], &mut rng);
        c.transcript.shares.push(own);
        assert_eq!(c.finish().err(), Some(DkgError::SelfAddressed { index: 1 }));
        // A missing share disqualifies its dealer.
        c.transcript = good.clone();
        c.transcript.shares.retain(|s| !(s.message.dealer == 4 && s.message.recipient == 2));
        let (outcome, _) = c.finish().unwrap();
        assert_eq!(
            outcome.disqualified,
            vec![Disqualification { dealer: 4, fault: DealerFault::MissingShare { recipient: 2 } }]
        );
        // A missing reveal too; with three dealers out, fewer than t remain.
        c.transcript = good.clone();
        c.transcript.reveals.retain(|r| r.message.dealer > 3);
        assert_eq!(c.finish().err(), Some(DkgError::TooFewQualified { qualified: 2, t: 3 }));
        // Strict JSON: wrong ciphertext length, unknown fields, identity points.
        let json = serde_json::to_value(&good.shares[0]).unwrap();
        let mut short = json.clone();
        short["message"]["ciphertext"] = serde_json::Value::String("00".repeat(47));
        assert!(serde_json::from_value::<Signed<EncryptedShare>>(short).is_err());
        let mut extra = json.clone();
        extra["message"]["extra"] = serde_json::Value::Bool(true);
        assert!(serde_json::from_value::<Signed<EncryptedShare>>(extra).is_err());
        let mut ident = json;
        ident["message"]["ephemeral"] = serde_json::Value::String("00".repeat(32));
        assert!(serde_json::from_value::<Signed<EncryptedShare>>(ident).is_err());
        assert!(
            serde_json::from_value::<Signed<EncryptedShare>>(serde_json::to_value(&good.shares[0]).unwrap()).is_ok()
        );
    }

    #[test]
    fn key_share_derivation_checks_its_inputs() {
        let (mut rng, mut c) = setup(9);
        c.round1(&mut rng).unwrap();
        c.round2(&mut rng).unwrap();
        // Another key-holder's keys or polynomial are refused.
        assert_eq!(
            derive_key_share(&c.params, &CTX, &c.publics, &c.transcript, &c.keys[0], 2, &c.polynomials[1]).err(),
            Some(DkgError::Mismatch("keys are not those of this key-holder"))
        );
        assert_eq!(
            derive_key_share(&c.params, &CTX, &c.publics, &c.transcript, &c.keys[1], 2, &c.polynomials[0]).err(),
            Some(DkgError::Mismatch("polynomial is not the one this key-holder revealed"))
        );
        // A recipient that did not complain about a bad share cannot derive its key share.
        let wrong = Polynomial::random(&c.params, &mut rng);
        let bad = wrong.encrypt_share(&CTX, 1, &c.publics[1], &mut rng).unwrap();
        c.replace_share(Signed::sign(bad, &CTX, &c.keys[0], &mut rng));
        assert!(matches!(
            derive_key_share(&c.params, &CTX, &c.publics, &c.transcript, &c.keys[1], 2, &c.polynomials[1]),
            Err(DkgError::BadShare { dealer: 1, recipient: 2, .. })
        ));
        // Storage round trip of the polynomial.
        let p2 = Polynomial::from_bytes(&c.params, &c.polynomials[0].to_bytes()).unwrap();
        assert_eq!(p2.evaluate(3), c.polynomials[0].evaluate(3));
        assert!(Polynomial::from_bytes(&c.params, &[0u8; 96]).is_err());
        assert!(Polynomial::from_bytes(&c.params, &[1u8; 64]).is_err());
    }
}
