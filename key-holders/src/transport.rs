//! How ceremony messages travel between key-holders: through a [`Relay`], which is either a
//! shared "ceremony directory" (a USB stick or a shared folder relayed by the commission's
//! secretary, [`CeremonyDir`]) or the server's HTTP API ([`ServerRelay`], `--server URL` with a
//! bearer token from `DOBUSH_TOKEN`; `docs/server.md` §Key ceremony). Everything else in this crate
//! talks to a relay only through [`Relay::register`], [`Relay::key_holders`], [`Relay::publish`],
//! [`Relay::fetch`], [`Relay::has`] and (server only) [`Relay::threshold`] and
//! [`Relay::published_outcome`].
//!
//! Directory layout:
//!
//! ```text
//! key-holders/<l>.json              KeyHolderPublic of key-holder l
//! round1/commitment-<i>.json        Signed<CommitmentHash> of dealer i
//! round2/reveal-<i>.json            Signed<DealerCommitments> of dealer i
//! round2/share-<i>-to-<l>.json      Signed<EncryptedShare> from dealer i to key-holder l
//! round3/complaints-<l>.json        [Signed<Complaint>] of key-holder l (an empty list: no complaint)
//! ```
//!
//! The server has the same slots (`POST /api/campaigns/{id}/ceremony/{key-holders,
//! commitment-hashes, reveals, shares, complaints}`, read back from `GET …/ceremony` and
//! `GET …/ceremony/transcript`). Messages are write-once on both: publishing different content
//! into an occupied slot is refused. Nothing secret is ever sent (shares are encrypted to their
//! recipients).

use std::fs;
use std::path::{Path, PathBuf};

use std::cell::RefCell;

use anyhow::{Context, Result, anyhow, bail};
use dobush_crypto::threshold::KeyHolderPublic;
use dobush_crypto::threshold::dkg::{CeremonyOutcome, CeremonyTranscript};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::read_json;

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
        fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let tmp = path.with_extension("part");
    fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

impl CeremonyDir {
    /// The ceremony directory at `root` (created on first write).
    pub fn new(root: &Path) -> Self {
        Self { root: root.to_path_buf() }
    }

    /// Adds a key-holder's public keys (after the in-person fingerprint check).
    pub fn register(&self, public: &KeyHolderPublic) -> Result<()> {
        let path = self.root.join("key-holders").join(format!("{}.json", public.index));
        let bytes = serde_json::to_vec_pretty(public)?;
        write_once(&path, &bytes, &format!("key-holder {}", public.index))
    }

    /// Every registered key-holder, in index order. Each file's name must match its index.
    pub fn key_holders(&self) -> Result<Vec<KeyHolderPublic>> {
        let dir = self.root.join("key-holders");
        let entries = fs::read_dir(&dir).with_context(|| format!("no key-holders registered in {}", dir.display()))?;
        let mut out = Vec::new();
        for entry in entries {
            let path = entry.with_context(|| format!("cannot list {}", dir.display()))?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let (p, _): (KeyHolderPublic, _) = read_json(&path)?;
            if path.file_stem().and_then(|s| s.to_str()) != Some(p.index.to_string().as_str()) {
                bail!("{} holds key-holder {}: file name and index differ", path.display(), p.index);
            }
            out.push(p);
        }
        out.sort_by_key(|p| p.index);
        Ok(out)
    }

    /// Publishes a message into its slot (write-once).
    pub fn publish<T: Serialize>(&self, slot: Slot, message: &T) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(message)?;
        write_once(&self.root.join(slot.relative_path()), &bytes, &format!("{slot:?}"))
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

/// The relay of a ceremony: a shared directory or the server.
#[derive(Debug)]
pub enum Relay {
    /// Files in a shared ceremony directory.
    Dir(CeremonyDir),
    /// The server's HTTP API.
    Server(Box<ServerRelay>),
}

impl Relay {
    /// Registers a key-holder's public keys (after the in-person fingerprint check).
    pub fn register(&self, public: &KeyHolderPublic) -> Result<()> {
        match self {
            Self::Dir(d) => d.register(public),
            Self::Server(s) => s.register(public),
        }
    }

    /// Every registered key-holder, in index order (the server: only once all `n` are).
    pub fn key_holders(&self) -> Result<Vec<KeyHolderPublic>> {
        match self {
            Self::Dir(d) => d.key_holders(),
            Self::Server(s) => s.key_holders(),
        }
    }

    /// Publishes a message into its slot (write-once).
    pub fn publish<T: Serialize>(&self, slot: Slot, message: &T) -> Result<()> {
        match self {
            Self::Dir(d) => d.publish(slot, message),
            Self::Server(s) => s.publish(slot, message),
        }
    }

    /// The message in a slot, if any.
    pub fn fetch<T: DeserializeOwned>(&self, slot: Slot) -> Result<Option<T>> {
        match self {
            Self::Dir(d) => d.fetch(slot),
            Self::Server(s) => s.fetch(slot),
        }
    }

