//! A member of F (`13-revoting.md` §6): the rounds as typestates. Each state can only be left
//! by verifying the round every member (or the coordinator) published, and only then does it
//! give the member's next message, so no member contributes to round r + 1 before round r is
//! verified. The member's secrets (its share of s, its filter key shares) live in the states
//! until round 9 and are zeroized when the last state that needs them is dropped.

use curve25519_dalek::ristretto::RistrettoPoint;
use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroizing;

use super::inputs::{Inputs, Recomputed};
use super::messages::{
    Batch, Claim, PetShares, PrivateShares, Round5, Round10, SanitationBlinding, SanitationTest, Shuffled,
    StationTagShares, TagShares,
};
use super::public::{Filtered, Public, TAG_LISTS, publish};
use super::{RunError, Setup, fail, round};
use crate::elgamal::RawCiphertext;
use crate::filter::designated::DesignatedProof;
use crate::filter::dleq::{BatchStatement, Purpose};
use crate::filter::keys::{FilterSecrets, KeyPurpose, MemberKeys, generate};
use crate::filter::tags::{
    ShareBatch, ShareError, blinding_shares, blinding_shares_under, decryption_shares, station_tag_shares,
};
use crate::group::{GroupElement, mul_base, random_nonzero_scalar};
use crate::threshold::KeyShare;

const TAG_PURPOSES: [Purpose; 3] = [Purpose::TagRows, Purpose::TagList, Purpose::TagPointers];
const TAG_DECRYPT_PURPOSES: [Purpose; 3] =
    [Purpose::TagDecryptRows, Purpose::TagDecryptList, Purpose::TagDecryptPointers];

/// One share batch per list that has rows (§7.6), as published.
fn per_list<T>(
    round: u8,
    j: u32,
    lists: &[Vec<T>; 3],
    mut make: impl FnMut(usize, &[T]) -> Result<ShareBatch, ShareError>,
) -> Result<TagShares, RunError> {
    let mut out: [Option<Batch>; 3] = Default::default();
    for (l, items) in lists.iter().enumerate() {
        if items.is_empty() {
            continue;
        }
        let b = make(l, items).map_err(|e| fail(round, format!("member {j}, {}", TAG_LISTS[l]), e))?;
        out[l] = Some(publish(round, j, TAG_LISTS[l], &b)?);
    }
    let [rows, list, pointers] = out;
    let rows = rows.ok_or_else(|| fail(round, format!("member {j}"), "no rows"))?;
    Ok(TagShares { member: j, rows, list, pointers })
}

struct Inner {
    public: Public,
    secrets: FilterSecrets,
    share: KeyShare,
}

impl Inner {
    fn member(&self) -> u32 {
        self.share.index()
    }

    /// Pre-scaled decryption shares of `alphas` with their batched proof, `None` for none.
    fn optional_decryption<R: RngCore + CryptoRng>(
        &self,
        round: u8,
        purpose: Purpose,
        what: &str,
        alphas: &[RistrettoPoint],
        rng: &mut R,
    ) -> Result<Option<Batch>, RunError> {
        if alphas.is_empty() {
            return Ok(None);
        }
        let j = self.member();
        let public = &self.public;
        let b = decryption_shares(public.run_context(), purpose, public.quorum(), &self.share, alphas, rng)
            .map_err(|e| fail(round, format!("member {j}"), e))?;
        publish(round, j, what, &b).map(Some)
    }

    /// Round 3's station tag shares (§7.4): one batch per station of the package against
    /// K′_{j,st}, `None` for a station with no station row and no override.
    fn station_tags<R: RngCore + CryptoRng>(&self, rng: &mut R) -> Result<StationTagShares, RunError> {
        let (j, r) = (self.member(), round::SANITATION);
        let public = &self.public;
        let stations = public
            .station_tag_inputs()?
            .iter()
            .enumerate()
            .map(|(i, cts)| {
                if cts.is_empty() {
                    return Ok(None);
                }
                let b = station_tag_shares(public.run_context(), &self.secrets, i, cts, &mut *rng)
                    .map_err(|e| fail(r, format!("member {j}"), e))?;
                publish(r, j, "station tags", &b).map(Some)
            })
            .collect::<Result<_, _>>()?;
        Ok(StationTagShares { member: j, stations })
    }

