//! V16 `decryption` (`docs/record-format.md` §Verifier checklist, item 13; §Key ceremony and
//! decryption; `07-threshold.md` §Verifier checklist): every decryption share's proof against the
//! verification keys of the ceremony check, at least `t` valid shares per total of the totals
//! check, the combination and its discrete logarithm equal to each published result. The work is
//! in [`crate::decryption`].

use crate::checks::{Check, Step};
use crate::decryption;
use crate::findings::Findings;
use crate::report::Running;

/// The check.
pub const CHECK: Check<Step> = Check {
    id: "V16",
    name: "decryption",
    description: "every decryption share's proof; t valid shares per total; combination equals the results",
    run,
};

fn run(f: &mut Findings<'_>, c: &mut Running) {
    let empty = |k: &str| f.record.get(k).and_then(serde_json::Value::as_array).is_some_and(Vec::is_empty);
    let untallied = empty("decryption_shares") && empty("results");
    if f.ctx.parameters.is_v2() && f.filtered_totals && untallied {
        // filtered, not yet decrypted: nothing is wrong, no result is proved yet (review
        // 19-filtered-verifier M3: an honest record between the filter and the tally)
        c.pending("the filtered totals are proved (V24); the key-holders have not decrypted them yet");
        return;
    }
    if f.ctx.parameters.is_v2() && f.filtered_totals {
        // TL-1 of the counting transcripts (V24), decrypted as a v1 record's totals (13-revoting.md §6.8)
        decryption::check(&f.record, &f.ctx, f.ceremony.as_ref(), &f.totals, c);
        return;
    }
    if f.ctx.parameters.is_v2() && f.filter.is_some() {
        c.fail("the filtered totals could not be recomputed (V24): no decryption share can be checked");
        return;
    }
    if f.ctx.parameters.is_v2() {
        // the filter's totals are decrypted after it runs (13-revoting.md §6.8, §7.11); shares or
        // results in a v2 record are of nothing this version checks (review 19-v2-record F7)
        if untallied {
            c.pending("a v2 campaign's totals are decrypted after the filter runs, which it has not");
        } else {
            c.fail("a v2 record's decryption shares and results are not checked by this version");
        }
        return;
    }
    decryption::check(&f.record, &f.ctx, f.ceremony.as_ref(), &f.totals, c);
}
