//! The commission section of the election package under dual control
//! (`docs/protocol/14-commission.md` §Dual control, docs/server.md §Commission):
//!
//! * [`proposed`]: the section derived from the registered members (`commission_members`, in
//!   order of registration), with the majority quorum for every act;
//! * [`confirm`]: a second CEC administrator, who registered none of the members, confirms it
//!   by its hash, and the campaign's re-vote rule by name (the package's `parameters`);
//!   [`require_independent_confirmer`]: one who held the role before the members were
//!   registered, granted by none of the administrators who set up the commission or campaign;
//! * [`confirmed`]: what the package is built from, only while the section still has the
//!   confirmed hash and the campaign the confirmed rule;
//! * [`pinned`]: once the package is installed, the package's section; [`current`]: the one
//!   every member-signed act is checked against ([`check_act`]): the pinned one, before the
//!   package the confirmed one.

use diesel::prelude::*;
use dobush_crypto::commission::{Act, Commission, CommissionError, CommissionMember, Quorum, SigningIdentity};
use dobush_crypto::election_protocol::MemberSignature;
use dobush_crypto::record::ElectionPackage;
use serde_json::json;

use crate::audit;
use crate::db::AnyConnection;
use crate::error::ApiError;
use crate::models::load_campaign;
use crate::schema::{commission_confirmations, commission_members, election_packages, staff};

fn corrupt(what: impl std::fmt::Display) -> ApiError {
    ApiError::Unexpected(anyhow::anyhow!("commission: {what}"))
}

/// The registered members as `(member, registered_by)`, in order of registration.
fn registered(c: &mut AnyConnection, campaign: &str) -> Result<Vec<(CommissionMember, String)>, ApiError> {
    let rows: Vec<(String, String, String, String)> = commission_members::table
        .filter(commission_members::campaign_id.eq(campaign))
        .order((commission_members::registered_at.asc(), commission_members::public_key.asc()))
        .select((
            commission_members::name,
            commission_members::role,
            commission_members::public_key,
            commission_members::registered_by,
        ))
        .load(c)?;
    rows.into_iter()
        .map(|(name, role, pk, by)| {
            let mut key = [0u8; 32];
            hex::decode_to_slice(&pk, &mut key).map_err(corrupt)?;
            Ok((CommissionMember { name, role, identity: SigningIdentity::Ed25519 { key } }, by))
        })
        .collect()
}

/// Whether campaign `id` has an election package installed (and so a pinned commission).
fn package_installed(c: &mut AnyConnection, id: &str) -> Result<bool, ApiError> {
    let n: i64 = election_packages::table.filter(election_packages::campaign_id.eq(id)).count().get_result(c)?;
    Ok(n > 0)
}

/// 409 `commission_pinned` once the package is installed: the section no longer changes.
pub fn require_not_pinned(c: &mut AnyConnection, id: &str) -> Result<(), ApiError> {
    if package_installed(c, id)? {
        return Err(ApiError::conflict(
            "commission_pinned",
            "the election package is installed: its commission is pinned and no longer changes",
        ));
    }
    Ok(())
}

/// The section as it would be pinned now, or 409 `commission_invalid` naming the broken rule
/// (fewer than two members, no chair or two, a repeated name or key).
pub fn proposed(c: &mut AnyConnection, campaign: &str) -> Result<Commission, ApiError> {
    let members: Vec<CommissionMember> = registered(c, campaign)?.into_iter().map(|(m, _)| m).collect();
    let commission = Commission { quorum: Quorum::majority(members.len()), members };
    commission.validate().map_err(|e| {
        ApiError::conflict(
            "commission_invalid",
            format!("{e} (register the members with POST /api/campaigns/{campaign}/commission-members)"),
        )
    })?;
    Ok(commission)
}

