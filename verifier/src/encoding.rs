//! Strict decoding of the record's encodings (`01-group.md` §Encodings): hex, canonical
//! Ristretto255 points that are not the identity, canonical scalars.

use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use serde_json::Value;

/// A decoding failure, with a description of what and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Result of decoding.
pub type Decoded<T> = Result<T, Invalid>;

/// A decoded point with its canonical encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Point {
    /// The point.
    pub p: RistrettoPoint,
    /// Its 32-byte encoding as read.
    pub bytes: [u8; 32],
}

fn invalid<T>(what: &str, why: &str) -> Decoded<T> {
    Err(Invalid(format!("{what}: {why}")))
}

/// Exactly `N` bytes of lowercase hex (the one canonical spelling).
pub fn hex_n<const N: usize>(v: &Value, what: &str) -> Decoded<[u8; N]> {
    let Some(s) = v.as_str() else { return invalid(what, "expected a hex string") };
    if !s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return invalid(what, "not lowercase hex");
    }
    let Ok(b) = hex::decode(s) else { return invalid(what, "not hex") };
    let len = b.len();
    b.try_into().map_err(|_| Invalid(format!("{what}: expected {N} bytes, got {len}")))
}

/// A point: canonical encoding, not the identity (rule E1).
pub fn point(v: &Value, what: &str) -> Decoded<Point> {
    let bytes = hex_n::<32>(v, what)?;
    let Some(p) = CompressedRistretto(bytes).decompress() else {
        return invalid(what, "not a canonical Ristretto255 encoding");
    };
    if p.is_identity() {
        return invalid(what, "the identity point");
    }
    Ok(Point { p, bytes })
}

/// A scalar: canonical, below ℓ (rule E2).
pub fn scalar(v: &Value, what: &str) -> Decoded<Scalar> {
    let bytes = hex_n::<32>(v, what)?;
    Option::from(Scalar::from_canonical_bytes(bytes)).ok_or_else(|| Invalid(format!("{what}: not a canonical scalar")))
}

/// A field that must exist.
pub fn field<'a>(v: &'a Value, name: &str, what: &str) -> Decoded<&'a Value> {
    v.get(name).ok_or_else(|| Invalid(format!("{what}: missing field {name:?}")))
}

/// A string field.
pub fn string(v: &Value, name: &str, what: &str) -> Decoded<String> {
    field(v, name, what)?
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| Invalid(format!("{what}: {name:?} must be a string")))
}

/// An unsigned integer field.
pub fn uint(v: &Value, name: &str, what: &str) -> Decoded<u64> {
    field(v, name, what)?.as_u64().ok_or_else(|| Invalid(format!("{what}: {name:?} must be an unsigned integer")))
}

/// A boolean field.
pub fn boolean(v: &Value, name: &str, what: &str) -> Decoded<bool> {
    field(v, name, what)?.as_bool().ok_or_else(|| Invalid(format!("{what}: {name:?} must be a boolean")))
}

/// An array field.
pub fn array<'a>(v: &'a Value, name: &str, what: &str) -> Decoded<&'a Vec<Value>> {
    field(v, name, what)?.as_array().ok_or_else(|| Invalid(format!("{what}: {name:?} must be an array")))
}

/// An object with no fields other than `allowed` (strict decoding: unknown fields rejected).
pub fn exact<'a>(v: &'a Value, allowed: &[&str], what: &str) -> Decoded<&'a serde_json::Map<String, Value>> {
    let Some(o) = v.as_object() else { return invalid(what, "expected an object") };
    if let Some(k) = o.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(Invalid(format!("{what}: unknown field {k:?}")));
    }
    Ok(o)
}

/// An unsigned integer field that fits in 32 bits (`u32` in the record format).
pub fn uint32(v: &Value, name: &str, what: &str) -> Decoded<u64> {
    let x = uint(v, name, what)?;
    if x > u64::from(u32::MAX) {
        return Err(Invalid(format!("{what}: {name:?} exceeds 2^32 - 1")));
    }
    Ok(x)
}
