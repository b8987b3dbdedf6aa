//! Threshold keys of the commission's key-holders (`docs/protocol/06-dkg.md`,
//! `docs/protocol/07-threshold.md`).
//!
//! Key-holders are numbered `1..=n`; any `t` of them (`1 ≤ t < n`, default 3 of 5) decrypt, and
//! no `t − 1` of them learn anything about the election key. The key is generated without a
//! dealer by a Pedersen DKG with Feldman commitments ([`dkg`]); totals are decrypted by partial
//! decryptions with Chaum–Pedersen proofs combined by Lagrange interpolation ([`decrypt`]).
//!
//! This module holds what both halves share: the parameters, the key-holders' long-term keys,
//! the resulting key share, Lagrange coefficients, and the error type of the ceremony with why a
//! dealer is at fault.

pub mod decrypt;
pub mod dkg;
pub mod local;

use std::fmt;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use thiserror::Error;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{DecodeError, ProofError};
use crate::group::{GroupElement, decode_scalar, mul_base, random_nonzero_scalar};
use crate::labels;
use crate::signature::{SigningKey, VerifyingKey, fingerprint};
use crate::transcript::TranscriptProtocol;

/// The largest number of key-holders a ceremony accepts (`docs/protocol/06-dkg.md` §Parameters).
pub const MAX_KEY_HOLDERS: u32 = 255;

/// The number of key-holders `n` and the threshold `t` (`docs/protocol/06-dkg.md` §Parameters):
/// `1 ≤ t < n ≤ MAX_KEY_HOLDERS`. `t` is the number of shares needed to decrypt; `t < n` so that
/// losing one share (or one key-holder) never loses the election (`anchors.md` §c 7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawParameters", into = "RawParameters")]
pub struct Parameters {
    n: u32,
    t: u32,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParameters {
    n: u32,
    t: u32,
}

impl TryFrom<RawParameters> for Parameters {
    type Error = DkgError;
    fn try_from(r: RawParameters) -> Result<Self, DkgError> {
        Self::new(r.n, r.t)
    }
}

impl From<Parameters> for RawParameters {
    fn from(p: Parameters) -> Self {
        Self { n: p.n, t: p.t }
    }
}

impl Parameters {
    /// Checks `1 ≤ t < n ≤ MAX_KEY_HOLDERS`.
    pub fn new(n: u32, t: u32) -> Result<Self, DkgError> {
        if t < 1 || t >= n || n > MAX_KEY_HOLDERS {
            return Err(DkgError::Parameters { n, t });
        }
        Ok(Self { n, t })
    }

    /// The number of key-holders `n`.
    pub fn n(&self) -> u32 {
        self.n
    }

    /// The threshold `t` (shares needed to decrypt; polynomials have degree `t − 1`).
    pub fn t(&self) -> u32 {
        self.t
    }

    /// Checks that `index` names a key-holder (`1 ≤ index ≤ n`).
    pub fn check_index(&self, what: &'static str, index: u32) -> Result<(), DkgError> {
        if index == 0 || index > self.n {
            return Err(DkgError::IndexOutOfRange { what, index, n: self.n });
        }
        Ok(())
    }

