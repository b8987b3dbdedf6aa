//! Replacement of a lost credential after the application deadline (docs/protocol/
//! 09-credentials.md §How credentials bind ballots, step 5): a commission procedure, recorded with
//! the decision's reference and its signers in the audit log. Whether or not voting has opened it
//! needs the signatures of the pinned commission's replacement quorum over the replacement's
//! digest (docs/protocol/14-commission.md §Acceptance: 403 `not_a_member` for an unpinned key,
//! 409 `quorum_not_reached`; before the package the commission confirmed under dual control, 409
//! `commission_unconfirmed` without one). While voting is
//! open it is posted on the board as a `credential_replaced` entry with those signatures
//! (docs/protocol/10-board.md §Credential replacement signatures).

use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;
use dobush_crypto::commission::Act;
use serde::Deserialize;
use serde_json::json;

use crate::audit;
use crate::clock::bishkek_date;
use crate::domain::credential::fingerprint_of_hex;
use crate::domain::{CampaignState, Pin, PublicCredential, Role, text};
use crate::error::ApiError;
use crate::extract::body::ApiJson;
use crate::extract::session::{Session, require_staff, territories};
use crate::models::load_campaign;
use crate::refusal::refuse;
use crate::schema::{evoter_credentials, precincts, voters};
use crate::state::AppState;

/// Routes under `/api/campaigns/{id}`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/{id}/credentials/replacements", web::post().to(replace));
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplaceRequest {
    pin: String,
    credential: String,
    /// Reference of the commission's decision (e.g. "TEC Batken No. 12/3 of 2023-04-02").
    decision: String,
    /// Signatures of pinned commission members over the replacement's digest, at least the
    /// replacement quorum (docs/protocol/14-commission.md §Acceptance).
    #[serde(default)]
    signatures: Vec<dobush_crypto::election_protocol::MemberSignature>,
}

async fn replace(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: ApiJson<ReplaceRequest>,
) -> Result<HttpResponse, ApiError> {
    let grants = require_staff(&state, &req, &session, &[Role::CecAdmin, Role::TecAdmin]).await?;
    let b = body.0;
    let pin = Pin::parse(&b.pin).map_err(|e| ApiError::invalid("pin", e))?;
    let credential = PublicCredential::parse_hex(&b.credential).map_err(|e| ApiError::invalid("credential", e))?;
    let decision = text::name(&b.decision, 200).map_err(|e| ApiError::invalid("decision", e))?;
    let territories = territories(&grants);
    let id = path.into_inner();
    let now = state.clock.now();
    let actor = session.pin.as_str().to_string();
    let key = credential.to_hex();
    let boards = state.boards.clone();
    let outcome = state
        .db
        .write(move |c| {
            let campaign = load_campaign(c, &id)?;
            let st = campaign.state()?;
            if !matches!(
                st,
                CampaignState::Registration
                    | CampaignState::KeyCeremony
                    | CampaignState::ManifestFrozen
                    | CampaignState::VotingOpen
            ) {
                return Err(ApiError::conflict(
                    "replacement_closed",
                    format!("credentials cannot be replaced in state {}", st.as_str()),
                ));
            }
            if bishkek_date(now) <= campaign.last_application_day()? {
                return Err(ApiError::conflict(
                    "before_deadline",
                    "until the application deadline the voter re-applies in the cabinet",
                ));
            }
            let territory: Option<String> =
                voters::table
                    .inner_join(precincts::table.on(
                        precincts::campaign_id.eq(voters::campaign_id).and(precincts::code.eq(voters::precinct_code)),
                    ))
                    .filter(voters::campaign_id.eq(&id))
                    .filter(voters::pin.eq(pin.as_str()))
                    .select(precincts::territory)
                    .first(c)
                    .optional()?;
            let Some(territory) = territory else {
                return Err(ApiError::NotFound("this PIN is not on the campaign's register".into()));
            };
            if let Some(t) = &territories
                && !t.contains(&territory)
            {
                return Ok(Err(territory));
            }
            crate::credentials::lock_voter(c, &id, pin.as_str())?;
            let active: Option<(i64, String, String)> = evoter_credentials::table
                .filter(evoter_credentials::campaign_id.eq(&id))
                .filter(evoter_credentials::pin.eq(pin.as_str()))
                .filter(evoter_credentials::status.eq("active"))
                .select((evoter_credentials::id, evoter_credentials::public_key, evoter_credentials::ballot_style))
                .first(c)
                .optional()?;
            let Some((old_id, old_key, style)) = active else {
                return Err(ApiError::conflict(
                    "not_an_e_voter",
                    "this voter is not on the e-voter list; nothing to replace",
                ));
            };
            // after the application deadline a replacement needs the pinned commission's
            // replacement quorum whether or not the polls have opened (14-commission.md §Acceptance)
            let pinned = crate::commission::current(c, &id)?;
            let vk = |h: &str| {
                dobush_crypto::group::GroupElement::from_hex(h)
                    .map(dobush_crypto::signature::VerifyingKey)
                    .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("a stored credential does not decode: {e}")))
            };
            let digest = dobush_crypto::record::credential_replacement_digest(
                &id,
                &vk(&old_key)?,
                &vk(&key)?,
                &style,
                &decision,
            );
            let signatures = crate::commission::named_as_pinned(&pinned, &b.signatures);
            crate::commission::check_act(&pinned, Act::Replacement, &digest, &signatures)?;
            let ts = now.timestamp();
            diesel::update(evoter_credentials::table.filter(evoter_credentials::id.eq(old_id)))
                .set((evoter_credentials::status.eq("revoked"), evoter_credentials::ended_at.eq(ts)))
                .execute(c)?;
            crate::credentials::insert_active_credential(c, &id, pin.as_str(), &style, &key, ts)?;
            let posted = boards.credential_replaced(
                c,
                &id,
                crate::board_log::Replacement {
                    old: &old_key,
                    new: &key,
                    style: &style,
                    decision: &decision,
                    signatures: &signatures,
                },
                now,
            )?;
            let answer = json!({
                "old": old_key, "new": key, "style": style, "decision": decision, "board_entry": posted,
            });
            let signers: Vec<&str> = signatures.iter().map(|s| s.member.as_str()).collect();
            let details = json!({
                "pin": pin.as_str(), "old": fingerprint_of_hex(&old_key), "new": fingerprint_of_hex(&key),
                "style": style, "decision": decision, "signed_by": signers, "digest": hex::encode(digest),
            });
            audit::append(c, ts, &actor, "credential.replace", Some(&id), &details)?;
            Ok(Ok(answer))
        })
        .await?;
    match outcome {
        Ok(answer) => Ok(HttpResponse::Ok().json(answer)),
        Err(_territory) => {
            let e = ApiError::forbidden("outside_territory", "the voter's precinct is outside your territory");
            Err(refuse(&state, &req, Some(session.pin.as_str()), "territory", e).await)
        }
    }
}

/// Decodes `bytes` as this module's request bodies and runs the checks its handlers make before
/// they touch the database. For the fuzz targets in `fuzz/` only (feature `fuzzing`).
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_bodies(bytes: &[u8]) {
    use crate::extract::body::decode_json;
    if let Ok(b) = decode_json::<ReplaceRequest>(bytes) {
        let _ = (Pin::parse(&b.pin), PublicCredential::parse_hex(&b.credential), text::name(&b.decision, 200));
    }
}
