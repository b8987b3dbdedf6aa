//! Voter-held credentials (`docs/protocol/09-credentials.md`).
//!
//! The voter's device draws a 16-byte seed; the credential's secret is
//! `x = SHA-512(CREDENTIAL_SEED ‖ seed) mod ℓ` (wide reduction) and its public key `X = x·G`.
//! The recovery code is the seed plus a 2-byte checksum `SHA-512(CREDENTIAL_SEED ‖ "check" ‖ seed)[..2]`,
//! 18 bytes written in Crockford base32 (29 symbols) in groups of four, so the voter can restore
//! the credential on another device.

use curve25519_dalek::scalar::Scalar;
use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha512};
use zeroize::{Zeroize, Zeroizing};

use crate::error::DecodeError;
use crate::labels;
use crate::signature::{SigningKey, VerifyingKey, fingerprint};

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A voter credential: the signing key and the seed it came from.
pub struct Credential {
    seed: Zeroizing<[u8; 16]>,
    key: SigningKey,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credential(public={}, secret=<redacted>)", self.key.verifying_key().0.to_hex())
    }
}

fn derive(seed: &[u8; 16]) -> Result<SigningKey, DecodeError> {
    let mut h = Sha512::new();
    h.update(labels::CREDENTIAL_SEED);
    h.update(seed);
    let mut wide: [u8; 64] = h.finalize().into();
    let x = Scalar::from_bytes_mod_order_wide(&wide);
    wide.zeroize();
    SigningKey::from_scalar(x)
}

fn checksum(seed: &[u8; 16]) -> [u8; 2] {
    let mut h = Sha512::new();
    h.update(labels::CREDENTIAL_SEED);
    h.update(b"check");
    h.update(seed);
    let d = h.finalize();
    [d[0], d[1]]
}

impl Credential {
    /// A new credential. Draws 16 bytes from `rng`.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Result<Self, DecodeError> {
        let mut seed = Zeroizing::new([0u8; 16]);
        rng.fill_bytes(seed.as_mut());
        Self::from_seed(&seed)
    }

    /// The credential for a seed.
    pub fn from_seed(seed: &[u8; 16]) -> Result<Self, DecodeError> {
        Ok(Self { seed: Zeroizing::new(*seed), key: derive(seed)? })
    }

    /// The signing key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// The public credential registered with the application.
    pub fn public(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The short fingerprint shown to the voter.
    pub fn fingerprint(&self) -> String {
        fingerprint("credential", &self.public().0)
    }

    /// The recovery code: 29 Crockford base32 symbols in groups of four, joined by `-`.
    pub fn recovery_code(&self) -> Zeroizing<String> {
        let mut bytes = Zeroizing::new([0u8; 18]);
        bytes[..16].copy_from_slice(self.seed.as_ref());
        bytes[16..].copy_from_slice(&checksum(&self.seed));
        let mut symbols = Zeroizing::new(String::with_capacity(36));
        let (mut acc, mut bits) = (0u32, 0u32);
        for &b in bytes.iter() {
            acc = (acc << 8) | u32::from(b);
            bits += 8;
            while bits >= 5 {
                bits -= 5;
                symbols.push(char::from(ALPHABET[((acc >> bits) & 31) as usize]));
            }
        }
        if bits > 0 {
            symbols.push(char::from(ALPHABET[((acc << (5 - bits)) & 31) as usize]));
        }
        acc.zeroize();
        let mut out = Zeroizing::new(String::with_capacity(40));
        for (i, ch) in symbols.chars().enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push('-');
            }
            out.push(ch);
        }
        out
    }

    /// Restores a credential from its recovery code. Case-insensitive; `-` and spaces are
    /// ignored; `I`/`L` read as `1` and `O` as `0`. A wrong checksum is an error.
    pub fn from_recovery_code(code: &str) -> Result<Self, DecodeError> {
        let mut bytes = Zeroizing::new(Vec::with_capacity(18));
        let (mut acc, mut bits, mut count) = (0u32, 0u32, 0usize);
        for ch in code.chars().filter(|c| *c != '-' && !c.is_whitespace()) {
            let up = match ch.to_ascii_uppercase() {
                'I' | 'L' => '1',
                'O' => '0',
                c => c,
            };
            let v = ALPHABET
                .iter()
                .position(|&a| char::from(a) == up)
                .ok_or_else(|| DecodeError::Structure(format!("recovery code: invalid symbol {ch:?}")))?;
            acc = ((acc << 5) | v as u32) & 0xffff;
            bits += 5;
            count += 1;
            if bits >= 8 {
                bits -= 8;
                bytes.push((acc >> bits) as u8);
            }
        }
        acc.zeroize();
        if count != 29 || bytes.len() != 18 {
            return Err(DecodeError::Structure("recovery code: must have 29 symbols".into()));
        }
        let mut seed = Zeroizing::new([0u8; 16]);
        seed.copy_from_slice(&bytes[..16]);
        if checksum(&seed)[..] != bytes[16..18] {
            return Err(DecodeError::Structure("recovery code: checksum does not match (typo?)".into()));
        }
        Self::from_seed(&seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn recovery_code_roundtrip_and_typos() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        for _ in 0..20 {
            let c = Credential::generate(&mut rng).unwrap();
            let code = c.recovery_code();
            assert_eq!(code.len(), 29 + 7);
            let back = Credential::from_recovery_code(&code).unwrap();
            assert_eq!(back.public(), c.public());
            let lower = code.to_lowercase().replace('-', " ");
            assert_eq!(Credential::from_recovery_code(&lower).unwrap().public(), c.public());
            // One changed symbol is caught by the checksum (or decodes to another length).
            let mut typo: Vec<char> = code.chars().collect();
            typo[2] = if typo[2] == 'A' { 'B' } else { 'A' };
            let typo: String = typo.into_iter().collect();
            if let Ok(t) = Credential::from_recovery_code(&typo) {
                // The 16-bit checksum lets 1 in 65536 typos through; then the key differs.
                assert_ne!(t.public(), c.public());
            }
        }
        assert!(Credential::from_recovery_code("0000").is_err());
        assert!(Credential::from_recovery_code("UUUU-UUUU").is_err());
    }
}
