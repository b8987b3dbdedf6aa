//! Commission members' Ed25519 signatures as the server receives and stores them (hex text):
//! one parser for request fields and one for stored rows, used by the credential-list and the
//! protocol signatures.

use dobush_crypto::election_protocol::MemberSignature;

use crate::error::ApiError;

/// Parses a request field of exactly `N` bytes as lowercase hex, naming the field on error.
pub fn hex_field<const N: usize>(field: &str, s: &str) -> Result<[u8; N], ApiError> {
    let mut out = [0u8; N];
    if s.len() != 2 * N || s.bytes().any(|b| !matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(ApiError::invalid(field, format!("must be {} lowercase hex digits", 2 * N)));
    }
    hex::decode_to_slice(s, &mut out).map_err(|e| ApiError::invalid(field, e.to_string()))?;
    Ok(out)
}

/// A stored signature row `(member, public key hex, signature hex)`; a row that does not decode
/// is a corrupt database, not a user error.
pub fn from_row(member: String, public_key: &str, signature: &str) -> Result<MemberSignature, ApiError> {
    let corrupt = |_| ApiError::Unexpected(anyhow::anyhow!("a stored member signature of {member:?} does not decode"));
    let mut pk = [0u8; 32];
    let mut sig = [0u8; 64];
    hex::decode_to_slice(public_key, &mut pk).map_err(corrupt)?;
    hex::decode_to_slice(signature, &mut sig).map_err(corrupt)?;
    Ok(MemberSignature { member, public_key: pk, signature: sig })
}
