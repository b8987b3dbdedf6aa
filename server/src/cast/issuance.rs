//! Ballots issued (protocol line 2, docs/protocol/11-election-protocol.md §Lines): a voter who
//! opened an e-ballot, or cast one (a cast implies it), is recorded once in `ballots_issued`.

use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::error::ApiError;
use crate::schema::ballots_issued;

/// Records that a voter opened an e-ballot (protocol line 2). Idempotent; safe inside any
/// transaction on both backends (`ON CONFLICT DO NOTHING`).
pub fn mark_issued(c: &mut AnyConnection, campaign: &str, pin: &str, now_secs: i64) -> Result<(), ApiError> {
    diesel::sql_query(
        "INSERT INTO ballots_issued (campaign_id, pin, issued_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind::<diesel::sql_types::Text, _>(campaign)
    .bind::<diesel::sql_types::Text, _>(pin)
    .bind::<diesel::sql_types::BigInt, _>(now_secs)
    .execute(c)?;
    Ok(())
}

/// [`mark_issued`] for many voters, one statement per 4,096 (a group commit).
pub fn mark_issued_many(c: &mut AnyConnection, campaign: &str, pins: &[&str], now_secs: i64) -> Result<(), ApiError> {
    use diesel::sql_types::{BigInt, Text};
    for chunk in pins.chunks(4096) {
        let sql = format!(
            "INSERT INTO ballots_issued (campaign_id, issued_at, pin) VALUES {} ON CONFLICT DO NOTHING",
            crate::db::values_rows(chunk.len(), 2, 1)
        );
        let mut q = diesel::sql_query(sql).into_boxed().bind::<Text, _>(campaign).bind::<BigInt, _>(now_secs);
        for pin in chunk {
            q = q.bind::<Text, _>(*pin);
        }
        q.execute(c)?;
    }
    Ok(())
}

/// Voters who opened an e-ballot (or cast one: a cast implies it).
pub fn issued_count(c: &mut AnyConnection, campaign: &str) -> Result<u64, ApiError> {
    let n: i64 = ballots_issued::table.filter(ballots_issued::campaign_id.eq(campaign)).count().get_result(c)?;
    u64::try_from(n).map_err(|e| ApiError::Unexpected(e.into()))
}
