//! Sigma proofs made non-interactive with Fiat–Shamir over Merlin transcripts
//! (`docs/protocol/04-proofs.md`).
//!
//! Every prover and verifier here takes a transcript that ALREADY holds the protocol domain
//! separator, the election context and the full statement (rule F1); they append only the
//! commitments and draw the challenge. Proofs carry their commitments, so that verification is
//! a set of linear equations in points, which [`EquationSink`] either checks one by one
//! ([`DirectCheck`]) or folds into one random linear combination ([`BatchVerifier`]).

pub mod disjunctive;
pub mod dleq;
pub mod range;
pub mod schnorr;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use rand_core::{CryptoRng, RngCore};

use crate::error::ProofError;
use crate::group::{generator_g, generator_h, random_scalar};

/// A base point shared by many equations in a batch (e.g. the election key), registered once.
#[derive(Clone, Copy, Debug)]
pub struct BaseId(usize);

/// One linear equation `g·G + h·H + Σ cᵢ·Bᵢ (fixed bases) + Σ dⱼ·Pⱼ = 0`.
pub struct Equation<'a> {
    /// Coefficient of the basepoint `G`.
    pub g: Scalar,
    /// Coefficient of the Pedersen generator `H`.
    pub h: Scalar,
    /// Terms on registered bases.
    pub fixed: &'a [(BaseId, Scalar)],
    /// Other terms.
    pub terms: &'a [(Scalar, RistrettoPoint)],
}

/// Where verification equations go: checked at once, or accumulated into a batch.
pub trait EquationSink {
    /// Registers a base that many equations use.
    fn base(&mut self, p: &RistrettoPoint) -> BaseId;
    /// Adds (or checks) one equation.
    fn equation(&mut self, eq: Equation<'_>) -> Result<(), ProofError>;
}

/// Checks each equation immediately with its own multiscalar multiplication. Needs no
/// randomness; used for single proofs and to locate a failure inside a failed batch.
#[derive(Default)]
pub struct DirectCheck {
    bases: Vec<RistrettoPoint>,
}

impl EquationSink for DirectCheck {
    fn base(&mut self, p: &RistrettoPoint) -> BaseId {
        self.bases.push(*p);
        BaseId(self.bases.len() - 1)
    }

    fn equation(&mut self, eq: Equation<'_>) -> Result<(), ProofError> {
        let mut scalars = Vec::with_capacity(2 + eq.fixed.len() + eq.terms.len());
        let mut points = Vec::with_capacity(scalars.capacity());
        scalars.push(eq.g);
        points.push(generator_g());
        if eq.h != Scalar::ZERO {
            scalars.push(eq.h);
            points.push(generator_h());
        }
        for (id, c) in eq.fixed {
            let p = self.bases.get(id.0).ok_or(ProofError::Shape("unknown base"))?;
            scalars.push(*c);
            points.push(*p);
        }
        for (c, p) in eq.terms {
            scalars.push(*c);
            points.push(*p);
        }
        let sum = RistrettoPoint::vartime_multiscalar_mul(scalars, points);
        if sum.is_identity() { Ok(()) } else { Err(ProofError::Equation) }
    }
}

/// Accumulates equations, each multiplied by a fresh random weight drawn from the RNG when the
/// equation is added (after its proof and statement are fixed), and checks them all with one
/// variable-time multiscalar multiplication (`docs/protocol/04-proofs.md` §Batch verification).
/// A false equation survives only with probability 1/ℓ.
pub struct BatchVerifier<'r, R: RngCore + CryptoRng> {
    rng: &'r mut R,
    g: Scalar,
    h: Scalar,
    fixed: Vec<(RistrettoPoint, Scalar)>,
    scalars: Vec<Scalar>,
    points: Vec<RistrettoPoint>,
}

impl<'r, R: RngCore + CryptoRng> BatchVerifier<'r, R> {
    /// An empty batch.
    pub fn new(rng: &'r mut R) -> Self {
        Self { rng, g: Scalar::ZERO, h: Scalar::ZERO, fixed: Vec::new(), scalars: Vec::new(), points: Vec::new() }
    }

    /// A point to which [`BatchVerifier::rollback`] can return, discarding the equations added
    /// since (used when a ballot turns out malformed halfway through its proofs).
    pub fn mark(&self) -> BatchMark {
        BatchMark { g: self.g, h: self.h, fixed: self.fixed.iter().map(|f| f.1).collect(), len: self.scalars.len() }
    }

    /// Discards every equation added since `mark`.
    pub fn rollback(&mut self, mark: BatchMark) {
        let BatchMark { g, h, fixed, len } = mark;
        self.g = g;
        self.h = h;
        self.fixed.truncate(fixed.len());
        for (slot, c) in self.fixed.iter_mut().zip(fixed) {
            slot.1 = c;
        }
        self.scalars.truncate(len);
        self.points.truncate(len);
    }

    /// Checks every accumulated equation at once.
    pub fn finish(self) -> Result<(), ProofError> {
        let mut scalars = self.scalars;
        let mut points = self.points;
        scalars.push(self.g);
        points.push(generator_g());
        scalars.push(self.h);
        points.push(generator_h());
        for (p, c) in self.fixed {
            scalars.push(c);
            points.push(p);
        }
        let sum = RistrettoPoint::vartime_multiscalar_mul(scalars, points);
        if sum.is_identity() { Ok(()) } else { Err(ProofError::Equation) }
    }
}

/// A saved state of a [`BatchVerifier`].
pub struct BatchMark {
    g: Scalar,
    h: Scalar,
    fixed: Vec<Scalar>,
    len: usize,
}

impl<R: RngCore + CryptoRng> EquationSink for BatchVerifier<'_, R> {
    fn base(&mut self, p: &RistrettoPoint) -> BaseId {
        self.fixed.push((*p, Scalar::ZERO));
        BaseId(self.fixed.len() - 1)
    }

    fn equation(&mut self, eq: Equation<'_>) -> Result<(), ProofError> {
        let w = random_scalar(self.rng);
        self.g += w * eq.g;
        self.h += w * eq.h;
        for (id, c) in eq.fixed {
            let slot = self.fixed.get_mut(id.0).ok_or(ProofError::Shape("unknown base"))?;
            slot.1 += w * c;
        }
        for (c, p) in eq.terms {
            self.scalars.push(w * c);
            self.points.push(*p);
        }
        Ok(())
    }
}
