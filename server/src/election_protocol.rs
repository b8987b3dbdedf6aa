//! The electronic protocol of the campaign's electronic precinct
//! (`docs/protocol/11-election-protocol.md`, docs/server.md §Tally, protocol and record;
//! regulation seed 004 §44–48).
//!
//! * [`draft`]: computed by the server from the board (line 1 = the frozen list's count, lines
//!   3–5 = counted, superseded, challenged; in a v2 campaign line 3 is the filter's counted
//!   ballots and line 4 every other cast e-ballot, re-votes and cancelled ones together,
//!   13-revoting.md §6.8), the issuance records (line 2; a cast implies an
//!   issuance) and the combined results (contest lines). Available once the campaign is tallied.
//! * [`save`]: the control relations are checked whenever a protocol is saved; a failing one is
//!   refused with a 422 whose `field` is `line <number>` (§44). A protocol whose lines differ
//!   from the draft is refused the same way, naming the first differing line. A second save
//!   (re-entry) needs a recorded CEC decision (§45), written to the audit log.
//! * [`register_member`]: commission members' Ed25519 keys, per campaign and precinct, by the
//!   CEC administrator, until the package pins the commission (`crate::commission`, dual
//!   control); the server never holds a member's secret key.
//! * [`add_signature`]: verified (strict Ed25519) on arrival against the key of a member pinned
//!   in the election package and the saved protocol's digest. Quorum: the pinned commission's
//!   protocol quorum, the chair among them (14-commission.md §Acceptance); then the campaign
//!   moves `tallied → protocol_signed`.

use diesel::prelude::*;
use dobush_crypto::election_protocol::{ElectionProtocol, MemberSignature, ProtocolBody, Turnout};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::AnyConnection;
use crate::domain::CampaignState;
use crate::error::ApiError;
use crate::models::{load_campaign, load_precincts};
use crate::schema::{commission_members, protocol_signatures, protocols};

fn corrupt(what: impl std::fmt::Display) -> ApiError {
    ApiError::Unexpected(anyhow::anyhow!("protocol: {what}"))
}

/// Member roles as printed on the protocol.
pub const ROLES: [&str; 4] = ["chair", "deputy_chair", "secretary", "member"];

/// The precinct the protocol is drawn up for: the campaign's electronic (or remote) precincts'
/// codes, joined by `+` (one board and one tally per campaign).
pub fn precinct_label(c: &mut AnyConnection, campaign: &str) -> Result<String, ApiError> {
    let precincts = load_precincts(c, campaign)?;
    let mut codes: Vec<String> = precincts.iter().filter(|p| p.kind == "electronic").map(|p| p.code.clone()).collect();
    if codes.is_empty() {
        codes = precincts.iter().filter(|p| p.kind == "remote").map(|p| p.code.clone()).collect();
    }
    Ok(if codes.is_empty() { "electronic".into() } else { codes.join("+") })
}

/// The draft protocol of a tallied campaign, drawn up at `now_ms`.
pub fn draft(c: &mut AnyConnection, campaign: &str, now_ms: u64) -> Result<ProtocolBody, ApiError> {
    let Some(results) = crate::tally::load_results(c, campaign)? else {
        return Err(ApiError::conflict("not_tallied", "the protocol is drawn up once the results are combined"));
    };
    let election = crate::package::load_election(c, campaign)?;
    let board = if election.package.parameters.is_v2() {
        // counted_s come from the filter (13-revoting.md §6.8); line 4 is every other cast ballot
        crate::filter::board_count(c, campaign)?
    } else {
        let lines = crate::board_log::load_lines(c, campaign)?;
        crate::close::totals::count_board(&election.context, election.package.parameters.re_vote.policy, &lines)?
    };
    let heads = crate::board_log::load_heads(c, campaign, election.package.base_hash)?;
    let final_head = heads.last().map(|h| h.head.link()).ok_or_else(|| corrupt("no final tree head"))?;
    // the shares the record publishes, in order: the members sign the very list
    let shares = dobush_crypto::threshold::decrypt::shares_digest(&crate::tally::load_shares(c, campaign)?);
    let issued = crate::cast::issuance::issued_count(c, campaign)?;
    let turnout = Turnout {
        e_voters: board.e_voters,
        issued,
        counted: board.counted,
        superseded: board.superseded,
        challenged: board.challenged,
    };
    let precinct = precinct_label(c, campaign)?;
    Ok(ProtocolBody::draw_up(
        election.context.manifest(),
        &precinct,
        election.package.extended_hash,
        final_head,
        shares,
        turnout,
        &results,
        now_ms,
    ))
}

