//! Round 0 of the filter (`docs/protocol/13-revoting.md` §7.1): the quorum F, and each
//! member's tag, station-tag and PET key shares `K_j = k_j·G`, `K′_j = k′_j·G`, `Z_j = z_j·G`
//! with Schnorr proofs of knowledge on the `filter-key` transcript; their sums `K`, `K′`, `Z`.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::ProofError;
use crate::group::{GroupElement, mul_base, random_nonzero_scalar};
use crate::labels;
use crate::proofs::schnorr::SchnorrProof;
use crate::proofs::{DirectCheck, EquationSink};
use crate::threshold::{Parameters, lagrange_at_zero};
use crate::transcript::TranscriptProtocol;

/// What went wrong with the quorum or a member's key shares.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FilterKeyError {
    /// F is not t distinct, ascending indices in `1..=n` (§6).
    #[error("filter quorum: {0}")]
    Quorum(String),
    /// Key shares of a member outside F, missing, or given twice.
    #[error("filter keys: {0}")]
    Members(String),
    /// A Schnorr proof of a key share fails.
    #[error("filter key share {purpose} of member {member}: {source}")]
    Proof {
        /// The member.
        member: u32,
        /// `tag`, `station-tag` or `pet`.
        purpose: &'static str,
        /// What failed.
        source: ProofError,
    },
    /// A combined key is the identity (its secret would be 0).
    #[error("the combined {0} key is the identity")]
    Identity(&'static str),
}

/// The filter quorum F: exactly `t` distinct key-holders of `1 … n`, ascending (§6), with
/// their Lagrange coefficients at 0 (`λ_j`, never 0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quorum {
    members: Vec<u32>,
    lagrange: Vec<Scalar>,
}

impl Quorum {
    /// Checks that `members` are `t` distinct indices in `1..=n`, ascending.
    pub fn new(params: &Parameters, members: &[u32]) -> Result<Self, FilterKeyError> {
        if members.len() != params.t() as usize {
            return Err(FilterKeyError::Quorum(format!("{} members, t = {} are needed", members.len(), params.t())));
        }
        if let Some(j) = members.iter().find(|j| **j == 0 || **j > params.n()) {
            return Err(FilterKeyError::Quorum(format!("member {j} is outside 1..={}", params.n())));
        }
        if members.windows(2).any(|w| w[0] >= w[1]) {
            return Err(FilterKeyError::Quorum("members must be distinct and ascending".into()));
        }
        let lagrange = lagrange_at_zero(members).map_err(|e| FilterKeyError::Quorum(e.to_string()))?;
        Ok(Self { members: members.to_vec(), lagrange })
    }

    /// The members, ascending.
    pub fn members(&self) -> &[u32] {
        &self.members
    }

    /// `λ_j` of member `j`, or `None` if `j` is not in F.
    pub fn lagrange(&self, j: u32) -> Option<Scalar> {
        self.members.iter().position(|m| *m == j).and_then(|i| self.lagrange.get(i).copied())
    }
}

/// Which of the three keys (§7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyPurpose {
    /// `k`: the tags (§7.6).
    Tag,
    /// `k′`: the station tags (§7.4).
    StationTag,
    /// `z`: the plaintext-equivalence tests (§7.8).
    Pet,
}

impl KeyPurpose {
    /// The three, in the order of §7.1.
    pub const ALL: [KeyPurpose; 3] = [KeyPurpose::Tag, KeyPurpose::StationTag, KeyPurpose::Pet];

    /// The name appended as `purpose`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyPurpose::Tag => "tag",
            KeyPurpose::StationTag => "station-tag",
            KeyPurpose::Pet => "pet",
        }
    }
}

/// A member's secret shares `k_j`, `k′_j`, `z_j`: zeroized on drop, redacted in `Debug`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct FilterSecrets {
    #[zeroize(skip)]
    member: u32,
    tag: Scalar,
    station_tag: Scalar,
    pet: Scalar,
}

impl std::fmt::Debug for FilterSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FilterSecrets(member={}, <redacted>)", self.member)
    }
}

impl FilterSecrets {
    /// The member.
    pub fn member(&self) -> u32 {
        self.member
    }

    pub(crate) fn secret(&self, p: KeyPurpose) -> &Scalar {
        match p {
            KeyPurpose::Tag => &self.tag,
            KeyPurpose::StationTag => &self.station_tag,
            KeyPurpose::Pet => &self.pet,
        }
    }
}

/// A public key share with its Schnorr proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvedKey {
    /// `Y = y·G`.
    pub key: GroupElement,
    /// Proof of knowledge of `y`.
    pub proof: SchnorrProof,
}

/// Member `j`'s round-0 keys: `K_j`, `K′_j`, `Z_j` with their proofs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberKeys {
    /// The member `j`.
    pub member: u32,
    /// `K_j`.
    pub tag: ProvedKey,
    /// `K′_j`.
    pub station_tag: ProvedKey,
    /// `Z_j`.
    pub pet: ProvedKey,
}

