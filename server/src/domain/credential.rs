//! The voter's public credential (docs/protocol/09-credentials.md): a Ristretto255 point made on
//! the voter's device.

/// A canonical, non-identity Ristretto255 point, kept as its 32-byte encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicCredential([u8; 32]);

impl PublicCredential {
    /// Parses 64 hex digits of a canonical Ristretto255 encoding.
    pub fn parse_hex(s: &str) -> Result<Self, String> {
        if s.len() != 64 {
            return Err(format!("must be 64 hex digits (32 bytes), got {} characters", s.len()));
        }
        let bytes = hex::decode(s).map_err(|_| "must be hexadecimal".to_string())?;
        let arr: [u8; 32] = bytes.as_slice().try_into().map_err(|_| "must be 32 bytes".to_string())?;
        // The single point where the server checks a credential's group encoding.
        dobush_crypto::group::decode_point(&arr).map_err(|e| format!("not a valid credential: {e}"))?;
        Ok(Self(arr))
    }

    /// Lowercase hex, as stored and published.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The raw encoding.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The short fingerprint the voter compares with the published list and their app
    /// (`dobush_crypto::signature::fingerprint("credential", key)`).
    pub fn fingerprint(&self) -> String {
        fingerprint_of_hex(&self.to_hex())
    }
}

/// The fingerprint of a stored (already validated) hex credential; `"invalid"` if it does not decode.
pub fn fingerprint_of_hex(hex_key: &str) -> String {
    match dobush_crypto::group::GroupElement::from_hex(hex_key) {
        Ok(key) => dobush_crypto::signature::fingerprint("credential", &key),
        Err(_) => "invalid".into(),
    }
}

/// 32 bytes from exactly 64 hex digits (a PIN commitment, a salt, a nonce), or 422 naming
/// `field`.
pub fn hex32(field: &str, s: &str) -> Result<[u8; 32], crate::error::ApiError> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out)
        .map_err(|_| crate::error::ApiError::invalid(field, "must be 64 hex digits (32 bytes)"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2·G in ristretto255 (RFC 9496 test vector).
    const TWO_G: &str = "6a493210f7499cd17fecb510ae0cea23a110e8d5b901f8acadd3095c73a3b919";

    #[test]
    fn parses_points_and_refuses_junk() {
        let c = PublicCredential::parse_hex(TWO_G).unwrap();
        assert_eq!(c.to_hex(), TWO_G);
        assert_eq!(c.fingerprint().len(), 24);
        assert!(PublicCredential::parse_hex(&"00".repeat(32)).is_err(), "identity");
        assert!(PublicCredential::parse_hex(&"ff".repeat(32)).is_err(), "not canonical");
        assert!(PublicCredential::parse_hex("zz").is_err());
        assert!(PublicCredential::parse_hex(&"g".repeat(64)).is_err());
    }
}
