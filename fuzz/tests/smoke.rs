//! The fuzz smoke run of CI (docs/fuzzing.md): the seed corpora written afresh under
//! `fuzz/seeds/`, then every target on its seeds, the committed regression inputs under
//! `fuzz/regressions/` and a fixed budget of mutated inputs (`FUZZ_INPUTS` per target, default
//! 3000, at most `FUZZ_SECONDS` each, default 10; `FUZZ_INPUTS=0` runs the seeds and regressions
//! only). A panicking input fails the test and is saved under `fuzz/artifacts/<target>/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use dobush_fuzz::{Smoke, smoke};

fn budget(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().map_or(default, |v| v.parse().unwrap_or_else(|e| panic!("{name}={v}: {e}")))
}

#[test]
fn every_target_survives_its_seeds_regressions_and_mutations() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let seeds = dir.join("seeds");
    let _ = std::fs::remove_dir_all(&seeds);
    dobush_tests::fuzz_seeds::write_all(&seeds).unwrap();
    let run = Smoke {
        inputs: budget("FUZZ_INPUTS", 3000),
        seconds: budget("FUZZ_SECONDS", 10),
        rng_seed: 1,
        seeds,
        regressions: dir.join("regressions"),
        artifacts: dir.join("artifacts"),
        only: Vec::new(),
    };
    let mut report = Vec::new();
    let clean = smoke(&run, &mut report).unwrap();
    let report = String::from_utf8(report).unwrap();
    // shown if the test fails (always with `-- --nocapture`)
    eprint!("{report}");
    assert!(clean, "an input panicked:\n{report}");
    assert_eq!(report.lines().filter(|l| l.starts_with("fuzz_smoke ")).count(), dobush_fuzz::targets().len());
}
