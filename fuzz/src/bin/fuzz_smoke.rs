//! The stable fuzz smoke run (docs/fuzzing.md): every target of `dobush_fuzz` on its
//! seeds (`fuzz/seeds/<target>/`, written by `cargo run -p dobush-tests --bin fuzz_seeds`), the
//! committed regression inputs (`fuzz/regressions/<target>/`) and then mutated inputs, within a
//! fixed budget per target. Exits 1 if any input panicked (saved under `--artifacts`).
//!
//! ```sh
//! cargo run -p dobush-tests --bin fuzz_seeds -- fuzz/seeds
//! cargo run --release -p dobush-fuzz --features api --bin fuzz_smoke -- \
//!     [--inputs N] [--seconds S] [--rng-seed U64] [--seeds DIR] [--artifacts DIR] [TARGET…]
//! ```
//!
//! The CI's run is the test `fuzz/tests/smoke.rs` (`scripts/test.sh`), the same run.

use std::path::PathBuf;
use std::process::ExitCode;

use dobush_fuzz::{Smoke, smoke};

const USAGE: &str = "usage: fuzz_smoke [--inputs N] [--seconds S] [--rng-seed U64] [--seeds DIR] [--regressions DIR] [--artifacts DIR] [TARGET…]";

fn main() -> ExitCode {
    let mut inputs: u64 = 3000;
    let mut seconds: u64 = 10;
    let mut rng_seed: u64 = 1;
    let mut seeds = PathBuf::from("fuzz/seeds");
    let mut regressions = PathBuf::from("fuzz/regressions");
    let mut artifacts = PathBuf::from("fuzz/artifacts");
    let mut only: Vec<String> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        let parsed: Result<(), String> = match a.as_str() {
            "--inputs" => {
                value("--inputs").and_then(|v| v.parse().map(|n| inputs = n).map_err(|e| format!("--inputs: {e}")))
            }
            "--seconds" => {
                value("--seconds").and_then(|v| v.parse().map(|n| seconds = n).map_err(|e| format!("--seconds: {e}")))
            }
            "--rng-seed" => value("--rng-seed")
                .and_then(|v| v.parse().map(|n| rng_seed = n).map_err(|e| format!("--rng-seed: {e}"))),
            "--seeds" => value("--seeds").map(|v| seeds = v.into()),
            "--regressions" => value("--regressions").map(|v| regressions = v.into()),
            "--artifacts" => value("--artifacts").map(|v| artifacts = v.into()),
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            t if !t.starts_with('-') => {
                only.push(t.to_owned());
                Ok(())
            }
            other => Err(format!("unknown argument {other:?}")),
        };
        if let Err(e) = parsed {
            eprintln!("{e}\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    // the targets' own assertions report through the panic hook; keep one line per panic
    std::panic::set_hook(Box::new(|info| eprintln!("panic: {info}")));
    let run = Smoke { inputs, seconds, rng_seed, seeds, regressions, artifacts, only };
    match smoke(&run, &mut std::io::stdout()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}
