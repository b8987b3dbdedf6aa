//! Round 0 of the filter (`docs/protocol/13-revoting.md` §7.1): the quorum F, and each
//! member's tag key share `K_j = k_j·G`, one station tag key share `K′_{j,st} = k′_{j,st}·G`
//! per station of the package, and PET key share `Z_j = z_j·G`, with Schnorr proofs of
//! knowledge on the `filter-key` transcript; their sums `K`, `K′_st`, `Z`.

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
        /// `tag` or `pet`.
        purpose: &'static str,
        /// What failed.
        source: ProofError,
    },
    /// The Schnorr proof of a station tag key share fails.
    #[error("filter key share station-tag of member {member} for station {station}: {source}")]
    StationProof {
        /// The member.
        member: u32,
        /// The station id.
        station: String,
        /// What failed.
        source: ProofError,
    },
    /// A member's key set has not one station tag key share per station of the package.
    #[error("member {member} gives {given} station tag keys for the {stations} stations of the package")]
    StationKeys {
        /// The member.
        member: u32,
        /// How many it gives.
        given: usize,
        /// How many stations the package has.
        stations: usize,
    },
    /// A combined key is the identity (its secret would be 0).
    #[error("the combined {0} key is the identity")]
    Identity(&'static str),
    /// A station's combined station tag key is the identity.
    #[error("the combined station-tag key of station {0} is the identity")]
    StationIdentity(String),
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

/// Which of the two keys every member draws once per run (§7.1). The station tag keys are
/// one per station of the package ([`STATION_TAG`], [`MemberKeys::station_tags`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyPurpose {
    /// `k`: the tags (§7.6).
    Tag,
    /// `z`: the plaintext-equivalence tests (§7.8).
    Pet,
}

impl KeyPurpose {
    /// The two, in the order of §7.1 (the station tag keys come between them).
    pub const ALL: [KeyPurpose; 2] = [KeyPurpose::Tag, KeyPurpose::Pet];

    /// The name appended as `purpose`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyPurpose::Tag => "tag",
            KeyPurpose::Pet => "pet",
        }
    }
}

/// The `purpose` of a station tag key share `K′_{j,st}` (§7.1), followed in its transcript by
/// `station: msg(station id)`.
pub const STATION_TAG: &str = "station-tag";

/// A member's secret shares `k_j`, `k′_{j,st}` (one per station, package order), `z_j`:
/// zeroized on drop, redacted in `Debug`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct FilterSecrets {
    #[zeroize(skip)]
    member: u32,
    tag: Scalar,
    station_tags: Vec<Scalar>,
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
            KeyPurpose::Pet => &self.pet,
        }
    }

    /// `k′_{j,st}` of the station at position `station` of the package, if there is one.
    pub(crate) fn station_secret(&self, station: usize) -> Option<&Scalar> {
        self.station_tags.get(station)
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

/// Member `j`'s round-0 keys: `K_j`, one `K′_{j,st}` per station (package order), `Z_j`, with
/// their proofs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberKeys {
    /// The member `j`.
    pub member: u32,
    /// `K_j`.
    pub tag: ProvedKey,
    /// `K′_{j,st}` for every station st of the package, package order (empty without stations).
    pub station_tags: Vec<ProvedKey>,
    /// `Z_j`.
    pub pet: ProvedKey,
}

impl MemberKeys {
    /// The key share for `p`.
    pub fn key(&self, p: KeyPurpose) -> &ProvedKey {
        match p {
            KeyPurpose::Tag => &self.tag,
            KeyPurpose::Pet => &self.pet,
        }
    }

    /// The station tag key share of the station at position `station` of the package.
    pub fn station_key(&self, station: usize) -> Option<&ProvedKey> {
        self.station_tags.get(station)
    }
}

/// Which key share a proof is about: `K_j`, `Z_j`, or `K′_{j,st}` of a station.
#[derive(Clone, Copy)]
enum Name<'a> {
    Key(KeyPurpose),
    Station(&'a str),
}

impl Name<'_> {
    fn proof_error(self, member: u32, source: ProofError) -> FilterKeyError {
        match self {
            Name::Key(p) => FilterKeyError::Proof { member, purpose: p.as_str(), source },
            Name::Station(id) => FilterKeyError::StationProof { member, station: id.to_string(), source },
        }
    }

    fn identity(self) -> FilterKeyError {
        match self {
            Name::Key(p) => FilterKeyError::Identity(p.as_str()),
            Name::Station(id) => FilterKeyError::StationIdentity(id.to_string()),
        }
    }
}

