//! `dobush-verifier`: checks a published Dobush election record.
//!
//! ```text
//! dobush-verifier verify <record-dir> [--json] [--html <report.html>] [--since <tree-head.json>]
//! dobush-verifier receipt <record-dir> <receipt.json> [--json]
//! dobush-verifier watch <board-url> --package <package.json> --state <heads.json> [--interval <s>] [--once]
//! ```
//! Exit code 0 only when every check holds. `--html` also writes the report as a self-contained
//! page for people (`html.rs`); on a terminal a progress bar shows the check running (stderr).

use std::path::PathBuf;
use std::process::ExitCode;

use dobush_verifier::board::TreeHead;
use dobush_verifier::record::{Options, verify_dir_read, verify_receipt_with_files};

const USAGE: &str = "usage: dobush-verifier verify <record-dir> [--json] [--html <report.html>] [--since <tree-head.json>]\n       dobush-verifier receipt <record-dir> <receipt.json> [--json]\n       dobush-verifier watch <board-url> --package <package.json> --state <heads.json> [--interval <s>] [--once]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    match it.next().map(String::as_str) {
        Some("verify") => {}
        Some("receipt") => return receipt(it.collect()),
        Some("watch") => {
            let rest: Vec<String> = it.cloned().collect();
            return ExitCode::from(dobush_verifier::watch::command(&rest));
        }
        Some("--version") => {
            println!("dobush-verifier {} (reads {})", env!("CARGO_PKG_VERSION"), dobush_verifier::load::VERSION);
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    }
    let (mut dir, mut json, mut since, mut html) = (None, false, None, None);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--json" => json = true,
            "--html" => {
                let Some(path) = it.next() else {
                    eprintln!("--html needs a file\n{USAGE}");
                    return ExitCode::from(2);
                };
                html = Some(PathBuf::from(path));
            }
            "--since" => {
                let Some(path) = it.next() else {
                    eprintln!("--since needs a file\n{USAGE}");
                    return ExitCode::from(2);
                };
                let head = std::fs::read_to_string(path)
                    .map_err(|e| e.to_string())
                    .and_then(|s| dobush_verifier::json::parse_str(&s).map_err(|e| e.to_string()))
                    .and_then(|v| TreeHead::parse(&v).map_err(|e| e.0));
                match head {
                    Ok(h) => since = Some(h),
                    Err(e) => {
                        eprintln!("{path}: {e}");
                        return ExitCode::from(2);
                    }
                }
            }
            d if dir.is_none() => dir = Some(PathBuf::from(d)),
            other => {
                eprintln!("unexpected argument {other:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let Some(dir) = dir else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let bar = progress_bar();
    let (report, checked) = verify_dir_read(&dir, &Options { since, progress: Some(progress(bar.clone())) });
    bar.finish_and_clear();
    if let Some(path) = html {
        // the record text the checks read, never the file read a second time
        let record = checked.and_then(|text| dobush_verifier::json::parse_str(&text).ok());
        if let Err(e) = std::fs::write(&path, dobush_verifier::html::render(&report, record.as_ref())) {
            eprintln!("{}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    } else {
        print!("{}", report.text());
    }
    exit_code(&report)
}

fn receipt(args: Vec<&String>) -> ExitCode {
    let json = args.iter().any(|a| *a == "--json");
    let rest: Vec<&&String> = args.iter().filter(|a| **a != "--json").collect();
    let [dir, receipt] = rest.as_slice() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let dir = PathBuf::from(dir.as_str());
    let read = |p: PathBuf| std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()));
    let (rec, board, rc) =
        match (read(dir.join("record.json")), read(dir.join("board.jsonl")), read(PathBuf::from(receipt.as_str()))) {
            (Ok(a), Ok(b), Ok(c)) => (a, b, c),
            (a, b, c) => {
                for e in [a.err(), b.err(), c.err()].into_iter().flatten() {
                    eprintln!("{e}");
                }
                return ExitCode::from(2);
            }
        };
    let (Ok(rec), Ok(rc)) = (String::from_utf8(rec), String::from_utf8(rc)) else {
        eprintln!("record.json or the receipt is not UTF-8");
        return ExitCode::from(2);
    };
    let filter = match dobush_verifier::checks::files::read_filter_dir(&dir) {
        Ok(f) => f,
        Err(reasons) => {
            for r in reasons {
                eprintln!("{r}");
            }
            return ExitCode::from(2);
        }
    };
    let report = verify_receipt_with_files(&rec, &board, &filter, &rc);
    if json {
        println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    } else {
        print!("{}", report.text());
    }
    exit_code(&report)
}

/// 0 when every check holds, 3 when nothing is refused but no result is proved yet (a v2 record
/// before the filter runs), 1 when a check fails.
fn exit_code(report: &dobush_verifier::report::Report) -> ExitCode {
    if report.passed() {
        ExitCode::SUCCESS
    } else if report.pending() {
        ExitCode::from(3)
    } else {
        ExitCode::from(1)
    }
}

/// A bar over the checks, its message the running check and its items; drawn on stderr only when
/// it is a terminal (indicatif hides it otherwise, so `--json` output and logs stay clean).
fn progress_bar() -> indicatif::ProgressBar {
    let checks = dobush_verifier::registry::REGISTRY.len() as u64 + 2; // version, context, then the registry
    let bar = indicatif::ProgressBar::with_draw_target(Some(checks), indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} checks · {msg} [{elapsed}]") {
        bar.set_style(style);
    }
    bar
}

/// The callback that moves the bar: a new check name advances it.
fn progress(bar: indicatif::ProgressBar) -> dobush_verifier::report::Progress {
    let current = std::sync::Mutex::new("");
    std::sync::Arc::new(move |check: &'static str, items: u64| {
        if let Ok(mut c) = current.lock()
            && *c != check
        {
            if !c.is_empty() {
                bar.inc(1);
            }
            *c = check;
        }
        bar.set_message(format!("{check}: {items} items"));
    })
}