impl MemberKeys {
    /// The key share for `p`.
    pub fn key(&self, p: KeyPurpose) -> &ProvedKey {
        match p {
            KeyPurpose::Tag => &self.tag,
            KeyPurpose::StationTag => &self.station_tag,
            KeyPurpose::Pet => &self.pet,
        }
    }
}

/// The statement transcript of §7.1:
/// `new("filter-key")`, `context`, `run`, `filter: u(|F|)`, `member: u(j)` for j ∈ F ascending,
/// `prover: u(j)`, `purpose`, `Y`; the Schnorr proof then appends `A` and draws `c`.
fn key_transcript(
    context: &[u8; 32],
    run: u64,
    quorum: &Quorum,
    member: u32,
    p: KeyPurpose,
    y: &GroupElement,
) -> Transcript {
    let mut t = Transcript::protocol(labels::DS_FILTER_KEY);
    t.append_message(labels::L_CONTEXT, context);
    t.append_u64(labels::L_RUN, run);
    t.append_u64(labels::L_FILTER, quorum.members.len() as u64);
    for j in &quorum.members {
        t.append_u64(labels::L_MEMBER, u64::from(*j));
    }
    t.append_u64(labels::L_PROVER, u64::from(member));
    t.append_str(labels::L_PURPOSE, p.as_str());
    t.append_element(labels::L_CAP_Y, y);
    t
}

/// Member `j` draws `k_j`, `k′_j`, `z_j` (non-zero, in this order) and proves each.
pub fn generate<R: RngCore + CryptoRng>(
    context: &[u8; 32],
    run: u64,
    quorum: &Quorum,
    member: u32,
    rng: &mut R,
) -> Result<(FilterSecrets, MemberKeys), FilterKeyError> {
    if quorum.lagrange(member).is_none() {
        return Err(FilterKeyError::Members(format!("member {member} is not in the quorum")));
    }
    let secrets = FilterSecrets {
        member,
        tag: random_nonzero_scalar(rng),
        station_tag: random_nonzero_scalar(rng),
        pet: random_nonzero_scalar(rng),
    };
    let mut prove = |p: KeyPurpose| -> Result<ProvedKey, FilterKeyError> {
        let y = secrets.secret(p);
        let key = GroupElement::from_point(mul_base(y)).map_err(|_| FilterKeyError::Identity(p.as_str()))?;
        let mut t = key_transcript(context, run, quorum, member, p, &key);
        let proof = SchnorrProof::prove(&mut t, y, rng).map_err(|source| FilterKeyError::Proof {
            member,
            purpose: p.as_str(),
            source,
        })?;
        Ok(ProvedKey { key, proof })
    };
    let keys = MemberKeys {
        member,
        tag: prove(KeyPurpose::Tag)?,
        station_tag: prove(KeyPurpose::StationTag)?,
        pet: prove(KeyPurpose::Pet)?,
    };
    Ok((secrets, keys))
}

impl MemberKeys {
    /// Adds the three proofs' equations to `sink`.
    pub fn verify_into<S: EquationSink>(
        &self,
        context: &[u8; 32],
        run: u64,
        quorum: &Quorum,
        sink: &mut S,
    ) -> Result<(), FilterKeyError> {
        if quorum.lagrange(self.member).is_none() {
            return Err(FilterKeyError::Members(format!("member {} is not in the quorum", self.member)));
        }
        for p in KeyPurpose::ALL {
            let k = self.key(p);
            let mut t = key_transcript(context, run, quorum, self.member, p, &k.key);
            k.proof.verify(&mut t, &k.key, sink).map_err(|source| FilterKeyError::Proof {
                member: self.member,
                purpose: p.as_str(),
                source,
            })?;
        }
        Ok(())
    }
}

/// The verified round-0 keys of the whole quorum: every member's shares and `K`, `K′`, `Z`.
#[derive(Clone, Debug)]
pub struct FilterKeys {
    members: Vec<MemberKeys>,
    combined: [GroupElement; 3],
}

impl FilterKeys {
    /// Checks one key set per member of F (in any order) and each proof on its own, and sums
    /// them: `K = Σ K_j`, `K′ = Σ K′_j`, `Z = Σ Z_j`. A combined identity is refused.
    pub fn combine(context: &[u8; 32], run: u64, quorum: &Quorum, keys: &[MemberKeys]) -> Result<Self, FilterKeyError> {
        let mut members = Vec::with_capacity(quorum.members.len());
        for j in &quorum.members {
            let mut mine = keys.iter().filter(|k| k.member == *j);
            let (Some(k), None) = (mine.next(), mine.next()) else {
                return Err(FilterKeyError::Members(format!("exactly one key set of member {j} is needed")));
            };
            k.verify_into(context, run, quorum, &mut DirectCheck::default())?;
            members.push(k.clone());
        }
        if keys.len() != members.len() {
            return Err(FilterKeyError::Members("key sets of members outside the quorum".into()));
        }
        let sum = |p: KeyPurpose| -> Result<GroupElement, FilterKeyError> {
            let s: RistrettoPoint = members.iter().map(|m| *m.key(p).key.point()).sum();
            GroupElement::from_point(s).map_err(|_| FilterKeyError::Identity(p.as_str()))
        };
        let combined = [sum(KeyPurpose::Tag)?, sum(KeyPurpose::StationTag)?, sum(KeyPurpose::Pet)?];
        Ok(Self { members, combined })
    }

