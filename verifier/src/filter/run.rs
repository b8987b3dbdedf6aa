//! A style's filter transcript (`13-revoting.md` §5–§8, `record-format.md` §Filter transcript),
//! checked from the text of the specification against input rows recomputed here: round 0's
//! keys, rounds 2–3's sanitation (the named entries decrypt to malformed ones, which are
//! dropped before anything is shuffled), rounds 2–4's station check (overrides whose station
//! tag is not among their station's are dropped), round 5's shuffles (pool, dummies, rows, list, pointers), rounds 6–7's tags and the
//! groups, rounds 8–9's PETs, round 10's cover, canonical comparisons and range proofs, and the
//! counts; it returns the kept rows and TL-2. Every failure names its round and place.
//!
//! V22 (`checks/filter.rs`) calls it on every style's transcript of a v2 record, with the inputs
//! `crate::filtered` recomputes from the board (no override or station entries exist yet).

use std::collections::{BTreeSet, HashMap, HashSet};

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{Identity, IsIdentity};
use serde_json::Value;

use super::comparisons::{self, Commitments, Group, Interval, Layout};
use super::cover::check_cover;
use super::dleq;
use super::groups::{self, Groups};
pub use super::inputs::{Ballot, Override, Replacement, Station, StyleInputs};
use super::keys::{self, ProvedKey, Quorum};
use super::pet;
use super::sanitation::{self, Malformed};
use super::tags::{self, Pair, Run, Shares};
use super::totals;
use crate::encoding::{Decoded, Invalid, Point, array, exact, field, point, scalar, string, uint};
use crate::manifest::generator_h;
use crate::shuffle::{self, Ciphertext};
use crate::sigma::Equations;

/// Ordinals of override rows start here (§5).
const OVERRIDE_BASE: u64 = 1 << 31;

/// A located failure: the round of §6 and where in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The round (0, 2 … 10).
    pub round: u8,
    /// Where: a member, list, shuffle, chain, group or comparison.
    pub at: String,
    /// What failed.
    pub reason: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "filter round {}, {}: {}", self.round, self.at, self.reason)
    }
}

fn failure(round: u8, at: impl Into<String>, reason: impl std::fmt::Display) -> Failure {
    Failure { round, at: at.into(), reason: reason.to_string() }
}

/// What an accepted transcript gives.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Overrides dropped as `out_of_station` (§7.4), board indices.
    pub out_of_station: Vec<u64>,
    /// Overrides with an earlier override's station tag (a finding): (earlier, later).
    pub overridden_twice: Vec<(u64, u64)>,
    /// The entries dropped by sanitation (§7.3), board order, with their plaintexts.
    pub malformed: Vec<Malformed>,
    /// The kept rows, groups (exception groups among them) by root tag ascending.
    pub kept: Vec<Vec<Pair>>,
    /// TL-2: N_s.
    pub weight_total: Pair,
    /// M_s.
    pub m_s: u64,
    /// counted_s.
    pub counted: u64,
    /// overridden_s.
    pub overridden: u64,
    /// Groups (chains with a row).
    pub groups: usize,
    /// Rows dropped as `unlisted`.
    pub unlisted: Vec<usize>,
    /// Rows dropped as `unrooted`.
    pub unrooted: Vec<usize>,
    /// Rows dropped by a PET.
    pub mismatched: Vec<usize>,
    /// Sizes of exception groups.
    pub exceptions: Vec<usize>,
}

type Row = Vec<Ciphertext>;
/// Each member's share list (or `null`) of one list, F order.
type MemberShares = Vec<(u64, Option<Shares>)>;

fn pt(p: RistrettoPoint, what: &str) -> Result<Point, Failure> {
    if p.is_identity() {
        return Err(failure(5, what, "a recomputed point is the identity"));
    }
    Ok(Point { p, bytes: p.compress().to_bytes() })
}

/// TB(X) (§2), defined beside the v2 ballot's other public parts.
pub use crate::ballot_v2::tag_base;

/// The rows everyone recomputes (§5).
struct Inputs {
    real: Vec<Row>,
    stations: Vec<Vec<Row>>,
    list: Vec<Row>,
    pointers: Vec<Row>,
    m_s: u64,
    width: usize,
    k: Point,
    h: Point,
}

/// M_s, counted before sanitation (§5).
fn m_s(s: &StyleInputs) -> u64 {
    (s.ballots.len() + s.overrides.len()) as u64 + 1
}

