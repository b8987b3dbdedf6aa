//! Voter-register import (CSV or JSON) and the e-voter list export per precinct.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::audit;
use crate::domain::Role;
use crate::domain::credential::fingerprint_of_hex;
use crate::domain::voter::VoterRecord;
use crate::error::ApiError;
use crate::extract::body::{ImportBody, media_type};
use crate::extract::session::{Session, require_staff, territories};
use crate::models::{PrecinctRow, load_campaign, load_precincts};
use crate::refusal::refuse;
use crate::schema::{evoter_credentials, voters};
use crate::state::AppState;

/// Routes under `/api/campaigns/{id}`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/{id}/voters/import", web::post().to(import)).route("/{id}/evoters", web::get().to(export_evoters));
}

/// A rejected row.
#[derive(Debug, Serialize)]
pub struct Rejection {
    /// 1-based data row (the CSV header is not counted; for JSON the array index + 1).
    pub row: usize,
    /// The PIN as given, if any.
    pub pin: Option<String>,
    /// Every reason.
    pub reasons: Vec<String>,
}

/// The import report.
#[derive(Debug, Default, Serialize)]
pub struct ImportReport {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
    pub rejections: Vec<Rejection>,
}

struct RawRow {
    row: usize,
    pin: String,
    full_name: String,
    birth_date: String,
    precinct: String,
}

fn parse_csv(bytes: &[u8]) -> Result<(Vec<RawRow>, Vec<Rejection>), ApiError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).flexible(true).trim(csv::Trim::All).from_reader(bytes);
    let headers =
        rdr.headers().map_err(|e| ApiError::Malformed { field: None, message: format!("CSV header: {e}") })?.clone();
    let col = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(pin), Some(name), Some(birth), Some(precinct)) =
        (col("pin"), col("full_name"), col("birth_date"), col("precinct"))
    else {
        return Err(ApiError::Malformed {
            field: Some("header".into()),
            message: "the CSV header must name the columns pin, full_name, birth_date, precinct".into(),
        });
    };
    let mut rows = Vec::new();
    let mut rejections = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let row = i + 1;
        match rec {
            Ok(r) if r.len() == headers.len() => {
                let get = |k: usize| r.get(k).unwrap_or("").to_string();
                rows.push(RawRow {
                    row,
                    pin: get(pin),
                    full_name: get(name),
                    birth_date: get(birth),
                    precinct: get(precinct),
                });
            }
            Ok(r) => rejections.push(Rejection {
                row,
                pin: r.get(pin).map(str::to_string),
                reasons: vec![format!("expected {} fields, found {}", headers.len(), r.len())],
            }),
            Err(e) => rejections.push(Rejection { row, pin: None, reasons: vec![format!("unreadable CSV row: {e}")] }),
        }
    }
    Ok((rows, rejections))
}

fn parse_json_rows(bytes: &[u8]) -> Result<(Vec<RawRow>, Vec<Rejection>), ApiError> {
    let items: Vec<Value> = crate::extract::body::decode_json(bytes)?;
    let mut rows = Vec::new();
    let mut rejections = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let row = i + 1;
        let Some(obj) = item.as_object() else {
            rejections.push(Rejection { row, pin: None, reasons: vec!["must be an object".into()] });
            continue;
        };
        let mut reasons = Vec::new();
        let mut field = |k: &str| match obj.get(k) {
            Some(Value::String(s)) => s.clone(),
            Some(_) => {
                reasons.push(format!("{k}: must be a string"));
                String::new()
            }
            None => {
                reasons.push(format!("{k}: missing"));
                String::new()
            }
        };
        let raw = RawRow {
            row,
            pin: field("pin"),
            full_name: field("full_name"),
            birth_date: field("birth_date"),
            precinct: field("precinct"),
        };
        for k in obj.keys() {
            if !["pin", "full_name", "birth_date", "precinct"].contains(&k.as_str()) {
                reasons.push(format!("{k}: unknown field"));
            }
        }
        if reasons.is_empty() {
            rows.push(raw);
        } else {
            rejections.push(Rejection {
                row,
                pin: obj.get("pin").and_then(Value::as_str).map(str::to_string),
                reasons,
            });
        }
    }
    Ok((rows, rejections))
}