    /// The combined key `K`, `K′` or `Z`.
    pub fn combined(&self, p: KeyPurpose) -> &GroupElement {
        match p {
            KeyPurpose::Tag => &self.combined[0],
            KeyPurpose::StationTag => &self.combined[1],
            KeyPurpose::Pet => &self.combined[2],
        }
    }

    /// Member `j`'s share of `p`, if `j` is in F.
    pub fn member_key(&self, j: u32, p: KeyPurpose) -> Option<&GroupElement> {
        self.members.iter().find(|m| m.member == j).map(|m| &m.key(p).key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    const CTX: [u8; 32] = [3; 32];

    #[test]
    fn quorum_is_t_distinct_ascending_members() {
        let p = Parameters::new(5, 3).unwrap();
        assert!(Quorum::new(&p, &[1, 3, 5]).is_ok());
        assert!(Quorum::new(&p, &[1, 3]).is_err(), "fewer than t");
        assert!(Quorum::new(&p, &[1, 3, 4, 5]).is_err(), "more than t");
        assert!(Quorum::new(&p, &[0, 3, 5]).is_err(), "index 0");
        assert!(Quorum::new(&p, &[1, 3, 6]).is_err(), "index above n");
        assert!(Quorum::new(&p, &[3, 3, 5]).is_err(), "repeated");
        assert!(Quorum::new(&p, &[3, 1, 5]).is_err(), "not ascending");
        let q = Quorum::new(&p, &[2, 4, 5]).unwrap();
        assert!(q.lagrange(3).is_none());
        let sum: Scalar = q.members().iter().filter_map(|j| q.lagrange(*j)).sum();
        assert_eq!(sum, Scalar::ONE, "Σ λ_j = 1 (interpolating a constant)");
    }

    #[test]
    fn keys_combine_and_forged_proofs_are_refused() {
        let mut rng = ChaCha20Rng::seed_from_u64(71);
        let p = Parameters::new(4, 2).unwrap();
        let q = Quorum::new(&p, &[2, 4]).unwrap();
        let (s2, k2) = generate(&CTX, 1, &q, 2, &mut rng).unwrap();
        let (s4, k4) = generate(&CTX, 1, &q, 4, &mut rng).unwrap();
        assert!(generate(&CTX, 1, &q, 3, &mut rng).is_err(), "not a member");
        let all = FilterKeys::combine(&CTX, 1, &q, &[k4.clone(), k2.clone()]).unwrap();
        for kp in KeyPurpose::ALL {
            assert_eq!(*all.combined(kp).point(), mul_base(&(s2.secret(kp) + s4.secret(kp))));
        }
        assert_eq!(format!("{s2:?}"), "FilterSecrets(member=2, <redacted>)");

        // Another run, context or quorum: refused.
        assert!(FilterKeys::combine(&CTX, 2, &q, &[k2.clone(), k4.clone()]).is_err(), "run");
        assert!(FilterKeys::combine(&[4; 32], 1, &q, &[k2.clone(), k4.clone()]).is_err(), "context");
        let q3 = Quorum::new(&Parameters::new(5, 2).unwrap(), &[2, 4]).unwrap();
        assert!(FilterKeys::combine(&CTX, 1, &q3, &[k2.clone(), k4.clone()]).is_ok(), "same F, same statement");
        let q24 = Quorum::new(&Parameters::new(5, 3).unwrap(), &[2, 4, 5]).unwrap();
        assert!(k2.verify_into(&CTX, 1, &q24, &mut DirectCheck::default()).is_err(), "other F");
        // Missing, repeated or foreign members.
        assert!(FilterKeys::combine(&CTX, 1, &q, std::slice::from_ref(&k2)).is_err());
        assert!(FilterKeys::combine(&CTX, 1, &q, &[k2.clone(), k2.clone(), k4.clone()]).is_err());
        // A key share whose proof is for another key (a rogue key K_4 = Y − K_2 has no proof).
        let mut bad = k4.clone();
        bad.tag.key = GroupElement::from_point(mul_base(&Scalar::from(5u8)) - k2.tag.key.point()).unwrap();
        assert!(matches!(
            FilterKeys::combine(&CTX, 1, &q, &[k2.clone(), bad]),
            Err(FilterKeyError::Proof { member: 4, purpose: "tag", .. })
        ));
        // Keys swapped between purposes, a proof moved to another member, an altered response.
        let mut bad = k4.clone();
        std::mem::swap(&mut bad.tag, &mut bad.pet);
        assert!(FilterKeys::combine(&CTX, 1, &q, &[k2.clone(), bad]).is_err(), "purpose");
        let mut bad = k4.clone();
        bad.member = 2;
        assert!(bad.verify_into(&CTX, 1, &q, &mut DirectCheck::default()).is_err(), "member");
        let mut bad = k4.clone();
        bad.station_tag.proof.response += Scalar::ONE;
        assert!(FilterKeys::combine(&CTX, 1, &q, &[k2, bad]).is_err(), "response");
    }
}
