//! V01 `files` (`docs/record-format.md` §Election record): a record is a directory holding
//! `record.json` and `board.jsonl`. Run by `verify_dir` only, and reported only when a file cannot
//! be read (nothing else can then be checked).

use std::path::Path;

use crate::checks::Check;
use crate::report::Running;

/// How it runs: the record directory in; both files' contents out when they are read.
pub type Run = fn(&Path, &mut Running) -> Option<(String, Vec<u8>)>;

/// The check.
pub const CHECK: Check<Run> =
    Check { id: "V01", name: "files", description: "record.json and board.jsonl are readable", run };

fn run(dir: &Path, c: &mut Running) -> Option<(String, Vec<u8>)> {
    match (std::fs::read_to_string(dir.join("record.json")), std::fs::read(dir.join("board.jsonl"))) {
        (Ok(r), Ok(b)) => Some((r, b)),
        (r, b) => {
            if let Err(e) = r {
                c.fail(format!("record.json: {e}"));
            }
            if let Err(e) = b {
                c.fail(format!("board.jsonl: {e}"));
            }
            None
        }
    }
}
