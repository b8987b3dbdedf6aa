//! Group commit of cast and challenged ballots (docs/load.md §Group commit).
//!
//! Every campaign has one committer thread. A cast, once its proofs and signature are verified
//! (`crate::cast::batch`), is queued to its campaign's committer and waits for its receipt. The
//! committer takes every cast waiting and records them in **one** write transaction holding the
//! campaign's board lock (`board_log::Boards::append_in_transaction`): for each cast, in arrival
//! order, the checks against the database and against the casts before it in the same group,
//! then its row, board entries and share of the totals staged in memory; then the group's ballot
//! rows in **one** multi-row insert, its ciphertexts, issuance rows and board entries likewise,
//! the changed encrypted-totals shards, **one** signed tree head, and one commit. Only after the
//! commit does any cast get its receipt (every receipt of a group proves inclusion in that
//! group's head). An idle server commits a lone cast at once; under load the groups grow by
//! themselves (every cast that arrived while the previous group was committing), so the commit
//! flush and the per-transaction work are shared.
//!
//! The committer is an OS thread of its own that holds its database connection for the length of
//! a group, not a task of the async runtime: the actix workers are busy decoding ballots (every
//! point decompressed), and a committer task among them waited for each of them in turn before it
//! could take its next group or answer the last one (measured: docs/load.md §The committer on its
//! own thread). The groups, one after another, are the serial part of casting; nothing else
//! should stand in their way.
//!
//! Each cast of a group gets exactly the answer it would get alone, in the same order: the
//! refusals (`duplicate_ballot`, `duplicate_ballot_id`, `ciphertext_replayed`, `already_voted`, the gate's) are decided
//! before any of its rows is written, so a refused cast writes nothing and does not disturb the
//! others; under `last_counts` a later cast of the same voter in the group supersedes the earlier
//! one exactly as if it had come in a later transaction. If the group's transaction fails for any
//! other reason (a constraint a concurrent writer hit first, a lost connection), nothing of it
//! was written and nobody has a receipt: a lost connection answers every cast 503, any other
//! failure has each cast retried alone, so one cast's failure never refuses another.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use dobush_crypto::ballot::{BallotOpening, EncryptedBallot, TrackingCode, VerifiedBallot};
use dobush_crypto::ballot_v2::ballot::VerifiedBallotV2;
use dobush_crypto::record::{BoardEntry, Receipt};
use tokio::sync::{mpsc, oneshot};

use crate::board_log::{Appender, Boards};
use crate::cast::gate::{CastContext, cast_gates};
use crate::clock::{Clock, millis};
use crate::close::shards::ShardTotals;
use crate::db::{AnyConnection, Db};
use crate::domain::RevotePolicy;
use crate::error::ApiError;
use crate::package::Election;
use crate::schema::{ballot_ciphertexts, ballots, board_entries};

/// Largest group.
const MAX_GROUP: usize = 256;

/// A verified ballot of either format (the campaign's package selects one: `Election`).
pub enum VerifiedCast {
    /// A v1 ballot (08-ballot.md): the credential in the clear, counted into the shards.
    V1(Box<VerifiedBallot>),
    /// A v2 ballot (13-revoting.md §3.7): no credential on it, nothing added to any total (it is
    /// counted only through the filter), never a `superseded` entry.
    V2 {
        /// The ballot.
        ballot: Box<VerifiedBallotV2>,
        /// For a cast: the registered credential (hex) its cast opening (§3.4) was checked
        /// against, which must still be the voter's active one when the cast is recorded. `None`
        /// for a Benaloh check (no opening is made for it; it is never counted).
        registered: Option<String>,
    },
}

impl From<VerifiedBallot> for VerifiedCast {
    fn from(v: VerifiedBallot) -> Self {
        Self::V1(Box::new(v))
    }
}

impl VerifiedCast {
    fn style(&self) -> &str {
        match self {
            Self::V1(v) => &v.ballot().style,
            Self::V2 { ballot, .. } => &ballot.ballot().style,
        }
    }

    fn ballot_id(&self) -> &[u8; 16] {
        match self {
            Self::V1(v) => &v.ballot().ballot_id,
            Self::V2 { ballot, .. } => &ballot.ballot().ballot_id,
        }
    }

    fn tracking_code(&self) -> &TrackingCode {
        match self {
            Self::V1(v) => v.tracking_code(),
            Self::V2 { ballot, .. } => ballot.tracking_code(),
        }
    }

    /// Every α the ballot puts on the board, as `ballot_ciphertexts` keys (hex): the selections'
    /// and, for v2, cred.α and tbase.α, all distinct across the board (13-revoting.md §3.1).
    fn alphas(&self) -> Vec<String> {
        match self {
            Self::V1(v) => alphas(&v.ballot().contests),
            Self::V2 { ballot, .. } => {
                let b = ballot.ballot();
                let mut all = alphas(&b.contests);
                all.push(b.cred.alpha.to_hex());
                all.push(b.tbase.alpha.to_hex());
                all
            }
        }
    }