fn recompute(s: &StyleInputs, m_s: u64) -> Result<Inputs, Failure> {
    let g = RISTRETTO_BASEPOINT_POINT;
    let k = s.election_key;
    let h = pt(generator_h(), "H")?;
    let gp = pt(g, "G")?;
    let triv = |p: RistrettoPoint| -> Result<Ciphertext, Failure> { Ok((gp, pt(p + k.p, "trivial ciphertext")?)) };
    let ordinal = |o: u64| -> Result<Ciphertext, Failure> { Ok((gp, pt(Scalar::from(o) * g + h.p, "ordinal")?)) };
    let ascending = |idx: Vec<u64>, what: &str| -> Result<(), Failure> {
        if idx.windows(2).any(|w| w[0] >= w[1]) || idx.iter().any(|i| *i == 0 || *i >= OVERRIDE_BASE) {
            return Err(failure(5, what, "board indices must ascend in 1 … 2³¹ − 1"));
        }
        Ok(())
    };
    ascending(s.ballots.iter().map(|b| b.index).collect(), "ballots")?;
    ascending(s.overrides.iter().map(|b| b.index).collect(), "overrides")?;
    ascending(s.replacements.iter().map(|b| b.index).collect(), "replacements")?;
    let zero = triv(RistrettoPoint::default())?;
    let mut real = Vec::new();
    for b in &s.ballots {
        if b.votes.len() != s.selections {
            return Err(failure(5, format!("ballot {}", b.index), "wrong number of votes"));
        }
        let mut row = vec![b.cred, b.tbase, ordinal(b.index)?, triv(g)?];
        row.extend_from_slice(&b.votes);
        real.push(row);
    }
    for o in &s.overrides {
        let mut row = vec![o.cred, o.tbase, ordinal(OVERRIDE_BASE + o.index)?, triv(Scalar::from(m_s) * g)?];
        row.resize(4 + s.selections, zero);
        real.push(row);
    }
    let mut list = Vec::new();
    for x in s.list.iter().chain(s.replacements.iter().map(|r| &r.new)) {
        list.push(vec![triv(x.p)?, triv(tag_base(&s.base_hash, x))?]);
    }
    let mut pointers = Vec::new();
    for r in &s.replacements {
        pointers.push(vec![triv(tag_base(&s.base_hash, &r.new))?, r.old_tbase, ordinal(r.index)?]);
    }
    let mut ids = HashSet::new();
    if let Some(st) = s.stations.iter().find(|st| !ids.insert(st.id.as_str())) {
        return Err(failure(2, format!("station {}", st.id), "the package names it twice"));
    }
    let stations = s
        .stations
        .iter()
        .map(|st| st.credentials.iter().map(|x| Ok(vec![triv(tag_base(&s.base_hash, x))?])).collect())
        .collect::<Result<Vec<Vec<Row>>, Failure>>()?;
    Ok(Inputs { real, stations, list, pointers, m_s, width: 4 + s.selections, k, h })
}

fn decoded<T>(round: u8, r: Decoded<T>) -> Result<T, Failure> {
    r.map_err(|Invalid(e)| failure(round, "decoding", e))
}

fn members_in_order(round: u8, q: &Quorum, got: &[u64]) -> Result<(), Failure> {
    if got != q.members() {
        return Err(failure(
            round,
            "members",
            format!("messages of {got:?}; F is {:?}, one each, ascending", q.members()),
        ));
    }
    Ok(())
}

fn pair(c: &Ciphertext) -> Pair {
    (c.0.p, c.1.p)
}

struct Checker<'a> {
    s: &'a StyleInputs,
    inp: Inputs,
    q: Quorum,
    run: Run<'a>,
}

