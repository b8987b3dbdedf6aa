//! The one extension trait over `merlin::Transcript` (`docs/protocol/02-transcripts.md`).
//!
//! Rule F1: every proof appends its domain separator, the election context, the complete
//! statement, and only then its commitments; the challenge is drawn after all of them.

use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;

use crate::group::GroupElement;
use crate::labels;

/// Protocol operations on a Merlin transcript.
pub trait TranscriptProtocol {
    /// A fresh protocol transcript (`Transcript::new(b"dobush/v1")`) with a domain separator.
    fn protocol(domain: &'static [u8]) -> Self;
    /// Appends a domain separator: `append_message(labels::DOM_SEP, domain)`.
    fn domain_sep(&mut self, domain: &'static [u8]);
    /// Appends the canonical 32-byte encoding of a point.
    fn append_element(&mut self, label: &'static [u8], p: &GroupElement);
    /// Appends the canonical 32-byte encoding of a scalar.
    fn append_scalar(&mut self, label: &'static [u8], s: &Scalar);
    /// Appends a UTF-8 string.
    fn append_str(&mut self, label: &'static [u8], s: &str);
    /// Draws a challenge scalar: 64 challenge bytes reduced mod ℓ.
    fn challenge_scalar(&mut self, label: &'static [u8]) -> Scalar;
    /// Draws a 32-byte hash.
    fn challenge_32(&mut self, label: &'static [u8]) -> [u8; 32];
}

impl TranscriptProtocol for Transcript {
    fn protocol(domain: &'static [u8]) -> Self {
        let mut t = Transcript::new(labels::TRANSCRIPT);
        t.domain_sep(domain);
        t
    }

    fn domain_sep(&mut self, domain: &'static [u8]) {
        self.append_message(labels::DOM_SEP, domain);
    }

    fn append_element(&mut self, label: &'static [u8], p: &GroupElement) {
        self.append_message(label, p.as_bytes());
    }

    fn append_scalar(&mut self, label: &'static [u8], s: &Scalar) {
        self.append_message(label, s.as_bytes());
    }

    fn append_str(&mut self, label: &'static [u8], s: &str) {
        self.append_message(label, s.as_bytes());
    }

    fn challenge_scalar(&mut self, label: &'static [u8]) -> Scalar {
        let mut buf = [0u8; 64];
        self.challenge_bytes(label, &mut buf);
        Scalar::from_bytes_mod_order_wide(&buf)
    }

    fn challenge_32(&mut self, label: &'static [u8]) -> [u8; 32] {
        let mut buf = [0u8; 32];
        self.challenge_bytes(label, &mut buf);
        buf
    }
}
