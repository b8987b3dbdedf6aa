//! V03 `context` (`docs/record-format.md` §Verifier checklist, item 2; §Election package): the
//! package's version, the generators re-derived, the manifest valid and its hash recomputed
//! (`08-ballot.md` §Manifest, §Manifest hash), the key-holders numbered `1 … n`, `1 ≤ t < n`, and
//! the base and extended hashes recomputed and equal (`02-transcripts.md` §Context). Every later
//! check is made against this context, so nothing else is checked without it.

use serde_json::Value;

use crate::checks::Check;
use crate::load::{self, Context};
use crate::report::Running;

/// How it runs: the record in; its context out when the package holds.
pub type Run = fn(&Value, &mut Running) -> Option<Context>;

/// The check.
pub const CHECK: Check<Run> = Check {
    id: "V03",
    name: "context",
    description: "generators re-derived, manifest hash and both context hashes recomputed",
    run,
};

fn run(record: &Value, c: &mut Running) -> Option<Context> {
    match load::context(record) {
        Ok(ctx) => {
            c.items(3);
            c.note(format!(
                "election package fingerprint {} (compare it with the commission's published one)",
                crate::fingerprint::election_package(&ctx.election.extended_hash)
            ));
            Some(ctx)
        }
        Err(e) => {
            c.fail(e.0);
            None
        }
    }
}