impl Checker<'_> {
    fn shuffle(
        &self,
        round: u8,
        name: &str,
        keys: Vec<Point>,
        input: Vec<Row>,
        v: &Value,
    ) -> Result<Vec<Row>, Failure> {
        let at = format!("{name} shuffle");
        exact(v, &["output", "proof"], &at).map_err(|Invalid(e)| failure(round, at.as_str(), e))?;
        let output = decoded(round, field(v, "output", &at).and_then(|o| shuffle::parse_rows(o, &at)))?;
        let proof = decoded(round, field(v, "proof", &at).and_then(shuffle::parse_proof))?;
        let st = shuffle::Statement {
            context: self.s.context,
            // §7.5: the style id length-prefixed (review 19-sanitation L4).
            purpose: format!("filter/{}/{}:{}/{}", self.s.run, self.s.style.len(), self.s.style, name),
            keys,
            input,
            output,
        };
        shuffle::check(&st, &proof).map_err(|e| failure(round, at, e))?;
        Ok(st.output)
    }

    fn optional_shuffle(
        &self,
        round: u8,
        name: &str,
        keys: Vec<Point>,
        input: Vec<Row>,
        v: &Value,
    ) -> Result<Vec<Row>, Failure> {
        match (v.is_null(), input.is_empty()) {
            (true, true) => Ok(Vec::new()),
            (false, false) => self.shuffle(round, name, keys, input, v),
            _ => Err(failure(round, format!("{name} shuffle"), "must be null exactly when there are no rows")),
        }
    }

    fn batch(&self, round: u8, v: &Value, member: u64, what: &str) -> Result<Option<Shares>, Failure> {
        if v.is_null() {
            return Ok(None);
        }
        let r = (|| {
            exact(v, &["images", "proof"], what)?;
            let images =
                array(v, "images", what)?.iter().map(|p| point(p, what).map(|p| p.p)).collect::<Decoded<_>>()?;
            let proof = dleq::parse_proof(field(v, "proof", what)?, what)?;
            Ok(Shares { member, images, proof })
        })();
        decoded(round, r).map(Some)
    }

    /// Round 3 (§7.3, SN-2): every member's blinding of every test under a fresh key
    /// `Z_{j,i}`, one proof each (purpose `sanitize-pet`); the combined keys must not be the
    /// identity. Returns Δ′_i = Σ_j shares.
    fn sanitation_blinding(
        &self,
        v: &Value,
        named: &[sanitation::Named],
        tests: &[Pair],
    ) -> Result<Vec<Pair>, Failure> {
        let msgs = decoded(3, array(v, "sanitation", "filter transcript"))?;
        let purpose = decoded(3, dleq::Purpose::parse("sanitize-pet"))?;
        let mut members = Vec::new();
        let mut sum: Vec<(RistrettoPoint, RistrettoPoint, RistrettoPoint)> =
            vec![(RistrettoPoint::identity(), RistrettoPoint::identity(), RistrettoPoint::identity()); tests.len()];
        for m in msgs {
            decoded(3, exact(m, &["member", "tests"], "sanitation"))?;
            let j = decoded(3, uint(m, "member", "sanitation"))?;
            members.push(j);
            let at = format!("member {j}, sanitation shares");
            let ts = decoded(3, array(m, "tests", "sanitation"))?;
            if ts.len() != tests.len() {
                return Err(failure(3, at, format!("{} tests, {} named entries", ts.len(), tests.len())));
            }
            for ((t, d), acc) in ts.iter().zip(tests).zip(sum.iter_mut()) {
                decoded(3, exact(t, &["key", "shares"], "sanitation test"))?;
                let key = decoded(3, field(t, "key", "sanitation test").and_then(|k| point(k, "key")))?;
                let sh = self
                    .batch(3, decoded(3, field(t, "shares", "sanitation test"))?, j, &at)?
                    .ok_or_else(|| failure(3, at.as_str(), "a test needs its shares"))?;
                let mut eqs = Equations::direct();
                let ok = tags::check_blinding(self.run, purpose, &key, std::slice::from_ref(d), &sh, &mut eqs)
                    .map_err(|e| failure(3, at.as_str(), e))?;
                if !(ok && eqs.check()) {
                    return Err(failure(3, at, "the batched proof (sanitize-pet) does not verify"));
                }
                let [qa, qb] = sh.images.as_slice() else {
                    return Err(failure(3, at, "a test needs two shares"));
                };
                acc.0 += qa;
                acc.1 += qb;
                acc.2 += key.p;
            }
        }
        members_in_order(3, &self.q, &members)?;
        let at = |i: usize| sanitation::entry_of_test(named, i);
        if let Some(i) = sum.iter().position(|x| x.2.is_identity()) {
            return Err(failure(3, at(i), "the test's combined blinding key is the identity"));
        }
        if let Some(i) = sum.iter().position(|x| x.0.is_identity()) {
            return Err(failure(3, at(i), "the blinded test has the identity as α"));
        }
        Ok(sum.into_iter().map(|(a, b, _)| (a, b)).collect())
    }

    /// A round of `{member, shares}` messages (rounds 3, 8, 9), F order.
    fn member_shares(&self, round: u8, v: &Value, name: &str) -> Result<MemberShares, Failure> {
        let msgs = decoded(round, array(v, name, "filter transcript"))?;
        let mut out = Vec::new();
        for m in msgs {
            decoded(round, exact(m, &["member", "shares"], name))?;
            let j = decoded(round, uint(m, "member", name))?;
            out.push((
                j,
                self.batch(round, decoded(round, field(m, "shares", name))?, j, &format!("member {j}, {name}"))?,
            ));
        }
        members_in_order(round, &self.q, &out.iter().map(|x| x.0).collect::<Vec<_>>())?;
        Ok(out)
    }

    /// One share list per member, checked against each member's key; returns the lists.
    #[allow(clippy::too_many_arguments)]
    fn share_lists(
        &self,
        round: u8,
        msgs: &[(u64, Option<Shares>)],
        purpose: &str,
        what: &str,
        bases: &[RistrettoPoint],
        key: impl Fn(u64) -> Option<Point>,
        blinding: bool,
    ) -> Result<Vec<Shares>, Failure> {
        let purpose_p = decoded(round, dleq::Purpose::parse(purpose))?;
        let mut out = Vec::new();
        for (member, shares) in msgs {
            let at = format!("member {member}, {what}");
            match (shares, bases.is_empty()) {
                (None, true) => continue,
                (Some(sh), false) => {
                    let y = key(*member).ok_or_else(|| failure(round, at.as_str(), "no key"))?;
                    let mut eqs = Equations::direct();
                    let ok = if blinding {
                        let cts: Vec<Pair> = bases.chunks_exact(2).map(|c| (c[0], c[1])).collect();
                        tags::check_blinding(self.run, purpose_p, &y, &cts, sh, &mut eqs)
                    } else {
                        tags::check_decryption(self.run, purpose_p, &y, bases, sh, &mut eqs)
                    }
                    .map_err(|e| failure(round, at.as_str(), e))?;
                    if !(ok && eqs.check()) {
                        return Err(failure(round, at, format!("the batched proof ({purpose}) does not verify")));
                    }
                    out.push(Shares { member: *member, images: sh.images.clone(), proof: clone_proof(&sh.proof) });
                }
                _ => return Err(failure(round, at, "shares must be given exactly for a list with bases")),
            }
        }
        Ok(out)
    }
}

fn clone_proof(p: &dleq::Proof) -> dleq::Proof {
    dleq::Proof { a: p.a, b: p.b, z: p.z }
}

const TOP: [&str; 18] = [
    "version",
    "run",
    "style",
    "filter",
    "coordinator",
    "keys",
    "malformed",
    "stations",
    "sanitation",
    "station_tags",
    "sanitation_decryptions",
    "station_tag_decryptions",
    "shuffles",
    "tags",
    "tag_decryptions",
    "pet",
    "pet_decryptions",
    "selection",
];
const LISTS: [&str; 3] = ["rows", "list", "pointers"];

/// Reads a filter transcript file: JSON in which no object repeats a key ([`crate::json`]: a
/// parser that keeps the first and one that keeps the last would read two transcripts).
/// [`check_transcript`] then refuses unknown fields at every level.
pub fn parse_transcript(bytes: &[u8]) -> Result<Value, Failure> {
    crate::json::parse(bytes).map_err(|e| failure(0, "decoding", e))
}