    /// The board entry: `ballot`/`challenged` (v1), `ballot_v2`/`challenged_v2` (v2).
    fn entry(&self, opening: Option<BallotOpening>) -> BoardEntry {
        let tracking_code = *self.tracking_code();
        match (self, opening) {
            (Self::V1(v), None) => BoardEntry::Ballot { ballot: v.ballot().clone(), tracking_code },
            (Self::V1(v), Some(opening)) => {
                BoardEntry::Challenged { ballot: v.ballot().clone(), tracking_code, opening }
            }
            (Self::V2 { ballot, .. }, None) => BoardEntry::BallotV2 { ballot: ballot.ballot().clone(), tracking_code },
            (Self::V2 { ballot, .. }, Some(opening)) => {
                BoardEntry::ChallengedV2 { ballot: ballot.ballot().clone(), tracking_code, opening }
            }
        }
    }
}

/// A verified ballot to record for the voter `pin`; with its opening if it is a Benaloh check.
pub struct CastJob {
    /// The voter (from the session).
    pin: String,
    /// The ballot, verified against `election`.
    verified: VerifiedCast,
    /// The opening of a challenged ballot (never counted), or `None` for a cast.
    opening: Option<BallotOpening>,
    /// The election it was verified against.
    election: Arc<Election>,
    /// Its board entry (`ballot`, or `challenged` with the opening), serialised.
    line: String,
    /// Its ciphertexts as `ballot_ciphertexts` keys.
    alphas: Vec<String>,
}

impl CastJob {
    /// A cast (`opening` `None`) or a Benaloh check of `pin`'s ballot, verified against
    /// `election`. Its board entry is serialised here, by the request's own task, so that the
    /// committer's serial work is only the database's (docs/load.md §Less work per cast).
    /// A v2 ballot is recorded only in a v2 campaign and a v1 ballot only in a v1 one.
    pub fn new(
        pin: &str,
        verified: impl Into<VerifiedCast>,
        opening: Option<BallotOpening>,
        election: Arc<Election>,
    ) -> Result<Self, ApiError> {
        let verified = verified.into();
        let v2 = matches!(verified, VerifiedCast::V2 { .. });
        if v2 != election.cast_verifier_key().is_some() {
            return Err(ApiError::Unexpected(anyhow::anyhow!("a ballot of the other format than the campaign's")));
        }
        if matches!(verified, VerifiedCast::V2 { registered: None, .. }) && opening.is_none() {
            // a v2 cast is recorded only with the credential its cast opening was checked against
            return Err(ApiError::Unexpected(anyhow::anyhow!("a v2 cast without a checked cast opening")));
        }
        let entry = verified.entry(opening.clone());
        let line = String::from_utf8(entry.to_bytes().map_err(|e| ApiError::Unexpected(e.into()))?)
            .map_err(|e| ApiError::Unexpected(e.into()))?;
        let alphas = verified.alphas();
        Ok(Self { pin: pin.to_string(), verified, opening, election, line, alphas })
    }
}

struct Queued {
    job: CastJob,
    reply: oneshot::Sender<Result<Receipt, ApiError>>,
}

/// What a committer task needs.
#[derive(Clone)]
struct Shared {
    db: Db,
    boards: Arc<Boards>,
    clock: Arc<dyn Clock>,
    shards: u32,
}

/// The committer tasks of every campaign.
pub struct Committer {
    shared: Shared,
    queues: Mutex<HashMap<String, mpsc::UnboundedSender<Queued>>>,
}

impl std::fmt::Debug for Committer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Committer").finish_non_exhaustive()
    }
}

impl Committer {
    /// Committers writing to `db` with `boards`; `shards` as `[board] totals_shards`.
    pub fn new(db: Db, boards: Arc<Boards>, clock: Arc<dyn Clock>, shards: u32) -> Self {
        Self { shared: Shared { db, boards, clock, shards }, queues: Mutex::new(HashMap::new()) }
    }

    /// Records `job` in campaign `id` (with whatever else is waiting) and returns its receipt
    /// once the group is committed.
    pub async fn record(&self, id: &str, job: CastJob) -> Result<Receipt, ApiError> {
        let (reply, answer) = oneshot::channel();
        let mut queued = Queued { job, reply };
        // a committer thread ends only if it panicked; then start another
        for _ in 0..2 {
            let tx = {
                let mut queues = self.queues.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                match queues.get(id) {
                    Some(tx) => tx.clone(),
                    None => {
                        let (tx, rx) = mpsc::unbounded_channel();
                        let shared = self.shared.clone();
                        let campaign = id.to_string();
                        std::thread::Builder::new()
                            .name("committer".into())
                            .spawn(move || run(&shared, &campaign, rx))
                            .map_err(|e| {
                                ApiError::Unexpected(anyhow::anyhow!("starting the committer of campaign {id}: {e}"))
                            })?;
                        queues.insert(id.to_string(), tx.clone());
                        tx
                    }
                }
            };
            match tx.send(queued) {
                Ok(()) => {
                    return answer.await.unwrap_or_else(|_| {
                        Err(ApiError::Unexpected(anyhow::anyhow!("the committer of campaign {id} dropped a ballot")))
                    });
                }
                Err(mpsc::error::SendError(back)) => {
                    queued = back;
                    self.queues.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(id);
                }
            }
        }
        Err(ApiError::Unexpected(anyhow::anyhow!("no committer for campaign {id}")))
    }