    /// The key-holder indices `1..=n`.
    pub fn indices(&self) -> std::ops::RangeInclusive<u32> {
        1..=self.n
    }
}

/// What went wrong in the key ceremony or with its messages (`docs/protocol/06-dkg.md`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DkgError {
    /// `n` and `t` do not satisfy `1 ≤ t < n ≤ MAX_KEY_HOLDERS`.
    #[error("invalid parameters n = {n}, t = {t}: need 1 ≤ t < n ≤ 255")]
    Parameters {
        /// Number of key-holders.
        n: u32,
        /// Threshold.
        t: u32,
    },
    /// An index outside `1..=n`.
    #[error("{what} index {index} is outside 1..={n}")]
    IndexOutOfRange {
        /// What the index names (dealer, recipient, …).
        what: &'static str,
        /// The index.
        index: u32,
        /// Number of key-holders.
        n: u32,
    },
    /// A list has the wrong number of items.
    #[error("{what}: expected {expected} items, got {actual}")]
    WrongCount {
        /// Which list.
        what: &'static str,
        /// Required count.
        expected: usize,
        /// Count given.
        actual: usize,
    },
    /// The key-holders' public keys are not listed in index order `1..=n`.
    #[error("key-holder at position {position} has index {index}; key-holders must be listed as 1..=n")]
    KeyHolderOrder {
        /// Zero-based position in the list.
        position: usize,
        /// Index found there.
        index: u32,
    },
    /// Two key-holders have the same signing or communication key.
    #[error("key-holder {index} reuses a key of key-holder {other}")]
    DuplicateKey {
        /// The later key-holder.
        index: u32,
        /// The earlier one.
        other: u32,
    },
    /// A second message of one kind from one sender.
    #[error("duplicate {kind} message from key-holder {sender}")]
    DuplicateMessage {
        /// Message kind.
        kind: &'static str,
        /// Sender.
        sender: u32,
    },
    /// A second encrypted share from one dealer to one recipient.
    #[error("duplicate encrypted share from dealer {dealer} to key-holder {recipient}")]
    DuplicateShare {
        /// Dealer.
        dealer: u32,
        /// Recipient.
        recipient: u32,
    },
    /// A second complaint of one key-holder against one dealer.
    #[error("duplicate complaint of key-holder {complainer} against dealer {dealer}")]
    DuplicateComplaint {
        /// Complainer.
        complainer: u32,
        /// Dealer.
        dealer: u32,
    },
    /// A share addressed to its own dealer, or a complaint against oneself.
    #[error("key-holder {index} cannot send a share to or complain about itself")]
    SelfAddressed {
        /// The key-holder.
        index: u32,
    },
    /// A message's signature does not verify under its sender's signing key.
    #[error("signature of {kind} message from key-holder {sender} is invalid")]
    Signature {
        /// Message kind.
        kind: &'static str,
        /// Claimed sender.
        sender: u32,
    },
    /// A revealed set of commitments does not match the sender's round-1 commitment hash.
    #[error("dealer {dealer}'s revealed commitments do not match its commitment hash")]
    CommitmentHashMismatch {
        /// Dealer.
        dealer: u32,
    },
    /// The Schnorr proof of a Feldman commitment does not verify.
    #[error("dealer {dealer}'s proof for coefficient {coefficient} is invalid")]
    CoefficientProof {
        /// Dealer.
        dealer: u32,
        /// Coefficient index `j`.
        coefficient: u32,
    },
    /// A received share is wrong: the recipient should complain.
    #[error("share from dealer {dealer} to key-holder {recipient}: {fault}")]
    BadShare {
        /// Dealer.
        dealer: u32,
        /// Recipient.
        recipient: u32,
        /// What is wrong with it.
        fault: DealerFault,
    },
    /// A message that should be in the transcript is not.
    #[error("missing {what} of key-holder {index}")]
    Missing {
        /// What is missing.
        what: &'static str,
        /// Whose.
        index: u32,
    },
    /// Arguments that must belong together do not (e.g. a complaint and another dealer's share).
    #[error("inconsistent arguments: {0}")]
    Mismatch(&'static str),
    /// Fewer than `t` dealers remain qualified.
    #[error("only {qualified} dealers qualified, at least t = {t} are needed")]
    TooFewQualified {
        /// Qualified dealers.
        qualified: usize,
        /// Threshold.
        t: u32,
    },
    /// A computed key is the identity (only with negligible probability for honest input).
    #[error("degenerate {0}")]
    Degenerate(&'static str),
    /// The derived key share does not match the public verification key.
    #[error("key share of key-holder {index} does not match its verification key")]
    VerificationKeyMismatch {
        /// The key-holder.
        index: u32,
    },
    /// The AEAD failed to encrypt (never for a 32-byte message).
    #[error("share encryption failed")]
    Encryption,
    /// A decoding error.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A proof could not be produced.
    #[error(transparent)]
    Proof(#[from] ProofError),
}

/// Why a dealer is disqualified (`docs/protocol/06-dkg.md` §Disqualification).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Error)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum DealerFault {
    /// No round-1 commitment hash.
    #[error("no commitment hash in round 1")]
    NoCommitmentHash,
    /// No round-2 reveal.
    #[error("no commitments revealed in round 2")]
    NoReveal,
    /// The reveal does not match the round-1 hash.
    #[error("revealed commitments do not match the commitment hash")]
    CommitmentHashMismatch,
    /// A coefficient proof fails.
    #[error("invalid proof for coefficient {coefficient}")]
    InvalidCoefficientProof {
        /// The coefficient index `j`.
        coefficient: u32,
    },
    /// No encrypted share for a recipient.
    #[error("no encrypted share for key-holder {recipient}")]
    MissingShare {
        /// The recipient.
        recipient: u32,
    },
    /// The proof of knowledge of a share's ephemeral secret fails.
    #[error("invalid ephemeral-key proof in the share for key-holder {recipient}")]
    InvalidShareProof {
        /// The recipient.
        recipient: u32,
    },
    /// The AEAD rejects the share under the key derived from the revealed `S`.
    #[error("share for key-holder {recipient} does not decrypt")]
    UndecryptableShare {
        /// The recipient.
        recipient: u32,
    },
    /// The decrypted share is not a canonical scalar.
    #[error("share for key-holder {recipient} is not a canonical scalar")]
    NonCanonicalShare {
        /// The recipient.
        recipient: u32,
    },
    /// `s·G ≠ Σ_j l^j·K_{i,j}`.
    #[error("share for key-holder {recipient} does not match the commitments")]
    ShareMismatch {
        /// The recipient.
        recipient: u32,
    },
}

/// A key-holder's long-term secret keys (`docs/protocol/06-dkg.md` §Keys): the signing key for
/// ceremony messages and the communication secret `c` to which shares are encrypted. Zeroized on
/// drop, redacted in `Debug`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct KeyHolderKeys {
    signing: SigningKey,
    comm: Scalar,
}

impl KeyHolderKeys {
    /// Fresh keys. Draws the signing secret (64 bytes, again while zero), then the
    /// communication secret (64 bytes, again while zero).
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let signing = SigningKey::generate(rng);
        let comm = random_nonzero_scalar(rng);
        Self { signing, comm }
    }

