//! `verifier watch`: an observer polls the live board's signed tree heads, follows their chain
//! from the last head it kept (every head signed, each carrying the link of the one before it),
//! checks that the newest is consistent with the last kept one (RFC 9162 consistency proof), and
//! keeps it, so a server that shows different boards or a second chain to different people is
//! caught (`10-board.md` §Tree heads, §HTTP API).

use crate::board::{Hash, TreeHead, genesis, verify_consistency};

const USAGE: &str =
    "usage: dobush-verifier watch <board-url> --package <package.json> --state <heads.json> [--interval <s>] [--once]";

/// What the observer pins: the election's base hash and the board key.
pub struct Pinned {
    /// Base context hash.
    pub base_hash: [u8; 32],
    /// Board key.
    pub board_key: [u8; 32],
}

/// Checks a newly fetched head against the last kept one and keeps it: [`follow`] with a page
/// of one head. `proof` is the consistency proof from the last kept head's size to the new
/// head's size.
pub fn step(kept: &mut Vec<TreeHead>, new: TreeHead, proof: &[Hash], pin: &Pinned) -> Result<(), String> {
    follow(kept, std::slice::from_ref(&new), proof, pin)
}

/// Follows the chain (10-board.md §Tree heads) from the last kept head through `page`, the heads
/// the board signed after it, in order, and keeps the newest. Every head of the page must be of
/// this election, signed by the board key, larger than the one before it and carry the link of
/// the one before it as its `previous` (the first head of the board: the election's genesis);
/// the newest must be consistent (`proof`, RFC 9162) with the last kept one. A head already kept
/// (the same link) is skipped. So a board that shows this observer a second chain, or leaves
/// out a head it signed, is caught at the next poll, not only in the record.
pub fn follow(kept: &mut Vec<TreeHead>, page: &[TreeHead], proof: &[Hash], pin: &Pinned) -> Result<(), String> {
    for h in page {
        if h.context != pin.base_hash {
            return Err("the server sent a tree head of another election".into());
        }
        if !h.verify(&pin.board_key) {
            return Err(format!("tree head of size {}: signature invalid", h.size));
        }
    }
    let last = kept.last().copied();
    let page: Vec<&TreeHead> = page.iter().filter(|h| last.is_none_or(|l| h.link() != l.link())).collect();
    let Some(newest) = page.last().copied() else {
        return Ok(());
    };
    if let Some(l) = last {
        if newest.size < l.size {
            return Err(format!("the board shrank from {} to {} entries: history rewritten", l.size, newest.size));
        }
        if !verify_consistency(l.size, &l.root, newest.size, &newest.root, proof) {
            return Err(format!(
                "tree head of size {} is not consistent with the kept head of size {}: split view or rewritten history",
                newest.size, l.size
            ));
        }
    }
    let mut before = last;
    for h in &page {
        if let Some(b) = before
            && h.size <= b.size
        {
            return Err(format!(
                "a new head of {} entries after one of {}: the board signs one head per size, so history was rewritten",
                h.size, b.size
            ));
        }
        before = Some(**h);
    }
    let mut link = last.map_or_else(|| genesis(&pin.base_hash), |l| l.link());
    let mut time = last.map_or(0, |l| l.timestamp_ms);
    for h in &page {
        if h.previous != link {
            return Err(format!(
                "the chain is broken at the head of size {}: its previous is not the link of the head before it \
                 (a second chain, or a head the board signed and withheld)",
                h.size
            ));
        }
        if h.timestamp_ms < time {
            return Err("tree head timestamps go backwards".into());
        }
        (link, time) = (h.link(), h.timestamp_ms);
    }
    kept.push(*newest);
    Ok(())
}

fn get_json(url: &str) -> Result<serde_json::Value, String> {
    let mut resp = ureq::get(url).call().map_err(|e| format!("GET {url}: {e}"))?;
    let body = resp.body_mut().read_to_string().map_err(|e| format!("GET {url}: {e}"))?;
    crate::json::parse_str(&body).map_err(|e| format!("GET {url}: not JSON: {e}"))
}