    /// Records `jobs` (casts of campaign `id` verified against one election) as **one** group,
    /// now, without the queue: `Err` if the group's transaction failed (nothing written), else
    /// each cast's receipt or refusal, in order. The queue's groups are recorded the same way.
    pub async fn record_together(
        &self,
        id: &str,
        jobs: Vec<CastJob>,
    ) -> Result<Vec<Result<Receipt, ApiError>>, ApiError> {
        let Some(election) = one_election(&jobs)? else { return Ok(Vec::new()) };
        let (shared, id) = (self.shared.clone(), id.to_string());
        blocking(move || {
            let n = jobs.len();
            record_group(&shared, &id, &election, &jobs, 0..n)
        })
        .await?
    }

    /// Records `jobs` (casts of campaign `id` verified against one election) as the queue records
    /// a group, now: in one transaction or, if it fails, each cast alone (see the module's
    /// documentation). Each cast's receipt or refusal, in order.
    pub async fn record_or_each(
        &self,
        id: &str,
        jobs: Vec<CastJob>,
    ) -> Result<Vec<Result<Receipt, ApiError>>, ApiError> {
        let Some(election) = one_election(&jobs)? else { return Ok(Vec::new()) };
        let (shared, id) = (self.shared.clone(), id.to_string());
        blocking(move || record_or_each(&shared, &id, &election, &jobs)).await
    }
}

/// Runs `f` on the blocking pool (the committer's functions block on the database).
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::Unexpected(anyhow::anyhow!("committer task: {e}")))
}

/// The election every job was verified against (`None` for no jobs).
fn one_election(jobs: &[CastJob]) -> Result<Option<Arc<Election>>, ApiError> {
    let Some(election) = jobs.first().map(|j| j.election.clone()) else { return Ok(None) };
    if jobs.iter().any(|j| !Arc::ptr_eq(&j.election, &election)) {
        return Err(ApiError::Unexpected(anyhow::anyhow!("one group, one election")));
    }
    Ok(Some(election))
}

/// Board size from which the committer refreshes PostgreSQL's statistics, doubling each time.
const FIRST_ANALYSIS: u64 = 1024;

/// The committer thread of campaign `id`: takes every cast waiting, records them as one group,
/// answers each; ends when the [`Committer`] is dropped.
fn run(shared: &Shared, id: &str, mut rx: mpsc::UnboundedReceiver<Queued>) {
    let mut next_analysis = FIRST_ANALYSIS;
    while let Some(first) = rx.blocking_recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(q) => group.push(q),
                Err(_) => break,
            }
        }
        // one election per transaction (a campaign's election does not change while it is open;
        // this only keeps the invariant explicit)
        while !group.is_empty() {
            let election = group[0].job.election.clone();
            let (same, rest): (Vec<_>, Vec<_>) =
                group.into_iter().partition(|q| Arc::ptr_eq(&q.job.election, &election));
            group = rest;
            if let Some(size) = commit(shared, id, &election, same)
                && size >= next_analysis
            {
                // PostgreSQL's autovacuum analyses a table only after its naptime (a minute):
                // a board that grows by thousands within it would be planned as if it were
                // still small (whole-campaign scans instead of key lookups: docs/load.md).
                // So each time the board doubles, the statistics are refreshed, on another
                // connection and thread, outside any cast's transaction (ANALYZE blocks no
                // writer).
                while next_analysis <= size {
                    next_analysis = next_analysis.saturating_mul(2);
                }
                let db = shared.db.clone();
                let spawned = std::thread::Builder::new().name("analyze".into()).spawn(move || {
                    if let Err(e) = db.run_blocking(crate::db::refresh_statistics) {
                        tracing::warn!(error = %e, "refreshing the planner statistics failed");
                    }
                });
                if let Err(e) = spawned {
                    tracing::warn!(error = %e, "could not start refreshing the planner statistics");
                }
            }
        }
    }
}

/// Commits one group and answers every cast of it; returns the board size of its last head, if it
/// committed one.
fn commit(shared: &Shared, id: &str, election: &Arc<Election>, group: Vec<Queued>) -> Option<u64> {
    let (jobs, replies): (Vec<CastJob>, Vec<_>) = group.into_iter().map(|q| (q.job, q.reply)).unzip();
    let answers = record_or_each(shared, id, election, &jobs);
    let size = answers.iter().filter_map(|a| a.as_ref().ok()).map(|r| r.tree_head.head.size).max();
    for (answer, reply) in answers.into_iter().zip(replies) {
        let _ = reply.send(answer);
    }
    size
}

