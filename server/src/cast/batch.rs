//! Ballot verification batched across concurrent requests (`docs/protocol/08-ballot.md`
//! §Batch verification): one task collects the ballots waiting to be verified, and every ballot
//! that arrived while the previous batch was being checked goes into the next one, grouped by
//! election, verified with one multi-scalar check on the blocking pool. An idle server verifies a
//! lone ballot at once (no timer); under load the batches grow by themselves. A failing batch is
//! split by `verify_ballots` until each bad ballot is named, so one bad ballot never refuses
//! another.

use std::sync::Arc;

use dobush_crypto::ballot::{BallotError, EncryptedBallot, VerifiedBallot, verify_ballots};
use dobush_crypto::ballot_v2::ballot::{BallotV2, VerifiedBallotV2, verify_ballot_v2};
use tokio::sync::{mpsc, oneshot};

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
}

impl BatchVerifier {
    /// Starts the task on the current tokio runtime.
    pub fn start() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(rx));
        Self { tx }
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
    /// batched yet (one batched check per ballot, as `verify_ballot_v2` does).
    pub async fn verify_v2(
        &self,
        election: Arc<Election>,
        ballot: BallotV2,
    ) -> Result<Result<VerifiedBallotV2, BallotError>, ApiError> {
        tokio::task::spawn_blocking(move || verify_ballot_v2(&election.context, ballot, &mut rand::rngs::OsRng))
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