/// The statement transcript of §7.1:
/// `new("filter-key")`, `context`, `run`, `filter: u(|F|)`, `member: u(j)` for j ∈ F ascending,
/// `prover: u(j)`, `purpose`, for a station tag key `station: msg(station id)`, `Y`; the Schnorr
/// proof then appends `A` and draws `c`.
fn key_transcript(
    context: &[u8; 32],
    run: u64,
    quorum: &Quorum,
    member: u32,
    name: Name<'_>,
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
    match name {
        Name::Key(p) => t.append_str(labels::L_PURPOSE, p.as_str()),
        Name::Station(id) => {
            t.append_str(labels::L_PURPOSE, STATION_TAG);
            t.append_str(labels::L_STATION, id);
        }
    }
    t.append_element(labels::L_CAP_Y, y);
    t
}

/// Member `j` draws `k_j`, then `k′_{j,st}` for every station st of the package (`stations`,
/// package order), then `z_j` (each non-zero, independent), and proves each, in that order.
pub fn generate<R: RngCore + CryptoRng>(
    context: &[u8; 32],
    run: u64,
    quorum: &Quorum,
    member: u32,
    stations: &[&str],
    rng: &mut R,
) -> Result<(FilterSecrets, MemberKeys), FilterKeyError> {
    if quorum.lagrange(member).is_none() {
        return Err(FilterKeyError::Members(format!("member {member} is not in the quorum")));
    }
    let tag = random_nonzero_scalar(rng);
    let station_tags = stations.iter().map(|_| random_nonzero_scalar(rng)).collect();
    let pet = random_nonzero_scalar(rng);
    let secrets = FilterSecrets { member, tag, station_tags, pet };
    let mut prove = |y: &Scalar, name: Name<'_>| -> Result<ProvedKey, FilterKeyError> {
        let key = GroupElement::from_point(mul_base(y)).map_err(|_| name.identity())?;
        let mut t = key_transcript(context, run, quorum, member, name, &key);
        let proof = SchnorrProof::prove(&mut t, y, rng).map_err(|source| name.proof_error(member, source))?;
        Ok(ProvedKey { key, proof })
    };
    let tag = prove(secrets.secret(KeyPurpose::Tag), Name::Key(KeyPurpose::Tag))?;
    let station_tags = secrets
        .station_tags
        .iter()
        .zip(stations)
        .map(|(y, id)| prove(y, Name::Station(id)))
        .collect::<Result<Vec<_>, _>>()?;
    let pet = prove(secrets.secret(KeyPurpose::Pet), Name::Key(KeyPurpose::Pet))?;
    let keys = MemberKeys { member, tag, station_tags, pet };
    Ok((secrets, keys))
}

impl MemberKeys {
    /// Adds the proofs' equations to `sink`: `K_j`, one `K′_{j,st}` per station of `stations`
    /// (package order; a missing or extra one is refused), `Z_j`.
    pub fn verify_into<S: EquationSink>(
        &self,
        context: &[u8; 32],
        run: u64,
        quorum: &Quorum,
        stations: &[&str],
        sink: &mut S,
    ) -> Result<(), FilterKeyError> {
        if quorum.lagrange(self.member).is_none() {
            return Err(FilterKeyError::Members(format!("member {} is not in the quorum", self.member)));
        }
        if self.station_tags.len() != stations.len() {
            return Err(FilterKeyError::StationKeys {
                member: self.member,
                given: self.station_tags.len(),
                stations: stations.len(),
            });
        }
        let named = [(Name::Key(KeyPurpose::Tag), &self.tag)]
            .into_iter()
            .chain(stations.iter().zip(&self.station_tags).map(|(id, k)| (Name::Station(id), k)))
            .chain([(Name::Key(KeyPurpose::Pet), &self.pet)]);
        for (name, k) in named {
            let mut t = key_transcript(context, run, quorum, self.member, name, &k.key);
            k.proof.verify(&mut t, &k.key, sink).map_err(|source| name.proof_error(self.member, source))?;
        }
        Ok(())
    }
}

/// The verified round-0 keys of the whole quorum: every member's shares and `K`, `K′_st`, `Z`.
#[derive(Clone, Debug)]
pub struct FilterKeys {
    members: Vec<MemberKeys>,
    combined: [GroupElement; 2],
    stations: Vec<GroupElement>,
}

