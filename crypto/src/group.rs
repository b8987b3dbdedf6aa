//! The group Ristretto255, its canonical encodings and the published generators.
//!
//! Implements `docs/protocol/01-group.md`. Every point that comes from outside goes through
//! [`GroupElement::from_bytes`], which accepts only canonical encodings and rejects the
//! identity; every scalar goes through [`decode_scalar`], which accepts only values below ℓ.

use std::fmt;

use curve25519_dalek::constants::{RISTRETTO_BASEPOINT_POINT, RISTRETTO_BASEPOINT_TABLE};
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Sha512;

use crate::error::DecodeError;
use crate::labels;

/// A point of Ristretto255 that is not the identity, kept together with its canonical
/// 32-byte encoding, so that it is decompressed and compressed at most once.
#[derive(Clone, Copy)]
pub struct GroupElement {
    point: RistrettoPoint,
    bytes: [u8; 32],
}

impl GroupElement {
    /// Wraps a point computed locally. Returns an error for the identity.
    pub fn from_point(point: RistrettoPoint) -> Result<Self, DecodeError> {
        if point == RistrettoPoint::identity() {
            return Err(DecodeError::Identity);
        }
        Ok(Self { point, bytes: point.compress().to_bytes() })
    }

    /// Wraps `x·G` (or `x·P` for a non-identity `P`) for a scalar `x` known to be non-zero:
    /// in a group of prime order such a point is never the identity, so no check is needed.
    pub(crate) fn from_nonzero_multiple(point: RistrettoPoint) -> Self {
        Self { point, bytes: point.compress().to_bytes() }
    }

    /// Decodes a canonical encoding, rejecting invalid encodings and the identity
    /// (`docs/protocol/01-group.md` §Encodings, rule E1).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let arr: [u8; 32] = bytes.try_into().map_err(|_| DecodeError::Length { expected: 32, actual: bytes.len() })?;
        let point = CompressedRistretto(arr).decompress().ok_or(DecodeError::InvalidPoint)?;
        if point == RistrettoPoint::identity() {
            return Err(DecodeError::Identity);
        }
        Ok(Self { point, bytes: arr })
    }

    /// Decodes a hex string (64 hex digits).
    pub fn from_hex(s: &str) -> Result<Self, DecodeError> {
        Self::from_bytes(&decode_hex_32(s)?)
    }

    /// The point.
    pub fn point(&self) -> &RistrettoPoint {
        &self.point
    }

    /// The canonical encoding.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// Lowercase hex of the canonical encoding.
    pub fn to_hex(&self) -> String {
        hex::encode(self.bytes)
    }
}

impl PartialEq for GroupElement {
    fn eq(&self, other: &Self) -> bool {
        // Canonical encodings are unique, so comparing bytes compares points.
        self.bytes == other.bytes
    }
}
impl Eq for GroupElement {}

impl std::hash::Hash for GroupElement {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.bytes.hash(state)
    }
}

impl fmt::Debug for GroupElement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GroupElement({})", self.to_hex())
    }
}

impl Serialize for GroupElement {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for GroupElement {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

/// Decodes lowercase hex only (the one canonical spelling, rule E3).
pub fn decode_hex(s: &str) -> Result<Vec<u8>, DecodeError> {
    if !s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(DecodeError::Hex);
    }
    hex::decode(s).map_err(|_| DecodeError::Hex)
}

/// Decodes 64 lowercase hex digits into 32 bytes.
pub fn decode_hex_32(s: &str) -> Result<[u8; 32], DecodeError> {
    let v = decode_hex(s)?;
    v.as_slice().try_into().map_err(|_| DecodeError::Length { expected: 32, actual: v.len() })
}

/// Decodes a point for callers outside this crate (the server validates credentials with it).
pub fn decode_point(bytes: &[u8]) -> Result<RistrettoPoint, DecodeError> {
    GroupElement::from_bytes(bytes).map(|e| e.point)
}

/// Decodes a canonical scalar (rule E2: the little-endian value must be below ℓ).
pub fn decode_scalar(bytes: &[u8]) -> Result<Scalar, DecodeError> {
    let arr: [u8; 32] = bytes.try_into().map_err(|_| DecodeError::Length { expected: 32, actual: bytes.len() })?;
    Option::from(Scalar::from_canonical_bytes(arr)).ok_or(DecodeError::NonCanonicalScalar)
}

/// Serde helpers for scalars as 64 lowercase hex digits, decoded canonically.
pub mod scalar_hex {
    use super::*;

    /// Serializes a scalar as hex.
    pub fn serialize<S: Serializer>(x: &Scalar, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(x.as_bytes()))
    }

    /// Deserializes a canonical scalar from hex.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let b = decode_hex_32(&s).map_err(serde::de::Error::custom)?;
        decode_scalar(&b).map_err(serde::de::Error::custom)
    }
}

