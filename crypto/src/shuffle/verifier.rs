//! The verifier (`docs/protocol/12-shuffle.md` §Verifier, §Batch verification): replays the
//! transcript, checks SH-1 … SH-6 as one random linear combination evaluated in slices of rows
//! on every core, and, when the combination fails, checks the equations one at a time to name
//! the first that does not hold.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use rayon::prelude::*;

use super::generators::Generators;
use super::parallel::{slice, sum_over_rows};
use super::proof::ShuffleProof;
use super::transcript::ShuffleTranscript;
use super::{ShuffleEquation, ShuffleError, ShuffleStatement};
use crate::group::{generator_g, random_scalar};
use crate::labels;

/// Terms per multiscalar multiplication of the batch (Pippenger's cost per point no longer
/// falls beyond a few thousand points; a slice of this size stays small in memory).
const SLICE_TERMS: usize = 1 << 16;

/// `Σ scalar·point = 0`, in slices on every core (variable time: everything is public).
fn sums_to_identity(terms: &[(Scalar, &RistrettoPoint)]) -> bool {
    let sum: RistrettoPoint = terms
        .par_chunks(SLICE_TERMS)
        .map(|ch| RistrettoPoint::vartime_multiscalar_mul(ch.iter().map(|t| t.0), ch.iter().map(|t| t.1)))
        .sum();
    sum.is_identity()
}

/// The random weights of §Batch verification, one per equation.
struct Weights {
    l1: Scalar,
    l2: Scalar,
    l3: Scalar,
    alpha: Vec<Scalar>,
    beta: Vec<Scalar>,
    chain: Vec<Scalar>,
}

impl Weights {
    /// Drawn from a Merlin `TranscriptRng` seeded with 32 bytes of the caller's RNG, after the
    /// statement and the proof are fixed (04-proofs.md §Batch verification).
    fn draw<R: RngCore + CryptoRng>(rng: &mut R, n: usize, w: usize) -> Self {
        let mut t = Transcript::new(labels::TRANSCRIPT).build_rng().finalize(rng);
        let mut next = || random_scalar(&mut t);
        let (l1, l2, l3) = (next(), next(), next());
        let alpha = (0..w).map(|_| next()).collect();
        let beta = (0..w).map(|_| next()).collect();
        let chain = (0..n).map(|_| next()).collect();
        Self { l1, l2, l3, alpha, beta, chain }
    }
}

/// A statement and proof with everything the equations need: the generators and the
/// challenges recomputed from the transcript.
pub(crate) struct Replay<'a> {
    stmt: &'a ShuffleStatement<'a>,
    proof: &'a ShuffleProof,
    gens: Generators,
    g: RistrettoPoint,
    u: Vec<Scalar>,
    prod_u: Scalar,
    c: Scalar,
    n: usize,
    w: usize,
}

impl<'a> Replay<'a> {
    /// Checks the shapes, derives the generators and replays the transcript.
    pub fn new(stmt: &'a ShuffleStatement<'a>, proof: &'a ShuffleProof) -> Result<Self, ShuffleError> {
        let (n, w) = stmt.shape()?;
        proof.check_shape(n, w)?;
        let gens = Generators::derive(stmt.context, stmt.purpose, n);
        let mut t = ShuffleTranscript::new(stmt);
        let u = t.permutation_commitments(&proof.permutation_commitments);
        t.chain(&proof.chain);
        let c = t.commitments([&proof.t1, &proof.t2, &proof.t3], &proof.t4, &proof.t_hat);
        let prod_u = u.iter().product();
        Ok(Self { stmt, proof, gens, g: generator_g(), u, prod_u, c, n, w })
    }

    /// `Ĉ_{i−1}` (`ĥ` for `i = 0`).
    fn chain_before(&self, i: usize) -> Result<&RistrettoPoint, ShuffleError> {
        match i.checked_sub(1) {
            None => Ok(&self.gens.h_hat),
            Some(m) => self.proof.chain.get(m).map(|p| p.point()).ok_or(ShuffleError::Shape("chain")),
        }
    }

