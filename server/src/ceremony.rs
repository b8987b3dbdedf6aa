//! The key ceremony of a campaign as a state machine on the server (issue 4,
//! `docs/protocol/06-dkg.md`, `docs/server.md` §Key ceremony).
//!
//! The server is only the relay and the public record of the ceremony: it never holds a
//! polynomial, a share or a key-holder's secret key, and it cannot alter a message (each is
//! signed by its sender under the base context). What it does:
//!
//! 1. **Configuration** (CEC administrator): `t` of `n` and which staff member (role
//!    `key_holder`) holds which index. Reconfiguring after anything was posted starts a new
//!    attempt; earlier attempts' rows stay.
//! 2. **Registration**: each key-holder posts its own [`KeyHolderPublic`]. When all `n` are in,
//!    the base context hash is fixed (`context::base_hash`).
//! 3. **Round 1** signed commitment hashes, **round 2** signed reveals and encrypted shares,
//!    **round 3** each key-holder's (possibly empty) list of signed complaints. Every message is
//!    verified on arrival (signature under the base context by the sender's signing key, the
//!    sender is the caller's own index, shape, the reveal against the round-1 hash and its
//!    coefficient proofs, the share's proof of knowledge of its ephemeral key, complaints are
//!    adjudicated), stored write-once (the same message again is answered as a repeat,
//!    a different one is refused), and a message whose round's predecessor is incomplete is
//!    refused, naming what is missing.
//! 4. When the last round-3 list arrives, the transcript is evaluated with [`dkg::evaluate`]
//!    (the same code the key-holders' tool and the verifier's specification use) and the outcome
//!    is stored: qualified dealers, disqualifications, the joint key and every verification key.
//!    The joint key is then published (`campaigns.election_public_key`).
//!
//! [`load_transcript`] and [`load_outcome`] are what the election package, the tally and the
//! election record read.

use std::collections::BTreeSet;

use diesel::prelude::*;
use dobush_crypto::context::base_hash;
use dobush_crypto::threshold::dkg::{
    self, CeremonyMessage, CeremonyOutcome, CeremonyTranscript, CommitmentHash, Complaint, DealerCommitments,
    EncryptedShare, Signed, Verdict,
};
use dobush_crypto::threshold::{DkgError, KeyHolderPublic, Parameters, check_key_holders};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::audit;
use crate::db::AnyConnection;
use crate::domain::{CampaignState, Pin, Role};
use crate::error::ApiError;
use crate::models::{load_campaign, staff_roles};
use crate::schema::{campaigns, ceremony_key_holders, ceremony_messages, key_ceremonies};

/// The threshold when the administrator gives none (3 of the usual 5 key-holders).
pub const DEFAULT_THRESHOLD: u32 = 3;

fn corrupt(what: impl std::fmt::Display) -> ApiError {
    ApiError::Unexpected(anyhow::anyhow!("key ceremony: {what}"))
}

fn to_i32(x: u32) -> Result<i32, ApiError> {
    i32::try_from(x).map_err(corrupt)
}

fn to_u32(x: i32) -> Result<u32, ApiError> {
    u32::try_from(x).map_err(corrupt)
}

fn canonical<T: Serialize>(v: &T) -> Result<String, ApiError> {
    serde_json::to_string(v).map_err(|e| ApiError::Unexpected(e.into()))
}

