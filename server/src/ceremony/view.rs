//! The public state of a campaign's ceremony (`GET /api/campaigns/{id}/ceremony`).

use dobush_crypto::threshold::dkg::CeremonyOutcome;
use serde_json::{Value, json};

use super::store::{load, load_messages, progress_of};
use crate::db::AnyConnection;
use crate::error::ApiError;
use crate::models::load_campaign;

/// The public state of the campaign's ceremony (no PINs: who holds which index is recorded in
/// the audit log).
pub fn status_view(c: &mut AnyConnection, campaign: &str) -> Result<Value, ApiError> {
    load_campaign(c, campaign)?;
    let ceremony = load(c, campaign)?
        .ok_or_else(|| ApiError::NotFound(format!("campaign {campaign} has no key ceremony configured")))?;
    let messages = load_messages(c, campaign, ceremony.attempt)?;
    let progress = progress_of(&messages)?;
    let key_holders: Vec<Value> = ceremony
        .holders
        .iter()
        .map(|h| match &h.public {
            Some(p) => json!({
                "index": h.index, "registered": true,
                "signing_key": p.signing_key, "comm_key": p.comm_key,
                "signing_fingerprint": p.signing_fingerprint(), "comm_fingerprint": p.comm_fingerprint(),
            }),
            None => json!({ "index": h.index, "registered": false }),
        })
        .collect();
    Ok(json!({
        "campaign_id": campaign,
        "attempt": ceremony.attempt,
        "n": ceremony.params.n(),
        "t": ceremony.params.t(),
        "phase": ceremony.phase(&progress),
        "base_hash": ceremony.base_hash.map(hex::encode),
        "key_holders": key_holders,
        "round1": progress.commitment_hashes,
        "round2": { "reveals": progress.reveals, "shares": progress.shares.iter().map(|(i, l)| [i, l]).collect::<Vec<_>>() },
        "round3": progress.complaints,
        "outcome": ceremony.outcome,
        "joint_key_fingerprint": ceremony.outcome.as_ref().map(CeremonyOutcome::joint_key_fingerprint),
        "failure": ceremony.failure,
    }))
}
