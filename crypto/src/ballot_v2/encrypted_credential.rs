//! The tag base TB(X) (`docs/protocol/13-revoting.md` §2) and the encrypted credential of a v2
//! ballot (§3.1): `cred = Enc_K(X; r_X)` and `tbase = Enc_K(TB(X); r_V)`, with r_X and r_V
//! drawn in this order as independent non-zero scalars (§3.6, step 2).

use std::fmt;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::context::ElectionContext;
use crate::elgamal::{Ciphertext, RawCiphertext};
use crate::error::DecodeError;
use crate::group::{GroupElement, hash_to_group, mul_base, random_nonzero_scalar};
use crate::labels;
use crate::signature::VerifyingKey;
use crate::transcript::TranscriptProtocol;

/// `TB(X) = hash_to_group("dobush/v2/tag-base" ‖ base_hash ‖ enc(X))` (§2). Nobody knows
/// `log_G TB(X)`.
pub fn tag_base(base_hash: &[u8; 32], x: &GroupElement) -> RistrettoPoint {
    let mut input = Vec::with_capacity(labels::TAG_BASE.len() + 64);
    input.extend_from_slice(labels::TAG_BASE);
    input.extend_from_slice(base_hash);
    input.extend_from_slice(x.as_bytes());
    hash_to_group(&input)
}

/// The two ciphertexts a v2 ballot carries instead of the credential (§3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptedCredential {
    /// `cred = Enc_K(X; r_X) = (r_X·G, X + r_X·K)`.
    pub cred: Ciphertext,
    /// `tbase = Enc_K(TB(X); r_V) = (r_V·G, TB(X) + r_V·K)`.
    pub tbase: Ciphertext,
}

impl EncryptedCredential {
    /// Whether `cred.α` and `tbase.α` differ, as the reused-randomness rule requires (§3.1):
    /// equal nonces would make `X − TB(X)` visible.
    pub fn has_distinct_alphas(&self) -> bool {
        self.cred.alpha != self.tbase.alpha
    }

    /// Appends the four points to a proof's statement, in this order (§3.2, §3.4):
    /// `point("cred-alpha", cred.α)`, `point("cred-beta", cred.β)`, `point("tbase-alpha",
    /// tbase.α)`, `point("tbase-beta", tbase.β)`.
    pub(crate) fn append_to(&self, t: &mut Transcript) {
        t.append_element(labels::L_CRED_ALPHA, &self.cred.alpha);
        t.append_element(labels::L_CRED_BETA, &self.cred.beta);
        t.append_element(labels::L_TBASE_ALPHA, &self.tbase.alpha);
        t.append_element(labels::L_TBASE_BETA, &self.tbase.beta);
    }
}

/// The nonces r_X and r_V of an [`EncryptedCredential`]: they prove the credential (§3.2) and
/// open the cast (§3.4), and are zeroized once the ballot is cast or challenged (§3.5): on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct CredentialNonces {
    r_x: Scalar,
    r_v: Scalar,
}

impl CredentialNonces {
    /// Wraps two non-zero, distinct nonces (for a device that stored them, and for tests).
    pub fn from_scalars(r_x: Scalar, r_v: Scalar) -> Result<Self, DecodeError> {
        if r_x == Scalar::ZERO || r_v == Scalar::ZERO {
            return Err(DecodeError::ZeroScalar);
        }
        if r_x == r_v {
            return Err(DecodeError::Structure("r_X and r_V must be independent, not equal".into()));
        }
        Ok(Self { r_x, r_v })
    }

    /// r_X.
    pub(crate) fn r_x(&self) -> &Scalar {
        &self.r_x
    }

    /// r_V.
    pub(crate) fn r_v(&self) -> &Scalar {
        &self.r_v
    }