/// `1, 2, 5`.
fn list<T: std::fmt::Display>(v: impl IntoIterator<Item = T>) -> String {
    v.into_iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", ")
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

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
    fn context(&self) -> Result<([u8; 32], Vec<KeyHolderPublic>), ApiError> {
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
const COMMITMENT_HASH: &str = "commitment_hash";
const REVEAL: &str = "reveal";
const SHARE: &str = "share";
const COMPLAINTS: &str = "complaints";

fn load_messages(
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
    fn missing_round1(&self, p: &Parameters) -> Vec<u32> {
        p.indices().filter(|i| !self.commitment_hashes.contains(i)).collect()
    }

    /// A description of what round 2 lacks (empty when complete).
    fn missing_round2(&self, p: &Parameters) -> String {
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

    fn missing_round3(&self, p: &Parameters) -> Vec<u32> {
        p.indices().filter(|i| !self.complaints.contains(i)).collect()
    }
}

fn progress_of(messages: &[(String, i32, i32, String)]) -> Result<Progress, ApiError> {
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

fn transcript_of(messages: &[(String, i32, i32, String)]) -> Result<CeremonyTranscript, ApiError> {
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

// ---------------------------------------------------------------------------------------------
// The public view
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Configuration (CEC administrator)
// ---------------------------------------------------------------------------------------------

/// Sets `t` and the key-holders (staff PINs in index order, `n` = their number). Allowed while
/// the manifest may change. If anything was posted under the current configuration, a new
/// attempt starts (and an election package installed from a completed attempt is removed: it
/// carries the old key: the caller must then drop its cached election). Audited as
/// `ceremony.configure`. Returns whether a package was removed.
pub fn configure(
    c: &mut AnyConnection,
    campaign: &str,
    t: u32,
    pins: &[String],
    now: i64,
    actor: &str,
) -> Result<bool, ApiError> {
    let row = load_campaign(c, campaign)?;
    let st = row.state()?;
    if !st.manifest_editable() {
        return Err(ApiError::conflict(
            "invalid_state",
            format!("the key ceremony cannot be configured in state {}", st.as_str()),
        ));
    }
    let n = u32::try_from(pins.len()).map_err(|_| ApiError::invalid("key_holders", "too many key-holders"))?;
    let params = Parameters::new(n, t).map_err(|_| {
        ApiError::invalid("threshold", format!("need 1 ≤ t < n ≤ 255; got t = {t} with n = {n} key-holders"))
    })?;
    for (i, pin) in pins.iter().enumerate() {
        let field = format!("key_holders[{i}]");
        Pin::parse(pin).map_err(|e| ApiError::invalid(&field, e))?;
        if pins[..i].contains(pin) {
            return Err(ApiError::invalid(field, "the same staff member cannot hold two indices"));
        }
        if !staff_roles(c, pin)?.iter().any(|g| g.role == Role::KeyHolder) {
            return Err(ApiError::invalid(
                field,
                "this staff member does not have the key_holder role; grant it first",
            ));
        }
    }
    let existing = load(c, campaign)?;
    let (attempt, restarted, package_removed) = match &existing {
        None => (1, false, false),
        Some(old) => {
            let started =
                old.holders.iter().any(|h| h.public.is_some()) || !load_messages(c, campaign, old.attempt)?.is_empty();
            if started {
                let removed = diesel::delete(
                    crate::schema::election_packages::table
                        .filter(crate::schema::election_packages::campaign_id.eq(campaign)),
                )
                .execute(c)?
                    > 0;
                diesel::update(campaigns::table.filter(campaigns::id.eq(campaign)))
                    .set(campaigns::election_public_key.eq(None::<String>))
                    .execute(c)?;
                (old.attempt + 1, true, removed)
            } else {
                diesel::delete(
                    ceremony_key_holders::table
                        .filter(ceremony_key_holders::campaign_id.eq(campaign))
                        .filter(ceremony_key_holders::attempt.eq(old.attempt)),
                )
                .execute(c)?;
                (old.attempt, false, false)
            }
        }
    };
    let values = (
        key_ceremonies::campaign_id.eq(campaign),
        key_ceremonies::attempt.eq(attempt),
        key_ceremonies::n.eq(to_i32(params.n())?),
        key_ceremonies::t.eq(to_i32(params.t())?),
        key_ceremonies::base_hash.eq(None::<String>),
        key_ceremonies::outcome.eq(None::<String>),
        key_ceremonies::failure.eq(None::<String>),
        key_ceremonies::configured_at.eq(now),
        key_ceremonies::completed_at.eq(None::<i64>),
    );
    if existing.is_some() {
        diesel::update(key_ceremonies::table.filter(key_ceremonies::campaign_id.eq(campaign)))
            .set(values)
            .execute(c)?;
    } else {
        diesel::insert_into(key_ceremonies::table).values(values).execute(c)?;
    }
    for (idx, pin) in (1i32..).zip(pins) {
        diesel::insert_into(ceremony_key_holders::table)
            .values((
                ceremony_key_holders::campaign_id.eq(campaign),
                ceremony_key_holders::attempt.eq(attempt),
                ceremony_key_holders::idx.eq(idx),
                ceremony_key_holders::pin.eq(pin),
                ceremony_key_holders::public_keys.eq(None::<String>),
                ceremony_key_holders::registered_at.eq(None::<i64>),
            ))
            .execute(c)?;
    }
    let details = json!({
        "attempt": attempt, "n": params.n(), "t": params.t(), "key_holders": pins,
        "restarted": restarted, "election_package_removed": package_removed,
    });
    audit::append(c, now, actor, "ceremony.configure", Some(campaign), &details)?;
    Ok(package_removed)
}

// ---------------------------------------------------------------------------------------------
// Messages from key-holders
// ---------------------------------------------------------------------------------------------

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
    let round1_missing = progress.missing_round1(&params);
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
    match msg {
        Incoming::Register(_) => {}
        Incoming::CommitmentHash(m) => {
            m.verify(&ctx, &publics).map_err(|e| dkg_invalid("signature", e))?;
        }
        Incoming::Reveal(m) => {
            require_round1()?;
            let reveal = m.verify(&ctx, &publics).map_err(|e| dkg_invalid("signature", e))?;
            reveal.validate(&params).map_err(|e| dkg_invalid("message.commitments", e))?;
            let hash = stored_message::<CommitmentHash>(&messages, COMMITMENT_HASH, sender, 0)?;
            reveal.check_hash(&ctx, &hash.message).map_err(|_| {
                ApiError::invalid(
                    "message",
                    format!("the revealed commitments do not match key-holder {sender}'s round-1 commitment hash"),
                )
            })?;
            if let Err(e) = reveal.verify(&params, &ctx) {
                let field = match e {
                    DkgError::CoefficientProof { coefficient, .. } => format!("message.proofs[{coefficient}]"),
                    _ => "message.proofs".into(),
                };
                return Err(dkg_invalid(&field, e));
            }
        }
        Incoming::Share(m) => {
            require_round1()?;
            let share = m.verify(&ctx, &publics).map_err(|e| dkg_invalid("signature", e))?;
            share.validate(&params).map_err(|e| dkg_invalid("message.recipient", e))?;
            let to = publics
                .iter()
                .find(|p| p.index == share.recipient)
                .ok_or_else(|| ApiError::invalid("message.recipient", "no such key-holder"))?;
            share.verify(&ctx, to).map_err(|e| dkg_invalid("message.proof", e))?;
        }
        Incoming::Complaints(l) => {
            let missing = progress.missing_round2(&params);
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
                let complaint = m.verify(&ctx, &publics).map_err(|e| dkg_invalid(&field("signature"), e))?;
                complaint.validate(&params).map_err(|e| dkg_invalid(&field("message.dealer"), e))?;
                if !against.insert(complaint.dealer) {
                    return Err(ApiError::invalid(
                        field("message.dealer"),
                        "a second complaint against the same dealer",
                    ));
                }
                let reveal = stored_message::<DealerCommitments>(&messages, REVEAL, complaint.dealer, 0)?;
                let share = stored_message::<EncryptedShare>(&messages, SHARE, complaint.dealer, sender)?;
                let verdict = dkg::adjudicate(&params, &ctx, &publics, &reveal, &share, m)
                    .map_err(|e| dkg_invalid(&field("message"), e))?;
                accepted.verdicts.push(match verdict {
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
