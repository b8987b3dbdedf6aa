//! The log of every campaign's public bulletin board (docs/protocol/10-board.md): an append-only
//! RFC 9162 Merkle log whose leaves are the exact entry lines stored in `board_entries`, with
//! tree heads signed by the board key (Ed25519) and stored in `tree_heads`. Its settings are
//! `configuration::BoardSettings` (`[board]`), its public HTTP API `routes::board`.
//!
//! # Memory and database never diverge
//!
//! Each campaign's log is kept in memory (`dobush_crypto::record::Board`) behind its own mutex,
//! as a cache of `board_entries`. Appends ([`Boards::append_in_transaction`]) take that mutex
//! first and hold it across the whole database transaction: inside it the log is synchronised
//! with the database (the database's board size must equal the log's, else the log is rebuilt
//! from `board_entries`), the entries are appended to the log *and* inserted at the same indexes,
//! the new head is signed and stored, and the transaction commits. If anything fails, including
//! the commit, the log is marked stale and rebuilt from the database before its next use. Every
//! read synchronises the same way, so entries written by another path (the opening, written in
//! the lifecycle transaction) are picked up. So appends of one campaign are serialised (the
//! expensive proof verification happens before, outside the lock), the database is the single
//! source of truth, and the primary key `(campaign_id, idx)` refuses a second writer's append at
//! an index already taken. One server process writes one database (docs/configuration.md).

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::Context;
use diesel::prelude::*;
use dobush_crypto::board::{BoardKey, SignedTreeHead, TreeHead, leaf_hash};
use dobush_crypto::record::{Board, BoardEntry};

use crate::clock::millis;
use crate::db::{AnyConnection, write_transaction};
use crate::error::ApiError;
use crate::package::{Election, load_election};
use crate::schema::{board_entries, tree_heads};

/// Reads the board key from `path`, or generates it there (mode 0600) with a warning. Safe when
/// several processes start at once: the key is written to a temporary file and then linked into
/// place, so a reader never sees a half-written file and the first writer wins.
pub fn load_or_generate_key(path: &Path) -> anyhow::Result<BoardKey> {
    if !path.exists() {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let key = BoardKey::generate(&mut rand::rngs::OsRng);
        let tmp = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
        {
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let mut f = opts.open(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
            f.write_all(format!("{}\n", hex::encode(key.to_bytes())).as_bytes())?;
            f.sync_all()?;
        }
        let linked = std::fs::hard_link(&tmp, path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => tracing::warn!(
                path = %path.display(),
                public = %hex::encode(key.public()),
                "generated a new board key; back it up: every tree head of a campaign must be signed by the same key"
            ),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e).with_context(|| format!("storing the board key at {}", path.display())),
        }
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading the board key {}", path.display()))?;
    let mut seed = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut seed)
        .map_err(|e| anyhow::anyhow!("board key {}: expected 64 hex digits: {e}", path.display()))?;
    Ok(BoardKey::from_bytes(&seed))
}

#[derive(Default)]
struct CampaignBoard {
    board: Board,
    stale: bool,
    election: Option<Arc<Election>>,
}

/// Every campaign's board, and the board key.
pub struct Boards {
    key: BoardKey,
    campaigns: Mutex<HashMap<String, Arc<Mutex<CampaignBoard>>>>,
}

impl std::fmt::Debug for Boards {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Boards").field("key", &self.key).finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave a half-updated board: the board is marked
    // stale before every change and rebuilt from the database.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn corrupt(what: impl std::fmt::Display) -> ApiError {
    ApiError::Unexpected(anyhow::anyhow!("board: {what}"))
}

impl Boards {
    /// Boards signed with `key`.
    pub fn new(key: BoardKey) -> Self {
        Self { key, campaigns: Mutex::new(HashMap::new()) }
    }

