//! The bulletin board's append-only Merkle log (RFC 9162 §2.1, as in Certificate Transparency)
//! and its signed tree heads (`docs/protocol/10-board.md`).
//!
//! Leaves are the exact bytes of board entries; `leaf hash = SHA-256(0x00 ‖ bytes)`, interior
//! `SHA-256(0x01 ‖ left ‖ right)`, and the hash of the empty tree is `SHA-256("")`. Inclusion
//! and consistency proofs follow RFC 9162 §2.1.3 and §2.1.4 exactly, so any CT tooling can check
//! them. A tree head is signed with the board's Ed25519 key over a message that binds the
//! election's base context hash.

use ed25519_dalek::Signer;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::group::bytes_hex;

/// A node hash.
pub type Hash = [u8; 32];

/// Errors of the Merkle log.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BoardError {
    /// A proof does not lead to the expected root.
    #[error("proof does not match the tree head")]
    ProofMismatch,
    /// Indexes or sizes are out of range.
    #[error("index or size out of range: {0}")]
    Range(&'static str),
    /// The tree-head signature is invalid.
    #[error("tree head signature is invalid")]
    Signature,
    /// A malformed key or signature encoding.
    #[error("malformed {0}")]
    Malformed(&'static str),
}

/// `SHA-256(0x00 ‖ entry)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    h.finalize().into()
}

/// `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The hash of the empty tree, `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The largest power of two strictly smaller than `n` (for `n ≥ 2`).
fn split(n: u64) -> u64 {
    let mut k = 1u64;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// An append-only Merkle tree that stores the hash of every complete, aligned subtree
/// (`levels[l][i]` covers leaves `i·2ˡ .. (i+1)·2ˡ`): O(log n) per append, O(log n) node reads
/// per proof, 2n hashes of memory.
#[derive(Clone, Debug, Default)]
pub struct MerkleLog {
    levels: Vec<Vec<Hash>>,
}

impl MerkleLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Appends a leaf given its leaf hash; returns its index.
    pub fn push_leaf_hash(&mut self, leaf: Hash) -> u64 {
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        let index = self.size();
        let mut node = leaf;
        let mut level = 0usize;
        while let Some(row) = self.levels.get_mut(level) {
            row.push(node);
            let n = row.len();
            if n % 2 == 1 {
                break;
            }
            let (Some(l), Some(r)) = (row.get(n - 2), row.get(n - 1)) else { break };
            node = node_hash(l, r);
            level += 1;
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
        }
        index
    }

    /// Drops every leaf from index `size` on (nothing if the log is not larger): the log is
    /// then exactly the log of its first `size` leaves. For a writer whose appends were rolled
    /// back (the server's group commit, docs/load.md); never used on a published log.
    pub fn truncate(&mut self, size: u64) {
        for (level, row) in self.levels.iter_mut().enumerate() {
            // `levels[l]` holds the ⌊n / 2ˡ⌋ complete subtrees of 2ˡ leaves
            let keep = size.checked_shr(level as u32).unwrap_or(0);
            row.truncate(usize::try_from(keep).unwrap_or(usize::MAX));
        }
    }

    /// Appends an entry; returns its index.
    pub fn push(&mut self, entry: &[u8]) -> u64 {
        self.push_leaf_hash(leaf_hash(entry))
    }

    /// The leaf hash at `index`.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        self.levels.first().and_then(|l| l.get(index as usize)).copied()
    }

    /// MTH of leaves `[a, b)` with `b ≤ size`, from stored complete subtrees.
    fn range_hash(&self, a: u64, b: u64) -> Result<Hash, BoardError> {
        let n = b.checked_sub(a).ok_or(BoardError::Range("range"))?;
        if b > self.size() {
            return Err(BoardError::Range("beyond the tree"));
        }
        if n == 0 {
            return Ok(empty_root());
        }
        if n.is_power_of_two() && a.is_multiple_of(n) {
            let level = n.trailing_zeros() as usize;
            return self
                .levels
                .get(level)
                .and_then(|row| row.get((a / n) as usize))
                .copied()
                .ok_or(BoardError::Range("missing node"));
        }
        let k = split(n);
        Ok(node_hash(&self.range_hash(a, a + k)?, &self.range_hash(a + k, b)?))
    }

    /// The root of the first `size` leaves (any earlier tree head can be recomputed).
    pub fn root_at(&self, size: u64) -> Result<Hash, BoardError> {
        self.range_hash(0, size)
    }

    /// The current root.
    pub fn root(&self) -> Hash {
        self.range_hash(0, self.size()).unwrap_or_else(|_| empty_root())
    }

    /// The inclusion proof of leaf `index` in the tree of the first `size` leaves
    /// (RFC 9162 §2.1.3.1, PATH), leaf-side first.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, BoardError> {
        if index >= size || size > self.size() {
            return Err(BoardError::Range("leaf index or tree size"));
        }
        let mut out = Vec::new();
        self.path(index, 0, size, &mut out)?;
        Ok(out)
    }

    fn path(&self, m: u64, a: u64, b: u64, out: &mut Vec<Hash>) -> Result<(), BoardError> {
        let n = b - a;
        if n <= 1 {
            return Ok(());
        }
        let k = split(n);
        if m < k {
            self.path(m, a, a + k, out)?;
            out.push(self.range_hash(a + k, b)?);
        } else {
            self.path(m - k, a + k, b, out)?;
            out.push(self.range_hash(a, a + k)?);
        }
        Ok(())
    }

    /// The consistency proof between the trees of sizes `old` and `new`
    /// (RFC 9162 §2.1.4.1, SUBPROOF).
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, BoardError> {
        if old > new || new > self.size() {
            return Err(BoardError::Range("tree sizes"));
        }
        let mut out = Vec::new();
        if old > 0 && old < new {
            self.subproof(old, 0, new, true, &mut out)?;
        }
        Ok(out)
    }

    fn subproof(&self, m: u64, a: u64, b: u64, complete: bool, out: &mut Vec<Hash>) -> Result<(), BoardError> {
        let n = b - a;
        if m == n {
            if !complete {
                out.push(self.range_hash(a, b)?);
            }
            return Ok(());
        }
        let k = split(n);
        if m <= k {
            self.subproof(m, a, a + k, complete, out)?;
            out.push(self.range_hash(a + k, b)?);
        } else {
            self.subproof(m - k, a + k, b, false, out)?;
            out.push(self.range_hash(a, a + k)?);
        }
        Ok(())
    }
}