/// Records `jobs` as one group and returns each cast's answer, in order. If the group's
/// transaction fails (nothing of it written), a lost database answers every cast 503; any other
/// failure has each cast recorded alone, so that one cast's failure never refuses another.
fn record_or_each(
    shared: &Shared,
    id: &str,
    election: &Arc<Election>,
    jobs: &[CastJob],
) -> Vec<Result<Receipt, ApiError>> {
    let n = jobs.len();
    let started = std::time::Instant::now();
    match record_group(shared, id, election, jobs, 0..n) {
        Ok(answers) => {
            tracing::debug!(campaign = id, group = n, ms = started.elapsed().as_secs_f64() * 1e3, "casts committed");
            answers
        }
        Err(ApiError::Unavailable(message)) => (0..n).map(|_| Err(ApiError::Unavailable(message.clone()))).collect(),
        Err(e) if n == 1 => vec![Err(e)],
        Err(e) => {
            tracing::warn!(campaign = id, group = n, error = %e, "group commit failed; recording each cast alone");
            (0..n)
                .map(|i| match record_group(shared, id, election, jobs, i..i + 1) {
                    Ok(mut one) => one.pop().unwrap_or_else(|| Err(ApiError::Unexpected(anyhow::anyhow!("no answer")))),
                    Err(e) => Err(e),
                })
                .collect()
        }
    }
}

/// Records `jobs[range]` in one transaction: `Err` if the transaction failed (nothing written),
/// else each cast's receipt or refusal.
fn record_group(
    shared: &Shared,
    id: &str,
    election: &Election,
    jobs: &[CastJob],
    range: std::ops::Range<usize>,
) -> Result<Vec<Result<Receipt, ApiError>>, ApiError> {
    let now = shared.clock.now();
    let group = jobs.get(range).ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("group range")))?;
    shared.db.run_blocking(|c| {
        shared
            .boards
            .append_in_transaction(c, id, |c, app| Group::record(c, app, id, election, group, now, shared.shards))
    })
}

/// Where a ballot row is: already in the database, or the group's `n`th row still to insert.
#[derive(Clone, Copy, Debug)]
enum Row {
    Stored(i64),
    New(usize),
}

/// A voter's counted ballot row: pin, row id, tracking code, board index.
type CountedRow = (String, i64, String, Option<i64>);

/// A counted ballot of a voter, as the re-vote rule needs it.
#[derive(Clone)]
struct Counted<'j> {
    row: Row,
    tracking_code: String,
    /// The v1 ballot (subtracted from the totals when superseded); `None` in a v2 campaign,
    /// where nothing is subtracted and nothing is published (13-revoting.md §4.2).
    ballot: Option<Cow<'j, EncryptedBallot>>,
}

/// A group's view of the campaign: what the database held before the transaction plus what the
/// group's earlier casts added.
struct Group<'a, 'j> {
    campaign: &'a str,
    /// The election package's re-vote rule (bound by its extended hash), never the row's.
    revote_policy: RevotePolicy,
    tracking_codes: HashSet<String>,
    /// Ballot ids (hex) taken by a cast or challenged ballot.
    ballot_ids: HashSet<String>,
    ciphertexts: HashSet<String>,
    counted: HashMap<String, Counted<'j>>,
    /// v2: the most e-ballots one voter's chain may cast, c − 1 (13-revoting.md §9.2), and how
    /// many each voter of the group has cast so far, challenges apart (`None` for v1).
    ballot_limit: Option<(u64, HashMap<String, u64>)>,
    /// The board index the next entry gets.
    next_index: u64,
    /// The ballot rows to insert, in order.
    rows: Vec<Staged<'j>>,
}

/// A cast that passed every check, ready to write.
struct Admitted<'j> {
    job: &'j CastJob,
    gate: CastContext,
    tracking_code: TrackingCode,
    ciphertexts: Vec<String>,
    previous: Option<Counted<'j>>,
}

/// An admitted cast's ballot row, staged to be inserted with the group's others.
struct Staged<'j> {
    job: &'j CastJob,
    credential_id: i64,
    revote_policy: RevotePolicy,
    tracking_code: TrackingCode,
    /// `counted`, `challenged`, or `superseded` if a later cast of the group superseded it.
    status: &'static str,
    board_index: u64,
    ciphertexts: Vec<String>,
    /// The voter's counted ballot this one supersedes (`last_counts`).
    supersedes: Option<Counted<'j>>,
}