    /// The board key's public half.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.public()
    }

    /// The board key, for the documents it signs besides tree heads (the ШМТ export, `crate::shmt`).
    pub fn key(&self) -> &BoardKey {
        &self.key
    }

    fn campaign(&self, id: &str) -> Arc<Mutex<CampaignBoard>> {
        lock(&self.campaigns).entry(id.to_string()).or_default().clone()
    }

    /// Drops the cached board and election of a campaign (after its package changed).
    pub fn forget(&self, id: &str) {
        lock(&self.campaigns).remove(id);
    }

    /// The campaign's election, or 409 `no_election_key` if none is installed.
    pub fn election(&self, c: &mut AnyConnection, id: &str) -> Result<Arc<Election>, ApiError> {
        let cb = self.campaign(id);
        let mut cb = lock(&cb);
        if let Some(e) = &cb.election {
            return Ok(e.clone());
        }
        let e = Arc::new(load_election(c, id)?);
        cb.election = Some(e.clone());
        Ok(e)
    }

    /// Runs `f` on the campaign's board, synchronised with the database.
    pub fn read<T>(
        &self,
        c: &mut AnyConnection,
        id: &str,
        f: impl FnOnce(&Board) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let cb = self.campaign(id);
        let mut cb = lock(&cb);
        sync(c, id, &mut cb)?;
        f(&cb.board)
    }

    /// Runs `f` in one write transaction while holding the campaign's board lock; `f` appends
    /// with [`Appender`]. On any failure the in-memory log is cut back to its size before the
    /// transaction (a panic leaves it marked stale: rebuilt before its next use).
    pub fn append_in_transaction<T>(
        &self,
        c: &mut AnyConnection,
        id: &str,
        f: impl FnOnce(&mut AnyConnection, &mut Appender<'_>) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let cb = self.campaign(id);
        let mut cb = lock(&cb);
        let mut before = None;
        let mut written = None;
        let result = write_transaction(c, |c| {
            let latest_head_ms = sync(c, id, &mut cb)?;
            before = Some(cb.board.size());
            cb.stale = true;
            let mut app = Appender {
                board: &mut cb.board,
                key: &self.key,
                campaign: id,
                pending: Vec::new(),
                latest_head_ms: Some(latest_head_ms),
            };
            let out = f(c, &mut app)?;
            app.flush(c)?;
            written = Some(std::time::Instant::now());
            Ok(out)
        });
        if let Some(t) = written {
            tracing::debug!(campaign = id, commit_ms = t.elapsed().as_secs_f64() * 1e3, "board transaction ended");
        }
        match (&result, before) {
            (Ok(_), _) => cb.stale = false,
            // rolled back: the log of the entries before it (if the commit's outcome is unknown
            // and it did commit, the next `sync` sees another size and rebuilds from the database)
            (Err(_), Some(size)) => {
                cb.board.truncate(size);
                cb.stale = false;
            }
            (Err(_), None) => {}
        }
        result
    }

    /// Writes the opening of the board inside the caller's transaction (the lifecycle transition
    /// to `voting_open`): the frozen `credential_list` and the commission's signatures over it
    /// (`credential_list_signed`; 409 `credential_list_unsigned` without one, `quorum_not_reached`
    /// under the pinned commission's quorum), the `web_assets`
    /// hashes of the served web app (`webapp`), the zero-report head (size = the entries
    /// before `opened`), then `opened`. A campaign without an installed election package gets no
    /// board (and accepts no ballots: casting answers 409 `no_election_key`).
    pub fn open_board(&self, c: &mut AnyConnection, id: &str, now_secs: i64) -> Result<(), ApiError> {
        let Some((election, mut board)) = election_and_board(c, id, "opened")? else { return Ok(()) };
        if board.size() != 0 {
            return Err(ApiError::conflict("board_not_empty", "the board of this campaign already has entries"));
        }
        let (list, signed) = crate::credentials::signed_list(c, id)?;
        let ms = u64::try_from(now_secs).unwrap_or(0).saturating_mul(1000);
        let mut app =
            Appender { board: &mut board, key: &self.key, campaign: id, pending: Vec::new(), latest_head_ms: None };
        app.append(c, &list, None, now_secs)?;
        app.append(c, &signed, None, now_secs)?;
        let assets = crate::webapp::asset_hashes().to_vec();
        app.append(c, &BoardEntry::WebAssets { assets }, None, now_secs)?;
        app.sign_head(c, election.package.base_hash, ms)?;
        app.append(c, &BoardEntry::Opened { timestamp_ms: ms }, None, now_secs)?;
        self.forget(id);
        crate::db::refresh_statistics(c)
    }

    /// Writes the `closed` entry and signs the final head, inside the caller's transaction (the
    /// lifecycle transition to `closed`). The board lock is not taken here (the caller's
    /// transaction already holds database locks that a cast in progress may wait for): a cast
    /// racing the closing at the same index is refused by the primary key (409 `board_busy`, and
    /// its retry by the state check), and the in-memory log resynchronises by size.
    pub fn close_board(&self, c: &mut AnyConnection, id: &str, now_secs: i64) -> Result<(), ApiError> {
        let Some((election, mut board)) = election_and_board(c, id, "closed")? else { return Ok(()) };
        let ms = u64::try_from(now_secs).unwrap_or(0).saturating_mul(1000);
        let mut app =
            Appender { board: &mut board, key: &self.key, campaign: id, pending: Vec::new(), latest_head_ms: None };
        app.append(c, &BoardEntry::Closed { timestamp_ms: ms }, None, now_secs)?;
        app.sign_head(c, election.package.base_hash, ms)?;
        Ok(())
    }
}

