//! What everyone checks, round by round (`13-revoting.md` §7, §8): the members before each of
//! their rounds, the server before it posts `filtered`, and [`verify_transcript`] on a
//! published transcript. Each step consumes the previous one's results, so the methods are
//! crate-private and called in round order by [`super::member`] and [`verify_transcript`].

use std::collections::{BTreeSet, HashMap};

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};

use super::inputs::{Inputs, OverrideInput, Recomputed};
use super::messages::{
    Batch, Claim, FilterTranscript, PetShares, Round5, Round10, SanitationBlinding, Shuffled, StationTagShares,
    TRANSCRIPT_VERSION, TagShares,
};
use super::sanitation::{self, Malformed, Named};
use super::{RunError, Setup, fail, round, station_list};
use crate::elgamal::{Ciphertext, RawCiphertext};
use crate::filter::comparisons::{
    ChainPointers, Commitments, Group, GroupRow, Interval, Layout, SelectionContext, check_order, verify_comparisons,
};
use crate::filter::cover::check_cover;
use crate::filter::dleq::{Purpose, RunContext};
use crate::filter::groups::{Groups, Pointer, groups, validity};
use crate::filter::keys::{FilterKeyError, FilterKeys, KeyPurpose, MemberKeys, Quorum};
use crate::filter::pet::{self, Test, classify, difference};
use crate::filter::tags::{
    ShareBatch, combine_blinding, combine_decryption, scaled_verification_key, verify_blinding_shares,
    verify_decryption_shares,
};
use crate::filter::totals::weight_total;
use crate::group::GroupElement;
use crate::proofs::DirectCheck;
use crate::shuffle::{Rows, ShuffleStatement, verify_shuffle};

/// The three lists that get tags, in the order of §7.6.
pub const TAG_LISTS: [&str; 3] = ["rows", "list", "pointers"];
const TAG_PURPOSES: [Purpose; 3] = [Purpose::TagRows, Purpose::TagList, Purpose::TagPointers];
const TAG_DECRYPT_PURPOSES: [Purpose; 3] =
    [Purpose::TagDecryptRows, Purpose::TagDecryptList, Purpose::TagDecryptPointers];

/// The outcome of one style's filter, once every round is verified.
#[derive(Clone, Debug)]
pub struct Filtered {
    /// Overrides dropped by the station check (`out_of_station`, §7.4), board indices.
    pub out_of_station: Vec<u64>,
    /// Overrides with the station tag of an earlier one (one voter overridden twice, a
    /// finding, §7.4): (the earlier, the later), board indices.
    pub overridden_twice: Vec<(u64, u64)>,
    /// The entries dropped by sanitation (§7.3), board order, with their plaintexts.
    pub malformed: Vec<Malformed>,
    /// The kept rows, groups (exception groups among them) by root tag ascending:
    /// `[X, V, I, W, votes…]`. Every kept row is proved real; the counts still await TL-3.
    pub kept_rows: Vec<Vec<Ciphertext>>,
    /// TL-2: `N_s`, to be decrypted as one more total (§7.11).
    pub weight_total: RawCiphertext,
    /// M_s.
    pub m_s: u64,
    /// counted_s.
    pub counted: u64,
    /// overridden_s.
    pub overridden: u64,
    /// The number of groups (chains with a row).
    pub groups: usize,
    /// Shuffled rows dropped as `unlisted`.
    pub unlisted: Vec<usize>,
    /// Shuffled rows dropped as `unrooted`.
    pub unrooted: Vec<usize>,
    /// Shuffled rows dropped by a PET (`credential_mismatch`).
    pub mismatched: Vec<usize>,
    /// The sizes of the exception groups (more than c rows).
    pub exceptions: Vec<usize>,
    /// Forks: pointers sharing one old tag (a finding).
    pub forks: Vec<Vec<usize>>,
}

/// One station's station tags σ = k′_st·V (§7.4), public once round 4 is verified.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StationTags {
    /// σ of its shuffled station rows, row order.
    pub rows: Vec<[u8; 32]>,
    /// σ of its overrides: (board index, σ), board order.
    pub overrides: Vec<(u64, [u8; 32])>,
}

/// The public state of one style's filter, filled round by round.
#[derive(Clone, Debug)]
pub struct Public {
    setup: Setup,
    quorum: Quorum,
    inputs: Inputs,
    rec: Recomputed,
    keys: Option<FilterKeys>,
    named: Option<Vec<Named>>,
    claimed: Option<Vec<Malformed>>,
    blinded_sanitation: Vec<RawCiphertext>,
    malformed: Option<Vec<Malformed>>,
    station_rows: Vec<Vec<Vec<Ciphertext>>>,
    blinded_station_tags: Vec<RawCiphertext>,
    station_tags: Vec<StationTags>,
    out_of_station: Option<Vec<u64>>,
    overridden_twice: Vec<(u64, u64)>,
    scaled: Vec<GroupElement>,
    round5: Option<Round5>,
    rows: Vec<Vec<Ciphertext>>,
    list: Vec<Vec<Ciphertext>>,
    pointers: Vec<Vec<Ciphertext>>,
    blinded_tags: [Vec<RawCiphertext>; 3],
    row_tags: Vec<RistrettoPoint>,
    list_tags: Vec<RistrettoPoint>,
    pointer_tags: Vec<Pointer>,
    groups: Option<Groups>,
    tests: Vec<(usize, RawCiphertext)>,
    blinded_tests: Vec<RawCiphertext>,
    mismatched: BTreeSet<usize>,
    /// Tests only: go on past rows out of their chain (M2), to build the transcript a lenient
    /// coordinator and members would publish, for the verifier to refuse.
    #[cfg(any(test, feature = "test-helpers"))]
    lenient: bool,
}

fn members<T>(quorum: &Quorum, round: u8, msgs: &[T], member: impl Fn(&T) -> u32) -> Result<(), RunError> {
    let got: Vec<u32> = msgs.iter().map(member).collect();
    if got != quorum.members() {
        return Err(fail(
            round,
            "members",
            format!("messages of {got:?}, F is {:?} (one each, ascending)", quorum.members()),
        ));
    }
    Ok(())
}

fn raw_column(rows: &[Vec<Ciphertext>], col: usize) -> Vec<RawCiphertext> {
    rows.iter().filter_map(|r| r.get(col)).map(Ciphertext::raw).collect()
}