/// A second CEC administrator confirms the proposed section by its hash and the campaign's
/// re-vote rule by name (14-commission.md §Dual control, step 2), inside the caller's write
/// transaction: 409 `commission_pinned` after the package, `commission_changed` if `hash_hex` is
/// not the section's as it stands, `re_vote_rule_differs` if `re_vote_policy` is not the
/// campaign's rule, `same_person` if `actor` registered one of the members. Audited as
/// `commission.confirmed`.
pub fn confirm(
    c: &mut AnyConnection,
    campaign: &str,
    hash_hex: &str,
    re_vote_policy: &str,
    actor: &str,
    now_secs: i64,
) -> Result<serde_json::Value, ApiError> {
    let row = load_campaign(c, campaign)?;
    require_not_pinned(c, campaign)?;
    let hash: [u8; 32] = crate::domain::member_signature::hex_field("commission_hash", hash_hex)?;
    let rule = crate::domain::RevotePolicy::parse(re_vote_policy)
        .map_err(|_| ApiError::invalid("re_vote_policy", "must be \"forbidden\" or \"last_counts\""))?;
    let campaign_rule = row.revote_policy()?;
    if rule != campaign_rule {
        return Err(ApiError::conflict(
            "re_vote_rule_differs",
            format!(
                "the campaign's re-vote rule is {:?}, not the {:?} confirmed: compare it again",
                campaign_rule.as_str(),
                rule.as_str()
            ),
        ));
    }
    let commission = proposed(c, campaign)?;
    if commission.hash() != hash {
        return Err(ApiError::conflict(
            "commission_changed",
            format!(
                "the commission as it stands has the hash {}, not the one confirmed: compare it again",
                hex::encode(commission.hash())
            ),
        ));
    }
    if registered(c, campaign)?.iter().any(|(_, by)| by == actor) {
        return Err(ApiError::conflict(
            "same_person",
            "you registered a member of this commission: another CEC administrator must confirm it (dual control)",
        ));
    }
    if row.created_by == actor {
        return Err(ApiError::conflict(
            "same_person",
            "you created this campaign and chose its re-vote rule: another CEC administrator must confirm it \
             (dual control)",
        ));
    }
    diesel::delete(commission_confirmations::table.filter(commission_confirmations::campaign_id.eq(campaign)))
        .execute(c)?;
    diesel::insert_into(commission_confirmations::table)
        .values((
            commission_confirmations::campaign_id.eq(campaign),
            commission_confirmations::commission_hash.eq(hex::encode(hash)),
            commission_confirmations::confirmed_by.eq(actor),
            commission_confirmations::confirmed_at.eq(now_secs),
            commission_confirmations::re_vote_policy.eq(rule.as_str()),
        ))
        .execute(c)?;
    let details = json!({ "commission_hash": hex::encode(hash), "members": commission.members.len(),
                          "re_vote_policy": rule.as_str() });
    audit::append(c, now_secs, actor, "commission.confirmed", Some(campaign), &details)?;
    Ok(json!({ "commission": commission, "commission_hash": hex::encode(hash), "re_vote_policy": rule.as_str(),
               "confirmed": true }))
}

/// Dual control is between persons fixed before the commission was set up (review
/// 14-commission H1): otherwise an administrator who registers the members grants `cec_admin` to
/// a second PIN it controls and confirms alone. The confirming administrator `actor` must hold
/// `cec_admin` granted no later than the first member's registration, and its line of
/// appointments ([`appointment_line`]) must share no one with the line of anyone who registered
/// a member or created the campaign; 409 `confirmer_not_independent` otherwise. Against the server's operator this counts for nothing (the members' own check does,
/// §Member fingerprints).
pub fn require_independent_confirmer(c: &mut AnyConnection, campaign: &str, actor: &str) -> Result<(), ApiError> {
    let row = load_campaign(c, campaign)?;
    let granted_at: Option<i64> = staff::table
        .filter(staff::pin.eq(actor))
        .filter(staff::role.eq(crate::domain::Role::CecAdmin.as_str()))
        .select(staff::granted_at)
        .first(c)
        .optional()?;
    let Some(granted_at) = granted_at else {
        return Err(ApiError::forbidden("not_cec_admin", "only a CEC administrator confirms a commission"));
    };
    // Who appointed whom, back to the installation's appointees: the confirmer's line and the
    // line of everyone who registered a member or created the campaign must share no one (one
    // person appointing both sides meets "dual control" alone, review 14-commission H1 and its
    // re-review H-A)
    let mine = appointment_line(c, actor)?;
    let mut others = vec![row.created_by.clone()];
    others.extend(registered(c, campaign)?.into_iter().map(|(_, by)| by));
    // (the confirmer itself among them is `same_person`, refused by [`confirm`])
    for other in others.into_iter().filter(|o| o != actor) {
        let theirs = appointment_line(c, &other)?;
        if theirs.iter().any(|p| mine.contains(p)) {
            return Err(ApiError::conflict(
                "confirmer_not_independent",
                "you, or an administrator who appointed you, appointed (or are) an administrator who set up this \
                 commission or campaign: an administrator appointed independently of them must confirm it (dual \
                 control)",
            ));
        }
    }
    let first: Option<i64> = commission_members::table
        .filter(commission_members::campaign_id.eq(campaign))
        .select(diesel::dsl::min(commission_members::registered_at))
        .first(c)?;
    if first.is_some_and(|first| granted_at > first) {
        return Err(ApiError::conflict(
            "confirmer_not_independent",
            "you became a CEC administrator after this commission's members were registered: an administrator \
             appointed before must confirm it (dual control)",
        ));
    }
    Ok(())
}

