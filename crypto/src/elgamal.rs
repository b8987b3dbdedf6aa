//! Exponential ElGamal on Ristretto255 (`docs/protocol/03-elgamal.md`).
//!
//! `Enc(m; r) = (α, β) = (r·G, m·G + r·K)` for the election key `K`; the plaintext is the
//! integer `m`, recovered as a discrete logarithm of `β − s·α = m·G` ([`crate::dlog`]).

use std::fmt;
use std::ops::{Add, AddAssign, Mul, Sub, SubAssign};
use std::sync::Arc;

use curve25519_dalek::ristretto::{RistrettoBasepointTable, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::DecodeError;
use crate::group::{GroupElement, mul_base, random_nonzero_scalar, small_mul_base};

/// An ElGamal public key `K = s·G` (the joint election key, or a single test key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PublicKey(pub GroupElement);

impl PublicKey {
    /// The key as a point.
    pub fn point(&self) -> &RistrettoPoint {
        self.0.point()
    }
}

/// The election key with a precomputed multiplication table: a prover multiplies by `K` several
/// times per selection, and the table makes each multiplication about three times faster.
#[derive(Clone)]
pub struct KeyTable {
    pk: PublicKey,
    table: Arc<RistrettoBasepointTable>,
}

impl KeyTable {
    /// Precomputes the table for `pk`.
    pub fn new(pk: PublicKey) -> Self {
        Self { table: Arc::new(RistrettoBasepointTable::create(pk.point())), pk }
    }

    /// The key.
    pub fn public_key(&self) -> &PublicKey {
        &self.pk
    }

    /// `s·K`.
    pub fn mul(&self, s: &Scalar) -> RistrettoPoint {
        s * &*self.table
    }
}

impl fmt::Debug for KeyTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyTable({:?})", self.pk)
    }
}

/// An ElGamal secret key. Zeroized on drop, redacted in `Debug`, compared in constant time.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey(Scalar);

impl SecretKey {
    /// A fresh random secret key.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        Self(random_nonzero_scalar(rng))
    }

    /// Wraps a scalar (e.g. a combined key in tests). Zero is rejected.
    pub fn from_scalar(s: Scalar) -> Result<Self, DecodeError> {
        if s == Scalar::ZERO {
            return Err(DecodeError::ZeroScalar);
        }
        Ok(Self(s))
    }

    /// The public key `s·G`.
    pub fn public_key(&self) -> PublicKey {
        // s ≠ 0 and G has prime order, so s·G is never the identity.
        PublicKey(GroupElement::from_nonzero_multiple(mul_base(&self.0)))
    }

    /// Decrypts to the point `m·G` (`β − s·α`).
    pub fn decrypt_to_point(&self, ct: &Ciphertext) -> RistrettoPoint {
        ct.beta.point() - self.0 * ct.alpha.point()
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl ConstantTimeEq for SecretKey {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        self.0.ct_eq(&other.0)
    }
}

/// A ciphertext in its validated wire form: neither component is the identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ciphertext {
    /// `α = r·G`.
    pub alpha: GroupElement,
    /// `β = m·G + r·K`.
    pub beta: GroupElement,
}

impl Ciphertext {
    /// The ciphertext as points, for homomorphic arithmetic.
    pub fn raw(&self) -> RawCiphertext {
        RawCiphertext { alpha: *self.alpha.point(), beta: *self.beta.point() }
    }
}

/// A ciphertext for arithmetic (sums, differences, scalar multiples). Components may be the
/// identity here; [`RawCiphertext::validate`] turns it back into a [`Ciphertext`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawCiphertext {
    /// First component.
    pub alpha: RistrettoPoint,
    /// Second component.
    pub beta: RistrettoPoint,
}

impl RawCiphertext {
    /// The encryption of zero with zero randomness: the neutral element of `+`.
    pub fn zero() -> Self {
        Self { alpha: RistrettoPoint::identity(), beta: RistrettoPoint::identity() }
    }

    /// Compresses and checks both components (identity is rejected).
    pub fn validate(&self) -> Result<Ciphertext, DecodeError> {
        Ok(Ciphertext { alpha: GroupElement::from_point(self.alpha)?, beta: GroupElement::from_point(self.beta)? })
    }
}

