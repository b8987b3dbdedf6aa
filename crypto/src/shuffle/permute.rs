//! Shuffling: a uniformly random permutation of the rows and a fresh re-encryption of every
//! ciphertext (`docs/protocol/12-shuffle.md` §Shuffling, SH-0).

use std::fmt;

use curve25519_dalek::scalar::Scalar;
use rand_core::{CryptoRng, RngCore};
use rayon::prelude::*;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::{Rows, ShuffleError};
use crate::elgamal::{Ciphertext, KeyTable, PublicKey, RawCiphertext};
use crate::group::{mul_base, random_nonzero_scalar};

/// What the shuffler knows: the permutation (input row `j` became output row `π(j)`) and the
/// re-encryption nonce of every input ciphertext. Zeroized on drop, redacted in `Debug`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct ShuffleSecret {
    permutation: Vec<usize>,
    /// `ρ_{j,k}` at `j·w + k`.
    nonces: Vec<Scalar>,
}

impl ShuffleSecret {
    /// `π` as a list: entry `j` is the output row of input row `j`.
    pub fn permutation(&self) -> &[usize] {
        &self.permutation
    }

    /// `ρ_{j,k}` at index `j·w + k` (input order).
    pub fn nonces(&self) -> &[Scalar] {
        &self.nonces
    }

    /// A secret from its parts, for tests that need a permutation of their own: `permutation`
    /// must be a permutation of `0 … N−1` and `nonces` hold `N·w` scalars.
    #[cfg(any(test, feature = "test-helpers"))]
    pub fn from_parts(permutation: Vec<usize>, nonces: Vec<Scalar>) -> Result<Self, ShuffleError> {
        let n = permutation.len();
        let mut seen = vec![false; n];
        for &p in &permutation {
            match seen.get_mut(p) {
                Some(s) if !*s => *s = true,
                _ => return Err(ShuffleError::Shape("not a permutation")),
            }
        }
        if n == 0 || !nonces.len().is_multiple_of(n) {
            return Err(ShuffleError::Shape("the nonces must fill whole rows"));
        }
        Ok(Self { permutation, nonces })
    }
}

impl fmt::Debug for ShuffleSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ShuffleSecret(<redacted>)")
    }
}

/// uniform(n): an integer in `0 … n−1` from 8 bytes little-endian, by rejection (§Shuffling).
fn uniform<R: RngCore>(rng: &mut R, n: u64) -> u64 {
    // 2⁶⁴ mod n; values at or above 2⁶⁴ − (2⁶⁴ mod n) are drawn again.
    let rem = (u64::MAX % n + 1) % n;
    loop {
        let mut b = [0u8; 8];
        rng.fill_bytes(&mut b);
        let x = u64::from_le_bytes(b);
        if rem == 0 || x < 0u64.wrapping_sub(rem) {
            return x % n;
        }
    }
}

/// Fisher–Yates from `[0, 1, …, n−1]`, `i` from `n−1` down to 1 (§Shuffling, step 1).
fn random_permutation<R: RngCore>(rng: &mut R, n: usize) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let m = uniform(rng, i as u64 + 1) as usize;
        p.swap(i, m);
    }
    p
}

/// One multiplication table per column; columns under the same key share one (tables are
/// shared pointers, and building one costs as much as a few dozen multiplications).
pub(crate) fn key_tables(keys: &[PublicKey]) -> Vec<KeyTable> {
    let mut tables: Vec<KeyTable> = Vec::with_capacity(keys.len());
    for key in keys {
        let table = tables.iter().find(|t| t.public_key() == key).cloned().unwrap_or_else(|| KeyTable::new(*key));
        tables.push(table);
    }
    tables
}