/// `pin` and everyone who appointed it, nearest first, up to an installation appointee
/// (`bootstrap.cec_admin_pins`, whose grantor is `bootstrap`). A line that cannot be followed (a
/// grantor whose role was revoked, a loop) is refused: independence cannot be shown.
fn appointment_line(c: &mut AnyConnection, pin: &str) -> Result<Vec<String>, ApiError> {
    let mut line = vec![pin.to_string()];
    while let Some(current) = line.last().cloned() {
        let grantor: Option<String> = staff::table
            .filter(staff::pin.eq(&current))
            .order(staff::granted_at.asc())
            .select(staff::granted_by)
            .first(c)
            .optional()?;
        match grantor {
            Some(g) if g == "bootstrap" => break,
            Some(g) if !line.contains(&g) && line.len() < 64 => line.push(g),
            _ => {
                return Err(ApiError::conflict(
                    "confirmer_not_independent",
                    format!(
                        "who appointed {} cannot be followed back to an administrator appointed at installation: \
                         independence cannot be shown",
                        if current == pin { "you" } else { "an administrator in the line" }
                    ),
                ));
            }
        }
    }
    Ok(line)
}

/// The hash and the re-vote rule confirmed for campaign `id`, if any.
fn confirmation(c: &mut AnyConnection, id: &str) -> Result<Option<(String, String)>, ApiError> {
    Ok(commission_confirmations::table
        .filter(commission_confirmations::campaign_id.eq(id))
        .select((commission_confirmations::commission_hash, commission_confirmations::re_vote_policy))
        .first(c)
        .optional()?)
}

/// Whether the proposed section `commission` and the campaign's rule are the confirmed ones.
fn is_confirmed(c: &mut AnyConnection, id: &str, commission: &Commission) -> Result<bool, ApiError> {
    let rule = load_campaign(c, id)?.revote_policy()?;
    Ok(confirmation(c, id)?.is_some_and(|(hash, confirmed_rule)| {
        hash == hex::encode(commission.hash()) && confirmed_rule == rule.as_str()
    }))
}

/// The section the package is built from: the proposed one, confirmed under dual control with
/// this very hash and the campaign's present re-vote rule, or 409 `commission_unconfirmed`.
pub fn confirmed(c: &mut AnyConnection, id: &str) -> Result<Commission, ApiError> {
    let commission = proposed(c, id)?;
    if !is_confirmed(c, id, &commission)? {
        return Err(ApiError::conflict(
            "commission_unconfirmed",
            format!(
                "the commission (hash {}) and the re-vote rule are not confirmed by a second CEC \
                 administrator as they stand: POST /api/campaigns/{id}/commission/confirm",
                hex::encode(commission.hash())
            ),
        ));
    }
    Ok(commission)
}

/// The installed election package of campaign `id`, as stored (`crate::package::load_election`
/// also recomputes its context).
pub fn installed_package(c: &mut AnyConnection, id: &str) -> Result<Option<ElectionPackage>, ApiError> {
    let text: Option<String> = election_packages::table
        .filter(election_packages::campaign_id.eq(id))
        .select(election_packages::package)
        .first(c)
        .optional()?;
    text.map(|t| serde_json::from_str(&t).map_err(corrupt)).transpose()
}