/// The first line whose value differs between `saved` and `computed`, as `(number, saved, computed)`.
fn first_difference(saved: &ProtocolBody, computed: &ProtocolBody) -> Option<(String, String)> {
    let all = |b: &ProtocolBody| -> Vec<(String, String, u64)> {
        b.general
            .iter()
            .chain(b.contests.iter().flat_map(|c| c.lines.iter()))
            .map(|l| (l.number.clone(), l.key.clone(), l.value))
            .collect()
    };
    let (s, k) = (all(saved), all(computed));
    for (i, want) in k.iter().enumerate() {
        match s.get(i) {
            Some(got) if got == want => {}
            Some(got) => {
                return Some((
                    got.0.clone(),
                    format!("line {} ({}) is {}, the count gives {}", want.0, want.1, got.2, want.2),
                ));
            }
            None => return Some((want.0.clone(), format!("line {} ({}) is missing", want.0, want.1))),
        }
    }
    s.get(k.len()).map(|extra| (extra.0.clone(), format!("line {} is not a line of this protocol", extra.0)))
}

/// Saves a protocol (CEC or commission staff): control relations, equality with the count,
/// re-entry only with a decision. Returns the saved body's digest (hex).
pub fn save(
    c: &mut AnyConnection,
    campaign: &str,
    body: &ProtocolBody,
    decision: Option<&str>,
    actor: &str,
    now_secs: i64,
) -> Result<String, ApiError> {
    let row = load_campaign(c, campaign)?;
    let st = row.state()?;
    if st != CampaignState::Tallied {
        return Err(ApiError::conflict(
            "invalid_state",
            format!("a protocol is saved when the campaign is tallied; it is in state {}", st.as_str()),
        ));
    }
    let election = crate::package::load_election(c, campaign)?;
    if body.campaign_id != campaign {
        return Err(ApiError::invalid("campaign_id", format!("must be this campaign's id {campaign}")));
    }
    body.check_control_relations(election.context.manifest()).map_err(|e| {
        ApiError::invalid(format!("line {}", e.line), format!("control relation fails: {}", e.relation))
    })?;
    let computed = draft(c, campaign, body.drawn_up_ms)?;
    if let Some((line, why)) = first_difference(body, &computed) {
        return Err(ApiError::invalid(format!("line {line}"), why));
    }
    for (field, ok) in [
        ("version", body.version == computed.version),
        ("precinct", body.precinct == computed.precinct),
        ("extended_hash", body.extended_hash == computed.extended_hash),
        ("final_head", body.final_head == computed.final_head),
        ("decryption_shares", body.decryption_shares == computed.decryption_shares),
    ] {
        if !ok {
            return Err(ApiError::invalid(field, "differs from this campaign's"));
        }
    }
    let digest = hex::encode(body.digest());
    let text = serde_json::to_string(body).map_err(corrupt)?;
    let existing: Option<(i64, String)> = protocols::table
        .filter(protocols::campaign_id.eq(campaign))
        .select((protocols::revision, protocols::digest))
        .first(c)
        .optional()?;
    match (&existing, decision.map(str::trim).filter(|d| !d.is_empty())) {
        (None, _) => {
            diesel::insert_into(protocols::table)
                .values((
                    protocols::campaign_id.eq(campaign),
                    protocols::body.eq(&text),
                    protocols::digest.eq(&digest),
                    protocols::revision.eq(1i64),
                    protocols::decision.eq(decision),
                    protocols::saved_at.eq(now_secs),
                    protocols::saved_by.eq(actor),
                ))
                .execute(c)?;
            crate::audit::append(c, now_secs, actor, "protocol.saved", Some(campaign), &json!({ "digest": digest }))?;
        }
        (Some(_), None) => {
            return Err(ApiError::conflict(
                "protocol_saved",
                "a protocol is already saved; re-entry needs a recorded CEC decision (regulation §45): give `decision`",
            ));
        }
        (Some((rev, old)), Some(d)) => {
            diesel::update(protocols::table.filter(protocols::campaign_id.eq(campaign)))
                .set((
                    protocols::body.eq(&text),
                    protocols::digest.eq(&digest),
                    protocols::revision.eq(rev + 1),
                    protocols::decision.eq(d),
                    protocols::saved_at.eq(now_secs),
                    protocols::saved_by.eq(actor),
                ))
                .execute(c)?;
            crate::audit::append(
                c,
                now_secs,
                actor,
                "protocol.reentered",
                Some(campaign),
                &json!({ "decision": d, "revision": rev + 1, "previous_digest": old, "digest": digest }),
            )?;
        }
    }
    Ok(digest)
}

