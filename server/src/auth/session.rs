//! Session tokens: short-lived EdDSA (Ed25519) JWTs.
//!
//! Only `EdDSA` is accepted (no `alg` confusion: an HS256 token keyed with our public key, or
//! `none`, fails). Expiry is judged by the injected clock, not by the library's system time, so
//! tests can expire a token exactly.
//!
//! A voter's app sends the same token with every request of its session (cabinet, ballot,
//! cast, receipt), so a token whose signature, issuer and audience were checked once is
//! remembered (by its SHA-256, a bounded number of them): later requests redo only the checks
//! that depend on the time. The signature check was ≈ 6 % of the server's CPU per cast
//! (docs/load.md §Less work per cast).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use anyhow::Context;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::configuration::SessionSettings;

/// Audience of session tokens.
pub const AUDIENCE: &str = "dobush-api";

/// The claims of a session token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionClaims {
    /// Issuer (settings `session.issuer`).
    pub iss: String,
    /// Audience, always [`AUDIENCE`].
    pub aud: String,
    /// The PIN.
    pub sub: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// Token id.
    pub jti: String,
    /// CSRF token that cookie-authenticated unsafe requests must echo in `X-CSRF-Token`.
    pub csrf: String,
    /// Set by a demo login: the demo-mode campaign this session is confined to (no staff role,
    /// no other campaign; refused once the configuration disallows demo mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub demo: Option<String>,
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SessionError {
    /// Bad signature, wrong algorithm, issuer or audience, or not a JWT at all.
    #[error("invalid session token")]
    Invalid,
    /// The token has expired.
    #[error("session expired; log in again")]
    Expired,
}

/// Tokens remembered as checked, at most; when full, the memory starts again empty.
const CHECKED_TOKENS: usize = 16_384;

/// The signing key and the rules for session tokens.
pub struct SessionKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    public_key: [u8; 32],
    issuer: String,
    ttl_secs: i64,
    /// Claims of tokens whose signature, issuer and audience were checked, by the token's SHA-256.
    checked: Mutex<HashMap<[u8; 32], SessionClaims>>,
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionKeys").field("public_key", &hex::encode(self.public_key)).finish_non_exhaustive()
    }
}

/// A random URL-safe token of 32 bytes.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

impl SessionKeys {
    /// Loads the key from `signing_key_path`, or makes an ephemeral one.
    pub fn from_settings(s: &SessionSettings) -> anyhow::Result<Self> {
        let key = if s.signing_key_path.is_empty() {
            tracing::warn!("session.signing_key_path is empty: using an ephemeral session key");
            SigningKey::generate(&mut OsRng)
        } else {
            let pem = std::fs::read_to_string(&s.signing_key_path)
                .with_context(|| format!("reading {}", s.signing_key_path))?;
            SigningKey::from_pkcs8_pem(&pem).map_err(|e| anyhow::anyhow!("session signing key: {e}"))?
        };
        Self::new(&key, &s.issuer, s.ttl_secs)
    }

    /// From a key.
    pub fn new(key: &SigningKey, issuer: &str, ttl_secs: i64) -> anyhow::Result<Self> {
        let der = key.to_pkcs8_der().map_err(|e| anyhow::anyhow!("encoding the session key: {e}"))?;
        let public_key = key.verifying_key().to_bytes();
        Ok(Self {
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
            decoding: DecodingKey::from_ed_der(&public_key),
            public_key,
            issuer: issuer.to_string(),
            ttl_secs,
            checked: Mutex::new(HashMap::new()),
        })
    }

    /// The Ed25519 public key (to publish, e.g. for other services).
    pub fn public_key(&self) -> [u8; 32] {
        self.public_key
    }

    /// Issues a token for `pin` at `now` (Unix seconds).
    pub fn issue(&self, pin: &str, now: i64) -> anyhow::Result<(String, SessionClaims)> {
        self.issue_scoped(pin, None, now)
    }

