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
use dobush_crypto::ballot_v2::replacement::{
    EntryNonce, EntryNonceProof, ReplacementStatement, encrypt_old_tag_base, opens_old_tag_base, prove_entry_nonce,
    verify_entry_nonce,
};
use dobush_crypto::commission::Act;
use dobush_crypto::elgamal::Ciphertext;
use dobush_crypto::record::BoardEntry;
use dobush_crypto::signature::{Signature, VerifyingKey};
use serde::Deserialize;
use serde_json::json;
use zeroize::Zeroizing;

use crate::audit;
use crate::clock::bishkek_date;
use crate::db::AnyConnection;
use crate::domain::credential::{fingerprint_of_hex, hex32};
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
    cfg.route("/{id}/credentials/replacements", web::post().to(replace))
        .route("/{id}/credentials/replacements/draft", web::post().to(draft));
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
    /// v2 (13-revoting.md §3.3, §4.3), all or none: the new credential's PIN commitment…
    #[serde(default)]
    pin_commitment: Option<String>,
    /// … its salt …
    #[serde(default)]
    salt: Option<String>,
    /// … and binding (with the decision), then the draft's old_tbase …
    #[serde(default)]
    binding: Option<Signature>,
    /// … (`Enc_K(TB(X_old); r)`) …
    #[serde(default)]
    old_tbase: Option<Ciphertext>,
    /// … its proof …
    #[serde(default)]
    proof: Option<EntryNonceProof>,
    /// … and its nonce r, 64 hex digits, as the draft gave it (checked, then zeroized).
    #[serde(default)]
    nonce: Option<String>,
}

impl ReplaceRequest {
    fn has_v2_parts(&self) -> bool {
        self.pin_commitment.is_some()
            || self.salt.is_some()
            || self.binding.is_some()
            || self.old_tbase.is_some()
            || self.proof.is_some()
            || self.nonce.is_some()
    }
}

/// The new credential's registration parts, or 422 naming the first missing one.
fn registration_parts(
    pc: Option<&String>,
    salt: Option<&String>,
    binding: Option<&Signature>,
) -> Result<crate::credentials::RegistrationParts, ApiError> {
    let need = |f: &str| {
        ApiError::invalid(f, "a v2 replacement carries the new credential's pin_commitment, salt and binding")
    };
    let pc = hex32("pin_commitment", pc.ok_or_else(|| need("pin_commitment"))?)?;
    let salt = hex32("salt", salt.ok_or_else(|| need("salt"))?)?;
    Ok((pc, salt, *binding.ok_or_else(|| need("binding"))?))
}

/// The voter's active credential as `(row id, hex, style)` once the replacement may happen: the
/// campaign's state, after the deadline, the voter on the register (`Ok(Err(territory))` when
/// outside the caller's territories), an e-voter. Takes the voter's row lock.
fn active_of(
    c: &mut AnyConnection,
    id: &str,
    pin: &Pin,
    territories: Option<&std::collections::HashSet<String>>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Result<(i64, String, String), String>, ApiError> {
    let campaign = load_campaign(c, id)?;
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
    let territory: Option<String> = voters::table
        .inner_join(
            precincts::table
                .on(precincts::campaign_id.eq(voters::campaign_id).and(precincts::code.eq(voters::precinct_code))),
        )
        .filter(voters::campaign_id.eq(id))
        .filter(voters::pin.eq(pin.as_str()))
        .select(precincts::territory)
        .first(c)
        .optional()?;
    let Some(territory) = territory else {
        return Err(ApiError::NotFound("this PIN is not on the campaign's register".into()));
    };
    if let Some(t) = territories
        && !t.contains(&territory)
    {
        return Ok(Err(territory));
    }
    crate::credentials::lock_voter(c, id, pin.as_str())?;
    let active: Option<(i64, String, String)> = evoter_credentials::table
        .filter(evoter_credentials::campaign_id.eq(id))
        .filter(evoter_credentials::pin.eq(pin.as_str()))
        .filter(evoter_credentials::status.eq("active"))
        .select((evoter_credentials::id, evoter_credentials::public_key, evoter_credentials::ballot_style))
        .first(c)
        .optional()?;
    active.map(Ok).ok_or_else(|| {
        ApiError::conflict("not_an_e_voter", "this voter is not on the e-voter list; nothing to replace")
    })
}

/// 409 `credential_in_use` if `key` was ever registered in the campaign (listed, replaced-in,
/// revoked or withdrawn): a `new` is on neither the list nor an earlier replacement.
fn require_unused(c: &mut AnyConnection, id: &str, key: &str) -> Result<(), ApiError> {
    let used: i64 = evoter_credentials::table
        .filter(evoter_credentials::campaign_id.eq(id))
        .filter(evoter_credentials::public_key.eq(key))
        .count()
        .get_result(c)?;
    if used > 0 {
        return Err(ApiError::conflict(
            "credential_in_use",
            "this credential was already registered in this campaign (listed or replaced-in); make a new one",
        ));
    }
    Ok(())
}

fn stored_vk(h: &str) -> Result<VerifyingKey, ApiError> {
    dobush_crypto::group::GroupElement::from_hex(h)
        .map(VerifyingKey)
        .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("a stored credential does not decode: {e}")))
}