/// Why a poll did not end with the new head kept.
#[derive(Debug)]
pub enum PollError {
    /// The server could not be reached or answered nonsense (`GET …`); nothing was checked.
    Unreachable(String),
    /// A check failed: the board is not what the kept heads say it is.
    Failed(String, Evidence),
}

/// What the server sent in the poll that failed, kept as it came (review 18-stop27 L4): the heads
/// are signed by the board key, so anyone can check them later; with the last head the observer
/// kept they show the forged head, the second chain or the rewritten history.
#[derive(Debug, Default)]
pub struct Evidence {
    /// Each GET of the poll and its answer, in order.
    pub responses: Vec<(String, serde_json::Value)>,
}

impl Evidence {
    /// The evidence file's JSON.
    pub fn to_json(&self, reason: &str, board_url: &str, kept: Option<&TreeHead>) -> serde_json::Value {
        serde_json::json!({
            "failure": reason,
            "board_url": board_url,
            "observed_at_ms": std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
            "last_kept_head": kept.map(head_json),
            "responses": self.responses.iter()
                .map(|(url, body)| serde_json::json!({"get": url, "body": body}))
                .collect::<Vec<_>>(),
        })
    }
}

/// One poll: follows the chain from the last kept head, a page of heads at a time
/// (`<board-url>/heads?after=SIZE`, 10-board.md §HTTP API) until the server has no newer head,
/// fetching for each page the consistency proof from the last kept head
/// (`<board-url>/consistency?first=M&second=N`), and checks each page with [`follow`]. Returns
/// the board's size.
pub fn poll(board_url: &str, kept: &mut Vec<TreeHead>, pin: &Pinned) -> Result<u64, PollError> {
    let mut evidence = Evidence::default();
    loop {
        let url = match kept.last() {
            Some(l) => format!("{board_url}/heads?after={}", l.size),
            None => format!("{board_url}/heads"),
        };
        let page = get_json(&url).map_err(PollError::Unreachable)?;
        evidence.responses.push((url, page.clone()));
        let failed = |e: String, ev: &Evidence| PollError::Failed(e, Evidence { responses: ev.responses.clone() });
        let page = match page.as_array() {
            Some(p) => p
                .iter()
                .map(|h| TreeHead::parse(h).map_err(|e| format!("the server's head: {}", e.0)))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| failed(e, &evidence))?,
            None => return Err(failed("heads: the server did not send a list".into(), &evidence)),
        };
        let Some(newest) = page.last() else {
            return Ok(kept.last().map_or(0, |h| h.size));
        };
        let proof = match kept.last() {
            Some(l) if l.size > 0 && l.size < newest.size => {
                let url = format!("{board_url}/consistency?first={}&second={}", l.size, newest.size);
                let v = get_json(&url).map_err(PollError::Unreachable)?;
                evidence.responses.push((url, v.clone()));
                v.get("proof")
                    .and_then(serde_json::Value::as_array)
                    .ok_or_else(|| failed("consistency: the server sent no proof".into(), &evidence))?
                    .iter()
                    .map(|h| {
                        crate::encoding::hex_n::<32>(h, "proof")
                            .map_err(|e| failed(format!("consistency: {}", e.0), &evidence))
                    })
                    .collect::<Result<Vec<_>, _>>()?
            }
            _ => Vec::new(),
        };
        let before = kept.len();
        follow(kept, &page, &proof, pin).map_err(|e| failed(e, &evidence))?;
        if kept.len() == before {
            // The server repeated heads already kept: it has nothing newer.
            return Ok(kept.last().map_or(0, |h| h.size));
        }
    }
}

/// Reads the kept heads (a missing file: none kept yet).
pub fn load_state(path: &str) -> Result<Vec<TreeHead>, String> {
    match std::fs::read_to_string(path) {
        Ok(s) => crate::json::parse_str(&s)
            .map_err(|e| e.to_string())
            .and_then(|v| v.as_array().cloned().ok_or_else(|| "the kept heads must be a JSON array".to_owned()))
            .and_then(|v| v.iter().map(|h| TreeHead::parse(h).map_err(|e| e.0)).collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e.to_string()),
    }
}

/// A head's JSON (the same as the server's `…/board/head`).
fn head_json(h: &TreeHead) -> serde_json::Value {
    serde_json::json!({"context": hex::encode(h.context), "size": h.size, "root": hex::encode(h.root),
        "timestamp_ms": h.timestamp_ms, "previous": hex::encode(h.previous),
        "signature": hex::encode(h.signature)})
}