/// Applies SH-0: output row `π(j)` is input row `j` with every ciphertext re-encrypted.
/// Column `k` is re-encrypted under `keys[k]`.
pub(crate) fn apply(keys: &[KeyTable], input: &Rows, secret: &ShuffleSecret) -> Result<Rows, ShuffleError> {
    let (n, w) = (input.len(), input.width());
    if keys.len() != w {
        return Err(ShuffleError::Shape("there must be one key per column"));
    }
    if secret.permutation.len() != n || secret.nonces.len() != n * w {
        return Err(ShuffleError::Shape("the secret does not fit the rows"));
    }
    // The inverse permutation: output row i comes from input row inv[i].
    let mut inv = Zeroizing::new(vec![0usize; n]);
    for (j, &i) in secret.permutation.iter().enumerate() {
        if let Some(slot) = inv.get_mut(i) {
            *slot = j;
        }
    }
    let out: Result<Vec<Ciphertext>, ShuffleError> = (0..n * w)
        .into_par_iter()
        .map(|idx| {
            let (i, k) = (idx / w, idx % w);
            let src = inv.get(i).map(|j| j * w + k).ok_or(ShuffleError::Shape("row"))?;
            let ((ct, rho), key) = input
                .ciphertexts()
                .get(src)
                .zip(secret.nonces.get(src))
                .zip(keys.get(k))
                .ok_or(ShuffleError::Shape("the secret does not fit the rows"))?;
            let fresh = RawCiphertext { alpha: mul_base(rho), beta: key.mul(rho) };
            (ct.raw() + fresh).validate().map_err(|_| ShuffleError::Identity)
        })
        .collect();
    Rows::new(w, out?)
}

/// Shuffles `input`, column `k` under `keys[k]` (§Shuffling): draws the permutation, then every
/// nonce (input order, non-zero), and returns the output rows and the secret the prover needs.
pub fn shuffle_rows<R: RngCore + CryptoRng>(
    rng: &mut R,
    keys: &[PublicKey],
    input: &Rows,
) -> Result<(Rows, ShuffleSecret), ShuffleError> {
    if keys.len() != input.width() {
        return Err(ShuffleError::Shape("there must be one key per column"));
    }
    let permutation = random_permutation(rng, input.len());
    let nonces = (0..input.ciphertexts().len()).map(|_| random_nonzero_scalar(rng)).collect();
    let secret = ShuffleSecret { permutation, nonces };
    let output = apply(&key_tables(keys), input, &secret)?;
    Ok((output, secret))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn uniform_rejects_the_biased_tail_and_stays_in_range() {
        // n = 3: 2⁶⁴ mod 3 = 1, so only u64::MAX is rejected.
        struct Fixed(Vec<u64>);
        impl RngCore for Fixed {
            fn next_u32(&mut self) -> u32 {
                0
            }
            fn next_u64(&mut self) -> u64 {
                0
            }
            fn fill_bytes(&mut self, d: &mut [u8]) {
                let x = self.0.remove(0);
                d.copy_from_slice(&x.to_le_bytes());
            }
            fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), rand_core::Error> {
                self.fill_bytes(d);
                Ok(())
            }
        }
        let mut r = Fixed(vec![u64::MAX, u64::MAX - 1]);
        assert_eq!(uniform(&mut r, 3), (u64::MAX - 1) % 3);
        let mut r = Fixed(vec![u64::MAX]);
        assert_eq!(uniform(&mut r, 1 << 4), 15, "a power of two rejects nothing");
    }

    #[test]
    fn permutations_are_permutations_and_vary() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let a = random_permutation(&mut rng, 50);
        let b = random_permutation(&mut rng, 50);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        assert_ne!(a, b);
        assert_eq!(random_permutation(&mut rng, 1), vec![0]);
    }

    #[test]
    fn from_parts_refuses_what_is_not_a_permutation() {
        assert!(ShuffleSecret::from_parts(vec![0, 0], vec![Scalar::ONE; 2]).is_err());
        assert!(ShuffleSecret::from_parts(vec![0, 2], vec![Scalar::ONE; 2]).is_err());
        assert!(ShuffleSecret::from_parts(vec![1, 0], vec![Scalar::ONE; 3]).is_err());
        assert!(ShuffleSecret::from_parts(vec![1, 0], vec![Scalar::ONE; 4]).is_ok());
        let s = ShuffleSecret::from_parts(vec![1, 0], vec![Scalar::ONE; 2]).unwrap();
        assert_eq!(format!("{s:?}"), "ShuffleSecret(<redacted>)");
    }
}
