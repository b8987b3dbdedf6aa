//! What the checks have found, for the checks after them: the record and its context (from the
//! opening checks), the board's lines, then what each check in the registry adds, in report order.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::ballot::Ballot;
use crate::board::TreeHead;
use crate::ceremony::Outcome;
use crate::decryption::Totals;
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
}

impl<'a> Findings<'a> {
    /// What the opening checks found: the record, its context, the board file.
    pub fn new(record: Value, ctx: Context, board_jsonl: &'a [u8], since: Option<&'a TreeHead>) -> Self {
        Self {
            record,
            ctx,
            since,
            board_jsonl,
            lines: load::board_lines(board_jsonl),
            heads: Vec::new(),
            entries: Vec::new(),
            creds: Credentials::default(),
            cast: Vec::new(),
            challenged: Vec::new(),
            counted: Vec::new(),
            totals: Totals::default(),
            ceremony: None,
        }
    }
}

/// A ballot on the board whose proofs hold, with its entry's index and tracking code.
pub struct PostedBallot {
    /// The entry's index on the board.
    pub entry: usize,
    /// The ballot.
    pub ballot: Ballot,
    /// The entry's tracking code.
    pub code: [u8; 32],
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
