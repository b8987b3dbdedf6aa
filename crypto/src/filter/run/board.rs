//! The filter of a real v2 board (`docs/protocol/13-revoting.md` §5, §6.8, §7.11): the inputs
//! of every style recomputed from the board's entries, the check of a published transcript
//! against them, and the encrypted totals TL-1 of the styles' kept rows. The server (before it
//! posts `filtered`), the members' tools and the key-holders' `tally` all call these, so that
//! they recompute the same rows from the same board.

use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use rand_core::{CryptoRng, RngCore};

use super::inputs::{BallotInput, Inputs, ReplacementInput};
use super::messages::FilterTranscript;
use super::public::{Filtered, verify_transcript};
use super::{RunError, Setup, fail, round};
use crate::elgamal::RawCiphertext;
use crate::filter::totals::FIRST_VOTE;
use crate::group::GroupElement;
use crate::group::generator_g;
use crate::parameters::ReVotePolicy;
use crate::record::{BoardEntry, ElectionPackage};
use crate::tally::ContestTotals;
use crate::threshold::Parameters;

/// The row limit c of §9.2 for a re-vote rule: `forbidden` is c = 2 (one e-ballot per chain),
/// `last_counts` c = 6 (five e-ballots). The package does not carry `re_vote.max_rows` yet; when
/// it does, c is read from it instead.
pub fn row_limit(policy: ReVotePolicy) -> u64 {
    match policy {
        ReVotePolicy::Forbidden => 2,
        ReVotePolicy::LastCounts => 6,
    }
}

/// The record path of style `index`'s filter transcript (record-format.md §Filter transcript):
/// `filter/<index>.json`, the index in decimal.
pub fn transcript_path(index: usize) -> String {
    format!("filter/{index}.json")
}

/// One style of the manifest with what the board gives its filter.
#[derive(Clone, Debug)]
pub struct StyleBoard {
    /// The style's position in the manifest (its transcript is `filter/<index>.json`).
    pub index: usize,
    /// The style id.
    pub style: String,
    /// The manifest position of each of its contests, in ballot order.
    pub contests: Vec<usize>,
    /// k: its selections in all, in ballot order.
    pub selections: usize,
    /// The rows' sources, board order (list order for the list).
    pub inputs: Inputs,
}

impl StyleBoard {
    /// Whether the style has a filter at all: a ballot (overrides are not built yet, §10).
    pub fn has_rows(&self) -> bool {
        !self.inputs.ballots.is_empty() || !self.inputs.overrides.is_empty()
    }
}

fn board_fail(at: impl Into<String>, reason: impl std::fmt::Display) -> RunError {
    fail(round::KEYS, at, reason)
}

fn style_mut<'a>(styles: &'a mut [StyleBoard], style: &str, at: u64) -> Result<&'a mut StyleBoard, RunError> {
    styles
        .iter_mut()
        .find(|s| s.style == style)
        .ok_or_else(|| board_fail(format!("board index {at}"), format!("style {style:?} is not in the manifest")))
}