impl FilterKeys {
    /// Checks one key set per member of F (in any order) and each proof on its own, and sums
    /// them: `K = Σ K_j`, `K′_st = Σ K′_{j,st}` for every station, `Z = Σ Z_j`. A combined
    /// identity is refused.
    pub fn combine(
        context: &[u8; 32],
        run: u64,
        quorum: &Quorum,
        stations: &[&str],
        keys: &[MemberKeys],
    ) -> Result<Self, FilterKeyError> {
        let mut members = Vec::with_capacity(quorum.members.len());
        for j in &quorum.members {
            let mut mine = keys.iter().filter(|k| k.member == *j);
            let (Some(k), None) = (mine.next(), mine.next()) else {
                return Err(FilterKeyError::Members(format!("exactly one key set of member {j} is needed")));
            };
            k.verify_into(context, run, quorum, stations, &mut DirectCheck::default())?;
            members.push(k.clone());
        }
        if keys.len() != members.len() {
            return Err(FilterKeyError::Members("key sets of members outside the quorum".into()));
        }
        let sum = |p: KeyPurpose| -> Result<GroupElement, FilterKeyError> {
            let s: RistrettoPoint = members.iter().map(|m| *m.key(p).key.point()).sum();
            GroupElement::from_point(s).map_err(|_| FilterKeyError::Identity(p.as_str()))
        };
        let combined = [sum(KeyPurpose::Tag)?, sum(KeyPurpose::Pet)?];
        let stations = stations
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let s: RistrettoPoint = members.iter().filter_map(|m| m.station_key(i)).map(|k| *k.key.point()).sum();
                GroupElement::from_point(s).map_err(|_| FilterKeyError::StationIdentity((*id).to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { members, combined, stations })
    }

    /// The combined key `K` or `Z`.
    pub fn combined(&self, p: KeyPurpose) -> &GroupElement {
        match p {
            KeyPurpose::Tag => &self.combined[0],
            KeyPurpose::Pet => &self.combined[1],
        }
    }

    /// The combined station tag key `K′_st` of the station at position `station`.
    pub fn combined_station(&self, station: usize) -> Option<&GroupElement> {
        self.stations.get(station)
    }

    /// Member `j`'s share of `p`, if `j` is in F.
    pub fn member_key(&self, j: u32, p: KeyPurpose) -> Option<&GroupElement> {
        self.members.iter().find(|m| m.member == j).map(|m| &m.key(p).key)
    }

    /// Member `j`'s station tag key share `K′_{j,st}` of the station at position `station`.
    pub fn member_station_key(&self, j: u32, station: usize) -> Option<&GroupElement> {
        self.members.iter().find(|m| m.member == j).and_then(|m| m.station_key(station)).map(|k| &k.key)
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

    const STATIONS: [&str; 2] = ["station-a", "station-b"];

    #[test]
    fn keys_combine_and_forged_proofs_are_refused() {
        let mut rng = ChaCha20Rng::seed_from_u64(71);
        let p = Parameters::new(4, 2).unwrap();
        let q = Quorum::new(&p, &[2, 4]).unwrap();
        let st = &STATIONS[..];
        let (s2, k2) = generate(&CTX, 1, &q, 2, st, &mut rng).unwrap();
        let (s4, k4) = generate(&CTX, 1, &q, 4, st, &mut rng).unwrap();
        assert!(generate(&CTX, 1, &q, 3, st, &mut rng).is_err(), "not a member");
        let all = FilterKeys::combine(&CTX, 1, &q, st, &[k4.clone(), k2.clone()]).unwrap();
        for kp in KeyPurpose::ALL {
            assert_eq!(*all.combined(kp).point(), mul_base(&(s2.secret(kp) + s4.secret(kp))));
        }
        for i in 0..STATIONS.len() {
            let k = s2.station_secret(i).unwrap() + s4.station_secret(i).unwrap();
            assert_eq!(*all.combined_station(i).unwrap().point(), mul_base(&k));
        }
        assert!(all.combined_station(2).is_none());
        // The station keys are independent of each other and of k and z.
        assert_ne!(s2.station_secret(0), s2.station_secret(1));
        assert_ne!(all.combined_station(0), all.combined_station(1));
        assert_eq!(format!("{s2:?}"), "FilterSecrets(member=2, <redacted>)");

        // Another run, context, quorum or package of stations: refused.
        assert!(FilterKeys::combine(&CTX, 2, &q, st, &[k2.clone(), k4.clone()]).is_err(), "run");
        assert!(FilterKeys::combine(&[4; 32], 1, &q, st, &[k2.clone(), k4.clone()]).is_err(), "context");
        let q3 = Quorum::new(&Parameters::new(5, 2).unwrap(), &[2, 4]).unwrap();
        assert!(FilterKeys::combine(&CTX, 1, &q3, st, &[k2.clone(), k4.clone()]).is_ok(), "same F, same statement");
        let q24 = Quorum::new(&Parameters::new(5, 3).unwrap(), &[2, 4, 5]).unwrap();
        assert!(k2.verify_into(&CTX, 1, &q24, st, &mut DirectCheck::default()).is_err(), "other F");
        let swapped = ["station-b", "station-a"];
        assert!(matches!(
            FilterKeys::combine(&CTX, 1, &q, &swapped, &[k2.clone(), k4.clone()]),
            Err(FilterKeyError::StationProof { member: 2, .. })
        ));
        // A missing station key share, or one too many.
        for stations in [&STATIONS[..1], &["station-a", "station-b", "station-c"][..]] {
            assert!(matches!(
                FilterKeys::combine(&CTX, 1, &q, stations, &[k2.clone(), k4.clone()]),
                Err(FilterKeyError::StationKeys { member: 2, .. })
            ));
        }
        let mut bad = k4.clone();
        bad.station_tags.pop();
        assert!(matches!(
            FilterKeys::combine(&CTX, 1, &q, st, &[k2.clone(), bad]),
            Err(FilterKeyError::StationKeys { member: 4, given: 1, stations: 2 })
        ));
        // Missing, repeated or foreign members.
        assert!(FilterKeys::combine(&CTX, 1, &q, st, std::slice::from_ref(&k2)).is_err());
        assert!(FilterKeys::combine(&CTX, 1, &q, st, &[k2.clone(), k2.clone(), k4.clone()]).is_err());
        // A key share whose proof is for another key (a rogue key K_4 = Y − K_2 has no proof).
        let mut bad = k4.clone();
        bad.tag.key = GroupElement::from_point(mul_base(&Scalar::from(5u8)) - k2.tag.key.point()).unwrap();
        assert!(matches!(
            FilterKeys::combine(&CTX, 1, &q, st, &[k2.clone(), bad]),
            Err(FilterKeyError::Proof { member: 4, purpose: "tag", .. })
        ));
        // A rogue station key K′_{4,b} = −K′_{2,b} (the combined key would be the identity) has
        // no proof; so has a station key moved to another station.
        let mut bad = k4.clone();
        bad.station_tags[1].key = GroupElement::from_point(-k2.station_tags[1].key.point()).unwrap();
        assert!(matches!(
            FilterKeys::combine(&CTX, 1, &q, st, &[k2.clone(), bad]),
            Err(FilterKeyError::StationProof { member: 4, ref station, .. }) if station == "station-b"
        ));
        let mut bad = k4.clone();
        bad.station_tags.swap(0, 1);
        assert!(matches!(
            FilterKeys::combine(&CTX, 1, &q, st, &[k2.clone(), bad]),
            Err(FilterKeyError::StationProof { member: 4, ref station, .. }) if station == "station-a"
        ));
        // Keys swapped between purposes, a proof moved to another member, an altered response.
        let mut bad = k4.clone();
        std::mem::swap(&mut bad.tag, &mut bad.pet);
        assert!(FilterKeys::combine(&CTX, 1, &q, st, &[k2.clone(), bad]).is_err(), "purpose");
        let mut bad = k4.clone();
        std::mem::swap(&mut bad.tag, &mut bad.station_tags[0]);
        assert!(FilterKeys::combine(&CTX, 1, &q, st, &[k2.clone(), bad]).is_err(), "tag and station key");
        let mut bad = k4.clone();
        bad.member = 2;
        assert!(bad.verify_into(&CTX, 1, &q, st, &mut DirectCheck::default()).is_err(), "member");
        let mut bad = k4.clone();
        bad.station_tags[0].proof.response += Scalar::ONE;
        assert!(FilterKeys::combine(&CTX, 1, &q, st, &[k2.clone(), bad]).is_err(), "response");
        // Without stations there are no station keys.
        let (_, k2) = generate(&CTX, 1, &q, 2, &[], &mut rng).unwrap();
        let (_, k4) = generate(&CTX, 1, &q, 4, &[], &mut rng).unwrap();
        assert!(k2.station_tags.is_empty());
        assert!(FilterKeys::combine(&CTX, 1, &q, &[], &[k2, k4]).is_ok());
    }
}