/// A credential replacement as posted on the board (hex credentials).
#[derive(Debug, Clone, Copy)]
pub struct Replacement<'a> {
    /// The revoked credential.
    pub old: &'a str,
    /// Its replacement.
    pub new: &'a str,
    /// The ballot style.
    pub style: &'a str,
    /// Reference of the commission's decision.
    pub decision: &'a str,
    /// Pinned commission members' signatures over the replacement's digest, at least the
    /// replacement quorum (docs/protocol/14-commission.md §Acceptance).
    pub signatures: &'a [dobush_crypto::election_protocol::MemberSignature],
}

impl Boards {
    /// Posts a `credential_replaced` entry and signs a head, inside the caller's transaction (a
    /// replacement by commission decision while voting is open). Before the opening nothing is
    /// posted: the credential list frozen at the opening already holds the new credential.
    /// The replacement carries the replacement quorum of the pinned commission
    /// (docs/protocol/14-commission.md §Acceptance; checked by the route after the application
    /// deadline whether or not the board is open, and again here).
    pub fn credential_replaced(
        &self,
        c: &mut AnyConnection,
        id: &str,
        r: Replacement<'_>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<BoardEntry>, ApiError> {
        let Some((election, mut board)) = election_and_board(c, id, "credential_replaced")? else { return Ok(None) };
        if board.size() == 0 {
            return Ok(None);
        }
        let key = |h: &str| {
            dobush_crypto::group::GroupElement::from_hex(h).map(dobush_crypto::signature::VerifyingKey).map_err(corrupt)
        };
        let (old, new) = (key(r.old)?, key(r.new)?);
        // the route checked them already (`routes::replacement`); checked again against the
        // package this board belongs to, so that nothing unpinned reaches the board
        let digest = dobush_crypto::record::credential_replacement_digest(id, &old, &new, r.style, r.decision);
        crate::commission::check_act(
            &election.package.commission,
            dobush_crypto::commission::Act::Replacement,
            &digest,
            r.signatures,
        )?;
        let entry = BoardEntry::CredentialReplaced {
            old,
            new,
            style: r.style.to_string(),
            decision: r.decision.to_string(),
            signatures: r.signatures.to_vec(),
        };
        let mut app =
            Appender { board: &mut board, key: &self.key, campaign: id, pending: Vec::new(), latest_head_ms: None };
        app.append(c, &entry, None, now.timestamp())?;
        app.sign_head(c, election.package.base_hash, millis(now))?;
        Ok(Some(entry))
    }
}