    /// Every equation at once, with random weights (§Batch verification).
    fn batch_holds<R: RngCore + CryptoRng>(&self, rng: &mut R) -> Result<bool, ShuffleError> {
        let (n, w, c, p) = (self.n, self.w, self.c, self.proof);
        let l = Weights::draw(rng, n, w);
        let c_alpha: Vec<Scalar> = l.alpha.iter().map(|x| -(c * x)).collect();
        let c_beta: Vec<Scalar> = l.beta.iter().map(|x| -(c * x)).collect();
        let (input, output) = (self.stmt.input.ciphertexts(), self.stmt.output.ciphertexts());
        let rows_per_slice = SLICE_TERMS / (4 * w + 4);
        let rows = sum_over_rows(n, rows_per_slice, 1, |rows| {
            let cts = rows.start * w..rows.end * w;
            let (cin, cout) = (slice(input, cts.clone())?, slice(output, cts)?);
            let u = slice(&self.u, rows.clone())?;
            let s_prime = slice(&p.s_prime, rows.clone())?;
            let mut sc = Vec::with_capacity(rows.len() * (4 * w + 4));
            let mut pt: Vec<&RistrettoPoint> = Vec::with_capacity(sc.capacity());
            for (((uj, sp), ci), co) in u.iter().zip(s_prime).zip(cin.chunks_exact(w)).zip(cout.chunks_exact(w)) {
                for k in 0..w {
                    let (a, b) = (l.alpha.get(k), l.beta.get(k));
                    let (ca, cb) = (c_alpha.get(k), c_beta.get(k));
                    let (Some(a), Some(b), Some(ca), Some(cb), Some(x), Some(y)) = (a, b, ca, cb, ci.get(k), co.get(k))
                    else {
                        return Err(ShuffleError::Shape("width"));
                    };
                    sc.extend([ca * uj, cb * uj, a * sp, b * sp]);
                    pt.extend([x.alpha.point(), x.beta.point(), y.alpha.point(), y.beta.point()]);
                }
            }
            for i in rows {
                let (Some(uj), Some(sp), Some(lc), Some(h), Some(pj), Some(ch), Some(th)) = (
                    self.u.get(i),
                    p.s_prime.get(i),
                    l.chain.get(i),
                    self.gens.h.get(i),
                    p.permutation_commitments.get(i),
                    p.chain.get(i),
                    p.t_hat.get(i),
                ) else {
                    return Err(ShuffleError::Shape("rows"));
                };
                // Ĉ_i appears in SH-6_i (−c) and in SH-6_{i+1} as Ĉ_{(i+1)−1}, or in SH-2 for the last.
                let next = match (l.chain.get(i + 1), p.s_prime.get(i + 1)) {
                    (Some(ln), Some(sn)) => ln * sn,
                    _ => -(l.l2 * c),
                };
                sc.extend([l.l1 * c + l.l3 * sp, -(c * (l.l1 + l.l3 * uj)), next - lc * c, -lc]);
                pt.extend([h, pj.point(), ch.point(), th.point()]);
            }
            Ok(vec![RistrettoPoint::vartime_multiscalar_mul(sc, pt)])
        })?;
        let s_hat: Scalar = l.chain.iter().zip(&p.s_hat).map(|(x, s)| x * s).sum();
        let s4a: Scalar = l.alpha.iter().zip(&p.s4).map(|(x, s)| x * s).sum();
        let first_chain = l.chain.first().zip(p.s_prime.first()).map_or(Scalar::ZERO, |(x, s)| x * s);
        let mut sc = vec![
            l.l1 * p.s1 + l.l2 * p.s2 + l.l3 * p.s3 - s4a + s_hat,
            l.l2 * c * self.prod_u + first_chain,
            -l.l1,
            -l.l2,
            -l.l3,
        ];
        let mut pt = vec![&self.g, &self.gens.h_hat, p.t1.point(), p.t2.point(), p.t3.point()];
        // −s₄_k·K_k of SH-5_k, one term per column (the columns' keys may differ).
        for ((((t4, a), b), s4), key) in p.t4.iter().zip(&l.alpha).zip(&l.beta).zip(&p.s4).zip(self.stmt.keys) {
            sc.extend([-a, -b, -(b * s4)]);
            pt.extend([t4.alpha.point(), t4.beta.point(), key.point()]);
        }
        let total = RistrettoPoint::vartime_multiscalar_mul(sc, pt) + rows.iter().sum::<RistrettoPoint>();
        Ok(total.is_identity())
    }

