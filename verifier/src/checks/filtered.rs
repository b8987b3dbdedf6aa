//! V20 `filtered` (`13-revoting.md` §4.2, §6.8, §6.9; `docs/record-format.md` §Board, §Election
//! record): a v2 record's `filtered` entries and the files they bind. Each entry decoded strictly,
//! its style a style of the manifest, its file (`filter/<i>.json` for the style's last entry,
//! `filter/<i>.<board index>.json` for an earlier one) present with exactly the entry's size and
//! SHA-256 and of the entry's style; runs from 1, non-decreasing; no other file under `filter/`;
//! the input head there. Per style with a `ballot_v2` entry, the **counting** entry is the first
//! whose transcript V22 accepted, and there must be one; a failing entry before it, any entry after
//! it and an entry of a style without ballots are findings (notes), ignored. Where the entries
//! stand on the board is V05's. A v2 record without any `filtered` entry is pending: the filter
//! has not run.

use crate::checks::{Check, Step};
use crate::filtered::KIND;
use crate::findings::Findings;
use crate::report::Running;

/// The check.
pub const CHECK: Check<Step> = Check {
    id: "V20",
    name: "filtered",
    description: "the `filtered` entries bind the filter transcript files; each style with ballots has one that counts",
    run,
};

fn run(f: &mut Findings<'_>, c: &mut Running) {
    let entries: Vec<usize> = f.entries.iter().filter(|e| e.kind == KIND).map(|e| e.index).collect();
    if !f.ctx.parameters.is_v2() {
        // V05 refuses the entry on a v1 board too; said here where the files are
        for i in &entries {
            c.fail(format!("entry {i}: a `filtered` entry on the board of a v1 campaign (it has no filter)"));
        }
        for (name, _) in f.filter_files {
            c.fail(format!("{name}: a filter transcript in the record of a v1 campaign"));
        }
        if entries.is_empty() && f.filter_files.is_empty() {
            c.note("a v1 campaign: no filter");
        }
        return;
    }
    let Some(found) = &f.filter else {
        for (name, _) in f.filter_files {
            c.fail(format!("{name}: no `filtered` entry binds this file"));
        }
        c.pending(
            "no `filtered` entry: the re-voting filter has not run (13-revoting.md §6.8), so no result is proved yet",
        );
        return;
    };
    c.items(entries.len() as u64);
    for m in &found.binding.failures {
        c.fail(m.clone());
    }
    if found.styles.is_empty() {
        c.fail("the transcripts could not be checked (V22): no style has a counting entry");
    }
    for s in &found.styles {
        let of_style = found.binding.entries.iter().filter(|b| b.style == s.style);
        if s.ballots == 0 {
            for b in of_style {
                c.note(format!(
                    "finding: entry {} (style {:?}): a style without `ballot_v2` entries has no filter; ignored",
                    b.index, s.style
                ));
            }
            continue;
        }
        let Some((j, _)) = &s.counting else {
            c.fail(format!(
                "style {:?}: {} `ballot_v2` entries, but no `filtered` entry whose transcript verifies (V22)",
                s.style, s.ballots
            ));
            continue;
        };
        c.note(format!("style {:?}: entry {j} counts", s.style));
        for b in of_style {
            if b.index < *j {
                c.note(format!(
                    "finding: entry {} (style {:?}): its transcript does not verify (V22); ignored",
                    b.index, s.style
                ));
            } else if b.index > *j {
                c.note(format!(
                    "finding: entry {} (style {:?}): after the counting entry {j}; ignored",
                    b.index, s.style
                ));
            }
        }
    }
}