/// The election and a board freshly built from the database, or `None` (with a warning) if the
/// campaign has no election package.
fn election_and_board(c: &mut AnyConnection, id: &str, what: &str) -> Result<Option<(Election, Board)>, ApiError> {
    match load_election(c, id) {
        Ok(e) => Ok(Some((e, Board::from_lines(load_lines(c, id)?)))),
        Err(ApiError::Conflict { code: "no_election_key", .. }) => {
            tracing::warn!(campaign = id, what, "campaign without an election package: no board entry written");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Appends to one campaign's board inside [`Boards::append_in_transaction`].
pub struct Appender<'a> {
    board: &'a mut Board,
    key: &'a BoardKey,
    campaign: &'a str,
    /// Rows of [`Appender::append_later`] not yet inserted.
    pending: Vec<PendingRow>,
    /// The time of the campaign's latest stored head, if already read in this transaction
    /// (`Some(None)`: no head yet); `None`: [`Appender::sign_head`] reads it.
    latest_head_ms: Option<Option<u64>>,
}

/// A `board_entries` row waiting for [`Appender::flush`].
struct PendingRow {
    idx: i64,
    kind: &'static str,
    ballot_id: Option<i64>,
    payload: String,
    leaf: String,
    now_secs: i64,
}

impl Appender<'_> {
    /// Appends `entry` to the log and to `board_entries`; returns its index.
    pub fn append(
        &mut self,
        c: &mut AnyConnection,
        entry: &BoardEntry,
        ballot_id: Option<i64>,
        now_secs: i64,
    ) -> Result<u64, ApiError> {
        self.flush(c)?;
        let (index, line) = self.board.append(entry).map_err(corrupt)?;
        let leaf = hex::encode(leaf_hash(line.as_bytes()));
        let payload = line.to_string();
        let idx = i64::try_from(index).map_err(corrupt)?;
        diesel::insert_into(board_entries::table)
            .values((
                board_entries::campaign_id.eq(self.campaign),
                board_entries::idx.eq(idx),
                board_entries::kind.eq(entry_kind(entry)),
                board_entries::ballot_id.eq(ballot_id),
                board_entries::payload.eq(payload),
                board_entries::leaf_hash.eq(leaf),
                board_entries::created_at.eq(now_secs),
            ))
            .execute(c)
            .map_err(|e| {
                if crate::db::is_unique_violation(&e) {
                    ApiError::conflict("board_busy", "the board changed meanwhile; try again")
                } else {
                    e.into()
                }
            })?;
        Ok(index)
    }

    /// Appends `entry` to the log now and to `board_entries` at the next [`Appender::flush`]
    /// (or [`Appender::sign_head`], which flushes first): a group of casts inserts its entries
    /// with one statement. Returns its index.
    pub fn append_later(&mut self, entry: &BoardEntry, ballot_id: Option<i64>, now_secs: i64) -> Result<u64, ApiError> {
        let (index, line) = self.board.append(entry).map_err(corrupt)?;
        let leaf = hex::encode(leaf_hash(line.as_bytes()));
        let payload = line.to_string();
        let idx = i64::try_from(index).map_err(corrupt)?;
        self.pending.push(PendingRow { idx, kind: entry_kind(entry), ballot_id, payload, leaf, now_secs });
        Ok(index)
    }

    /// [`Appender::append_later`] for an entry already serialised (its `kind` the entry's
    /// `type`): a cast's entry is serialised by its request's task, not by the committer
    /// (`crate::cast::commit::CastJob::new`).
    pub fn append_line_later(
        &mut self,
        line: String,
        kind: &'static str,
        ballot_id: Option<i64>,
        now_secs: i64,
    ) -> Result<u64, ApiError> {
        let leaf = hex::encode(leaf_hash(line.as_bytes()));
        let (index, _) = self.board.append_line(line.clone());
        let idx = i64::try_from(index).map_err(corrupt)?;
        self.pending.push(PendingRow { idx, kind, ballot_id, payload: line, leaf, now_secs });
        Ok(index)
    }

    /// Inserts the rows of [`Appender::append_later`] (one multi-row statement).
    pub fn flush(&mut self, c: &mut AnyConnection) -> Result<(), ApiError> {
        use diesel::sql_types::{BigInt, Nullable, Text};
        if self.pending.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "INSERT INTO board_entries (campaign_id, idx, kind, ballot_id, payload, leaf_hash, created_at) VALUES {}",
            crate::db::values_rows(self.pending.len(), 1, 6)
        );
        let mut q = diesel::sql_query(sql).into_boxed().bind::<Text, _>(self.campaign);
        for r in &self.pending {
            q = q
                .bind::<BigInt, _>(r.idx)
                .bind::<Text, _>(r.kind)
                .bind::<Nullable<BigInt>, _>(r.ballot_id)
                .bind::<Text, _>(&r.payload)
                .bind::<Text, _>(&r.leaf)
                .bind::<BigInt, _>(r.now_secs);
        }
        q.execute(c).map_err(|e| {
            if crate::db::is_unique_violation(&e) {
                ApiError::conflict("board_busy", "the board changed meanwhile; try again")
            } else {
                e.into()
            }
        })?;
        self.pending.clear();
        Ok(())
    }

    /// Signs and stores the head of the current log (after inserting the pending rows). Its timestamp is `timestamp_ms`, or the
    /// latest stored head's if that is later: heads must never go back in time (the verifier's
    /// board check, docs/record-format.md), and a cast reads the clock before it waits for the
    /// board lock, so a later head could otherwise carry an earlier time than the one before it.
    pub fn sign_head(
        &mut self,
        c: &mut AnyConnection,
        context: [u8; 32],
        timestamp_ms: u64,
    ) -> Result<SignedTreeHead, ApiError> {
        self.flush(c)?;
        let latest = match self.latest_head_ms {
            Some(latest) => latest,
            None => tree_heads::table
                .filter(tree_heads::campaign_id.eq(self.campaign))
                .order(tree_heads::tree_size.desc())
                .select(tree_heads::issued_at)
                .first::<i64>(c)
                .optional()?
                .and_then(|t| u64::try_from(t).ok()),
        };
        let timestamp_ms = latest.map_or(timestamp_ms, |t| t.max(timestamp_ms));
        self.latest_head_ms = Some(Some(timestamp_ms));
        let head = self.board.sign_head(self.key, context, timestamp_ms);
        diesel::insert_into(tree_heads::table)
            .values((
                tree_heads::campaign_id.eq(self.campaign),
                tree_heads::tree_size.eq(i64::try_from(head.head.size).map_err(corrupt)?),
                tree_heads::root_hash.eq(hex::encode(head.head.root)),
                tree_heads::signature.eq(hex::encode(head.signature)),
                tree_heads::issued_at.eq(i64::try_from(timestamp_ms).map_err(corrupt)?),
            ))
            .execute(c)?;
        Ok(head)
    }

    /// The board as appended so far.
    pub fn board(&self) -> &Board {
        self.board
    }
}

