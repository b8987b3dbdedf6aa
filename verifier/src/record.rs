//! Checks a whole election record (`docs/record-format.md`): `record.json` and `board.jsonl`,
//! check by check in the order of [`crate::registry`], one report line each.

use std::path::Path;

use crate::board::TreeHead;
use crate::checks::{context, files, receipt, version};
use crate::findings::Findings;
use crate::registry::REGISTRY;
use crate::report::{Progress, Report};

/// Options of a run.
#[derive(Default)]
pub struct Options {
    /// A tree head saved earlier (e.g. from a receipt or `watch`); the board must extend it.
    pub since: Option<TreeHead>,
    /// Told of every check's item counts as it runs (a progress bar).
    pub progress: Option<Progress>,
}

/// Reads a record directory and checks it.
pub fn verify_dir(dir: &Path, opts: &Options) -> Report {
    verify_dir_read(dir, opts).0
}

/// [`verify_dir`], also returning the `record.json` text it checked (when it could read it), so
/// that what is shown from it (the HTML page) is what was checked, never a second read.
pub fn verify_dir_read(dir: &Path, opts: &Options) -> (Report, Option<String>) {
    let mut c = files::CHECK.start();
    match (files::CHECK.run)(dir, &mut c) {
        Some(o) => (verify_with_files(&o.record, &o.board, &o.filter, opts), Some(o.record)),
        None => {
            let mut rep = Report::default();
            rep.finish(c);
            (rep, None)
        }
    }
}

/// Checks a record given the contents of its two files and no filter transcript: a v1 record,
/// or a v2 record before its filter runs ([`verify_with_files`]).
pub fn verify(record_json: &str, board_jsonl: &[u8], opts: &Options) -> Report {
    verify_with_files(record_json, board_jsonl, &[], opts)
}

/// Checks a record given the contents of its files: `record.json`, `board.jsonl` and the filter
/// transcripts, each named by its path relative to the record directory (`"filter/0.json"`,
/// `"filter/0.41.json"`; record-format.md §Election record). V20 refuses a file no `filtered`
/// entry binds, and a name given twice.
pub fn verify_with_files(
    record_json: &str,
    board_jsonl: &[u8],
    filter_files: &[(String, Vec<u8>)],
    opts: &Options,
) -> Report {
    let mut rep = Report::default();
    let start = |check: &'static str, c: crate::report::Running| {
        if let Some(p) = &opts.progress {
            p(check, 0);
        }
        c.with_progress(opts.progress.clone())
    };
    let mut c = start(version::CHECK.name, version::CHECK.start());
    let record = (version::CHECK.run)(record_json, &mut c);
    rep.finish(c);
    let Some(record) = record else { return rep };
    let mut c = start(context::CHECK.name, context::CHECK.start());
    let ctx = (context::CHECK.run)(&record, &mut c);
    rep.finish(c);
    let Some(ctx) = ctx else { return rep };
    let mut found = Findings::new(record, ctx, board_jsonl, filter_files, opts.since.as_ref());
    for check in REGISTRY {
        let mut c = start(check.name, check.start());
        (check.run)(&mut found, &mut c);
        rep.finish(c);
    }
    rep
}

/// `verifier receipt`: the record's checks, then the voter's receipt checked against the record
/// ([`receipt`]).
pub fn verify_receipt(record_json: &str, board_jsonl: &[u8], receipt_json: &str) -> Report {
    verify_receipt_with_files(record_json, board_jsonl, &[], receipt_json)
}

/// [`verify_receipt`] of a record with its filter transcripts (as [`verify_with_files`]); the
/// receipt's check is the same.
pub fn verify_receipt_with_files(
    record_json: &str,
    board_jsonl: &[u8],
    filter_files: &[(String, Vec<u8>)],
    receipt_json: &str,
) -> Report {
    let mut rep = verify_with_files(record_json, board_jsonl, filter_files, &Options::default());
    let mut c = receipt::CHECK.start();
    (receipt::CHECK.run)(record_json, board_jsonl, receipt_json, &mut c);
    rep.finish(c);
    rep
}
