//! V11 `re-vote` (`docs/record-format.md` §Verifier checklist, item 9): the re-vote rule
//! (`08-ballot.md` §Tally) recomputed, a replacement credential counting as its voter's first
//! (`09-credentials.md` §How credentials bind ballots), and the supersede markers on the board equal
//! to the recomputed pairs. Which cast ballots count is what the totals and protocol checks use.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::checks::{Check, Step};
use crate::encoding::{field, hex_n};
use crate::findings::{Credentials, Findings, PostedBallot};
use crate::load::Entry;
use crate::parameters::ReVotePolicy;
use crate::report::Running;

/// The check.
pub const CHECK: Check<Step> =
    Check { id: "V11", name: "re-vote", description: "the re-vote rule recomputed: which ballots count", run };

fn run(f: &mut Findings<'_>, c: &mut Running) {
    if f.ctx.parameters.is_v2() {
        // no ballot counts by this rule: the filter selects them (13-revoting.md §7)
        c.note(crate::checks::eligibility::V2_NOTE);
        return;
    }
    f.counted = revote(f.ctx.parameters.re_vote, &f.cast, &f.entries, &f.creds, c);
}

/// Which cast ballots count (indexes into `cast`) under the package's rule.
fn revote(
    policy: ReVotePolicy,
    cast: &[PostedBallot],
    entries: &[Entry],
    creds: &Credentials,
    c: &mut Running,
) -> Vec<usize> {
    // A replacement credential belongs to the voter of the credential it replaced.
    let voter = |k: [u8; 32]| {
        let mut k = k;
        for _ in 0..=creds.root_of.len() {
            match creds.root_of.get(&k) {
                Some(r) => k = *r,
                None => break,
            }
        }
        k
    };
    let mut last: HashMap<[u8; 32], usize> = HashMap::new();
    let mut expected: Vec<([u8; 32], [u8; 32])> = Vec::new();
    for (i, b) in cast.iter().enumerate() {
        c.items(1);
        let Some(k) = b.ballot.credential() else { continue };
        if let Some(prev) = last.insert(voter(k.bytes), i) {
            match policy {
                ReVotePolicy::LastCounts => expected.push((cast[prev].code, b.code)),
                ReVotePolicy::Forbidden => c.fail(format!(
                    "entry {}: a second ballot of one credential under the forbidden re-vote rule",
                    b.entry
                )),
            }
        }
    }
    let mut markers = Vec::new();
    for e in entries.iter().filter(|e| e.kind == "superseded") {
        match (
            hex_n::<32>(field(&e.v, "tracking_code", "marker").unwrap_or(&Value::Null), "marker"),
            hex_n::<32>(field(&e.v, "by", "marker").unwrap_or(&Value::Null), "marker"),
        ) {
            (Ok(a), Ok(b)) => markers.push((a, b)),
            _ => c.fail(format!("entry {}: malformed supersede marker", e.index)),
        }
    }
    c.require(policy != ReVotePolicy::Forbidden || markers.is_empty(), || {
        "supersede markers under the forbidden rule".into()
    });
    if policy == ReVotePolicy::LastCounts {
        let (m, x): (HashSet<_>, HashSet<_>) = (markers.iter().copied().collect(), expected.iter().copied().collect());
        for (a, _) in m.difference(&x) {
            c.fail(format!("supersede marker for ballot {} does not follow from the board", hex::encode(a)));
        }
        for (a, _) in x.difference(&m) {
            c.fail(format!("ballot {} was superseded but the board has no marker for it", hex::encode(a)));
        }
    }
    let mut counted: Vec<usize> = last.into_values().collect();
    counted.sort_unstable();
    counted
}