    /// Issues a token for `pin` at `now`, confined to the demo-mode campaign `demo` if given.
    pub fn issue_scoped(&self, pin: &str, demo: Option<&str>, now: i64) -> anyhow::Result<(String, SessionClaims)> {
        let claims = SessionClaims {
            iss: self.issuer.clone(),
            aud: AUDIENCE.into(),
            sub: pin.to_string(),
            iat: now,
            exp: now + self.ttl_secs,
            jti: random_token(),
            csrf: random_token(),
            demo: demo.map(str::to_string),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &claims, &self.encoding)
            .context("signing a session token")?;
        Ok((token, claims))
    }

    /// Verifies a token at `now` (Unix seconds).
    pub fn verify(&self, token: &str, now: i64) -> Result<SessionClaims, SessionError> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let remembered = self.checked.lock().unwrap_or_else(PoisonError::into_inner).get(&digest).cloned();
        let claims = match remembered {
            Some(c) => c,
            None => {
                let c = self.check_signature(token)?;
                let mut checked = self.checked.lock().unwrap_or_else(PoisonError::into_inner);
                if checked.len() >= CHECKED_TOKENS {
                    checked.clear();
                }
                checked.insert(digest, c.clone());
                c
            }
        };
        if claims.iat > now + 60 {
            return Err(SessionError::Invalid);
        }
        if now >= claims.exp {
            return Err(SessionError::Expired);
        }
        Ok(claims)
    }

    /// The checks of a token that do not depend on the time: algorithm, signature, issuer,
    /// audience, the required claims.
    fn check_signature(&self, token: &str) -> Result<SessionClaims, SessionError> {
        let mut v = Validation::new(Algorithm::EdDSA);
        v.validate_exp = false;
        v.validate_nbf = false;
        v.leeway = 0;
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[AUDIENCE]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data =
            jsonwebtoken::decode::<SessionClaims>(token, &self.decoding, &v).map_err(|_| SessionError::Invalid)?;
        Ok(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> SessionKeys {
        SessionKeys::new(&SigningKey::generate(&mut OsRng), "dobush", 60).unwrap()
    }

    #[test]
    fn round_trip_and_expiry() {
        let k = keys();
        let (t, c) = k.issue("21504199000012", 1000).unwrap();
        assert_eq!(k.verify(&t, 1059).unwrap().csrf, c.csrf);
        assert_eq!(k.verify(&t, 1060).unwrap_err(), SessionError::Expired);
    }

    #[test]
    fn a_remembered_token_still_expires_and_an_altered_one_is_checked_again() {
        let k = keys();
        let (t, c) = k.issue("21504199000012", 1000).unwrap();
        assert_eq!(k.verify(&t, 1001).unwrap().jti, c.jti, "checked and remembered");
        assert_eq!(k.verify(&t, 1002).unwrap().jti, c.jti, "remembered");
        assert_eq!(k.verify(&t, 1060).unwrap_err(), SessionError::Expired, "the time is checked every time");
        assert_eq!(k.verify(&t, 900).unwrap_err(), SessionError::Invalid, "issued in the future");
        // one character of the signature changed: not the remembered token, so checked, and refused
        let mut altered = t.clone().into_bytes();
        let last = altered.len() - 2;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(k.verify(&String::from_utf8(altered).unwrap(), 1001).unwrap_err(), SessionError::Invalid);
        // a token of another key is never remembered as valid
        let (foreign, _) = keys().issue("21504199000012", 1000).unwrap();
        assert_eq!(k.verify(&foreign, 1001).unwrap_err(), SessionError::Invalid);
        assert_eq!(k.verify(&foreign, 1001).unwrap_err(), SessionError::Invalid);
    }

    #[test]
    fn foreign_key_and_hs256_confusion_refused() {
        let k = keys();
        let (t, _) = keys().issue("21504199000012", 1000).unwrap();
        assert_eq!(k.verify(&t, 1001).unwrap_err(), SessionError::Invalid);
        let claims = SessionClaims {
            iss: "dobush".into(),
            aud: AUDIENCE.into(),
            sub: "21504199000012".into(),
            iat: 1000,
            exp: 2000,
            jti: "x".into(),
            csrf: "y".into(),
            demo: None,
        };
        let forged =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(&k.public_key()))
                .unwrap();
        assert_eq!(k.verify(&forged, 1001).unwrap_err(), SessionError::Invalid);
    }
}