    /// The 64-byte encoding `signing secret ‖ communication secret`, for storage encrypted
    /// under the key-holder's passphrase.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 64]> {
        let mut out = Zeroizing::new([0u8; 64]);
        let mut s = Zeroizing::new(self.signing.to_bytes());
        out[..32].copy_from_slice(s.as_ref());
        out[32..].copy_from_slice(self.comm.as_bytes());
        s.zeroize();
        out
    }

    /// Decodes [`KeyHolderKeys::to_bytes`]: two canonical non-zero scalars.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() != 64 {
            return Err(DecodeError::Length { expected: 64, actual: bytes.len() });
        }
        let signing = SigningKey::from_bytes(&bytes[..32])?;
        let comm = decode_scalar(&bytes[32..])?;
        if comm == Scalar::ZERO {
            return Err(DecodeError::ZeroScalar);
        }
        Ok(Self { signing, comm })
    }

    /// The public half under the key-holder's index.
    pub fn public(&self, index: u32) -> KeyHolderPublic {
        KeyHolderPublic { index, signing_key: self.signing.verifying_key(), comm_key: self.comm_key() }
    }

    /// The signing key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// The communication key `C = c·G`.
    pub fn comm_key(&self) -> GroupElement {
        // c ≠ 0, so c·G is not the identity.
        GroupElement::from_nonzero_multiple(mul_base(&self.comm))
    }

    pub(crate) fn comm_secret(&self) -> &Scalar {
        &self.comm
    }
}

impl fmt::Debug for KeyHolderKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "KeyHolderKeys(signing={}, comm={}, secrets=<redacted>)",
            self.signing.verifying_key().0.to_hex(),
            self.comm_key().to_hex()
        )
    }
}

/// A key-holder's public keys as published and bound into the base context.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyHolderPublic {
    /// Number `1..=n`.
    pub index: u32,
    /// Verifies the key-holder's ceremony messages.
    pub signing_key: VerifyingKey,
    /// Shares for this key-holder are encrypted to it.
    pub comm_key: GroupElement,
}

impl KeyHolderPublic {
    /// Fingerprint of the signing key, checked in person (kind [`labels::FP_KEY_HOLDER_SIGNING`]).
    pub fn signing_fingerprint(&self) -> String {
        fingerprint(labels::FP_KEY_HOLDER_SIGNING, &self.signing_key.0)
    }

    /// Fingerprint of the communication key (kind [`labels::FP_KEY_HOLDER_COMM`]).
    pub fn comm_fingerprint(&self) -> String {
        fingerprint(labels::FP_KEY_HOLDER_COMM, &self.comm_key)
    }

    /// The keys as bound into the base context ([`crate::context::base_hash`]).
    pub fn context_keys(&self) -> crate::context::KeyHolderIdentity {
        crate::context::KeyHolderIdentity { signing_key: self.signing_key.0, comm_key: self.comm_key }
    }
}

