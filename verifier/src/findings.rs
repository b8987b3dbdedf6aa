//! What the checks have found, for the checks after them: the record and its context (from the
//! opening checks), the board's lines, then what each check in the registry adds, in report order.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::ballot::{Ballot, ContestPart};
use crate::ballot_v2::ballot::BallotV2;
use crate::board::TreeHead;
use crate::ceremony::Outcome;
use crate::decryption::Totals;
use crate::encoding::Point;
use crate::filtered::FilterFindings;
use crate::load::{self, Context, Entry};

/// What the checks so far have found.
pub struct Findings<'a> {
    /// `record.json`, of the known version (the version check).
    pub record: Value,
    /// The package's context (the context check).
    pub ctx: Context,
    /// A tree head saved earlier that the board must extend (`--since`).
    pub since: Option<&'a TreeHead>,
    /// `board.jsonl` as read.
    pub board_jsonl: &'a [u8],
    /// The files under `filter/`, by their path relative to the record directory.
    pub filter_files: &'a [(String, Vec<u8>)],
    /// Its lines.
    pub lines: Vec<&'a [u8]>,
    /// The record's tree heads (the board check).
    pub heads: Vec<TreeHead>,
    /// The board's entries that parse (the entries check).
    pub entries: Vec<Entry>,
    /// The credential list and its replacements (the credentials check).
    pub creds: Credentials,
    /// The cast ballots whose proofs hold, in board order (the ballots check).
    pub cast: Vec<PostedBallot>,
    /// The challenged ballots whose proofs hold (the ballots check).
    pub challenged: Vec<PostedBallot>,
    /// Indexes into `cast` of the ballots that count (the re-vote check).
    pub counted: Vec<usize>,
    /// The encrypted totals recomputed from the counted ballots (the totals check).
    pub totals: Totals,
    /// The key ceremony's outcome, when it could be computed (the ceremony check).
    pub ceremony: Option<Outcome>,
    /// A v2 record's `filtered` entries, their files and each style's counting transcript (the
    /// filter check), when the board has a `filtered` entry.
    pub filter: Option<FilterFindings>,
    /// Whether `totals` are TL-1 of the counting transcripts, checked against the record (the
    /// filtered totals check): what the decryption check decrypts on a v2 record.
    pub filtered_totals: bool,
}

impl<'a> Findings<'a> {
    /// What the opening checks found: the record, its context, the board file.
    pub fn new(
        record: Value,
        ctx: Context,
        board_jsonl: &'a [u8],
        filter_files: &'a [(String, Vec<u8>)],
        since: Option<&'a TreeHead>,
    ) -> Self {
        Self {
            record,
            ctx,
            since,
            board_jsonl,
            filter_files,
            lines: load::board_lines(board_jsonl),
            heads: Vec::new(),
            entries: Vec::new(),
            creds: Credentials::default(),
            cast: Vec::new(),
            challenged: Vec::new(),
            counted: Vec::new(),
            totals: Totals::default(),
            ceremony: None,
            filter: None,
            filtered_totals: false,
        }
    }
}

/// A ballot on the board whose proofs hold, with its entry's index and tracking code.
pub struct PostedBallot {
    /// The entry's index on the board.
    pub entry: usize,
    /// The ballot.
    pub ballot: AnyBallot,
    /// The entry's tracking code.
    pub code: [u8; 32],
}

/// A ballot of either format: a board holds one format only, the package's (V05). Boxed: the
/// two differ in size, and a record holds many.
pub enum AnyBallot {
    /// A v1 ballot (08-ballot.md), signed by its credential in the clear.
    V1(Box<Ballot>),
    /// A v2 ballot (13-revoting.md §3.7), its credential encrypted.
    V2(Box<BallotV2>),
}

impl AnyBallot {
    /// The ballot id.
    pub fn id(&self) -> [u8; 16] {
        match self {
            Self::V1(b) => b.id,
            Self::V2(b) => b.id,
        }
    }

    /// The style id.
    pub fn style(&self) -> &str {
        match self {
            Self::V1(b) => &b.style,
            Self::V2(b) => &b.style,
        }
    }

    /// The contests, in ballot order.
    pub fn contests(&self) -> &[ContestPart] {
        match self {
            Self::V1(b) => &b.contests,
            Self::V2(b) => &b.contests,
        }
    }

    /// The credential in the clear: a v1 ballot's; a v2 ballot shows none.
    pub fn credential(&self) -> Option<&Point> {
        match self {
            Self::V1(b) => Some(&b.credential),
            Self::V2(_) => None,
        }
    }

    /// Every first component α of the ballot's ciphertexts: the votes', and a v2 ballot's
    /// `cred.α` and `tbase.α` (13-revoting.md §3.7, the extended reused-randomness rule).
    pub fn alphas(&self) -> impl Iterator<Item = &[u8; 32]> {
        let extra = match self {
            Self::V1(_) => None,
            Self::V2(b) => Some([&b.enc.cred.alpha.bytes, &b.enc.tbase.alpha.bytes]),
        };
        self.contests().iter().flat_map(|k| k.cts.iter().map(|(a, _)| &a.bytes)).chain(extra.into_iter().flatten())
    }
}

/// The frozen credential list and the replacements recorded on the board (the credentials check).
#[derive(Default)]
pub struct Credentials {
    /// Listed credential → its ballot style.
    pub listed: HashMap<[u8; 32], String>,
    /// Credential → entry index from which it is revoked.
    pub revoked_at: HashMap<[u8; 32], usize>,
    /// Replacement credential → (style, entry index from which it is valid).
    pub replacements: HashMap<[u8; 32], (String, usize)>,
    /// Replacement credential → the credential it replaced.
    pub root_of: HashMap<[u8; 32], [u8; 32]>,
    /// Credentials revoked before the freeze (the list's `revoked`).
    pub revoked_before: HashSet<[u8; 32]>,
}
