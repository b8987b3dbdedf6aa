//! The key-holders' messages (registration, rounds 1–3): each checked on arrival, stored
//! write-once and audited; the last round-3 list completes the ceremony.

use std::collections::BTreeSet;

use diesel::prelude::*;
use dobush_crypto::context::base_hash;
use dobush_crypto::threshold::dkg::{
    self, CeremonyMessage, CommitmentHash, Complaint, DealerCommitments, EncryptedShare, Signed, Verdict,
};
use dobush_crypto::threshold::{DkgError, KeyHolderPublic, Parameters, check_key_holders};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::store::{
    COMMITMENT_HASH, COMPLAINTS, Ceremony, Progress, REVEAL, SHARE, canonical, corrupt, list, load, load_messages,
    progress_of, to_i32, transcript_of,
};
use crate::audit;
use crate::db::AnyConnection;
use crate::domain::CampaignState;
use crate::error::ApiError;
use crate::models::load_campaign;
use crate::schema::{campaigns, ceremony_key_holders, ceremony_messages, key_ceremonies};

/// A key-holder's round-3 message: its signed complaints, possibly none.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComplaintList {
    /// The key-holder whose check this is.
    pub complainer: u32,
    /// Its complaints (each signed by it), at most one per dealer.
    pub complaints: Vec<Signed<Complaint>>,
}

/// A message posted by a key-holder (one per request, moved once: the size of its variants
/// does not matter).
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Incoming {
    /// Registration of the key-holder's public keys.
    Register(KeyHolderPublic),
    /// Round 1.
    CommitmentHash(Signed<CommitmentHash>),
    /// Round 2: the dealer's commitments and proofs.
    Reveal(Signed<DealerCommitments>),
    /// Round 2: one encrypted share.
    Share(Signed<EncryptedShare>),
    /// Round 3.
    Complaints(ComplaintList),
}

impl Incoming {
    /// `(kind, sender, recipient)`: the write-once slot.
    fn slot(&self) -> (&'static str, u32, u32) {
        match self {
            Self::Register(p) => ("registration", p.index, 0),
            Self::CommitmentHash(m) => (COMMITMENT_HASH, m.message.sender(), 0),
            Self::Reveal(m) => (REVEAL, m.message.sender(), 0),
            Self::Share(m) => (SHARE, m.message.sender(), m.message.recipient),
            Self::Complaints(l) => (COMPLAINTS, l.complainer, 0),
        }
    }

    fn payload(&self) -> Result<String, ApiError> {
        match self {
            Self::Register(p) => canonical(p),
            Self::CommitmentHash(m) => canonical(m),
            Self::Reveal(m) => canonical(m),
            Self::Share(m) => canonical(m),
            Self::Complaints(l) => canonical(&l.complaints),
        }
    }
}

/// What became of an accepted message.
#[derive(Debug, Clone, Serialize)]
pub struct Accepted {
    /// The slot's kind.
    pub kind: &'static str,
    /// The sender's index.
    pub sender: u32,
    /// The recipient of a share.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient: Option<u32>,
    /// True if this exact message was stored before (nothing changed).
    pub repeated: bool,
    /// Round 3: the public adjudication of each complaint (`dealer_cheated` / `complaint_unfounded`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub verdicts: Vec<Value>,
    /// Set when this message completed the ceremony.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed: Option<Value>,
}

/// 403 for a caller who is not the key-holder of the slot (routes audit it).
fn not_your_slot(me: u32, sender: u32) -> ApiError {
    ApiError::forbidden(
        "not_your_slot",
        format!("you are key-holder {me} of this ceremony; this message is key-holder {sender}'s"),
    )
}

fn dkg_invalid(field: &str, e: DkgError) -> ApiError {
    ApiError::invalid(field, e.to_string())
}