    /// Whether a slot holds a message.
    pub fn has(&self, slot: Slot) -> Result<bool> {
        match self {
            Self::Dir(d) => Ok(d.has(slot)),
            Self::Server(s) => Ok(s.fetch::<Value>(slot)?.is_some()),
        }
    }

    /// The threshold the relay was configured with (the server), to compare with the one the
    /// commission fixed.
    pub fn threshold(&self) -> Result<Option<u32>> {
        match self {
            Self::Dir(_) => Ok(None),
            Self::Server(s) => s.threshold().map(Some),
        }
    }

    /// The outcome the relay published (the server's evaluation), if any.
    pub fn published_outcome(&self) -> Result<Option<CeremonyOutcome>> {
        match self {
            Self::Dir(_) => Ok(None),
            Self::Server(s) => s.outcome(),
        }
    }
}

/// A client of the server's HTTP API: the base URL, and the bearer token of the key-holder's
/// session (from `DOBUSH_TOKEN`), sent with every write. Used by the ceremony relay
/// ([`ServerRelay`]) and by `tally --server` and `sign --server`.
#[derive(Debug)]
pub struct Api {
    base: String,
    token: Option<String>,
    http: reqwest::blocking::Client,
}

impl Api {
    /// The server at `base` (e.g. `https://dobush.example`). `token`: the bearer token, required
    /// by the writes that need a session (ceremony messages, decryption shares).
    pub fn new(base: &str, token: Option<&str>) -> Result<Self> {
        let http = reqwest::blocking::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Self {
            base: base.trim_end_matches('/').to_string(),
            token: token.map(str::trim).filter(|t| !t.is_empty()).map(str::to_string),
            http,
        })
    }

    /// [`Api::new`] with the token taken from `DOBUSH_TOKEN` (absent or empty: none).
    pub fn from_env(base: &str) -> Result<Self> {
        Self::new(base, std::env::var("DOBUSH_TOKEN").ok().as_deref())
    }

    /// Whether a bearer token is set.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn send_get(&self, path: &str) -> Result<(String, reqwest::blocking::Response)> {
        let url = self.url(path);
        let r = self.http.get(&url).send().with_context(|| format!("cannot reach {url}"))?;
        Ok((url, r))
    }

    /// `GET path`: the status, and the parsed answer if it succeeded.
    pub fn get_opt<T: DeserializeOwned>(&self, path: &str) -> Result<(u16, Option<T>)> {
        let (url, r) = self.send_get(path)?;
        let status = r.status().as_u16();
        if r.status().is_success() {
            let v = r.json().with_context(|| format!("{url}: malformed answer"))?;
            return Ok((status, Some(v)));
        }
        Ok((status, None))
    }

    /// `GET path`, the answer's text; an error answer is an error naming the server's message.
    pub fn get_text(&self, path: &str) -> Result<String> {
        let (url, r) = self.send_get(path)?;
        if !r.status().is_success() {
            return Err(refusal(r));
        }
        r.text().with_context(|| format!("{url}: cannot read the answer"))
    }

    /// `GET path`: the answer's exact bytes (a record file whose hash the board binds).
    pub fn get_bytes(&self, path: &str) -> Result<Vec<u8>> {
        let (url, r) = self.send_get(path)?;
        if !r.status().is_success() {
            return Err(refusal(r));
        }
        Ok(r.bytes().with_context(|| format!("{url}: cannot read the answer"))?.to_vec())
    }

    /// `POST path` with a JSON body (and the bearer token, if any); the JSON answer (`null` if
    /// none). An error answer is an error naming the server's code, message and field.
    pub fn post(&self, path: &str, body: &Value) -> Result<Value> {
        let url = self.url(path);
        let mut req = self.http.post(&url).json(body);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        let r = req.send().with_context(|| format!("cannot reach {url}"))?;
        if !r.status().is_success() {
            return Err(refusal(r));
        }
        let text = r.text().with_context(|| format!("{url}: cannot read the answer"))?;
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).with_context(|| format!("{url}: malformed answer"))
    }
}

/// The server's error answer (`docs/server.md` §Errors) as an error.
fn refusal(r: reqwest::blocking::Response) -> anyhow::Error {
    let status = r.status().as_u16();
    let e: Value = r.json().unwrap_or(Value::Null);
    let field = e["field"].as_str().map(|f| format!(" (field {f})")).unwrap_or_default();
    anyhow!(
        "the server refused it: HTTP {status} {}: {}{field}",
        e["error"].as_str().unwrap_or("?"),
        e["message"].as_str().unwrap_or("no message")
    )
}

/// The server's HTTP API as the relay of one campaign's ceremony. Reads are cached until the
/// next publish (one command makes many reads of the same state).
#[derive(Debug)]
pub struct ServerRelay {
    api: Api,
    campaign: String,
    cache: RefCell<Option<(Value, CeremonyTranscript)>>,
}

