//! The running homomorphic tally (`docs/protocol/08-ballot.md` §Tally), and the result it
//! decrypts to (`docs/record-format.md` §Results).
//!
//! For every contest and selection the tally keeps `T = (G, K) + Σ C` over the counted ballots
//! that contain the contest. It starts from the public encryption of zero with nonce 1,
//! `(G, K)`, so that a total is never the identity point even when no ballot has the contest.
//! Superseded ballots are subtracted.

use serde::{Deserialize, Serialize};

use crate::ballot::{EncryptedBallot, EncryptedContest, VerifiedBallot};
use crate::context::ElectionContext;
use crate::elgamal::{Ciphertext, RawCiphertext};
use crate::error::DecodeError;
use crate::group::generator_g;

/// The encrypted totals of one contest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContestTotals {
    /// Contest id.
    pub contest_id: String,
    /// Number of counted ballots that contain the contest.
    pub ballots: u64,
    /// One encrypted total per selection.
    pub totals: Vec<Ciphertext>,
}

/// The decrypted count of every selection of one contest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContestResult {
    /// Contest id.
    pub contest_id: String,
    /// Counted ballots containing the contest.
    pub ballots: u64,
    /// One count per selection (options, then against-all, then blank).
    pub counts: Vec<u64>,
}

/// A running tally over verified ballots.
#[derive(Clone, Debug)]
pub struct EncryptedTally {
    start: RawCiphertext,
    contest_ids: Vec<String>,
    ballots: Vec<u64>,
    sums: Vec<Vec<RawCiphertext>>,
}

impl EncryptedTally {
    /// An empty tally for the election's manifest.
    pub fn new(ctx: &ElectionContext) -> Self {
        let start = RawCiphertext { alpha: generator_g(), beta: *ctx.joint_key().point() };
        let m = ctx.manifest();
        Self {
            start,
            contest_ids: m.contests.iter().map(|c| c.id.clone()).collect(),
            ballots: vec![0; m.contests.len()],
            sums: m.contests.iter().map(|c| vec![start; c.selection_count()]).collect(),
        }
    }

    fn apply(&mut self, b: &VerifiedBallot, add: bool) -> Result<(), DecodeError> {
        self.apply_contests(&b.ballot().contests, b.contest_indices(), add)
    }

    fn apply_contests(
        &mut self,
        contests: &[EncryptedContest],
        indices: &[usize],
        add: bool,
    ) -> Result<(), DecodeError> {
        for (c, &idx) in contests.iter().zip(indices) {
            let (Some(sums), Some(count)) = (self.sums.get_mut(idx), self.ballots.get_mut(idx)) else {
                return Err(DecodeError::Structure("ballot from another manifest".into()));
            };
            if sums.len() != c.selections.len() {
                return Err(DecodeError::Structure("ballot from another manifest".into()));
            }
            for (acc, s) in sums.iter_mut().zip(&c.selections) {
                if add {
                    *acc += s.ciphertext.raw();
                } else {
                    *acc -= s.ciphertext.raw();
                }
            }
            *count = if add { count.saturating_add(1) } else { count.saturating_sub(1) };
        }
        Ok(())
    }

    /// Adds a counted ballot.
    pub fn add(&mut self, b: &VerifiedBallot) -> Result<(), DecodeError> {
        self.apply(b, true)
    }

    fn apply_stored(&mut self, b: &EncryptedBallot, add: bool) -> Result<(), DecodeError> {
        let mut indices = Vec::with_capacity(b.contests.len());
        for c in &b.contests {
            let idx =
                self.contest_ids.iter().position(|id| *id == c.contest_id).ok_or_else(|| {
                    DecodeError::Structure(format!("contest {:?} is not in the manifest", c.contest_id))
                })?;
            if indices.contains(&idx) {
                return Err(DecodeError::Structure(format!("contest {:?} twice in one ballot", c.contest_id)));
            }
            indices.push(idx);
        }
        self.apply_contests(&b.contests, &indices, add)
    }

    /// Adds a ballot that was verified when it was accepted and is read back from the
    /// accepting party's own storage (the server's recomputation of its totals from its board
    /// at closing). Its proofs are not checked again here: whoever publishes totals must have
    /// verified every ballot on acceptance, and every reader of the record re-verifies them.
    pub fn add_stored(&mut self, b: &EncryptedBallot) -> Result<(), DecodeError> {
        self.apply_stored(b, true)
    }

    /// Removes a stored ballot (see [`EncryptedTally::add_stored`]) that a re-vote superseded.
    pub fn subtract_stored(&mut self, b: &EncryptedBallot) -> Result<(), DecodeError> {
        self.apply_stored(b, false)
    }

    /// A tally resumed from totals it produced earlier ([`EncryptedTally::totals`]): the
    /// running sums of a shard kept between casts. The totals must be for this manifest
    /// (contest ids and selection counts, in order).
    pub fn from_totals(ctx: &ElectionContext, totals: &[ContestTotals]) -> Result<Self, DecodeError> {
        let mut t = Self::new(ctx);
        if totals.len() != t.contest_ids.len() {
            return Err(DecodeError::Structure("totals of another manifest".into()));
        }
        for (i, ct) in totals.iter().enumerate() {
            let (Some(id), Some(sums), Some(n)) = (t.contest_ids.get(i), t.sums.get_mut(i), t.ballots.get_mut(i))
            else {
                return Err(DecodeError::Structure("totals of another manifest".into()));
            };
            if *id != ct.contest_id || sums.len() != ct.totals.len() {
                return Err(DecodeError::Structure(format!(
                    "totals of contest {:?} do not fit the manifest",
                    ct.contest_id
                )));
            }
            for (acc, c) in sums.iter_mut().zip(&ct.totals) {
                *acc = c.raw();
            }
            *n = ct.ballots;
        }
        Ok(t)
    }

    /// Removes a ballot superseded by a later one (re-vote under `last_counts`).
    pub fn subtract(&mut self, b: &VerifiedBallot) -> Result<(), DecodeError> {
        self.apply(b, false)
    }

    /// Merges another tally over the same manifest (e.g. from parallel workers).
    pub fn merge(&mut self, other: &EncryptedTally) -> Result<(), DecodeError> {
        if other.contest_ids != self.contest_ids {
            return Err(DecodeError::Structure("tallies of different manifests".into()));
        }
        for ((mine, theirs), (cm, ct)) in
            self.sums.iter_mut().zip(&other.sums).zip(self.ballots.iter_mut().zip(&other.ballots))
        {
            for (a, b) in mine.iter_mut().zip(theirs) {
                // Both started from (G, K): keep one copy of the start value.
                *a += *b - self.start;
            }
            *cm += ct;
        }
        Ok(())
    }

    /// The encrypted totals, per contest in manifest order.
    pub fn totals(&self) -> Result<Vec<ContestTotals>, DecodeError> {
        self.contest_ids
            .iter()
            .zip(&self.ballots)
            .zip(&self.sums)
            .map(|((id, n), sums)| {
                Ok(ContestTotals {
                    contest_id: id.clone(),
                    ballots: *n,
                    totals: sums.iter().map(RawCiphertext::validate).collect::<Result<_, _>>()?,
                })
            })
            .collect()
    }
}