/// Checks a list of key-holders: exactly `n`, listed as `1..=n`, no key used twice (a repeated
/// communication key would let one key-holder read another's shares).
pub fn check_key_holders(params: &Parameters, publics: &[KeyHolderPublic]) -> Result<(), DkgError> {
    if publics.len() != params.n as usize {
        return Err(DkgError::WrongCount { what: "key-holders", expected: params.n as usize, actual: publics.len() });
    }
    for (position, p) in publics.iter().enumerate() {
        if p.index as usize != position + 1 {
            return Err(DkgError::KeyHolderOrder { position, index: p.index });
        }
        let keys = [p.signing_key.0, p.comm_key];
        if let Some(other) =
            publics[..position].iter().find(|q| keys.contains(&q.signing_key.0) || keys.contains(&q.comm_key))
        {
            return Err(DkgError::DuplicateKey { index: p.index, other: other.index });
        }
        if p.signing_key.0 == p.comm_key {
            return Err(DkgError::DuplicateKey { index: p.index, other: p.index });
        }
    }
    Ok(())
}

/// A key-holder's share `x_l` of the election secret (`docs/protocol/06-dkg.md` §Result).
/// Zeroized on drop, redacted in `Debug`, compared in constant time.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct KeyShare {
    #[zeroize(skip)]
    index: u32,
    secret: Scalar,
}

impl KeyShare {
    /// Wraps a share. Zero is rejected (its verification key would be the identity).
    pub fn new(index: u32, secret: Scalar) -> Result<Self, DecodeError> {
        if index == 0 {
            return Err(DecodeError::Structure("key-holder index 0".into()));
        }
        if secret == Scalar::ZERO {
            return Err(DecodeError::ZeroScalar);
        }
        Ok(Self { index, secret })
    }

    /// Decodes a share stored with [`KeyShare::secret_bytes`].
    pub fn from_secret_bytes(index: u32, bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::new(index, decode_scalar(bytes)?)
    }

    /// The key-holder's index `l`.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The canonical encoding of `x_l`, for storage encrypted under the key-holder's passphrase.
    pub fn secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.secret.to_bytes())
    }

    /// The verification key `VK_l = x_l·G`.
    pub fn verification_key(&self) -> GroupElement {
        GroupElement::from_nonzero_multiple(mul_base(&self.secret))
    }

    pub(crate) fn secret(&self) -> &Scalar {
        &self.secret
    }
}

impl fmt::Debug for KeyShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyShare(index={}, secret=<redacted>)", self.index)
    }
}

impl ConstantTimeEq for KeyShare {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        self.index.ct_eq(&other.index) & self.secret.ct_eq(&other.secret)
    }
}

/// The Lagrange coefficients at 0 for distinct non-zero indices `S`
/// (`docs/protocol/07-threshold.md` §Lagrange): `λ_l = Π_{m∈S, m≠l} m / (m − l)`, in the order
/// of `indices`. Errors on a zero or repeated index.
pub fn lagrange_at_zero(indices: &[u32]) -> Result<Vec<Scalar>, DecodeError> {
    let mut out = Vec::with_capacity(indices.len());
    for (k, &l) in indices.iter().enumerate() {
        if l == 0 {
            return Err(DecodeError::Structure("index 0 in Lagrange interpolation".into()));
        }
        if indices[..k].contains(&l) {
            return Err(DecodeError::Structure(format!("index {l} repeated in Lagrange interpolation")));
        }
        let (mut num, mut den) = (Scalar::ONE, Scalar::ONE);
        let xl = Scalar::from(l);
        for &m in indices.iter().filter(|&&m| m != l) {
            let xm = Scalar::from(m);
            num *= xm;
            den *= xm - xl;
        }
        // den ≠ 0: the indices are distinct and below ℓ.
        out.push(num * den.invert());
    }
    Ok(out)
}

/// A protocol transcript with its domain separator followed by `context` (the base context for
/// the ceremony, the extended context for decryption): every threshold transcript starts so.
pub(crate) fn transcript_with_context(domain: &'static [u8], context: &[u8; 32]) -> Transcript {
    let mut t = Transcript::protocol(domain);
    t.append_message(labels::L_CONTEXT, context);
    t
}