    /// Blinding shares of `cts` under the key `which` with their batched proof, `None` for none.
    fn optional_blinding<R: RngCore + CryptoRng>(
        &self,
        round: u8,
        purpose: Purpose,
        which: KeyPurpose,
        what: &str,
        cts: &[RawCiphertext],
        rng: &mut R,
    ) -> Result<Option<Batch>, RunError> {
        if cts.is_empty() {
            return Ok(None);
        }
        let j = self.member();
        let b = blinding_shares(self.public.run_context(), purpose, &self.secrets, which, cts, rng)
            .map_err(|e| fail(round, format!("member {j}"), e))?;
        publish(round, j, what, &b).map(Some)
    }
}

/// Round 0 sent; waiting for every member's keys.
pub struct AwaitingKeys(Inner);
/// Round 1 sent to the coordinator; waiting for the coordinator's claims (round 2).
pub struct AwaitingNames(Inner);
/// Round 3 published; waiting for every member's sanitation and station tag shares.
pub struct AwaitingSanitation(Inner);
/// Round 4 sent; waiting for every member's sanitation and station tag decryption shares.
pub struct AwaitingStationTagDecryptions(Inner);
/// What follows round 4: the shuffles, or, if no row is left, the style's outcome.
pub enum AfterStations {
    /// Rows are left: waiting for the coordinator's round 5.
    Shuffles(Box<AwaitingShuffles>),
    /// No row is left: nothing is counted.
    Done(Box<Filtered>),
}

/// Round 4 verified, the malformed entries and the overrides out of their station dropped;
/// waiting for the coordinator's round 5.
pub struct AwaitingShuffles(Inner);
/// Round 6 sent; waiting for every member's tag shares.
pub struct AwaitingTags(Inner);
/// Round 7 sent; waiting for every member's tag decryption shares.
pub struct AwaitingTagDecryptions(Inner);
/// Round 8 sent; waiting for every member's PET shares.
pub struct AwaitingPet(Inner);
/// Round 9 sent; waiting for every member's PET decryption shares.
pub struct AwaitingPetDecryptions(Inner);
/// Every share round verified (secrets dropped); waiting for the coordinator's round 10.
pub struct AwaitingSelection(Public);

/// Member `share.index()` starts the run: recomputes the inputs, checks F, and draws and proves
/// its key shares (round 0).
pub fn start<R: RngCore + CryptoRng>(
    setup: &Setup,
    inputs: &Inputs,
    share: KeyShare,
    rng: &mut R,
) -> Result<(AwaitingKeys, MemberKeys), RunError> {
    let public = Public::new(setup.clone(), inputs)?;
    let j = share.index();
    let (secrets, keys) = generate(&setup.context, setup.run, public.quorum(), j, &public.station_ids(), rng)
        .map_err(|e| fail(round::KEYS, format!("member {j}"), e))?;
    Ok((AwaitingKeys(Inner { public, secrets, share }), keys))
}

impl AwaitingKeys {
    /// Tests only: this member goes on past rows out of their chain after sanitation (M2).
    #[cfg(any(test, feature = "test-helpers"))]
    pub fn lenient(mut self) -> Self {
        self.0.public.set_lenient();
        self
    }

