//! Verification equations of the sigma proofs and signatures (`04-proofs.md`, `05-range.md`),
//! accumulated with random weights into one multiscalar multiplication per batch.

use bulletproofs::{BulletproofGens, PedersenGens, RangeProof};
use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use merlin::Transcript;
use rand::rngs::{OsRng, StdRng};
use rand::{RngCore, SeedableRng};

use crate::encoding::Point;
use crate::manifest::generator_h;
use crate::transcript::challenge;

/// `Σ coefficient·point = 0` over accumulated equations, each scaled by a fresh random weight.
/// `weights: false` checks every equation on its own (used to locate a failure).
pub struct Equations {
    rng: StdRng,
    batched: bool,
    g: Scalar,
    h: Scalar,
    scalars: Vec<Scalar>,
    points: Vec<RistrettoPoint>,
    failed: bool,
}

impl Equations {
    /// A batch with random weights.
    pub fn batched() -> Self {
        // Weights come from a CSPRNG seeded from the OS, after the record has been read.
        Self {
            rng: StdRng::from_rng(OsRng).unwrap_or_else(|_| StdRng::from_entropy()),
            batched: true,
            g: Scalar::ZERO,
            h: Scalar::ZERO,
            scalars: vec![],
            points: vec![],
            failed: false,
        }
    }

    /// Equation-by-equation checking.
    pub fn direct() -> Self {
        Self { batched: false, ..Self::batched() }
    }

    fn weight(&mut self) -> Scalar {
        if !self.batched {
            return Scalar::ONE;
        }
        let mut b = [0u8; 64];
        self.rng.fill_bytes(&mut b);
        Scalar::from_bytes_mod_order_wide(&b)
    }

    /// Adds `g·G + h·H + Σ cᵢ·Pᵢ = 0`. Returns false if checked directly and it fails.
    pub fn add(&mut self, g: Scalar, h: Scalar, terms: &[(Scalar, RistrettoPoint)]) -> bool {
        let w = self.weight();
        if !self.batched {
            let mut sc: Vec<Scalar> = terms.iter().map(|t| t.0).collect();
            let mut pts: Vec<RistrettoPoint> = terms.iter().map(|t| t.1).collect();
            sc.push(g);
            pts.push(RISTRETTO_BASEPOINT_POINT);
            sc.push(h);
            pts.push(generator_h());
            let ok = RistrettoPoint::vartime_multiscalar_mul(sc, pts).is_identity();
            self.failed |= !ok;
            return ok;
        }
        self.g += w * g;
        self.h += w * h;
        for (c, p) in terms {
            self.scalars.push(w * c);
            self.points.push(*p);
        }
        true
    }

    /// Records a failure that is not an equation (e.g. a challenge mismatch).
    pub fn fail(&mut self) {
        self.failed = true;
    }

    /// Whether everything added holds.
    pub fn check(mut self) -> bool {
        if self.failed {
            return false;
        }
        if !self.batched {
            return true;
        }
        self.scalars.push(self.g);
        self.points.push(RISTRETTO_BASEPOINT_POINT);
        self.scalars.push(self.h);
        self.points.push(generator_h());
        RistrettoPoint::vartime_multiscalar_mul(self.scalars, self.points).is_identity()
    }
}

/// One branch `(A, B, c, z)` of a disjunctive proof.
pub struct Branch {
    /// A.
    pub a: Point,
    /// B.
    pub b: Point,
    /// c.
    pub c: Scalar,
    /// z.
    pub z: Scalar,
}

/// Disjunctive proof that `(α, β)` under `K` encrypts one of `values` (`04-proofs.md`
/// §Disjunctive). The transcript holds the statement; returns false on a structural failure.
pub fn disjunctive(
    t: &mut Transcript,
    k: &RistrettoPoint,
    alpha: &RistrettoPoint,
    beta: &RistrettoPoint,
    values: &[u64],
    branches: &[Branch],
    eqs: &mut Equations,
) -> bool {
    if branches.len() != values.len() {
        return false;
    }
    for br in branches {
        t.append_message(b"A", &br.a.bytes);
        t.append_message(b"B", &br.b.bytes);
    }
    let c = challenge(t, b"c");
    let sum: Scalar = branches.iter().map(|b| b.c).sum();
    if sum != c {
        return false;
    }
    let mut ok = true;
    for (v, br) in values.iter().zip(branches) {
        ok &= eqs.add(br.z, Scalar::ZERO, &[(-Scalar::ONE, br.a.p), (-br.c, *alpha)]);
        ok &= eqs.add(br.c * Scalar::from(*v), Scalar::ZERO, &[(br.z, *k), (-Scalar::ONE, br.b.p), (-br.c, *beta)]);
    }
    ok
}

/// The wide-range count proof: link proof plus bulletproofs (`05-range.md`).
pub struct RangeProofParts {
    /// V₁.
    pub v1: Point,
    /// A₁, A₂, A₃.
    pub a: [Point; 3],
    /// z_x, z_R, z_s.
    pub z: [Scalar; 3],
    /// The bulletproof bytes.
    pub bulletproof: Vec<u8>,
}