impl ServerRelay {
    /// The server at `base` (e.g. `https://dobush.example`), campaign `campaign`, bearer `token`
    /// (a key-holder's session token).
    pub fn new(base: &str, campaign: &str, token: &str) -> Result<Self> {
        if token.trim().is_empty() {
            bail!("--server needs the key-holder's session token in DOBUSH_TOKEN");
        }
        Ok(Self { api: Api::new(base, Some(token))?, campaign: campaign.to_string(), cache: RefCell::new(None) })
    }

    fn path(&self, what: &str) -> String {
        format!("/api/campaigns/{}/ceremony{what}", self.campaign)
    }

    fn get<T: DeserializeOwned>(&self, what: &str) -> Result<(u16, Option<T>)> {
        self.api.get_opt(&self.path(what))
    }

    fn state(&self) -> Result<(Value, CeremonyTranscript)> {
        if let Some(c) = self.cache.borrow().as_ref() {
            return Ok(c.clone());
        }
        let (status, v) = self.get::<Value>("")?;
        let v = v.ok_or_else(|| {
            anyhow!("the server has no key ceremony for campaign {:?} (HTTP {status})", self.campaign)
        })?;
        let (_, t) = self.get::<CeremonyTranscript>("/transcript")?;
        let t = t.ok_or_else(|| anyhow!("the server did not answer the ceremony transcript"))?;
        *self.cache.borrow_mut() = Some((v.clone(), t.clone()));
        Ok((v, t))
    }

    fn post(&self, what: &str, body: &Value) -> Result<()> {
        *self.cache.borrow_mut() = None;
        self.api.post(&self.path(what), body).map(|_| ())
    }

    fn register(&self, public: &KeyHolderPublic) -> Result<()> {
        self.post("/key-holders", &serde_json::to_value(public)?)
    }

    fn threshold(&self) -> Result<u32> {
        let (v, _) = self.state()?;
        v["t"]
            .as_u64()
            .and_then(|t| u32::try_from(t).ok())
            .ok_or_else(|| anyhow!("the server's ceremony state has no t"))
    }

    fn key_holders(&self) -> Result<Vec<KeyHolderPublic>> {
        let (v, _) = self.state()?;
        let list =
            v["key_holders"].as_array().ok_or_else(|| anyhow!("the server's ceremony state lists no key-holders"))?;
        let missing: Vec<String> =
            list.iter().filter(|k| k["registered"] != Value::Bool(true)).map(|k| k["index"].to_string()).collect();
        if !missing.is_empty() {
            bail!("not every key-holder has registered with the server yet: missing {}", missing.join(", "));
        }
        list.iter()
            .map(|k| {
                let p = json!({ "index": k["index"], "signing_key": k["signing_key"], "comm_key": k["comm_key"] });
                serde_json::from_value(p).context("the server lists a malformed key-holder")
            })
            .collect()
    }

    fn publish<T: Serialize>(&self, slot: Slot, message: &T) -> Result<()> {
        let body = serde_json::to_value(message)?;
        match slot {
            Slot::CommitmentHash(_) => self.post("/commitment-hashes", &body),
            Slot::Reveal(_) => self.post("/reveals", &body),
            Slot::Share(..) => self.post("/shares", &body),
            Slot::Complaints(l) => self.post("/complaints", &json!({ "complainer": l, "complaints": body })),
        }
    }

    fn fetch<T: DeserializeOwned>(&self, slot: Slot) -> Result<Option<T>> {
        let (v, t) = self.state()?;
        let found: Option<Value> = match slot {
            Slot::CommitmentHash(i) => find(&t.commitment_hashes, |m| m.message.dealer == i)?,
            Slot::Reveal(i) => find(&t.reveals, |m| m.message.dealer == i)?,
            Slot::Share(i, l) => find(&t.shares, |m| m.message.dealer == i && m.message.recipient == l)?,
            Slot::Complaints(l) => {
                let done = v["round3"].as_array().is_some_and(|a| a.iter().any(|x| x.as_u64() == Some(u64::from(l))));
                if done {
                    let mine: Vec<_> = t.complaints.iter().filter(|c| c.message.complainer == l).collect();
                    Some(serde_json::to_value(mine)?)
                } else {
                    None
                }
            }
        };
        found.map(|v| serde_json::from_value(v).context("the server relayed a malformed message")).transpose()
    }

    fn outcome(&self) -> Result<Option<CeremonyOutcome>> {
        Ok(self.get::<CeremonyOutcome>("/outcome")?.1)
    }
}

fn find<M: Serialize>(items: &[M], pred: impl Fn(&M) -> bool) -> Result<Option<Value>> {
    items.iter().find(|m| pred(m)).map(serde_json::to_value).transpose().map_err(Into::into)
}
