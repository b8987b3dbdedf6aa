//! V14 `protocol` (`docs/record-format.md` §Verifier checklist, item 11; `11-election-protocol.md`):
//! every line of the signed electronic protocol re-derived from the record and the earlier
//! checks' findings, the control relations, `extended_hash` and `final_head`, and every member's
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
    if f.ctx.parameters.is_v2() {
        // 13-revoting.md §6.8: a v2 campaign's protocol follows the filter and the tally, whose
        // lines this version does not derive (review 19-v2-record F7)
        match f.record.get("protocol") {
            Some(serde_json::Value::Null) => {
                c.pending("a v2 campaign's protocol is signed after the filter and the tally, which have not run")
            }
            _ => c.fail("a v2 campaign's protocol is not checked by this version: its lines follow the filter"),
        }
        return;
    }
    let derived = Derived {
        e_voters: f.creds.listed.len() as u64,
        counted: f.counted.len() as u64,
        superseded: (f.cast.len() - f.counted.len()) as u64,
        challenged: f.challenged.len() as u64,
        extended_hash: f.ctx.election.extended_hash,
        final_head: f.heads.last().map(|h| h.link()).unwrap_or_default(),
        decryption_shares: crate::decryption::shares_digest(&f.record),
    };
    election_protocol::check(&f.record, &f.ctx.election.manifest, &derived, c);
}
