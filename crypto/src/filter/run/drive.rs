//! [`run_filter`]: every member of F and the coordinator in one process, relaying each round's
//! messages to all (as the server does, §6). For tests and benchmarks.

use rand_core::{CryptoRng, RngCore};

use super::inputs::Inputs;
#[cfg(any(test, feature = "test-helpers"))]
use super::messages::Claim;
use super::messages::{FilterTranscript, TRANSCRIPT_VERSION};
use super::public::Filtered;
use super::{RunError, Setup, coordinator, fail, member, round};
use crate::threshold::KeyShare;

/// What a run gives: the published transcript and the verified outcome (the same for every
/// member).
#[derive(Clone, Debug)]
pub struct RunOutput {
    /// The transcript of the style (§8).
    pub transcript: FilterTranscript,
    /// The outcome.
    pub filtered: Filtered,
}

/// Runs the filter of one style with the key shares of the members of F (any order; one each).
pub fn run_filter<R: RngCore + CryptoRng>(
    setup: &Setup,
    inputs: &Inputs,
    shares: &[KeyShare],
    rng: &mut R,
) -> Result<RunOutput, RunError> {
    let (transcript, states) = run_rounds(setup, inputs, shares, rng, None, None, false)?;
    finish(transcript, states, rng)
}

/// Where the members are when the transcript is complete.
enum Ending {
    /// Waiting for round 10.
    Selection(Vec<member::AwaitingSelection>),
    /// No row survived round 4: the outcome (§7.3, §7.4).
    Empty(Box<Filtered>),
}

fn finish<R: RngCore + CryptoRng>(
    transcript: FilterTranscript,
    ending: Ending,
    rng: &mut R,
) -> Result<RunOutput, RunError> {
    let states = match ending {
        Ending::Empty(filtered) => return Ok(RunOutput { transcript, filtered: *filtered }),
        Ending::Selection(states) => states,
    };
    let selection =
        transcript.selection.as_ref().ok_or_else(|| fail(round::SELECTION, "selection", "round 10 is missing"))?;
    let mut outcomes =
        states.into_iter().map(|s| s.receive_selection(selection, rng)).collect::<Result<Vec<_>, _>>()?;
    let filtered = outcomes.pop().ok_or_else(|| fail(round::SELECTION, "members", "F is empty"))?;
    Ok(RunOutput { transcript, filtered })
}

/// Runs the filter with a forging coordinator in round 10 (tests only): the transcript as it
/// would be published, which no member has checked.
#[cfg(any(test, feature = "test-helpers"))]
pub fn run_filter_forged<R: RngCore + CryptoRng>(
    setup: &Setup,
    inputs: &Inputs,
    shares: &[KeyShare],
    rng: &mut R,
    forge: coordinator::Forge<'_>,
) -> Result<FilterTranscript, RunError> {
    run_rounds(setup, inputs, shares, rng, None, Some(forge), false).map(|(t, _)| t)
}

/// How the members of a test run check (tests only).
#[cfg(any(test, feature = "test-helpers"))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Members {
    /// As in an election: every check, so a well-formed claim stops the run in round 2, a false
    /// claim in round 4, and an unnamed malformed row in round 7 or 9.
    Checking,
    /// Going on past rows out of their chain after sanitation: the transcript a lenient F
    /// would publish, for the verifier to refuse (§7.3, review 19-sanitation M2).
    Lenient,
}

/// Runs the filter with a coordinator whose round 2 is `rename` of the honest claims (tests
/// only), with members that check as `members` says.
#[cfg(any(test, feature = "test-helpers"))]
pub fn run_filter_named<R: RngCore + CryptoRng>(
    setup: &Setup,
    inputs: &Inputs,
    shares: &[KeyShare],
    rng: &mut R,
    rename: Rename<'_>,
    members: Members,
) -> Result<RunOutput, RunError> {
    let lenient = members == Members::Lenient;
    let (transcript, states) = run_rounds(setup, inputs, shares, rng, Some(rename), None, lenient)?;
    finish(transcript, states, rng)
}