    /// Verifies round 0 (its own keys among them, unchanged) and makes round 1: the pre-scaled
    /// partial decryptions of the X and V columns and of the replacements' old tag bases, for
    /// the coordinator alone, with their proof designated to it (§7.2).
    pub fn receive_keys<R: RngCore + CryptoRng>(
        mut self,
        keys: &[MemberKeys],
        rng: &mut R,
    ) -> Result<(AwaitingNames, PrivateShares), RunError> {
        let j = self.0.member();
        self.0.public.receive_keys(keys)?;
        let mine = keys.iter().find(|k| k.member == j);
        let secrets = &self.0.secrets;
        let altered = |k: &MemberKeys| {
            KeyPurpose::ALL.iter().any(|p| *k.key(*p).key.point() != mul_base(secrets.secret(*p)))
                || k.station_tags
                    .iter()
                    .enumerate()
                    .any(|(i, y)| secrets.station_secret(i).map(mul_base) != Some(*y.key.point()))
        };
        if mine.is_none_or(altered) {
            return Err(fail(round::KEYS, format!("member {j}"), "its own key share was altered"));
        }
        let lambda =
            self.0.public.quorum().lagrange(j).ok_or_else(|| fail(round::VIEW, format!("member {j}"), "not in F"))?;
        let scaled = Zeroizing::new(lambda * self.0.share.secret());
        let rec = self.0.public.recomputed();
        let alpha = |row: &Vec<crate::elgamal::Ciphertext>, col: usize| -> RistrettoPoint {
            row.get(col).map_or(RistrettoPoint::default(), |c| *scaled * c.alpha.point())
        };
        let (credentials, tag_bases, old_tag_bases): (Vec<_>, Vec<_>, Vec<_>) = (
            rec.real.iter().map(|r| alpha(r, 0)).collect(),
            rec.real.iter().map(|r| alpha(r, 1)).collect(),
            rec.pointers.iter().map(|r| alpha(r, 1)).collect(),
        );
        let bases = view_bases(rec);
        let images: Vec<RistrettoPoint> = credentials.iter().chain(&tag_bases).chain(&old_tag_bases).copied().collect();
        // §7.2: the proof designated to the coordinator, so that an offset share is caught
        // before anything is named (review 19-sanitation C1, M1) and proves nothing to others.
        let proof = if bases.is_empty() {
            None
        } else {
            let public = &self.0.public;
            let st = view_statement(public, j, &bases, &images)?;
            let proof = DesignatedProof::prove(&st, public.designated_key()?, &scaled, rng)
                .map_err(|e| fail(round::VIEW, format!("member {j}"), e))?;
            Some(proof)
        };
        let view = PrivateShares { member: j, credentials, tag_bases, old_tag_bases, proof };
        Ok((AwaitingNames(self.0), view))
    }
}

/// Round 1's bases in the order of its proof (§7.2): the α of every real row's X, of every
/// real row's V, then of every replacement's `old_tbase`.
pub(crate) fn view_bases(rec: &Recomputed) -> Vec<RistrettoPoint> {
    let alpha = |col: usize| {
        move |r: &Vec<crate::elgamal::Ciphertext>| r.get(col).map_or(RistrettoPoint::default(), |c| *c.alpha.point())
    };
    let x = rec.real.iter().map(alpha(0));
    let v = rec.real.iter().map(alpha(1));
    x.chain(v).chain(rec.pointers.iter().map(alpha(1))).collect()
}

/// Member j's round 1 statement (§7.2): purpose `view`, key VK′_j.
fn view_statement<'a>(
    public: &'a Public,
    j: u32,
    bases: &'a [RistrettoPoint],
    images: &'a [RistrettoPoint],
) -> Result<BatchStatement<'a>, RunError> {
    let key = public.scaled_vk(round::VIEW, j)?;
    Ok(BatchStatement { run: public.run_context(), purpose: Purpose::View, member: j, key, bases, images })
}

/// The coordinator's check of member j's private view (§7.2): its proof designated to the
/// coordinator's PET key, on the bases of [`view_bases`].
pub(crate) fn check_view(public: &Public, view: &PrivateShares) -> Result<(), RunError> {
    let j = view.member;
    let bases = view_bases(public.recomputed());
    let images: Vec<RistrettoPoint> =
        view.credentials.iter().chain(&view.tag_bases).chain(&view.old_tag_bases).copied().collect();
    let at = format!("member {j}, private shares");
    match &view.proof {
        None if bases.is_empty() && images.is_empty() => Ok(()),
        None => Err(fail(round::VIEW, at, "no proof")),
        Some(proof) => {
            let st = view_statement(public, j, &bases, &images)?;
            proof.verify(&st, public.designated_key()?).map_err(|e| fail(round::VIEW, at, e))
        }
    }
}

