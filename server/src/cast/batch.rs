//! Ballot verification batched across concurrent requests (`docs/protocol/08-ballot.md`
//! §Batch verification): one task collects the ballots waiting to be verified, and every ballot
//! that arrived while the previous batch was being checked goes into the next one, grouped by
//! election, verified with one multi-scalar check on the blocking pool. An idle server verifies a
//! lone ballot at once (no timer); under load the batches grow by themselves. A failing batch is
//! split by `verify_ballots` until each bad ballot is named, so one bad ballot never refuses
//! another.

use std::sync::Arc;
use std::time::Duration;

use dobush_crypto::ballot::{BallotError, EncryptedBallot, VerifiedBallot, verify_ballots};
use dobush_crypto::ballot_v2::ballot::{BallotV2, VerifiedBallotV2, verify_ballot_v2};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};

use crate::error::ApiError;
use crate::package::Election;

/// Largest batch.
const MAX_BATCH: usize = 256;

struct Job {
    election: Arc<Election>,
    ballot: EncryptedBallot,
    reply: oneshot::Sender<Result<VerifiedBallot, BallotError>>,
}

/// Handle of the verification task.
#[derive(Debug, Clone)]
pub struct BatchVerifier {
    tx: mpsc::UnboundedSender<Job>,
    /// Slots of v2 verification on the blocking pool (review 19-cast-v2 F6).
    v2_slots: Arc<Semaphore>,
    /// How long a v2 cast waits for a slot before 503.
    v2_wait: Duration,
}

impl BatchVerifier {
    /// Starts the task on the current tokio runtime; at most `v2_slots` v2 ballots (at least one)
    /// are verified at once, and a v2 cast waits at most `v2_wait` for a slot.
    pub fn start(v2_slots: usize, v2_wait: Duration) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(rx));
        let v2_slots = Arc::new(Semaphore::new(v2_slots.clamp(1, Semaphore::MAX_PERMITS)));
        Self { tx, v2_slots, v2_wait }
    }

    /// Takes one v2 verification slot, waiting at most the configured bound; `None` when every
    /// slot stayed taken. (Public so that tests can fill the slots.)
    pub async fn v2_slot(&self) -> Option<OwnedSemaphorePermit> {
        if let Ok(permit) = self.v2_slots.clone().try_acquire_owned() {
            return Some(permit);
        }
        if self.v2_wait.is_zero() {
            return None;
        }
        tokio::time::timeout(self.v2_wait, self.v2_slots.clone().acquire_owned()).await.ok()?.ok()
    }

    /// Verifies one ballot (in a batch with whatever else is waiting).
    pub async fn verify(
        &self,
        election: Arc<Election>,
        ballot: EncryptedBallot,
    ) -> Result<Result<VerifiedBallot, BallotError>, ApiError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job { election, ballot, reply })
            .map_err(|_| ApiError::Unexpected(anyhow::anyhow!("the verification task has stopped")))?;
        answer.await.map_err(|_| ApiError::Unexpected(anyhow::anyhow!("the verification task dropped a ballot")))
    }

    /// Verifies one v2 ballot (13-revoting.md §3.7) on the blocking pool, alone: v2 casts are not
    /// batched yet (one batched check per ballot, as `verify_ballot_v2` does). At most the
    /// configured number run at once, so a crowd of v2 casts cannot occupy the blocking pool; a
    /// cast that finds no free slot within the configured wait is answered 503 with
    /// `Retry-After` (review 19-cast-v2 F6).
    pub async fn verify_v2(
        &self,
        election: Arc<Election>,
        ballot: BallotV2,
    ) -> Result<Result<VerifiedBallotV2, BallotError>, ApiError> {
        let Some(slot) = self.v2_slot().await else {
            tracing::warn!("every v2 verification slot is taken; cast answered 503");
            return Err(ApiError::Unavailable("the server is busy verifying ballots; try again".into()));
        };
        tokio::task::spawn_blocking(move || {
            let verified = verify_ballot_v2(&election.context, ballot, &mut rand::rngs::OsRng);
            drop(slot);
            verified
        })
        .await
        .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("ballot verification task: {e}")))
    }
}

async fn run(mut rx: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        // group by election, keeping arrival order within a group
        let mut groups: Vec<(Arc<Election>, Vec<Job>)> = Vec::new();
        for j in jobs {
            match groups.iter_mut().find(|(e, _)| Arc::ptr_eq(e, &j.election)) {
                Some((_, g)) => g.push(j),
                None => groups.push((j.election.clone(), vec![j])),
            }
        }
        for (election, group) in groups {
            let (ballots, replies): (Vec<_>, Vec<_>) = group.into_iter().map(|j| (j.ballot, j.reply)).unzip();
            let n = ballots.len();
            let results =
                tokio::task::spawn_blocking(move || verify_ballots(&election.context, ballots, &mut rand::rngs::OsRng))
                    .await;
            match results {
                Ok(results) => {
                    tracing::debug!(batch = n, "ballots verified");
                    for (r, reply) in results.into_iter().zip(replies) {
                        let _ = reply.send(r);
                    }
                }
                Err(e) => tracing::error!(error = %e, "ballot verification task failed"),
            }
        }
    }
}
