//! Rows read from the database, and their JSON views.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::AnyConnection;
use crate::domain::{CampaignKind, CampaignState, RevotePolicy, Role};
use crate::error::ApiError;
use crate::schema::{ballot_styles, campaigns, precincts, staff};

/// A campaign row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = campaigns)]
pub struct CampaignRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub state: String,
    pub voting_day: String,
    pub window_start: String,
    pub window_end: String,
    pub opens_at: i64,
    pub closes_at: i64,
    pub last_application_day: String,
    pub demo_mode: bool,
    pub revote_policy: String,
    pub manifest: String,
    pub manifest_hash: Option<String>,
    pub election_public_key: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Who created the campaign (and chose its re-vote rule); '' for campaigns made before.
    pub created_by: String,
}

/// A precinct row.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = precincts)]
pub struct PrecinctRow {
    #[serde(skip)]
    pub campaign_id: String,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub ballot_style: String,
    pub territory: String,
}

/// A ballot-style row.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = ballot_styles)]
pub struct BallotStyleRow {
    #[serde(skip)]
    pub campaign_id: String,
    pub code: String,
    pub name: String,
}

fn corrupt(what: &str) -> ApiError {
    ApiError::Unexpected(anyhow::anyhow!("corrupt campaign row: {what}"))
}

impl CampaignRow {
    /// Lifecycle state.
    pub fn state(&self) -> Result<CampaignState, ApiError> {
        CampaignState::parse(&self.state).map_err(|_| corrupt("state"))
    }
    /// Kind.
    pub fn kind(&self) -> Result<CampaignKind, ApiError> {
        CampaignKind::parse(&self.kind).map_err(|_| corrupt("kind"))
    }
    /// Re-vote policy.
    pub fn revote_policy(&self) -> Result<RevotePolicy, ApiError> {
        RevotePolicy::parse(&self.revote_policy).map_err(|_| corrupt("revote_policy"))
    }
    /// Voting day.
    pub fn voting_day(&self) -> Result<NaiveDate, ApiError> {
        NaiveDate::parse_from_str(&self.voting_day, "%Y-%m-%d").map_err(|_| corrupt("voting_day"))
    }
    /// Last application day.
    pub fn last_application_day(&self) -> Result<NaiveDate, ApiError> {
        NaiveDate::parse_from_str(&self.last_application_day, "%Y-%m-%d").map_err(|_| corrupt("last_application_day"))
    }
}

/// Loads a campaign or answers 404.
pub fn load_campaign(conn: &mut AnyConnection, id: &str) -> Result<CampaignRow, ApiError> {
    campaigns::table
        .filter(campaigns::id.eq(id))
        .select(CampaignRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("no campaign {id}")))
}

/// Precincts of a campaign.
pub fn load_precincts(conn: &mut AnyConnection, id: &str) -> Result<Vec<PrecinctRow>, ApiError> {
    Ok(precincts::table
        .filter(precincts::campaign_id.eq(id))
        .order(precincts::code.asc())
        .select(PrecinctRow::as_select())
        .load(conn)?)
}

/// A staff role held by a PIN.
#[derive(Debug, Clone)]
pub struct StaffGrant {
    /// Role.
    pub role: Role,
    /// Territory (for territorial commission administrators).
    pub territory: Option<String>,
}

/// The staff roles of a PIN.
pub fn staff_roles(conn: &mut AnyConnection, pin: &str) -> Result<Vec<StaffGrant>, ApiError> {
    let rows: Vec<(String, Option<String>)> =
        staff::table.filter(staff::pin.eq(pin)).select((staff::role, staff::territory)).load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(r, t)| Role::parse_staff(&r).ok().map(|role| StaffGrant { role, territory: t }))
        .collect())
}

fn rfc3339(ts: i64) -> String {
    DateTime::<Utc>::from_timestamp(ts, 0).map(|d| d.to_rfc3339()).unwrap_or_default()
}

/// The public view of a campaign.
#[derive(Debug, Serialize)]
pub struct CampaignView {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub state: String,
    pub voting_day: String,
    pub voting_window: WindowView,
    pub last_application_day: String,
    pub demo_mode: bool,
    pub revote_policy: String,
    pub manifest: serde_json::Value,
    pub manifest_hash: Option<String>,
    pub ballot_styles: Vec<BallotStyleRow>,
    pub precincts: Vec<PrecinctRow>,
}

/// The voting window.
#[derive(Debug, Serialize)]
pub struct WindowView {
    pub start: String,
    pub end: String,
    pub timezone: &'static str,
    pub opens_at: String,
    pub closes_at: String,
}

/// Builds the view of a campaign with its styles and precincts.
pub fn campaign_view(conn: &mut AnyConnection, c: CampaignRow) -> Result<CampaignView, ApiError> {
    let styles = ballot_styles::table
        .filter(ballot_styles::campaign_id.eq(&c.id))
        .order(ballot_styles::code.asc())
        .select(BallotStyleRow::as_select())
        .load(conn)?;
    let precincts = load_precincts(conn, &c.id)?;
    let manifest = serde_json::from_str(&c.manifest).map_err(|_| corrupt("manifest"))?;
    Ok(CampaignView {
        voting_window: WindowView {
            start: c.window_start,
            end: c.window_end,
            timezone: "Asia/Bishkek (UTC+06:00)",
            opens_at: rfc3339(c.opens_at),
            closes_at: rfc3339(c.closes_at),
        },
        id: c.id,
        name: c.name,
        kind: c.kind,
        state: c.state,
        voting_day: c.voting_day,
        last_application_day: c.last_application_day,
        demo_mode: c.demo_mode,
        revote_policy: c.revote_policy,
        manifest,
        manifest_hash: c.manifest_hash,
        ballot_styles: styles,
        precincts,
    })
}
