//! The stable fuzz smoke run (issue 7; docs/fuzzing.md): every target of `dobush_fuzz` on its
//! seeds (`fuzz/seeds/<target>/`, written by `cargo run -p dobush-tests --bin fuzz_seeds`), the
//! committed regression inputs (`fuzz/regressions/<target>/`) and then mutated inputs, within a
//! fixed budget per target. Exits 1 if any input panicked (saved under `--artifacts`).
//!
//! ```sh
//! cargo run -p dobush-tests --bin fuzz_seeds -- fuzz/seeds
//! cargo run --release -p dobush-fuzz --features api --bin fuzz_smoke -- \
//!     [--inputs N] [--seconds S] [--rng-seed U64] [--seeds DIR] [--artifacts DIR] [TARGET…]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use dobush_fuzz::{Budget, read_inputs, run, targets};

const USAGE: &str =
    "usage: fuzz_smoke [--inputs N] [--seconds S] [--rng-seed U64] [--seeds DIR] [--regressions DIR] [--artifacts DIR] [TARGET…]";

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
            "--inputs" => value("--inputs").and_then(|v| v.parse().map(|n| inputs = n).map_err(|e| format!("--inputs: {e}"))),
            "--seconds" => value("--seconds").and_then(|v| v.parse().map(|n| seconds = n).map_err(|e| format!("--seconds: {e}"))),
            "--rng-seed" => value("--rng-seed").and_then(|v| v.parse().map(|n| rng_seed = n).map_err(|e| format!("--rng-seed: {e}"))),
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
    let all = targets();
    if let Some(unknown) = only.iter().find(|t| !all.iter().any(|x| x.name == t.as_str())) {
        eprintln!("unknown target {unknown:?}; targets: {}", all.iter().map(|t| t.name).collect::<Vec<_>>().join(", "));
        return ExitCode::from(2);
    }
    // the targets' own assertions report through the panic hook; keep one line per panic
    std::panic::set_hook(Box::new(|info| eprintln!("panic: {info}")));
    let mut failed = false;
    for t in all.iter().filter(|t| only.is_empty() || only.iter().any(|o| o == t.name)) {
        let corpus = match read_inputs(&[seeds.join(t.name), regressions.join(t.name)]) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{}: reading the seeds: {e}", t.name);
                return ExitCode::from(2);
            }
        };
        if corpus.is_empty() {
            eprintln!("{}: no seeds under {} (run the fuzz_seeds binary of dobush-tests first)", t.name, seeds.join(t.name).display());
            return ExitCode::from(2);
        }
        let start = Instant::now();
        let stats = run(*t, &corpus, Budget { inputs, time: Duration::from_secs(seconds) }, rng_seed, &artifacts);
        println!(
            "fuzz_smoke {}: {} inputs ({} seeds) in {:.1} s, slowest {} ms, {} crash(es)",
            t.name,
            stats.executed,
            stats.seeds,
            start.elapsed().as_secs_f64(),
            stats.slowest_ms,
            stats.crashes.len()
        );
        for c in &stats.crashes {
            println!("  crashing input saved: {}", c.display());
        }
        failed |= !stats.crashes.is_empty();
    }
    if failed { ExitCode::from(1) } else { ExitCode::SUCCESS }
}
