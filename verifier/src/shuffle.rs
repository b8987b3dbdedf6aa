//! The proof of a shuffle of rows of ciphertexts (`12-shuffle.md`), each column under its own
//! key, checked from the text of the specification: the generators (SH-G1, SH-G2), the transcript and challenges (SH-C1,
//! SH-C2), and the equations SH-1 … SH-6.
//!
//! Each of SH-1 … SH-5 is evaluated on its own, as one multiscalar multiplication, the
//! equations in parallel; only the N equations SH-6 are combined with random weights (and
//! re-checked row by row if the combination fails). The failure names the equation.

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use rand::rngs::{OsRng, StdRng};
use rand::{RngCore, SeedableRng};
use rayon::prelude::*;
use serde_json::Value;
use sha2::{Digest, Sha512};

use crate::encoding::{Decoded, Invalid, Point, array, exact, field, point, scalar};
use crate::transcript;

/// At most this many rows (`MAX_ROWS`, 12-shuffle.md §Notation).
const MAX_ROWS: usize = u32::MAX as usize;
/// At most this many ciphertexts per row (`MAX_WIDTH`).
const MAX_WIDTH: usize = 1024;

/// A ciphertext `(α, β)`.
pub type Ciphertext = (Point, Point);

/// What a shuffle proof is about (§Statement).
pub struct Statement {
    /// The extended context hash.
    pub context: [u8; 32],
    /// The shuffle's purpose (1 to 256 bytes).
    pub purpose: String,
    /// The column keys `K_0 … K_{w−1}` (the election key `K`, or `H` for an ordinal column).
    pub keys: Vec<Point>,
    /// Input rows `C_j`.
    pub input: Vec<Vec<Ciphertext>>,
    /// Output rows `C'_i`.
    pub output: Vec<Vec<Ciphertext>>,
}

/// A shuffle proof (§Serialized form).
pub struct Proof {
    /// `P_j`.
    pub permutation_commitments: Vec<Point>,
    /// `Ĉ_i`.
    pub chain: Vec<Point>,
    /// `T₁, T₂, T₃`.
    pub t: [Point; 3],
    /// `(T₄α_k, T₄β_k)`.
    pub t4: Vec<(Point, Point)>,
    /// `T̂_i`.
    pub t_hat: Vec<Point>,
    /// `s₁, s₂, s₃`.
    pub s: [Scalar; 3],
    /// `s₄_k`.
    pub s4: Vec<Scalar>,
    /// `ŝ_i`.
    pub s_hat: Vec<Scalar>,
    /// `s'_i`.
    pub s_prime: Vec<Scalar>,
}

fn ciphertext(v: &Value, what: &str) -> Decoded<Ciphertext> {
    exact(v, &["alpha", "beta"], what)?;
    Ok((point(field(v, "alpha", what)?, what)?, point(field(v, "beta", what)?, what)?))
}

/// Rows `[[Ciphertext × w] × N]`: at least one row, every row of the same width 1 … 1024.
pub fn parse_rows(v: &Value, what: &str) -> Decoded<Vec<Vec<Ciphertext>>> {
    let rows = v.as_array().ok_or_else(|| Invalid(format!("{what}: expected an array of rows")))?;
    let width = rows.first().and_then(Value::as_array).map_or(0, Vec::len);
    if rows.is_empty() || rows.len() > MAX_ROWS || width == 0 || width > MAX_WIDTH {
        return Err(Invalid(format!("{what}: needs 1 to 2^32 - 1 rows of 1 to 1024 ciphertexts")));
    }
    rows.iter()
        .enumerate()
        .map(|(j, r)| {
            let here = format!("{what} row {j}");
            let cts = r.as_array().ok_or_else(|| Invalid(format!("{here}: expected an array")))?;
            if cts.len() != width {
                return Err(Invalid(format!("{here}: {} ciphertexts, the first row has {width}", cts.len())));
            }
            cts.iter().map(|c| ciphertext(c, &here)).collect()
        })
        .collect()
}

fn points(v: &Value, name: &str) -> Decoded<Vec<Point>> {
    array(v, name, "shuffle proof")?.iter().map(|p| point(p, name)).collect()
}

fn scalars(v: &Value, name: &str) -> Decoded<Vec<Scalar>> {
    array(v, name, "shuffle proof")?.iter().map(|s| scalar(s, name)).collect()
}