/// Every style's inputs, manifest order, from the board's entries up to the filter's input head
/// (§6.1: the entries before the first `filtered` one; any `filtered` entry is skipped). A v1
/// entry, a ballot or replacement after `closed` or of a style not in the manifest, or a ballot
/// whose contests are not its style's is refused: the board is not a v2 board the filter can
/// read.
///
/// It reads rows, it does not judge entries: every `credential_replaced_v2` gives a pointer row
/// and every listed credential a list row, so the caller must have checked the board's entries
/// first (the server posts only checked ones; the key-holders' `tally` checks each replacement's
/// proof and signatures and the list's signatures before calling this; review 19-filtered M4).
pub fn style_inputs(package: &ElectionPackage, entries: &[BoardEntry]) -> Result<Vec<StyleBoard>, RunError> {
    let manifest = &package.manifest;
    let mut styles = Vec::with_capacity(manifest.ballot_styles.len());
    for (index, s) in manifest.ballot_styles.iter().enumerate() {
        let mut contests = Vec::with_capacity(s.contests.len());
        let mut selections = 0usize;
        for id in &s.contests {
            let (q, contest) =
                manifest.contest(id).ok_or_else(|| board_fail(format!("style {:?}", s.id), "names no contest"))?;
            contests.push(q);
            selections += contest.selection_count();
        }
        styles.push(StyleBoard { index, style: s.id.clone(), contests, selections, inputs: Inputs::default() });
    }
    let mut closed = false;
    for (i, entry) in entries.iter().enumerate() {
        let at = i as u64;
        let cast = matches!(entry, BoardEntry::BallotV2 { .. } | BoardEntry::CredentialReplacedV2 { .. });
        if closed && cast {
            return Err(board_fail(format!("board index {at}"), "a ballot or replacement after `closed`"));
        }
        match entry {
            BoardEntry::CredentialListV2 { credentials, .. } => {
                for c in credentials {
                    style_mut(&mut styles, &c.style, at)?.inputs.list.push(c.credential.0);
                }
            }
            BoardEntry::CredentialReplacedV2 { style, new, old_tbase, .. } => {
                let replacement = ReplacementInput { index: at, new: new.0, old_tbase: *old_tbase };
                style_mut(&mut styles, style, at)?.inputs.replacements.push(replacement);
            }
            BoardEntry::BallotV2 { ballot, .. } => {
                let s = style_mut(&mut styles, &ballot.style, at)?;
                let ids: Vec<&str> = ballot.contests.iter().map(|c| c.contest_id.as_str()).collect();
                let expected: Vec<&str> =
                    s.contests.iter().filter_map(|&q| manifest.contests.get(q)).map(|c| c.id.as_str()).collect();
                if ids != expected {
                    return Err(board_fail(format!("board index {at}"), "the ballot's contests are not its style's"));
                }
                let votes: Vec<_> =
                    ballot.contests.iter().flat_map(|c| c.selections.iter().map(|sel| sel.ciphertext)).collect();
                if votes.len() != s.selections {
                    return Err(board_fail(format!("board index {at}"), "the ballot's selections are not its style's"));
                }
                s.inputs.ballots.push(BallotInput { index: at, cred: ballot.cred, tbase: ballot.tbase, votes });
            }
            BoardEntry::CredentialList { .. }
            | BoardEntry::CredentialReplaced { .. }
            | BoardEntry::Ballot { .. }
            | BoardEntry::Challenged { .. }
            | BoardEntry::Superseded { .. } => {
                return Err(board_fail(format!("board index {at}"), "a v1 entry on a v2 board"));
            }
            BoardEntry::CredentialListSigned { .. }
            | BoardEntry::Opened { .. }
            | BoardEntry::ChallengedV2 { .. }
            | BoardEntry::CastVerifierRevealed { .. }
            | BoardEntry::WebAssets { .. }
            | BoardEntry::Filtered { .. } => {}
            BoardEntry::Closed { .. } => closed = true,
        }
    }
    Ok(styles)
}

/// The setup of style `s`'s filter in run `run` with quorum `filter` and its coordinator, for
/// the package and the ceremony's verification keys `VK_1 … VK_n` (index order).
pub fn setup(
    package: &ElectionPackage,
    verification_keys: &[GroupElement],
    s: &StyleBoard,
    run: u64,
    filter: Vec<u32>,
    coordinator: u32,
) -> Result<Setup, RunError> {
    let n = u32::try_from(package.key_holders.len()).map_err(|e| board_fail("key-holders", e))?;
    let params = Parameters::new(n, package.threshold).map_err(|e| board_fail("key-holders", e))?;
    if verification_keys.len() != package.key_holders.len() {
        return Err(board_fail("verification keys", "one per key-holder is needed"));
    }
    Ok(Setup {
        context: package.extended_hash,
        base_hash: package.base_hash,
        run,
        style: s.style.clone(),
        election_key: package.joint_key,
        params,
        verification_keys: verification_keys.to_vec(),
        row_limit: row_limit(package.parameters.re_vote.policy),
        selections: s.selections,
        filter,
        coordinator,
    })
}

/// Checks a published transcript of style `s` (§8) against the board, every round, as a member
/// of F would; its header (run, F, coordinator) is the transcript's own, checked by
/// [`verify_transcript`] for what it can check (F a quorum, the coordinator in it).
pub fn verify_style<R: RngCore + CryptoRng>(
    package: &ElectionPackage,
    verification_keys: &[GroupElement],
    s: &StyleBoard,
    transcript: &FilterTranscript,
    rng: &mut R,
) -> Result<Filtered, RunError> {
    if transcript.style != s.style {
        return Err(board_fail("header", "the transcript is of another style"));
    }
    let setup =
        setup(package, verification_keys, s, transcript.run, transcript.filter.clone(), transcript.coordinator)?;
    verify_transcript(&setup, &s.inputs, transcript, rng)
}

/// What one style's accepted filter gives the totals: counted_s and, for every contest of the
/// manifest and each of its selections, the sum of the kept rows' vote ciphertexts (the zero
/// ciphertext where the style does not hold the contest, or keeps no row). TL-1 adds these to
/// `(G, K)` over the styles (§7.11). Small (one pair of points per selection), so the server keeps
/// it beside the transcript and publishes the totals without reading any transcript again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StyleOutput {
    /// The style's position in the manifest.
    pub index: usize,
    /// counted_s.
    pub counted: u64,
    /// Σ of the kept rows' votes, per contest of the manifest, per selection.
    pub sums: Vec<Vec<RawCiphertext>>,
}