async fn import(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: ImportBody,
) -> Result<HttpResponse, ApiError> {
    let grants = require_staff(&state, &req, &session, &[Role::CecAdmin, Role::TecAdmin]).await?;
    let allowed = territories(&grants);
    let mt = media_type(&req);
    let is_csv = match mt.as_str() {
        "text/csv" => true,
        "application/json" => false,
        _ => return Err(ApiError::UnsupportedMediaType("the register must be text/csv or application/json".into())),
    };
    let bytes = body.0;
    let (raw_rows, mut rejections) = if is_csv { parse_csv(&bytes)? } else { parse_json_rows(&bytes)? };
    let id = path.into_inner();
    let now = state.clock.now().timestamp();
    let actor = session.pin.as_str().to_string();
    let report = state
        .db
        .write(move |c| {
            let campaign = load_campaign(c, &id)?;
            let st = campaign.state()?;
            if !st.register_editable() {
                return Err(ApiError::conflict(
                    "register_closed",
                    format!("the register cannot change in state {}", st.as_str()),
                ));
            }
            let voting_day = campaign.voting_day()?;
            let precincts: HashMap<String, PrecinctRow> =
                load_precincts(c, &id)?.into_iter().map(|p| (p.code.clone(), p)).collect();
            let mut seen: HashMap<String, usize> = HashMap::new();
            let mut report = ImportReport::default();
            for raw in raw_rows {
                let parsed = VoterRecord::parse(&raw.pin, &raw.full_name, &raw.birth_date, &raw.precinct, voting_day);
                let mut reasons = match &parsed {
                    Ok(_) => Vec::new(),
                    Err(r) => r.clone(),
                };
                if let Ok(v) = &parsed {
                    match precincts.get(&v.precinct) {
                        None => reasons.push(format!("precinct: no precinct {} in this campaign", v.precinct)),
                        Some(p) => {
                            if let Some(t) = &allowed
                                && !t.contains(&p.territory) {
                                    reasons.push(format!("precinct: {} is outside your territory", v.precinct));
                                }
                        }
                    }
                    if let Some(first) = seen.get(v.pin.as_str()) {
                        reasons.push(format!("pin: duplicate of row {first} in this file"));
                    }
                }
                let v = match parsed {
                    Ok(v) if reasons.is_empty() => v,
                    _ => {
                        rejections.push(Rejection { row: raw.row, pin: Some(raw.pin), reasons });
                        continue;
                    }
                };
                seen.insert(v.pin.as_str().to_string(), raw.row);
                let birth = v.birth_date.format("%Y-%m-%d").to_string();
                let existing: Option<(String, String, String)> = voters::table
                    .filter(voters::campaign_id.eq(&id))
                    .filter(voters::pin.eq(v.pin.as_str()))
                    .select((voters::full_name, voters::birth_date, voters::precinct_code))
                    .first(c)
                    .optional()?;
                match existing {
                    None => {
                        diesel::insert_into(voters::table)
                            .values((
                                voters::campaign_id.eq(&id),
                                voters::pin.eq(v.pin.as_str()),
                                voters::full_name.eq(&v.full_name),
                                voters::birth_date.eq(&birth),
                                voters::precinct_code.eq(&v.precinct),
                                voters::imported_at.eq(now),
                            ))
                            .execute(c)?;
                        report.inserted += 1;
                        // each added voter is audited by PIN, as each changed one is: a voter
                        // added to one's own territory leaves more than a count
                        let details = json!({ "pin": v.pin.as_str(), "precinct": v.precinct });
                        audit::append(c, now, &actor, "register.voter_added", Some(&id), &details)?;
                    }
                    Some((n, b, p)) if n == v.full_name && b == birth && p == v.precinct => report.unchanged += 1,
                    Some((_, _, p))
                        if allowed.as_ref().is_some_and(|t| {
                            precincts.get(&p).is_none_or(|old| !t.contains(&old.territory))
                        }) =>
                    {
                        // a territorial administrator neither moves nor renames a voter of
                        // another territory (the row's new precinct may well be in its own)
                        rejections.push(Rejection {
                            row: raw.row,
                            pin: Some(raw.pin),
                            reasons: vec![
                                "pin: the voter is registered in a precinct outside your territory".into(),
                            ],
                        });
                        continue;
                    }
                    Some((old_name, old_birth, p)) => {
                        if p != v.precinct {
                            let active: i64 = evoter_credentials::table
                                .filter(evoter_credentials::campaign_id.eq(&id))
                                .filter(evoter_credentials::pin.eq(v.pin.as_str()))
                                .filter(evoter_credentials::status.eq("active"))
                                .count()
                                .get_result(c)?;
                            if active > 0 {
                                rejections.push(Rejection {
                                    row: raw.row,
                                    pin: Some(raw.pin),
                                    reasons: vec!["precinct: the voter is on the e-voter list; their precinct cannot change by import".into()],
                                });
                                continue;
                            }
                        }
                        diesel::update(voters::table.filter(voters::campaign_id.eq(&id)).filter(voters::pin.eq(v.pin.as_str())))
                            .set((
                                voters::full_name.eq(&v.full_name),
                                voters::birth_date.eq(&birth),
                                voters::precinct_code.eq(&v.precinct),
                                voters::imported_at.eq(now),
                            ))
                            .execute(c)?;
                        report.updated += 1;
                        // each changed voter is audited by PIN (the import's own entry has only counts)
                        let mut changed = Vec::new();
                        if old_name != v.full_name {
                            changed.push("full_name");
                        }
                        if old_birth != birth {
                            changed.push("birth_date");
                        }
                        if p != v.precinct {
                            changed.push("precinct");
                        }
                        let details = json!({
                            "pin": v.pin.as_str(), "changed": changed,
                            "precinct": { "from": p, "to": v.precinct },
                        });
                        audit::append(c, now, &actor, "register.voter_changed", Some(&id), &details)?;
                    }
                }
            }
            rejections.sort_by_key(|r| r.row);
            report.rejected = rejections.len() as u64;
            report.rejections = rejections;
            let details = json!({
                "format": if is_csv { "csv" } else { "json" },
                "inserted": report.inserted, "updated": report.updated,
                "unchanged": report.unchanged, "rejected": report.rejected,
            });
            audit::append(c, now, &actor, "register.import", Some(&id), &details)?;
            Ok(report)
        })
        .await?;
    state.metrics.import(report.inserted, report.updated, report.unchanged, report.rejected);
    Ok(HttpResponse::Ok().json(report))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportQuery {
    precinct: Option<String>,
    format: Option<String>,
}

/// One e-voter in the export.
#[derive(Debug, Serialize)]
struct EVoter {
    pin: String,
    full_name: String,
    birth_date: String,
    precinct: String,
    ballot_style: String,
    credential_fingerprint: String,
    applied_at: i64,
}

async fn export_evoters(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    q: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let grants = require_staff(&state, &req, &session, &[Role::CecAdmin, Role::TecAdmin]).await?;
    let allowed = territories(&grants);
    let q = q.into_inner();
    let precinct =
        q.precinct.ok_or_else(|| ApiError::invalid("precinct", "required: the list is exported per precinct"))?;
    let csv_out = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::invalid("format", "must be json or csv")),
    };
    let id = path.into_inner();
    let p = precinct.clone();
    let (prow, rows) = state
        .db
        .run(move |c| {
            load_campaign(c, &id)?;
            let prow = load_precincts(c, &id)?
                .into_iter()
                .find(|x| x.code == p)
                .ok_or_else(|| ApiError::NotFound(format!("no precinct {p} in this campaign")))?;
            let rows: Vec<(String, String, String, String, String, String, i64)> = voters::table
                .inner_join(
                    evoter_credentials::table.on(evoter_credentials::campaign_id
                        .eq(voters::campaign_id)
                        .and(evoter_credentials::pin.eq(voters::pin))),
                )
                .filter(voters::campaign_id.eq(&id))
                .filter(voters::precinct_code.eq(&p))
                .filter(evoter_credentials::status.eq("active"))
                .order(voters::pin.asc())
                .select((
                    voters::pin,
                    voters::full_name,
                    voters::birth_date,
                    voters::precinct_code,
                    evoter_credentials::ballot_style,
                    evoter_credentials::public_key,
                    evoter_credentials::registered_at,
                ))
                .load(c)?;
            Ok((prow, rows))
        })
        .await?;
    if let Some(t) = &allowed
        && !t.contains(&prow.territory)
    {
        let e = ApiError::forbidden("outside_territory", format!("precinct {precinct} is outside your territory"));
        return Err(refuse(&state, &req, Some(session.pin.as_str()), "territory", e).await);
    }
    // exporting personal data is a staff action: audited
    let (now, actor, cid, pc, n) = (
        state.clock.now().timestamp(),
        session.pin.as_str().to_string(),
        prow.campaign_id.clone(),
        prow.code.clone(),
        rows.len(),
    );
    state
        .db
        .write(move |c| {
            let details = json!({ "precinct": pc, "e_voters": n, "format": if csv_out { "csv" } else { "json" } });
            audit::append(c, now, &actor, "register.export_evoters", Some(&cid), &details).map(drop)
        })
        .await?;
    let list: Vec<EVoter> = rows
        .into_iter()
        .map(|(pin, full_name, birth_date, precinct, ballot_style, key, applied_at)| EVoter {
            pin,
            full_name,
            birth_date,
            precinct,
            ballot_style,
            credential_fingerprint: fingerprint_of_hex(&key),
            applied_at,
        })
        .collect();
    if csv_out {
        let mut w = csv::Writer::from_writer(Vec::new());
        for e in &list {
            w.serialize(e).map_err(|e| ApiError::Unexpected(anyhow::anyhow!("csv: {e}")))?;
        }
        if list.is_empty() {
            w.write_record([
                "pin",
                "full_name",
                "birth_date",
                "precinct",
                "ballot_style",
                "credential_fingerprint",
                "applied_at",
            ])
            .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("csv: {e}")))?;
        }
        let bytes = w.into_inner().map_err(|e| ApiError::Unexpected(anyhow::anyhow!("csv: {e}")))?;
        return Ok(HttpResponse::Ok().content_type("text/csv; charset=utf-8").body(bytes));
    }
    Ok(HttpResponse::Ok()
        .json(json!({ "precinct": prow.code, "precinct_name": prow.name, "count": list.len(), "e_voters": list })))
}

/// Decodes `bytes` as this module's request bodies and runs the checks its handlers make before
/// they touch the database. For the fuzz targets in `fuzz/` only (feature `fuzzing`).
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_bodies(bytes: &[u8]) {
    let voting_day = chrono::NaiveDate::from_ymd_opt(2023, 4, 9).unwrap_or_default();
    for rows in [parse_csv(bytes), parse_json_rows(bytes)] {
        for r in rows.map(|r| r.0).unwrap_or_default() {
            let _ = VoterRecord::parse(&r.pin, &r.full_name, &r.birth_date, &r.precinct, voting_day);
        }
    }
}
