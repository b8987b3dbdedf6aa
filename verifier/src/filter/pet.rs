//! Plaintext-equivalence tests (`13-revoting.md` §7.8, PT-1 … PT-3).

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::traits::IsIdentity;

use super::keys::Quorum;
use super::tags::{Pair, Shares, combine_blinding, combine_decryption};

/// PT-1: `Δ = (α_q − α_ℓ, β_q − β_ℓ)`.
pub fn difference(row: &Pair, list: &Pair) -> Pair {
    (row.0 - list.0, row.1 - list.1)
}

/// `Some(pass)` when `Δ.α` is the identity (decided publicly: pass iff `Δ.β` is the identity);
/// `None` when the test goes through rounds 8–9.
pub fn public_decision(delta: &Pair) -> Option<bool> {
    delta.0.is_identity().then(|| delta.1.is_identity())
}

/// PT-2: the blinded differences `Δ′`; refuses an identity `Δ′α`.
pub fn blinded(quorum: &Quorum, count: usize, round8: &[Shares]) -> Result<Vec<Pair>, String> {
    let d = combine_blinding(quorum, count, round8)?;
    if let Some(i) = d.iter().position(|p| p.0.is_identity()) {
        return Err(format!("PT-2: the blinded difference of test {i} has the identity as α"));
    }
    Ok(d)
}

/// PT-3: pass iff `π = Δ′β − Σ_j E_j` is the identity.
pub fn decide(quorum: &Quorum, blinded: &[Pair], round9: &[Shares]) -> Result<Vec<bool>, String> {
    let betas: Vec<RistrettoPoint> = blinded.iter().map(|d| d.1).collect();
    Ok(combine_decryption(quorum, &betas, round9)?.iter().map(IsIdentity::is_identity).collect())
}
