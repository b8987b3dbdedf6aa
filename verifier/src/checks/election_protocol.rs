//! V14 `protocol` (`docs/record-format.md` §Verifier checklist, item 11; `11-election-protocol.md`):
//! every line of the signed electronic protocol re-derived from the record and the earlier
//! checks' findings (on a v2 record lines 3 and 4 from the filter's counting transcripts, V20 and
//! V22, so this check runs after them), the control relations, `extended_hash` and `final_head`, and every member's
//! signature. The work is in [`crate::election_protocol`].

use crate::checks::{Check, Step};
use crate::election_protocol::{self, Derived};
use crate::findings::Findings;
use crate::report::Running;

/// The check.
pub const CHECK: Check<Step> = Check {
    id: "V14",
    name: "protocol",
    description: "every protocol line re-derived from the record; control relations; signatures",
    run,
};

fn run(f: &mut Findings<'_>, c: &mut Running) {
    let derived = if f.ctx.parameters.is_v2() {
        if matches!(f.record.get("protocol"), Some(serde_json::Value::Null)) {
            c.pending("a v2 campaign's protocol is signed after the filter and the tally, which have not run");
            return;
        }
        match v2_counts(f) {
            Ok((counted, superseded)) => derived(f, counted, superseded),
            Err(why) => {
                c.fail(why);
                return;
            }
        }
    } else {
        derived(f, f.counted.len() as u64, (f.cast.len() - f.counted.len()) as u64)
    };
    election_protocol::check(&f.record, &f.ctx.election.manifest, &derived, c);
}

/// What the lines are derived from besides counted and superseded.
fn derived(f: &Findings<'_>, counted: u64, superseded: u64) -> Derived {
    Derived {
        e_voters: f.creds.listed.len() as u64,
        counted,
        superseded,
        challenged: f.challenged.len() as u64,
        extended_hash: f.ctx.election.extended_hash,
        final_head: f.heads.last().map(|h| h.link()).unwrap_or_default(),
        decryption_shares: crate::decryption::shares_digest(&f.record),
    }
}

/// A v2 record's lines 3 and 4 (13-revoting.md §6.8): line 3 the sum of counted_s of every
/// style's counting transcript (V20, V22), line 4 every other cast `ballot_v2` (re-votes and
/// replaced chains' earlier ballots together).
fn v2_counts(f: &Findings<'_>) -> Result<(u64, u64), String> {
    let Some(filter) = &f.filter else {
        return Err("a v2 protocol without the filter's transcripts: its line 3 cannot be derived".into());
    };
    let mut counted = 0u64;
    for s in &filter.styles {
        match (&s.counting, s.ballots) {
            (Some((_, outcome)), _) => counted += outcome.counted,
            (None, 0) => {}
            (None, _) => return Err(format!("style {:?} has no verifying transcript: no protocol line 3", s.style)),
        }
    }
    let cast = f.cast.len() as u64;
    let superseded = cast.checked_sub(counted).ok_or_else(|| format!("{counted} counted of {cast} cast ballots"))?;
    Ok((counted, superseded))
}
