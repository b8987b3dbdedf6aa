//! Round 0 of the filter (`13-revoting.md` §7.1): the quorum F and the Schnorr proofs of the
//! members' key shares on the `filter-key` transcript: `K_j`, one `K′_{j,st}` per station of the
//! package (its transcript also binds the station id), `Z_j`.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;

use crate::encoding::Point;
use crate::sigma::{Equations, schnorr_pok};
use crate::transcript;

/// The three key purposes of §7.1; any other is refused. `station-tag` keys are one per station.
pub const KEY_PURPOSES: [&str; 3] = ["tag", "station-tag", "pet"];

/// F: exactly t distinct members of 1 … n, ascending (§6), with `λ_j`.
pub struct Quorum {
    members: Vec<u64>,
    lagrange: Vec<Scalar>,
}

impl Quorum {
    /// Checks F against `n` and `t`.
    pub fn parse(n: u64, t: u64, members: &[u64]) -> Result<Self, String> {
        if members.len() as u64 != t {
            return Err(format!("filter quorum: {} members, t = {t} are needed", members.len()));
        }
        if members.iter().any(|j| *j == 0 || *j > n) {
            return Err(format!("filter quorum: a member outside 1..={n}"));
        }
        if members.windows(2).any(|w| w[0] >= w[1]) {
            return Err("filter quorum: members must be distinct and ascending".into());
        }
        // λ_j = Π_{m≠j} m / (m − j) (07-threshold.md §Lagrange); never 0 for distinct members.
        let lagrange = members
            .iter()
            .map(|j| {
                let (mut num, mut den) = (Scalar::ONE, Scalar::ONE);
                for m in members.iter().filter(|m| *m != j) {
                    num *= Scalar::from(*m);
                    den *= Scalar::from(*m) - Scalar::from(*j);
                }
                num * den.invert()
            })
            .collect();
        Ok(Self { members: members.to_vec(), lagrange })
    }

    /// The members.
    pub fn members(&self) -> &[u64] {
        &self.members
    }

    /// `λ_j`, if `j` is in F.
    pub fn lagrange(&self, j: u64) -> Option<Scalar> {
        self.members.iter().position(|m| *m == j).map(|i| self.lagrange[i])
    }
}

/// A key share `Y` with its Schnorr proof `(A, z)`.
pub struct ProvedKey {
    /// `Y`.
    pub key: Point,
    /// `A`.
    pub a: Point,
    /// `z`.
    pub z: Scalar,
}

/// Adds the equation of member `member`'s proof of `key` for `purpose` to `eqs`; `station` is
/// the station id of a `station-tag` key, and `None` for the others.
#[allow(clippy::too_many_arguments)]
pub fn check_key(
    context: &[u8; 32],
    run: u64,
    quorum: &Quorum,
    member: u64,
    purpose: &str,
    station: Option<&str>,
    key: &ProvedKey,
    eqs: &mut Equations,
) -> Result<bool, String> {
    if !KEY_PURPOSES.contains(&purpose) {
        return Err(format!("unknown filter key purpose {purpose:?}"));
    }
    if (purpose == "station-tag") != station.is_some() {
        return Err(format!("a {purpose} key {} a station", if station.is_some() { "with" } else { "without" }));
    }
    if quorum.lagrange(member).is_none() {
        return Err(format!("filter key of member {member}, who is not in the quorum"));
    }
    let mut t = transcript::new(b"filter-key");
    t.append_message(b"context", context);
    t.append_u64(b"run", run);
    t.append_u64(b"filter", quorum.members.len() as u64);
    for j in &quorum.members {
        t.append_u64(b"member", *j);
    }
    t.append_u64(b"prover", member);
    t.append_message(b"purpose", purpose.as_bytes());
    if let Some(id) = station {
        t.append_message(b"station", id.as_bytes());
    }
    t.append_message(b"Y", &key.key.bytes);
    Ok(schnorr_pok(&mut t, &key.key.p, &key.a, &key.z, eqs))
}

/// `Σ Y_j`, refused if the identity (a zero key).
pub fn combine(keys: &[Point]) -> Option<RistrettoPoint> {
    let s: RistrettoPoint = keys.iter().map(|k| k.p).sum();
    (!s.is_identity()).then_some(s)
}