impl Add for RawCiphertext {
    type Output = Self;
    fn add(self, o: Self) -> Self {
        Self { alpha: self.alpha + o.alpha, beta: self.beta + o.beta }
    }
}
impl Sub for RawCiphertext {
    type Output = Self;
    fn sub(self, o: Self) -> Self {
        Self { alpha: self.alpha - o.alpha, beta: self.beta - o.beta }
    }
}
impl AddAssign for RawCiphertext {
    fn add_assign(&mut self, o: Self) {
        self.alpha += o.alpha;
        self.beta += o.beta;
    }
}
impl SubAssign for RawCiphertext {
    fn sub_assign(&mut self, o: Self) {
        self.alpha -= o.alpha;
        self.beta -= o.beta;
    }
}
impl Mul<&Scalar> for RawCiphertext {
    type Output = Self;
    fn mul(self, s: &Scalar) -> Self {
        Self { alpha: self.alpha * s, beta: self.beta * s }
    }
}

/// Secret randomness of one ciphertext. Zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Nonce(pub(crate) Scalar);

impl Nonce {
    /// Fresh non-zero randomness (`r ≠ 0`, so `α` is never the identity).
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        Self(random_nonzero_scalar(rng))
    }

    /// Wraps a revealed nonce (Benaloh challenge openings). Zero is rejected.
    pub fn from_scalar(s: Scalar) -> Result<Self, DecodeError> {
        if s == Scalar::ZERO {
            return Err(DecodeError::ZeroScalar);
        }
        Ok(Self(s))
    }

    /// The scalar.
    pub fn scalar(&self) -> &Scalar {
        &self.0
    }
}

impl fmt::Debug for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Nonce(<redacted>)")
    }
}

/// `Enc(m; r) = (r·G, m·G + r·K)` (eq. EG-1). Deterministic in `r`; callers draw a fresh `r`
/// for every ciphertext.
pub fn encrypt_with_nonce(pk: &PublicKey, m: u64, r: &Nonce) -> Result<Ciphertext, DecodeError> {
    let alpha = mul_base(&r.0);
    let beta = small_mul_base(m) + r.0 * pk.point();
    RawCiphertext { alpha, beta }.validate()
}

/// [`encrypt_with_nonce`] with a precomputed key table (same result, faster).
pub fn encrypt_with_table(key: &KeyTable, m: u64, r: &Nonce) -> Result<Ciphertext, DecodeError> {
    RawCiphertext { alpha: mul_base(&r.0), beta: small_mul_base(m) + key.mul(&r.0) }.validate()
}

/// Encrypts `m` with fresh randomness; returns the ciphertext and its nonce.
pub fn encrypt<R: RngCore + CryptoRng>(
    pk: &PublicKey,
    m: u64,
    rng: &mut R,
) -> Result<(Ciphertext, Nonce), DecodeError> {
    let r = Nonce::generate(rng);
    let ct = encrypt_with_nonce(pk, m, &r)?;
    Ok((ct, r))
}

/// The encrypted integer 0 as a raw ciphertext of the sum of nothing.
pub fn raw_sum<'a, I: IntoIterator<Item = &'a Ciphertext>>(cts: I) -> RawCiphertext {
    let mut acc = RawCiphertext::zero();
    for c in cts {
        acc += c.raw();
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dlog::DlogTable;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn decrypt_encrypt_roundtrip(seed: u64, m in 0u64..10_000) {
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let sk = SecretKey::generate(&mut rng);
            let pk = sk.public_key();
            let (ct, _) = encrypt(&pk, m, &mut rng).unwrap();
            let table = DlogTable::new(10_000);
            prop_assert_eq!(table.solve(&sk.decrypt_to_point(&ct)), Some(m));
        }

        #[test]
        fn homomorphism(seed: u64, a in 0u64..5000, b in 0u64..5000) {
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let sk = SecretKey::generate(&mut rng);
            let pk = sk.public_key();
            let (ca, _) = encrypt(&pk, a, &mut rng).unwrap();
            let (cb, _) = encrypt(&pk, b, &mut rng).unwrap();
            let sum = (ca.raw() + cb.raw()).validate().unwrap();
            let table = DlogTable::new(10_000);
            prop_assert_eq!(table.solve(&sk.decrypt_to_point(&sum)), Some(a + b));
            let diff = ((ca.raw() + cb.raw()) - cb.raw()).validate().unwrap();
            prop_assert_eq!(diff, ca);
        }
    }

    #[test]
    fn secret_key_debug_is_redacted() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let sk = SecretKey::generate(&mut rng);
        assert_eq!(format!("{sk:?}"), "SecretKey(<redacted>)");
        assert!(bool::from(sk.ct_eq(&sk.clone())));
    }
}
