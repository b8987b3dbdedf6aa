//! The PIN commitment and the registration binding (`docs/protocol/13-revoting.md` §3.3).
//!
//! At every application (and re-application, replacement) the device draws a 32-byte salt,
//! computes `pc = SHA-256("dobush/v2/pin-commitment" ‖ salt ‖ utf8(PIN))`, which is published
//! with X, and signs with the credential the binding
//!
//! ```text
//! T ← new("registration-binding")
//! T.msg("context", base_hash); T.msg("campaign", utf8(campaign_id))
//! T.msg("pin", utf8(PIN)); T.msg("salt", salt); T.msg("style", utf8(style id))
//! T.msg("decision", utf8(decision))          always; "" at application
//! T.point("credential", X)
//! binding = Sign_x(T)                        04-proofs.md §Signatures
//! ```
//!
//! A binding is checked against the *published* pc, so a binding made later for another PIN,
//! or by a credential that was never that voter's, does not match.

use std::fmt;

use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use thiserror::Error;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::ProofError;
use crate::labels;
use crate::signature::{Signature, SigningKey, VerifyingKey};
use crate::transcript::TranscriptProtocol;

/// The number of ASCII digits of a personal identification number (PIN).
pub const PIN_DIGITS: usize = 14;

/// What is wrong with a registration binding or its inputs.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RegistrationError {
    /// The PIN is not exactly 14 ASCII digits.
    #[error("a PIN is exactly 14 ASCII digits")]
    Pin,
    /// The salt and PIN do not give the published PIN commitment.
    #[error("the PIN and salt do not match the published PIN commitment")]
    PinCommitment,
    /// The signing key is not the binding's credential.
    #[error("the signing key is not the credential being bound")]
    WrongKey,
    /// The credential's signature over the binding failed.
    #[error("registration binding signature: {0}")]
    Signature(ProofError),
}

/// A personal identification number: exactly 14 ASCII digits, nothing else (no spaces, no
/// other digits of Unicode). Zeroized on drop and redacted in `Debug`: the server never
/// publishes it.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Pin(String);

impl Pin {
    /// Parses a PIN; refuses anything but 14 ASCII digits.
    pub fn parse(s: &str) -> Result<Self, RegistrationError> {
        if s.len() != PIN_DIGITS || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RegistrationError::Pin);
        }
        Ok(Self(s.to_owned()))
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}

/// Draws a fresh 32-byte salt (one `fill_bytes(32)`), at every application, re-application and
/// replacement.
pub fn draw_salt<R: RngCore + CryptoRng>(rng: &mut R) -> [u8; 32] {
    let mut salt = [0u8; 32];
    rng.fill_bytes(&mut salt);
    salt
}

/// `pc = SHA-256("dobush/v2/pin-commitment" ‖ salt ‖ utf8(PIN))` (§3.3). The salt and the PIN
/// have fixed lengths, so the concatenation is unambiguous.
pub fn pin_commitment(salt: &[u8; 32], pin: &Pin) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(labels::PIN_COMMITMENT);
    h.update(salt);
    h.update(pin.as_str().as_bytes());
    h.finalize().into()
}

/// What a registration binding binds: the voter's PIN (with the salt of this application) to
/// the credential X, the campaign and the ballot style, and, for a replacement, the decision.
#[derive(Clone, Copy, Debug)]
pub struct BindingStatement<'a> {
    /// The base hash of the election (02-transcripts.md §Context).
    pub base_hash: &'a [u8; 32],
    /// The campaign id.
    pub campaign: &'a str,
    /// The voter's PIN.
    pub pin: &'a Pin,
    /// This application's salt.
    pub salt: &'a [u8; 32],
    /// The ballot style id.
    pub style: &'a str,
    /// The replacement decision; `""` at application.
    pub decision: &'a str,
    /// The credential X being bound.
    pub credential: &'a VerifyingKey,
}

impl BindingStatement<'_> {
    fn transcript(&self) -> Transcript {
        let mut t = Transcript::protocol(labels::DS_REGISTRATION_BINDING);
        t.append_message(labels::L_CONTEXT, self.base_hash);
        t.append_str(labels::L_CAMPAIGN, self.campaign);
        t.append_str(labels::L_PIN, self.pin.as_str());
        t.append_message(labels::L_SALT, self.salt);
        t.append_str(labels::L_STYLE, self.style);
        t.append_str(labels::L_DECISION, self.decision);
        t.append_element(labels::L_CREDENTIAL, &self.credential.0);
        t
    }

    /// The PIN commitment of this statement's salt and PIN.
    pub fn pin_commitment(&self) -> [u8; 32] {
        pin_commitment(self.salt, self.pin)
    }
}

