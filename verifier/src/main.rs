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
use dobush_verifier::record::{verify_dir, verify_receipt, Options};

const USAGE: &str = "usage: dobush-verifier verify <record-dir> [--json] [--since <tree-head.json>]\n       dobush-verifier receipt <record-dir> <receipt.json> [--json]\n       dobush-verifier watch <board-url> --package <package.json> --state <heads.json> [--interval <s>] [--once]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    match it.next().map(String::as_str) {
        Some("verify") => {}
        Some("receipt") => return receipt(it.collect()),
        Some("watch") => return watch(it.collect()),
        Some("--version") => {
            println!("dobush-verifier {} (reads {})", env!("CARGO_PKG_VERSION"), dobush_verifier::record::VERSION);
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
                    .and_then(|s| serde_json::from_str(&s).map_err(|e| e.to_string()))
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
    let (rec, board, rc) = match (read(dir.join("record.json")), read(dir.join("board.jsonl")), read(PathBuf::from(receipt.as_str()))) {
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

fn get_json(url: &str) -> Result<serde_json::Value, String> {
    let mut resp = ureq::get(url).call().map_err(|e| format!("GET {url}: {e}"))?;
    let body = resp.body_mut().read_to_string().map_err(|e| format!("GET {url}: {e}"))?;
    serde_json::from_str(&body).map_err(|e| format!("GET {url}: not JSON: {e}"))
}

/// Polls `<board-url>/head` and `<board-url>/consistency?first=M&second=N` (10-board.md §HTTP API).
fn watch(args: Vec<&String>) -> ExitCode {
    use dobush_verifier::watch::{step, Pinned};
    let mut url = None;
    let (mut package, mut state, mut interval, mut once) = (None, None, 30u64, false);
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--package" => package = it.next().cloned(),
            "--state" => state = it.next().cloned(),
            "--interval" => interval = it.next().and_then(|s| s.parse().ok()).unwrap_or(30),
            "--once" => once = true,
            u if url.is_none() => url = Some(u.trim_end_matches('/').to_owned()),
            other => {
                eprintln!("unexpected argument {other:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let (Some(url), Some(package), Some(state)) = (url, package, state) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let pin = match std::fs::read_to_string(&package)
        .map_err(|e| e.to_string())
        .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).map_err(|e| e.to_string()))
        .and_then(|v| dobush_verifier::record::package_context(&v).map_err(|e| e.0))
    {
        Ok(c) => Pinned { base_hash: c.base_hash, board_key: c.board_key },
        Err(e) => {
            eprintln!("{package}: {e}");
            return ExitCode::from(2);
        }
    };
    let mut kept: Vec<TreeHead> = match std::fs::read_to_string(&state) {
        Ok(s) => match serde_json::from_str::<Vec<serde_json::Value>>(&s)
            .map_err(|e| e.to_string())
            .and_then(|v| v.iter().map(|h| TreeHead::parse(h).map_err(|e| e.0)).collect())
        {
            Ok(k) => k,
            Err(e) => {
                eprintln!("{state}: {e}");
                return ExitCode::from(2);
            }
        },
        Err(_) => Vec::new(),
    };
    loop {
        let polled = (|| -> Result<usize, String> {
            let head_json = get_json(&format!("{url}/head"))?;
            let head = TreeHead::parse(&head_json).map_err(|e| e.0)?;
            let proof = match kept.last() {
                Some(l) if l.size > 0 && l.size < head.size => {
                    let v = get_json(&format!("{url}/consistency?first={}&second={}", l.size, head.size))?;
                    v.get("proof")
                        .and_then(serde_json::Value::as_array)
                        .ok_or("consistency: no proof")?
                        .iter()
                        .map(|h| dobush_verifier::encoding::hex_n::<32>(h, "proof").map_err(|e| e.0))
                        .collect::<Result<Vec<_>, _>>()?
                }
                _ => Vec::new(),
            };
            step(&mut kept, head, &proof, &pin)?;
            let json: Vec<serde_json::Value> = kept
                .iter()
                .map(|h| {
                    serde_json::json!({"context": hex::encode(h.context), "size": h.size, "root": hex::encode(h.root),
                        "timestamp_ms": h.timestamp_ms, "signature": hex::encode(h.signature)})
                })
                .collect();
            std::fs::write(&state, serde_json::to_string_pretty(&json).unwrap_or_default()).map_err(|e| format!("{state}: {e}"))?;
            Ok(kept.last().map_or(0, |h| h.size as usize))
        })();
        match polled {
            Ok(size) => println!("OK   board has {size} entries; {} heads kept in {state}", kept.len()),
            Err(e) if e.starts_with("GET ") => eprintln!("WARN {e} (will retry)"),
            Err(e) => {
                println!("FAIL {e}");
                return ExitCode::from(1);
            }
        }
        if once {
            return ExitCode::SUCCESS;
        }
        std::thread::sleep(std::time::Duration::from_secs(interval));
    }
}
