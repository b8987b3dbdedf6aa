//! The append-only, SHA-256 hash-chained audit log, and the alerts raised for refused access
//! (the HTTP layer records a refusal through `crate::refusal`).
//!
//! Entry `n` has `hash_n = SHA-256(enc(prev_hash) ‖ enc(seq) ‖ enc(at) ‖ enc(actor) ‖ enc(action) ‖
//! enc(campaign_id or "") ‖ enc(details))` where `enc(x)` is the 8-byte big-endian length of the
//! UTF-8 text of `x` followed by that text, and `hash_0` is 64 zeros. The database refuses UPDATE
//! and DELETE on `audit_log` (triggers); the chain makes any other tampering detectable.

use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::AnyConnection;
use crate::error::ApiError;
use crate::schema::{alerts, audit_head, audit_log};

/// The hash of the empty chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An audit entry as stored and published.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry {
    /// Position, from 1.
    pub seq: i64,
    /// Unix seconds.
    pub at: i64,
    /// Who acted: a PIN, `system`, or `anonymous@<address>`.
    pub actor: String,
    /// What was done, e.g. `campaign.transition`.
    pub action: String,
    /// The campaign concerned.
    pub campaign_id: Option<String>,
    /// JSON details.
    pub details: String,
    /// Previous entry's hash.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// Computes an entry's hash.
pub fn entry_hash(
    prev_hash: &str,
    seq: i64,
    at: i64,
    actor: &str,
    action: &str,
    campaign_id: Option<&str>,
    details: &str,
) -> String {
    let mut h = Sha256::new();
    for part in [prev_hash, &seq.to_string(), &at.to_string(), actor, action, campaign_id.unwrap_or(""), details] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Appends an entry inside the caller's (write) transaction; returns its sequence number.
/// Appends serialise on the single `audit_head` row.
pub fn append(
    conn: &mut AnyConnection,
    at: i64,
    actor: &str,
    action: &str,
    campaign_id: Option<&str>,
    details: &serde_json::Value,
) -> Result<i64, ApiError> {
    diesel::update(audit_head::table.filter(audit_head::id.eq(1)))
        .set(audit_head::seq.eq(audit_head::seq + 1))
        .execute(conn)?;
    let (seq, prev): (i64, String) =
        audit_head::table.filter(audit_head::id.eq(1)).select((audit_head::seq, audit_head::hash)).first(conn)?;
    let details = details.to_string();
    let hash = entry_hash(&prev, seq, at, actor, action, campaign_id, &details);
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::seq.eq(seq),
            audit_log::at.eq(at),
            audit_log::actor.eq(actor),
            audit_log::action.eq(action),
            audit_log::campaign_id.eq(campaign_id),
            audit_log::details.eq(&details),
            audit_log::prev_hash.eq(&prev),
            audit_log::hash.eq(&hash),
        ))
        .execute(conn)?;
    diesel::update(audit_head::table.filter(audit_head::id.eq(1))).set(audit_head::hash.eq(&hash)).execute(conn)?;
    Ok(seq)
}

/// The result of checking the chain.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ChainReport {
    /// Entries checked.
    pub entries: i64,
    /// Hash of the last entry.
    pub head: String,
    /// First sequence number whose hash or link does not match, if any.
    pub first_bad_seq: Option<i64>,
}

/// Recomputes the whole chain.
pub fn verify_chain(conn: &mut AnyConnection) -> Result<ChainReport, ApiError> {
    let rows: Vec<AuditEntry> =
        audit_log::table.order(audit_log::seq.asc()).select(AuditEntry::as_select()).load(conn)?;
    let mut prev = GENESIS.to_string();
    for (expected_seq, r) in (1..).zip(rows.iter()) {
        let h = entry_hash(&r.prev_hash, r.seq, r.at, &r.actor, &r.action, r.campaign_id.as_deref(), &r.details);
        if r.seq != expected_seq || r.prev_hash != prev || h != r.hash {
            return Ok(ChainReport { entries: rows.len() as i64, head: prev, first_bad_seq: Some(r.seq) });
        }
        prev = h;
    }
    Ok(ChainReport { entries: rows.len() as i64, head: prev, first_bad_seq: None })
}

