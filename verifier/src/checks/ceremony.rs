//! V15 `ceremony` (`docs/record-format.md` §Verifier checklist, item 12; §Key ceremony and
//! decryption; `06-dkg.md` §Verifier checklist): the key ceremony's transcript decoded strictly,
//! every signature, commitment hash, coefficient proof and share proof, every complaint
//! adjudicated, at least `t` qualified dealers, the joint key equal to the package's, and the
//! verification keys recomputed for the decryption check. The work is in [`crate::ceremony`].

use crate::ceremony;
use crate::checks::{Check, Step};
use crate::findings::Findings;
use crate::report::Running;

/// The check.
pub const CHECK: Check<Step> = Check {
    id: "V15",
    name: "ceremony",
    description: "key ceremony: signatures, commitment hashes, coefficient and share proofs, complaints adjudicated, joint key, verification keys",
    run,
};

fn run(f: &mut Findings<'_>, c: &mut Running) {
    f.ceremony = ceremony::check(&f.record, &f.ctx, c);
}