impl<'j> Group<'_, 'j> {
    fn record(
        c: &mut AnyConnection,
        app: &mut Appender<'_>,
        campaign: &str,
        election: &Election,
        jobs: &'j [CastJob],
        now: DateTime<Utc>,
        shards: u32,
    ) -> Result<Vec<Result<Receipt, ApiError>>, ApiError> {
        let started = std::time::Instant::now();
        let casts: Vec<(&str, &str)> = jobs.iter().map(|j| (j.pin.as_str(), j.verified.style())).collect();
        let gates = cast_gates(c, campaign, &casts, now)?;
        // the re-vote rule is the election package's (bound by its extended hash), not the row's
        let v2 = election.cast_verifier_key().is_some();
        let mut group = Group::load(c, campaign, election.re_vote_policy(), v2, jobs, app.board().size())?;
        let loaded = started.elapsed();
        let mut totals = ShardTotals::new(campaign, &election.context, shards);
        let mut results = Vec::with_capacity(jobs.len());
        for (job, gate) in jobs.iter().zip(gates) {
            match gate.and_then(|gate| group.admit(job, gate)) {
                Ok(admitted) => results.push(Ok(group.stage(c, admitted, &mut totals)?)),
                Err(refusal) => results.push(Err(refusal)),
            }
        }
        let staged = started.elapsed();
        // a group of refusals only wrote nothing: no head
        let (mut inserted, mut stored) = (staged, staged);
        let head = if results.iter().any(Result::is_ok) {
            group.insert(c, app, now.timestamp())?;
            inserted = started.elapsed();
            totals.store(c)?;
            stored = started.elapsed();
            Some(app.sign_head(c, election, millis(now))?)
        } else {
            None
        };
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
        tracing::debug!(
            group = jobs.len(),
            checks_ms = ms(loaded),
            staged_ms = ms(staged - loaded),
            rows_ms = ms(inserted - staged),
            totals_ms = ms(stored - inserted),
            head_ms = ms(started.elapsed() - stored),
            "group written (commit follows)"
        );
        Ok(results
            .into_iter()
            .map(|r| {
                let (index, tc) = r?;
                let head = head.ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("no tree head")))?;
                app.board().receipt(index, tc, head).map_err(|e| ApiError::Unexpected(anyhow::anyhow!("receipt: {e}")))
            })
            .collect())
    }

    /// What the database holds about the group's ballots: tracking codes and ciphertexts already
    /// submitted, and the voters' counted ballots. `board_size` is the board's before the group.
    fn load<'a>(
        c: &mut AnyConnection,
        campaign: &'a str,
        revote_policy: RevotePolicy,
        v2: bool,
        jobs: &[CastJob],
        board_size: u64,
    ) -> Result<Group<'a, 'j>, ApiError> {
        let alphas: Vec<&String> = jobs.iter().flat_map(|j| &j.alphas).collect();
        let mut ciphertexts = HashSet::new();
        // a group of wide ballots can hold more ciphertexts than SQLite takes parameters
        for chunk in alphas.chunks(4096) {
            ciphertexts.extend(
                ballot_ciphertexts::table
                    .filter(ballot_ciphertexts::campaign_id.eq(campaign))
                    .filter(ballot_ciphertexts::ciphertext_hash.eq_any(chunk))
                    .select(ballot_ciphertexts::ciphertext_hash)
                    .load::<String>(c)?,
            );
        }
        // A stored ballot with one of the group's tracking codes is the same ballot (the code
        // covers every byte), so its ciphertexts were found just now: only then are the tracking
        // codes looked up, to tell a resubmitted ballot (`duplicate_ballot`) from one reusing a
        // ciphertext (`ciphertext_replayed`). One query less for a group of fresh ballots.
        let tracking_codes: HashSet<String> = if ciphertexts.is_empty() {
            HashSet::new()
        } else {
            let codes: Vec<String> = jobs.iter().map(|j| j.verified.tracking_code().to_hex()).collect();
            ballots::table
                .filter(ballots::campaign_id.eq(campaign))
                .filter(ballots::tracking_code.eq_any(&codes))
                .select(ballots::tracking_code)
                .load::<String>(c)?
                .into_iter()
                .collect()
        };
        // A ballot id is drawn by the device, so a modified client can copy another ballot's: two
        // ballots with one id would make the record fail uniqueness (V09) and stop the tally
        // (issue 18). Looked up always: a copied id comes with fresh ciphertexts.
        let ids: Vec<String> = jobs.iter().map(|j| hex::encode(j.verified.ballot_id())).collect();
        let ballot_ids: HashSet<String> = ballots::table
            .filter(ballots::campaign_id.eq(campaign))
            .filter(ballots::ballot_uid.eq_any(&ids))
            .select(ballots::ballot_uid.assume_not_null())
            .load::<String>(c)?
            .into_iter()
            .collect();
        let pins: Vec<&str> = jobs.iter().map(|j| j.pin.as_str()).collect();
        let counted = ballots::table
            .filter(ballots::campaign_id.eq(campaign))
            .filter(ballots::pin.eq_any(&pins))
            .filter(ballots::status.eq("counted"))
            .select((ballots::pin, ballots::id, ballots::tracking_code, ballots::board_index))
            .load::<CountedRow>(c)?;
        let counted = if v2 {
            // only whether the voter has a ballot counts (`forbidden`), and which row to mark
            // superseded, privately; no v2 ballot is subtracted from anything
            counted
                .into_iter()
                .map(|(pin, id, tracking_code, _)| (pin, Counted { row: Row::Stored(id), tracking_code, ballot: None }))
                .collect()
        } else {
            Self::counted_v1(c, campaign, counted)?
        };
        let ballot_limit = if v2 {
            // the chain is the voter's: a replacement keeps the voter, so every e-ballot of the
            // chain is a row of this voter's (review 19-filtered H3: a chain longer than c would
            // stand out in the filter's public cover as an exception group)
            let limit = dobush_crypto::filter::run::board::row_limit(revote_policy.to_package()).saturating_sub(1);
            let mut cast: HashMap<String, u64> = HashMap::new();
            for pin in ballots::table
                .filter(ballots::campaign_id.eq(campaign))
                .filter(ballots::pin.eq_any(&pins))
                .filter(ballots::status.ne("challenged"))
                .select(ballots::pin)
                .load::<String>(c)?
            {
                *cast.entry(pin).or_default() += 1;
            }
            Some((limit, cast))
        } else {
            None
        };
        Ok(Group {
            campaign,
            revote_policy,
            tracking_codes,
            ballot_ids,
            ciphertexts,
            counted,
            ballot_limit,
            next_index: board_size,
            rows: Vec::new(),
        })
    }

    /// The voters' counted v1 ballots (`counted`: pin, row id, tracking code, board index), each
    /// with its ballot, read from its board entry (the record's bytes; stored once).
    fn counted_v1(
        c: &mut AnyConnection,
        campaign: &str,
        counted: Vec<CountedRow>,
    ) -> Result<HashMap<String, Counted<'j>>, ApiError> {
        let indices: Vec<i64> = counted.iter().filter_map(|r| r.3).collect();
        let mut entries: HashMap<i64, String> = HashMap::new();
        for chunk in indices.chunks(4096) {
            entries.extend(
                board_entries::table
                    .filter(board_entries::campaign_id.eq(campaign))
                    .filter(board_entries::idx.eq_any(chunk))
                    .select((board_entries::idx, board_entries::payload))
                    .load::<(i64, String)>(c)?,
            );
        }
        counted
            .into_iter()
            .map(|(pin, id, tracking_code, index)| {
                let line = index
                    .and_then(|i| entries.remove(&i))
                    .ok_or_else(|| stored(format!("ballot {id} has no board entry")))?;
                match serde_json::from_str(&line) {
                    Ok(BoardEntry::Ballot { ballot, .. }) => {
                        Ok((pin, Counted { row: Row::Stored(id), tracking_code, ballot: Some(Cow::Owned(ballot)) }))
                    }
                    _ => Err(stored(format!("the board entry of ballot {id} is not its ballot"))),
                }
            })
            .collect()
    }

    /// The checks of one cast against the database and the group's earlier casts, in the order
    /// and with the answers of a cast recorded alone. Writes nothing.
    fn admit(&self, job: &'j CastJob, gate: CastContext) -> Result<Admitted<'j>, ApiError> {
        let checked_against = match &job.verified {
            VerifiedCast::V1(v) => Some(v.ballot().credential.0.to_hex()),
            VerifiedCast::V2 { registered, .. } => registered.clone(),
        };
        if checked_against.is_some_and(|credential| credential != gate.credential) {
            return Err(ApiError::invalid("credential", "your registered credential changed; make the ballot again"));
        }
        let tracking_code = *job.verified.tracking_code();
        let tc_hex = tracking_code.to_hex();
        if self.tracking_codes.contains(&tc_hex) {
            return Err(ApiError::conflict(
                "duplicate_ballot",
                format!("this ballot (tracking code {tc_hex}) was already submitted"),
            ));
        }
        let ciphertexts = job.alphas.clone();
        if ciphertexts.iter().collect::<HashSet<_>>().len() != ciphertexts.len() {
            return Err(ApiError::invalid("contests", "two selections share a ciphertext"));
        }
        if ciphertexts.iter().any(|a| self.ciphertexts.contains(a)) {
            return Err(ApiError::conflict(
                "ciphertext_replayed",
                "a ciphertext of this ballot was submitted before (a copied, replayed or challenged ballot cannot be cast)",
            ));
        }
        // after the ciphertexts: a replayed ballot re-signed keeps its id, and is named as replayed
        if self.ballot_ids.contains(&hex::encode(job.verified.ballot_id())) {
            return Err(duplicate_ballot_id());
        }
        let previous = match (&job.opening, self.revote_policy, self.counted.get(&job.pin)) {
            (Some(_), _, _) | (None, _, None) => None,
            (None, RevotePolicy::Forbidden, Some(_)) => {
                return Err(ApiError::conflict(
                    "already_voted",
                    "you have already voted; this campaign does not allow re-voting",
                ));
            }
            (None, RevotePolicy::LastCounts, Some(p)) => Some(p.clone()),
        };
        if let (None, Some((limit, cast))) = (&job.opening, &self.ballot_limit)
            && cast.get(&job.pin).copied().unwrap_or(0) >= *limit
        {
            return Err(ApiError::conflict(
                "ballot_limit",
                format!("a voter may cast at most {limit} e-ballots in this campaign; your last one counts"),
            ));
        }
        Ok(Admitted { job, gate, tracking_code, ciphertexts, previous })
    }

    /// Stages an admitted cast: its ballot row and board entries (under `last_counts` first a
    /// `superseded` entry for the voter's previous counted ballot) to insert with the group's
    /// others, its share of the totals. Returns the board index its entry will get; the later
    /// casts of the group are checked against it as if it were written.
    fn stage(
        &mut self,
        c: &mut AnyConnection,
        a: Admitted<'j>,
        totals: &mut ShardTotals<'_>,
    ) -> Result<(u64, TrackingCode), ApiError> {
        let job = a.job;
        let challenged = job.opening.is_some();
        if let (false, Some((_, cast))) = (challenged, &mut self.ballot_limit) {
            *cast.entry(job.pin.clone()).or_default() += 1;
        }
        // the ballot's entry comes after the `superseded` entry, if any (v1 only)
        let v1 = matches!(job.verified, VerifiedCast::V1(_));
        let index = self.next_index + u64::from(v1 && a.previous.is_some());
        self.next_index = index + 1;
        if let (VerifiedCast::V1(v), false) = (&job.verified, challenged) {
            totals.add(c, v, a.previous.as_ref().and_then(|p| p.ballot.as_deref()))?;
        }
        if let Some(Counted { row: Row::New(n), .. }) = &a.previous {
            // superseded within its own group: inserted as such (one counted ballot per voter)
            self.rows.get_mut(*n).ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("staged row {n}")))?.status =
                "superseded";
        }
        let n = self.rows.len();
        self.tracking_codes.insert(a.tracking_code.to_hex());
        self.ballot_ids.insert(hex::encode(job.verified.ballot_id()));
        self.ciphertexts.extend(a.ciphertexts.iter().cloned());
        if !challenged {
            let ballot = match &job.verified {
                VerifiedCast::V1(v) => Some(Cow::Borrowed(v.ballot())),
                VerifiedCast::V2 { .. } => None,
            };
            let counted = Counted { row: Row::New(n), tracking_code: a.tracking_code.to_hex(), ballot };
            self.counted.insert(job.pin.clone(), counted);
        }
        self.rows.push(Staged {
            job,
            credential_id: a.gate.credential_id,
            revote_policy: self.revote_policy,
            tracking_code: a.tracking_code,
            status: if challenged { "challenged" } else { "counted" },
            board_index: index,
            ciphertexts: a.ciphertexts,
            supersedes: a.previous,
        });
        Ok((index, a.tracking_code))
    }

    /// Writes the staged rows: the stored ballots they supersede marked so, the ballot rows in
    /// one multi-row insert, the links from superseded to superseding ballots, the ciphertexts,
    /// the issuance, and the board entries in the order of the staged indices. Any error here
    /// fails the whole group.
    fn insert(&self, c: &mut AnyConnection, app: &mut Appender<'_>, now_secs: i64) -> Result<(), ApiError> {
        let stored: Vec<i64> = self
            .rows
            .iter()
            .filter_map(|r| match r.supersedes {
                Some(Counted { row: Row::Stored(id), .. }) => Some(id),
                _ => None,
            })
            .collect();
        if !stored.is_empty() {
            // before the insert: the partial unique index allows one counted ballot per voter
            diesel::update(ballots::table.filter(ballots::id.eq_any(&stored)))
                .set(ballots::status.eq("superseded"))
                .execute(c)?;
        }
        let ids = insert_ballots(c, self.campaign, &self.rows, now_secs).map_err(|e| match self.rows.as_slice() {
            // alone, a unique violation is a concurrent writer's: the cast's own refusal
            [one] => unique_refusal(&e, one.revote_policy).unwrap_or_else(|| e.into()),
            _ => e.into(),
        })?;
        let id_of = |row: Row| match row {
            Row::Stored(id) => Ok(id),
            Row::New(n) => {
                ids.get(n).copied().ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("no id for staged row {n}")))
            }
        };
        let mut ciphertexts = Vec::new();
        let mut issued: Vec<&str> = Vec::new();
        for (r, &id) in self.rows.iter().zip(&ids) {
            let job = r.job;
            // a superseded v2 ballot is only marked so in the server's own rows (the unique
            // index allows one counted ballot per voter): no link, no entry (13-revoting.md §4.2)
            if let (Some(p), VerifiedCast::V1(_)) = (&r.supersedes, &job.verified) {
                let previous = id_of(p.row)?;
                diesel::update(ballots::table.filter(ballots::id.eq(previous)))
                    .set(ballots::superseded_by.eq(id))
                    .execute(c)?;
                let entry = BoardEntry::Superseded {
                    tracking_code: tracking_code_from_hex(&p.tracking_code)?,
                    by: r.tracking_code,
                };
                app.append_later(&entry, Some(previous), now_secs)?;
            }
            let kind = match (&job.verified, job.opening.is_some()) {
                (VerifiedCast::V1(_), false) => "ballot",
                (VerifiedCast::V1(_), true) => "challenged",
                (VerifiedCast::V2 { .. }, false) => "ballot_v2",
                (VerifiedCast::V2 { .. }, true) => "challenged_v2",
            };
            let appended = app.append_line_later(job.line.clone(), kind, Some(id), now_secs)?;
            if appended != r.board_index {
                return Err(ApiError::Unexpected(anyhow::anyhow!("board index {appended}, staged {}", r.board_index)));
            }
            ciphertexts.extend(r.ciphertexts.iter().map(|h| (h.as_str(), id)));
            if !issued.contains(&job.pin.as_str()) {
                issued.push(&job.pin);
            }
        }
        insert_ciphertexts(c, self.campaign, &ciphertexts)?;
        super::issuance::mark_issued_many(c, self.campaign, &issued, now_secs)
    }
}

