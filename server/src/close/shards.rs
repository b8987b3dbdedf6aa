//! The encrypted totals kept at cast time, so that closing is fast without one database row that
//! every cast must lock (docs/server.md §Tally, protocol and record).
//!
//! `encrypted_totals(campaign_id, ballot_style, shard)` holds running sums: each row is the JSON
//! of `Vec<ContestTotals>` (record-format.md §Encrypted totals) of the ballots added to it, each
//! sum starting from `(G, K)` as `dobush_crypto::tally::EncryptedTally` does. A cast adds its
//! ballot to one shard of its ballot style, chosen by the first four bytes of its tracking code
//! modulo `[board] totals_shards` (in a group commit, the group's first ballot of the style
//! chooses for all of them; which shard holds a ballot does not matter, only the sum does); under
//! `last_counts` the superseded ballot is subtracted in the same row, in the same transaction. So
//! concurrent casts touch different rows, and closing reads `styles × shards` rows instead of
//! every ballot. A group commit (`crate::cast::commit`) adds all its casts in memory
//! ([`ShardTotals`]) and writes each row it touched once.

use std::collections::BTreeMap;

use diesel::prelude::*;
use dobush_crypto::ballot::{EncryptedBallot, TrackingCode, VerifiedBallot};
use dobush_crypto::context::ElectionContext;
use dobush_crypto::tally::{ContestTotals, EncryptedTally};

use crate::db::AnyConnection;
use crate::error::ApiError;
use crate::schema::encrypted_totals;

fn corrupt(what: impl std::fmt::Display) -> ApiError {
    ApiError::Unexpected(anyhow::anyhow!("encrypted totals: {what}"))
}

/// The shard a ballot's ciphertexts are added to.
pub fn shard_of(code: &TrackingCode, shards: u32) -> i32 {
    let n = u32::from_be_bytes([code.0[0], code.0[1], code.0[2], code.0[3]]);
    i32::try_from(n % shards.max(1)).unwrap_or(0)
}

/// The shard rows one cast transaction changes, kept in memory until [`ShardTotals::store`]:
/// a group commit (`crate::cast::commit`) adds many ballots and writes each touched row once.
pub struct ShardTotals<'a> {
    campaign: &'a str,
    ctx: &'a ElectionContext,
    shards: u32,
    /// (style, shard) → running sum, ballot count, whether the row exists.
    rows: BTreeMap<(String, i32), (EncryptedTally, i64, bool)>,
}

impl<'a> ShardTotals<'a> {
    /// No row read yet.
    pub fn new(campaign: &'a str, ctx: &'a ElectionContext, shards: u32) -> Self {
        Self { campaign, ctx, shards, rows: BTreeMap::new() }
    }

    /// Adds an accepted ballot to its shard and, under `last_counts`, subtracts the ballot it
    /// supersedes from the same shard.
    pub fn add(
        &mut self,
        c: &mut AnyConnection,
        ballot: &VerifiedBallot,
        superseded: Option<&EncryptedBallot>,
    ) -> Result<(), ApiError> {
        let style = ballot.ballot().style.clone();
        // the group's first ballot of a style picks the shard for all of them: one row per style
        // is read and written per transaction
        let shard = match self.rows.keys().find(|(s, _)| *s == style) {
            Some((_, shard)) => *shard,
            None => shard_of(ballot.tracking_code(), self.shards),
        };
        let key = (style, shard);
        if !self.rows.contains_key(&key) {
            let row: Option<(String, i64)> = encrypted_totals::table
                .filter(encrypted_totals::campaign_id.eq(self.campaign))
                .filter(encrypted_totals::ballot_style.eq(&key.0))
                .filter(encrypted_totals::shard.eq(shard))
                .select((encrypted_totals::totals, encrypted_totals::ballot_count))
                .first(c)
                .optional()?;
            let loaded = match row {
                Some((text, n)) => {
                    let totals: Vec<ContestTotals> = serde_json::from_str(&text).map_err(corrupt)?;
                    (EncryptedTally::from_totals(self.ctx, &totals).map_err(corrupt)?, n, true)
                }
                None => (EncryptedTally::new(self.ctx), 0, false),
            };
            self.rows.insert(key.clone(), loaded);
        }
        let (tally, count, _) = self.rows.get_mut(&key).ok_or_else(|| corrupt("shard row"))?;
        tally.add(ballot).map_err(corrupt)?;
        *count += 1;
        if let Some(previous) = superseded {
            tally.subtract_stored(previous).map_err(corrupt)?;
            *count -= 1;
        }
        Ok(())
    }

    /// Writes every changed row (inside the same transaction).
    pub fn store(self, c: &mut AnyConnection) -> Result<(), ApiError> {
        for ((style, shard), (tally, count, exists)) in self.rows {
            let text = serde_json::to_string(&tally.totals().map_err(corrupt)?).map_err(corrupt)?;
            if exists {
                diesel::update(
                    encrypted_totals::table
                        .filter(encrypted_totals::campaign_id.eq(self.campaign))
                        .filter(encrypted_totals::ballot_style.eq(&style))
                        .filter(encrypted_totals::shard.eq(shard)),
                )
                .set((encrypted_totals::totals.eq(&text), encrypted_totals::ballot_count.eq(count)))
                .execute(c)?;
            } else {
                diesel::insert_into(encrypted_totals::table)
                    .values((
                        encrypted_totals::campaign_id.eq(self.campaign),
                        encrypted_totals::ballot_style.eq(&style),
                        encrypted_totals::shard.eq(shard),
                        encrypted_totals::totals.eq(&text),
                        encrypted_totals::ballot_count.eq(count),
                    ))
                    .execute(c)
                    .map_err(|e| {
                        if crate::db::is_unique_violation(&e) {
                            ApiError::conflict("board_busy", "the totals changed meanwhile; try again")
                        } else {
                            e.into()
                        }
                    })?;
            }
        }
        Ok(())
    }
}

/// The sum of every shard of a campaign (the totals as kept at cast time), with the number of
/// counted ballots the shards hold.
pub fn shard_totals(
    c: &mut AnyConnection,
    campaign: &str,
    ctx: &ElectionContext,
) -> Result<(Vec<ContestTotals>, i64), ApiError> {
    let rows: Vec<(String, i64)> = encrypted_totals::table
        .filter(encrypted_totals::campaign_id.eq(campaign))
        .order((encrypted_totals::ballot_style.asc(), encrypted_totals::shard.asc()))
        .select((encrypted_totals::totals, encrypted_totals::ballot_count))
        .load(c)?;
    let mut sum = EncryptedTally::new(ctx);
    let mut ballots = 0i64;
    for (text, n) in rows {
        let totals: Vec<ContestTotals> = serde_json::from_str(&text).map_err(corrupt)?;
        sum.merge(&EncryptedTally::from_totals(ctx, &totals).map_err(corrupt)?).map_err(corrupt)?;
        ballots += n;
    }
    Ok((sum.totals().map_err(corrupt)?, ballots))
}
