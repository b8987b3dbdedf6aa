//! The voter cabinet: apply for e-voting (registering the public credential), or withdraw, until
//! the campaign's last application day (Asia/Bishkek calendar).

use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::clock::bishkek_date;
use crate::credentials::{check_registration, insert_active_credential, lock_voter};
use crate::db::AnyConnection;
use crate::domain::PublicCredential;
use crate::domain::credential::{fingerprint_of_hex, hex32};
use crate::error::ApiError;
use crate::extract::body::ApiJson;
use crate::extract::session::{Session, rate_limit_voter};
use crate::models::{CampaignRow, load_campaign};
use crate::refusal::refuse;
use crate::schema::{evoter_credentials, precincts, voters};
use crate::state::AppState;

/// Routes under `/api/campaigns/{id}`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/{id}/cabinet", web::get().to(cabinet))
        .route("/{id}/cabinet/application", web::put().to(apply))
        .route("/{id}/cabinet/application", web::delete().to(withdraw))
        .route("/{id}/credentials", web::get().to(public_credentials));
}

/// The voter's register entry with the ballot style of their precinct.
struct VoterEntry {
    full_name: String,
    precinct: String,
    ballot_style: String,
}

fn voter_entry(c: &mut AnyConnection, campaign: &str, pin: &str) -> Result<Option<VoterEntry>, ApiError> {
    let row: Option<(String, String, String)> = voters::table
        .inner_join(
            precincts::table
                .on(precincts::campaign_id.eq(voters::campaign_id).and(precincts::code.eq(voters::precinct_code))),
        )
        .filter(voters::campaign_id.eq(campaign))
        .filter(voters::pin.eq(pin))
        .select((voters::full_name, voters::precinct_code, precincts::ballot_style))
        .first(c)
        .optional()?;
    Ok(row.map(|(full_name, precinct, ballot_style)| VoterEntry { full_name, precinct, ballot_style }))
}

#[derive(Debug, Queryable, Serialize)]
struct CredentialView {
    #[serde(skip)]
    id: i64,
    public_key: String,
    ballot_style: String,
    status: String,
    registered_at: i64,
    ended_at: Option<i64>,
}

fn credentials(c: &mut AnyConnection, campaign: &str, pin: &str) -> Result<Vec<CredentialView>, ApiError> {
    Ok(evoter_credentials::table
        .filter(evoter_credentials::campaign_id.eq(campaign))
        .filter(evoter_credentials::pin.eq(pin))
        .order(evoter_credentials::id.asc())
        .select((
            evoter_credentials::id,
            evoter_credentials::public_key,
            evoter_credentials::ballot_style,
            evoter_credentials::status,
            evoter_credentials::registered_at,
            evoter_credentials::ended_at,
        ))
        .load(c)?)
}

/// Loads campaign and register entry; a caller not on this campaign's register is refused (and
/// the refusal audited and alerted).
async fn voter_context(
    state: &AppState,
    req: &HttpRequest,
    session: &Session,
    id: &str,
) -> Result<(CampaignRow, VoterEntry), ApiError> {
    let (id2, pin) = (id.to_string(), session.pin.as_str().to_string());
    let (campaign, entry) = state
        .db
        .run(move |c| {
            let campaign = load_campaign(c, &id2)?;
            let entry = voter_entry(c, &id2, &pin)?;
            Ok((campaign, entry))
        })
        .await?;
    match entry {
        Some(e) => Ok((campaign, e)),
        None => {
            let e = ApiError::forbidden("not_on_register", "you are not on this campaign's voter register");
            Err(refuse(state, req, Some(session.pin.as_str()), "not_on_register", e).await)
        }
    }
}

/// Refuses unless applications are open: the right state and not after the last day (Bishkek).
fn check_application_window(state: &AppState, campaign: &CampaignRow) -> Result<(), ApiError> {
    let st = campaign.state()?;
    if !st.accepts_applications() {
        return Err(ApiError::conflict(
            "applications_closed",
            format!("applications are not accepted while the campaign is in state {}", st.as_str()),
        ));
    }
    let today = bishkek_date(state.clock.now());
    if today > campaign.last_application_day()? {
        return Err(ApiError::conflict(
            "application_deadline_passed",
            format!("the last day to apply or withdraw was {} (Asia/Bishkek)", campaign.last_application_day),
        ));
    }
    Ok(())
}

