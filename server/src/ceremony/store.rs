//! The ceremony as stored: the current attempt with its key-holder slots, the relayed messages,
//! what is in, the transcript and the completed outcome. What the election package, the tally
//! and the election record read is [`load_transcript`], [`load_outcome`] and [`require_complete`].

use std::collections::BTreeSet;

use diesel::prelude::*;
use dobush_crypto::threshold::dkg::{CeremonyOutcome, CeremonyTranscript, Complaint, Signed};
use dobush_crypto::threshold::{KeyHolderPublic, Parameters};
use serde::Serialize;

use crate::db::AnyConnection;
use crate::error::ApiError;
use crate::schema::{ceremony_key_holders, ceremony_messages, key_ceremonies};

pub(super) fn corrupt(what: impl std::fmt::Display) -> ApiError {
    ApiError::Unexpected(anyhow::anyhow!("key ceremony: {what}"))
}

pub(super) fn to_i32(x: u32) -> Result<i32, ApiError> {
    i32::try_from(x).map_err(corrupt)
}

fn to_u32(x: i32) -> Result<u32, ApiError> {
    u32::try_from(x).map_err(corrupt)
}

pub(super) fn canonical<T: Serialize>(v: &T) -> Result<String, ApiError> {
    serde_json::to_string(v).map_err(|e| ApiError::Unexpected(e.into()))
}

/// `1, 2, 5`.
pub(super) fn list<T: std::fmt::Display>(v: impl IntoIterator<Item = T>) -> String {
    v.into_iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", ")
}

/// A key-holder slot of the current attempt.
#[derive(Debug, Clone)]
pub struct Holder {
    /// Index `1..=n`.
    pub index: u32,
    /// The staff member bound to it.
    pub pin: String,
    /// The registered public keys, once posted.
    pub public: Option<KeyHolderPublic>,
}

/// The current attempt of a campaign's ceremony.
#[derive(Debug, Clone)]
pub struct Ceremony {
    /// Attempt number, from 1.
    pub attempt: i32,
    /// `n` and `t`.
    pub params: Parameters,
    /// The base context hash, once every key-holder is registered.
    pub base_hash: Option<[u8; 32]>,
    /// The outcome, once round 3 is complete and the transcript evaluated.
    pub outcome: Option<CeremonyOutcome>,
    /// Why the evaluation failed (e.g. fewer than `t` qualified dealers): the ceremony must be
    /// run again (reconfigure).
    pub failure: Option<String>,
    /// The key-holder slots in index order.
    pub holders: Vec<Holder>,
}

impl Ceremony {
    /// Every key-holder's public keys in index order, if all are registered.
    pub fn publics(&self) -> Option<Vec<KeyHolderPublic>> {
        self.holders.iter().map(|h| h.public).collect()
    }

    /// The indices not registered yet.
    fn unregistered(&self) -> Vec<u32> {
        self.holders.iter().filter(|h| h.public.is_none()).map(|h| h.index).collect()
    }

    /// The base context and the key-holders, or 409 naming who has not registered.
    pub(super) fn context(&self) -> Result<([u8; 32], Vec<KeyHolderPublic>), ApiError> {
        match (self.base_hash, self.publics()) {
            (Some(ctx), Some(publics)) => Ok((ctx, publics)),
            _ => Err(ApiError::conflict(
                "registration_incomplete",
                format!(
                    "the key-holders' registration is not complete: key-holder(s) {} have not registered their keys",
                    list(self.unregistered())
                ),
            )),
        }
    }

    /// Where the ceremony stands.
    pub fn phase(&self, progress: &Progress) -> &'static str {
        if self.outcome.is_some() {
            "complete"
        } else if self.failure.is_some() {
            "failed"
        } else if self.base_hash.is_none() {
            "registration"
        } else if !progress.missing_round1(&self.params).is_empty() {
            "round1"
        } else if !progress.missing_round2(&self.params).is_empty() {
            "round2"
        } else {
            "round3"
        }
    }
}

#[derive(Queryable)]
struct CeremonyRow {
    attempt: i32,
    n: i32,
    t: i32,
    base_hash: Option<String>,
    outcome: Option<String>,
    failure: Option<String>,
}

