//! Share lists (`13-revoting.md` §7.6): blinding shares `(y_j·A, y_j·B)` with a batched proof
//! against `Y_j`, their sum TG-1, pre-scaled decryption shares `λ_j·s_j·α` with a batched proof
//! against `VK′_j = λ_j·VK_j`, and TG-2 `τ = B′ − Σ_j D_j`.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::traits::IsIdentity;

use super::dleq::{self, Proof, Purpose};
use super::keys::Quorum;
use crate::encoding::Point;
use crate::sigma::Equations;

/// A ciphertext `(α, β)` as points (either may be the identity in arithmetic).
pub type Pair = (RistrettoPoint, RistrettoPoint);

/// One member's share list.
pub struct Shares {
    /// The member.
    pub member: u64,
    /// `Q_i`.
    pub images: Vec<RistrettoPoint>,
    /// The batched proof.
    pub proof: Proof,
}

/// Where the proofs are made.
#[derive(Clone, Copy)]
pub struct Run<'a> {
    /// Extended context hash.
    pub context: [u8; 32],
    /// The run.
    pub run: u64,
    /// The style id.
    pub style: &'a str,
}

fn check(
    run: Run<'_>,
    purpose: Purpose,
    key: &Point,
    bases: &[RistrettoPoint],
    s: &Shares,
    eqs: &mut Equations,
) -> Result<bool, String> {
    let st = dleq::Statement {
        context: run.context,
        run: run.run,
        style: run.style,
        purpose,
        member: s.member,
        key: *key,
        bases,
        images: &s.images,
    };
    dleq::check_into(&st, &s.proof, eqs)
}

/// Adds the batched proof of blinding shares of `cts` (bases `A_0, B_0, A_1, …`) against `Y_j`.
pub fn check_blinding(
    run: Run<'_>,
    purpose: Purpose,
    key: &Point,
    cts: &[Pair],
    s: &Shares,
    eqs: &mut Equations,
) -> Result<bool, String> {
    let bases: Vec<RistrettoPoint> = cts.iter().flat_map(|c| [c.0, c.1]).collect();
    check(run, purpose, key, &bases, s, eqs)
}

/// Adds the batched proof of pre-scaled decryption shares of `alphas` against `VK′_j`.
pub fn check_decryption(
    run: Run<'_>,
    purpose: Purpose,
    scaled_vk: &Point,
    alphas: &[RistrettoPoint],
    s: &Shares,
    eqs: &mut Equations,
) -> Result<bool, String> {
    check(run, purpose, scaled_vk, alphas, s, eqs)
}

/// `VK′_j = λ_j·VK_j`.
pub fn scaled_vk(quorum: &Quorum, member: u64, vk: &Point) -> Option<Point> {
    let p = quorum.lagrange(member)? * vk.p;
    (!p.is_identity()).then(|| Point { p, bytes: p.compress().to_bytes() })
}

fn members_are_quorum(quorum: &Quorum, lists: &[Shares], per_member: usize) -> Result<(), String> {
    let mut m: Vec<u64> = lists.iter().map(|s| s.member).collect();
    m.sort_unstable();
    if m != quorum.members() {
        return Err(format!("share lists of members {m:?}; the quorum is {:?}", quorum.members()));
    }
    if let Some(s) = lists.iter().find(|s| s.images.len() != per_member) {
        return Err(format!("member {} gives {} shares, {per_member} expected", s.member, s.images.len()));
    }
    Ok(())
}

/// TG-1 / PT-2: `(Σ_j Q_{j,2i}, Σ_j Q_{j,2i+1})`.
pub fn combine_blinding(quorum: &Quorum, count: usize, lists: &[Shares]) -> Result<Vec<Pair>, String> {
    members_are_quorum(quorum, lists, 2 * count)?;
    Ok((0..count)
        .map(|i| {
            let a = lists.iter().map(|s| s.images[2 * i]).sum();
            let b = lists.iter().map(|s| s.images[2 * i + 1]).sum();
            (a, b)
        })
        .collect())
}

/// TG-2 / PT-3: `β_i − Σ_j D_{j,i}`.
pub fn combine_decryption(
    quorum: &Quorum,
    betas: &[RistrettoPoint],
    lists: &[Shares],
) -> Result<Vec<RistrettoPoint>, String> {
    members_are_quorum(quorum, lists, betas.len())?;
    Ok(betas.iter().enumerate().map(|(i, b)| b - lists.iter().map(|s| s.images[i]).sum::<RistrettoPoint>()).collect())
}