async fn cabinet(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let (campaign, entry) = voter_context(&state, &req, &session, &id).await?;
    let (id2, pin) = (id.clone(), session.pin.as_str().to_string());
    let (creds, v2) =
        state.db.run(move |c| Ok((credentials(c, &id2, &pin)?, crate::credentials::treated_as_v2(c, &id2)?))).await?;
    let open = check_application_window(&state, &campaign).is_ok();
    let active = creds.iter().find(|c| c.status == "active");
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "campaign_id": id,
        "pin": session.pin,
        "full_name": entry.full_name,
        "precinct": entry.precinct,
        "ballot_style": entry.ballot_style,
        "e_voter": active.is_some(),
        "credential": active.map(|c| serde_json::json!({
            "public_key": c.public_key, "fingerprint": fingerprint_of_hex(&c.public_key),
            "ballot_style": c.ballot_style, "registered_at": c.registered_at,
        })),
        // v2: the active credential only, never a history (13-revoting.md §3.5, §4.4)
        "history": creds.iter().filter(|c| !v2 || c.status == "active").map(|c| serde_json::json!({
            "fingerprint": fingerprint_of_hex(&c.public_key), "status": c.status,
            "registered_at": c.registered_at, "ended_at": c.ended_at,
        })).collect::<Vec<_>>(),
        "last_application_day": campaign.last_application_day,
        "applications_open": open,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApplyRequest {
    /// 64 hex digits: the voter's public credential (a Ristretto255 point made on the device).
    credential: String,
    /// The ballot style (district); optional, but if given it must be the voter's own.
    #[serde(default)]
    ballot_style: Option<String>,
    /// v2 (13-revoting.md §3.3): the PIN commitment, 64 hex digits.
    #[serde(default)]
    pin_commitment: Option<String>,
    /// v2: the salt of this application, 64 hex digits.
    #[serde(default)]
    salt: Option<String>,
    /// v2: the credential's signature over the registration binding (decision "").
    #[serde(default)]
    binding: Option<dobush_crypto::signature::Signature>,
}

impl ApplyRequest {
    /// The v2 registration's parts, all three or none (422 naming the first missing one).
    fn registration(&self) -> Result<Option<crate::credentials::RegistrationParts>, ApiError> {
        match (&self.pin_commitment, &self.salt, &self.binding) {
            (None, None, None) => Ok(None),
            (Some(pc), Some(salt), Some(b)) => Ok(Some((hex32("pin_commitment", pc)?, hex32("salt", salt)?, *b))),
            (None, ..) => {
                Err(ApiError::invalid("pin_commitment", "a v2 application carries pin_commitment, salt and binding"))
            }
            (_, None, _) => Err(ApiError::invalid("salt", "a v2 application carries pin_commitment, salt and binding")),
            (.., None) => {
                Err(ApiError::invalid("binding", "a v2 application carries pin_commitment, salt and binding"))
            }
        }
    }
}

/// Applies (or re-applies with a new credential). In a v2 campaign (13-revoting.md §3.3) the
/// application carries the PIN commitment, the salt and the registration binding, checked for
/// the logged-in voter's PIN, this campaign, their ballot style and decision ""; a v1 campaign
/// refuses them. Before any package is installed both forms are accepted (the format is chosen
/// with the package, which for v2 needs every active credential bound: `credentials_unbound`).
async fn apply(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: ApiJson<ApplyRequest>,
) -> Result<HttpResponse, ApiError> {
    rate_limit_voter(&state, &session)?;
    let id = path.into_inner();
    let (campaign, entry) = voter_context(&state, &req, &session, &id).await?;
    check_application_window(&state, &campaign)?;
    let body = body.0;
    let credential = PublicCredential::parse_hex(&body.credential).map_err(|e| ApiError::invalid("credential", e))?;
    if let Some(bs) = &body.ballot_style
        && *bs != entry.ballot_style
    {
        return Err(ApiError::invalid(
            "ballot_style",
            format!("your ballot style is {} (precinct {})", entry.ballot_style, entry.precinct),
        ));
    }
    let registration = body.registration()?;
    let vk = dobush_crypto::group::GroupElement::from_bytes(credential.as_bytes())
        .map(dobush_crypto::signature::VerifyingKey)
        .map_err(|e| ApiError::invalid("credential", e.to_string()))?;
    let now = state.clock.now().timestamp();
    let pin = session.pin.as_str().to_string();
    let key = credential.to_hex();
    let style = entry.ballot_style.clone();
    let (created, replaced) = state
        .db
        .write(move |c| {
            let bound = match (crate::credentials::package_format_v2(c, &id)?, registration) {
                (Some(true), None) => {
                    return Err(ApiError::invalid(
                        "binding",
                        "this campaign casts v2 ballots: the application carries pin_commitment, salt and binding (13-revoting.md §3.3)",
                    ));
                }
                (Some(false), Some(_)) => {
                    return Err(ApiError::invalid(
                        "binding",
                        "this campaign casts v1 ballots: an application carries the credential only",
                    ));
                }
                (_, parts) => parts,
            };
            lock_voter(c, &id, &pin)?;
            let current = credentials(c, &id, &pin)?.into_iter().find(|x| x.status == "active");
            if current.as_ref().is_some_and(|cur| cur.public_key == key) {
                // the same application again (a retry): nothing changes
                return Ok((false, None));
            }
            let bound = bound.map(|parts| check_registration(c, (&id, &pin, &style, ""), &vk, parts)).transpose()?;
            if let Some(cur) = &current {
                diesel::update(evoter_credentials::table.filter(evoter_credentials::id.eq(cur.id)))
                    .set((evoter_credentials::status.eq("revoked"), evoter_credentials::ended_at.eq(now)))
                    .execute(c)?;
            }
            insert_active_credential(c, (&id, &pin, &style), &key, bound.as_ref(), now)?;
            Ok((current.is_none(), current.map(|c| fingerprint_of_hex(&c.public_key))))
        })
        .await?;
    state.metrics.application(false);
    let body = serde_json::json!({
        "e_voter": true,
        "credential": { "public_key": credential.to_hex(), "fingerprint": credential.fingerprint(), "ballot_style": entry.ballot_style },
        "revoked": replaced,
    });
    Ok(if created { HttpResponse::Created().json(body) } else { HttpResponse::Ok().json(body) })
}

async fn withdraw(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    rate_limit_voter(&state, &session)?;
    let id = path.into_inner();
    let (campaign, _) = voter_context(&state, &req, &session, &id).await?;
    check_application_window(&state, &campaign)?;
    let now = state.clock.now().timestamp();
    let pin = session.pin.as_str().to_string();
    state
        .db
        .write(move |c| {
            lock_voter(c, &id, &pin)?;
            let n = diesel::update(
                evoter_credentials::table
                    .filter(evoter_credentials::campaign_id.eq(&id))
                    .filter(evoter_credentials::pin.eq(&pin))
                    .filter(evoter_credentials::status.eq("active")),
            )
            .set((evoter_credentials::status.eq("withdrawn"), evoter_credentials::ended_at.eq(now)))
            .execute(c)?;
            if n == 0 {
                return Err(ApiError::NotFound("you are not on the e-voter list".into()));
            }
            Ok(())
        })
        .await?;
    state.metrics.application(true);
    Ok(HttpResponse::NoContent().finish())
}

/// The public list of credentials (docs/protocol/09-credentials.md §How credentials bind
/// ballots): no names or PINs, sorted by key, with each one's ballot style and status, so that
/// every voter can find their fingerprint and anyone can count. The list as the board freezes it
/// is `GET /api/v1/campaigns/{id}/credential-list` (`routes::credential_list`).
///
/// In a v2 campaign (13-revoting.md §4.4) nothing per credential that changes over time is
/// served: only the frozen list (credential, style, PIN commitment, fingerprint; the number of
/// revoked credentials), no status; 409 `applications_open` before the freeze and
/// `no_election_key` before the v2 package.
async fn public_credentials(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let now = state.clock.now();
    let answer = state
        .db
        .run(move |c| {
            let row = load_campaign(c, &id)?;
            if crate::credentials::treated_as_v2(c, &id)? {
                return frozen_list_v2(c, &row, now).map(Err);
            }
            Ok(Ok(evoter_credentials::table
                .filter(evoter_credentials::campaign_id.eq(&id))
                .select((evoter_credentials::public_key, evoter_credentials::ballot_style, evoter_credentials::status))
                .load::<(String, String, String)>(c)?))
        })
        .await?;
    let mut rows = match answer {
        Ok(rows) => rows,
        Err(v2) => return Ok(HttpResponse::Ok().json(v2)),
    };
    rows.sort();
    let active = rows.iter().filter(|r| r.2 == "active").count();
    let list: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|(key, style, status)| {
            serde_json::json!({ "fingerprint": fingerprint_of_hex(&key), "public_key": key, "ballot_style": style, "status": status })
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "active": active, "credentials": list })))
}

