//! Checks a whole election record (`docs/record-format.md`): `record.json` and `board.jsonl`,
//! check by check in the order of [`crate::registry`], one report line each.

use std::path::Path;

use crate::board::TreeHead;
use crate::checks::{context, files, receipt, version};
use crate::findings::Findings;
use crate::registry::REGISTRY;
use crate::report::Report;

/// Options of a run.
#[derive(Default)]
pub struct Options {
    /// A tree head saved earlier (e.g. from a receipt or `watch`); the board must extend it.
    pub since: Option<TreeHead>,
}

/// Reads a record directory and checks it.
pub fn verify_dir(dir: &Path, opts: &Options) -> Report {
    let mut c = files::CHECK.start();
    match (files::CHECK.run)(dir, &mut c) {
        Some((record, board)) => verify(&record, &board, opts),
        None => {
            let mut rep = Report::default();
            rep.finish(c);
            rep
        }
    }
}

/// Checks a record given the contents of its two files.
pub fn verify(record_json: &str, board_jsonl: &[u8], opts: &Options) -> Report {
    let mut rep = Report::default();
    let mut c = version::CHECK.start();
    let record = (version::CHECK.run)(record_json, &mut c);
    rep.finish(c);
    let Some(record) = record else { return rep };
    let mut c = context::CHECK.start();
    let ctx = (context::CHECK.run)(&record, &mut c);
    rep.finish(c);
    let Some(ctx) = ctx else { return rep };
    let mut found = Findings::new(record, ctx, board_jsonl, opts.since.as_ref());
    for check in REGISTRY {
        let mut c = check.start();
        (check.run)(&mut found, &mut c);
        rep.finish(c);
    }
    rep
}

/// `verifier receipt`: the record's checks, then the voter's receipt checked against the record
/// ([`receipt`]).
pub fn verify_receipt(record_json: &str, board_jsonl: &[u8], receipt_json: &str) -> Report {
    let mut rep = verify(record_json, board_jsonl, &Options::default());
    let mut c = receipt::CHECK.start();
    (receipt::CHECK.run)(record_json, board_jsonl, receipt_json, &mut c);
    rep.finish(c);
    rep
}
