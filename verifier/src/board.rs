//! The board's Merkle log (`10-board.md`, RFC 9162 §2.1), recomputed from the entries' exact
//! bytes, and signed tree heads.

use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};

/// A 32-byte hash.
pub type Hash = [u8; 32];

/// `SHA-256(0x00 ‖ entry)`.
pub fn leaf(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    h.finalize().into()
}

/// `SHA-256(0x01 ‖ l ‖ r)`.
pub fn node(l: &Hash, r: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(l);
    h.update(r);
    h.finalize().into()
}

/// The roots of every prefix size in `sizes` (sorted ascending), computed in one pass with the
/// stack of perfect subtrees: after `n` leaves the stack holds the perfect subtrees of the binary
/// decomposition of `n`, and MTH(D[n]) folds them from the right.
pub fn roots_at(leaves: &[Hash], sizes: &[u64]) -> Vec<Hash> {
    let mut out = Vec::with_capacity(sizes.len());
    let mut stack: Vec<(u64, Hash)> = Vec::new();
    let mut want = sizes.iter().peekable();
    let mut n = 0u64;
    let fold = |stack: &[(u64, Hash)]| -> Hash {
        let mut it = stack.iter().rev();
        match it.next() {
            None => Sha256::digest([]).into(),
            Some((_, first)) => it.fold(*first, |acc, (_, h)| node(h, &acc)),
        }
    };
    while let Some(&&s) = want.peek() {
        if s == n {
            out.push(fold(&stack));
            want.next();
            continue;
        }
        let Some(l) = leaves.get(n as usize) else { break };
        let mut cur = (1u64, *l);
        while let Some(top) = stack.last() {
            if top.0 != cur.0 {
                break;
            }
            let (size, h) = (top.0, top.1);
            stack.pop();
            cur = (size * 2, node(&h, &cur.1));
        }
        stack.push(cur);
        n += 1;
    }
    out
}

/// RFC 9162 §2.1.3.2.
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return false;
        }
        if f % 2 == 1 || f == s {
            r = node(p, &r);
            while f % 2 == 0 && f != 0 {
                f /= 2;
                s /= 2;
            }
        } else {
            r = node(&r, p);
        }
        f /= 2;
        s /= 2;
    }
    s == 0 && r == *root
}

/// RFC 9162 §2.1.4.2.
pub fn verify_consistency(m: u64, old: &Hash, n: u64, new: &Hash, proof: &[Hash]) -> bool {
    if m > n {
        return false;
    }
    if m == n {
        return proof.is_empty() && old == new;
    }
    if m == 0 {
        return proof.is_empty();
    }
    let mut path = proof.to_vec();
    if m.is_power_of_two() {
        path.insert(0, *old);
    }
    let (mut f, mut s) = (m - 1, n - 1);
    while f % 2 == 1 {
        f /= 2;
        s /= 2;
    }
    let Some(first) = path.first() else { return false };
    let (mut fr, mut sr) = (*first, *first);
    for c in path.iter().skip(1) {
        if s == 0 {
            return false;
        }
        if f % 2 == 1 || f == s {
            fr = node(c, &fr);
            sr = node(c, &sr);
            while f % 2 == 0 && f != 0 {
                f /= 2;
                s /= 2;
            }
        } else {
            sr = node(&sr, c);
        }
        f /= 2;
        s /= 2;
    }
    s == 0 && fr == *old && sr == *new
}

/// The `previous` of an election's first head: SHA-256("dobush/v2/tree-head-genesis" ‖ base hash).
pub fn genesis(context: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update(b"dobush/v2/tree-head-genesis");
    h.update(context);
    h.finalize().into()
}

/// The fields of a signed tree head (record-format.md §Tree heads and receipts); any other is
/// refused.
pub const TREE_HEAD_FIELDS: &[&str] = &["context", "size", "root", "timestamp_ms", "previous", "signature"];

/// A signed tree head as published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeHead {
    /// Base context hash.
    pub context: Hash,
    /// Size.
    pub size: u64,
    /// Root.
    pub root: Hash,
    /// Timestamp.
    pub timestamp_ms: u64,
    /// The link to the head before it ([`genesis`] for the first).
    pub previous: Hash,
    /// Ed25519 signature.
    pub signature: [u8; 64],
}

impl TreeHead {
    /// Parses the JSON form.
    pub fn parse(v: &serde_json::Value) -> crate::encoding::Decoded<Self> {
        use crate::encoding::{exact, field, hex_n, uint};
        let w = "tree head";
        exact(v, TREE_HEAD_FIELDS, w)?;
        Ok(Self {
            context: hex_n(field(v, "context", w)?, w)?,
            size: uint(v, "size", w)?,
            root: hex_n(field(v, "root", w)?, w)?,
            timestamp_ms: uint(v, "timestamp_ms", w)?,
            previous: hex_n(field(v, "previous", w)?, w)?,
            signature: hex_n(field(v, "signature", w)?, w)?,
        })
    }

    /// The signed message (10-board.md §Tree heads), 131 bytes.
    fn message(&self) -> Vec<u8> {
        let mut m = Vec::with_capacity(131);
        m.extend_from_slice(b"dobush/v2/tree-head");
        m.extend_from_slice(&self.context);
        m.extend_from_slice(&self.size.to_be_bytes());
        m.extend_from_slice(&self.root);
        m.extend_from_slice(&self.timestamp_ms.to_be_bytes());
        m.extend_from_slice(&self.previous);
        m
    }

    /// The link the next head must carry as its `previous`: SHA-256 of this head's message.
    pub fn link(&self) -> Hash {
        Sha256::digest(self.message()).into()
    }

    /// Strict Ed25519 verification of the head under the board key.
    pub fn verify(&self, board_key: &[u8; 32]) -> bool {
        let Ok(vk) = VerifyingKey::from_bytes(board_key) else { return false };
        vk.verify_strict(&self.message(), &Signature::from_bytes(&self.signature)).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mth(l: &[Hash]) -> Hash {
        match l.len() {
            0 => Sha256::digest([]).into(),
            1 => l[0],
            n => {
                let mut k = 1;
                while k * 2 < n {
                    k *= 2;
                }
                node(&mth(&l[..k]), &mth(&l[k..]))
            }
        }
    }

    #[test]
    fn prefix_roots_match_the_rfc_definition() {
        let leaves: Vec<Hash> = (0..50u32).map(|i| leaf(&i.to_le_bytes())).collect();
        let sizes: Vec<u64> = (0..=50).collect();
        let roots = roots_at(&leaves, &sizes);
        for (s, r) in sizes.iter().zip(&roots) {
            assert_eq!(*r, mth(&leaves[..*s as usize]), "size {s}");
        }
    }
}