/// Checks a style's filter transcript against the inputs; returns the outcome or the first
/// failure with its location. Read the file with [`parse_transcript`].
///
/// Acceptance does not yet mean the counts are right: TL-3 ([`check_weight`]) needs the
/// decryption of N_s. It does mean no dummy is kept (every kept row is proved real).
pub fn check_transcript(s: &StyleInputs, v: &Value) -> Result<Outcome, Failure> {
    // Header and F (§6).
    decoded(0, exact(v, &TOP, "filter transcript"))?;
    let version = decoded(0, string(v, "version", "filter transcript"))?;
    if version != "dobush-filter/2" {
        return Err(failure(0, "version", format!("{version:?} is not dobush-filter/2")));
    }
    if decoded(0, uint(v, "run", "filter transcript"))? != s.run
        || decoded(0, string(v, "style", "filter transcript"))? != s.style
    {
        return Err(failure(0, "header", "the run or the style is not the one checked"));
    }
    let filter: Vec<u64> = decoded(
        0,
        array(v, "filter", "filter transcript").and_then(|a| {
            a.iter().map(|j| j.as_u64().ok_or_else(|| Invalid("filter: members are integers".into()))).collect()
        }),
    )?;
    let q = Quorum::parse(s.n, s.t, &filter).map_err(|e| failure(0, "filter quorum", e))?;
    let coordinator = decoded(0, uint(v, "coordinator", "filter transcript"))?;
    if !filter.contains(&coordinator) {
        return Err(failure(0, "coordinator", "not a member of F"));
    }
    let inp = recompute(s, m_s(s))?;
    if inp.real.is_empty() {
        return Err(failure(5, "rows", "no ballot and no override: no filter"));
    }
    let run = Run { context: s.context, run: s.run, style: &s.style };
    let mut c = Checker { s, inp, q, run };

    // Round 0 (§7.1): K_j, one K′_{j,st} per station of the package (package order), Z_j.
    let mut member_keys: HashMap<u64, [Point; 2]> = HashMap::new();
    let mut station_keys: HashMap<u64, Vec<Point>> = HashMap::new();
    let keys_v = decoded(0, array(v, "keys", "filter transcript"))?;
    let mut order = Vec::new();
    let proved = |o: &Value, name: &str| -> Decoded<ProvedKey> {
        exact(o, &["key", "proof"], name)?;
        let pr = field(o, "proof", name)?;
        exact(pr, &["commitment", "response"], name)?;
        Ok(ProvedKey {
            key: point(field(o, "key", name)?, name)?,
            a: point(field(pr, "commitment", name)?, name)?,
            z: scalar(field(pr, "response", name)?, name)?,
        })
    };
    let check = |j: u64, purpose: &str, station: Option<&str>, pk: &ProvedKey, at: &str| -> Result<(), Failure> {
        let mut eqs = Equations::direct();
        let ok = keys::check_key(&s.context, s.run, &c.q, j, purpose, station, pk, &mut eqs)
            .map_err(|e| failure(0, at, e))?;
        if !(ok && eqs.check()) {
            return Err(failure(0, at, "the Schnorr proof does not verify"));
        }
        Ok(())
    };
    for kv in keys_v {
        let what = "member keys";
        decoded(0, exact(kv, &["member", "tag", "station_tags", "pet"], what))?;
        let j = decoded(0, uint(kv, "member", what))?;
        order.push(j);
        let stations_v = decoded(0, array(kv, "station_tags", what))?;
        if stations_v.len() != s.stations.len() {
            return Err(failure(
                0,
                format!("member {j}, station-tag keys"),
                format!("{} keys for the {} stations of the package", stations_v.len(), s.stations.len()),
            ));
        }
        let tag = decoded(0, field(kv, "tag", what).and_then(|o| proved(o, "tag")))?;
        check(j, "tag", None, &tag, &format!("member {j}, tag key"))?;
        let mut mine = Vec::with_capacity(s.stations.len());
        for (st, o) in s.stations.iter().zip(stations_v) {
            let pk = decoded(0, proved(o, "station_tags"))?;
            check(j, "station-tag", Some(&st.id), &pk, &format!("member {j}, station-tag key of station {}", st.id))?;
            mine.push(pk.key);
        }
        let pet = decoded(0, field(kv, "pet", what).and_then(|o| proved(o, "pet")))?;
        check(j, "pet", None, &pet, &format!("member {j}, pet key"))?;
        member_keys.insert(j, [tag.key, pet.key]);
        station_keys.insert(j, mine);
    }
    members_in_order(0, &c.q, &order)?;
    for (i, name) in ["tag", "pet"].iter().enumerate() {
        let all: Vec<Point> = filter.iter().filter_map(|j| member_keys.get(j).map(|k| k[i])).collect();
        if keys::combine(&all).is_none() {
            return Err(failure(0, "keys", format!("the combined {name} key is the identity")));
        }
    }
    for (i, st) in s.stations.iter().enumerate() {
        let all: Vec<Point> =
            filter.iter().filter_map(|j| station_keys.get(j).and_then(|k| k.get(i)).copied()).collect();
        if keys::combine(&all).is_none() {
            return Err(failure(
                0,
                "keys",
                format!("the combined station-tag key of station {} is the identity", st.id),
            ));
        }
    }

    // Rounds 2–4 (§7.3): every claim is malformed, and rounds 3–4's tests show each claim is
    // its ciphertext's plaintext (no board ciphertext is decrypted); all are dropped.
    let scaled = |j: u64| {
        j.checked_sub(1).and_then(|i| s.verification_keys.get(i as usize)).and_then(|vk| tags::scaled_vk(&c.q, j, vk))
    };
    let claims = decoded(2, array(v, "malformed", "filter transcript"))?;
    let named = sanitation::resolve(s, claims).map_err(|(at, why)| failure(2, at, why))?;
    let malformed = sanitation::judge(s, &named).map_err(|(at, why)| failure(2, at, why))?;
    let stations_v = decoded(2, array(v, "stations", "filter transcript"))?;
    if stations_v.len() != s.stations.len() {
        return Err(failure(2, "stations", "one shuffle (or null) per station of the package is needed"));
    }
    let mut station_rows: Vec<Vec<Row>> = Vec::new();
    for ((st, input), sv) in s.stations.iter().zip(&c.inp.stations).zip(stations_v) {
        let name = format!("station/{}:{}", st.id.len(), st.id);
        station_rows.push(c.optional_shuffle(2, &name, vec![c.inp.k], input.clone(), sv)?);
    }
    let w = sanitation::weights(&s.context, s.run, &s.style, &named);
    let tests = sanitation::tests(&named, &w).map_err(|(at, why)| failure(2, at, why))?;
    let blinded3 = c.sanitation_blinding(v, &named, &tests)?;

    let mut dropped: HashSet<u64> = malformed.iter().map(|m| m.index).collect();

    // Rounds 3–4 (§7.4): station tags σ = k′_st·V, station by station (package order): of its
    // shuffled station rows, then of the overrides signed there (board order); one batch per
    // station and member against K′_{j,st} in round 3, one per member in round 4.
    let overrides: Vec<&Override> = s.overrides.iter().filter(|o| !dropped.contains(&o.index)).collect();
    let at_station: Vec<Vec<&Override>> =
        s.stations.iter().map(|st| overrides.iter().copied().filter(|o| o.station == st.id).collect()).collect();
    let station_cts: Vec<Vec<RistrettoPoint>> = station_rows
        .iter()
        .zip(&at_station)
        .map(|(rows, os)| {
            rows.iter().map(|r| &r[0]).chain(os.iter().map(|o| &o.tbase)).flat_map(|ct| [ct.0.p, ct.1.p]).collect()
        })
        .collect();
    let mut per_station: Vec<MemberShares> = s.stations.iter().map(|_| Vec::new()).collect();
    let mut order = Vec::new();
    for m in decoded(3, array(v, "station_tags", "filter transcript"))? {
        decoded(3, exact(m, &["member", "stations"], "station_tags"))?;
        let j = decoded(3, uint(m, "member", "station_tags"))?;
        order.push(j);
        let batches = decoded(3, array(m, "stations", "station_tags"))?;
        if batches.len() != s.stations.len() {
            return Err(failure(
                3,
                format!("member {j}, station tag shares"),
                format!("{} batches for {} stations", batches.len(), s.stations.len()),
            ));
        }
        for ((st, b), out) in s.stations.iter().zip(batches).zip(per_station.iter_mut()) {
            out.push((j, c.batch(3, b, j, &format!("member {j}, station tag shares of station {}", st.id))?));
        }
    }
    members_in_order(3, &c.q, &order)?;
    let mut blinded: Vec<Pair> = Vec::new();
    for (i, ((st, cts), msgs)) in s.stations.iter().zip(&station_cts).zip(&per_station).enumerate() {
        let what = format!("station tag shares of station {}", st.id);
        let key = |j: u64| station_keys.get(&j).and_then(|k| k.get(i)).copied();
        let lists = c.share_lists(3, msgs, "station-tag", &what, cts, key, true)?;
        if !cts.is_empty() {
            let combined = tags::combine_blinding(&c.q, cts.len() / 2, &lists)
                .map_err(|e| failure(3, format!("station tags of station {}", st.id), e))?;
            blinded.extend(combined);
        }
    }
    // Round 4 (§7.3, SN-2): every test decrypts to the identity (each claim is its entry's
    // plaintext). Checked after round 3's station tag shares, in the members' order.
    let r4t = c.member_shares(4, v, "sanitation_decryptions")?;
    let alphas4: Vec<RistrettoPoint> = blinded3.iter().map(|d| d.0).collect();
    let lists4t =
        c.share_lists(4, &r4t, "sanitize-pet-decrypt", "sanitation decryption shares", &alphas4, scaled, false)?;
    if !blinded3.is_empty() {
        let pass = pet::decide(&c.q, &blinded3, &lists4t).map_err(|e| failure(4, "sanitation", e))?;
        if let Some(i) = pass.iter().position(|ok| !ok) {
            return Err(failure(4, sanitation::entry_of_test(&named, i), "the claim is not the entry's plaintext"));
        }
    }
    let r4 = c.member_shares(4, v, "station_tag_decryptions")?;
    let alphas: Vec<RistrettoPoint> = blinded.iter().map(|p| p.0).collect();
    let lists4 =
        c.share_lists(4, &r4, "station-tag-decrypt", "station tag decryption shares", &alphas, scaled, false)?;
    let sigmas = if alphas.is_empty() {
        Vec::new()
    } else {
        let betas: Vec<RistrettoPoint> = blinded.iter().map(|p| p.1).collect();
        tags::combine_decryption(&c.q, &betas, &lists4).map_err(|e| failure(4, "station tag decryption shares", e))?
    };
    // An override is in its station when its σ is among the station rows' σ's; one σ twice at
    // one station is one voter overridden twice there. σ's of two stations are unrelated (§12).
    let mut sigmas = sigmas.iter().map(|p| p.compress().to_bytes());
    let (mut in_station, mut overridden_twice) = (HashSet::new(), Vec::new());
    for (rows, os) in station_rows.iter().zip(&at_station) {
        let set: HashSet<[u8; 32]> = sigmas.by_ref().take(rows.len()).collect();
        let mut seen: HashMap<[u8; 32], u64> = HashMap::new();
        for o in os {
            let sigma = sigmas.next().ok_or_else(|| failure(4, format!("override {}", o.index), "no station tag"))?;
            if set.contains(&sigma) {
                in_station.insert(o.index);
                if let Some(first) = seen.insert(sigma, o.index) {
                    overridden_twice.push((first, o.index));
                }
            }
        }
    }
    overridden_twice.sort_by_key(|p| p.1);
    let out_of_station: Vec<u64> =
        overrides.iter().filter(|o| !in_station.contains(&o.index)).map(|o| o.index).collect();
    dropped.extend(&out_of_station);
    c.inp = recompute(&sanitation::without(s, &dropped), c.inp.m_s)?;
    // No row left (§7.3, §7.4): rounds 5–10 are empty and nothing is counted.
    let empty = ["tags", "tag_decryptions", "pet", "pet_decryptions"]
        .iter()
        .all(|name| v.get(*name).and_then(Value::as_array).is_some_and(Vec::is_empty))
        && v.get("shuffles").is_some_and(Value::is_null)
        && v.get("selection").is_some_and(Value::is_null);
    if c.inp.real.is_empty() != empty {
        return Err(failure(5, "rows", "rounds 5–10 must be empty exactly when no row survives round 4"));
    }
    if empty {
        let weight_total = totals::tl2(&c.inp.k.p, &[]).map_err(|e| failure(10, "TL-2", e))?;
        return Ok(Outcome {
            out_of_station,
            overridden_twice,
            malformed,
            kept: Vec::new(),
            weight_total,
            m_s: c.inp.m_s,
            counted: 0,
            overridden: 0,
            groups: 0,
            unlisted: Vec::new(),
            unrooted: Vec::new(),
            mismatched: Vec::new(),
            exceptions: Vec::new(),
        });
    }

    // Round 5 (§7.5).
    let r5 = decoded(5, field(v, "shuffles", "filter transcript"))?;
    decoded(5, exact(r5, &["copies", "pool", "dummies", "rows", "list", "pointers"], "round 5"))?;
    let copies = decoded(5, uint(r5, "copies", "round 5"))?;
    if copies >= s.row_limit {
        return Err(failure(5, "pool", "K_s must be below c"));
    }
    let (k, h) = (c.inp.k, c.inp.h);
    // The pool's size is checked before the pool is built (K_s copies of every real row).
    let pool_v = decoded(5, field(r5, "pool", "round 5"))?;
    let published = pool_v.get("output").and_then(Value::as_array).map_or(0, Vec::len);
    let copies = usize::try_from(copies).map_err(|_| failure(5, "pool", "K_s too large"))?;
    if c.inp.real.len().checked_mul(copies) != Some(published) {
        return Err(failure(
            5,
            "pool",
            format!("{published} pool rows for {} real rows × {copies} copies", c.inp.real.len()),
        ));
    }
    let pool_in: Vec<Row> = c.inp.real.iter().flat_map(|r| std::iter::repeat_n(r[..2].to_vec(), copies)).collect();
    let pool = c.optional_shuffle(5, "pool", vec![k, k], pool_in, pool_v)?;
    let dummies = decoded(5, array(r5, "dummies", "round 5"))?;
    let mut rows_in = c.inp.real.clone();
    let zero = (pt(RISTRETTO_BASEPOINT_POINT, "G")?, k);
    let mut last: Option<u64> = None;
    for (i, d) in dummies.iter().enumerate() {
        let d = d.as_u64().ok_or_else(|| failure(5, format!("dummy {i}"), "not an integer"))?;
        if last.is_some_and(|l| l >= d) {
            return Err(failure(5, format!("dummy {i}"), "positions must ascend"));
        }
        last = Some(d);
        let src = pool.get(d as usize).ok_or_else(|| failure(5, format!("dummy {i}"), "not a position in the pool"))?;
        let mut row = src.clone();
        row.push((zero.0, h));
        row.resize(c.inp.width, zero);
        rows_in.push(row);
    }
    let mut row_keys = vec![k, k, h, k];
    row_keys.resize(c.inp.width, k);
    let rows = c.shuffle(5, "rows", row_keys, rows_in, decoded(5, field(r5, "rows", "round 5"))?)?;
    let list =
        c.optional_shuffle(5, "list", vec![k, k], c.inp.list.clone(), decoded(5, field(r5, "list", "round 5"))?)?;
    let pointers = c.optional_shuffle(
        5,
        "pointers",
        vec![k, k, h],
        c.inp.pointers.clone(),
        decoded(5, field(r5, "pointers", "round 5"))?,
    )?;

    // Round 6 (§7.6, TG-1).
    let tag_cts: [Vec<RistrettoPoint>; 3] = [
        rows.iter().flat_map(|r| [r[1].0.p, r[1].1.p]).collect(),
        list.iter().flat_map(|r| [r[1].0.p, r[1].1.p]).collect(),
        pointers.iter().flat_map(|r| [r[0].0.p, r[0].1.p, r[1].0.p, r[1].1.p]).collect(),
    ];
    let per_list = |round: u8, name: &str| -> Result<[MemberShares; 3], Failure> {
        let msgs = decoded(round, array(v, name, "filter transcript"))?;
        let mut out: [MemberShares; 3] = Default::default();
        let mut order = Vec::new();
        for m in msgs {
            decoded(round, exact(m, &["member", "rows", "list", "pointers"], name))?;
            let j = decoded(round, uint(m, "member", name))?;
            order.push(j);
            for (l, lname) in LISTS.iter().enumerate() {
                let b = c.batch(round, decoded(round, field(m, lname, name))?, j, &format!("member {j}, {lname}"))?;
                out[l].push((j, b));
            }
        }
        members_in_order(round, &c.q, &order)?;
        Ok(out)
    };
    let r6 = per_list(6, "tags")?;
    let mut blinded: [Vec<Pair>; 3] = Default::default();
    for l in 0..3 {
        let what = format!("{} tag shares", LISTS[l]);
        let lists = c.share_lists(
            6,
            &r6[l],
            ["tag-rows", "tag-list", "tag-pointers"][l],
            &what,
            &tag_cts[l],
            |j| member_keys.get(&j).map(|k| k[0]),
            true,
        )?;
        if !tag_cts[l].is_empty() {
            blinded[l] = tags::combine_blinding(&c.q, tag_cts[l].len() / 2, &lists).map_err(|e| failure(6, what, e))?;
        }
    }

    // Round 7 (§7.6, TG-2) and the groups (§7.7).
    let r7 = per_list(7, "tag_decryptions")?;
    let mut tag_values: [Vec<RistrettoPoint>; 3] = Default::default();
    for l in 0..3 {
        let what = format!("{} tag decryption shares", LISTS[l]);
        let alphas: Vec<RistrettoPoint> = blinded[l].iter().map(|p| p.0).collect();
        let lists = c.share_lists(
            7,
            &r7[l],
            ["tag-decrypt-rows", "tag-decrypt-list", "tag-decrypt-pointers"][l],
            &what,
            &alphas,
            scaled,
            false,
        )?;
        if !alphas.is_empty() {
            let betas: Vec<RistrettoPoint> = blinded[l].iter().map(|p| p.1).collect();
            tag_values[l] = tags::combine_decryption(&c.q, &betas, &lists).map_err(|e| failure(7, what, e))?;
        }
    }
    let [row_tags, list_tags, ptr_tags] = tag_values;
    let ptr_pairs: Vec<groups::Pointer> = ptr_tags.chunks_exact(2).map(|p| (p[0], p[1])).collect();
    let g: Groups = groups::groups(&list_tags, &ptr_pairs, &row_tags).map_err(|e| failure(7, "groups", e))?;

    // §7.3 (review 19-sanitation M2): after sanitation a row out of its credential's chain is
    // an unnamed malformed entry (a marker would mark its victim's group): the run is invalid.
    let first_unlisted = g.unlisted.iter().min().map(|q| (*q, "unlisted"));
    let first_unrooted = g.unrooted.iter().min().map(|q| (*q, "unrooted"));
    if let Some((q, why)) = [first_unlisted, first_unrooted].into_iter().flatten().min() {
        return Err(failure(
            7,
            format!("row {q}"),
            format!("dropped ({why}) after sanitation: a malformed entry was not named"),
        ));
    }

    // Rounds 8–9 (§7.8).
    let dropped: BTreeSet<usize> = g.unlisted.iter().chain(&g.unrooted).copied().collect();
    let mismatched: BTreeSet<usize> = BTreeSet::new();
    let mut tests: Vec<(usize, Pair)> = Vec::new();
    for (qr, l) in g.list_row.iter().enumerate() {
        let (Some(l), false) = (l, dropped.contains(&qr)) else { continue };
        let (Some(xq), Some(xl)) = (rows.get(qr), list.get(*l)) else {
            return Err(failure(8, format!("row {qr}"), "no such row"));
        };
        let d = pet::difference(&pair(&xq[0]), &pair(&xl[0]));
        match pet::public_decision(&d) {
            Some(true) => {}
            Some(false) => {
                return Err(failure(
                    7,
                    format!("row {qr}"),
                    "its credential is not its group's (credential_mismatch) after sanitation: a malformed entry \
                     was not named",
                ));
            }
            None => tests.push((qr, d)),
        }
    }
    let r8 = c.member_shares(8, v, "pet")?;
    let bases8: Vec<RistrettoPoint> = tests.iter().flat_map(|(_, d)| [d.0, d.1]).collect();
    let lists8 = c.share_lists(8, &r8, "pet", "PET shares", &bases8, |j| member_keys.get(&j).map(|k| k[1]), true)?;
    let blinded8 = if tests.is_empty() {
        Vec::new()
    } else {
        pet::blinded(&c.q, tests.len(), &lists8).map_err(|e| failure(8, "PT-2", e))?
    };
    let r9 = c.member_shares(9, v, "pet_decryptions")?;
    let alphas9: Vec<RistrettoPoint> = blinded8.iter().map(|d| d.0).collect();
    let lists9 = c.share_lists(9, &r9, "pet-decrypt", "PET decryption shares", &alphas9, scaled, false)?;
    if !tests.is_empty() {
        let pass = pet::decide(&c.q, &blinded8, &lists9).map_err(|e| failure(9, "PT-3", e))?;
        if let Some(((qr, _), _)) = tests.iter().zip(pass).find(|(_, ok)| !ok) {
            return Err(failure(
                9,
                format!("row {qr}"),
                "its credential is not its group's (credential_mismatch) after sanitation: a malformed entry was \
                 not named",
            ));
        }
    }

    // Round 10 (§7.9–§7.11, §9.1).
    let r10 = decoded(10, field(v, "selection", "filter transcript"))?;
    decoded(10, exact(r10, &["orders", "kept", "selection", "counted", "overridden"], "round 10"))?;
    let idx = |x: &Value, what: &str| -> Result<usize, Failure> {
        x.as_u64().and_then(|x| usize::try_from(x).ok()).ok_or_else(|| failure(10, what, "not an index"))
    };
    let mut orders = decoded(10, array(r10, "orders", "round 10"))?.iter();
    // §7.7, §7.8: every dropped row, PET failures included, gets a `real` comparison.
    let mut layout = Layout {
        dropped: dropped.iter().chain(&mismatched).copied().collect::<BTreeSet<_>>().into_iter().collect(),
        ..Layout::default()
    };
    for (ci, chain) in g.chains.iter().enumerate() {
        let at = format!("chain {ci}");
        let order: Vec<usize> = if chain.pointers.len() >= 2 {
            let o =
                orders.next().and_then(Value::as_array).ok_or_else(|| failure(10, at.as_str(), "no pointer order"))?;
            o.iter().map(|x| idx(x, &at)).collect::<Result<_, _>>()?
        } else {
            chain.pointers.clone()
        };
        let intervals =
            groups::validity(&g, ci, &list_tags, &ptr_pairs, &order).map_err(|e| failure(10, at.as_str(), e))?;
        let by_tag: HashMap<usize, Interval> =
            chain.tags.iter().zip(intervals).map(|(t, (start, end))| (*t, Interval { start, end })).collect();
        let root = list_tags[chain.root].compress().to_bytes();
        layout.chains.push((root, order));
        let mut grp = Vec::new();
        for r in chain.rows.iter().filter(|r| !mismatched.contains(r)) {
            let iv = g.list_row[*r]
                .and_then(|l| by_tag.get(&l))
                .copied()
                .ok_or_else(|| failure(10, at.as_str(), "row without a tag"))?;
            grp.push((*r, iv));
        }
        if grp.is_empty() {
            continue;
        }
        if grp.len() as u64 > s.row_limit {
            layout.exceptions.push(Group { root, rows: grp });
        } else {
            layout.groups.push(Group { root, rows: grp });
        }
    }
    if orders.next().is_some() {
        return Err(failure(10, "orders", "more orders than chains with two pointers"));
    }
    let sizes: Vec<u64> = layout.groups.iter().map(|g| g.rows.len() as u64).collect();
    check_cover(&sizes, dummies.len() as u64, s.row_limit).map_err(|e| failure(10, "cover", e))?;
    if copies as u64 != sizes.iter().copied().max().unwrap_or(0).saturating_sub(1) {
        return Err(failure(10, "pool", "K_s is not the cover's largest group minus 1"));
    }
    layout.groups.sort_by_key(|g| g.root);
    let kept: Vec<Option<usize>> = decoded(10, array(r10, "kept", "round 10"))?
        .iter()
        .enumerate()
        .map(|(i, x)| if x.is_null() { Ok(None) } else { idx(x, &format!("group {i}")).map(Some) })
        .collect::<Result<_, _>>()?;
    let (list_cmp, proofs, revealed) =
        decoded(10, field(r10, "selection", "round 10").and_then(comparisons::parse_selection))?;
    let rows_p: Vec<RistrettoPoint> = rows.iter().map(|r| r[2].1.p).collect();
    let ptrs_p: Vec<RistrettoPoint> = pointers.iter().map(|r| r[2].1.p).collect();
    let p = Commitments { rows: &rows_p, pointers: &ptrs_p };
    comparisons::check_list(&layout, &kept, &revealed, &list_cmp, &p).map_err(|e| failure(10, "comparisons", e))?;
    let ctx = comparisons::Context { context: s.context, run: s.run, style: &s.style };
    comparisons::verify_list(&ctx, &list_cmp, &p, &proofs).map_err(|e| failure(10, "range proofs", e))?;
    let mut kept_rows: Vec<Vec<Pair>> = Vec::with_capacity(kept.len());
    for (g, r) in kept.iter().enumerate() {
        let Some(r) = r else { continue };
        // refused, never skipped (review 19-filtered M6): a kept index is a row of the shuffle
        let row = rows.get(*r).ok_or_else(|| failure(10, "kept", format!("group {g}: no row {r}")))?;
        kept_rows.push(row.iter().map(pair).collect());
    }
    let counted = decoded(10, uint(r10, "counted", "round 10"))?;
    let overridden = decoded(10, uint(r10, "overridden", "round 10"))?;
    if counted.checked_add(overridden) != Some(kept_rows.len() as u64) || counted >= c.inp.m_s {
        return Err(failure(10, "counts", "counted + overridden must be the kept rows, counted below M_s (TL-3)"));
    }
    // §7.11 (review 19-filtered H4): until TL-3 is checked nothing else bounds the split
    if overridden > s.overrides.len() as u64 {
        return Err(failure(
            10,
            "counts",
            format!("overridden_s = {overridden}, but the style has {} override entries", s.overrides.len()),
        ));
    }
    let weight_total = totals::tl2(&k.p, &kept_rows).map_err(|e| failure(10, "TL-2", e))?;
    Ok(Outcome {
        out_of_station,
        overridden_twice,
        malformed,
        kept: kept_rows,
        weight_total,
        m_s: c.inp.m_s,
        counted,
        overridden,
        groups: layout.groups.len() + layout.exceptions.len(),
        unlisted: g.unlisted.clone(),
        unrooted: g.unrooted.clone(),
        mismatched: mismatched.into_iter().collect(),
        exceptions: layout.exceptions.iter().map(|g| g.rows.len()).collect(),
    })
}

/// TL-3 once `N_s` is decrypted (07-threshold.md): `decrypted` is its plaintext point.
pub fn check_weight(outcome: &Outcome, decrypted: &RistrettoPoint) -> Result<(), Failure> {
    totals::tl3(decrypted, outcome.m_s, outcome.counted, outcome.overridden, outcome.kept.len() as u64)
        .map_err(|e| failure(10, "TL-3", e))
}
