//! Turnout of e-voters per time slot, published only once each slot has ended.
//!
//! Slots are two hours from the opening of the voting window (the CEC's 10:00, 12:00, … reports for
//! an 08:00 opening). A voter counts once, in the slot of their first accepted ballot (challenged
//! ballots never count), so re-voting under `last_counts` does not inflate turnout.
//!
//! Voting that closed before the scheduled end (the demo's early close, a decision) ends the last
//! slot at the closing: after the close the final figure covers every voter who cast (issue 20:
//! the demo said 2 voted after the polls had closed when 4 had cast).

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use chrono::DateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::clock::bishkek;
use crate::error::ApiError;
use crate::models::load_campaign;
use crate::schema::{ballots, evoter_credentials, tallies};
use crate::state::AppState;

/// Slot length.
pub const SLOT_SECS: i64 = 2 * 3600;

/// Routes under `/api/campaigns/{id}`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/{id}/turnout", web::get().to(turnout));
}

#[derive(Debug, Serialize)]
struct Slot {
    /// Slot end, Bishkek wall-clock time (`HH:MM`).
    until: String,
    /// Voters whose first ballot arrived in this slot.
    voters: i64,
    /// Voters so far.
    cumulative: i64,
}

/// Slots of `[opens, closes)` that have ended at `now`.
fn ended_slots(opens: i64, closes: i64, now: i64) -> u64 {
    let mut n = 0;
    let mut start = opens;
    while start < closes && (start + SLOT_SECS).min(closes) <= now {
        n += 1;
        start += SLOT_SECS;
    }
    n
}

/// `GET /api/campaigns/{id}/turnout`. The figures change only when a slot ends, so each server
/// scans the ballots once per slot ([`crate::read_cache::Published`]) and answers every other
/// request from memory: a crowd reading turnout costs no scan of the ballots. (A ballot received
/// just before a boundary but committed just after the scan shows at the next boundary's scan.)
async fn turnout(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let now = state.clock.now().timestamp();
    let (campaign, closed_at) = {
        let id = id.clone();
        state
            .db
            .run(move |c| {
                let campaign = load_campaign(c, &id)?;
                let closed_at: Option<i64> = tallies::table.find(&id).select(tallies::closed_at).first(c).optional()?;
                Ok((campaign, closed_at))
            })
            .await?
    };
    // the window ends at the scheduled end, or at the closing if voting closed earlier
    let closes_at = closed_at.map_or(campaign.closes_at, |t| t.clamp(campaign.opens_at, campaign.closes_at));
    let ended = ended_slots(campaign.opens_at, closes_at, now);
    if ended > 0
        && let Some(answer) = state.turnout.get(&id, ended)
    {
        return Ok(HttpResponse::Ok().json(answer));
    }
    // After a slot has ended, one scan at a time: who waited finds the answer kept. Before,
    // nothing is scanned (one count), so nobody waits on anyone.
    let _computing = if ended > 0 { Some(state.turnout.computing().await) } else { None };
    if ended > 0
        && let Some(answer) = state.turnout.get(&id, ended)
    {
        return Ok(HttpResponse::Ok().json(answer));
    }
    let cid = id.clone();
    let (firsts, e_voters) = state
        .db
        .run(move |c| {
            let id = cid;
            // before the first slot ends nothing is published: no scan of the ballots
            let rows: Vec<(String, i64)> = if ended == 0 {
                Vec::new()
            } else {
                ballots::table
                    .filter(ballots::campaign_id.eq(&id))
                    .filter(ballots::status.ne("challenged"))
                    .select((ballots::pin, ballots::received_at))
                    .load(c)?
            };
            let mut first: HashMap<String, i64> = HashMap::new();
            for (pin, at) in rows {
                first.entry(pin).and_modify(|t| *t = (*t).min(at)).or_insert(at);
            }
            let e_voters: i64 = evoter_credentials::table
                .filter(evoter_credentials::campaign_id.eq(&id))
                .filter(evoter_credentials::status.eq("active"))
                .count()
                .get_result(c)?;
            Ok((first.into_values().collect::<Vec<i64>>(), e_voters))
        })
        .await?;
    let mut slots = Vec::new();
    let mut cumulative = 0;
    let mut start = campaign.opens_at;
    while start < closes_at {
        let end = (start + SLOT_SECS).min(closes_at);
        if end > now {
            break;
        }
        let n = firsts.iter().filter(|t| **t >= start && **t < end).count() as i64;
        cumulative += n;
        let until = DateTime::from_timestamp(end, 0)
            .map(|d| d.with_timezone(&bishkek()).format("%H:%M").to_string())
            .unwrap_or_default();
        slots.push(Slot { until, voters: n, cumulative });
        start = end;
    }
    let answer = serde_json::json!({
        "campaign_id": campaign.id,
        "voting_day": campaign.voting_day,
        "timezone": "Asia/Bishkek (UTC+06:00)",
        "e_voters": e_voters,
        "slots": slots,
    });
    if ended > 0 {
        state.turnout.put(&id, ended, answer.clone());
    }
    Ok(HttpResponse::Ok().json(answer))
}
