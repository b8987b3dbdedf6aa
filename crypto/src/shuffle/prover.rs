//! The prover (`docs/protocol/12-shuffle.md` §Prover): permutation commitment (SH-P1), the
//! permuted challenges (SH-P2), the commitment chain (SH-P3), aggregates (SH-P4), commitments
//! (SH-P5) and responses (SH-P6).
//!
//! Every product with a secret scalar is constant-time: fixed-base tables for `G`, each column key `K_k` and `ĥ`,
//! and the constant-time (Straus) multiscalar multiplication for `T₃` and `T₄`, since
//! `s'_i − ω'_i = c·u'_i` would reveal the permutation. The steps are separate functions so that
//! the tests' forging provers can reuse every step but the one they cheat in.

use curve25519_dalek::ristretto::{RistrettoBasepointTable, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::MultiscalarMul;
use rand_core::{CryptoRng, RngCore};
use rayon::prelude::*;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::generators::Generators;
use super::parallel::{slice, sum_over_rows};
use super::permute::{ShuffleSecret, key_tables};
use super::proof::{PairCommitment, ShuffleProof};
use super::transcript::ShuffleTranscript;
use super::{ShuffleError, ShuffleStatement};
use crate::elgamal::KeyTable;
use crate::group::{GroupElement, mul_base, random_scalar};

/// Rows per slice of the prover's multiscalar multiplications (Straus gains nothing beyond a few
/// hundred points, and a slice's tables stay in cache).
const PROVER_SLICE: usize = 256;

/// Every random scalar of the prover, drawn in the order of §Order of draws. Zeroized on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct Draws {
    /// `r_j`, the permutation commitments' randomness.
    pub r: Vec<Scalar>,
    /// `r̂_i`, the chain's randomness.
    pub r_hat: Vec<Scalar>,
    /// `ω₁, ω₂, ω₃`.
    pub omega: [Scalar; 3],
    /// `ω₄_k`.
    pub omega4: Vec<Scalar>,
    /// `ω̂_i`.
    pub omega_hat: Vec<Scalar>,
    /// `ω'_i`.
    pub omega_prime: Vec<Scalar>,
}

impl Draws {
    /// Draws `r`, `r̂`, `ω₁ … ω₃`, `ω₄`, `ω̂`, `ω'` in this order.
    pub fn draw<R: RngCore + CryptoRng>(rng: &mut R, n: usize, w: usize) -> Self {
        fn many<R: RngCore + CryptoRng>(rng: &mut R, m: usize) -> Vec<Scalar> {
            (0..m).map(|_| random_scalar(rng)).collect()
        }
        let r = many(rng, n);
        let r_hat = many(rng, n);
        let omega = [random_scalar(rng), random_scalar(rng), random_scalar(rng)];
        let omega4 = many(rng, w);
        let omega_hat = many(rng, n);
        let omega_prime = many(rng, n);
        Self { r, r_hat, omega, omega4, omega_hat, omega_prime }
    }
}

/// A point the prover publishes: the identity is refused (rule E1).
fn publish(p: RistrettoPoint) -> Result<GroupElement, ShuffleError> {
    GroupElement::from_point(p).map_err(|_| ShuffleError::Identity)
}

/// SH-P1: `P_j = r_j·G + h_{π(j)}`.
pub(crate) fn commit_permutation(
    gens: &Generators,
    permutation: &[usize],
    r: &[Scalar],
) -> Result<Vec<GroupElement>, ShuffleError> {
    permutation
        .par_iter()
        .zip(r.par_iter())
        .map(|(&i, rj)| {
            let h = gens.h.get(i).ok_or(ShuffleError::Shape("the permutation does not fit the rows"))?;
            publish(mul_base(rj) + h)
        })
        .collect()
}

/// SH-P2: `u'_i = u_{π⁻¹(i)}`.
pub(crate) fn permute_challenges(permutation: &[usize], u: &[Scalar]) -> Result<Zeroizing<Vec<Scalar>>, ShuffleError> {
    let mut u_prime = Zeroizing::new(vec![Scalar::ZERO; u.len()]);
    for (&i, uj) in permutation.iter().zip(u) {
        *u_prime.get_mut(i).ok_or(ShuffleError::Shape("the permutation does not fit the rows"))? = *uj;
    }
    Ok(u_prime)
}