/// `Σ_j x^j·P_j` for the index `x` (the Feldman evaluation "in the exponent").
pub(crate) fn eval_in_exponent<'a, I>(x: u32, points: I) -> RistrettoPoint
where
    I: IntoIterator<Item = &'a RistrettoPoint>,
    I::IntoIter: DoubleEndedIterator,
{
    // Horner from the highest coefficient: ((P_{t−1}·x + P_{t−2})·x + …)·x + P_0.
    let xs = Scalar::from(x);
    let mut acc = RistrettoPoint::default();
    for p in points.into_iter().rev() {
        acc = acc * xs + p;
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn parameters_require_t_below_n() {
        assert!(Parameters::new(5, 3).is_ok());
        assert!(Parameters::new(2, 1).is_ok());
        assert_eq!(Parameters::new(3, 3), Err(DkgError::Parameters { n: 3, t: 3 }));
        assert!(Parameters::new(3, 0).is_err());
        assert!(Parameters::new(256, 3).is_err());
        let p: Parameters = serde_json::from_str(r#"{"n":5,"t":3}"#).unwrap();
        assert_eq!((p.n(), p.t()), (5, 3));
        assert!(serde_json::from_str::<Parameters>(r#"{"n":3,"t":3}"#).is_err());
        assert!(serde_json::from_str::<Parameters>(r#"{"n":5,"t":3,"x":1}"#).is_err());
        assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"n":5,"t":3}"#);
        assert!(p.check_index("dealer", 0).is_err());
        assert!(p.check_index("dealer", 6).is_err());
        assert!(p.check_index("dealer", 5).is_ok());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        /// Shamir shares of a random polynomial of degree t−1 recombine from any t of n.
        #[test]
        fn lagrange_recombines_any_t_subset(seed: u64, n in 2u32..8, t_off in 0u32..6, mask: u8) {
            let t = 1 + t_off % (n - 1);
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let coeffs: Vec<Scalar> = (0..t).map(|_| crate::group::random_scalar(&mut rng)).collect();
            let f = |x: u32| coeffs.iter().rev().fold(Scalar::ZERO, |acc, a| acc * Scalar::from(x) + a);
            // A subset of size t chosen by rotating 1..=n.
            let start = u32::from(mask) % n;
            let subset: Vec<u32> = (0..t).map(|k| (start + k) % n + 1).collect();
            let lambdas = lagrange_at_zero(&subset).unwrap();
            let secret: Scalar = subset.iter().zip(&lambdas).map(|(&l, lam)| lam * f(l)).sum();
            prop_assert_eq!(secret, coeffs[0]);
        }
    }

    #[test]
    fn lagrange_rejects_bad_indices() {
        assert!(lagrange_at_zero(&[1, 2, 1]).is_err());
        assert!(lagrange_at_zero(&[0, 2]).is_err());
        assert_eq!(lagrange_at_zero(&[3]).unwrap(), vec![Scalar::ONE]);
    }

    #[test]
    fn keys_roundtrip_and_redact() {
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let k = KeyHolderKeys::generate(&mut rng);
        let k2 = KeyHolderKeys::from_bytes(k.to_bytes().as_ref()).unwrap();
        assert_eq!(k.public(2), k2.public(2));
        assert!(KeyHolderKeys::from_bytes(&[0u8; 64]).is_err());
        assert!(KeyHolderKeys::from_bytes(&[1u8; 63]).is_err());
        let dbg = format!("{k:?}");
        assert!(dbg.contains("redacted") && !dbg.contains(&hex::encode(k.comm_secret().as_bytes())));
        let p = k.public(1);
        assert_eq!(p.signing_fingerprint().len(), 24);
        assert_ne!(p.signing_fingerprint(), p.comm_fingerprint());
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<KeyHolderPublic>(&json).unwrap(), p);

        let share = KeyShare::new(3, Scalar::from(7u64)).unwrap();
        assert_eq!(format!("{share:?}"), "KeyShare(index=3, secret=<redacted>)");
        let again = KeyShare::from_secret_bytes(3, share.secret_bytes().as_ref()).unwrap();
        assert!(bool::from(share.ct_eq(&again)));
        assert!(KeyShare::new(3, Scalar::ZERO).is_err());
        assert!(KeyShare::new(0, Scalar::ONE).is_err());
    }

    #[test]
    fn key_holder_list_is_checked() {
        let mut rng = ChaCha20Rng::seed_from_u64(12);
        let params = Parameters::new(3, 2).unwrap();
        let keys: Vec<KeyHolderKeys> = (0..3).map(|_| KeyHolderKeys::generate(&mut rng)).collect();
        let publics: Vec<KeyHolderPublic> = keys.iter().zip(1u32..).map(|(k, i)| k.public(i)).collect();
        check_key_holders(&params, &publics).unwrap();
        assert!(matches!(check_key_holders(&params, &publics[..2]), Err(DkgError::WrongCount { .. })));
        let mut swapped = publics.clone();
        swapped.swap(0, 1);
        assert!(matches!(check_key_holders(&params, &swapped), Err(DkgError::KeyHolderOrder { .. })));
        let mut dup = publics.clone();
        dup[2].comm_key = dup[0].comm_key;
        assert_eq!(check_key_holders(&params, &dup), Err(DkgError::DuplicateKey { index: 3, other: 1 }));
    }
}
