//! How ceremony messages travel between key-holders. Today: files in a shared "ceremony
//! directory" (a USB stick or a shared folder relayed by the commission's secretary); later the
//! server's HTTP API. Everything else in this crate talks to a [`CeremonyDir`] only through
//! [`CeremonyDir::register`], [`CeremonyDir::key_holders`], [`CeremonyDir::publish`] and
//! [`CeremonyDir::fetch`], so replacing this module is the whole change.
//!
//! Layout:
//!
//! ```text
//! key-holders/<l>.json              KeyHolderPublic of key-holder l
//! round1/commitment-<i>.json        Signed<CommitmentHash> of dealer i
//! round2/reveal-<i>.json            Signed<DealerCommitments> of dealer i
//! round2/share-<i>-to-<l>.json      Signed<EncryptedShare> from dealer i to key-holder l
//! round3/complaints-<l>.json        [Signed<Complaint>] of key-holder l (an empty list: no complaint)
//! ```
//!
//! Messages are write-once: publishing different content into an occupied slot is refused.
//! Nothing secret is ever written here (shares are encrypted to their recipients).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use dobush_crypto::threshold::KeyHolderPublic;
use serde::Serialize;

use crate::read_json;
use serde::de::DeserializeOwned;

/// A message slot of the ceremony.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// Round 1: a dealer's signed commitment hash.
    CommitmentHash(u32),
    /// Round 2: a dealer's signed commitments and proofs.
    Reveal(u32),
    /// Round 2: a signed encrypted share `(dealer, recipient)`.
    Share(u32, u32),
    /// Round 3: a key-holder's signed complaints (possibly none).
    Complaints(u32),
}

impl Slot {
    fn relative_path(self) -> PathBuf {
        match self {
            Slot::CommitmentHash(i) => Path::new("round1").join(format!("commitment-{i}.json")),
            Slot::Reveal(i) => Path::new("round2").join(format!("reveal-{i}.json")),
            Slot::Share(i, l) => Path::new("round2").join(format!("share-{i}-to-{l}.json")),
            Slot::Complaints(l) => Path::new("round3").join(format!("complaints-{l}.json")),
        }
    }
}

/// The shared ceremony directory.
#[derive(Clone, Debug)]
pub struct CeremonyDir {
    root: PathBuf,
}

fn write_once(path: &Path, bytes: &[u8], what: &str) -> Result<()> {
    if path.exists() {
        let existing = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        if existing == bytes {
            return Ok(());
        }
        bail!(
            "{what} is already in the ceremony directory ({}) with different content; refusing to replace it",
            path.display()
        );
    }
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let tmp = path.with_extension("part");
    fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

impl CeremonyDir {
    /// The ceremony directory at `root` (created on first write).
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
        }
    }

    /// Adds a key-holder's public keys (after the in-person fingerprint check).
    pub fn register(&self, public: &KeyHolderPublic) -> Result<()> {
        let path = self
            .root
            .join("key-holders")
            .join(format!("{}.json", public.index));
        let bytes = serde_json::to_vec_pretty(public)?;
        write_once(&path, &bytes, &format!("key-holder {}", public.index))
    }

    /// Every registered key-holder, in index order. Each file's name must match its index.
    pub fn key_holders(&self) -> Result<Vec<KeyHolderPublic>> {
        let dir = self.root.join("key-holders");
        let entries = fs::read_dir(&dir)
            .with_context(|| format!("no key-holders registered in {}", dir.display()))?;
        let mut out = Vec::new();
        for entry in entries {
            let path = entry
                .with_context(|| format!("cannot list {}", dir.display()))?
                .path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let (p, _): (KeyHolderPublic, _) = read_json(&path)?;
            if path.file_stem().and_then(|s| s.to_str()) != Some(p.index.to_string().as_str()) {
                bail!(
                    "{} holds key-holder {}: file name and index differ",
                    path.display(),
                    p.index
                );
            }
            out.push(p);
        }
        out.sort_by_key(|p| p.index);
        Ok(out)
    }

    /// Publishes a message into its slot (write-once).
    pub fn publish<T: Serialize>(&self, slot: Slot, message: &T) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(message)?;
        write_once(
            &self.root.join(slot.relative_path()),
            &bytes,
            &format!("{slot:?}"),
        )
    }

    /// The message in a slot, if any. A slot whose content does not parse is an error.
    pub fn fetch<T: DeserializeOwned>(&self, slot: Slot) -> Result<Option<T>> {
        let path = self.root.join(slot.relative_path());
        if !path.exists() {
            return Ok(None);
        }
        Ok(Some(read_json(&path)?.0))
    }

    /// Whether a slot holds a message.
    pub fn has(&self, slot: Slot) -> bool {
        self.root.join(slot.relative_path()).exists()
    }
}
