//! `dobush-verifier`: checks a published Dobush election record.
//!
//! ```text
//! dobush-verifier verify <record-dir> [--json] [--since <tree-head.json>]
//! dobush-verifier receipt <record-dir> <receipt.json> [--json]
//! dobush-verifier watch <board-url> --package <package.json> --state <heads.json> [--interval <s>] [--once]
//! ```
//! Exit code 0 only when every check holds.

use std::path::PathBuf;
use std::process::ExitCode;

use dobush_verifier::board::TreeHead;
use dobush_verifier::record::{Options, verify_dir, verify_receipt};

const USAGE: &str = "usage: dobush-verifier verify <record-dir> [--json] [--since <tree-head.json>]\n       dobush-verifier receipt <record-dir> <receipt.json> [--json]\n       dobush-verifier watch <board-url> --package <package.json> --state <heads.json> [--interval <s>] [--once]";

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
    let (mut dir, mut json, mut since) = (None, false, None);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--json" => json = true,
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
    let report = verify_dir(&dir, &Options { since });
    if json {
        println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    } else {
        print!("{}", report.text());
    }
    if report.passed() { ExitCode::SUCCESS } else { ExitCode::from(1) }
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
    let report = verify_receipt(&String::from_utf8_lossy(&rec), &board, &String::from_utf8_lossy(&rc));
    if json {
        println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    } else {
        print!("{}", report.text());
    }
    if report.passed() { ExitCode::SUCCESS } else { ExitCode::from(1) }
}
