//! Encrypted shares (`docs/protocol/06-dkg.md` §Round 2, §Share encryption, §Round 3): a dealer
//! encrypts `f(l)` to every other key-holder `l` with a proof of knowledge of the ephemeral key,
//! and the recipient opens it and checks it against the dealer's commitments.

use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Tag};
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::polynomial::{DealerCommitments, Polynomial, check_two_key_holders};
use super::signed::CeremonyMessage;
use crate::group::{GroupElement, bytes_hex, decode_scalar, mul_base, random_nonzero_scalar};
use crate::labels;
use crate::proofs::schnorr::SchnorrProof;
use crate::proofs::{DirectCheck, EquationSink};
use crate::threshold::{
    DealerFault, DkgError, KeyHolderKeys, KeyHolderPublic, Parameters, check_key_holders, transcript_with_context,
};
use crate::transcript::TranscriptProtocol;

/// Length of an encrypted share: the 32-byte scalar and the 16-byte Poly1305 tag.
pub const ENCRYPTED_SHARE_LEN: usize = 48;

impl Polynomial {
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
pub(super) fn ephemeral_transcript(
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
pub(super) fn open_share(
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

impl KeyHolderKeys {
    pub(super) fn open(
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
}

/// What the sender signs (`docs/protocol/06-dkg.md` §Signed messages, kind `encrypted-share`).
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