/// The commitment chain (SH-P3) with what the prover knows about it.
pub(crate) struct Chain {
    /// `Ĉ_0 … Ĉ_{N−1}`.
    pub points: Vec<GroupElement>,
    /// `(R_{i−1}, U_{i−1})` with `Ĉ_{i−1} = R_{i−1}·G + U_{i−1}·ĥ` (`(0, 1)` for `Ĉ_{−1} = ĥ`).
    pub previous: Zeroizing<Vec<(Scalar, Scalar)>>,
    /// `r̂ = R_{N−1}`, so that `Ĉ_{N−1} = r̂·G + (Π u')·ĥ`.
    pub r_hat: Scalar,
}

impl Drop for Chain {
    fn drop(&mut self) {
        self.r_hat.zeroize();
    }
}

impl Chain {
    /// `Ĉ_i = r̂_i·G + u'_i·Ĉ_{i−1}`, computed as `R_i·G + U_i·ĥ` with `R_i = u'_i·R_{i−1} + r̂_i` and
    /// `U_i = u'_i·U_{i−1}` (two fixed-base products per row, every row in parallel).
    pub fn commit(h_hat: &RistrettoBasepointTable, u_prime: &[Scalar], r_hat: &[Scalar]) -> Result<Self, ShuffleError> {
        let mut previous = Zeroizing::new(Vec::with_capacity(u_prime.len()));
        let (mut big_r, mut big_u) = (Scalar::ZERO, Scalar::ONE);
        let mut openings = Zeroizing::new(Vec::with_capacity(u_prime.len()));
        for (u, r) in u_prime.iter().zip(r_hat) {
            previous.push((big_r, big_u));
            big_r = u * big_r + r;
            big_u *= u;
            openings.push((big_r, big_u));
        }
        let points = openings.par_iter().map(|(r, u)| publish(mul_base(r) + u * h_hat)).collect::<Result<_, _>>()?;
        let chain = Self { points, previous, r_hat: big_r };
        big_r.zeroize();
        big_u.zeroize();
        Ok(chain)
    }
}

/// The secrets the responses answer for (SH-P4).
pub(crate) struct Aggregates {
    /// `r̄ = Σ_j r_j`.
    pub r_bar: Scalar,
    /// `r̃ = Σ_j u_j·r_j`.
    pub r_tilde: Scalar,
    /// `r̂`, the chain's (SH-P3).
    pub r_hat: Scalar,
    /// `ρ_k = Σ_j u_j·ρ_{j,k}`.
    pub rho: Zeroizing<Vec<Scalar>>,
}

impl Drop for Aggregates {
    fn drop(&mut self) {
        self.r_bar.zeroize();
        self.r_tilde.zeroize();
        self.r_hat.zeroize();
    }
}

/// `r̄` and `r̃` of SH-P4 from the commitments' randomness and the challenges.
pub(crate) fn commitment_sums(r: &[Scalar], u: &[Scalar]) -> (Scalar, Scalar) {
    let r_bar = r.iter().sum();
    let r_tilde = r.iter().zip(u).map(|(r, u)| r * u).sum();
    (r_bar, r_tilde)
}