/// Verifies an inclusion proof (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> Result<(), BoardError> {
    if index >= size {
        return Err(BoardError::Range("leaf index ≥ tree size"));
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(BoardError::ProofMismatch);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn == 0 && r == *root { Ok(()) } else { Err(BoardError::ProofMismatch) }
}

/// Verifies a consistency proof between `(old_size, old_root)` and `(new_size, new_root)`
/// (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    old_size: u64,
    old_root: &Hash,
    new_size: u64,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), BoardError> {
    if old_size > new_size {
        return Err(BoardError::Range("old size > new size"));
    }
    if old_size == new_size {
        return if proof.is_empty() && old_root == new_root { Ok(()) } else { Err(BoardError::ProofMismatch) };
    }
    if old_size == 0 {
        return if proof.is_empty() { Ok(()) } else { Err(BoardError::ProofMismatch) };
    }
    let mut path: Vec<Hash> = proof.to_vec();
    if old_size.is_power_of_two() {
        path.insert(0, *old_root);
    }
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let mut it = path.iter();
    let first = it.next().ok_or(BoardError::ProofMismatch)?;
    let (mut fr, mut sr) = (*first, *first);
    for c in it {
        if sn == 0 {
            return Err(BoardError::ProofMismatch);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn == 0 && fr == *old_root && sr == *new_root { Ok(()) } else { Err(BoardError::ProofMismatch) }
}

/// A tree head: the size and root of the log at a moment, bound to one election.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeHead {
    /// The election's base context hash.
    #[serde(with = "bytes_hex")]
    pub context: [u8; 32],
    /// Number of entries.
    pub size: u64,
    /// Root hash.
    #[serde(with = "bytes_hex")]
    pub root: Hash,
    /// Milliseconds since the Unix epoch (UTC) when the head was signed.
    pub timestamp_ms: u64,
    /// The link to the head signed before this one ([`TreeHead::link`]), or for the board's
    /// first head the election's [`TreeHead::genesis`] (`docs/protocol/10-board.md` §Tree heads):
    /// the heads form a chain, so none can be dropped from a record without breaking it.
    #[serde(with = "bytes_hex")]
    pub previous: Hash,
}

impl TreeHead {
    /// The `previous` of the first head of the election whose base hash is `context`:
    /// `SHA-256("dobush/v2/tree-head-genesis" ‖ context)`. Bound to the election, so that a chain
    /// started again (a server that lost its heads) is not mistaken for a first one.
    pub fn genesis(context: &[u8; 32]) -> Hash {
        let mut h = Sha256::new();
        h.update(b"dobush/v2/tree-head-genesis");
        h.update(context);
        h.finalize().into()
    }

    /// The signed message: `"dobush/v2/tree-head" ‖ context ‖ size (u64 BE) ‖ root ‖
    /// timestamp (u64 BE) ‖ previous`, 131 bytes.
    pub fn message(&self) -> Vec<u8> {
        let mut m = Vec::with_capacity(19 + 32 + 8 + 32 + 8 + 32);
        m.extend_from_slice(b"dobush/v2/tree-head");
        m.extend_from_slice(&self.context);
        m.extend_from_slice(&self.size.to_be_bytes());
        m.extend_from_slice(&self.root);
        m.extend_from_slice(&self.timestamp_ms.to_be_bytes());
        m.extend_from_slice(&self.previous);
        m
    }

    /// The link the next head carries as its `previous`: SHA-256 of this head's signed message.
    pub fn link(&self) -> Hash {
        Sha256::digest(self.message()).into()
    }
}

/// A tree head with the board's Ed25519 signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedTreeHead {
    /// The head.
    #[serde(flatten)]
    pub head: TreeHead,
    /// Ed25519 signature over [`TreeHead::message`].
    #[serde(with = "bytes_hex")]
    pub signature: [u8; 64],
}