/// The saved protocol body, if any.
pub fn saved_body(c: &mut AnyConnection, campaign: &str) -> Result<Option<ProtocolBody>, ApiError> {
    let text: Option<String> =
        protocols::table.filter(protocols::campaign_id.eq(campaign)).select(protocols::body).first(c).optional()?;
    text.map(|t| serde_json::from_str(&t).map_err(corrupt)).transpose()
}

/// The saved protocol with the signatures over its digest (in the order received).
pub fn signed_protocol(c: &mut AnyConnection, campaign: &str) -> Result<Option<ElectionProtocol>, ApiError> {
    let Some(body) = saved_body(c, campaign)? else { return Ok(None) };
    let digest = hex::encode(body.digest());
    let rows: Vec<(String, String, String)> = protocol_signatures::table
        .filter(protocol_signatures::campaign_id.eq(campaign))
        .filter(protocol_signatures::digest.eq(&digest))
        .order((protocol_signatures::signed_at.asc(), protocol_signatures::public_key.asc()))
        .select((protocol_signatures::member, protocol_signatures::public_key, protocol_signatures::signature))
        .load(c)?;
    let signatures = rows
        .into_iter()
        .map(|(member, pk, sig)| crate::domain::member_signature::from_row(member, &pk, &sig))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(ElectionProtocol { body, signatures }))
}

/// A commission member as registered.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// Name as printed.
    pub name: String,
    /// One of [`ROLES`].
    pub role: String,
    /// The precinct code.
    pub precinct: String,
    /// Ed25519 public key, 64 hex digits.
    pub public_key: String,
}

impl Member {
    /// `name (role)` as it appears in a [`MemberSignature`].
    pub fn label(&self) -> String {
        format!("{} ({})", self.name, self.role)
    }
}

/// Registers a member's key (CEC administrator). A key is registered once per campaign.
pub fn register_member(
    c: &mut AnyConnection,
    campaign: &str,
    m: &Member,
    actor: &str,
    now_secs: i64,
) -> Result<(), ApiError> {
    load_campaign(c, campaign)?;
    if !dobush_crypto::commission::valid_member_name(m.name.trim()) {
        return Err(ApiError::invalid(
            "name",
            "1 to 200 letters, digits and . - ' ’, words separated by single spaces (14-commission.md)",
        ));
    }
    if !ROLES.contains(&m.role.as_str()) {
        return Err(ApiError::invalid("role", format!("one of {}", ROLES.join(", "))));
    }
    if !load_precincts(c, campaign)?.iter().any(|p| p.code == m.precinct) {
        return Err(ApiError::invalid("precinct", "no such precinct in this campaign"));
    }
    let mut key = [0u8; 32];
    hex::decode_to_slice(&m.public_key, &mut key)
        .map_err(|_| ApiError::invalid("public_key", "64 hex digits (an Ed25519 public key)"))?;
    if m.public_key.chars().any(|ch| ch.is_ascii_uppercase()) || ed25519_dalek::VerifyingKey::from_bytes(&key).is_err()
    {
        return Err(ApiError::invalid("public_key", "not a canonical Ed25519 public key (lowercase hex)"));
    }
    crate::commission::require_not_pinned(c, campaign)?;
    let inserted = diesel::insert_into(commission_members::table)
        .values((
            commission_members::campaign_id.eq(campaign),
            commission_members::public_key.eq(&m.public_key),
            commission_members::name.eq(m.name.trim()),
            commission_members::role.eq(&m.role),
            commission_members::precinct.eq(&m.precinct),
            commission_members::registered_at.eq(now_secs),
            commission_members::registered_by.eq(actor),
        ))
        .execute(c);
    match inserted {
        Ok(_) => {}
        Err(e) if crate::db::is_unique_violation(&e) => {
            return Err(ApiError::conflict("member_exists", "this key is already registered for this campaign"));
        }
        Err(e) => return Err(e.into()),
    }
    crate::audit::append(
        c,
        now_secs,
        actor,
        "protocol.member_registered",
        Some(campaign),
        &json!({ "name": m.name.trim(), "role": m.role, "precinct": m.precinct, "public_key": m.public_key }),
    )?;
    Ok(())
}