impl AwaitingNames {
    /// The verified public state after round 0 (the coordinator checks the private views with
    /// it).
    pub fn public(&self) -> &Public {
        &self.0.public
    }

    /// The member j.
    pub fn member(&self) -> u32 {
        self.0.member()
    }

    /// Verifies round 2 (the claims resolve to entries of the style and are malformed; the
    /// station shuffles) and makes round 3: PET blinding shares of the named entries'
    /// differences from their claims (§7.3), and station tag shares (§7.4).
    pub fn receive_names<R: RngCore + CryptoRng>(
        mut self,
        claims: &[Claim],
        stations: &[Option<Shuffled>],
        rng: &mut R,
    ) -> Result<(AwaitingSanitation, (SanitationBlinding, StationTagShares)), RunError> {
        self.0.public.receive_names(claims, stations, rng)?;
        let j = self.0.member();
        let r = round::SANITATION;
        // §7.3 SN-2: each test blinded under its own fresh key, so that no two results (of a
        // false claim) can be compared and none depends on the run's PET key.
        let mut tests = Vec::new();
        for d in self.0.public.sanitation_tests()? {
            let z = Zeroizing::new(random_nonzero_scalar(rng));
            let key = GroupElement::from_point(mul_base(&z))
                .map_err(|_| fail(r, format!("member {j}"), "a blinding key is the identity"))?;
            let b = blinding_shares_under(self.0.public.run_context(), Purpose::SanitizePet, j, &z, &[d], rng)
                .map_err(|e| fail(r, format!("member {j}"), e))?;
            tests.push(SanitationTest { key, shares: publish(r, j, "sanitation", &b)? });
        }
        let sanitation = SanitationBlinding { member: j, tests };
        let msgs = (sanitation, self.0.station_tags(rng)?);
        Ok((AwaitingSanitation(self.0), msgs))
    }
}

impl AwaitingSanitation {
    /// Verifies round 3 (§7.3, §7.4) and makes round 4: pre-scaled decryption shares of the
    /// blinded sanitation differences and of the combined station tag ciphertexts.
    pub fn receive_sanitation<R: RngCore + CryptoRng>(
        mut self,
        sanitation: &[SanitationBlinding],
        station_tags: &[StationTagShares],
        rng: &mut R,
    ) -> Result<(AwaitingStationTagDecryptions, (PetShares, PetShares)), RunError> {
        self.0.public.receive_sanitation(sanitation)?;
        self.0.public.receive_station_tags(station_tags)?;
        let j = self.0.member();
        let r = round::STATION_TAG_DECRYPTIONS;
        let alphas = self.0.public.sanitation_alphas();
        let tests =
            self.0.optional_decryption(r, Purpose::SanitizePetDecrypt, "sanitation decryption", &alphas, rng)?;
        let alphas = self.0.public.station_tag_alphas();
        let shares =
            self.0.optional_decryption(r, Purpose::StationTagDecrypt, "station tag decryption", &alphas, rng)?;
        let msgs = (PetShares { member: j, shares: tests }, PetShares { member: j, shares });
        Ok((AwaitingStationTagDecryptions(self.0), msgs))
    }
}

impl AwaitingStationTagDecryptions {
    /// Verifies round 4: every named entry's claims are its plaintexts (§7.3), and the
    /// overrides out of their station are dropped (§7.4). If no row is left, the run of the
    /// style ends here (rounds 5–10 are empty) and its outcome is given.
    pub fn receive_station_tag_decryptions(
        mut self,
        sanitation: &[PetShares],
        all: &[PetShares],
    ) -> Result<AfterStations, RunError> {
        self.0.public.receive_sanitation_decryptions(sanitation)?;
        self.0.public.receive_station_tag_decryptions(all)?;
        if self.0.public.is_empty() {
            return self.0.public.empty_outcome().map(|f| AfterStations::Done(Box::new(f)));
        }
        Ok(AfterStations::Shuffles(Box::new(AwaitingShuffles(self.0))))
    }
}

