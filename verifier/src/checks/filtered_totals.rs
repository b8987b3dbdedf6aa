//! V24 `filtered totals` (`13-revoting.md` §6.9, §7.11; `docs/record-format.md` §Election record):
//! a filtered v2 record's `encrypted_totals` equal, byte for byte, TL-1 recomputed from the kept
//! rows of every style's counting transcript (V22, V20), one per contest of the manifest in
//! manifest order, each contest's `ballots` = Σ counted_s over the styles that contain it (0 for
//! an empty filter). V13's role for a v2 record; the recomputed totals are what V16 decrypts.
//! TL-3 (the decryption of each style's N_s) is not checked: round 11, which decrypts N_s, is not
//! built.

use curve25519_dalek::ristretto::RistrettoPoint;

use crate::checks::{Check, Step};
use crate::decryption::Totals;
use crate::filter::totals::{self, Style};
use crate::findings::Findings;
use crate::report::Running;

/// The check.
pub const CHECK: Check<Step> = Check {
    id: "V24",
    name: "filtered totals",
    description: "a v2 record's encrypted totals recomputed (TL-1) from the kept rows of every counting transcript",
    run,
};

fn run(f: &mut Findings<'_>, c: &mut Running) {
    if !f.ctx.parameters.is_v2() {
        c.note("a v1 campaign: its totals are V13's");
        return;
    }
    let Some(found) = &f.filter else {
        c.note("no `filtered` entry: the filter has not run (V20), so there are no filtered totals yet");
        return;
    };
    let m = &f.ctx.election.manifest;
    let mut missing = false;
    if found.styles.is_empty() {
        c.fail("the transcripts could not be checked (V22): TL-1 cannot be recomputed");
        return;
    }
    let (mut list, mut counted): (Vec<Style<'_>>, Vec<u64>) = (Vec::new(), Vec::new());
    for s in &found.styles {
        let Some(contests) = m.styles.get(&s.style) else { continue };
        match (&s.counting, s.ballots) {
            (Some((_, o)), _) => {
                list.push(Style { contests, kept: &o.kept });
                counted.push(o.counted);
            }
            (None, 0) => {}
            (None, _) => {
                c.fail(format!("style {:?}: no counting transcript (V20): TL-1 cannot be recomputed", s.style));
                missing = true;
            }
        }
    }
    if missing {
        return;
    }
    c.items(list.len() as u64);
    let selections: Vec<usize> = m.contests.iter().map(|q| q.selections()).collect();
    let sums: Vec<Vec<(RistrettoPoint, RistrettoPoint)>> =
        match totals::tl1(&f.ctx.election.joint_key.p, &selections, &list) {
            Ok(t) => t,
            Err(e) => {
                c.fail(format!("TL-1: {e}"));
                return;
            }
        };
    let mut ballots = vec![0u64; m.contests.len()];
    for (style, n) in list.iter().zip(&counted) {
        for q in style.contests {
            if let Some(b) = ballots.get_mut(*q) {
                *b = b.saturating_add(*n);
            }
        }
    }
    c.note(
        "TL-3 is not checked: N_s is decrypted by round 11 of the filter, which is not built (13-revoting.md §7.11)",
    );
    let sums = Totals { totals: sums, ballots };
    crate::checks::totals::compare(&f.record, m, &sums, "TL-1 of the counting transcripts' kept rows", c);
    // what V16 decrypts against, as V13's sums on a v1 record
    f.totals = sums;
    f.filtered_totals = true;
}