/// Checks, stores and audits a key-holder's message, inside the caller's write transaction.
/// `pin` is the authenticated caller (who must hold the `key_holder` role: checked by the
/// route). Refusals: 403 `not_a_key_holder` / `not_your_slot` (the route audits them), 409
/// `invalid_state`, `no_ceremony`, `message_exists`, `registration_incomplete`,
/// `round_incomplete`, `ceremony_complete`, `ceremony_failed`, 422 naming the failing field.
pub fn accept(
    c: &mut AnyConnection,
    campaign: &str,
    pin: &str,
    msg: &Incoming,
    now: i64,
) -> Result<Accepted, ApiError> {
    let row = load_campaign(c, campaign)?;
    let st = row.state()?;
    if st != CampaignState::KeyCeremony {
        return Err(ApiError::conflict(
            "invalid_state",
            format!(
                "key ceremony messages are relayed in state key_ceremony; the campaign is in state {}",
                st.as_str()
            ),
        ));
    }
    // Serialise every write of this campaign's ceremony (a no-op update takes the row lock on
    // PostgreSQL; SQLite writers are serialised already).
    let locked = diesel::update(key_ceremonies::table.filter(key_ceremonies::campaign_id.eq(campaign)))
        .set(key_ceremonies::attempt.eq(key_ceremonies::attempt))
        .execute(c)?;
    let ceremony = match load(c, campaign)? {
        Some(x) if locked == 1 => x,
        _ => return Err(ApiError::conflict("no_ceremony", "the key ceremony of this campaign is not configured yet")),
    };
    let me = ceremony.holders.iter().find(|h| h.pin == pin).map(|h| h.index).ok_or_else(|| {
        ApiError::forbidden("not_a_key_holder", "you are not a key-holder of this campaign's ceremony")
    })?;
    let (kind, sender, recipient) = msg.slot();
    if sender != me {
        return Err(not_your_slot(me, sender));
    }
    let payload = msg.payload()?;
    let mut accepted = Accepted {
        kind,
        sender,
        recipient: (kind == SHARE).then_some(recipient),
        repeated: false,
        verdicts: Vec::new(),
        completed: None,
    };
    if let Incoming::Register(public) = msg {
        return register(c, campaign, &ceremony, public, &payload, now, pin)
            .map(|repeated| Accepted { repeated, ..accepted });
    }
    let existing: Option<String> = ceremony_messages::table
        .filter(ceremony_messages::campaign_id.eq(campaign))
        .filter(ceremony_messages::attempt.eq(ceremony.attempt))
        .filter(ceremony_messages::kind.eq(kind))
        .filter(ceremony_messages::sender.eq(to_i32(sender)?))
        .filter(ceremony_messages::recipient.eq(to_i32(recipient)?))
        .select(ceremony_messages::payload)
        .first(c)
        .optional()?;
    if let Some(existing) = existing {
        if existing == payload {
            accepted.repeated = true;
            return Ok(accepted);
        }
        return Err(ApiError::conflict(
            "message_exists",
            format!("a different {kind} message of key-holder {sender} is already stored; messages are write-once"),
        ));
    }
    if ceremony.outcome.is_some() {
        return Err(ApiError::conflict(
            "ceremony_complete",
            "the key ceremony is complete; no further messages are relayed",
        ));
    }
    if let Some(f) = &ceremony.failure {
        return Err(ApiError::conflict(
            "ceremony_failed",
            format!("this attempt of the key ceremony failed ({f}); the administrator must configure it again"),
        ));
    }
    let (ctx, publics) = ceremony.context()?;
    let messages = load_messages(c, campaign, ceremony.attempt)?;
    let progress = progress_of(&messages)?;
    let params = ceremony.params;
    accepted.verdicts = check_message(msg, sender, &params, &ctx, &publics, &messages, &progress)?;
    diesel::insert_into(ceremony_messages::table)
        .values((
            ceremony_messages::campaign_id.eq(campaign),
            ceremony_messages::attempt.eq(ceremony.attempt),
            ceremony_messages::kind.eq(kind),
            ceremony_messages::sender.eq(to_i32(sender)?),
            ceremony_messages::recipient.eq(to_i32(recipient)?),
            ceremony_messages::payload.eq(&payload),
            ceremony_messages::received_at.eq(now),
        ))
        .execute(c)?;
    let mut details = json!({
        "attempt": ceremony.attempt, "kind": kind, "sender": sender,
        "sha256": hex::encode(Sha256::digest(payload.as_bytes())),
    });
    if kind == SHARE {
        details["recipient"] = recipient.into();
    }
    if !accepted.verdicts.is_empty() {
        details["verdicts"] = accepted.verdicts.clone().into();
    }
    audit::append(c, now, pin, "ceremony.message", Some(campaign), &details)?;
    if let Incoming::Complaints(_) = msg {
        let mut progress = progress;
        progress.complaints.insert(sender);
        if progress.missing_round3(&params).is_empty() {
            accepted.completed = Some(complete(c, campaign, &ceremony, &ctx, &publics, now)?);
        }
    }
    Ok(accepted)
}