impl Public {
    /// Recomputes the style's rows and checks F (§6).
    pub fn new(setup: Setup, inputs: &Inputs) -> Result<Self, RunError> {
        let quorum = Quorum::new(&setup.params, &setup.filter).map_err(|e| fail(round::KEYS, "filter quorum", e))?;
        if !setup.filter.contains(&setup.coordinator) {
            return Err(fail(round::KEYS, "coordinator", "the coordinator is not a member of F"));
        }
        if setup.verification_keys.len() != setup.params.n() as usize {
            return Err(fail(round::KEYS, "verification keys", "one per key-holder is needed"));
        }
        let scaled = setup
            .filter
            .iter()
            .map(|j| {
                j.checked_sub(1)
                    .and_then(|i| setup.verification_keys.get(i as usize))
                    .and_then(|vk| scaled_verification_key(&quorum, *j, vk))
                    .ok_or_else(|| fail(round::KEYS, format!("member {j}"), "no scaled verification key"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let rec = Recomputed::new(&setup, inputs)?;
        if rec.real.is_empty() {
            return Err(fail(round::SHUFFLES, "rows", "a style with no ballot and no override has no filter"));
        }
        Ok(Self {
            setup,
            quorum,
            inputs: inputs.clone(),
            rec,
            keys: None,
            named: None,
            claimed: None,
            blinded_sanitation: Vec::new(),
            malformed: None,
            station_rows: Vec::new(),
            blinded_station_tags: Vec::new(),
            station_tags: Vec::new(),
            out_of_station: None,
            overridden_twice: Vec::new(),
            scaled,
            round5: None,
            rows: Vec::new(),
            list: Vec::new(),
            pointers: Vec::new(),
            blinded_tags: [Vec::new(), Vec::new(), Vec::new()],
            row_tags: Vec::new(),
            list_tags: Vec::new(),
            pointer_tags: Vec::new(),
            groups: None,
            tests: Vec::new(),
            blinded_tests: Vec::new(),
            mismatched: BTreeSet::new(),
            #[cfg(any(test, feature = "test-helpers"))]
            lenient: false,
        })
    }

    /// Tests only: members that do not refuse rows out of their chain after sanitation (M2).
    #[cfg(any(test, feature = "test-helpers"))]
    pub(crate) fn set_lenient(&mut self) {
        self.lenient = true;
    }

    #[cfg(any(test, feature = "test-helpers"))]
    fn is_lenient(&self) -> bool {
        self.lenient
    }

    #[cfg(not(any(test, feature = "test-helpers")))]
    fn is_lenient(&self) -> bool {
        false
    }

    /// The parameters.
    pub fn setup(&self) -> &Setup {
        &self.setup
    }

    /// F.
    pub fn quorum(&self) -> &Quorum {
        &self.quorum
    }

    /// The recomputed rows.
    pub fn recomputed(&self) -> &Recomputed {
        &self.rec
    }

    /// Each station's station tags, package order, once round 4 is verified (empty before).
    pub fn station_tags(&self) -> &[StationTags] {
        &self.station_tags
    }

    /// The overrides dropped by the station check, once round 4 is verified (empty before).
    pub fn out_of_station(&self) -> &[u64] {
        self.out_of_station.as_deref().unwrap_or_default()
    }

    /// Whether no row survives rounds 2–4: then rounds 5–10 are empty and
    /// [`Public::empty_outcome`] is the style's outcome.
    pub fn is_empty(&self) -> bool {
        self.rec.real.is_empty()
    }

    /// The outcome of a style whose every row was dropped before round 5: nothing kept, N_s is
    /// TL-2's start `(G, K)`, both counts 0 (TL-3 then asks that N_s decrypt to 0).
    pub(crate) fn empty_outcome(&self) -> Result<Filtered, RunError> {
        if self.out_of_station.is_none() || !self.is_empty() {
            return Err(fail(round::SHUFFLES, "rows", "rows survive round 4: rounds 5–10 are due"));
        }
        let weight = weight_total(&self.setup.election_key, &[]).map_err(|e| fail(round::SELECTION, "TL-2", e))?;
        Ok(Filtered {
            out_of_station: self.out_of_station.clone().unwrap_or_default(),
            overridden_twice: self.overridden_twice.clone(),
            malformed: self.malformed.clone().unwrap_or_default(),
            kept_rows: Vec::new(),
            weight_total: weight,
            m_s: self.rec.m_s,
            counted: 0,
            overridden: 0,
            groups: 0,
            unlisted: Vec::new(),
            unrooted: Vec::new(),
            mismatched: Vec::new(),
            exceptions: Vec::new(),
            forks: Vec::new(),
        })
    }

    /// The entries dropped by sanitation, once round 4 has shown the claims (empty before).
    pub fn malformed(&self) -> &[Malformed] {
        self.malformed.as_deref().unwrap_or_default()
    }

    pub(crate) fn run_context(&self) -> RunContext<'_> {
        RunContext { context: &self.setup.context, run: self.setup.run, style: &self.setup.style }
    }

    fn keys_or(&self, round: u8) -> Result<&FilterKeys, RunError> {
        self.keys.as_ref().ok_or_else(|| fail(round, "keys", "round 0 is not verified"))
    }

    /// VK′_j scaled by λ_j: the key of member j's pre-scaled decryption shares.
    pub(crate) fn scaled_vk(&self, round: u8, member: u32) -> Result<&GroupElement, RunError> {
        self.setup
            .filter
            .iter()
            .position(|j| *j == member)
            .and_then(|i| self.scaled.get(i))
            .ok_or_else(|| fail(round, format!("member {member}"), "not in F"))
    }

    /// The ids of the package's stations, package order.
    pub(crate) fn station_ids(&self) -> Vec<&str> {
        self.inputs.stations.iter().map(|st| st.id.as_str()).collect()
    }

    /// Round 0 (§7.1): one key set per member, F order, with one station tag key per station of
    /// the package, every proof, no combined identity.
    pub(crate) fn receive_keys(&mut self, keys: &[MemberKeys]) -> Result<(), RunError> {
        members(&self.quorum, round::KEYS, keys, |k| k.member)?;
        let ids = self.station_ids();
        let combined =
            FilterKeys::combine(&self.setup.context, self.setup.run, &self.quorum, &ids, keys).map_err(|e| {
                let at = match &e {
                    FilterKeyError::Proof { member, purpose, .. } => format!("member {member}, {purpose} key"),
                    FilterKeyError::StationProof { member, station, .. } => {
                        format!("member {member}, station-tag key of station {station}")
                    }
                    FilterKeyError::StationKeys { member, .. } => format!("member {member}, station-tag keys"),
                    _ => "keys".into(),
                };
                fail(round::KEYS, at, e)
            })?;
        self.keys = Some(combined);
        Ok(())
    }

    /// The coordinator's PET key Z_c, to which round 1's proofs are designated (§7.2).
    pub(crate) fn designated_key(&self) -> Result<&GroupElement, RunError> {
        self.keys_or(round::VIEW)?
            .member_key(self.setup.coordinator, KeyPurpose::Pet)
            .ok_or_else(|| fail(round::VIEW, "coordinator", "no PET key"))
    }

    fn named_or(&self, round: u8) -> Result<&[Named], RunError> {
        self.named.as_deref().ok_or_else(|| fail(round, "names", "round 2 is not verified"))
    }

    /// Round 2 (§7.3, §7.4): the coordinator's claims, strictly ascending board indices of the
    /// style's ballots, overrides and replacements, each claim malformed, and each station's
    /// shuffled station rows.
    pub(crate) fn receive_names<R: RngCore + CryptoRng>(
        &mut self,
        claims: &[Claim],
        stations: &[Option<Shuffled>],
        rng: &mut R,
    ) -> Result<(), RunError> {
        self.keys_or(round::NAMES)?;
        let named = sanitation::resolve(&self.inputs, claims)?;
        let claimed = sanitation::judge(&self.setup, &self.inputs, &named)?;
        // SN-1's tests must be usable (the coordinator's fault otherwise), before any share.
        let w = sanitation::weights(&self.setup.context, self.setup.run, &self.setup.style, &named);
        sanitation::tests(&named, &w, round::NAMES)?;
        if stations.len() != self.rec.stations.len() {
            return Err(fail(
                round::NAMES,
                "stations",
                format!("{} station shuffles, the package has {} stations", stations.len(), self.rec.stations.len()),
            ));
        }
        let keys = [self.setup.election_key];
        let mut rows = Vec::with_capacity(stations.len());
        for ((st, input), shuffled) in self.inputs.stations.iter().zip(&self.rec.stations).zip(stations) {
            let name = station_list(&st.id);
            rows.push(self.optional_shuffle(round::NAMES, &name, &keys, input.clone(), shuffled.as_ref(), rng)?);
        }
        self.station_rows = rows;
        self.named = Some(named);
        self.claimed = Some(claimed);
        Ok(())
    }

    /// The overrides of round 3 at each station of the package (§7.4): those not named
    /// malformed whose station it is, board order. An override at a station the package does
    /// not name is at none.
    fn station_overrides(&self) -> Result<Vec<Vec<&OverrideInput>>, RunError> {
        let named: BTreeSet<u64> = self.named_or(round::SANITATION)?.iter().map(|n| n.index).collect();
        let at = |id: &str| -> Vec<&OverrideInput> {
            self.inputs.overrides.iter().filter(|o| !named.contains(&o.index) && o.station == id).collect()
        };
        Ok(self.inputs.stations.iter().map(|st| at(&st.id)).collect())
    }

    /// Round 3's station tag bases (§7.4), per station of the package (package order): the V of
    /// its shuffled station rows (row order), then the `tbase` of its overrides (board order).
    pub(crate) fn station_tag_inputs(&self) -> Result<Vec<Vec<RawCiphertext>>, RunError> {
        let overrides = self.station_overrides()?;
        Ok(self
            .station_rows
            .iter()
            .zip(overrides)
            .map(|(rows, os)| raw_column(rows, 0).into_iter().chain(os.iter().map(|o| o.tbase.raw())).collect())
            .collect())
    }

    /// Round 3 (§7.4): every member's station tag shares, one batch per station with station
    /// rows or overrides, against K′_{j,st} (`station-tag`).
    pub(crate) fn receive_station_tags(&mut self, msgs: &[StationTagShares]) -> Result<(), RunError> {
        let r = round::SANITATION;
        members(&self.quorum, r, msgs, |m| m.member)?;
        let inputs = self.station_tag_inputs()?;
        if let Some(m) = msgs.iter().find(|m| m.stations.len() != inputs.len()) {
            return Err(fail(
                r,
                format!("member {}, station tag shares", m.member),
                format!("{} batches for {} stations", m.stations.len(), inputs.len()),
            ));
        }
        let keys = self.keys_or(r)?;
        let mut blinded = Vec::with_capacity(inputs.iter().map(Vec::len).sum());
        for (i, (st, cts)) in self.inputs.stations.iter().zip(&inputs).enumerate() {
            let mut batches = Vec::with_capacity(msgs.len());
            for m in msgs {
                let at = format!("member {}, station tag shares of station {}", m.member, st.id);
                match (m.stations.get(i).and_then(Option::as_ref), cts.is_empty()) {
                    (None, true) => {}
                    (Some(b), false) => {
                        let b = b.to_shares(m.member);
                        let kj = keys.member_station_key(m.member, i).ok_or_else(|| fail(r, at.as_str(), "no key"))?;
                        verify_blinding_shares(
                            self.run_context(),
                            Purpose::StationTag,
                            kj,
                            cts,
                            &b,
                            &mut DirectCheck::default(),
                        )
                        .map_err(|e| fail(r, at, e))?;
                        batches.push(b);
                    }
                    _ => return Err(fail(r, at, "shares must be given exactly for a station with rows or overrides")),
                }
            }
            if !cts.is_empty() {
                let combined = combine_blinding(&self.quorum, cts.len(), &batches)
                    .map_err(|e| fail(r, format!("station tags of station {}", st.id), e))?;
                blinded.extend(combined);
            }
        }
        self.blinded_station_tags = blinded;
        Ok(())
    }

    /// The α's of the combined station tag ciphertexts (round 4's bases).
    pub(crate) fn station_tag_alphas(&self) -> Vec<RistrettoPoint> {
        self.blinded_station_tags.iter().map(|c| c.alpha).collect()
    }

    /// Round 4 (§7.4): the station tag decryption shares against VK′_j; σ = k′_st·V of every
    /// station row and override of station st. An override whose σ is not among its station's
    /// rows' is dropped (`out_of_station`); one whose σ an earlier override at the same station
    /// has is a finding. The inputs are then recomputed without the malformed entries and the
    /// dropped overrides.
    pub(crate) fn receive_station_tag_decryptions(&mut self, msgs: &[PetShares]) -> Result<(), RunError> {
        let r = round::STATION_TAG_DECRYPTIONS;
        let malformed =
            self.malformed.as_ref().ok_or_else(|| fail(r, "sanitation", "round 4's tests are not verified"))?;
        let alphas = self.station_tag_alphas();
        let batches =
            self.decryption_batches(r, Purpose::StationTagDecrypt, "station tag decryption", msgs, &alphas)?;
        let sigmas = if alphas.is_empty() {
            Vec::new()
        } else {
            let betas: Vec<RistrettoPoint> = self.blinded_station_tags.iter().map(|c| c.beta).collect();
            combine_decryption(&self.quorum, &betas, &batches).map_err(|e| fail(r, "station tags", e))?
        };
        // σ = k′_st·V, station by station: its station rows' σ's, then its overrides'. An override
        // is in its station when its σ is among the rows' (§7.4); one voter overridden twice at
        // one station gives one σ twice. Overrides at two stations give unlinkable σ's (§12).
        let mut sigmas = sigmas.iter().map(|p| p.compress().to_bytes());
        let mut in_station = BTreeSet::new();
        let mut twice = Vec::new();
        let mut station_tags = Vec::with_capacity(self.station_rows.len());
        for (rows, overrides) in self.station_rows.iter().zip(self.station_overrides()?) {
            let mut tags = StationTags { rows: sigmas.by_ref().take(rows.len()).collect(), overrides: Vec::new() };
            let set: BTreeSet<[u8; 32]> = tags.rows.iter().copied().collect();
            let mut seen: HashMap<[u8; 32], u64> = HashMap::new();
            for o in overrides {
                let sigma = sigmas.next().ok_or_else(|| fail(r, format!("override {}", o.index), "no station tag"))?;
                tags.overrides.push((o.index, sigma));
                if set.contains(&sigma) {
                    in_station.insert(o.index);
                    if let Some(first) = seen.insert(sigma, o.index) {
                        twice.push((first, o.index));
                    }
                }
            }
            station_tags.push(tags);
        }
        twice.sort_by_key(|(_, later)| *later);
        let mut dropped: BTreeSet<u64> = malformed.iter().map(|m| m.index).collect();
        let out_of_station: Vec<u64> = self
            .inputs
            .overrides
            .iter()
            .filter(|o| !dropped.contains(&o.index) && !in_station.contains(&o.index))
            .map(|o| o.index)
            .collect();
        dropped.extend(&out_of_station);
        self.rec = Recomputed::with_m_s(&self.setup, &self.inputs.without(&dropped), self.rec.m_s)?;
        self.out_of_station = Some(out_of_station);
        self.overridden_twice = twice;
        self.station_tags = station_tags;
        Ok(())
    }

    /// The named entry of the i-th sanitation test.
    fn named_test(&self, i: usize) -> String {
        let named = self.named.as_deref().unwrap_or_default();
        named.get(i).map_or_else(|| "sanitation".into(), |n| format!("named entry {}", n.index))
    }

    /// Round 3's test ciphertexts (§7.3, SN-0, SN-1): one per named entry.
    pub(crate) fn sanitation_tests(&self) -> Result<Vec<RawCiphertext>, RunError> {
        let named = self.named_or(round::SANITATION)?;
        let w = sanitation::weights(&self.setup.context, self.setup.run, &self.setup.style, named);
        sanitation::tests(named, &w, round::NAMES)
    }

    /// Round 3 (§7.3, SN-2): every member's blinding of every test under a fresh key
    /// `Z_{j,i}` with its proof (purpose `sanitize-pet`); each test's combined key must not be
    /// the identity. Δ′_i = Σ_j (z_{j,i}·Δ_i.α, z_{j,i}·Δ_i.β).
    pub(crate) fn receive_sanitation(&mut self, msgs: &[SanitationBlinding]) -> Result<(), RunError> {
        let tests = self.sanitation_tests()?;
        let r = round::SANITATION;
        members(&self.quorum, r, msgs, |m| m.member)?;
        let mut blinded = vec![RawCiphertext::zero(); tests.len()];
        let mut keys = vec![RistrettoPoint::default(); tests.len()];
        for m in msgs {
            let at = format!("member {}, sanitation shares", m.member);
            if m.tests.len() != tests.len() {
                return Err(fail(r, at, format!("{} tests, {} named entries", m.tests.len(), tests.len())));
            }
            for (i, (t, d)) in m.tests.iter().zip(&tests).enumerate() {
                let b = t.shares.to_shares(m.member);
                verify_blinding_shares(
                    self.run_context(),
                    Purpose::SanitizePet,
                    &t.key,
                    std::slice::from_ref(d),
                    &b,
                    &mut DirectCheck::default(),
                )
                .map_err(|e| fail(r, at.as_str(), e))?;
                let (Some(o), Some(k), [qa, qb]) = (blinded.get_mut(i), keys.get_mut(i), b.images.as_slice()) else {
                    return Err(fail(r, at, "a test needs two shares"));
                };
                o.alpha += qa;
                o.beta += qb;
                *k += t.key.point();
            }
        }
        if let Some(i) = keys.iter().position(IsIdentity::is_identity) {
            return Err(fail(r, self.named_test(i), "the test's combined blinding key is the identity"));
        }
        if let Some(i) = blinded.iter().position(|d| d.alpha.is_identity()) {
            return Err(fail(r, self.named_test(i), "the blinded test has the identity as α"));
        }
        self.blinded_sanitation = blinded;
        Ok(())
    }

    /// The α's of the blinded sanitation differences (round 4's bases).
    pub(crate) fn sanitation_alphas(&self) -> Vec<RistrettoPoint> {
        self.blinded_sanitation.iter().map(|d| d.alpha).collect()
    }

    /// Round 4 (§7.3): decryption shares of the blinded differences against VK′_j (purpose
    /// `sanitize-pet-decrypt`); every test must pass (each claim is its ciphertext's plaintext),
    /// or the run is invalid. Only then are the named entries malformed and dropped.
    pub(crate) fn receive_sanitation_decryptions(&mut self, msgs: &[PetShares]) -> Result<(), RunError> {
        let r = round::STATION_TAG_DECRYPTIONS;
        let claimed = self.claimed.clone().ok_or_else(|| fail(r, "sanitation", "round 2 is not verified"))?;
        let alphas = self.sanitation_alphas();
        if alphas.len() != self.named_or(r)?.len() {
            return Err(fail(r, "sanitation", "round 3 is not verified"));
        }
        let batches =
            self.decryption_batches(r, Purpose::SanitizePetDecrypt, "sanitation decryption", msgs, &alphas)?;
        if !alphas.is_empty() {
            let pass =
                pet::decide(&self.quorum, &self.blinded_sanitation, &batches).map_err(|e| fail(r, "sanitation", e))?;
            if let Some(i) = pass.iter().position(|ok| !ok) {
                return Err(fail(r, self.named_test(i), "the claim is not the entry's plaintext"));
            }
        }
        self.malformed = Some(claimed);
        Ok(())
    }

    fn check_shuffle<R: RngCore + CryptoRng>(
        &self,
        round: u8,
        name: &str,
        keys: &[crate::elgamal::PublicKey],
        input: Vec<Vec<Ciphertext>>,
        s: &Shuffled,
        rng: &mut R,
    ) -> Result<(), RunError> {
        let at = format!("{name} shuffle");
        let input = Rows::from_rows(input).map_err(|e| fail(round, at.as_str(), e))?;
        let purpose = self.setup.shuffle_purpose(name);
        let st = ShuffleStatement {
            context: &self.setup.context,
            purpose: &purpose,
            keys,
            input: &input,
            output: &s.output,
        };
        verify_shuffle(rng, &st, &s.proof).map_err(|e| fail(round, at, e))
    }

    fn optional_shuffle<R: RngCore + CryptoRng>(
        &self,
        round: u8,
        name: &str,
        keys: &[crate::elgamal::PublicKey],
        input: Vec<Vec<Ciphertext>>,
        s: Option<&Shuffled>,
        rng: &mut R,
    ) -> Result<Vec<Vec<Ciphertext>>, RunError> {
        match (s, input.is_empty()) {
            (None, true) => Ok(Vec::new()),
            (Some(s), false) => {
                self.check_shuffle(round, name, keys, input, s, rng)?;
                Ok(s.output.to_vecs())
            }
            (Some(_), true) => Err(fail(round, format!("{name} shuffle"), "a shuffle of no rows")),
            (None, false) => Err(fail(round, format!("{name} shuffle"), "missing")),
        }
    }

    /// Round 5 (§7.5): the pool Π, the dummies as copies in Π, the rows, list and pointer
    /// shuffles of the recomputed inputs.
    pub(crate) fn receive_shuffles<R: RngCore + CryptoRng>(
        &mut self,
        msg: &Round5,
        rng: &mut R,
    ) -> Result<(), RunError> {
        if self.out_of_station.is_none() {
            return Err(fail(round::SHUFFLES, "station check", "round 4 is not verified"));
        }
        if msg.copies >= self.setup.row_limit {
            return Err(fail(round::SHUFFLES, "pool", format!("{} copies, at most c − 1 are possible", msg.copies)));
        }
        let copies = usize::try_from(msg.copies).map_err(|_| fail(round::SHUFFLES, "pool", "too many copies"))?;
        // The pool's size before it is built (review 19, L2): K_s copies of every real row.
        let pool_rows = self.rec.real.len().checked_mul(copies);
        let published = msg.pool.as_ref().map_or(0, |p| p.output.len());
        if pool_rows != Some(published) {
            return Err(fail(
                round::SHUFFLES,
                "pool",
                format!("{published} pool rows for {} real rows × {copies} copies", self.rec.real.len()),
            ));
        }
        let pool_in = self.rec.pool(copies);
        let pool =
            self.optional_shuffle(round::SHUFFLES, "pool", &self.rec.pair_keys, pool_in, msg.pool.as_ref(), rng)?;
        let mut rows_in = self.rec.real.clone();
        let mut last = None;
        for (i, d) in msg.dummies.iter().enumerate() {
            let at = format!("dummy {i}");
            if last.is_some_and(|l| l >= *d) {
                return Err(fail(round::SHUFFLES, at, "dummy positions must be ascending and distinct"));
            }
            last = Some(*d);
            let pair = usize::try_from(*d)
                .ok()
                .and_then(|d| pool.get(d))
                .ok_or_else(|| fail(round::SHUFFLES, at.as_str(), format!("position {d} is not in the pool")))?;
            rows_in.push(self.rec.dummy(&self.setup.election_key, pair)?);
        }
        self.check_shuffle(round::SHUFFLES, "rows", &self.rec.row_keys, rows_in, &msg.rows, rng)?;
        self.rows = msg.rows.output.to_vecs();
        self.list = self.optional_shuffle(
            round::SHUFFLES,
            "list",
            &self.rec.pair_keys,
            self.rec.list.clone(),
            msg.list.as_ref(),
            rng,
        )?;
        self.pointers = self.optional_shuffle(
            round::SHUFFLES,
            "pointers",
            &self.rec.pointer_keys,
            self.rec.pointers.clone(),
            msg.pointers.as_ref(),
            rng,
        )?;
        self.round5 = Some(msg.clone());
        Ok(())
    }

    /// The ciphertexts that get tag shares (§7.6): the rows' V, the list rows' V, and each
    /// pointer row's new then old column.
    pub(crate) fn tag_inputs(&self) -> [Vec<RawCiphertext>; 3] {
        let pointers = self.pointers.iter().flat_map(|r| r.iter().take(2).map(Ciphertext::raw)).collect();
        [raw_column(&self.rows, 1), raw_column(&self.list, 1), pointers]
    }

    fn batches(round: u8, msgs: &[TagShares], list: usize, empty: bool) -> Result<Vec<ShareBatch>, RunError> {
        msgs.iter()
            .filter_map(|m| {
                let b = match list {
                    0 => Some(&m.rows),
                    1 => m.list.as_ref(),
                    _ => m.pointers.as_ref(),
                };
                match (b, empty) {
                    (None, true) => None,
                    (Some(b), false) => Some(Ok(b.to_shares(m.member))),
                    _ => Some(Err(fail(
                        round,
                        format!("member {}, {} shares", m.member, TAG_LISTS[list]),
                        "shares must be given exactly for a list that has rows",
                    ))),
                }
            })
            .collect()
    }

    /// Round 6 (§7.6, TG-1): every member's tag shares with their batched proofs against K_j.
    pub(crate) fn receive_tags(&mut self, msgs: &[TagShares]) -> Result<(), RunError> {
        members(&self.quorum, round::TAGS, msgs, |m| m.member)?;
        let keys = self.keys_or(round::TAGS)?;
        let inputs = self.tag_inputs();
        let mut combined: [Vec<RawCiphertext>; 3] = Default::default();
        for (l, cts) in inputs.iter().enumerate() {
            let batches = Self::batches(round::TAGS, msgs, l, cts.is_empty())?;
            for b in &batches {
                let at = format!("member {}, {} tag shares", b.member, TAG_LISTS[l]);
                let kj = keys
                    .member_key(b.member, KeyPurpose::Tag)
                    .ok_or_else(|| fail(round::TAGS, at.as_str(), "no key"))?;
                verify_blinding_shares(self.run_context(), TAG_PURPOSES[l], kj, cts, b, &mut DirectCheck::default())
                    .map_err(|e| fail(round::TAGS, at, e))?;
            }
            if !cts.is_empty() {
                combined[l] = combine_blinding(&self.quorum, cts.len(), &batches)
                    .map_err(|e| fail(round::TAGS, TAG_LISTS[l], e))?;
            }
        }
        self.blinded_tags = combined;
        Ok(())
    }

    /// The α's of the combined tag ciphertexts of each list (round 7's bases).
    pub(crate) fn tag_alphas(&self) -> [Vec<RistrettoPoint>; 3] {
        self.blinded_tags.clone().map(|l| l.iter().map(|c| c.alpha).collect())
    }

    /// Round 7 (§7.6, TG-2, §7.7): the decryption shares against VK′_j, the tags, the groups,
    /// and which PETs are decided publicly.
    pub(crate) fn receive_tag_decryptions(&mut self, msgs: &[TagShares]) -> Result<(), RunError> {
        members(&self.quorum, round::TAG_DECRYPTIONS, msgs, |m| m.member)?;
        let mut tags: [Vec<RistrettoPoint>; 3] = Default::default();
        for (l, blinded) in self.blinded_tags.iter().enumerate() {
            let alphas: Vec<RistrettoPoint> = blinded.iter().map(|c| c.alpha).collect();
            let batches = Self::batches(round::TAG_DECRYPTIONS, msgs, l, alphas.is_empty())?;
            for b in &batches {
                let at = format!("member {}, {} tag decryption shares", b.member, TAG_LISTS[l]);
                let vk = self.scaled_vk(round::TAG_DECRYPTIONS, b.member)?;
                verify_decryption_shares(
                    self.run_context(),
                    TAG_DECRYPT_PURPOSES[l],
                    vk,
                    &alphas,
                    b,
                    &mut DirectCheck::default(),
                )
                .map_err(|e| fail(round::TAG_DECRYPTIONS, at, e))?;
            }
            if !alphas.is_empty() {
                let betas: Vec<RistrettoPoint> = blinded.iter().map(|c| c.beta).collect();
                tags[l] = combine_decryption(&self.quorum, &betas, &batches)
                    .map_err(|e| fail(round::TAG_DECRYPTIONS, TAG_LISTS[l], e))?;
            }
        }
        let [row_tags, list_tags, pointer_tags] = tags;
        self.pointer_tags = pointer_tags.chunks_exact(2).map(|p| Pointer { new: p[0], old: p[1] }).collect();
        let g =
            groups(&list_tags, &self.pointer_tags, &row_tags).map_err(|e| fail(round::TAG_DECRYPTIONS, "groups", e))?;
        self.row_tags = row_tags;
        self.list_tags = list_tags;
        // §7.8: every grouped row against its list row, in shuffled order.
        // §7.3 (review 19-sanitation M2): after sanitation an honest coordinator leaves no row
        // that is not in its credential's chain; one is an unnamed malformed entry (a marker
        // would mark its victim's group), so the run is invalid and restarts.
        if let Some((q, why)) = g.dropped.first().filter(|_| !self.is_lenient()) {
            let why = match why {
                crate::filter::groups::DropReason::Unlisted => "unlisted",
                crate::filter::groups::DropReason::Unrooted => "unrooted",
            };
            return Err(fail(
                round::TAG_DECRYPTIONS,
                format!("row {q}"),
                format!("dropped ({why}) after sanitation: a malformed entry was not named"),
            ));
        }
        let dropped: BTreeSet<usize> = g.dropped.iter().map(|(q, _)| *q).collect();
        for (q, l) in g.list_row.iter().enumerate() {
            let (Some(l), false) = (l, dropped.contains(&q)) else { continue };
            let (Some(x_q), Some(x_l)) =
                (self.rows.get(q).and_then(|r| r.first()), self.list.get(*l).and_then(|r| r.first()))
            else {
                return Err(fail(round::TAG_DECRYPTIONS, format!("row {q}"), "no X column"));
            };
            let delta = difference(&x_q.raw(), &x_l.raw());
            match classify(&delta) {
                Test::Public(true) => {}
                Test::Public(false) if self.is_lenient() => {
                    self.mismatched.insert(q);
                }
                Test::Public(false) => {
                    return Err(fail(
                        round::TAG_DECRYPTIONS,
                        format!("row {q}"),
                        "its credential is not its group's (credential_mismatch) after sanitation: a malformed \
                         entry was not named",
                    ));
                }
                Test::Blinded => self.tests.push((q, delta)),
            }
        }
        self.groups = Some(g);
        Ok(())
    }

    /// The differences Δ_q of the tests that are not decided publicly (round 8's ciphertexts).
    pub(crate) fn pet_inputs(&self) -> Vec<RawCiphertext> {
        self.tests.iter().map(|(_, d)| *d).collect()
    }

    fn pet_batches(&self, round: u8, msgs: &[PetShares], empty: bool) -> Result<Vec<ShareBatch>, RunError> {
        members(&self.quorum, round, msgs, |m| m.member)?;
        msgs.iter()
            .filter_map(|m| match (&m.shares, empty) {
                (None, true) => None,
                (Some(b), false) => Some(Ok(b.to_shares(m.member))),
                _ => Some(Err(fail(
                    round,
                    format!("member {}", m.member),
                    "shares must be given exactly when tests are",
                ))),
            })
            .collect()
    }

    /// Every member's pre-scaled decryption shares of `alphas` (`None` exactly when there are
    /// none), each batch checked against VK′_j.
    fn decryption_batches(
        &self,
        round: u8,
        purpose: Purpose,
        what: &str,
        msgs: &[PetShares],
        alphas: &[RistrettoPoint],
    ) -> Result<Vec<ShareBatch>, RunError> {
        let batches = self.pet_batches(round, msgs, alphas.is_empty())?;
        for b in &batches {
            let at = format!("member {}, {what} shares", b.member);
            let vk = self.scaled_vk(round, b.member)?;
            verify_decryption_shares(self.run_context(), purpose, vk, alphas, b, &mut DirectCheck::default())
                .map_err(|e| fail(round, at, e))?;
        }
        Ok(batches)
    }

    /// Round 8 (§7.8, PT-2): blinding shares of the differences against Z_j.
    pub(crate) fn receive_pet(&mut self, msgs: &[PetShares]) -> Result<(), RunError> {
        let deltas = self.pet_inputs();
        let batches = self.pet_batches(round::PET, msgs, deltas.is_empty())?;
        let keys = self.keys_or(round::PET)?;
        for b in &batches {
            let at = format!("member {}, PET shares", b.member);
            let zj =
                keys.member_key(b.member, KeyPurpose::Pet).ok_or_else(|| fail(round::PET, at.as_str(), "no key"))?;
            verify_blinding_shares(self.run_context(), Purpose::Pet, zj, &deltas, b, &mut DirectCheck::default())
                .map_err(|e| fail(round::PET, at, e))?;
        }
        if !deltas.is_empty() {
            self.blinded_tests = pet::blinded(&self.quorum, deltas.len(), &batches).map_err(|e| {
                let at = match &e {
                    pet::PetError::BlindedIdentity(i) => {
                        format!("row {}", self.tests.get(*i).map_or(usize::MAX, |t| t.0))
                    }
                    _ => "PET".into(),
                };
                fail(round::PET, at, e)
            })?;
        }
        Ok(())
    }

    /// The α's of the blinded differences (round 9's bases).
    pub(crate) fn pet_alphas(&self) -> Vec<RistrettoPoint> {
        self.blinded_tests.iter().map(|d| d.alpha).collect()
    }

    /// Round 9 (§7.8, PT-3): decryption shares against VK′_j; a test that fails drops its row.
    pub(crate) fn receive_pet_decryptions(&mut self, msgs: &[PetShares]) -> Result<(), RunError> {
        let alphas = self.pet_alphas();
        let batches =
            self.decryption_batches(round::PET_DECRYPTIONS, Purpose::PetDecrypt, "PET decryption", msgs, &alphas)?;
        if !alphas.is_empty() {
            let pass = pet::decide(&self.quorum, &self.blinded_tests, &batches)
                .map_err(|e| fail(round::PET_DECRYPTIONS, "PET", e))?;
            // §7.3 (M2): a failed test after sanitation is an unnamed malformed entry.
            let failed: Vec<usize> = self.tests.iter().zip(pass).filter(|(_, ok)| !ok).map(|((q, _), _)| *q).collect();
            if self.is_lenient() {
                self.mismatched.extend(&failed);
            } else if let Some(q) = failed.first() {
                return Err(fail(
                    round::PET_DECRYPTIONS,
                    format!("row {q}"),
                    "its credential is not its group's (credential_mismatch) after sanitation: a malformed entry \
                     was not named",
                ));
            }
        }
        Ok(())
    }

    /// The groups (§7.7), once round 7 is verified.
    pub fn groups(&self) -> Result<&Groups, RunError> {
        self.groups.as_ref().ok_or_else(|| fail(round::SELECTION, "groups", "round 7 is not verified"))
    }

    /// `P` of every shuffled row and pointer row: the second component of its I column.
    pub fn commitments(&self) -> (Vec<RistrettoPoint>, Vec<RistrettoPoint>) {
        let p = |rows: &[Vec<Ciphertext>]| rows.iter().filter_map(|r| r.get(2)).map(|c| *c.beta.point()).collect();
        (p(&self.rows), p(&self.pointers))
    }

    /// The layout of §7.10 from the groups, the PETs and the coordinator's pointer orders (for
    /// each chain with at least two pointers, chains in canonical order).
    pub fn layout(&self, orders: &[Vec<usize>]) -> Result<Layout, RunError> {
        let g = self.groups()?;
        let mut orders = orders.iter();
        // §7.7, §7.8: every dropped row, PET failures included, is proved real.
        let dropped: BTreeSet<usize> =
            g.dropped.iter().map(|(q, _)| *q).chain(self.mismatched.iter().copied()).collect();
        let mut layout = Layout { dropped: dropped.into_iter().collect(), ..Layout::default() };
        for (c, chain) in g.chains.iter().enumerate() {
            let at = || format!("chain {c}");
            let order = if chain.pointers.len() >= 2 {
                orders.next().cloned().ok_or_else(|| fail(round::SELECTION, at(), "no pointer order"))?
            } else {
                chain.pointers.clone()
            };
            let v = validity(g, c, &self.pointer_tags, &self.list_tags, &order)
                .map_err(|e| fail(round::SELECTION, at(), e))?;
            let intervals: HashMap<usize, Interval> =
                v.into_iter().map(|(l, v)| (l, Interval { start: v.start, end: v.end })).collect();
            let root = self
                .list_tags
                .get(chain.root)
                .map(|t| t.compress().to_bytes())
                .ok_or_else(|| fail(round::SELECTION, at(), "no root tag"))?;
            layout.chains.push(ChainPointers { root, pointers: order });
            let rows: Vec<GroupRow> = chain
                .rows
                .iter()
                .filter(|q| !self.mismatched.contains(q))
                .map(|q| {
                    let interval = g.list_row.get(*q).copied().flatten().and_then(|l| intervals.get(&l)).copied();
                    interval
                        .map(|interval| GroupRow { row: *q, interval })
                        .ok_or_else(|| fail(round::SELECTION, at(), "a row without a tag"))
                })
                .collect::<Result<_, _>>()?;
            if rows.is_empty() {
                continue;
            }
            let group = Group { root, rows };
            if group.rows.len() as u64 > self.setup.row_limit {
                layout.exceptions.push(group);
            } else {
                layout.groups.push(group);
            }
        }
        if orders.next().is_some() {
            return Err(fail(round::SELECTION, "orders", "more pointer orders than chains with two pointers"));
        }
        Ok(layout)
    }

    /// Round 10 (§7.9–7.11, §9.1): the cover, the pool's size, the canonical comparison list,
    /// the range proofs, the counts; returns the kept rows and N_s.
    pub(crate) fn receive_selection<R: RngCore + CryptoRng>(
        &self,
        msg: &Round10,
        rng: &mut R,
    ) -> Result<Filtered, RunError> {
        let r5 = self.round5.as_ref().ok_or_else(|| fail(round::SELECTION, "round 5", "not verified"))?;
        let to_usize = |x: &u64| usize::try_from(*x).map_err(|_| fail(round::SELECTION, "indices", "too large"));
        let orders: Vec<Vec<usize>> =
            msg.orders.iter().map(|o| o.iter().map(to_usize).collect()).collect::<Result<_, _>>()?;
        let layout = self.layout(&orders)?;
        let sizes: Vec<u64> = layout.groups.iter().map(|g| g.rows.len() as u64).collect();
        check_cover(&sizes, r5.dummies.len() as u64, self.setup.row_limit)
            .map_err(|e| fail(round::SELECTION, "cover", e))?;
        let largest = sizes.iter().copied().max().unwrap_or(0);
        if r5.copies != largest.saturating_sub(1) {
            return Err(fail(
                round::SELECTION,
                "pool",
                format!("{} copies, the cover's largest group is {largest}", r5.copies),
            ));
        }
        let kept: Vec<Option<usize>> =
            msg.kept.iter().map(|k| k.as_ref().map(to_usize).transpose()).collect::<Result<_, _>>()?;
        let revealed: Vec<(usize, Scalar)> =
            msg.selection.revealed.iter().map(|r| Ok((to_usize(&r.row)?, r.rho))).collect::<Result<_, RunError>>()?;
        let (rows_p, pointers_p) = self.commitments();
        let p = Commitments { rows: &rows_p, pointers: &pointers_p };
        check_order(&layout, &kept, &revealed, &msg.selection.comparisons, &p)
            .map_err(|e| fail(round::SELECTION, "comparisons", e))?;
        let ctx = SelectionContext { context: &self.setup.context, run: self.setup.run, style: &self.setup.style };
        verify_comparisons(rng, &ctx, &msg.selection.comparisons, &p, &msg.selection.proofs)
            .map_err(|e| fail(round::SELECTION, "range proofs", e))?;
        let kept_rows: Vec<Vec<Ciphertext>> = kept
            .iter()
            .flatten()
            .map(|r| self.rows.get(*r).cloned().ok_or_else(|| fail(round::SELECTION, "kept", format!("no row {r}"))))
            .collect::<Result<_, _>>()?;
        let kept_groups = kept_rows.len() as u64;
        // overridden_s can never exceed the style's overrides: without one (none are built yet,
        // §10), every kept group is a counted ballot, whatever round 11 later shows (review
        // 19-filtered H4: a member could otherwise publish counted 0, overridden = all)
        let overrides = self.inputs.overrides.len() as u64;
        if msg.counted.checked_add(msg.overridden) != Some(kept_groups)
            || msg.counted >= self.rec.m_s
            || msg.overridden > overrides
        {
            return Err(fail(
                round::SELECTION,
                "counts",
                format!(
                    "counted {} + overridden {} for {kept_groups} kept rows (M_s = {}, {overrides} overrides)",
                    msg.counted, msg.overridden, self.rec.m_s
                ),
            ));
        }
        let refs: Vec<&[Ciphertext]> = kept_rows.iter().map(Vec::as_slice).collect();
        let weight = weight_total(&self.setup.election_key, &refs).map_err(|e| fail(round::SELECTION, "TL-2", e))?;
        let g = self.groups()?;
        let reason = |r: crate::filter::groups::DropReason| -> Vec<usize> {
            g.dropped.iter().filter(|(_, d)| *d == r).map(|(q, _)| *q).collect()
        };
        Ok(Filtered {
            malformed: self.malformed.clone().unwrap_or_default(),
            out_of_station: self.out_of_station.clone().unwrap_or_default(),
            overridden_twice: self.overridden_twice.clone(),
            kept_rows,
            weight_total: weight,
            m_s: self.rec.m_s,
            counted: msg.counted,
            overridden: msg.overridden,
            groups: layout.groups.len() + layout.exceptions.len(),
            unlisted: reason(crate::filter::groups::DropReason::Unlisted),
            unrooted: reason(crate::filter::groups::DropReason::Unrooted),
            mismatched: self.mismatched.iter().copied().collect(),
            exceptions: layout.exceptions.iter().map(|g| g.rows.len()).collect(),
            forks: g.forks.clone(),
        })
    }
}

/// The label of the RNG that draws [`verify_transcript`]'s batching weights.
const WEIGHTS: &[u8] = b"dobush/filter/verify-weights";

/// Checks a published transcript against the recomputed inputs, every round in order, as a
/// member of F would (§8: the server does this before it posts `filtered`).
///
/// The weights that batch the shuffles' equations and the range proofs are drawn from an RNG
/// keyed by a hash of the whole transcript and then by 32 bytes of `rng` (review 19, L1): a
/// prover who knows `rng`'s seed still cannot choose a proof for weights it knows in advance.
/// Acceptance is conditional on TL-3 (§7.11), which needs the decryption of `N_s`.
pub fn verify_transcript<R: RngCore + CryptoRng>(
    setup: &Setup,
    inputs: &Inputs,
    t: &FilterTranscript,
    rng: &mut R,
) -> Result<Filtered, RunError> {
    let bytes = serde_json::to_vec(t).map_err(|e| fail(round::KEYS, "transcript", e))?;
    let mut weights = merlin::Transcript::new(WEIGHTS);
    weights.append_message(b"context", &setup.context);
    weights.append_message(b"transcript", &Sha256::digest(&bytes));
    let mut weights = weights.build_rng().finalize(rng);
    let rng = &mut weights;
    if t.version != TRANSCRIPT_VERSION
        || t.run != setup.run
        || t.style != setup.style
        || t.filter != setup.filter
        || t.coordinator != setup.coordinator
    {
        return Err(fail(round::KEYS, "header", "version, run, style, F or coordinator differ"));
    }
    let mut p = Public::new(setup.clone(), inputs)?;
    p.receive_keys(&t.keys)?;
    p.receive_names(&t.malformed, &t.stations, rng)?;
    p.receive_sanitation(&t.sanitation)?;
    p.receive_station_tags(&t.station_tags)?;
    p.receive_sanitation_decryptions(&t.sanitation_decryptions)?;
    p.receive_station_tag_decryptions(&t.station_tag_decryptions)?;
    if p.is_empty() {
        let later = t.shuffles.is_some()
            || !(t.tags.is_empty() && t.tag_decryptions.is_empty() && t.pet.is_empty() && t.pet_decryptions.is_empty())
            || t.selection.is_some();
        if later {
            return Err(fail(round::SHUFFLES, "rows", "no row survives round 4: rounds 5–10 must be empty"));
        }
        return p.empty_outcome();
    }
    let (Some(shuffles), Some(selection)) = (&t.shuffles, &t.selection) else {
        return Err(fail(round::SHUFFLES, "rows", "rows survive round 4: rounds 5 and 10 are missing"));
    };
    p.receive_shuffles(shuffles, rng)?;
    p.receive_tags(&t.tags)?;
    p.receive_tag_decryptions(&t.tag_decryptions)?;
    p.receive_pet(&t.pet)?;
    p.receive_pet_decryptions(&t.pet_decryptions)?;
    p.receive_selection(selection, rng)
}

/// Share batches as published, or a located failure if an image is the identity.
pub(crate) fn publish(round: u8, member: u32, list: &str, b: &ShareBatch) -> Result<Batch, RunError> {
    Batch::from_shares(b).ok_or_else(|| fail(round, format!("member {member}, {list}"), "a share is the identity"))
}
