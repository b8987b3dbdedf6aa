//! V10 `eligibility` (`docs/record-format.md` §Verifier checklist, item 5; `09-credentials.md`
//! §What a verifier checks): each cast ballot is signed by a credential on the frozen list or by a
//! replacement recorded before it, of the ballot's style, and not by a credential revoked before
//! the freeze or replaced before the ballot. A v2 ballot names no credential: its eligibility is
//! the filter's (13-revoting.md §7), and this check says so in a note.

use crate::checks::{Check, Step};
use crate::findings::{Credentials, Findings, PostedBallot};
use crate::report::Running;

/// The check.
pub const CHECK: Check<Step> = Check {
    id: "V10",
    name: "eligibility",
    description: "each cast ballot's credential is on the list (or a recorded replacement) for its style",
    run,
};

fn run(f: &mut Findings<'_>, c: &mut Running) {
    if f.ctx.parameters.is_v2() {
        c.note(V2_NOTE);
        return;
    }
    eligibility(&f.cast, &f.creds, c);
}

/// The note of a v2 record, in this check and the re-vote check.
pub const V2_NOTE: &str = "v2 ballots carry their credential encrypted: which of them count (listed credential, \
     the last ballot of each) is decided and proved by the re-voting filter (13-revoting.md §7), not per ballot";

fn eligibility(cast: &[PostedBallot], creds: &Credentials, c: &mut Running) {
    for b in cast {
        c.items(1);
        let Some(k) = b.ballot.credential().map(|k| k.bytes) else { continue };
        let style = match (creds.listed.get(&k), creds.replacements.get(&k)) {
            (Some(s), _) => Some(s.clone()),
            (None, Some((s, from))) if *from < b.entry => Some(s.clone()),
            _ => None,
        };
        match style {
            None if creds.revoked_before.contains(&k) => c.fail(format!(
                "entry {}: signed by credential {} which was revoked before the freeze",
                b.entry,
                hex::encode(k)
            )),
            None => c.fail(format!(
                "entry {}: signed by credential {} which is not on the frozen list nor a recorded replacement",
                b.entry,
                hex::encode(k)
            )),
            Some(s) => c.require(s == b.ballot.style(), || {
                format!("entry {}: ballot style {:?} but the credential is for {s:?}", b.entry, b.ballot.style())
            }),
        }
        if let Some(at) = creds.revoked_at.get(&k) {
            c.require(b.entry < *at, || format!("entry {}: signed by a credential revoked at entry {at}", b.entry));
        }
    }
}