/// SH-P5 and SH-P6: the commitments `T`, the challenge `c` and the responses.
#[allow(clippy::too_many_arguments)]
pub(crate) fn respond(
    t: &mut ShuffleTranscript,
    stmt: &ShuffleStatement<'_>,
    gens: &Generators,
    keys: &[KeyTable],
    h_hat: &RistrettoBasepointTable,
    draws: &Draws,
    u_prime: &[Scalar],
    chain: &Chain,
    agg: &Aggregates,
    permutation_commitments: Vec<GroupElement>,
) -> Result<ShuffleProof, ShuffleError> {
    let (n, w) = (stmt.output.len(), stmt.output.width());
    let out = stmt.output.ciphertexts();
    // Σ_i ω'_i·h_i, and per column Σ_i ω'_i·α'_{i,k}, Σ_i ω'_i·β'_{i,k}.
    let sums = sum_over_rows(n, PROVER_SLICE, 1 + 2 * w, |rows| {
        let om = slice(&draws.omega_prime, rows.clone())?;
        let cts = slice(out, rows.start * w..rows.end * w)?;
        let mut v = Vec::with_capacity(1 + 2 * w);
        v.push(RistrettoPoint::multiscalar_mul(om, slice(&gens.h, rows)?));
        for k in 0..w {
            let column = || cts.iter().skip(k).step_by(w);
            v.push(RistrettoPoint::multiscalar_mul(om, column().map(|ct| ct.alpha.point())));
            v.push(RistrettoPoint::multiscalar_mul(om, column().map(|ct| ct.beta.point())));
        }
        Ok(v)
    })?;
    let [o1, o2, o3] = &draws.omega;
    let t1 = publish(mul_base(o1))?;
    let t2 = publish(mul_base(o2))?;
    let t3 = publish(mul_base(o3) + sums.first().ok_or(ShuffleError::Shape("sums"))?)?;
    if keys.len() != w {
        return Err(ShuffleError::Shape("there must be one key per column"));
    }
    let t4 = draws
        .omega4
        .iter()
        .zip(keys)
        .zip(sums.get(1..).unwrap_or_default().chunks_exact(2))
        .map(|((o4, key), ab)| match ab {
            [a, b] => Ok(PairCommitment { alpha: publish(a - mul_base(o4))?, beta: publish(b - key.mul(o4))? }),
            _ => Err(ShuffleError::Shape("sums")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    // T̂_i = ω̂_i·G + ω'_i·Ĉ_{i−1} = (ω̂_i + ω'_i·R_{i−1})·G + (ω'_i·U_{i−1})·ĥ.
    let t_hat = draws
        .omega_hat
        .par_iter()
        .zip(draws.omega_prime.par_iter())
        .zip(chain.previous.par_iter())
        .map(|((oh, op), (r_prev, u_prev))| {
            let mut a = oh + op * r_prev;
            let mut b = op * u_prev;
            let p = mul_base(&a) + &b * h_hat;
            a.zeroize();
            b.zeroize();
            publish(p)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let c = t.commitments([&t1, &t2, &t3], &t4, &t_hat);
    let respond = |omega: &Scalar, secret: &Scalar| omega + c * secret;
    Ok(ShuffleProof {
        permutation_commitments,
        chain: chain.points.clone(),
        t1,
        t2,
        t3,
        t4,
        t_hat,
        s1: respond(o1, &agg.r_bar),
        s2: respond(o2, &agg.r_hat),
        s3: respond(o3, &agg.r_tilde),
        s4: draws.omega4.iter().zip(agg.rho.iter()).map(|(o, r)| respond(o, r)).collect(),
        s_hat: draws.omega_hat.iter().zip(&draws.r_hat).map(|(o, r)| respond(o, r)).collect(),
        s_prime: draws.omega_prime.iter().zip(u_prime).map(|(o, u)| respond(o, u)).collect(),
    })
    .and_then(|proof| proof.check_shape(n, w).map(|()| proof))
}

/// Proves SH-0 for `stmt` with the permutation and nonces of `secret` (§Prover). The secret
/// must be the one [`super::shuffle_rows`] returned for these rows: with another, the proof
/// does not verify.
pub fn prove_shuffle<R: RngCore + CryptoRng>(
    rng: &mut R,
    stmt: &ShuffleStatement<'_>,
    secret: &ShuffleSecret,
) -> Result<ShuffleProof, ShuffleError> {
    let (n, w) = stmt.shape()?;
    let permutation = secret.permutation();
    if permutation.len() != n || secret.nonces().len() != n * w {
        return Err(ShuffleError::Shape("the secret does not fit the rows"));
    }
    let gens = Generators::derive(stmt.context, stmt.purpose, n);
    let keys = key_tables(stmt.keys);
    let h_hat = gens.h_hat_table();
    let draws = Draws::draw(rng, n, w);
    let p = commit_permutation(&gens, permutation, &draws.r)?;
    let mut t = ShuffleTranscript::new(stmt);
    let u = t.permutation_commitments(&p);
    let u_prime = permute_challenges(permutation, &u)?;
    let chain = Chain::commit(&h_hat, &u_prime, &draws.r_hat)?;
    t.chain(&chain.points);
    let (r_bar, r_tilde) = commitment_sums(&draws.r, &u);
    let mut rho = Zeroizing::new(vec![Scalar::ZERO; w]);
    for (uj, nonces) in u.iter().zip(secret.nonces().chunks_exact(w)) {
        for (acc, r) in rho.iter_mut().zip(nonces) {
            *acc += uj * r;
        }
    }
    let agg = Aggregates { r_bar, r_tilde, r_hat: chain.r_hat, rho };
    respond(&mut t, stmt, &gens, &keys, &h_hat, &draws, &u_prime, &chain, &agg, p)
}
