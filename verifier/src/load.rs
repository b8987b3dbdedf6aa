//! Reading a record (`docs/record-format.md`): the version it is written in, its package decoded
//! into the context every check is made against (both context hashes recomputed), and the board
//! file split into its entry lines, each decoded into an entry. It only decodes: what counts as a failure, and where it is
//! reported, is the checks' business.

use serde_json::Value;

use crate::ballot::Election;
use crate::encoding::{Decoded, Invalid, Point, array, exact, field, hex_n, point, string, uint};
use crate::manifest::{self, Manifest};

/// The record version this verifier reads.
pub const VERSION: &str = "dobush-record/2";

/// The fields of `record.json` (§Election record); any other is refused (the version check).
pub const RECORD_FIELDS: &[&str] =
    &["version", "package", "tree_heads", "encrypted_totals", "ceremony", "decryption_shares", "results", "protocol"];

/// The fields of the election package (§Election package); any other is refused.
pub const PACKAGE_FIELDS: &[&str] = &[
    "version",
    "manifest",
    "threshold",
    "key_holders",
    "joint_key",
    "base_hash",
    "extended_hash",
    "board_key",
    "commission",
    "parameters",
];

/// The fields of a key-holder of the package (§Election package).
pub const KEY_HOLDER_FIELDS: &[&str] = &["index", "signing_key", "comm_key"];

/// The context: manifest, hashes, key, board key.
pub struct Context {
    /// What ballots are checked against.
    pub election: Election,
    /// Base hash.
    pub base_hash: [u8; 32],
    /// Board key.
    pub board_key: [u8; 32],
    /// Threshold.
    pub threshold: u64,
    /// Key-holders' (signing, comm) keys.
    pub key_holders: Vec<(Point, Point)>,
    /// The pinned commission (14-commission.md).
    pub commission: crate::commission::Commission,
    /// The package's `parameters`: the re-vote rule and, in a v2 campaign, Y_S.
    pub parameters: crate::parameters::Parameters,
}

/// The context of a record: its package's (§Election record, `package`).
pub fn context(rec: &Value) -> Decoded<Context> {
    package_context(field(rec, "package", "record")?)
}

/// Checks an election package on its own (both hashes recomputed) and returns its context.
pub fn package_context(p: &Value) -> Decoded<Context> {
    let what = "package";
    exact(p, PACKAGE_FIELDS, what)?;
    if string(p, "version", what)? != VERSION {
        return Err(Invalid("package: unknown version".into()));
    }
    let m: Manifest = manifest::parse(field(p, "manifest", what)?)?;
    let threshold = uint(p, "threshold", what)?;
    let mut key_holders = Vec::new();
    for (i, k) in array(p, "key_holders", what)?.iter().enumerate() {
        exact(k, KEY_HOLDER_FIELDS, &format!("package.key_holders[{i}]"))?;
        if uint(k, "index", "key-holder")? != i as u64 + 1 {
            return Err(Invalid(format!("key-holder {}: indexes must be 1..=n in order", i + 1)));
        }
        key_holders.push((
            point(field(k, "signing_key", "key-holder")?, "signing key")?,
            point(field(k, "comm_key", "key-holder")?, "comm key")?,
        ));
    }
    if threshold < 1 || threshold as usize >= key_holders.len() {
        return Err(Invalid(format!("threshold {threshold} must satisfy 1 ≤ t < n = {}", key_holders.len())));
    }
    let base = manifest::base_hash(&m.campaign_id, threshold, &key_holders);
    if base != hex_n::<32>(field(p, "base_hash", what)?, "base_hash")? {
        return Err(Invalid("base hash differs from its recomputation".into()));
    }
    let joint_key = point(field(p, "joint_key", what)?, "joint_key")?;
    let commission = crate::commission::parse(field(p, "commission", what)?)?;
    let board_key = hex_n::<32>(field(p, "board_key", what)?, "board_key")?;
    let parameters = crate::parameters::parse(field(p, "parameters", what)?)?;
    let parameters_hash = crate::parameters::hash(&board_key, &parameters);
    let ext = manifest::extended_hash(&base, &joint_key, &m.hash, &commission.hash(), &parameters_hash);
    if ext != hex_n::<32>(field(p, "extended_hash", what)?, "extended_hash")? {
        return Err(Invalid("extended hash differs from its recomputation".into()));
    }
    Ok(Context {
        election: Election { manifest: m, joint_key, extended_hash: ext },
        base_hash: base,
        board_key,
        threshold,
        key_holders,
        commission,
        parameters,
    })
}

/// The lines of `board.jsonl` (10-board.md §Leaves), each without its newline; none for an empty
/// file. Whether the file ends with a newline is the board check's rule.
pub fn board_lines(b: &[u8]) -> Vec<&[u8]> {
    if b.is_empty() {
        return Vec::new();
    }
    b.strip_suffix(b"\n").unwrap_or(b).split(|x| *x == b'\n').collect()
}

/// A board entry (`docs/record-format.md` §Board): its index on the board, its JSON and its type.
pub struct Entry {
    /// Index on the board (0-based).
    pub index: usize,
    /// The entry's JSON.
    pub v: Value,
    /// Its `type` (empty when it has none).
    pub kind: String,
}

/// Decodes the board line at `index` into an entry. Whether its type is known is the entries
/// check's rule.
pub fn entry(index: usize, line: &[u8]) -> Result<Entry, serde_json::Error> {
    let v = crate::json::parse(line)?;
    let kind = v.get("type").and_then(Value::as_str).unwrap_or("").to_owned();
    Ok(Entry { index, v, kind })
}