impl AwaitingShuffles {
    /// The verified public state after sanitation (the coordinator shuffles its inputs).
    pub fn public(&self) -> &Public {
        &self.0.public
    }

    /// Verifies round 5 and makes round 6: tag shares of every list (§7.6).
    pub fn receive_shuffles<R: RngCore + CryptoRng>(
        mut self,
        msg: &Round5,
        rng: &mut R,
    ) -> Result<(AwaitingTags, TagShares), RunError> {
        self.0.public.receive_shuffles(msg, rng)?;
        let j = self.0.member();
        let inputs = self.0.public.tag_inputs();
        let (public, secrets) = (&self.0.public, &self.0.secrets);
        let msg = per_list(round::TAGS, j, &inputs, |l, cts| {
            blinding_shares(public.run_context(), TAG_PURPOSES[l], secrets, KeyPurpose::Tag, cts, &mut *rng)
        })?;
        Ok((AwaitingTags(self.0), msg))
    }
}

impl AwaitingTags {
    /// Verifies round 6 and makes round 7: pre-scaled decryption shares of the combined tag
    /// ciphertexts (§7.6).
    pub fn receive_tags<R: RngCore + CryptoRng>(
        mut self,
        all: &[TagShares],
        rng: &mut R,
    ) -> Result<(AwaitingTagDecryptions, TagShares), RunError> {
        self.0.public.receive_tags(all)?;
        let j = self.0.member();
        let alphas = self.0.public.tag_alphas();
        let (public, share) = (&self.0.public, &self.0.share);
        let msg = per_list(round::TAG_DECRYPTIONS, j, &alphas, |l, a| {
            decryption_shares(public.run_context(), TAG_DECRYPT_PURPOSES[l], public.quorum(), share, a, &mut *rng)
        })?;
        Ok((AwaitingTagDecryptions(self.0), msg))
    }
}

impl AwaitingTagDecryptions {
    /// Verifies round 7 (tags, groups) and makes round 8: PET blinding shares (§7.8).
    pub fn receive_tag_decryptions<R: RngCore + CryptoRng>(
        mut self,
        all: &[TagShares],
        rng: &mut R,
    ) -> Result<(AwaitingPet, PetShares), RunError> {
        self.0.public.receive_tag_decryptions(all)?;
        let j = self.0.member();
        let deltas = self.0.public.pet_inputs();
        let shares = self.0.optional_blinding(round::PET, Purpose::Pet, KeyPurpose::Pet, "PET", &deltas, rng)?;
        Ok((AwaitingPet(self.0), PetShares { member: j, shares }))
    }
}

impl AwaitingPet {
    /// Verifies round 8 and makes round 9: decryption shares of the blinded differences.
    pub fn receive_pet<R: RngCore + CryptoRng>(
        mut self,
        all: &[PetShares],
        rng: &mut R,
    ) -> Result<(AwaitingPetDecryptions, PetShares), RunError> {
        self.0.public.receive_pet(all)?;
        let j = self.0.member();
        let alphas = self.0.public.pet_alphas();
        let shares =
            self.0.optional_decryption(round::PET_DECRYPTIONS, Purpose::PetDecrypt, "PET decryption", &alphas, rng)?;
        Ok((AwaitingPetDecryptions(self.0), PetShares { member: j, shares }))
    }
}

impl AwaitingPetDecryptions {
    /// Verifies round 9; the member's secrets are dropped (and zeroized) here.
    pub fn receive_pet_decryptions(mut self, all: &[PetShares]) -> Result<AwaitingSelection, RunError> {
        self.0.public.receive_pet_decryptions(all)?;
        Ok(AwaitingSelection(self.0.public))
    }
}

impl AwaitingSelection {
    /// The verified public state (the coordinator selects from it).
    pub fn public(&self) -> &Public {
        &self.0
    }

    /// Verifies round 10 and returns the style's outcome.
    pub fn receive_selection<R: RngCore + CryptoRng>(self, msg: &Round10, rng: &mut R) -> Result<Filtered, RunError> {
        self.0.receive_selection(msg, rng)
    }
}