/// Signs the binding with the credential it binds. Draws 32 bytes (the signature's hedge).
pub fn sign_binding<R: RngCore + CryptoRng>(
    st: &BindingStatement<'_>,
    key: &SigningKey,
    rng: &mut R,
) -> Result<Signature, RegistrationError> {
    if key.verifying_key() != *st.credential {
        return Err(RegistrationError::WrongKey);
    }
    Ok(key.sign(&mut st.transcript(), rng))
}

/// Checks a binding against the published PIN commitment `pc` of its credential: the salt and
/// PIN give `pc`, and the credential signed exactly this statement.
pub fn verify_binding(
    st: &BindingStatement<'_>,
    binding: &Signature,
    published_pc: &[u8; 32],
) -> Result<(), RegistrationError> {
    if !bool::from(st.pin_commitment().ct_eq(published_pc)) {
        return Err(RegistrationError::PinCommitment);
    }
    st.credential.verify(&mut st.transcript(), binding).map_err(RegistrationError::Signature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn pins_are_exactly_fourteen_ascii_digits() {
        assert!(Pin::parse("21204199500123").is_ok());
        for bad in ["2120419950012", "212041995001234", "2120419950012a", " 1204199500123", "2120419950012٣", ""] {
            assert_eq!(Pin::parse(bad), Err(RegistrationError::Pin), "{bad:?}");
        }
        let pin = Pin::parse("21204199500123").unwrap();
        assert!(!format!("{pin:?}").contains("2120"));
    }

    #[test]
    fn the_pin_commitment_is_the_specified_hash() {
        let pin = Pin::parse("21204199500123").unwrap();
        let salt = [0x11; 32];
        let mut input = b"dobush/v2/pin-commitment".to_vec();
        input.extend_from_slice(&salt);
        input.extend_from_slice(b"21204199500123");
        let want: [u8; 32] = Sha256::digest(&input).into();
        assert_eq!(pin_commitment(&salt, &pin), want);
        assert_ne!(pin_commitment(&[0x12; 32], &pin), want);
        assert_ne!(pin_commitment(&salt, &Pin::parse("21204199500124").unwrap()), want);
    }

    #[test]
    fn a_binding_verifies_only_for_its_own_statement_and_pc() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let key = SigningKey::generate(&mut rng);
        let x = key.verifying_key();
        let pin = Pin::parse("21204199500123").unwrap();
        let salt = draw_salt(&mut rng);
        let st = BindingStatement {
            base_hash: &[3; 32],
            campaign: "2026-local",
            pin: &pin,
            salt: &salt,
            style: "samarkandek",
            decision: "",
            credential: &x,
        };
        let pc = st.pin_commitment();
        let b = sign_binding(&st, &key, &mut rng).unwrap();
        verify_binding(&st, &b, &pc).unwrap();

        let other_pin = Pin::parse("11111111111111").unwrap();
        let other_salt = draw_salt(&mut rng);
        let other_key = SigningKey::generate(&mut rng);
        let other_x = other_key.verifying_key();
        // Another PIN or salt: the pc no longer matches (and with the pc recomputed, the signature).
        for st2 in [BindingStatement { pin: &other_pin, ..st }, BindingStatement { salt: &other_salt, ..st }] {
            assert_eq!(verify_binding(&st2, &b, &pc), Err(RegistrationError::PinCommitment));
            assert!(matches!(verify_binding(&st2, &b, &st2.pin_commitment()), Err(RegistrationError::Signature(_))));
        }
        // Another style, decision, campaign, election or credential.
        for st2 in [
            BindingStatement { style: "other", ..st },
            BindingStatement { decision: "decision 17 of 2026-12-01", ..st },
            BindingStatement { campaign: "2026-other", ..st },
            BindingStatement { base_hash: &[4; 32], ..st },
            BindingStatement { credential: &other_x, ..st },
        ] {
            assert!(matches!(verify_binding(&st2, &b, &pc), Err(RegistrationError::Signature(_))));
        }
        // Another published pc; a forged signature; a key that is not the bound credential.
        assert_eq!(verify_binding(&st, &b, &[0; 32]), Err(RegistrationError::PinCommitment));
        let mut forged = b;
        forged.s += curve25519_dalek::scalar::Scalar::ONE;
        assert!(verify_binding(&st, &forged, &pc).is_err());
        assert_eq!(sign_binding(&st, &other_key, &mut rng), Err(RegistrationError::WrongKey));
        // A replacement's binding carries its decision and verifies with it.
        let st3 = BindingStatement { decision: "decision 17 of 2026-12-01", ..st };
        let b3 = sign_binding(&st3, &key, &mut rng).unwrap();
        verify_binding(&st3, &b3, &pc).unwrap();
        assert!(verify_binding(&st, &b3, &pc).is_err());
    }
}