/// The board's signing key (Ed25519). Kept by the server operator; see `docs/deploy.md`.
pub struct BoardKey(ed25519_dalek::SigningKey);

impl std::fmt::Debug for BoardKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BoardKey(public={}, secret=<redacted>)", hex::encode(self.0.verifying_key().as_bytes()))
    }
}

impl BoardKey {
    /// A fresh key.
    pub fn generate<R: rand_core::RngCore + rand_core::CryptoRng>(rng: &mut R) -> Self {
        Self(ed25519_dalek::SigningKey::generate(rng))
    }

    /// From the 32-byte secret seed.
    pub fn from_bytes(seed: &[u8; 32]) -> Self {
        Self(ed25519_dalek::SigningKey::from_bytes(seed))
    }

    /// The 32-byte secret seed, for storage by the operator.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The public key (32 bytes).
    pub fn public(&self) -> [u8; 32] {
        self.0.verifying_key().to_bytes()
    }

    /// Signs a tree head.
    pub fn sign(&self, head: TreeHead) -> SignedTreeHead {
        SignedTreeHead { head, signature: self.0.sign(&head.message()).to_bytes() }
    }

    /// Signs a 32-byte digest that starts its hash with a label of its own (only
    /// [`crate::labels::SHMT_EXPORT_DIGEST`], `crate::shmt`). A tree head's message is 131 bytes,
    /// so the two kinds of signed message never coincide.
    pub fn sign_digest(&self, digest: &[u8; 32]) -> [u8; 64] {
        self.0.sign(digest).to_bytes()
    }
}

impl SignedTreeHead {
    /// Verifies the signature with the board's public key (strict Ed25519 verification).
    pub fn verify(&self, board_public: &[u8; 32]) -> Result<(), BoardError> {
        let vk =
            ed25519_dalek::VerifyingKey::from_bytes(board_public).map_err(|_| BoardError::Malformed("board key"))?;
        let sig = ed25519_dalek::Signature::from_bytes(&self.signature);
        vk.verify_strict(&self.head.message(), &sig).map_err(|_| BoardError::Signature)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    /// RFC 9162 MTH, computed naively.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split(n as u64) as usize;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    fn log(n: usize) -> (MerkleLog, Vec<Hash>) {
        let mut l = MerkleLog::new();
        let mut leaves = Vec::new();
        for i in 0..n {
            let e = format!("entry {i}");
            leaves.push(leaf_hash(e.as_bytes()));
            assert_eq!(l.push(e.as_bytes()), i as u64);
        }
        (l, leaves)
    }

    #[test]
    fn roots_match_the_rfc_definition() {
        let (l, leaves) = log(70);
        assert_eq!(MerkleLog::new().root(), empty_root());
        for n in 0..=70 {
            assert_eq!(l.root_at(n as u64).unwrap(), mth(&leaves[..n]), "size {n}");
        }
    }

