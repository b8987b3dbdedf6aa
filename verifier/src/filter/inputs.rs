//! What the verifier knows of the election and reads from the board for one style's filter
//! (`13-revoting.md` §5): the entries whose rows the filter recomputes. Below both the
//! transcript check (`run`) and sanitation (`sanitation`), which read them.

use crate::encoding::Point;
use crate::shuffle::Ciphertext;

/// A `ballot` entry of the style.
#[derive(Clone, Debug)]
pub struct Ballot {
    /// Board index.
    pub index: u64,
    /// `cred`.
    pub cred: Ciphertext,
    /// `tbase`.
    pub tbase: Ciphertext,
    /// The k vote ciphertexts.
    pub votes: Vec<Ciphertext>,
}

/// A valid `override` entry of the style.
#[derive(Clone, Debug)]
pub struct Override {
    /// Board index.
    pub index: u64,
    /// `cred`.
    pub cred: Ciphertext,
    /// `tbase`.
    pub tbase: Ciphertext,
    /// The station whose members signed it.
    pub station: String,
}

/// A station of the package with the listed credentials of the style whose list item names it
/// (list order): its station rows (§5).
#[derive(Clone, Debug)]
pub struct Station {
    /// The station id.
    pub id: String,
    /// The credentials.
    pub credentials: Vec<Point>,
}

/// A valid `credential_replaced` entry of the style.
#[derive(Clone, Debug)]
pub struct Replacement {
    /// Board index.
    pub index: u64,
    /// `new`.
    pub new: Point,
    /// `old_tbase`.
    pub old_tbase: Ciphertext,
}

/// What the verifier knows of the election and reads from the board for one style.
#[derive(Clone, Debug)]
pub struct StyleInputs {
    /// Extended context hash.
    pub context: [u8; 32],
    /// Base context hash (in TB(X)).
    pub base_hash: [u8; 32],
    /// The run of the transcript.
    pub run: u64,
    /// Style id.
    pub style: String,
    /// K.
    pub election_key: Point,
    /// n.
    pub n: u64,
    /// t.
    pub t: u64,
    /// VK_1 … VK_n.
    pub verification_keys: Vec<Point>,
    /// c.
    pub row_limit: u64,
    /// k.
    pub selections: usize,
    /// Ballot entries, board order.
    pub ballots: Vec<Ballot>,
    /// Override entries, board order.
    pub overrides: Vec<Override>,
    /// Listed credentials, list order.
    pub list: Vec<Point>,
    /// Replacements, board order.
    pub replacements: Vec<Replacement>,
    /// The package's stations, package order.
    pub stations: Vec<Station>,
}