    /// One equation of SH-1 … SH-5 on its own; SH-6 rows on their own.
    fn holds(&self, eq: ShuffleEquation) -> Result<bool, ShuffleError> {
        let (c, p, g) = (self.c, self.proof, &self.g);
        let minus_one = -Scalar::ONE;
        let column = |k: usize, beta: bool| -> Result<Vec<(Scalar, &RistrettoPoint)>, ShuffleError> {
            let t4 = p.t4.get(k).ok_or(ShuffleError::Shape("column"))?;
            let s4 = p.s4.get(k).ok_or(ShuffleError::Shape("column"))?;
            let pick = |ct: &'a crate::elgamal::Ciphertext| if beta { ct.beta.point() } else { ct.alpha.point() };
            let out = self.stmt.output.ciphertexts().iter().skip(k).step_by(self.w).map(pick);
            let inp = self.stmt.input.ciphertexts().iter().skip(k).step_by(self.w).map(pick);
            let mut terms: Vec<(Scalar, &RistrettoPoint)> = p.s_prime.iter().copied().zip(out).collect();
            terms.extend(self.u.iter().map(|u| -(c * u)).zip(inp));
            let key = self.stmt.keys.get(k).ok_or(ShuffleError::Shape("column"))?;
            let (base, t) = if beta { (key.point(), t4.beta.point()) } else { (g, t4.alpha.point()) };
            terms.extend([(-s4, base), (minus_one, t)]);
            Ok(terms)
        };
        let terms: Vec<(Scalar, &RistrettoPoint)> = match eq {
            ShuffleEquation::Sh1 => {
                let mut v = vec![(p.s1, g), (minus_one, p.t1.point())];
                v.extend(p.permutation_commitments.iter().map(|x| (-c, x.point())));
                v.extend(self.gens.h.iter().map(|h| (c, h)));
                v
            }
            ShuffleEquation::Sh2 => {
                let last = p.chain.last().ok_or(ShuffleError::Shape("chain"))?;
                vec![(p.s2, g), (minus_one, p.t2.point()), (-c, last.point()), (c * self.prod_u, &self.gens.h_hat)]
            }
            ShuffleEquation::Sh3 => {
                let mut v = vec![(p.s3, g), (minus_one, p.t3.point())];
                v.extend(p.s_prime.iter().copied().zip(&self.gens.h));
                v.extend(self.u.iter().map(|u| -(c * u)).zip(p.permutation_commitments.iter().map(|x| x.point())));
                v
            }
            ShuffleEquation::Sh4 { column: k } => column(k, false)?,
            ShuffleEquation::Sh5 { column: k } => column(k, true)?,
            ShuffleEquation::Sh6 { row: i } => {
                let (Some(sh), Some(sp), Some(th), Some(ch)) =
                    (p.s_hat.get(i), p.s_prime.get(i), p.t_hat.get(i), p.chain.get(i))
                else {
                    return Err(ShuffleError::Shape("row"));
                };
                vec![(*sh, g), (*sp, self.chain_before(i)?), (minus_one, th.point()), (-c, ch.point())]
            }
        };
        Ok(sums_to_identity(&terms))
    }

    /// SH-6 for every row as one batch with random weights.
    fn chain_holds<R: RngCore + CryptoRng>(&self, rng: &mut R) -> Result<bool, ShuffleError> {
        let (c, p) = (self.c, self.proof);
        let l = Weights::draw(rng, self.n, 0).chain;
        let mut g = Scalar::ZERO;
        let mut terms = Vec::with_capacity(3 * self.n + 1);
        for (i, (((x, sh), sp), (th, ch))) in
            l.iter().zip(&p.s_hat).zip(&p.s_prime).zip(p.t_hat.iter().zip(&p.chain)).enumerate()
        {
            g += x * sh;
            terms.extend([(x * sp, self.chain_before(i)?), (-x, th.point()), (-(x * c), ch.point())]);
        }
        terms.push((g, &self.g));
        Ok(sums_to_identity(&terms))
    }

    /// Every equation that does not hold, in the order of §Verifier.
    pub fn failing<R: RngCore + CryptoRng>(&self, rng: &mut R) -> Result<Vec<ShuffleEquation>, ShuffleError> {
        let mut eqs = vec![ShuffleEquation::Sh1, ShuffleEquation::Sh2, ShuffleEquation::Sh3];
        eqs.extend((0..self.w).map(|column| ShuffleEquation::Sh4 { column }));
        eqs.extend((0..self.w).map(|column| ShuffleEquation::Sh5 { column }));
        let mut failing = Vec::new();
        for eq in eqs {
            if !self.holds(eq)? {
                failing.push(eq);
            }
        }
        if !self.chain_holds(rng)? {
            let rows: Result<Vec<_>, _> = (0..self.n)
                .into_par_iter()
                .map(|row| self.holds(ShuffleEquation::Sh6 { row }).map(|ok| (!ok).then_some(row)))
                .collect();
            failing.extend(rows?.into_iter().flatten().map(|row| ShuffleEquation::Sh6 { row }));
        }
        Ok(failing)
    }
}

/// Verifies a shuffle proof (§Verifier): `Ok` exactly when SH-1 … SH-6 all hold. The weights
/// of the batch come from `rng` (production passes `OsRng`). On failure the error names the
/// first equation that does not hold.
pub fn verify_shuffle<R: RngCore + CryptoRng>(
    rng: &mut R,
    stmt: &ShuffleStatement<'_>,
    proof: &ShuffleProof,
) -> Result<(), ShuffleError> {
    let replay = Replay::new(stmt, proof)?;
    if replay.batch_holds(rng)? {
        return Ok(());
    }
    match replay.failing(rng)?.first() {
        Some(eq) => Err(ShuffleError::Equation(*eq)),
        // If every equation holds, every combination of them does: this would be a bug.
        None => Err(ShuffleError::Batch),
    }
}