/// The installed package's election if it selects v2 ballots, `None` for v1 or no package.
fn v2_election(c: &mut AnyConnection, id: &str) -> Result<Option<crate::package::Election>, ApiError> {
    match crate::package::load_election(c, id) {
        Ok(e) if e.package.parameters.is_v2() => Ok(Some(e)),
        Ok(_) | Err(ApiError::Conflict { code: "no_election_key", .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The v2 replacement digest (13-revoting.md §4.3) of the new credential's registration.
fn digest_v2(
    id: &str,
    style: &str,
    new: &VerifyingKey,
    registration: &crate::credentials::Registration,
    old_tbase: &Ciphertext,
    decision: &str,
) -> [u8; 32] {
    ReplacementStatement {
        campaign: id,
        style,
        new,
        new_pin_commitment: &registration.pin_commitment,
        old_tbase,
        decision,
    }
    .digest()
}

/// Stops the voter's active credential (row `old_id`) and registers `key` (with its v2
/// registration, if any) in the caller's transaction.
fn swap(
    c: &mut AnyConnection,
    old_id: i64,
    voter: (&str, &str, &str),
    key: &str,
    registration: Option<&crate::credentials::Registration>,
    ts: i64,
) -> Result<(), ApiError> {
    diesel::update(evoter_credentials::table.filter(evoter_credentials::id.eq(old_id)))
        .set((evoter_credentials::status.eq("revoked"), evoter_credentials::ended_at.eq(ts)))
        .execute(c)?;
    crate::credentials::insert_active_credential(c, voter, key, registration, ts)
}

/// The audit log's details of a v1 replacement: [`audit_details_v2`] with the voter's PIN and the
/// old and new credentials' fingerprints (a v1 entry names both credentials anyway).
fn audit_details(
    pin: &Pin,
    (old_key, key): (&str, &str),
    style: &str,
    decision: &str,
    digest: &[u8; 32],
    signatures: Option<&[dobush_crypto::election_protocol::MemberSignature]>,
) -> serde_json::Value {
    let mut details = audit_details_v2(style, decision, digest, signatures);
    details["pin"] = pin.as_str().into();
    details["old"] = fingerprint_of_hex(old_key).into();
    details["new"] = fingerprint_of_hex(key).into();
    details
}

/// The audit log's details of a v2 replacement or draft: no PIN and no credential. Observers read
/// the audit log, and a PIN with the old and new fingerprints is the link the v2 entry exists to
/// hide (13-revoting.md §4.2; review 19-v2-credentials H1). Who acted is the entry's actor; which
/// voter is in the database's credential rows, which only the commission's staff read.
fn audit_details_v2(
    style: &str,
    decision: &str,
    digest: &[u8; 32],
    signatures: Option<&[dobush_crypto::election_protocol::MemberSignature]>,
) -> serde_json::Value {
    let mut details = json!({ "style": style, "decision": decision, "digest": hex::encode(digest) });
    if let Some(sigs) = signatures {
        details["signed_by"] = sigs.iter().map(|s| s.member.as_str()).collect::<Vec<_>>().into();
    }
    details
}

fn outside_territory() -> ApiError {
    ApiError::forbidden("outside_territory", "the voter's precinct is outside your territory")
}

async fn replace(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: ApiJson<ReplaceRequest>,
) -> Result<HttpResponse, ApiError> {
    let grants = require_staff(&state, &req, &session, &[Role::CecAdmin, Role::TecAdmin]).await?;
    let mut b = body.0;
    // the nonce leaves the request at once, as a zeroizing value
    let v2_parts = b.has_v2_parts();
    let nonce = b.nonce.take().map(Zeroizing::new);
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
            let (old_id, old_key, style) = match active_of(c, &id, &pin, territories.as_ref(), now)? {
                Ok(active) => active,
                Err(territory) => return Ok(Err(territory)),
            };
            let pinned = crate::commission::current(c, &id)?;
            let signatures = crate::commission::named_as_pinned(&pinned, &b.signatures);
            let ts = now.timestamp();
            if let Some(election) = v2_election(c, &id)? {
                let new = stored_vk(&key)?;
                let (Some(old_tbase), Some(proof), Some(nonce)) = (b.old_tbase, b.proof, nonce.as_ref()) else {
                    return Err(ApiError::invalid(
                        "old_tbase",
                        "a v2 campaign's replacement carries the draft's old_tbase, proof and nonce (POST …/credentials/replacements/draft; 13-revoting.md §4.3)",
                    ));
                };
                let parts = registration_parts(b.pin_commitment.as_ref(), b.salt.as_ref(), b.binding.as_ref())?;
                let nonce = EntryNonce::from_bytes(&Zeroizing::new(hex32("nonce", nonce)?))
                    .map_err(|e| ApiError::invalid("nonce", e.to_string()))?;
                require_unused(c, &id, &key)?;
                let registration =
                    crate::credentials::check_registration(c, (&id, pin.as_str(), &style, &decision), &new, parts)?;
                // old_tbase must encrypt the tag base of the voter's *active* credential
                if !opens_old_tag_base(&election.context, &stored_vk(&old_key)?, &old_tbase, &nonce) {
                    return Err(ApiError::conflict(
                        "not_active_credential",
                        "old_tbase is not the encrypted tag base of this voter's active credential (a stale draft, or another voter's); draft again",
                    ));
                }
                drop(nonce);
                let digest = digest_v2(&id, &style, &new, &registration, &old_tbase, &decision);
                verify_entry_nonce(&election.context, &digest, &old_tbase, &proof)
                    .map_err(|e| ApiError::invalid("proof", format!("the proof of old_tbase's nonce fails: {e}")))?;
                crate::commission::check_act(&pinned, Act::Replacement, &digest, &signatures)?;
                swap(c, old_id, (&id, pin.as_str(), &style), &key, Some(&registration), ts)?;
                let entry = BoardEntry::CredentialReplacedV2 {
                    style: style.clone(),
                    new,
                    new_pin_commitment: registration.pin_commitment,
                    old_tbase,
                    proof,
                    decision: decision.clone(),
                    signatures: signatures.clone(),
                };
                let posted = boards.credential_replaced_v2(c, &id, &entry, now)?;
                let details = audit_details_v2(&style, &decision, &digest, Some(&signatures));
                audit::append(c, ts, &actor, "credential.replace", Some(&id), &details)?;
                // the answer names the new credential only, as the board does
                return Ok(Ok(json!({ "new": key, "style": style, "decision": decision, "board_entry": posted })));
            }
            if v2_parts {
                return Err(ApiError::invalid(
                    "binding",
                    "this campaign is v1: a replacement names the voter's PIN, the new credential, the decision and the signatures only",
                ));
            }
            // after the application deadline a replacement needs the pinned commission's
            // replacement quorum whether or not the polls have opened (14-commission.md §Acceptance)
            let digest = dobush_crypto::record::credential_replacement_digest(
                &id,
                &stored_vk(&old_key)?,
                &stored_vk(&key)?,
                &style,
                &decision,
            );
            crate::commission::check_act(&pinned, Act::Replacement, &digest, &signatures)?;
            swap(c, old_id, (&id, pin.as_str(), &style), &key, None, ts)?;
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
            let details = audit_details(&pin, (&old_key, &key), &style, &decision, &digest, Some(&signatures));
            audit::append(c, ts, &actor, "credential.replace", Some(&id), &details)?;
            Ok(Ok(answer))
        })
        .await?;
    match outcome {
        Ok(answer) => Ok(HttpResponse::Ok().json(answer)),
        Err(_territory) => {
            Err(refuse(&state, &req, Some(session.pin.as_str()), "territory", outside_territory()).await)
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DraftRequest {
    pin: String,
    /// The new credential.
    credential: String,
    decision: String,
    pin_commitment: String,
    salt: String,
    /// The new credential's binding for the voter's PIN, style and this decision.
    binding: Signature,
}

/// Drafts a v2 replacement (13-revoting.md §4.3) for the members to check and sign: the server
/// checks what it can (the voter's active credential, the new credential unused, its binding
/// for the voter's PIN, style and the decision), draws old_tbase = Enc_K(TB(X_old); r) and the
/// proof of r, and answers the entry to be signed, its digest, and what the members' tool
/// checks: X_old with its PIN commitment, salt and binding, the new salt and binding, and the
/// nonce r (then dropped here: the final request brings it back to be checked). Audited as
/// `credential.replacement_drafted`.
async fn draft(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
    body: ApiJson<DraftRequest>,
) -> Result<HttpResponse, ApiError> {
    let grants = require_staff(&state, &req, &session, &[Role::CecAdmin, Role::TecAdmin]).await?;
    let b = body.0;
    let pin = Pin::parse(&b.pin).map_err(|e| ApiError::invalid("pin", e))?;
    let credential = PublicCredential::parse_hex(&b.credential).map_err(|e| ApiError::invalid("credential", e))?;
    let decision = text::name(&b.decision, 200).map_err(|e| ApiError::invalid("decision", e))?;
    let parts = registration_parts(Some(&b.pin_commitment), Some(&b.salt), Some(&b.binding))?;
    let territories = territories(&grants);
    let id = path.into_inner();
    let now = state.clock.now();
    let actor = session.pin.as_str().to_string();
    let key = credential.to_hex();
    let outcome = state
        .db
        .write(move |c| {
            let (_, old_key, style) = match active_of(c, &id, &pin, territories.as_ref(), now)? {
                Ok(active) => active,
                Err(territory) => return Ok(Err(territory)),
            };
            let Some(election) = v2_election(c, &id)? else {
                return Err(ApiError::invalid(
                    "ballot_format",
                    "only a v2 campaign drafts a replacement; a v1 replacement is posted directly",
                ));
            };
            require_unused(c, &id, &key)?;
            let new = stored_vk(&key)?;
            let registration =
                crate::credentials::check_registration(c, (&id, pin.as_str(), &style, &decision), &new, parts)?;
            type OldRow = (String, Option<String>, Option<String>, Option<String>, Option<String>);
            let old: OldRow = evoter_credentials::table
                .filter(evoter_credentials::campaign_id.eq(&id))
                .filter(evoter_credentials::public_key.eq(&old_key))
                .select((
                    evoter_credentials::public_key,
                    evoter_credentials::pin_commitment,
                    evoter_credentials::pin_salt,
                    evoter_credentials::registration_binding,
                    evoter_credentials::binding_decision,
                ))
                .first(c)?;
            let old_binding: Option<serde_json::Value> =
                old.3.as_deref().map(serde_json::from_str).transpose().map_err(|e| ApiError::Unexpected(e.into()))?;
            let (old_tbase, nonce) =
                encrypt_old_tag_base(&election.context, &stored_vk(&old_key)?, &mut rand::rngs::OsRng)
                    .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("old_tbase: {e}")))?;
            let digest = digest_v2(&id, &style, &new, &registration, &old_tbase, &decision);
            let proof = prove_entry_nonce(&election.context, &digest, &old_tbase, &nonce, &mut rand::rngs::OsRng)
                .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("entry-nonce proof: {e}")))?;
            let nonce_hex = Zeroizing::new(hex::encode(*nonce.to_bytes()));
            drop(nonce);
            let details = audit_details_v2(&style, &decision, &digest, None);
            audit::append(c, now.timestamp(), &actor, "credential.replacement_drafted", Some(&id), &details)?;
            Ok(Ok(json!({
                "entry": {
                    "type": "credential_replaced_v2", "style": style, "new": key,
                    "new_pin_commitment": hex::encode(registration.pin_commitment),
                    "old_tbase": old_tbase, "proof": proof, "decision": decision,
                },
                "digest": hex::encode(digest),
                "check": {
                    "old": {
                        "credential": old.0, "pin_commitment": old.1, "salt": old.2, "binding": old_binding,
                        "decision": old.4,
                    },
                    "new": { "salt": hex::encode(registration.salt), "binding": registration.binding },
                    "nonce": nonce_hex.as_str(),
                },
            })))
        })
        .await?;
    match outcome {
        Ok(answer) => Ok(HttpResponse::Ok().json(answer)),
        Err(_territory) => {
            Err(refuse(&state, &req, Some(session.pin.as_str()), "territory", outside_territory()).await)
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
        let _ = registration_parts(b.pin_commitment.as_ref(), b.salt.as_ref(), b.binding.as_ref());
    }
    if let Ok(b) = decode_json::<DraftRequest>(bytes) {
        let _ = registration_parts(Some(&b.pin_commitment), Some(&b.salt), Some(&b.binding));
    }
}