/// The current attempt of the campaign's ceremony, or `None` if none is configured.
pub fn load(c: &mut AnyConnection, campaign: &str) -> Result<Option<Ceremony>, ApiError> {
    let row: Option<CeremonyRow> = key_ceremonies::table
        .filter(key_ceremonies::campaign_id.eq(campaign))
        .select((
            key_ceremonies::attempt,
            key_ceremonies::n,
            key_ceremonies::t,
            key_ceremonies::base_hash,
            key_ceremonies::outcome,
            key_ceremonies::failure,
        ))
        .first(c)
        .optional()?;
    let Some(row) = row else { return Ok(None) };
    let params = Parameters::new(to_u32(row.n)?, to_u32(row.t)?).map_err(corrupt)?;
    let base_hash = row
        .base_hash
        .map(|h| {
            let mut b = [0u8; 32];
            hex::decode_to_slice(&h, &mut b).map(|()| b).map_err(corrupt)
        })
        .transpose()?;
    let outcome = row.outcome.map(|o| serde_json::from_str(&o).map_err(corrupt)).transpose()?;
    let rows: Vec<(i32, String, Option<String>)> = ceremony_key_holders::table
        .filter(ceremony_key_holders::campaign_id.eq(campaign))
        .filter(ceremony_key_holders::attempt.eq(row.attempt))
        .order(ceremony_key_holders::idx.asc())
        .select((ceremony_key_holders::idx, ceremony_key_holders::pin, ceremony_key_holders::public_keys))
        .load(c)?;
    let holders = rows
        .into_iter()
        .map(|(idx, pin, public)| {
            let public = public.map(|p| serde_json::from_str(&p).map_err(corrupt)).transpose()?;
            Ok(Holder { index: to_u32(idx)?, pin, public })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    if holders.len() != params.n() as usize {
        return Err(corrupt(format!("campaign {campaign}: {} key-holder rows for n = {}", holders.len(), params.n())));
    }
    Ok(Some(Ceremony { attempt: row.attempt, params, base_hash, outcome, failure: row.failure, holders }))
}

/// The kinds of relayed messages (the `kind` column).
pub(super) const COMMITMENT_HASH: &str = "commitment_hash";
pub(super) const REVEAL: &str = "reveal";
pub(super) const SHARE: &str = "share";
pub(super) const COMPLAINTS: &str = "complaints";

pub(super) fn load_messages(
    c: &mut AnyConnection,
    campaign: &str,
    attempt: i32,
) -> Result<Vec<(String, i32, i32, String)>, ApiError> {
    Ok(ceremony_messages::table
        .filter(ceremony_messages::campaign_id.eq(campaign))
        .filter(ceremony_messages::attempt.eq(attempt))
        .order((ceremony_messages::kind.asc(), ceremony_messages::sender.asc(), ceremony_messages::recipient.asc()))
        .select((
            ceremony_messages::kind,
            ceremony_messages::sender,
            ceremony_messages::recipient,
            ceremony_messages::payload,
        ))
        .load(c)?)
}

/// Which messages of an attempt are in.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Progress {
    /// Dealers whose round-1 commitment hash is in.
    pub commitment_hashes: BTreeSet<u32>,
    /// Dealers whose round-2 reveal is in.
    pub reveals: BTreeSet<u32>,
    /// `(dealer, recipient)` of every round-2 share in.
    pub shares: BTreeSet<(u32, u32)>,
    /// Key-holders whose round-3 list (possibly empty) is in.
    pub complaints: BTreeSet<u32>,
}

impl Progress {
    pub(super) fn missing_round1(&self, p: &Parameters) -> Vec<u32> {
        p.indices().filter(|i| !self.commitment_hashes.contains(i)).collect()
    }

    /// A description of what round 2 lacks (empty when complete).
    pub(super) fn missing_round2(&self, p: &Parameters) -> String {
        let reveals: Vec<u32> = p.indices().filter(|i| !self.reveals.contains(i)).collect();
        let shares: Vec<String> = p
            .indices()
            .flat_map(|i| p.indices().filter(move |&l| l != i).map(move |l| (i, l)))
            .filter(|s| !self.shares.contains(s))
            .map(|(i, l)| format!("{i}→{l}"))
            .collect();
        let mut parts = Vec::new();
        if !reveals.is_empty() {
            parts.push(format!("no reveal yet from key-holder(s) {}", list(reveals)));
        }
        if !shares.is_empty() {
            parts.push(format!("no encrypted share yet for {}", shares.join(", ")));
        }
        parts.join("; ")
    }

    pub(super) fn missing_round3(&self, p: &Parameters) -> Vec<u32> {
        p.indices().filter(|i| !self.complaints.contains(i)).collect()
    }
}

pub(super) fn progress_of(messages: &[(String, i32, i32, String)]) -> Result<Progress, ApiError> {
    let mut p = Progress::default();
    for (kind, sender, recipient, _) in messages {
        let (s, r) = (to_u32(*sender)?, to_u32(*recipient)?);
        match kind.as_str() {
            COMMITMENT_HASH => p.commitment_hashes.insert(s),
            REVEAL => p.reveals.insert(s),
            SHARE => p.shares.insert((s, r)),
            COMPLAINTS => p.complaints.insert(s),
            other => return Err(corrupt(format!("message kind {other}"))),
        };
    }
    Ok(p)
}

pub(super) fn transcript_of(messages: &[(String, i32, i32, String)]) -> Result<CeremonyTranscript, ApiError> {
    fn parse<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, ApiError> {
        serde_json::from_str(s).map_err(corrupt)
    }
    let mut t = CeremonyTranscript::default();
    // Ordered by kind, then sender, then recipient: each list in index order.
    for (kind, _, _, payload) in messages {
        match kind.as_str() {
            COMMITMENT_HASH => t.commitment_hashes.push(parse(payload)?),
            REVEAL => t.reveals.push(parse(payload)?),
            SHARE => t.shares.push(parse(payload)?),
            COMPLAINTS => t.complaints.extend(parse::<Vec<Signed<Complaint>>>(payload)?),
            other => return Err(corrupt(format!("message kind {other}"))),
        }
    }
    Ok(t)
}

/// The transcript of the campaign's current ceremony attempt (every signed message relayed so
/// far; complete once the ceremony is), or `None` if no ceremony is configured.
pub fn load_transcript(c: &mut AnyConnection, campaign: &str) -> Result<Option<CeremonyTranscript>, ApiError> {
    let Some(ceremony) = load(c, campaign)? else { return Ok(None) };
    Ok(Some(transcript_of(&load_messages(c, campaign, ceremony.attempt)?)?))
}

/// A completed ceremony: what the election package, the verification of partial decryptions
/// and the election record need.
#[derive(Debug, Clone)]
pub struct CompletedCeremony {
    /// `n` and `t`.
    pub params: Parameters,
    /// The base context hash every ceremony message is signed under.
    pub base_hash: [u8; 32],
    /// The key-holders' public keys in index order.
    pub key_holders: Vec<KeyHolderPublic>,
    /// The evaluated outcome: the joint key and every key-holder's verification key
    /// (`outcome.verification_key(l)`).
    pub outcome: CeremonyOutcome,
    /// Every signed message.
    pub transcript: CeremonyTranscript,
}

/// The campaign's completed ceremony, or `None` while it is not configured, in progress or
/// failed.
pub fn load_outcome(c: &mut AnyConnection, campaign: &str) -> Result<Option<CompletedCeremony>, ApiError> {
    let Some(ceremony) = load(c, campaign)? else { return Ok(None) };
    let (Some(outcome), Some(base_hash), Some(key_holders)) =
        (ceremony.outcome.clone(), ceremony.base_hash, ceremony.publics())
    else {
        return Ok(None);
    };
    let transcript = transcript_of(&load_messages(c, campaign, ceremony.attempt)?)?;
    Ok(Some(CompletedCeremony { params: ceremony.params, base_hash, key_holders, outcome, transcript }))
}

/// The completed ceremony, or 409 `ceremony_incomplete` saying what `what` needs.
pub fn require_complete(c: &mut AnyConnection, campaign: &str, what: &str) -> Result<CompletedCeremony, ApiError> {
    load_outcome(c, campaign)?.ok_or_else(|| {
        ApiError::conflict(
            "ceremony_incomplete",
            format!("{what} needs the completed key ceremony (joint key published); it is not complete"),
        )
    })
}