/// Rounds 0–4 with a coordinator whose round 2 is `rename` of the honest claims (tests only):
/// the transcript as it would be published before the members verify round 4, so that a false
/// claim's failed test can be shown to the verifier.
#[cfg(any(test, feature = "test-helpers"))]
pub fn run_to_round_4_named<R: RngCore + CryptoRng>(
    setup: &Setup,
    inputs: &Inputs,
    shares: &[KeyShare],
    rng: &mut R,
    rename: Rename<'_>,
) -> Result<FilterTranscript, RunError> {
    first_rounds(setup, inputs, shares, rng, Some(rename), false).map(|(t, _, _)| t)
}

/// A coordinator's change to its honest round-2 claims (tests only).
#[cfg(any(test, feature = "test-helpers"))]
pub type Rename<'a> = &'a dyn Fn(Vec<Claim>) -> Vec<Claim>;

#[cfg(any(test, feature = "test-helpers"))]
type MaybeForge<'a> = Option<coordinator::Forge<'a>>;
#[cfg(not(any(test, feature = "test-helpers")))]
type MaybeForge<'a> = Option<&'a ()>;
#[cfg(any(test, feature = "test-helpers"))]
type MaybeRename<'a> = Option<Rename<'a>>;
#[cfg(not(any(test, feature = "test-helpers")))]
type MaybeRename<'a> = Option<&'a ()>;

/// Every member's next state and message, in F order.
fn each<S, T, M>(
    states: Vec<S>,
    mut step: impl FnMut(S) -> Result<(T, M), RunError>,
) -> Result<(Vec<T>, Vec<M>), RunError> {
    let mut next = (Vec::with_capacity(states.len()), Vec::with_capacity(states.len()));
    for s in states {
        let (t, m) = step(s)?;
        next.0.push(t);
        next.1.push(m);
    }
    Ok(next)
}

/// Rounds 0–4: the transcript up to round 4 (not yet verified by the members), the members'
/// states and the coordinator's.
fn first_rounds<R: RngCore + CryptoRng>(
    setup: &Setup,
    inputs: &Inputs,
    shares: &[KeyShare],
    rng: &mut R,
    rename: MaybeRename<'_>,
    lenient: bool,
) -> Result<(FilterTranscript, Vec<member::AwaitingStationTagDecryptions>, coordinator::AwaitingSanitation), RunError> {
    let mut states = Vec::with_capacity(setup.filter.len());
    let mut keys = Vec::with_capacity(setup.filter.len());
    for j in &setup.filter {
        let share = shares
            .iter()
            .find(|s| s.index() == *j)
            .cloned()
            .ok_or_else(|| fail(round::KEYS, format!("member {j}"), "no key share"))?;
        let (state, k) = member::start(setup, inputs, share, rng)?;
        #[cfg(any(test, feature = "test-helpers"))]
        let state = if lenient { state.lenient() } else { state };
        #[cfg(not(any(test, feature = "test-helpers")))]
        let _ = lenient;
        states.push(state);
        keys.push(k);
    }
    let coordinator = coordinator::start(setup, inputs)?;
    let (states, views) = each(states, |s| s.receive_keys(&keys, rng))?;
    let at = setup.filter.iter().position(|j| *j == setup.coordinator);
    let own = at.and_then(|i| states.get(i)).ok_or_else(|| fail(round::VIEW, "coordinator", "not a member of F"))?;
    let (coordinator, (malformed, stations)) = coordinator.receive_view(own, &views, rng)?;
    #[cfg(any(test, feature = "test-helpers"))]
    let malformed = match rename {
        Some(f) => f(malformed),
        None => malformed,
    };
    #[cfg(not(any(test, feature = "test-helpers")))]
    let _ = rename;
    let (states, round3) = each(states, |s| s.receive_names(&malformed, &stations, rng))?;
    let (sanitation, station_tags): (Vec<_>, Vec<_>) = round3.into_iter().unzip();
    let (states, round4) = each(states, |s| s.receive_sanitation(&sanitation, &station_tags, rng))?;
    let (sanitation_decryptions, station_tag_decryptions): (Vec<_>, Vec<_>) = round4.into_iter().unzip();
    let transcript = FilterTranscript {
        version: TRANSCRIPT_VERSION.into(),
        run: setup.run,
        style: setup.style.clone(),
        filter: setup.filter.clone(),
        coordinator: setup.coordinator,
        keys,
        malformed,
        stations,
        sanitation,
        station_tags,
        sanitation_decryptions,
        station_tag_decryptions,
        shuffles: None,
        tags: Vec::new(),
        tag_decryptions: Vec::new(),
        pet: Vec::new(),
        pet_decryptions: Vec::new(),
        selection: None,
    };
    Ok((transcript, states, coordinator))
}