/// Parses a proof strictly (unknown fields, invalid points and scalars refused).
pub fn parse_proof(v: &Value) -> Decoded<Proof> {
    let what = "shuffle proof";
    let names = [
        "permutation_commitments",
        "chain",
        "t1",
        "t2",
        "t3",
        "t4",
        "t_hat",
        "s1",
        "s2",
        "s3",
        "s4",
        "s_hat",
        "s_prime",
    ];
    exact(v, &names, what)?;
    let pt = |n: &str| point(field(v, n, what)?, n);
    let sc = |n: &str| scalar(field(v, n, what)?, n);
    let t4 = array(v, "t4", what)?.iter().map(|p| ciphertext(p, "t4")).collect::<Decoded<_>>()?;
    Ok(Proof {
        permutation_commitments: points(v, "permutation_commitments")?,
        chain: points(v, "chain")?,
        t: [pt("t1")?, pt("t2")?, pt("t3")?],
        t4,
        t_hat: points(v, "t_hat")?,
        s: [sc("s1")?, sc("s2")?, sc("s3")?],
        s4: scalars(v, "s4")?,
        s_hat: scalars(v, "s_hat")?,
        s_prime: scalars(v, "s_prime")?,
    })
}

/// `OneWayMap(SHA-512(x))` (01-group.md §Generators).
fn hash_to_group(x: &[u8]) -> RistrettoPoint {
    RistrettoPoint::from_uniform_bytes(&Sha512::digest(x).into())
}

/// `prefix ‖ ctx ‖ LE64(len(purpose)) ‖ purpose` (SH-G1, SH-G2).
fn generator_input(prefix: &[u8], st: &Statement) -> Vec<u8> {
    [prefix, &st.context, &(st.purpose.len() as u64).to_le_bytes(), st.purpose.as_bytes()].concat()
}

/// `Σ scalar·point = 0`, in variable time (everything here is public).
fn holds(terms: Vec<(Scalar, RistrettoPoint)>) -> bool {
    let (sc, pt): (Vec<Scalar>, Vec<RistrettoPoint>) = terms.into_iter().unzip();
    RistrettoPoint::vartime_multiscalar_mul(sc, pt).is_identity()
}

/// Checks the shapes of statement and proof (§Verifier, first sentence).
fn shape(st: &Statement, pr: &Proof) -> Result<(usize, usize), String> {
    let n = st.input.len();
    let w = st.input.first().map_or(0, Vec::len);
    if st.purpose.is_empty() || st.purpose.len() > 256 {
        return Err("the purpose must be 1 to 256 bytes".into());
    }
    if n == 0 || n > MAX_ROWS || w == 0 || w > MAX_WIDTH {
        return Err("a shuffle needs 1 to 2^32 - 1 rows of 1 to 1024 ciphertexts".into());
    }
    if st.output.len() != n || st.input.iter().chain(&st.output).any(|r| r.len() != w) {
        return Err(format!("the input and output must both be {n} rows of {w} ciphertexts"));
    }
    if st.keys.len() != w {
        return Err(format!("the statement must have one key per column ({w}), not {}", st.keys.len()));
    }
    let per_row = [pr.permutation_commitments.len(), pr.chain.len(), pr.t_hat.len(), pr.s_hat.len(), pr.s_prime.len()];
    if per_row.iter().any(|&l| l != n) || pr.t4.len() != w || pr.s4.len() != w {
        return Err(format!("the proof's lists must have {n} (per row) or {w} (per column) entries"));
    }
    Ok((n, w))
}