/// The frozen v2 list as `GET …/credentials` serves it (13-revoting.md §4.4).
fn frozen_list_v2(
    c: &mut AnyConnection,
    row: &CampaignRow,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<serde_json::Value, ApiError> {
    crate::credentials::require_frozen(row, now)?;
    if crate::credentials::package_format_v2(c, &row.id)? != Some(true) {
        return Err(ApiError::conflict(
            "no_election_key",
            "the v2 credential list is served once the election package is installed and the list frozen",
        ));
    }
    let (entry, _) = crate::credentials::credential_list(c, &row.id)?;
    let dobush_crypto::record::BoardEntry::CredentialListV2 { credentials, count, revoked_count } = entry else {
        return Err(ApiError::Unexpected(anyhow::anyhow!("the list of v2 campaign {} is not a v2 list", row.id)));
    };
    let list: Vec<serde_json::Value> = credentials
        .iter()
        .map(|x| {
            serde_json::json!({
                "fingerprint": dobush_crypto::signature::fingerprint("credential", &x.credential.0),
                "public_key": x.credential, "ballot_style": x.style,
                "pin_commitment": hex::encode(x.pin_commitment), "stations": x.stations,
            })
        })
        .collect();
    Ok(serde_json::json!({ "count": count, "revoked_count": revoked_count, "credentials": list }))
}

/// Decodes `bytes` as this module's request bodies and runs the checks its handlers make before
/// they touch the database. For the fuzz targets in `fuzz/` only (feature `fuzzing`).
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_bodies(bytes: &[u8]) {
    use crate::extract::body::decode_json;
    if let Ok(b) = decode_json::<ApplyRequest>(bytes) {
        let _ = (PublicCredential::parse_hex(&b.credential), b.registration());
    }
}
