//! V12 `challenged` (`docs/record-format.md` §Verifier checklist, item 8): every challenged ballot's
//! opening re-encrypts to exactly its ciphertexts and its marks are a valid vote
//! (`08-ballot.md` §Benaloh challenge); challenged ballots are never counted (the ballots check
//! keeps them apart from the cast ones).

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use serde_json::Value;

use crate::checks::{Check, Step};
use crate::encoding::{exact, field, hex_n, scalar};
use crate::findings::{Findings, PostedBallot};
use crate::load::{Context, Entry};
use crate::report::Running;

/// The check.
pub const CHECK: Check<Step> = Check {
    id: "V12",
    name: "challenged",
    description: "challenged ballots open to exactly their ciphertexts and are not counted",
    run,
};

fn run(f: &mut Findings<'_>, c: &mut Running) {
    check_challenged(&f.ctx, &f.entries, &f.challenged, c);
}

/// The fields of a `BallotOpening` (record-format.md §Ballot opening); any other is refused.
pub const OPENING_FIELDS: &[&str] = &["ballot_id", "contests"];
/// The fields of a `SelectionOpening`.
pub const SELECTION_OPENING_FIELDS: &[&str] = &["mark", "nonce"];

fn check_challenged(ctx: &Context, entries: &[Entry], challenged: &[PostedBallot], c: &mut Running) {
    let k = ctx.election.joint_key.p;
    for ch in challenged {
        c.items(1);
        let Some(e) = entries.get(ch.entry) else { continue };
        let opening = match field(&e.v, "opening", "challenged") {
            Ok(o) => o,
            Err(err) => {
                c.fail(format!("entry {}: {}", ch.entry, err.0));
                continue;
            }
        };
        let r = (|| -> Result<(), String> {
            exact(opening, OPENING_FIELDS, "opening").map_err(|e| e.0)?;
            let oid =
                hex_n::<16>(field(opening, "ballot_id", "opening").map_err(|e| e.0)?, "ballot_id").map_err(|e| e.0)?;
            if oid != ch.ballot.id() {
                return Err("the opening is for another ballot id".into());
            }
            let contests = opening.get("contests").and_then(Value::as_array).ok_or("opening: contests missing")?;
            if contests.len() != ch.ballot.contests().len() {
                return Err("opening: wrong number of contests".into());
            }
            let style = ctx.election.manifest.styles.get(ch.ballot.style()).ok_or("unknown style")?;
            for ((oc, bc), ci) in contests.iter().zip(ch.ballot.contests()).zip(style) {
                let sels = oc.as_array().ok_or("opening: contest must be an array")?;
                if sels.len() != bc.cts.len() {
                    return Err(format!("opening of contest {:?}: wrong number of selections", bc.id));
                }
                let mut sum = 0u64;
                let contest = ctx.election.manifest.contests.get(*ci).ok_or("unknown contest")?;
                for (j, (s, (a, b))) in sels.iter().zip(&bc.cts).enumerate() {
                    exact(s, SELECTION_OPENING_FIELDS, &format!("opening of contest {:?}, selection {j}", bc.id))
                        .map_err(|e| e.0)?;
                    let m = s.get("mark").and_then(Value::as_u64).filter(|m| *m <= 1).ok_or("mark must be 0 or 1")?;
                    let r: Scalar = scalar(field(s, "nonce", "opening").map_err(|e| e.0)?, "nonce").map_err(|e| e.0)?;
                    let alpha: RistrettoPoint = r * RISTRETTO_BASEPOINT_POINT;
                    let beta: RistrettoPoint = Scalar::from(m) * RISTRETTO_BASEPOINT_POINT + r * k;
                    if alpha.compress().to_bytes() != a.bytes || beta.compress().to_bytes() != b.bytes {
                        return Err(format!(
                            "contest {:?}, selection {j}: opening does not re-encrypt to the ciphertext",
                            bc.id
                        ));
                    }
                    sum += m * contest.weight(j);
                }
                if !contest.allowed().contains(&sum) {
                    return Err(format!("contest {:?}: opened marks are not a valid vote", bc.id));
                }
            }
            Ok(())
        })();
        if let Err(msg) = r {
            c.fail(format!("entry {}: {msg}", ch.entry));
        }
    }
}