/// Verifies a shuffle proof. `Err` names the shape problem or the first equation that fails.
pub fn check(st: &Statement, pr: &Proof) -> Result<(), String> {
    let (n, w) = shape(st, pr)?;
    let g = RISTRETTO_BASEPOINT_POINT;

    // SH-G1, SH-G2.
    let h_prefix = generator_input(b"dobush/v1/shuffle/generator", st);
    let h: Vec<RistrettoPoint> = (0..n as u64)
        .into_par_iter()
        .map(|i| hash_to_group(&[h_prefix.as_slice(), &i.to_le_bytes()].concat()))
        .collect();
    let h_hat = hash_to_group(&generator_input(b"dobush/v1/shuffle/chain-base", st));

    // §Transcript and challenges.
    let mut t = transcript::new(b"shuffle");
    t.append_message(b"context", &st.context);
    t.append_message(b"purpose", st.purpose.as_bytes());
    t.append_u64(b"rows", n as u64);
    t.append_u64(b"width", w as u64);
    for key in &st.keys {
        t.append_message(b"pk", &key.bytes);
    }
    for (a, b) in st.input.iter().chain(&st.output).flatten() {
        t.append_message(b"alpha", &a.bytes);
        t.append_message(b"beta", &b.bytes);
    }
    for p in &pr.permutation_commitments {
        t.append_message(b"pc", &p.bytes);
    }
    let seed = transcript::hash32(&mut t, b"u");
    let u: Vec<Scalar> = (0..n as u64)
        .into_par_iter()
        .map(|j| {
            let d = Sha512::new().chain_update(b"dobush/v1/shuffle/u").chain_update(seed).chain_update(j.to_le_bytes());
            Scalar::from_bytes_mod_order_wide(&d.finalize().into())
        })
        .collect();
    for p in &pr.chain {
        t.append_message(b"cc", &p.bytes);
    }
    for (label, p) in [b"t1", b"t2", b"t3"].iter().zip(&pr.t) {
        t.append_message(*label, &p.bytes);
    }
    for (a, b) in &pr.t4 {
        t.append_message(b"t4a", &a.bytes);
        t.append_message(b"t4b", &b.bytes);
    }
    for p in &pr.t_hat {
        t.append_message(b"th", &p.bytes);
    }
    let c = transcript::challenge(&mut t, b"c");

    // SH-1 … SH-5, each on its own, in parallel.
    let [s1, s2, s3] = pr.s;
    let [t1, t2, t3] = [pr.t[0].p, pr.t[1].p, pr.t[2].p];
    let cu: Vec<Scalar> = u.iter().map(|x| c * x).collect();
    let prod_u: Scalar = u.iter().product();
    let last = pr.chain.last().map_or(g, |p| p.p);
    let mut eqs = vec![Eq::Sh1, Eq::Sh2, Eq::Sh3];
    eqs.extend((0..w).flat_map(|col| [Eq::Column { col, second: false }, Eq::Column { col, second: true }]));
    let terms = |e: &Eq| -> Vec<(Scalar, RistrettoPoint)> {
        match *e {
            Eq::Sh1 => {
                let mut v = vec![(s1, g), (-Scalar::ONE, t1)];
                v.extend(pr.permutation_commitments.iter().map(|p| (-c, p.p)));
                v.extend(h.iter().map(|x| (c, *x)));
                v
            }
            Eq::Sh2 => vec![(s2, g), (-Scalar::ONE, t2), (-c, last), (c * prod_u, h_hat)],
            Eq::Sh3 => {
                let mut v = vec![(s3, g), (-Scalar::ONE, t3)];
                v.extend(pr.s_prime.iter().zip(&h).map(|(s, x)| (*s, *x)));
                v.extend(cu.iter().zip(&pr.permutation_commitments).map(|(x, p)| (-x, p.p)));
                v
            }
            Eq::Column { col, second } => {
                let pick = |row: &Vec<Ciphertext>| row.get(col).map(|ct| if second { ct.1.p } else { ct.0.p });
                let mut v: Vec<(Scalar, RistrettoPoint)> =
                    pr.s_prime.iter().zip(st.output.iter().filter_map(pick)).map(|(s, p)| (*s, p)).collect();
                v.extend(cu.iter().zip(st.input.iter().filter_map(pick)).map(|(x, p)| (-x, p)));
                if let (Some((ta, tb)), Some(s4), Some(key)) = (pr.t4.get(col), pr.s4.get(col), st.keys.get(col)) {
                    let (base, commitment) = if second { (key.p, tb.p) } else { (g, ta.p) };
                    v.extend([(-s4, base), (-Scalar::ONE, commitment)]);
                }
                v
            }
        }
    };
    if let Some(e) = eqs.par_iter().find_first(|e| !holds(terms(e))) {
        return Err(format!("{e} does not hold"));
    }

    // SH-6: every row in one combination with random weights drawn now; Ĉ_{−1} = ĥ.
    let before = std::iter::once(h_hat).chain(pr.chain.iter().map(|p| p.p));
    let rows: Vec<[(Scalar, RistrettoPoint); 4]> = pr
        .s_hat
        .iter()
        .zip(&pr.s_prime)
        .zip(before)
        .zip(pr.t_hat.iter().zip(&pr.chain))
        .map(|(((sh, sp), prev), (th, ch))| [(*sh, g), (*sp, prev), (-Scalar::ONE, th.p), (-c, ch.p)])
        .collect();
    let mut rng = StdRng::from_rng(OsRng).unwrap_or_else(|_| StdRng::from_entropy());
    let weights: Vec<Scalar> = rows
        .iter()
        .map(|_| {
            let mut b = [0u8; 64];
            rng.fill_bytes(&mut b);
            Scalar::from_bytes_mod_order_wide(&b)
        })
        .collect();
    let combined = rows.iter().zip(&weights).flat_map(|(r, x)| r.iter().map(move |(s, p)| (x * s, *p)));
    if holds(combined.collect()) {
        return Ok(());
    }
    match rows.par_iter().position_first(|r| !holds(r.to_vec())) {
        Some(i) => Err(format!("SH-6 row {i} does not hold")),
        None => Err("SH-6 does not hold".into()),
    }
}

/// SH-1 … SH-5 (SH-4 and SH-5 per column).
enum Eq {
    Sh1,
    Sh2,
    Sh3,
    Column { col: usize, second: bool },
}

impl std::fmt::Display for Eq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Eq::Sh1 => f.write_str("SH-1"),
            Eq::Sh2 => f.write_str("SH-2"),
            Eq::Sh3 => f.write_str("SH-3"),
            Eq::Column { col, second } => write!(f, "SH-{} column {col}", if *second { 5 } else { 4 }),
        }
    }
}