impl StyleOutput {
    /// The output of a verified filter of style `s`.
    pub fn verified(package: &ElectionPackage, s: &StyleBoard, f: &Filtered) -> Result<Self, RunError> {
        let mut sums: Vec<Vec<RawCiphertext>> =
            package.manifest.contests.iter().map(|c| vec![RawCiphertext::zero(); c.selection_count()]).collect();
        for row in &f.kept_rows {
            let mut votes = row.get(FIRST_VOTE..).unwrap_or_default().iter();
            for &q in &s.contests {
                let contest = sums.get_mut(q).ok_or_else(|| board_fail("totals", "a contest out of range"))?;
                for total in contest.iter_mut() {
                    let vote = votes.next().ok_or_else(|| board_fail("totals", "a kept row is too short"))?;
                    *total += vote.raw();
                }
            }
            if votes.next().is_some() {
                return Err(board_fail("totals", "a kept row is too long"));
            }
        }
        Ok(Self { index: s.index, counted: f.counted, sums })
    }

    /// The stored form: `{"index", "counted", "sums": [[[α, β], …], …]}`, points as hex of their
    /// encodings (the identity allowed: a sum of nothing).
    pub fn to_json(&self) -> String {
        let sums: Vec<Vec<[String; 2]>> = self
            .sums
            .iter()
            .map(|c| c.iter().map(|t| [hex::encode(t.alpha.compress().0), hex::encode(t.beta.compress().0)]).collect())
            .collect();
        serde_json::json!({ "index": self.index, "counted": self.counted, "sums": sums }).to_string()
    }

    /// Reads [`StyleOutput::to_json`] back.
    pub fn from_json(text: &str) -> Result<Self, RunError> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Stored {
            index: usize,
            counted: u64,
            sums: Vec<Vec<[String; 2]>>,
        }
        let bad = |e: &dyn std::fmt::Display| board_fail("stored output", e.to_string());
        let st: Stored = serde_json::from_str(text).map_err(|e| bad(&e))?;
        let point = |h: &str| -> Result<RistrettoPoint, RunError> {
            let b: [u8; 32] =
                hex::decode(h).ok().and_then(|v| v.try_into().ok()).ok_or_else(|| bad(&"not 32 bytes"))?;
            CompressedRistretto(b).decompress().ok_or_else(|| bad(&"not a point"))
        };
        let sums = st
            .sums
            .iter()
            .map(|c| c.iter().map(|[a, b]| Ok(RawCiphertext { alpha: point(a)?, beta: point(b)? })).collect())
            .collect::<Result<Vec<Vec<_>>, RunError>>()?;
        Ok(Self { index: st.index, counted: st.counted, sums })
    }
}

/// TL-1 (§7.11) over every filtered style's kept rows: `T_{q,i} = (G, K) + Σ_s sums_s[q][i]`, one
/// total per contest of the manifest, manifest order, with `ballots` = Σ counted_s over the
/// styles that hold the contest. Every style with rows must be among `outputs` (by its manifest
/// index), exactly once; a style without rows adds nothing.
pub fn filtered_totals(
    package: &ElectionPackage,
    styles: &[StyleBoard],
    outputs: &[StyleOutput],
) -> Result<Vec<ContestTotals>, RunError> {
    let manifest = &package.manifest;
    let start = RawCiphertext { alpha: generator_g(), beta: *package.joint_key.point() };
    let mut totals: Vec<Vec<RawCiphertext>> =
        manifest.contests.iter().map(|c| vec![start; c.selection_count()]).collect();
    let mut ballots = vec![0u64; manifest.contests.len()];
    if let Some(o) = outputs.iter().find(|o| !styles.iter().any(|s| s.index == o.index)) {
        return Err(board_fail("totals", format!("style index {} is not in the manifest", o.index)));
    }
    for s in styles {
        let mut found = outputs.iter().filter(|o| o.index == s.index);
        let (Some(f), None) = (found.next(), found.next()) else {
            if s.has_rows() || outputs.iter().any(|o| o.index == s.index) {
                return Err(board_fail(
                    format!("style {:?}", s.style),
                    "needs exactly one filtered transcript (it has ballots)",
                ));
            }
            continue;
        };
        if f.sums.len() != totals.len() || f.sums.iter().zip(&totals).any(|(a, b)| a.len() != b.len()) {
            return Err(board_fail(format!("style {:?}", s.style), "its sums are not the manifest's shape"));
        }
        for (total, sum) in totals.iter_mut().zip(&f.sums) {
            for (t, x) in total.iter_mut().zip(sum) {
                *t += *x;
            }
        }
        for &q in &s.contests {
            let b = ballots.get_mut(q).ok_or_else(|| board_fail("totals", "a contest out of range"))?;
            *b = b.checked_add(f.counted).ok_or_else(|| board_fail("totals", "counts overflow"))?;
        }
    }
    manifest
        .contests
        .iter()
        .zip(totals)
        .zip(ballots)
        .map(|((c, t), b)| {
            let totals = t
                .into_iter()
                .map(|raw| raw.validate().map_err(|_| board_fail("totals", "a total is the identity")))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(ContestTotals { contest_id: c.id.clone(), ballots: b, totals })
        })
        .collect()
}
