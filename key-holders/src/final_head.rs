//! `sign --server --heads FILE`: the board the protocol is computed from is the one the member
//! saw (review 18-stop27 M6).
//!
//! The protocol names its board by the final head's link (`final_head`, 11-election-protocol.md).
//! The board-key holder can sign a second chain at closing, before the protocol is drawn up, and
//! the members would sign its final head blind. With a head the member kept during voting (the
//! state file of `dobush-verifier watch`, a receipt's `tree_head` or a saved `…/board/head`), the
//! tool follows the board's signed chain from that head to the head whose link is `final_head`
//! (10-board.md §Tree heads: every head signed by the package's board key, for this election,
//! larger than the one before it, carrying its link as `previous`) and checks the RFC 9162
//! consistency proof between the two; otherwise it refuses to sign.

use anyhow::{Context, Result};
use dobush_crypto::board::{SignedTreeHead, verify_consistency};
use dobush_crypto::record::ElectionPackage;

use crate::Refused;
use crate::transport::Api;

/// Reads the head the member kept: a JSON array of heads (`watch`'s state: the last one), a
/// receipt (its `tree_head`) or one head.
pub fn read_kept(text: &str) -> Result<SignedTreeHead> {
    let v: serde_json::Value = serde_json::from_str(text).context("the kept heads are not JSON")?;
    let head = match &v {
        serde_json::Value::Array(a) => a.last().cloned().context("the kept heads file holds no head")?,
        serde_json::Value::Object(o) if o.contains_key("tree_head") => v["tree_head"].clone(),
        _ => v,
    };
    serde_json::from_value(head).context("the kept head is not a signed tree head")
}

/// Follows the board's chain from `kept` to the head whose link is `final_link` and checks the
/// consistency proof between them; returns that final head.
pub fn check(
    api: &Api,
    package: &ElectionPackage,
    kept: &SignedTreeHead,
    final_link: &[u8; 32],
) -> Result<SignedTreeHead> {
    let campaign = &package.manifest.campaign_id;
    let valid = |h: &SignedTreeHead| h.head.context == package.base_hash && h.verify(&package.board_key).is_ok();
    if !valid(kept) {
        return Err(Refused("the kept head is not a head of this election signed by its board key".into()).into());
    }
    let mut last = *kept;
    while last.head.link() != *final_link {
        let page: Vec<SignedTreeHead> = serde_json::from_str(
            &api.get_text(&format!("/api/v1/campaigns/{campaign}/board/heads?after={}", last.head.size))
                .context("cannot download the board's heads")?,
        )
        .context("the server's answer is not a list of heads")?;
        if page.is_empty() {
            return Err(Refused(format!(
                "the protocol's final head is not on the chain that follows the head you kept (size {}): \
                 the board was rewritten after you saw it, not signing",
                kept.head.size
            ))
            .into());
        }
        for h in page {
            if !valid(&h) || h.head.size <= last.head.size || h.head.previous != last.head.link() {
                return Err(Refused(format!(
                    "the board's head of size {} does not follow the chain from the head you kept: not signing",
                    h.head.size
                ))
                .into());
            }
            let done = h.head.link() == *final_link;
            last = h;
            if done {
                break;
            }
        }
    }
    if last.head.size > kept.head.size {
        #[derive(serde::Deserialize)]
        struct Proof {
            proof: Vec<String>,
        }
        let proof: Proof = serde_json::from_str(
            &api.get_text(&format!(
                "/api/v1/campaigns/{campaign}/board/consistency?first={}&second={}",
                kept.head.size, last.head.size
            ))
            .context("cannot download the consistency proof")?,
        )
        .context("the server's answer is not a consistency proof")?;
        let proof: Vec<[u8; 32]> = proof
            .proof
            .iter()
            .map(|h| hex::decode(h).ok().and_then(|b| <[u8; 32]>::try_from(b).ok()))
            .collect::<Option<_>>()
            .ok_or_else(|| Refused("the consistency proof is malformed".into()))?;
        verify_consistency(kept.head.size, &kept.head.root, last.head.size, &last.head.root, &proof).map_err(|_| {
            Refused("the protocol's board is not consistent with the head you kept: not signing".into())
        })?;
    }
    Ok(last)
}
