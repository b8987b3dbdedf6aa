//! Schnorr signatures over Merlin transcripts (`docs/protocol/04-proofs.md` §Signatures).
//!
//! Used for voter credentials (every ballot is signed) and for key-holders' ceremony messages
//! and decryption shares (07-threshold.md §Share signature).
//! The caller appends the message to the transcript; then
//! `dom-sep "schnorr-signature"`, `signer = X`, nonce `w` from the transcript RNG rekeyed with
//! the secret key and 32 bytes of the caller's RNG (hedged), `R = w·G`, `c = H(… R)`,
//! `s = w + c·x`. Check: `s·G − R − c·X = 0`.

use std::fmt;

use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::{DecodeError, ProofError};
use crate::group::{GroupElement, decode_scalar, mul_base, random_nonzero_scalar, scalar_hex};
use crate::labels;
use crate::proofs::{Equation, EquationSink};
use crate::transcript::TranscriptProtocol;

/// A signing key (voter credential or key-holder signing key). Zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SigningKey {
    secret: Scalar,
    #[zeroize(skip)]
    public: GroupElement,
}

/// A public verification key `X = x·G`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct VerifyingKey(pub GroupElement);

/// A signature `(R, s)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    /// `R = w·G`.
    pub r: GroupElement,
    /// `s = w + c·x`.
    #[serde(with = "scalar_hex")]
    pub s: Scalar,
}

impl Signature {
    /// The 64-byte encoding `R ‖ s`.
    pub fn to_bytes(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(self.r.as_bytes());
        out[32..].copy_from_slice(self.s.as_bytes());
        out
    }
}

impl SigningKey {
    /// A fresh random key.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        Self::from_scalar_unchecked(random_nonzero_scalar(rng))
    }

    fn from_scalar_unchecked(secret: Scalar) -> Self {
        let public = GroupElement::from_nonzero_multiple(mul_base(&secret));
        Self { secret, public }
    }

    /// From a non-zero secret scalar.
    pub fn from_scalar(secret: Scalar) -> Result<Self, DecodeError> {
        if secret == Scalar::ZERO {
            return Err(DecodeError::ZeroScalar);
        }
        Ok(Self::from_scalar_unchecked(secret))
    }

    /// From the 32-byte canonical encoding of the secret scalar.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::from_scalar(decode_scalar(bytes)?)
    }

    /// The secret scalar's encoding, for encrypted storage by the caller.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.secret.to_bytes()
    }

    /// The secret scalar, for the crate's proofs of knowledge of it (13-revoting.md §3.2).
    pub(crate) fn secret(&self) -> &Scalar {
        &self.secret
    }

    /// The public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        VerifyingKey(self.public)
    }

    /// Signs the message already appended to `t`. Draws 32 bytes from `rng`.
    pub fn sign<R: RngCore + CryptoRng>(&self, t: &mut Transcript, rng: &mut R) -> Signature {
        t.domain_sep(labels::DS_SIGNATURE);
        t.append_element(labels::L_SIGNER, &self.public);
        let mut trng =
            t.build_rng().rekey_with_witness_bytes(labels::L_SIGNING_KEY, self.secret.as_bytes()).finalize(rng);
        let w = random_nonzero_scalar(&mut trng);
        let r = GroupElement::from_nonzero_multiple(mul_base(&w));
        t.append_element(labels::L_CAP_R, &r);
        let c = t.challenge_scalar(labels::L_C);
        Signature { r, s: w + c * self.secret }
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey(public={}, secret=<redacted>)", self.public.to_hex())
    }
}

impl VerifyingKey {
    /// Adds the verification equation of `sig` over the message in `t` to `sink`.
    pub fn verify_into<S: EquationSink>(
        &self,
        t: &mut Transcript,
        sig: &Signature,
        sink: &mut S,
    ) -> Result<(), ProofError> {
        t.domain_sep(labels::DS_SIGNATURE);
        t.append_element(labels::L_SIGNER, &self.0);
        t.append_element(labels::L_CAP_R, &sig.r);
        let c = t.challenge_scalar(labels::L_C);
        sink.equation(Equation {
            g: sig.s,
            h: Scalar::ZERO,
            fixed: &[],
            terms: &[(-Scalar::ONE, *sig.r.point()), (-c, *self.0.point())],
        })
    }

    /// Verifies `sig` over the message in `t`.
    pub fn verify(&self, t: &mut Transcript, sig: &Signature) -> Result<(), ProofError> {
        self.verify_into(t, sig, &mut crate::proofs::DirectCheck::default())
    }
}

/// A short fingerprint of a public key for people to compare in person or on screen:
/// [`fingerprint_of_bytes`] of the key's encoding.
pub fn fingerprint(kind: &str, key: &GroupElement) -> String {
    fingerprint_of_bytes(kind, key.as_bytes())
}

/// The fingerprint of public bytes (a key's encoding, or a hash such as the election package's
/// extended hash, kind [`labels::FP_ELECTION_PACKAGE`]) (09-credentials.md §Fingerprint):
/// SHA-512(`FINGERPRINT` ‖ LE64(len(kind)) ‖ kind ‖ bytes) truncated to 10 bytes, as 5 groups of
/// 4 lowercase hex digits joined by `-`.
pub fn fingerprint_of_bytes(kind: &str, bytes: &[u8]) -> String {
    use sha2::{Digest, Sha512};
    let mut h = Sha512::new();
    h.update(labels::FINGERPRINT);
    h.update((kind.len() as u64).to_le_bytes());
    h.update(kind.as_bytes());
    h.update(bytes);
    let d = h.finalize();
    let hexs = hex::encode(&d[..10]);
    hexs.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join("-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn msg(m: &[u8]) -> Transcript {
        let mut t = Transcript::protocol(labels::DS_BALLOT_SIGNATURE);
        t.append_message(labels::L_MESSAGE, m);
        t
    }

    #[test]
    fn sign_verify_and_forgeries() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let k = SigningKey::generate(&mut rng);
        let vk = k.verifying_key();
        let sig = k.sign(&mut msg(b"hello"), &mut rng);
        vk.verify(&mut msg(b"hello"), &sig).unwrap();
        assert!(vk.verify(&mut msg(b"hellp"), &sig).is_err(), "other message");
        let other = SigningKey::generate(&mut rng).verifying_key();
        assert!(other.verify(&mut msg(b"hello"), &sig).is_err(), "other key");
        let mut bad = sig;
        bad.s += Scalar::ONE;
        assert!(vk.verify(&mut msg(b"hello"), &bad).is_err());
        let mut bad = sig;
        bad.r = vk.0;
        assert!(vk.verify(&mut msg(b"hello"), &bad).is_err());
        // Hedged nonces: two signatures of one message differ.
        let sig2 = k.sign(&mut msg(b"hello"), &mut rng);
        assert_ne!(sig.r, sig2.r);
        assert!(format!("{k:?}").contains("redacted"));
        assert_eq!(fingerprint("credential", &vk.0).len(), 24);
    }
}