/// Writes the kept heads (the same JSON as the server's `…/board/head`).
pub fn save_state(path: &str, kept: &[TreeHead]) -> Result<(), String> {
    let json: Vec<serde_json::Value> = kept.iter().map(head_json).collect();
    write_json(path, &serde_json::Value::from(json))
}

fn write_json(path: &str, v: &serde_json::Value) -> Result<(), String> {
    let text = serde_json::to_string_pretty(v).map_err(|e| e.to_string())?;
    let tmp = format!("{path}.part");
    std::fs::write(&tmp, text).map_err(|e| format!("{tmp}: {e}"))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{path}: {e}"))
}

/// Saves a failed poll's evidence beside the state file (`<state>.evidence-<ms>.json`, never
/// overwriting an earlier one) and returns its path.
pub fn save_evidence(state: &str, evidence: &serde_json::Value) -> Result<String, String> {
    let ms = evidence["observed_at_ms"].as_u64().unwrap_or(0);
    let mut path = format!("{state}.evidence-{ms}.json");
    let mut n = 1;
    while std::path::Path::new(&path).exists() {
        path = format!("{state}.evidence-{ms}-{n}.json");
        n += 1;
    }
    write_json(&path, evidence).map(|()| path)
}

/// `dobush-verifier watch <board-url> --package <package.json> --state <heads.json>
/// [--interval <s>] [--once]` (everything after `watch`); returns the exit code: 0 while (with
/// `--once`: when) every head is consistent, 1 on a failed check (split view, rewritten history,
/// forged head) or, with `--once`, when the server could not be polled, 2 on a usage error.
/// Without `--once` an unreachable server is a warning and the next poll retries. A failed check
/// saves what the server sent, with the last kept head, as evidence ([`save_evidence`]).
pub fn command(args: &[String]) -> u8 {
    let mut url = None;
    let (mut package, mut state, mut interval, mut once) = (None, None, 30u64, false);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--package" => package = it.next().cloned(),
            "--state" => state = it.next().cloned(),
            "--interval" => interval = it.next().and_then(|s| s.parse().ok()).unwrap_or(30),
            "--once" => once = true,
            u if url.is_none() => url = Some(u.trim_end_matches('/').to_owned()),
            other => {
                eprintln!("unexpected argument {other:?}\n{USAGE}");
                return 2;
            }
        }
    }
    let (Some(url), Some(package), Some(state)) = (url, package, state) else {
        eprintln!("{USAGE}");
        return 2;
    };
    let pin = match std::fs::read_to_string(&package)
        .map_err(|e| e.to_string())
        .and_then(|s| crate::json::parse_str(&s).map_err(|e| e.to_string()))
        .and_then(|v| crate::load::package_context(&v).map_err(|e| e.0))
    {
        Ok(c) => Pinned { base_hash: c.base_hash, board_key: c.board_key },
        Err(e) => {
            eprintln!("{package}: {e}");
            return 2;
        }
    };
    let mut kept = match load_state(&state) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("{state}: {e}");
            return 2;
        }
    };
    loop {
        match poll(&url, &mut kept, &pin) {
            Ok(size) => {
                if let Err(e) = save_state(&state, &kept) {
                    eprintln!("{e}");
                    return 2;
                }
                println!("OK   board has {size} entries; {} heads kept in {state}", kept.len());
            }
            Err(PollError::Unreachable(e)) if once => {
                println!("FAIL {e}: nothing checked");
                return 1;
            }
            Err(PollError::Unreachable(e)) => eprintln!("WARN {e} (will retry)"),
            Err(PollError::Failed(e, evidence)) => {
                println!("FAIL {e}");
                match save_evidence(&state, &evidence.to_json(&e, &url, kept.last())) {
                    Ok(path) => println!("     what the server sent is kept as evidence in {path}"),
                    Err(err) => eprintln!("the evidence could not be saved: {err}"),
                }
                return 1;
            }
        }
        if once {
            return 0;
        }
        std::thread::sleep(std::time::Duration::from_secs(interval));
    }
}
