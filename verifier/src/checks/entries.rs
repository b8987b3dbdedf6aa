//! V05 `entries` (`docs/record-format.md` §Verifier checklist, item 4; §Board; `10-board.md`
//! §Entries): every line of the board is a JSON entry of a known type, and the entries come in a
//! valid order: the credential list first, the commission's signatures on it second, `opened`
//! once, voting entries only after it, `closed` at most once and last, replacements before it.

use crate::checks::{Check, Step};
use crate::encoding::{exact, uint};
use crate::findings::Findings;
use crate::load::{self, Entry};
use crate::report::Running;

/// The check.
pub const CHECK: Check<Step> = Check {
    id: "V05",
    name: "entries",
    description: "every board entry parses and the entries come in a valid order",
    run,
};

fn run(f: &mut Findings<'_>, c: &mut Running) {
    f.entries = parse_entries(&f.lines, c);
    // The chain of heads starts at the zero report (10-board.md §Tree heads): the first head
    // covers exactly the entries before `opened`, so a chain begun again later is not a chain.
    if let (Some(first), Some(o)) = (f.heads.first(), f.entries.iter().position(|e| e.kind == "opened")) {
        c.require(first.size == o as u64, || {
            format!(
                "the first tree head (size {}) is not the zero report: it must cover the {o} entries before `opened`",
                first.size
            )
        });
    }
}

/// Every entry type (record-format.md §Board) with its fields, `type` included; an entry of
/// another type, or with another field, is refused. The fields of the objects inside an entry are
/// checked where each is parsed (the ballot in `ballot.rs`, the opening in `challenged.rs`, the
/// credential list's items and the signatures in `credentials.rs`).
pub const ENTRY_FIELDS: &[(&str, &[&str])] = &[
    ("credential_list", &["type", "credentials", "count", "revoked"]),
    ("credential_list_signed", &["type", "signatures"]),
    ("credential_replaced", &["type", "old", "new", "style", "decision", "signatures"]),
    ("opened", &["type", "timestamp_ms"]),
    ("ballot", &["type", "ballot", "tracking_code"]),
    ("challenged", &["type", "ballot", "tracking_code", "opening"]),
    ("superseded", &["type", "tracking_code", "by"]),
    ("web_assets", &["type", "assets"]),
    ("closed", &["type", "timestamp_ms"]),
];

fn parse_entries(lines: &[&[u8]], c: &mut Running) -> Vec<Entry> {
    let mut out = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        c.items(1);
        match load::entry(i, l) {
            Ok(e) => {
                match ENTRY_FIELDS.iter().find(|(k, _)| *k == e.kind) {
                    Some((kind, fields)) => {
                        let what = format!("entry {i} ({kind})");
                        if let Err(err) = exact(&e.v, fields, &what) {
                            c.fail(err.0);
                        }
                        if matches!(*kind, "opened" | "closed")
                            && let Err(err) = uint(&e.v, "timestamp_ms", &what)
                        {
                            c.fail(err.0);
                        }
                    }
                    None => c.fail(format!("entry {i}: unknown type {:?}", e.kind)),
                }
                out.push(e);
            }
            Err(e) => c.fail(format!("entry {i}: not JSON: {e}")),
        }
    }
    let pos = |k: &str| out.iter().position(|e| e.kind == k);
    let count = |k: &str| out.iter().filter(|e| e.kind == k).count();
    c.require(count("credential_list") == 1 && pos("credential_list") == Some(0), || {
        "the credential list must be the first entry, once".into()
    });
    c.require(count("credential_list_signed") == 1 && pos("credential_list_signed") == Some(1), || {
        "the commission's signatures on the credential list (credential_list_signed) must be the second entry, once"
            .into()
    });
    c.require(count("opened") == 1, || "exactly one `opened` entry".into());
    c.require(count("closed") <= 1 && pos("closed").is_none_or(|p| p + 1 == out.len()), || {
        "`closed` must be the last entry".into()
    });
    if let Some(o) = pos("opened") {
        for e in &out {
            let voting = matches!(e.kind.as_str(), "ballot" | "challenged" | "superseded");
            c.require(!voting || e.index > o, || format!("entry {}: {} before voting opened", e.index, e.kind));
            c.require(e.kind != "credential_replaced" || e.index < pos("closed").unwrap_or(usize::MAX), || {
                format!("entry {}: replacement after closing", e.index)
            });
        }
    }
    out
}
