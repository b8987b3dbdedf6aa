//! The filter's run for one style (`docs/protocol/13-revoting.md` §6, §7): the rounds as
//! typestates, in the style of bulletproofs' dealer and party.
//!
//! - [`inputs`]: the input, list and pointer rows every member recomputes from the board (§5);
//! - [`messages`]: the round messages and the published [`messages::FilterTranscript`] (§8);
//! - [`public`]: what everyone checks, round by round ([`public::verify_transcript`]);
//! - [`sanitation`]: which entries are malformed, and the check of the named ones (§7.3);
//! - [`member`]: a member of F, who cannot make round r + 1 before it has verified round r;
//! - [`coordinator`]: the coordinator's extra state (its private view, the shuffles' secrets,
//!   the ordinals' openings) and its rounds 2, 5 and 10;
//! - [`board`]: the inputs of every style from a real v2 board, a transcript checked against
//!   them, and the totals TL-1 of the kept rows (§6.8, §7.11);
//! - [`drive`]: [`drive::run_filter`], every member in process, for tests and benchmarks.
//!
//! Built: rounds 0, 1 (without its transport encryption), 2–4: sanitation (§7.3, its private
//! step without transport encryption) and the station check (§7.4), 5 to 10 and the totals.
//! Not yet: the signatures of round messages (§6).

pub mod board;
pub mod coordinator;
pub mod drive;
#[cfg(any(test, feature = "test-helpers"))]
pub mod fixture;
pub mod inputs;
pub mod member;
pub mod messages;
pub mod public;
pub mod sanitation;
pub mod signed;

#[cfg(test)]
mod tests;

use std::fmt::Display;

use thiserror::Error;

use crate::elgamal::PublicKey;
use crate::group::GroupElement;
use crate::threshold::Parameters;

/// The round numbers of §6 that are built.
pub mod round {
    /// Round 0: keys.
    pub const KEYS: u8 = 0;
    /// Round 1: the coordinator's private view.
    pub const VIEW: u8 = 1;
    /// Round 2: the entries named malformed (§7.3).
    pub const NAMES: u8 = 2;
    /// Round 3: the named entries' decryption shares (§7.3) and the station tag shares (§7.4).
    pub const SANITATION: u8 = 3;
    /// Round 4: the station tag decryption shares (§7.4).
    pub const STATION_TAG_DECRYPTIONS: u8 = 4;
    /// Round 5: the pool, the dummies and the shuffles.
    pub const SHUFFLES: u8 = 5;
    /// Round 6: tag shares.
    pub const TAGS: u8 = 6;
    /// Round 7: tag decryption shares.
    pub const TAG_DECRYPTIONS: u8 = 7;
    /// Round 8: PET blinding shares.
    pub const PET: u8 = 8;
    /// Round 9: PET decryption shares.
    pub const PET_DECRYPTIONS: u8 = 9;
    /// Round 10: the selection.
    pub const SELECTION: u8 = 10;
}

/// A run that cannot go on: the round, where in it, and why (§6: any failure restarts the run).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RunError {
    /// Round `round` fails at `at` (a list, a member, a row or a group).
    #[error("round {round}, {at}: {reason}")]
    Round {
        /// The round of §6.
        round: u8,
        /// Where: `rows shuffle`, `member 3`, `group 2`, …
        at: String,
        /// What failed.
        reason: String,
    },
}

pub(crate) fn fail(round: u8, at: impl Into<String>, reason: impl Display) -> RunError {
    RunError::Round { round, at: at.into(), reason: reason.to_string() }
}

/// The public parameters of one style's filter in one run.
#[derive(Clone, Debug)]
pub struct Setup {
    /// The extended context hash.
    pub context: [u8; 32],
    /// The base context hash (the tag base TB(X) hashes it, §2).
    pub base_hash: [u8; 32],
    /// The run, from 1.
    pub run: u64,
    /// The style id.
    pub style: String,
    /// The election key K.
    pub election_key: PublicKey,
    /// n and t.
    pub params: Parameters,
    /// `VK_l` for `l = 1 … n`, in index order.
    pub verification_keys: Vec<GroupElement>,
    /// The row limit c (§9.2).
    pub row_limit: u64,
    /// k: the selections of the style's contests, in ballot order, in all.
    pub selections: usize,
    /// F: t distinct key-holders, ascending.
    pub filter: Vec<u32>,
    /// The coordinator of the style, a member of F.
    pub coordinator: u32,
}

impl Setup {
    /// The shuffle purpose of list `name` (`pool`, `rows`, `list`, `pointers`, or a station's
    /// [`station_list`]): `filter/<run>/<len(style)>:<style>/<name>`, with the style id's length
    /// in UTF-8 bytes, in decimal (§7.5; review 19-sanitation L4: no two styles, stations or
    /// lists share a purpose whatever their ids contain; 12-shuffle.md SH-G1 length-prefixes the
    /// whole string).
    pub fn shuffle_purpose(&self, name: &str) -> String {
        format!("filter/{}/{}:{}/{}", self.run, self.style.len(), self.style, name)
    }
}

/// The list name of station `id`'s station rows (§7.4): `station/<len(id)>:<id>`, with the id's
/// length in UTF-8 bytes, in decimal.
pub fn station_list(id: &str) -> String {
    format!("station/{}:{}", id.len(), id)
}