/// The pinned commission: the installed package's, or 409 `commission_not_pinned`.
pub fn pinned(c: &mut AnyConnection, id: &str) -> Result<Commission, ApiError> {
    let Some(package) = installed_package(c, id)? else {
        return Err(ApiError::conflict(
            "commission_not_pinned",
            "no election package is installed, so no commission is pinned: members sign only once it is",
        ));
    };
    Ok(package.commission)
}

/// The commission members' acts are checked against: the pinned one once the package is
/// installed, before that the one confirmed under dual control (the only one a package can be
/// built from: [`confirmed`]), or 409 `commission_unconfirmed`.
pub fn current(c: &mut AnyConnection, id: &str) -> Result<Commission, ApiError> {
    if package_installed(c, id)? { pinned(c, id) } else { confirmed(c, id) }
}

/// What `GET /api/v1/campaigns/{id}/commission` shows: the pinned section once the package is
/// installed, before that the proposed one with whether it is confirmed, and every member's
/// fingerprint (`fingerprints`, member order).
/// `re_vote_policy` is the rule the second administrator confirms with it (the package's once
/// installed).
pub fn show(c: &mut AnyConnection, id: &str) -> Result<serde_json::Value, ApiError> {
    let row = load_campaign(c, id)?;
    if let Some(package) = installed_package(c, id)? {
        let commission = package.commission;
        let hash = hex::encode(commission.hash());
        let rule = package.parameters.re_vote.policy.as_str();
        return Ok(json!({ "commission": commission, "commission_hash": hash, "re_vote_policy": rule,
                          "fingerprints": fingerprints(&commission), "confirmed": true, "pinned": true }));
    }
    let commission = proposed(c, id)?;
    let hash = hex::encode(commission.hash());
    let confirmed = is_confirmed(c, id, &commission)?;
    Ok(json!({ "commission": commission, "commission_hash": hash, "re_vote_policy": row.revote_policy()?.as_str(),
               "fingerprints": fingerprints(&commission), "confirmed": confirmed, "pinned": false }))
}

/// Every member's fingerprint in member order (14-commission.md §Member fingerprints), for the
/// administrator and each member to compare with the one their own tool printed.
fn fingerprints(commission: &Commission) -> Vec<String> {
    commission.members.iter().map(|m| m.identity.fingerprint()).collect()
}

/// One member's signature: a pinned key (403 `not_a_member` otherwise), valid over `digest`
/// (422 on `signature`). Returns the signature named as pinned.
pub fn check_signature(
    commission: &Commission,
    digest: &[u8; 32],
    public_key: [u8; 32],
    signature: [u8; 64],
) -> Result<MemberSignature, ApiError> {
    let Some(m) = commission.member_by_key(&public_key) else {
        return Err(ApiError::forbidden(
            "not_a_member",
            "this key is not a member of the commission pinned in the election package",
        ));
    };
    let s = MemberSignature { member: m.name.clone(), public_key, signature };
    s.verify_digest(digest)
        .map_err(|e| ApiError::invalid("signature", format!("{e}: it must sign the digest {}", hex::encode(digest))))?;
    Ok(s)
}

/// The acceptance rule of an act that takes effect now (14-commission.md §Acceptance): 403
/// `not_a_member` for an unpinned key, 422 on `signatures` for a bad one, 409
/// `quorum_not_reached` under the quorum.
pub fn check_act(
    commission: &Commission,
    act: Act,
    digest: &[u8; 32],
    signatures: &[MemberSignature],
) -> Result<(), ApiError> {
    commission.check_act(act, digest, signatures).map_err(|e| match e {
        CommissionError::NotAMember(_) => ApiError::forbidden(
            "not_a_member",
            format!("{e}: only members pinned in the election package sign the {}", act.as_str()),
        ),
        CommissionError::QuorumNotReached { .. } => ApiError::conflict("quorum_not_reached", e.to_string()),
        e => ApiError::invalid("signatures", format!("{e} (the digest is {})", hex::encode(digest))),
    })
}

/// Signatures as the request gave them, renamed to the pinned names (the name is not the
/// requester's to choose: the key says who signed).
pub fn named_as_pinned(commission: &Commission, signatures: &[MemberSignature]) -> Vec<MemberSignature> {
    signatures
        .iter()
        .map(|s| {
            let mut s = s.clone();
            if let Some(m) = commission.member_by_key(&s.public_key) {
                s.member = m.name.clone();
            }
            s
        })
        .collect()
}
