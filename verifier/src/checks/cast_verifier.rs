//! V19 `cast verifier` (`docs/record-format.md` §Board; `13-revoting.md` §3.4): on a closed v2
//! board, the `cast_verifier_revealed` entry's `secret` y is a canonical non-zero scalar with
//! y·G equal to the package's `parameters.ballot_v2.cast_verifier_key` Y_S. Once y is public
//! anyone can make a cast opening for any credential, so no opening a server or a voter kept is
//! evidence of how anyone voted. Where the entry stands is the entries check's rule (V05).

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;

use crate::checks::{Check, Step};
use crate::encoding::{Point, field, scalar};
use crate::findings::Findings;
use crate::load::Entry;
use crate::report::Running;

/// The check.
pub const CHECK: Check<Step> = Check {
    id: "V19",
    name: "cast verifier",
    description: "a v2 board reveals the cast verifier's secret y after closing, and y·G is the package's key",
    run,
};

fn run(f: &mut Findings<'_>, c: &mut Running) {
    match f.ctx.parameters.cast_verifier_key {
        Some(key) => revealed(&key, &f.entries, c),
        None => c.note("a v1 campaign: it has no cast verifier"),
    }
}

fn revealed(key: &Point, entries: &[Entry], c: &mut Running) {
    let closed = entries.iter().any(|e| e.kind == "closed");
    let found: Vec<&Entry> = entries.iter().filter(|e| e.kind == "cast_verifier_revealed").collect();
    if found.is_empty() {
        if closed {
            c.fail("the board is closed but the cast verifier's secret is not revealed");
        } else {
            c.note("the board is not closed: the cast verifier's secret is revealed after closing");
        }
        return;
    }
    for e in found {
        c.items(1);
        let y = field(&e.v, "secret", "cast_verifier_revealed").and_then(|s| scalar(s, "secret"));
        match y {
            Ok(y) if y == curve25519_dalek::scalar::Scalar::ZERO => {
                c.fail(format!("entry {}: the revealed secret is zero", e.index))
            }
            Ok(y) => c.require((y * RISTRETTO_BASEPOINT_POINT).compress().to_bytes() == key.bytes, || {
                format!("entry {}: the revealed secret is not the package's cast verifier key's (y·G ≠ Y_S)", e.index)
            }),
            Err(err) => c.fail(format!("entry {}: {}", e.index, err.0)),
        }
    }
}
