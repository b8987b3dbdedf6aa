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
    decryption::check(&f.record, &f.ctx, f.ceremony.as_ref(), &f.totals, c);
}
