//! The gates of a cast, before its ballot is looked at (docs/server.md §Casting): the campaign is
//! open (state and window, by the clock), the caller is on this campaign's e-voter list with an
//! active credential, and the ballot is for the caller's own ballot style. Proof and signature
//! verification (`cast::batch`), replay detection and the one-counted-ballot rule
//! (`cast::commit`) come after these gates.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::domain::CampaignState;
use crate::error::ApiError;
use crate::models::{CampaignRow, load_campaign};
use crate::schema::{evoter_credentials, voters};

/// What the gate found: everything the cast needs next.
#[derive(Debug, Clone)]
pub struct CastContext {
    /// The campaign. (Its re-vote rule is the election package's: `crate::package::Election`,
    /// never the row's.)
    pub campaign: CampaignRow,
    /// Row id of the voter's active credential (goes into `ballots.credential_id`).
    pub credential_id: i64,
    /// The active credential, hex (verify the ballot signature against it).
    pub credential: String,
    /// The voter's ballot style.
    pub ballot_style: String,
}

/// Checks that `pin` may cast a ballot of `ballot_style` in `campaign_id` at `now`.
pub fn cast_gate(
    c: &mut AnyConnection,
    campaign_id: &str,
    pin: &str,
    ballot_style: &str,
    now: DateTime<Utc>,
) -> Result<CastContext, ApiError> {
    let ctx = voter_gate(c, campaign_id, pin, now)?;
    if ballot_style != ctx.ballot_style {
        return Err(wrong_style(&ctx.ballot_style));
    }
    Ok(ctx)
}

/// Checks that `pin` may vote electronically in `campaign_id` at `now` (open, in the window, on
/// the register and the e-voter list), whatever the ballot.
pub fn voter_gate(
    c: &mut AnyConnection,
    campaign_id: &str,
    pin: &str,
    now: DateTime<Utc>,
) -> Result<CastContext, ApiError> {
    let campaign = open_campaign(c, campaign_id, now)?;
    let on_register: i64 =
        voters::table.filter(voters::campaign_id.eq(campaign_id)).filter(voters::pin.eq(pin)).count().get_result(c)?;
    if on_register == 0 {
        return Err(not_on_register());
    }
    let active: Option<(i64, String, String)> = evoter_credentials::table
        .filter(evoter_credentials::campaign_id.eq(campaign_id))
        .filter(evoter_credentials::pin.eq(pin))
        .filter(evoter_credentials::status.eq("active"))
        .select((evoter_credentials::id, evoter_credentials::public_key, evoter_credentials::ballot_style))
        .first(c)
        .optional()?;
    let Some((credential_id, credential, own_style)) = active else { return Err(not_an_e_voter()) };
    Ok(CastContext { campaign, credential_id, credential, ballot_style: own_style })
}

/// The gate before a cast's proofs are verified: the voter's active credential (hex) if the
/// ballot is of the voter's style; one query when it passes. The authoritative gate is
/// [`cast_gates`], in the transaction that records the cast; this one only refuses early (and
/// names the reason as [`cast_gate`] does when it refuses).
pub fn quick_cast_gate(
    c: &mut AnyConnection,
    campaign_id: &str,
    pin: &str,
    ballot_style: &str,
    now: DateTime<Utc>,
) -> Result<String, ApiError> {
    let active: Option<(String, String)> = evoter_credentials::table
        .filter(evoter_credentials::campaign_id.eq(campaign_id))
        .filter(evoter_credentials::pin.eq(pin))
        .filter(evoter_credentials::status.eq("active"))
        .select((evoter_credentials::public_key, evoter_credentials::ballot_style))
        .first(c)
        .optional()?;
    match active {
        Some((credential, own)) if own == ballot_style => Ok(credential),
        Some((_, own)) => Err(wrong_style(&own)),
        None => cast_gate(c, campaign_id, pin, ballot_style, now).map(|g| g.credential),
    }
}