#[derive(diesel::QueryableByName)]
struct Inserted {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    board_index: i64,
}

/// Inserts the staged ballot rows (multi-row statements, `RETURNING`: PostgreSQL and SQLite ≥
/// 3.35 both have it) and returns their ids, in the rows' order. Neither database promises the
/// order of the returned rows, so they are matched by board index (distinct within a campaign).
fn insert_ballots(
    c: &mut AnyConnection,
    campaign: &str,
    rows: &[Staged<'_>],
    received_at: i64,
) -> Result<Vec<i64>, diesel::result::Error> {
    use diesel::sql_types::{BigInt, Text};
    let bad = |what: String| diesel::result::Error::DeserializationError(what.into());
    let mut ids = HashMap::with_capacity(rows.len());
    // 8 parameters a row: well under SQLite's 32,766 per statement
    for chunk in rows.chunks(1024) {
        let sql = format!(
            "INSERT INTO ballots (campaign_id, pin, credential_id, ballot_style, tracking_code, status, received_at, \
             board_index, ballot_uid) VALUES {} RETURNING id, board_index",
            crate::db::values_rows(chunk.len(), 1, 8)
        );
        let mut q = diesel::sql_query(sql).into_boxed().bind::<Text, _>(campaign);
        for r in chunk {
            let board_index = i64::try_from(r.board_index).map_err(|e| bad(e.to_string()))?;
            q = q
                .bind::<Text, _>(&r.job.pin)
                .bind::<BigInt, _>(r.credential_id)
                .bind::<Text, _>(r.job.verified.style())
                .bind::<Text, _>(r.tracking_code.to_hex())
                .bind::<Text, _>(r.status)
                .bind::<BigInt, _>(received_at)
                .bind::<BigInt, _>(board_index)
                .bind::<Text, _>(hex::encode(r.job.verified.ballot_id()));
        }
        for row in q.load::<Inserted>(c)? {
            ids.insert(row.board_index, row.id);
        }
    }
    rows.iter()
        .map(|r| {
            let index = i64::try_from(r.board_index).map_err(|e| bad(e.to_string()))?;
            ids.get(&index).copied().ok_or_else(|| bad(format!("no id returned for board index {index}")))
        })
        .collect()
}

/// One multi-row insert of a group's ciphertexts (hash, ballot id): diesel's batch insert does not
/// support the two-backend connection.
fn insert_ciphertexts(c: &mut AnyConnection, campaign: &str, rows: &[(&str, i64)]) -> Result<(), ApiError> {
    use diesel::sql_types::{BigInt, Text};
    // SQLite allows 32,766 parameters per statement: a group has at most MAX_GROUP ballots, but
    // a ballot may have many selections, so insert in chunks
    for chunk in rows.chunks(4096) {
        let sql = format!(
            "INSERT INTO ballot_ciphertexts (campaign_id, ciphertext_hash, ballot_id) VALUES {}",
            crate::db::values_rows(chunk.len(), 1, 2)
        );
        let mut q = diesel::sql_query(sql).into_boxed().bind::<Text, _>(campaign);
        for (hash, ballot_id) in chunk {
            q = q.bind::<Text, _>(*hash).bind::<BigInt, _>(*ballot_id);
        }
        q.execute(c)?;
    }
    Ok(())
}

/// The selections' ciphertexts as `ballot_ciphertexts` keys (their `alpha`, hex).
fn alphas(contests: &[dobush_crypto::ballot::EncryptedContest]) -> Vec<String> {
    contests.iter().flat_map(|k| k.selections.iter().map(|s| s.ciphertext.alpha.to_hex())).collect()
}

/// The refusal a unique index gives (a concurrent writer got there first): under `forbidden` a
/// second counted ballot of the voter is `already_voted`.
fn unique_refusal(e: &diesel::result::Error, policy: RevotePolicy) -> Option<ApiError> {
    if violates(e, "ballots_one_counted", "ballots.pin") {
        Some(match policy {
            RevotePolicy::Forbidden => {
                ApiError::conflict("already_voted", "you have already voted; this campaign does not allow re-voting")
            }
            RevotePolicy::LastCounts => {
                ApiError::conflict("concurrent_cast", "another ballot of yours was being cast; try again")
            }
        })
    } else if violates(e, "ballots_tracking_code", "ballots.tracking_code") {
        Some(ApiError::conflict("duplicate_ballot", "this ballot was already submitted"))
    } else if violates(e, "ballots_ballot_uid", "ballots.ballot_uid") {
        Some(duplicate_ballot_id())
    } else {
        None
    }
}

/// The refusal of a ballot whose id another ballot of the campaign (cast or challenged) has.
fn duplicate_ballot_id() -> ApiError {
    ApiError::conflict(
        "duplicate_ballot_id",
        "another ballot already has this ballot id; make the ballot again (a fresh ballot id is drawn)",
    )
}

/// True if `e` violates the unique index named `pg_name` (PostgreSQL) / on `sqlite_column`.
fn violates(e: &diesel::result::Error, pg_name: &str, sqlite_column: &str) -> bool {
    match e {
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, info) => {
            info.constraint_name() == Some(pg_name) || info.message().contains(sqlite_column)
        }
        _ => false,
    }
}

fn tracking_code_from_hex(hex: &str) -> Result<TrackingCode, ApiError> {
    serde_json::from_value(serde_json::Value::String(hex.to_string()))
        .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("stored tracking code: {e}")))
}

/// An error in what the database holds (not the cast's fault).
fn stored(what: String) -> ApiError {
    ApiError::Unexpected(anyhow::anyhow!("stored ballots: {what}"))
}