/// Records a refused access: an audit entry `access.refused` and an open alert.
pub fn record_refusal(
    conn: &mut AnyConnection,
    at: i64,
    actor: &str,
    ip: Option<&str>,
    path: &str,
    kind: &str,
    reason: &str,
) -> Result<i64, ApiError> {
    let details = serde_json::json!({ "kind": kind, "reason": reason, "path": path, "ip": ip });
    let seq = append(conn, at, actor, "access.refused", None, &details)?;
    insert_alert(conn, at, kind, actor, ip, path, reason, seq)
}

/// A refused access as the audit log records it.
#[derive(Debug, Clone, Copy)]
pub struct Refusal<'a> {
    /// Unix seconds.
    pub at: i64,
    /// A PIN, or `anonymous@<address>`.
    pub actor: &'a str,
    /// The client's address.
    pub ip: Option<&'a str>,
    /// The request's path.
    pub path: &'a str,
    /// What was refused (`invalid_token`, `role`, …).
    pub kind: &'a str,
    /// The answer's text.
    pub reason: &'a str,
}

/// Records `n` refusals of someone not signed in (an invalid token, a login bound to another
/// browser, demo mode off…) of one kind and window, aggregated: the window's first record writes
/// one audit entry `access.refused` (with `first`'s details and the window) and one alert, and
/// starts `refusal_counts.count` at `n`; every later one only adds `n` to it (and sets
/// `last_at`). The window is `first.at`'s, of `window_secs`. Returns whether an alert was raised.
/// Two servers racing for the window's first record: the loser's insert fails on the primary key
/// and its transaction rolls back, and the caller retries (then it counts).
pub fn record_anonymous_refusal(
    conn: &mut AnyConnection,
    first: &Refusal<'_>,
    window_secs: i64,
    n: i64,
    last_at: i64,
) -> Result<bool, ApiError> {
    use crate::schema::refusal_counts as rc;
    let window_secs = window_secs.max(1);
    let window_start = first.at - first.at.rem_euclid(window_secs);
    let counted = diesel::update(rc::table.filter(rc::kind.eq(first.kind)).filter(rc::window_start.eq(window_start)))
        .set((rc::count.eq(rc::count + n), rc::last_at.eq(last_at)))
        .execute(conn)?;
    if counted > 0 {
        return Ok(false);
    }
    let details = serde_json::json!({
        "kind": first.kind, "reason": first.reason, "path": first.path, "ip": first.ip,
        "aggregated": { "window_start": window_start, "window_secs": window_secs },
    });
    let seq = append(conn, first.at, first.actor, "access.refused", None, &details)?;
    insert_alert(conn, first.at, first.kind, first.actor, first.ip, first.path, first.reason, seq)?;
    let alert_id: i64 = alerts::table.filter(alerts::audit_seq.eq(seq)).select(alerts::id).first(conn)?;
    diesel::insert_into(rc::table)
        .values((
            rc::kind.eq(first.kind),
            rc::window_start.eq(window_start),
            rc::count.eq(n),
            rc::first_at.eq(first.at),
            rc::last_at.eq(last_at),
            rc::alert_id.eq(alert_id),
        ))
        .execute(conn)?;
    Ok(true)
}

/// Raises an alert that is not a refused access (e.g. a tally inconsistency found by the server
/// itself): an audit entry `action` with `details`, and an open alert of `kind` pointing at it.
pub fn raise_alert(
    conn: &mut AnyConnection,
    at: i64,
    action: &str,
    kind: &str,
    campaign_id: &str,
    reason: &str,
    details: &serde_json::Value,
) -> Result<i64, ApiError> {
    tracing::error!(campaign = campaign_id, kind, reason, "alert raised");
    let seq = append(conn, at, "system", action, Some(campaign_id), details)?;
    insert_alert(conn, at, kind, "system", None, &format!("campaign/{campaign_id}"), reason, seq)
}

#[allow(clippy::too_many_arguments)]
fn insert_alert(
    conn: &mut AnyConnection,
    at: i64,
    kind: &str,
    actor: &str,
    ip: Option<&str>,
    path: &str,
    reason: &str,
    seq: i64,
) -> Result<i64, ApiError> {
    diesel::insert_into(alerts::table)
        .values((
            alerts::at.eq(at),
            alerts::kind.eq(kind),
            alerts::actor.eq(actor),
            alerts::ip.eq(ip),
            alerts::path.eq(path),
            alerts::reason.eq(reason),
            alerts::audit_seq.eq(seq),
        ))
        .execute(conn)?;
    Ok(seq)
}