/// The registered members of a campaign.
pub fn members(c: &mut AnyConnection, campaign: &str) -> Result<Vec<Member>, ApiError> {
    let rows: Vec<(String, String, String, String)> = commission_members::table
        .filter(commission_members::campaign_id.eq(campaign))
        .order(commission_members::registered_at.asc())
        .select((
            commission_members::name,
            commission_members::role,
            commission_members::precinct,
            commission_members::public_key,
        ))
        .load(c)?;
    Ok(rows.into_iter().map(|(name, role, precinct, public_key)| Member { name, role, precinct, public_key }).collect())
}

/// What a member posts: their public key and the signature over the saved protocol's digest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureRequest {
    /// Ed25519 public key (hex), registered for this campaign.
    pub public_key: String,
    /// Signature over the digest (128 hex digits).
    pub signature: String,
}

/// Adds a member's signature (verified against the key of a member pinned in the election
/// package and the saved protocol's digest: 403 `not_a_member` for any other key); moves the campaign to `protocol_signed` when the quorum is reached. Returns whether
/// the protocol is now signed.
pub fn add_signature(
    c: &mut AnyConnection,
    campaign: &str,
    req: &SignatureRequest,
    now_secs: i64,
) -> Result<bool, ApiError> {
    let row = load_campaign(c, campaign)?;
    let st = row.state()?;
    if st != CampaignState::Tallied && st != CampaignState::ProtocolSigned {
        return Err(ApiError::conflict("invalid_state", format!("nothing to sign in state {}", st.as_str())));
    }
    let Some(body) = saved_body(c, campaign)? else {
        return Err(ApiError::conflict("no_protocol", "no protocol is saved yet"));
    };
    // the list of decryption shares is the one the saved protocol names (a share stored in a race
    // with the save would otherwise make the signed record fail V14)
    let shares = dobush_crypto::threshold::decrypt::shares_digest(&crate::tally::load_shares(c, campaign)?);
    if shares != body.decryption_shares {
        return Err(ApiError::conflict(
            "shares_changed",
            "the decryption shares are no longer the list the saved protocol names: it must be drawn up again \
             (with a CEC decision)",
        ));
    }
    let pinned = crate::commission::pinned(c, campaign)?;
    let key: [u8; 32] = crate::domain::member_signature::hex_field("public_key", &req.public_key)?;
    let sig: [u8; 64] = crate::domain::member_signature::hex_field("signature", &req.signature)?;
    let signature = crate::commission::check_signature(&pinned, &body.digest(), key, sig)?;
    let digest = hex::encode(body.digest());
    let exists: i64 = protocol_signatures::table
        .filter(protocol_signatures::campaign_id.eq(campaign))
        .filter(protocol_signatures::digest.eq(&digest))
        .filter(protocol_signatures::public_key.eq(&req.public_key))
        .count()
        .get_result(c)?;
    if exists == 0 {
        diesel::insert_into(protocol_signatures::table)
            .values((
                protocol_signatures::campaign_id.eq(campaign),
                protocol_signatures::digest.eq(&digest),
                protocol_signatures::public_key.eq(&req.public_key),
                protocol_signatures::member.eq(&signature.member),
                protocol_signatures::signature.eq(&req.signature.to_ascii_lowercase()),
                protocol_signatures::signed_at.eq(now_secs),
            ))
            .execute(c)?;
        crate::audit::append(
            c,
            now_secs,
            &format!("member:{}", req.public_key),
            "protocol.signed_by_member",
            Some(campaign),
            &json!({ "member": signature.member, "digest": digest }),
        )?;
    }
    let signed: Vec<(String, String, String)> = protocol_signatures::table
        .filter(protocol_signatures::campaign_id.eq(campaign))
        .filter(protocol_signatures::digest.eq(&digest))
        .select((protocol_signatures::member, protocol_signatures::public_key, protocol_signatures::signature))
        .load(c)?;
    let signed: Vec<MemberSignature> = signed
        .into_iter()
        .map(|(member, pk, sig)| crate::domain::member_signature::from_row(member, &pk, &sig))
        .collect::<Result<_, _>>()?;
    let reached = pinned.check_act(dobush_crypto::commission::Act::Protocol, &body.digest(), &signed).is_ok();
    if reached && st == CampaignState::Tallied {
        crate::lifecycle::advance(
            c,
            campaign,
            crate::domain::Action::SignProtocol,
            json!({ "signatures": signed.len() }),
            now_secs,
        )?;
        return Ok(true);
    }
    Ok(st == CampaignState::ProtocolSigned || reached)
}