/// [`cast_gate`] for many casts of one campaign at once (the group commit, `crate::cast::commit`):
/// the same checks and refusals, with one query per table instead of one per voter. `Err` is a
/// refusal of the whole group (the campaign is not open, or the database failed); each item is
/// that cast's own answer.
pub fn cast_gates(
    c: &mut AnyConnection,
    campaign_id: &str,
    casts: &[(&str, &str)],
    now: DateTime<Utc>,
) -> Result<Vec<Result<CastContext, ApiError>>, ApiError> {
    let campaign = open_campaign(c, campaign_id, now)?;
    let pins: Vec<&str> = casts.iter().map(|(pin, _)| *pin).collect();
    // one query for everyone who passes: an active credential of a voter on the register (one
    // round trip less in every group, docs/load.md §Fewer round trips); a voter it does not
    // return is refused with the reason the single gate gives
    let on_register =
        voters::table.filter(voters::campaign_id.eq(campaign_id)).filter(voters::pin.eq_any(&pins)).select(voters::pin);
    let active: HashMap<String, (i64, String, String)> = evoter_credentials::table
        .filter(evoter_credentials::campaign_id.eq(campaign_id))
        .filter(evoter_credentials::pin.eq_any(on_register))
        .filter(evoter_credentials::status.eq("active"))
        .select((
            evoter_credentials::pin,
            evoter_credentials::id,
            evoter_credentials::public_key,
            evoter_credentials::ballot_style,
        ))
        .load::<(String, i64, String, String)>(c)?
        .into_iter()
        .map(|(pin, id, key, style)| (pin, (id, key, style)))
        .collect();
    casts
        .iter()
        .map(|(pin, style)| {
            let Some((credential_id, credential, own_style)) = active.get(*pin).cloned() else {
                return Ok(Err(refusal(c, campaign_id, pin)?));
            };
            if *style != own_style {
                return Ok(Err(wrong_style(&own_style)));
            }
            Ok(Ok(CastContext { campaign: campaign.clone(), credential_id, credential, ballot_style: own_style }))
        })
        .collect()
}

/// Why a voter without an active credential on the register is refused: not on the register, or
/// not an e-voter (as [`voter_gate`] tells it).
fn refusal(c: &mut AnyConnection, campaign_id: &str, pin: &str) -> Result<ApiError, ApiError> {
    let on_register: i64 =
        voters::table.filter(voters::campaign_id.eq(campaign_id)).filter(voters::pin.eq(pin)).count().get_result(c)?;
    Ok(if on_register == 0 { not_on_register() } else { not_an_e_voter() })
}

/// The campaign, if it is open for voting at `now` (state and window).
fn open_campaign(c: &mut AnyConnection, campaign_id: &str, now: DateTime<Utc>) -> Result<CampaignRow, ApiError> {
    let campaign = load_campaign(c, campaign_id)?;
    let st = campaign.state()?;
    if st != CampaignState::VotingOpen {
        return Err(ApiError::conflict(
            "voting_not_open",
            format!("voting is not open (the campaign is in state {})", st.as_str()),
        ));
    }
    let ts = now.timestamp();
    if ts < campaign.opens_at || ts >= campaign.closes_at {
        return Err(ApiError::conflict(
            "outside_voting_window",
            format!(
                "ballots are accepted {}–{} Asia/Bishkek on {}",
                campaign.window_start, campaign.window_end, campaign.voting_day
            ),
        ));
    }
    Ok(campaign)
}

fn not_on_register() -> ApiError {
    ApiError::forbidden("not_on_register", "you are not on this campaign's voter register")
}

fn not_an_e_voter() -> ApiError {
    ApiError::forbidden(
        "not_an_e_voter",
        "you did not apply for electronic voting in this campaign; vote at your polling station",
    )
}

fn wrong_style(own: &str) -> ApiError {
    ApiError::invalid("ballot_style", format!("your ballot style is {own}"))
}
