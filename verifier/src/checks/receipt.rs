//! V17 `receipt`, the `receipt` command's own check, after the record's
//! (`docs/record-format.md` §Tree heads and receipts; `10-board.md` §Receipt): the receipt's tree
//! head is signed by the board key for this election, the inclusion proof leads to its root, that
//! head is a prefix of the final board (so the final head is consistent with it), the entry on the
//! board at the receipt's position is exactly the receipt's entry, a cast ballot of the package's
//! format (not challenged), and, on a v1 board, not superseded. It says **recorded**: on a v2
//! board whether the ballot counts is proved for all ballots at once by the filter, never per
//! receipt (13-revoting.md §4.2, issue 19), so its answer is the same whether or not the voter
//! voted again.

use serde_json::Value;

use crate::board::{self, Hash, TreeHead};
use crate::checks::Check;
use crate::encoding::{Decoded, array, exact, field, hex_n, string, uint};
use crate::load;
use crate::report::Running;

/// How it runs: `record.json`, `board.jsonl` and the receipt's JSON in.
pub type Run = fn(&str, &[u8], &str, &mut Running);

/// The check.
pub const CHECK: Check<Run> = Check {
    id: "V17",
    name: "receipt",
    description: "the voter's receipt: signed head, inclusion, consistency with the final head, recorded",
    run,
};

fn run(record_json: &str, board_jsonl: &[u8], receipt_json: &str, c: &mut Running) {
    c.items(1);
    if let Err(m) = check(record_json, board_jsonl, receipt_json) {
        c.fail(m);
    }
}

/// The fields of a receipt (record-format.md §Tree heads and receipts); any other is refused.
pub const RECEIPT_FIELDS: &[&str] = &["tracking_code", "index", "entry", "tree_head", "inclusion_proof"];

fn check(record_json: &str, board_jsonl: &[u8], receipt_json: &str) -> Result<(), String> {
    let rec: Value = crate::json::parse_str(record_json).map_err(|e| e.to_string())?;
    let ctx = load::context(&rec).map_err(|e| e.0)?;
    let v: Value = crate::json::parse_str(receipt_json).map_err(|e| format!("receipt is not JSON: {e}"))?;
    exact(&v, RECEIPT_FIELDS, "receipt").map_err(|e| e.0)?;
    let head = TreeHead::parse(field(&v, "tree_head", "receipt").map_err(|e| e.0)?)
        .map_err(|e| format!("receipt tree_head: {}", e.0))?;
    if head.context != ctx.base_hash || !head.verify(&ctx.board_key) {
        return Err("the receipt's tree head is not signed by this election's board".into());
    }
    // Every head the board signed is in the record's chain (10-board.md §Tree heads): a valid
    // head that is not is one the board signed and did not publish (review
    // 18-parameters-and-head-chain H3).
    let heads = array(&rec, "tree_heads", "record")
        .and_then(|a| a.iter().map(TreeHead::parse).collect::<Decoded<Vec<_>>>())
        .map_err(|e| e.0)?;
    if !heads.iter().any(|h| h.link() == head.link()) {
        return Err("the receipt's tree head is signed by this election's board but is not in the record's chain of \
                    heads: the board signed a head it did not publish"
            .into());
    }
    let index = uint(&v, "index", "receipt").map_err(|e| e.0)?;
    let entry = string(&v, "entry", "receipt").map_err(|e| e.0)?;
    let code =
        hex_n::<32>(field(&v, "tracking_code", "receipt").map_err(|e| e.0)?, "tracking_code").map_err(|e| e.0)?;
    let proof: Vec<Hash> = array(&v, "inclusion_proof", "receipt")
        .map_err(|e| e.0)?
        .iter()
        .map(|h| hex_n::<32>(h, "inclusion proof"))
        .collect::<Decoded<_>>()
        .map_err(|e| e.0)?;
    if !board::verify_inclusion(&board::leaf(entry.as_bytes()), index, head.size, &proof, &head.root) {
        return Err("the inclusion proof does not lead to the receipt's tree head".into());
    }
    let lines = load::board_lines(board_jsonl);
    let leaves: Vec<Hash> = lines.iter().map(|l| board::leaf(l)).collect();
    if board::roots_at(&leaves, &[head.size]).first() != Some(&head.root) {
        return Err(
            "the receipt's tree head is not consistent with the published board (split view or rewritten history)"
                .into(),
        );
    }
    if lines.get(index as usize).copied() != Some(entry.as_bytes()) {
        return Err(format!("board position {index} does not hold the receipt's entry"));
    }
    let ev: Value = crate::json::parse_str(&entry).map_err(|e| e.to_string())?;
    let cast_type = if ctx.parameters.is_v2() { "ballot_v2" } else { "ballot" };
    if ev.get("type").and_then(Value::as_str) != Some(cast_type)
        || hex_n::<32>(ev.get("tracking_code").unwrap_or(&Value::Null), "entry").ok() != Some(code)
    {
        return Err("the receipt's entry is not a cast ballot with the receipt's tracking code".into());
    }
    let hex_code = Value::from(hex::encode(code));
    for l in &lines {
        let Ok(e) = crate::json::parse(l) else { continue };
        if e.get("type").and_then(Value::as_str) == Some("superseded") && e.get("tracking_code") == Some(&hex_code) {
            return Err("the ballot was superseded by a later ballot of the same credential".into());
        }
    }
    Ok(())
}