/// The `kind` column of an entry (its `type`).
fn entry_kind(e: &BoardEntry) -> &'static str {
    match e {
        BoardEntry::CredentialList { .. } => "credential_list",
        BoardEntry::CredentialListSigned { .. } => "credential_list_signed",
        BoardEntry::CredentialReplaced { .. } => "credential_replaced",
        BoardEntry::Opened { .. } => "opened",
        BoardEntry::Ballot { .. } => "ballot",
        BoardEntry::Challenged { .. } => "challenged",
        BoardEntry::Superseded { .. } => "superseded",
        BoardEntry::WebAssets { .. } => "web_assets",
        BoardEntry::Closed { .. } => "closed",
    }
}

/// The board's lines in index order, from the database.
pub fn load_lines(c: &mut AnyConnection, id: &str) -> Result<Vec<String>, ApiError> {
    Ok(board_entries::table
        .filter(board_entries::campaign_id.eq(id))
        .order(board_entries::idx.asc())
        .select(board_entries::payload)
        .load(c)?)
}

#[derive(diesel::QueryableByName)]
struct BoardState {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    last_index: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    latest_head_ms: Option<i64>,
}

/// Rebuilds the log from the database if it is stale or has another size than the database's.
/// Returns the time of the latest stored head (read in the same query: one round trip less for
/// every group of casts, docs/load.md §Fewer round trips).
fn sync(c: &mut AnyConnection, id: &str, cb: &mut CampaignBoard) -> Result<Option<u64>, ApiError> {
    let state: BoardState = diesel::sql_query(
        "SELECT (SELECT max(idx) FROM board_entries WHERE campaign_id = $1) AS last_index, \
         (SELECT issued_at FROM tree_heads WHERE campaign_id = $1 ORDER BY tree_size DESC LIMIT 1) AS latest_head_ms",
    )
    .bind::<diesel::sql_types::Text, _>(id)
    .get_result(c)?;
    let db_size = state.last_index.map_or(0, |m| m + 1);
    if cb.stale || i64::try_from(cb.board.size()).ok() != Some(db_size) {
        let lines = load_lines(c, id)?;
        if i64::try_from(lines.len()).ok() != Some(db_size) {
            return Err(corrupt(format!("campaign {id}: board indexes have gaps")));
        }
        cb.board = Board::from_lines(lines);
        cb.stale = false;
    }
    Ok(state.latest_head_ms.and_then(|t| u64::try_from(t).ok()))
}

/// Every head issued for a campaign, in order (the context is the election's base hash).
pub fn load_heads(c: &mut AnyConnection, id: &str, context: [u8; 32]) -> Result<Vec<SignedTreeHead>, ApiError> {
    let rows: Vec<(i64, String, String, i64)> = tree_heads::table
        .filter(tree_heads::campaign_id.eq(id))
        .order(tree_heads::tree_size.asc())
        .select((tree_heads::tree_size, tree_heads::root_hash, tree_heads::signature, tree_heads::issued_at))
        .load(c)?;
    rows.into_iter()
        .map(|(size, root_hex, sig_hex, ms)| {
            let mut root = [0u8; 32];
            let mut signature = [0u8; 64];
            hex::decode_to_slice(&root_hex, &mut root).map_err(corrupt)?;
            hex::decode_to_slice(&sig_hex, &mut signature).map_err(corrupt)?;
            let head = TreeHead {
                context,
                size: u64::try_from(size).map_err(corrupt)?,
                root,
                timestamp_ms: u64::try_from(ms).map_err(corrupt)?,
            };
            Ok(SignedTreeHead { head, signature })
        })
        .collect()
}