/// Serde helpers for a list of scalars as hex strings.
pub mod scalar_vec_hex {
    use super::*;

    /// Serializes scalars as hex strings.
    pub fn serialize<S: Serializer>(xs: &[Scalar], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(xs.iter().map(|x| hex::encode(x.as_bytes())))
    }

    /// Deserializes canonical scalars from hex strings.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Scalar>, D::Error> {
        let v = Vec::<String>::deserialize(d)?;
        v.iter()
            .map(|s| {
                let b = decode_hex_32(s).map_err(serde::de::Error::custom)?;
                decode_scalar(&b).map_err(serde::de::Error::custom)
            })
            .collect()
    }
}

/// Serde helpers for fixed 32-byte and 16-byte values as hex.
pub mod bytes_hex {
    use super::*;

    /// Serializes bytes as lowercase hex.
    pub fn serialize<S: Serializer, const N: usize>(x: &[u8; N], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(x))
    }

    /// Deserializes exactly `N` bytes from hex.
    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(d: D) -> Result<[u8; N], D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let v = decode_hex(&s).map_err(serde::de::Error::custom)?;
        let len = v.len();
        v.try_into().map_err(|_| serde::de::Error::custom(DecodeError::Length { expected: N, actual: len }))
    }
}

/// The standard Ristretto255 basepoint `G`.
pub fn generator_g() -> RistrettoPoint {
    RISTRETTO_BASEPOINT_POINT
}

/// `x·G` using the precomputed basepoint table.
pub fn mul_base(x: &Scalar) -> RistrettoPoint {
    x * RISTRETTO_BASEPOINT_TABLE
}

/// Hash-to-group from a published label: `RistrettoPoint::hash_from_bytes::<Sha512>(label)`
/// (Elligator on the 64-byte SHA-512 digest, `docs/protocol/01-group.md` §Generators).
pub fn hash_to_group(label: &[u8]) -> RistrettoPoint {
    RistrettoPoint::hash_from_bytes::<Sha512>(label)
}

/// The Pedersen blinding generator `H`, derived from [`labels::GENERATOR_H`]. Nobody knows
/// `log_G(H)`; in particular it is NOT the election key (see `docs/protocol/05-range.md`).
pub fn generator_h() -> RistrettoPoint {
    hash_to_group(labels::GENERATOR_H)
}

/// A uniformly random scalar: 64 bytes from `rng`, reduced mod ℓ (rule R1).
pub fn random_scalar<R: RngCore + CryptoRng>(rng: &mut R) -> Scalar {
    let mut wide = [0u8; 64];
    rng.fill_bytes(&mut wide);
    let s = Scalar::from_bytes_mod_order_wide(&wide);
    zeroize::Zeroize::zeroize(&mut wide);
    s
}

/// A uniformly random non-zero scalar, for secret keys.
pub fn random_nonzero_scalar<R: RngCore + CryptoRng>(rng: &mut R) -> Scalar {
    loop {
        let s = random_scalar(rng);
        if s != Scalar::ZERO {
            return s;
        }
    }
}

/// `v·G` for a small non-negative integer (plaintexts, counts, bounds).
pub fn small_mul_base(v: u64) -> RistrettoPoint {
    mul_base(&Scalar::from(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_identity_and_noncanonical() {
        assert_eq!(GroupElement::from_bytes(&[0u8; 32]), Err(DecodeError::Identity));
        // The field element p (2^255-19) is not canonical.
        let mut p = [0xffu8; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        assert_eq!(GroupElement::from_bytes(&p), Err(DecodeError::InvalidPoint));
        assert!(GroupElement::from_bytes(&[1u8; 31]).is_err());
        let g = GroupElement::from_point(generator_g()).unwrap();
        assert_eq!(GroupElement::from_bytes(g.as_bytes()).unwrap(), g);
        // A negative field element (odd low bit) is rejected by Ristretto decoding.
        let mut neg = *g.as_bytes();
        neg[0] |= 1;
        assert!(GroupElement::from_bytes(&neg).is_err());
    }

    #[test]
    fn scalar_must_be_canonical() {
        // ℓ = 2^252 + 27742317777372353535851937790883648493, little-endian.
        let l_bytes: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        assert_eq!(decode_scalar(&l_bytes), Err(DecodeError::NonCanonicalScalar));
        assert_eq!(decode_scalar(&[0xff; 32]), Err(DecodeError::NonCanonicalScalar));
        assert!(decode_scalar(&Scalar::ONE.to_bytes()).is_ok());
    }

    #[test]
    fn h_is_fixed_and_independent_of_g() {
        let h = generator_h();
        assert_ne!(h, generator_g());
        assert_eq!(h, hash_to_group(b"dobush/v1/generator/H"));
    }
}
