//! V13 `totals` (`docs/record-format.md` §Verifier checklist, item 10): the published encrypted
//! totals equal, byte for byte, the sums of the counted ballots (`08-ballot.md` §Tally), with the
//! number of counted ballots per contest. The recomputed sums are what the decryption check
//! decrypts against.

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::RistrettoPoint;
use serde_json::Value;

use crate::checks::{Check, Step};
use crate::decryption::Totals;
use crate::encoding::{Decoded, array, exact, field, point};
use crate::findings::{Findings, PostedBallot};
use crate::load::Context;
use crate::manifest::Manifest;
use crate::report::Running;

/// The check.
pub const CHECK: Check<Step> =
    Check { id: "V13", name: "totals", description: "encrypted totals recomputed from the counted ballots", run };

fn run(f: &mut Findings<'_>, c: &mut Running) {
    if f.ctx.parameters.is_v2() {
        // The totals of a v2 campaign are the filter's output (13-revoting.md §7.11), V24's.
        if f.entries.iter().any(|e| e.kind == crate::filtered::KIND) {
            c.note(
                "a v2 campaign's encrypted totals are the re-voting filter's output: V24 (filtered totals) checks them",
            );
        } else {
            c.pending(
                "a v2 campaign's encrypted totals are the re-voting filter's output (13-revoting.md §7.11), and the \
                 filter has not run (no `filtered` entry): no result is proved",
            );
        }
        return;
    }
    f.totals = check_totals(&f.record, &f.ctx, &f.cast, &f.counted, c);
}

/// The fields of `ContestTotals` (record-format.md §Encrypted totals); any other is refused.
pub const TOTALS_FIELDS: &[&str] = &["contest_id", "ballots", "totals"];
/// The fields of a `Ciphertext`.
pub const CIPHERTEXT_FIELDS: &[&str] = &["alpha", "beta"];

fn check_totals(rec: &Value, ctx: &Context, cast: &[PostedBallot], counted: &[usize], c: &mut Running) -> Totals {
    let m = &ctx.election.manifest;
    let k = ctx.election.joint_key.p;
    let mut sums: Vec<Vec<(RistrettoPoint, RistrettoPoint)>> =
        m.contests.iter().map(|x| vec![(RISTRETTO_BASEPOINT_POINT, k); x.selections()]).collect();
    let mut counts = vec![0u64; m.contests.len()];
    for &i in counted {
        let Some(b) = cast.get(i) else { continue };
        let Some(style) = m.styles.get(b.ballot.style()) else { continue };
        for (ci, bc) in style.iter().zip(b.ballot.contests()) {
            if let (Some(s), Some(n)) = (sums.get_mut(*ci), counts.get_mut(*ci)) {
                for (acc, (a, be)) in s.iter_mut().zip(&bc.cts) {
                    acc.0 += a.p;
                    acc.1 += be.p;
                }
                *n += 1;
            }
        }
    }
    let sums = Totals { totals: sums, ballots: counts };
    compare(rec, m, &sums, "the sums of the counted ballots", c);
    sums
}

/// Compares the record's `encrypted_totals` with `sums`, byte for byte (one `ContestTotals` per
/// contest of the manifest, in manifest order, with exactly its fields), each difference
/// located; `what` names what `sums` are.
pub fn compare(rec: &Value, m: &Manifest, sums: &Totals, what: &str, c: &mut Running) {
    let totals = match array(rec, "encrypted_totals", "record") {
        Ok(t) => t,
        Err(e) => {
            c.fail(e.0);
            return;
        }
    };
    c.require(totals.len() == m.contests.len(), || "encrypted totals: one per contest expected".into());
    for (ti, ((t, contest), (s, n))) in
        totals.iter().zip(&m.contests).zip(sums.totals.iter().zip(&sums.ballots)).enumerate()
    {
        c.items(1);
        if let Err(e) = exact(t, TOTALS_FIELDS, &format!("record.json encrypted_totals[{ti}]")) {
            c.fail(e.0);
        }
        let id = t.get("contest_id").and_then(Value::as_str).unwrap_or("");
        c.require(id == contest.id, || format!("encrypted totals: {id:?} where {:?} was expected", contest.id));
        c.require(t.get("ballots").and_then(Value::as_u64) == Some(*n), || {
            format!("contest {:?}: published ballot count differs from the counted ballots ({n})", contest.id)
        });
        let published = t.get("totals").and_then(Value::as_array).cloned().unwrap_or_default();
        c.require(published.len() == s.len(), || format!("contest {:?}: wrong number of totals", contest.id));
        for (j, (p, (a, b))) in published.iter().zip(s).enumerate() {
            let ok = (|| -> Decoded<bool> {
                exact(p, CIPHERTEXT_FIELDS, "total")?;
                let pa = point(field(p, "alpha", "total")?, "total")?;
                let pb = point(field(p, "beta", "total")?, "total")?;
                Ok(pa.bytes == a.compress().to_bytes() && pb.bytes == b.compress().to_bytes())
            })();
            match ok {
                Ok(true) => {}
                Ok(false) => {
                    c.fail(format!("contest {:?}, selection {j}: encrypted total differs from {what}", contest.id))
                }
                Err(e) => c.fail(format!("record.json encrypted_totals[{ti}], selection {j}: {}", e.0)),
            }
        }
    }
}