fn run_rounds<R: RngCore + CryptoRng>(
    setup: &Setup,
    inputs: &Inputs,
    shares: &[KeyShare],
    rng: &mut R,
    rename: MaybeRename<'_>,
    forge: MaybeForge<'_>,
    lenient: bool,
) -> Result<(FilterTranscript, Ending), RunError> {
    let (mut transcript, states, coordinator) = first_rounds(setup, inputs, shares, rng, rename, lenient)?;
    let (mut next, mut empty) = (Vec::with_capacity(states.len()), None);
    for s in states {
        match s
            .receive_station_tag_decryptions(&transcript.sanitation_decryptions, &transcript.station_tag_decryptions)?
        {
            member::AfterStations::Shuffles(s) => next.push(*s),
            member::AfterStations::Done(f) => empty = Some(f),
        }
    }
    let states = next;
    match (empty, states.is_empty()) {
        (Some(f), true) => return Ok((transcript, Ending::Empty(f))),
        (None, false) => {}
        _ => return Err(fail(round::STATION_TAG_DECRYPTIONS, "members", "the members disagree on the rows left")),
    }
    let at = setup.filter.iter().position(|j| *j == setup.coordinator);
    let own =
        at.and_then(|i| states.get(i)).ok_or_else(|| fail(round::SHUFFLES, "coordinator", "not a member of F"))?;
    let (coordinator, shuffles) = coordinator.shuffle(own, rng)?;
    let (states, tags) = each(states, |s| s.receive_shuffles(&shuffles, rng))?;
    let (states, tag_decryptions) = each(states, |s| s.receive_tags(&tags, rng))?;
    let (states, pet) = each(states, |s| s.receive_tag_decryptions(&tag_decryptions, rng))?;
    let (states, pet_decryptions) = each(states, |s| s.receive_pet(&pet, rng))?;
    let states =
        states.into_iter().map(|s| s.receive_pet_decryptions(&pet_decryptions)).collect::<Result<Vec<_>, _>>()?;
    let at = setup.filter.iter().position(|j| *j == setup.coordinator);
    let own =
        at.and_then(|i| states.get(i)).ok_or_else(|| fail(round::SELECTION, "coordinator", "not a member of F"))?;
    #[cfg(any(test, feature = "test-helpers"))]
    let selection = match forge {
        Some(f) => coordinator.select_forged(own, rng, f)?,
        None => coordinator.select(own, rng)?,
    };
    #[cfg(not(any(test, feature = "test-helpers")))]
    let selection = {
        let _ = forge;
        coordinator.select(own, rng)?
    };
    transcript.shuffles = Some(shuffles);
    transcript.tags = tags;
    transcript.tag_decryptions = tag_decryptions;
    transcript.pet = pet;
    transcript.pet_decryptions = pet_decryptions;
    transcript.selection = Some(selection);
    Ok((transcript, Ending::Selection(states)))
}
