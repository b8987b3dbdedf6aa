//! Benchmark of one style's filter run (docs/protocol/13-revoting.md §6–§8, §14): every member
//! of F and the coordinator in one process (`run_filter`: the coordinator's shuffles and proofs,
//! each member verifying every round before its own shares), then the replay of the published
//! transcript (`verify_transcript`, what the server and an auditor run). One voter in four
//! re-votes once; a few replacements and overrides. It prints figures and asserts nothing about
//! time: `cargo bench -p dobush-crypto --features test-helpers --bench filter_run`
//! (`FILTER_RUN_BALLOTS=n`, default 2,000; `FILTER_RUN_T=t` of n = t + 2, default 3).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use dobush_crypto::filter::run::drive::run_filter;
use dobush_crypto::filter::run::fixture::{Election, Plan};
use dobush_crypto::filter::run::public::verify_transcript;
use rand::SeedableRng;
use rand::rngs::OsRng;
use rand_chacha::ChaCha20Rng;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

fn main() {
    let ballots = env("FILTER_RUN_BALLOTS", 2000);
    let t = env("FILTER_RUN_T", 3) as u32;
    let voters = ballots * 4 / 5;
    println!(
        "filter run, one style: {ballots} ballots ({voters} voters, one in four re-voting once), F = {t} of {}, c = 6, {} threads",
        t + 2,
        rayon::current_num_threads()
    );
    for k in [5usize, 20] {
        let plan = Plan {
            voters,
            abstainers: voters / 10,
            revoters: ballots - voters - ballots / 200,
            replaced: ballots / 200,
            stale: 0,
            unlisted: 0,
            overridden: ballots / 400,
            twice: 0,
            override_old: 0,
            none_groups: 0,
            exceptions: 0,
            mismatched: 0,
            malformed: 0,
            selections: k,
            row_limit: 6,
            n: t + 2,
            t,
        };
        let mut rng = ChaCha20Rng::seed_from_u64(k as u64);
        let e = Election::new(&plan, &mut rng).unwrap();
        let real = e.inputs.ballots.len() + e.inputs.overrides.len();
        let start = Instant::now();
        let out = run_filter(&e.setup, &e.inputs, &e.shares(), &mut OsRng).unwrap();
        let filter = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let checked = verify_transcript(&e.setup, &e.inputs, &out.transcript, &mut OsRng).unwrap();
        let verify = start.elapsed().as_secs_f64();
        assert_eq!(checked.counted, e.expected_counted);
        let padded = out.transcript.shuffles.as_ref().unwrap().rows.output.len();
        let pool = out.transcript.shuffles.as_ref().unwrap().pool.as_ref().map_or(0, |p| p.output.len());
        let bytes = serde_json::to_vec(&out.transcript).unwrap().len();
        let ms = |s: f64, n: usize| s * 1e3 / n as f64;
        println!(
            "k = {k}: {real} real rows, {padded} padded rows ({} dummies), pool {pool} rows (K_s = {}), transcript {:.1} MB",
            out.transcript.shuffles.as_ref().unwrap().dummies.len(),
            out.transcript.shuffles.as_ref().unwrap().copies,
            bytes as f64 / 1e6
        );
        println!(
            "  filter (coordinator + {t} members verifying each round): {filter:.1} s = {:.2} ms per padded row, {:.2} ms per ballot",
            ms(filter, padded),
            ms(filter, ballots)
        );
        println!(
            "  replay of the transcript (verify_transcript):            {verify:.1} s = {:.2} ms per padded row, {:.2} ms per ballot",
            ms(verify, padded),
            ms(verify, ballots)
        );
        println!(
            "  projected to 1,000,000 ballots (linear in rows, same machine): filter {:.1} h, replay {:.1} h, transcript {:.1} GB",
            filter / ballots as f64 * 1e6 / 3600.0,
            verify / ballots as f64 * 1e6 / 3600.0,
            bytes as f64 / ballots as f64 * 1e6 / 1e9
        );
    }
}
