//! Merlin transcripts as `02-transcripts.md` prescribes: `Transcript::new(b"dobush/v1")`, a
//! `dom-sep` message, then labelled messages; challenges are 64 bytes reduced mod ℓ.

use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;

/// A protocol transcript with its domain separator.
pub fn new(domain: &'static [u8]) -> Transcript {
    let mut t = Transcript::new(b"dobush/v1");
    t.append_message(b"dom-sep", domain);
    t
}

/// A challenge scalar.
pub fn challenge(t: &mut Transcript, label: &'static [u8]) -> Scalar {
    let mut b = [0u8; 64];
    t.challenge_bytes(label, &mut b);
    Scalar::from_bytes_mod_order_wide(&b)
}

/// A 32-byte hash output.
pub fn hash32(t: &mut Transcript, label: &'static [u8]) -> [u8; 32] {
    let mut b = [0u8; 32];
    t.challenge_bytes(label, &mut b);
    b
}
