//! V05 `entries` (`docs/record-format.md` §Verifier checklist, item 4; §Board; `10-board.md`
//! §Entries): every line of the board is a JSON entry of a known type of the package's ballot
//! format (v1 or v2, never both), and the entries come in a valid order: the credential list
//! first, the commission's signatures on it second, `opened` once, voting entries only after it,
//! `closed` at most once and last (on a v2 board followed by exactly one `cast_verifier_revealed`,
//! 13-revoting.md §3.4, and then only the filter's `filtered` entries, §4.2), replacements before
//! it.

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
    f.entries = parse_entries(&f.lines, f.ctx.parameters.is_v2(), c);
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
    ("credential_list_v2", crate::ballot_v2::board::fields::LIST),
    ("credential_replaced_v2", crate::ballot_v2::board::fields::REPLACEMENT),
    ("opened", &["type", "timestamp_ms"]),
    ("ballot", &["type", "ballot", "tracking_code"]),
    ("challenged", &["type", "ballot", "tracking_code", "opening"]),
    ("superseded", &["type", "tracking_code", "by"]),
    ("ballot_v2", &["type", "ballot", "tracking_code"]),
    ("challenged_v2", &["type", "ballot", "tracking_code", "opening"]),
    ("cast_verifier_revealed", &["type", "secret"]),
    (crate::filtered::KIND, crate::filtered::ENTRY_FIELDS),
    ("web_assets", &["type", "assets"]),
    ("closed", &["type", "timestamp_ms"]),
];

/// Entry types of v1 boards only (record-format.md §Board). The v1 replacement names the
/// replaced credential, which a buyer who knows it must not see (13-revoting.md §4.2).
pub const V1_ONLY: &[&str] = &["credential_list", "ballot", "challenged", "superseded", "credential_replaced"];
/// Entry types of v2 boards only.
pub const V2_ONLY: &[&str] = &[
    "credential_list_v2",
    "ballot_v2",
    "challenged_v2",
    "cast_verifier_revealed",
    "credential_replaced_v2",
    crate::filtered::KIND,
];
/// The credential list's type on a board of the format (`v2`).
pub fn list_kind(v2: bool) -> &'static str {
    if v2 { "credential_list_v2" } else { "credential_list" }
}
/// The replacement's type on a board of the format (`v2`).
pub fn replacement_kind(v2: bool) -> &'static str {
    if v2 { "credential_replaced_v2" } else { "credential_replaced" }
}
/// Entry types that are voting: only after `opened`.
pub const VOTING: &[&str] = &["ballot", "challenged", "superseded", "ballot_v2", "challenged_v2"];

fn parse_entries(lines: &[&[u8]], v2: bool, c: &mut Running) -> Vec<Entry> {
    let (format, foreign) = if v2 { ("v2", V1_ONLY) } else { ("v1", V2_ONLY) };
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
                c.require(!foreign.contains(&e.kind.as_str()), || {
                    format!(
                        "entry {i}: a {:?} entry on the board of a {format} campaign (package `parameters`)",
                        e.kind
                    )
                });
                out.push(e);
            }
            Err(e) => c.fail(format!("entry {i}: not JSON: {e}")),
        }
    }
    let pos = |k: &str| out.iter().position(|e| e.kind == k);
    let count = |k: &str| out.iter().filter(|e| e.kind == k).count();
    let list = list_kind(v2);
    c.require(count(list) == 1 && pos(list) == Some(0), || {
        format!("the credential list ({list}) must be the first entry, once")
    });
    c.require(count("credential_list_signed") == 1 && pos("credential_list_signed") == Some(1), || {
        "the commission's signatures on the credential list (credential_list_signed) must be the second entry, once"
            .into()
    });
    c.require(count("opened") == 1, || "exactly one `opened` entry".into());
    if v2 {
        // 13-revoting.md §3.4, record-format.md §Board: y is revealed once, right after `closed`
        let (closed, revealed) = (pos("closed"), pos("cast_verifier_revealed"));
        c.require(count("closed") <= 1 && count("cast_verifier_revealed") <= 1, || {
            "`closed` and `cast_verifier_revealed` at most once each".into()
        });
        c.require(revealed.is_none() || (closed.is_some_and(|p| Some(p + 1) == revealed)), || {
            "`cast_verifier_revealed` must come right after `closed`".into()
        });
        // 13-revoting.md §4.2, §6.8: after it, only the filter's `filtered` entries
        let after = |p: usize| out.iter().skip(p + 1).all(|e| e.kind == crate::filtered::KIND);
        c.require(closed.is_none() || (revealed.is_some_and(after)), || {
            "a closed v2 board must end with `closed` then `cast_verifier_revealed` (then only `filtered` entries)"
                .into()
        });
        for (p, e) in out.iter().enumerate().filter(|(_, e)| e.kind == crate::filtered::KIND) {
            c.require(revealed.is_some_and(|r| r < p), || {
                format!("entry {}: a `filtered` entry before `cast_verifier_revealed` (only after it)", e.index)
            });
        }
    } else {
        c.require(count("closed") <= 1 && pos("closed").is_none_or(|p| p + 1 == out.len()), || {
            "`closed` must be the last entry".into()
        });
    }
    if let Some(o) = pos("opened") {
        for e in &out {
            let voting = VOTING.contains(&e.kind.as_str());
            c.require(!voting || e.index > o, || format!("entry {}: {} before voting opened", e.index, e.kind));
            let replacement = e.kind == "credential_replaced" || e.kind == "credential_replaced_v2";
            c.require(!replacement || e.index < pos("closed").unwrap_or(usize::MAX), || {
                format!("entry {}: replacement after closing", e.index)
            });
        }
    }
    out
}
