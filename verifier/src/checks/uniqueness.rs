//! V09 `uniqueness` (`docs/record-format.md` §Verifier checklist, item 7): no two ballots, cast or
//! challenged, share a ballot id, a tracking code or any first component α of a ciphertext (a
//! copied or replayed ballot); a v2 ballot's `cred.α` and `tbase.α` count among its α's
//! (13-revoting.md §3.7).

use std::collections::HashSet;

use crate::checks::{Check, Step};
use crate::findings::{Findings, PostedBallot};
use crate::report::Running;

/// The check.
pub const CHECK: Check<Step> =
    Check { id: "V09", name: "uniqueness", description: "no duplicate ballot ids, tracking codes or ciphertexts", run };

fn run(f: &mut Findings<'_>, c: &mut Running) {
    uniqueness(&f.cast, &f.challenged, c);
}

fn uniqueness(cast: &[PostedBallot], challenged: &[PostedBallot], c: &mut Running) {
    let (mut ids, mut codes, mut alphas) = (HashSet::new(), HashSet::new(), HashSet::new());
    for b in cast.iter().chain(challenged) {
        c.items(1);
        c.require(ids.insert(b.ballot.id()), || format!("entry {}: duplicate ballot id", b.entry));
        c.require(codes.insert(b.code), || format!("entry {}: duplicate tracking code", b.entry));
        for a in b.ballot.alphas() {
            if !alphas.insert(*a) {
                c.fail(format!("entry {}: a ciphertext appears in another ballot (copied or replayed)", b.entry));
                break;
            }
        }
    }
}
