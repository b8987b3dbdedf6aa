//! The load generator (docs/load.md): plays N voters against a running server in a fresh demo-mode
//! campaign (see `dobush_tests::load`), prints throughput, latency and errors, writes a JSON
//! summary, and exits non-zero if the end-of-run board check fails.
//!
//! ```sh
//! cargo run --release -p dobush-tests --bin loadgen -- \
//!     --url http://127.0.0.1:8080 --voters 20000 --concurrency 64 --options 5 --out load.json
//! ```
//!
//! The server must allow demo mode and not rate-limit the generator's single address (see
//! README §Load).

use std::process::ExitCode;

use dobush_tests::load::{LoadConfig, run};

const USAGE: &str =
    "usage: loadgen [--url URL] [--voters N] [--concurrency C] [--options K] [--setup-concurrency S] [--out FILE]";

fn parse() -> Result<(LoadConfig, String), String> {
    let mut cfg = LoadConfig {
        base: "http://127.0.0.1:8080".into(),
        voters: 1000,
        options: 5,
        concurrency: 64,
        setup_concurrency: 32,
    };
    let mut out = "loadgen-summary.json".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{a} needs a value\n{USAGE}"));
        let num = |v: String| v.parse::<u64>().map_err(|e| format!("{a}: {e}"));
        match a.as_str() {
            "--url" => cfg.base = value()?,
            "--voters" => cfg.voters = u32::try_from(num(value()?)?).map_err(|e| e.to_string())?,
            "--concurrency" => cfg.concurrency = usize::try_from(num(value()?)?).map_err(|e| e.to_string())?,
            "--options" => cfg.options = usize::try_from(num(value()?)?).map_err(|e| e.to_string())?,
            "--setup-concurrency" => {
                cfg.setup_concurrency = usize::try_from(num(value()?)?).map_err(|e| e.to_string())?
            }
            "--out" => out = value()?,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    if cfg.voters == 0 || cfg.concurrency == 0 || cfg.options == 0 {
        return Err(format!("--voters, --concurrency and --options must be positive\n{USAGE}"));
    }
    Ok((cfg, out))
}

fn main() -> ExitCode {
    let (cfg, out) = match parse() {
        Ok(x) => x,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!(
        "loadgen: {} voters, {} options, concurrency {} against {}",
        cfg.voters, cfg.options, cfg.concurrency, cfg.base
    );
    let summary = match rt.block_on(run(&cfg)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("loadgen failed: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let l = &summary.latency;
    println!("campaign        {}", summary.campaign);
    println!("setup           {:.1} s (logins, applications, opening, encryption; not timed)", summary.setup_secs);
    println!(
        "cast            {} receipts in {:.2} s = {:.0} ballots/s",
        summary.receipts, summary.cast_secs, summary.throughput_per_sec
    );
    println!(
        "latency ms      p50 {:.1}  p95 {:.1}  p99 {:.1}  max {:.1}  mean {:.1}",
        l.p50_ms, l.p95_ms, l.p99_ms, l.max_ms, l.mean_ms
    );
    println!("errors          {} {:?}", summary.errors, summary.errors_by_kind);
    let c = &summary.check;
    println!(
        "check           receipts verified {} (invalid {}), board {} entries / {} ballots, missing {}, unexpected {}, unanswered-but-on-board {}, root = head: {}, totals match: {} => {}",
        c.receipts_verified,
        c.receipts_invalid,
        c.board_size,
        c.ballots_on_board,
        c.receipted_missing,
        c.unexpected_on_board,
        c.unanswered_on_board,
        c.root_matches_head,
        c.totals_match,
        if c.ok { "OK" } else { "FAILED" }
    );
    match serde_json::to_string_pretty(&summary) {
        Ok(text) => {
            if let Err(e) = std::fs::write(&out, text + "\n") {
                eprintln!("writing {out}: {e}");
                return ExitCode::FAILURE;
            }
            println!("summary         {out}");
        }
        Err(e) => {
            eprintln!("summary: {e}");
            return ExitCode::FAILURE;
        }
    }
    if c.ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