/// The checks of a message against the ceremony so far, before it is stored: the order of rounds
/// (409 `round_incomplete` naming what is missing), its signature under the base context, its
/// shape and proofs, and the adjudication of a round-3 list's complaints, whose verdicts it
/// returns.
fn check_message(
    msg: &Incoming,
    sender: u32,
    params: &Parameters,
    ctx: &[u8; 32],
    publics: &[KeyHolderPublic],
    messages: &[(String, i32, i32, String)],
    progress: &Progress,
) -> Result<Vec<Value>, ApiError> {
    let round1_missing = progress.missing_round1(params);
    let require_round1 = || {
        if round1_missing.is_empty() {
            Ok(())
        } else {
            Err(ApiError::conflict(
                "round_incomplete",
                format!("round 1 is not complete: no commitment hash yet from key-holder(s) {}", list(&round1_missing)),
            ))
        }
    };
    let mut verdicts = Vec::new();
    match msg {
        Incoming::Register(_) => {}
        Incoming::CommitmentHash(m) => {
            m.verify(ctx, publics).map_err(|e| dkg_invalid("signature", e))?;
        }
        Incoming::Reveal(m) => {
            require_round1()?;
            let reveal = m.verify(ctx, publics).map_err(|e| dkg_invalid("signature", e))?;
            reveal.validate(params).map_err(|e| dkg_invalid("message.commitments", e))?;
            let hash = stored_message::<CommitmentHash>(messages, COMMITMENT_HASH, sender, 0)?;
            reveal.check_hash(ctx, &hash.message).map_err(|_| {
                ApiError::invalid(
                    "message",
                    format!("the revealed commitments do not match key-holder {sender}'s round-1 commitment hash"),
                )
            })?;
            if let Err(e) = reveal.verify(params, ctx) {
                let field = match e {
                    DkgError::CoefficientProof { coefficient, .. } => format!("message.proofs[{coefficient}]"),
                    _ => "message.proofs".into(),
                };
                return Err(dkg_invalid(&field, e));
            }
        }
        Incoming::Share(m) => {
            require_round1()?;
            let share = m.verify(ctx, publics).map_err(|e| dkg_invalid("signature", e))?;
            share.validate(params).map_err(|e| dkg_invalid("message.recipient", e))?;
            let to = publics
                .iter()
                .find(|p| p.index == share.recipient)
                .ok_or_else(|| ApiError::invalid("message.recipient", "no such key-holder"))?;
            share.verify(ctx, to).map_err(|e| dkg_invalid("message.proof", e))?;
        }
        Incoming::Complaints(l) => {
            let missing = progress.missing_round2(params);
            if !round1_missing.is_empty() || !missing.is_empty() {
                return Err(ApiError::conflict(
                    "round_incomplete",
                    format!("round 2 is not complete: {missing}; complaints are posted after every reveal and share"),
                ));
            }
            let mut against = BTreeSet::new();
            for (i, m) in l.complaints.iter().enumerate() {
                let field = |f: &str| format!("complaints[{i}].{f}");
                if m.message.complainer != sender {
                    return Err(ApiError::invalid(
                        field("message.complainer"),
                        format!("must be {sender}, the complainer"),
                    ));
                }
                let complaint = m.verify(ctx, publics).map_err(|e| dkg_invalid(&field("signature"), e))?;
                complaint.validate(params).map_err(|e| dkg_invalid(&field("message.dealer"), e))?;
                if !against.insert(complaint.dealer) {
                    return Err(ApiError::invalid(
                        field("message.dealer"),
                        "a second complaint against the same dealer",
                    ));
                }
                let reveal = stored_message::<DealerCommitments>(messages, REVEAL, complaint.dealer, 0)?;
                let share = stored_message::<EncryptedShare>(messages, SHARE, complaint.dealer, sender)?;
                let verdict = dkg::adjudicate(params, ctx, publics, &reveal, &share, m)
                    .map_err(|e| dkg_invalid(&field("message"), e))?;
                verdicts.push(match verdict {
                    Verdict::DealerCheated(fault) => {
                        json!({ "dealer": complaint.dealer, "verdict": "dealer_cheated", "fault": fault })
                    }
                    Verdict::ComplaintUnfounded(reason) => {
                        json!({ "dealer": complaint.dealer, "verdict": "complaint_unfounded", "reason": reason })
                    }
                });
            }
        }
    }
    Ok(verdicts)
}

fn stored_message<M: serde::de::DeserializeOwned>(
    messages: &[(String, i32, i32, String)],
    kind: &str,
    sender: u32,
    recipient: u32,
) -> Result<Signed<M>, ApiError> {
    let (s, r) = (to_i32(sender)?, to_i32(recipient)?);
    let (_, _, _, payload) =
        messages.iter().find(|(k, ms, mr, _)| k == kind && *ms == s && *mr == r).ok_or_else(|| {
            ApiError::conflict("round_incomplete", format!("no {kind} message of key-holder {sender} yet"))
        })?;
    serde_json::from_str(payload).map_err(corrupt)
}