fn bit_size(span: u64) -> usize {
    if span < 1 << 8 {
        8
    } else if span < 1 << 16 {
        16
    } else if span < 1 << 32 {
        32
    } else {
        64
    }
}

fn bulletproof_gens() -> &'static (BulletproofGens, PedersenGens) {
    static GENS: std::sync::OnceLock<(BulletproofGens, PedersenGens)> = std::sync::OnceLock::new();
    GENS.get_or_init(|| {
        (BulletproofGens::new(64, 2), PedersenGens { B: RISTRETTO_BASEPOINT_POINT, B_blinding: generator_h() })
    })
}

/// Verifies the wide-range count proof for `lo ≤ v ≤ hi`.
#[allow(clippy::too_many_arguments)]
pub fn range(
    t: &mut Transcript,
    k: &RistrettoPoint,
    alpha: &RistrettoPoint,
    beta: &RistrettoPoint,
    lo: u64,
    hi: u64,
    p: &RangeProofParts,
    eqs: &mut Equations,
) -> bool {
    if hi < lo {
        return false;
    }
    t.append_message(b"V1", &p.v1.bytes);
    t.append_message(b"A1", &p.a[0].bytes);
    t.append_message(b"A2", &p.a[1].bytes);
    t.append_message(b"A3", &p.a[2].bytes);
    let c = challenge(t, b"c");
    let [zx, zr, zs] = p.z;
    let mut ok = eqs.add(zr, Scalar::ZERO, &[(-Scalar::ONE, p.a[0].p), (-c, *alpha)]);
    ok &= eqs.add(zx + c * Scalar::from(lo), Scalar::ZERO, &[(zr, *k), (-Scalar::ONE, p.a[1].p), (-c, *beta)]);
    ok &= eqs.add(zx, zs, &[(-Scalar::ONE, p.a[2].p), (-c, p.v1.p)]);
    let Ok(rp) = RangeProof::from_bytes(&p.bulletproof) else { return false };
    let v2 = Scalar::from(hi - lo) * RISTRETTO_BASEPOINT_POINT - p.v1.p;
    let (bp, pc) = bulletproof_gens();
    ok && rp
        .verify_multiple_with_rng(
            bp,
            pc,
            t,
            &[CompressedRistretto(p.v1.bytes), v2.compress()],
            bit_size(hi - lo),
            &mut OsRng,
        )
        .is_ok()
}

/// A Schnorr signature `(R, s)` by `X` over the message already in `t` (`04-proofs.md` §Signatures).
pub fn signature(t: &mut Transcript, x: &Point, r: &Point, s: &Scalar, eqs: &mut Equations) -> bool {
    t.append_message(b"dom-sep", b"schnorr-signature");
    t.append_message(b"signer", &x.bytes);
    t.append_message(b"R", &r.bytes);
    let c = challenge(t, b"c");
    eqs.add(*s, Scalar::ZERO, &[(-Scalar::ONE, r.p), (-c, x.p)])
}

/// A Chaum–Pedersen proof `(A, B, z)` of `log_G X = log_P Y` for the statement in `t`.
#[allow(clippy::too_many_arguments)]
pub fn dleq(
    t: &mut Transcript,
    x: &RistrettoPoint,
    p: &RistrettoPoint,
    y: &RistrettoPoint,
    a: &Point,
    b: &Point,
    z: &Scalar,
    eqs: &mut Equations,
) -> bool {
    t.append_message(b"A", &a.bytes);
    t.append_message(b"B", &b.bytes);
    let c = challenge(t, b"c");
    let ok = eqs.add(*z, Scalar::ZERO, &[(-Scalar::ONE, a.p), (-c, *x)]);
    ok & eqs.add(Scalar::ZERO, Scalar::ZERO, &[(*z, *p), (-Scalar::ONE, b.p), (-c, *y)])
}

/// A Schnorr proof of knowledge `(A, z)` of `log_G P` for the statement in `t`.
pub fn schnorr_pok(t: &mut Transcript, p: &RistrettoPoint, a: &Point, z: &Scalar, eqs: &mut Equations) -> bool {
    t.append_message(b"A", &a.bytes);
    let c = challenge(t, b"c");
    eqs.add(*z, Scalar::ZERO, &[(-Scalar::ONE, a.p), (-c, *p)])
}

/// Checks `items` as one batch; if the batch fails, re-checks each item on its own and returns
/// the indexes of those that fail (empty when all hold). `add` adds an item's equations and
/// returns false on a failure it finds without an equation.
pub fn locate<T>(items: &[T], add: impl Fn(&T, &mut Equations) -> bool) -> Vec<usize> {
    let mut eqs = Equations::batched();
    let mut ok = true;
    for it in items {
        ok &= add(it, &mut eqs);
    }
    if ok && eqs.check() {
        return Vec::new();
    }
    items
        .iter()
        .enumerate()
        .filter(|(_, it)| {
            let mut e = Equations::direct();
            !(add(it, &mut e) && e.check())
        })
        .map(|(i, _)| i)
        .collect()
}