    /// Whether these nonces and `credential` open `enc`: `cred = (r_X·G, X + r_X·K)` and
    /// `tbase = (r_V·G, TB(X) + r_V·K)`.
    pub fn opens(&self, ctx: &ElectionContext, credential: &VerifyingKey, enc: &EncryptedCredential) -> bool {
        encrypt_with(ctx, credential, self).is_ok_and(|e| e == *enc)
    }
}

impl fmt::Debug for CredentialNonces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CredentialNonces(<redacted>)")
    }
}

fn encrypt_with(
    ctx: &ElectionContext,
    credential: &VerifyingKey,
    nonces: &CredentialNonces,
) -> Result<EncryptedCredential, DecodeError> {
    let key = ctx.key_table();
    let x = &credential.0;
    let cred = RawCiphertext { alpha: mul_base(&nonces.r_x), beta: x.point() + key.mul(&nonces.r_x) }.validate()?;
    let tb = tag_base(ctx.base_hash(), x);
    let tbase = RawCiphertext { alpha: mul_base(&nonces.r_v), beta: tb + key.mul(&nonces.r_v) }.validate()?;
    Ok(EncryptedCredential { cred, tbase })
}

/// Encrypts the credential X and its tag base under the election key K (§3.1).
///
/// Draws (§3.6, step 2): r_X, then r_V, each 64 bytes reduced wide and redrawn while zero. An
/// identity component or r_X = r_V (each with probability about 1/ℓ) is an error rather than a
/// ballot.
pub fn encrypt_credential<R: RngCore + CryptoRng>(
    ctx: &ElectionContext,
    credential: &VerifyingKey,
    rng: &mut R,
) -> Result<(EncryptedCredential, CredentialNonces), DecodeError> {
    let r_x = random_nonzero_scalar(rng);
    let r_v = random_nonzero_scalar(rng);
    let nonces = CredentialNonces::from_scalars(r_x, r_v)?;
    let enc = encrypt_with(ctx, credential, &nonces)?;
    Ok((enc, nonces))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ballot_v2::test_context;
    use crate::signature::SigningKey;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn encrypts_x_and_its_tag_base_with_the_draws_of_3_6() {
        let (ctx, sk) = test_context();
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let x = SigningKey::generate(&mut rng).verifying_key();
        let mut replay = rng.clone();
        let (enc, nonces) = encrypt_credential(&ctx, &x, &mut rng).unwrap();
        // r_X then r_V, each a non-zero wide draw.
        assert_eq!(*nonces.r_x(), random_nonzero_scalar(&mut replay));
        assert_eq!(*nonces.r_v(), random_nonzero_scalar(&mut replay));
        assert_eq!(sk.decrypt_to_point(&enc.cred), *x.0.point());
        assert_eq!(sk.decrypt_to_point(&enc.tbase), tag_base(ctx.base_hash(), &x.0));
        assert!(enc.has_distinct_alphas());
        assert!(nonces.opens(&ctx, &x, &enc));
        let other = SigningKey::generate(&mut rng).verifying_key();
        assert!(!nonces.opens(&ctx, &other, &enc));
        assert!(format!("{nonces:?}").contains("redacted"));
        assert!(CredentialNonces::from_scalars(Scalar::ZERO, Scalar::ONE).is_err());
        assert!(CredentialNonces::from_scalars(Scalar::ONE, Scalar::ONE).is_err());
    }

    #[test]
    fn the_tag_base_depends_on_the_election_and_the_credential() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let x = SigningKey::generate(&mut rng).verifying_key().0;
        let y = SigningKey::generate(&mut rng).verifying_key().0;
        let tb = tag_base(&[1; 32], &x);
        assert_ne!(tb, tag_base(&[2; 32], &x));
        assert_ne!(tb, tag_base(&[1; 32], &y));
        assert_ne!(tb, *x.point());
        let mut input = b"dobush/v2/tag-base".to_vec();
        input.extend_from_slice(&[1; 32]);
        input.extend_from_slice(x.as_bytes());
        assert_eq!(tb, hash_to_group(&input));
    }
}