/// Registration (write-once per index). The base context is fixed when the last key-holder
/// registers. Returns whether it was a repeat.
fn register(
    c: &mut AnyConnection,
    campaign: &str,
    ceremony: &Ceremony,
    public: &KeyHolderPublic,
    payload: &str,
    now: i64,
    pin: &str,
) -> Result<bool, ApiError> {
    let slot = ceremony
        .holders
        .iter()
        .find(|h| h.index == public.index)
        .ok_or_else(|| ApiError::invalid("index", "no such key-holder index"))?;
    if let Some(existing) = &slot.public {
        if canonical(existing)? == payload {
            return Ok(true);
        }
        return Err(ApiError::conflict(
            "message_exists",
            format!("key-holder {} has registered other keys already; registrations are write-once", public.index),
        ));
    }
    if ceremony.outcome.is_some() || ceremony.failure.is_some() {
        return Err(ApiError::conflict("ceremony_complete", "this attempt of the key ceremony is over"));
    }
    // No key may be used twice, across all key-holders and the two keys of one.
    let mut all: Vec<KeyHolderPublic> = ceremony.holders.iter().filter_map(|h| h.public).collect();
    all.push(*public);
    all.sort_by_key(|p| p.index);
    for (k, p) in all.iter().enumerate() {
        let keys = [p.signing_key.0, p.comm_key];
        if p.signing_key.0 == p.comm_key
            || all[..k].iter().any(|q| keys.contains(&q.signing_key.0) || keys.contains(&q.comm_key))
        {
            return Err(ApiError::invalid(
                "signing_key",
                "a key of this registration is already used (every key must be distinct)",
            ));
        }
    }
    diesel::update(
        ceremony_key_holders::table
            .filter(ceremony_key_holders::campaign_id.eq(campaign))
            .filter(ceremony_key_holders::attempt.eq(ceremony.attempt))
            .filter(ceremony_key_holders::idx.eq(to_i32(public.index)?)),
    )
    .set((ceremony_key_holders::public_keys.eq(payload), ceremony_key_holders::registered_at.eq(now)))
    .execute(c)?;
    let details = json!({
        "attempt": ceremony.attempt, "index": public.index,
        "signing_fingerprint": public.signing_fingerprint(), "comm_fingerprint": public.comm_fingerprint(),
    });
    audit::append(c, now, pin, "ceremony.register", Some(campaign), &details)?;
    if all.len() == ceremony.params.n() as usize {
        check_key_holders(&ceremony.params, &all).map_err(|e| dkg_invalid("signing_key", e))?;
        let ids: Vec<_> = all.iter().map(KeyHolderPublic::context_keys).collect();
        let ctx = base_hash(campaign, ceremony.params.t(), &ids);
        diesel::update(key_ceremonies::table.filter(key_ceremonies::campaign_id.eq(campaign)))
            .set(key_ceremonies::base_hash.eq(hex::encode(ctx)))
            .execute(c)?;
        let details = json!({ "attempt": ceremony.attempt, "base_hash": hex::encode(ctx) });
        audit::append(c, now, pin, "ceremony.base_context", Some(campaign), &details)?;
    }
    Ok(false)
}

/// Evaluates the complete transcript and stores the outcome (or why it failed).
fn complete(
    c: &mut AnyConnection,
    campaign: &str,
    ceremony: &Ceremony,
    ctx: &[u8; 32],
    publics: &[KeyHolderPublic],
    now: i64,
) -> Result<Value, ApiError> {
    let transcript = transcript_of(&load_messages(c, campaign, ceremony.attempt)?)?;
    let target = key_ceremonies::table.filter(key_ceremonies::campaign_id.eq(campaign));
    match dkg::evaluate(&ceremony.params, ctx, publics, &transcript) {
        Ok(outcome) => {
            diesel::update(target)
                .set((key_ceremonies::outcome.eq(canonical(&outcome)?), key_ceremonies::completed_at.eq(now)))
                .execute(c)?;
            diesel::update(campaigns::table.filter(campaigns::id.eq(campaign)))
                .set(campaigns::election_public_key.eq(outcome.joint_key.0.to_hex()))
                .execute(c)?;
            let details = json!({
                "attempt": ceremony.attempt, "qualified": outcome.qualified, "disqualified": outcome.disqualified,
                "unfounded_complaints": outcome.unfounded_complaints, "joint_key": outcome.joint_key.0.to_hex(),
                "joint_key_fingerprint": outcome.joint_key_fingerprint(),
            });
            audit::append(c, now, "server", "ceremony.completed", Some(campaign), &details)?;
            Ok(json!({ "outcome": outcome, "joint_key_fingerprint": outcome.joint_key_fingerprint() }))
        }
        Err(e) => {
            let failure = e.to_string();
            diesel::update(target)
                .set((key_ceremonies::failure.eq(&failure), key_ceremonies::completed_at.eq(now)))
                .execute(c)?;
            let details = json!({ "attempt": ceremony.attempt, "failure": failure });
            audit::append(c, now, "server", "ceremony.failed", Some(campaign), &details)?;
            Ok(json!({ "failure": failure }))
        }
    }
}
