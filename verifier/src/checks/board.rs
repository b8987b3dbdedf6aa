//! V04 `board` (`docs/record-format.md` §Verifier checklist, item 3): the Merkle log recomputed
//! from the entries' exact bytes, every tree head's signature, context and root, the heads a chain
//! (each `previous` the link of the one before: none dropped, repeated or moved), heads never going
//! back in time, the final head covering the whole board, and a head saved earlier (`--since`) a
//! prefix of it (`10-board.md` §Leaves, §Tree heads; RFC 9162 §2.1).

use std::collections::BTreeMap;

use crate::board::{self, Hash, TreeHead};
use crate::checks::{Check, Step};
use crate::encoding::{Decoded, Invalid, array};
use crate::findings::Findings;
use crate::load::Context;
use crate::report::Running;

/// The check.
pub const CHECK: Check<Step> = Check {
    id: "V04",
    name: "board",
    description: "Merkle log recomputed, every tree head signed and consistent",
    run,
};

fn run(f: &mut Findings<'_>, c: &mut Running) {
    c.require(f.board_jsonl.is_empty() || f.board_jsonl.ends_with(b"\n"), || {
        "board.jsonl must end with a newline".into()
    });
    let leaves: Vec<Hash> = f.lines.iter().map(|l| board::leaf(l)).collect();
    c.items(f.lines.len() as u64);
    f.heads = match array(&f.record, "tree_heads", "record").and_then(|a| {
        a.iter()
            .enumerate()
            .map(|(i, h)| TreeHead::parse(h).map_err(|e| Invalid(format!("record.json tree_heads[{i}]: {e}"))))
            .collect::<Decoded<Vec<_>>>()
    }) {
        Ok(h) => h,
        Err(e) => {
            c.fail(e.0);
            Vec::new()
        }
    };
    check_heads(&f.heads, &leaves, &f.ctx, f.since, c);
}

fn check_heads(heads: &[TreeHead], leaves: &[Hash], ctx: &Context, since: Option<&TreeHead>, c: &mut Running) {
    if heads.is_empty() {
        c.fail("no tree heads");
        return;
    }
    let mut sizes: Vec<u64> = heads.iter().map(|h| h.size).collect();
    if let Some(s) = since {
        sizes.push(s.size);
    }
    sizes.sort_unstable();
    sizes.dedup();
    let roots: BTreeMap<u64, Hash> = sizes.iter().copied().zip(board::roots_at(leaves, &sizes)).collect();
    let mut prev: Option<&TreeHead> = None;
    for (i, h) in heads.iter().enumerate() {
        // the heads are a chain (10-board.md §Tree heads): a head dropped, repeated or moved breaks it
        let link = prev.map_or_else(|| board::genesis(&ctx.base_hash), TreeHead::link);
        c.require(h.previous == link, || {
            format!("tree head {i} (size {}): not chained to the head before it (a head is missing or moved)", h.size)
        });
        c.require(h.verify(&ctx.board_key), || format!("tree head {i} (size {}): signature invalid", h.size));
        c.require(h.context == ctx.base_hash, || format!("tree head {i}: belongs to another election"));
        match roots.get(&h.size) {
            Some(r) => {
                c.require(*r == h.root, || format!("tree head {i} (size {}): root differs from the board's", h.size))
            }
            None => c.fail(format!("tree head {i}: size {} exceeds the board ({} entries)", h.size, leaves.len())),
        }
        if let Some(p) = prev {
            c.require(p.size <= h.size && p.timestamp_ms <= h.timestamp_ms, || {
                format!("tree head {i}: older than head {}", i - 1)
            });
        }
        prev = Some(h);
    }
    if let Some(last) = heads.last() {
        c.require(last.size == leaves.len() as u64, || {
            format!("final tree head covers {} entries but the board has {}", last.size, leaves.len())
        });
    }
    if let Some(s) = since {
        c.require(s.verify(&ctx.board_key), || "saved head: signature invalid".into());
        c.require(heads.iter().any(|h| h.link() == s.link()), || {
            format!("saved head (size {}) is not in the record's chain of heads: the board signed a head it did not publish", s.size)
        });
        c.require(roots.get(&s.size) == Some(&s.root), || {
            format!("saved head (size {}) is not a prefix of this board: split view or rewritten history", s.size)
        });
    }
}
