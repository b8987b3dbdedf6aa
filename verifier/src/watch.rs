//! `verifier watch`: an observer polls the live board's signed tree head, checks that every new
//! head is consistent with the last one it kept (RFC 9162 consistency proof), and keeps them all,
//! so a server that shows different boards to different people is caught (`10-board.md` §HTTP API).

use crate::board::{verify_consistency, Hash, TreeHead};

/// What the observer pins: the election's base hash and the board key.
pub struct Pinned {
    /// Base context hash.
    pub base_hash: [u8; 32],
    /// Board key.
    pub board_key: [u8; 32],
}

/// Checks a newly fetched head against the last kept one and keeps it. `proof` is the
/// consistency proof from the last kept head's size to the new head's size.
pub fn step(kept: &mut Vec<TreeHead>, new: TreeHead, proof: &[Hash], pin: &Pinned) -> Result<(), String> {
    if new.context != pin.base_hash {
        return Err("the server sent a tree head of another election".into());
    }
    if !new.verify(&pin.board_key) {
        return Err(format!("tree head of size {}: signature invalid", new.size));
    }
    if let Some(last) = kept.last() {
        if new.size < last.size {
            return Err(format!("the board shrank from {} to {} entries: history rewritten", last.size, new.size));
        }
        if !verify_consistency(last.size, &last.root, new.size, &new.root, proof) {
            return Err(format!(
                "tree head of size {} is not consistent with the kept head of size {}: split view or rewritten history",
                new.size, last.size
            ));
        }
        if new.timestamp_ms < last.timestamp_ms {
            return Err("tree head timestamps go backwards".into());
        }
        if new.size == last.size && new.root == last.root {
            return Ok(());
        }
    }
    kept.push(new);
    Ok(())
}
