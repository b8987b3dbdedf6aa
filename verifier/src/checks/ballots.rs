//! V08 `ballots` (`docs/record-format.md` §Verifier checklist, item 6): every ballot on the board,
//! cast and challenged, checked as in `08-ballot.md` §Verification (batched and in parallel:
//! §Batch verification) — a v2 ballot as in `13-revoting.md` §3.7, its credential proof in place
//! of the signature — and each entry's tracking code equal to the recomputed one. The ballots
//! whose proofs hold are what the later checks count.

use crate::ballot::{self, Ballot, Election};
use crate::ballot_v2::ballot::{self as ballot_v2, BallotV2};
use crate::checks::{Check, Step};
use crate::encoding::{field, hex_n};
use crate::findings::{AnyBallot, Findings, PostedBallot};
use crate::load::{Context, Entry};
use crate::report::Running;

/// The check.
pub const CHECK: Check<Step> =
    Check { id: "V08", name: "ballots", description: "every ballot's proofs, signature and tracking code", run };

fn run(f: &mut Findings<'_>, c: &mut Running) {
    (f.cast, f.challenged) = check_ballots(&f.ctx, &f.entries, c);
}

fn check_ballots(ctx: &Context, entries: &[Entry], c: &mut Running) -> (Vec<PostedBallot>, Vec<PostedBallot>) {
    let (mut v1, mut v2) = (Vec::new(), Vec::new());
    for e in entries {
        let (is_v2, challenge) = match e.kind.as_str() {
            "ballot" => (false, false),
            "challenged" => (false, true),
            "ballot_v2" => (true, false),
            "challenged_v2" => (true, true),
            _ => continue,
        };
        let code = field(&e.v, "tracking_code", "entry").and_then(|v| hex_n::<32>(v, "tracking_code"));
        let ballot = field(&e.v, "ballot", "entry");
        let r = if is_v2 {
            ballot.and_then(ballot_v2::parse).and_then(|b| code.map(|code| v2.push((e.index, challenge, b, code))))
        } else {
            ballot.and_then(ballot::parse).and_then(|b| code.map(|code| v1.push((e.index, challenge, b, code))))
        };
        if let Err(err) = r {
            c.fail(format!("entry {}: {}", e.index, err.0));
        }
    }
    let mut posted = Vec::with_capacity(v1.len() + v2.len());
    let refs: Vec<&Ballot> = v1.iter().map(|p| &p.2).collect();
    let results = verify_with_progress(&ctx.election, &refs, ballot::check);
    posted
        .extend(v1.into_iter().zip(results).map(|((i, ch, b, code), r)| (i, ch, AnyBallot::V1(Box::new(b)), code, r)));
    let refs: Vec<&BallotV2> = v2.iter().map(|p| &p.2).collect();
    let results = verify_with_progress(&ctx.election, &refs, ballot_v2::check);
    posted
        .extend(v2.into_iter().zip(results).map(|((i, ch, b, code), r)| (i, ch, AnyBallot::V2(Box::new(b)), code, r)));
    posted.sort_by_key(|p| p.0);
    let (mut cast, mut challenged) = (Vec::new(), Vec::new());
    for (index, is_challenge, b, code, r) in posted {
        c.items(1);
        match r {
            Ok(computed) => {
                c.require(computed == code, || format!("entry {index}: tracking code differs from the ballot's"));
                let item = PostedBallot { entry: index, ballot: b, code };
                if is_challenge { challenged.push(item) } else { cast.push(item) }
            }
            Err(msg) => c.fail(format!("entry {index} (ballot {}): {msg}", hex::encode(b.id()))),
        }
    }
    (cast, challenged)
}

/// Verifies ballots in slices of 8,192, printing progress to standard error when it is a
/// terminal and the record is large.
fn verify_with_progress<B: Sync>(
    e: &Election,
    ballots: &[&B],
    check: ballot::CheckOne<B>,
) -> Vec<Result<[u8; 32], String>> {
    use std::io::{IsTerminal, Write};
    const SLICE: usize = 8192;
    let show = ballots.len() > SLICE && std::io::stderr().is_terminal();
    let start = std::time::Instant::now();
    let mut out = Vec::with_capacity(ballots.len());
    for chunk in ballots.chunks(SLICE) {
        out.extend(ballot::verify_all(e, chunk, check));
        if show {
            let done = out.len();
            let rate = done as f64 / start.elapsed().as_secs_f64().max(1e-9);
            let left = (ballots.len() - done) as f64 / rate.max(1e-9);
            let width = 30;
            let filled = done * width / ballots.len().max(1);
            eprint!(
                "\r  ballots [{}{}] {done}/{} {rate:.0}/s, {left:.0} s left ",
                "#".repeat(filled),
                " ".repeat(width - filled),
                ballots.len()
            );
            let _ = std::io::stderr().flush();
        }
    }
    if show {
        eprintln!();
    }
    out
}