    #[test]
    fn a_truncated_log_is_the_log_of_its_prefix() {
        let (full, leaves) = log(70);
        for size in [0usize, 1, 2, 3, 31, 32, 33, 64, 69, 70] {
            let mut l = full.clone();
            l.truncate(size as u64);
            assert_eq!(l.size(), size as u64);
            assert_eq!(l.root(), mth(&leaves[..size]), "size {size}");
            // appending again gives the log built from scratch
            for (i, leaf) in leaves.iter().enumerate().skip(size) {
                assert_eq!(l.push_leaf_hash(*leaf), i as u64);
            }
            assert_eq!(l.root(), full.root(), "regrown from {size}");
            assert_eq!(l.inclusion_proof(5, 70).unwrap(), full.inclusion_proof(5, 70).unwrap());
        }
        let mut l = full.clone();
        l.truncate(100);
        assert_eq!(l.root(), full.root(), "truncating beyond the size changes nothing");
    }

    #[test]
    fn every_inclusion_proof_verifies_and_tampering_fails() {
        let (l, _) = log(37);
        for size in 1..=37u64 {
            let root = l.root_at(size).unwrap();
            for i in 0..size {
                let p = l.inclusion_proof(i, size).unwrap();
                let leaf = l.leaf(i).unwrap();
                verify_inclusion(&leaf, i, size, &p, &root).unwrap();
                assert!(verify_inclusion(&leaf, i, size, &p, &[0u8; 32]).is_err());
                if size > 1 {
                    assert!(verify_inclusion(&leaf, (i + 1) % size, size, &p, &root).is_err() || p.is_empty());
                    let mut bad = p.clone();
                    if let Some(h) = bad.first_mut() {
                        h[0] ^= 1;
                        assert!(verify_inclusion(&leaf, i, size, &bad, &root).is_err());
                    }
                    let mut longer = p.clone();
                    longer.push([0u8; 32]);
                    assert!(verify_inclusion(&leaf, i, size, &longer, &root).is_err());
                }
            }
        }
        // The RFC example shape: a 7-leaf tree, leaf 6 has a 2-element path.
        assert_eq!(l.inclusion_proof(6, 7).unwrap().len(), 2);
    }

    #[test]
    fn every_consistency_proof_verifies_and_a_forked_log_fails() {
        let (l, _) = log(33);
        for new in 0..=33u64 {
            for old in 0..=new {
                let p = l.consistency_proof(old, new).unwrap();
                let (ro, rn) = (l.root_at(old).unwrap(), l.root_at(new).unwrap());
                verify_consistency(old, &ro, new, &rn, &p).unwrap_or_else(|e| panic!("{old}→{new}: {e}"));
                if old > 0 && old < new {
                    let mut bad = p.clone();
                    bad[0][5] ^= 1;
                    assert!(verify_consistency(old, &ro, new, &rn, &bad).is_err());
                }
            }
        }
        // A split view: another log that rewrote entry 3 is not consistent with the first.
        let mut forked = MerkleLog::new();
        for i in 0..20 {
            forked.push(if i == 3 { b"rewritten".to_vec() } else { format!("entry {i}").into_bytes() }.as_slice());
        }
        let p = forked.consistency_proof(10, 20).unwrap();
        assert!(verify_consistency(10, &l.root_at(10).unwrap(), 20, &forked.root_at(20).unwrap(), &p).is_err());
    }

    #[test]
    fn tree_heads_are_signed_and_bound() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let key = BoardKey::generate(&mut rng);
        let (l, _) = log(5);
        let sth = key.sign(TreeHead {
            context: [9; 32],
            size: 5,
            root: l.root(),
            timestamp_ms: 1_680_000_000_000,
            previous: TreeHead::genesis(&[9; 32]),
        });
        sth.verify(&key.public()).unwrap();
        let mut bad = sth;
        bad.head.size = 4;
        assert_eq!(bad.verify(&key.public()), Err(BoardError::Signature));
        let mut bad = sth;
        bad.head.context[0] ^= 1;
        assert!(bad.verify(&key.public()).is_err());
        let mut bad = sth;
        bad.head.previous[31] ^= 1;
        assert_eq!(bad.verify(&key.public()), Err(BoardError::Signature));
        assert_eq!(sth.head.message().len(), 131);
        assert_ne!(sth.head.link(), bad.head.link());
        let mut bad = sth;
        bad.signature[10] ^= 1;
        assert!(bad.verify(&key.public()).is_err());
        let other = BoardKey::generate(&mut rng);
        assert!(sth.verify(&other.public()).is_err());
        let json = serde_json::to_string(&sth).unwrap();
        assert_eq!(serde_json::from_str::<SignedTreeHead>(&json).unwrap(), sth);
        assert!(format!("{key:?}").contains("redacted"));
    }
}
