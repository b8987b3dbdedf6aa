//! A campaign's election package (docs/record-format.md §Election package): built from the public
//! outcome of its key ceremony and the manifest, installed, and loaded with the election context
//! it yields.

use diesel::prelude::*;
use dobush_crypto::ballot_v2::cast_opening::CastVerifierSecret;
use dobush_crypto::commission::Commission;
use dobush_crypto::context::{ElectionContext, KeyHolderIdentity, base_hash};
use dobush_crypto::group::GroupElement;
use dobush_crypto::manifest::Manifest;
use dobush_crypto::parameters::{Parameters, ReVotePolicy, parameters_hash};
use dobush_crypto::record::{ElectionPackage, PublishedKeyHolder, RECORD_VERSION};
use serde::Deserialize;
use serde_json::json;
use zeroize::Zeroizing;

use crate::audit;
use crate::ceremony::store::CompletedCeremony;
use crate::db::AnyConnection;
use crate::domain::CampaignState;
use crate::error::ApiError;
use crate::models::load_campaign;
use crate::schema::{ballot_styles, campaigns, cast_verifier_secrets, election_packages};

/// The ballot format a package selects (`parameters.ballot_v2` present or not). v1 is the
/// default until the filter tallies v2 (13-revoting.md §3.7).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BallotFormat {
    /// 08-ballot.md: the credential in the clear, a Schnorr signature.
    #[default]
    V1,
    /// 13-revoting.md §3.7: the credential encrypted, the credential proof, the cast opening.
    V2,
}

fn corrupt(what: impl std::fmt::Display) -> ApiError {
    ApiError::Unexpected(anyhow::anyhow!("election package: {what}"))
}

/// A campaign's installed election: the package and the context it yields.
#[derive(Debug)]
pub struct Election {
    /// The package as published.
    pub package: ElectionPackage,
    /// The context ballots are verified against.
    pub context: ElectionContext,
}

impl Election {
    /// The re-vote rule that casting, closing and the protocol apply: the package's, bound by its
    /// extended hash (02-transcripts.md §Parameters hash). The campaign row's `revote_policy` is
    /// only what the package is built from; a later change to the row changes nothing.
    pub fn re_vote_policy(&self) -> crate::domain::RevotePolicy {
        crate::domain::RevotePolicy::of_package(self.package.parameters.re_vote.policy)
    }

    /// Y_S, the cast verifier key, if the campaign casts v2 ballots (`None`: v1).
    pub fn cast_verifier_key(&self) -> Option<&GroupElement> {
        self.package.parameters.ballot_v2.as_ref().map(|v2| &v2.cast_verifier_key)
    }
}

/// Loads and checks the election package of a campaign.
pub fn load_election(c: &mut AnyConnection, id: &str) -> Result<Election, ApiError> {
    let Some(package) = crate::commission::installed_package(c, id)? else {
        return Err(ApiError::conflict(
            "no_election_key",
            "no election package (joint key) is installed for this campaign",
        ));
    };
    let context = package.context().map_err(corrupt)?;
    Ok(Election { package, context })
}

/// The election package of campaign `id` from its completed key ceremony, `manifest` and the
/// commission confirmed under dual control (`crate::commission::confirmed`): the base hash
/// recomputed and checked, the extended hash computed over the commission, the server's board key
/// (`board_key`) and the campaign's re-vote rule (`policy`, the package's `parameters`) too. With
/// `cast_verifier` the package selects v2 ballots and publishes its public key Y_S
/// (13-revoting.md §4.1); the caller stores the secret with the package ([`store_package`]).
pub fn build_package(
    board_key: [u8; 32],
    id: &str,
    manifest: Manifest,
    done: &CompletedCeremony,
    commission: Commission,
    policy: ReVotePolicy,
    cast_verifier: Option<&CastVerifierSecret>,
) -> Result<ElectionPackage, ApiError> {
    if manifest.campaign_id != id {
        return Err(ApiError::invalid("manifest.campaign_id", format!("must be this campaign's id {id}")));
    }
    manifest.validate().map_err(|e| ApiError::invalid("manifest", e.to_string()))?;
    let key_holders: Vec<PublishedKeyHolder> = done
        .key_holders
        .iter()
        .map(|k| PublishedKeyHolder { index: k.index, signing_key: k.signing_key.0, comm_key: k.comm_key })
        .collect();
    let identities: Vec<KeyHolderIdentity> =
        key_holders.iter().map(|k| KeyHolderIdentity { signing_key: k.signing_key, comm_key: k.comm_key }).collect();
    let threshold = done.params.t();
    let base = base_hash(id, threshold, &identities);
    if base != done.base_hash {
        return Err(ApiError::Unexpected(anyhow::anyhow!(
            "the stored base hash of campaign {id} is not that of its key-holders"
        )));
    }
    let joint_key = done.outcome.joint_key;
    let parameters = match cast_verifier {
        None => Parameters::with_policy(policy),
        Some(y) => Parameters::v2(policy, *y.public_key()),
    };
    let ctx = ElectionContext::new(
        base,
        joint_key,
        manifest.clone(),
        commission.hash(),
        parameters_hash(&board_key, &parameters),
    )
    .map_err(|e| ApiError::invalid("manifest", e.to_string()))?;
    let package = ElectionPackage {
        version: RECORD_VERSION.into(),
        manifest,
        threshold,
        key_holders,
        joint_key,
        base_hash: base,
        extended_hash: *ctx.extended_hash(),
        board_key,
        commission,
        parameters,
    };
    package.context().map_err(|e| ApiError::invalid("key_holders", e.to_string()))?;
    Ok(package)
}

/// Stores `package` as campaign `cid`'s election package inside the caller's write transaction
/// (the campaign must be in state `key_ceremony`, its ceremony complete with this package's key,
/// its commission the one confirmed under dual control and every ballot style of the campaign
/// in the manifest), sets the campaign's election key and
/// makes the package's manifest the campaign's (from then on the manifest changes only with the
/// package: [`installed`]), and audits it. The caller then drops the cached election (`Boards::forget`).
///
/// A v2 package comes with its cast verifier secret y (`cast_verifier`, whose public key must be
/// the package's Y_S), stored in the same transaction, replacing any earlier one; a v1 package
/// comes without, and any earlier secret is deleted.
pub fn store_package(
    c: &mut AnyConnection,
    cid: &str,
    pkg: &ElectionPackage,
    cast_verifier: Option<&CastVerifierSecret>,
    actor: &str,
    now: i64,
) -> Result<(), ApiError> {
    let published = pkg.parameters.ballot_v2.as_ref().map(|v2| &v2.cast_verifier_key);
    if published != cast_verifier.map(CastVerifierSecret::public_key) {
        return Err(ApiError::Unexpected(anyhow::anyhow!(
            "the package's cast verifier key is not the stored secret's (campaign {cid})"
        )));
    }
    let text = serde_json::to_string(pkg).map_err(|e| ApiError::Unexpected(e.into()))?;
    let row = load_campaign(c, cid)?;
    let st = row.state()?;
    if st != CampaignState::KeyCeremony {
        return Err(ApiError::conflict(
            "invalid_state",
            format!(
                "the election package is installed in state key_ceremony; the campaign is in state {}",
                st.as_str()
            ),
        ));
    }
    if pkg.parameters.re_vote.policy != row.revote_policy()?.to_package() {
        return Err(ApiError::conflict(
            "parameters_changed",
            "the package's re-vote rule is not the campaign's; install the package again",
        ));
    }
    let done = crate::ceremony::store::require_complete(c, cid, "the election package")?;
    if done.outcome.joint_key != pkg.joint_key || done.base_hash != pkg.base_hash {
        return Err(ApiError::conflict(
            "ceremony_changed",
            "the key ceremony changed meanwhile; install the package again",
        ));
    }
    if crate::commission::confirmed(c, cid)? != pkg.commission {
        return Err(ApiError::conflict(
            "commission_changed",
            "the commission changed meanwhile; confirm it and install the package again",
        ));
    }
    let codes: Vec<String> =
        ballot_styles::table.filter(ballot_styles::campaign_id.eq(cid)).select(ballot_styles::code).load(c)?;
    if let Some(missing) = codes.iter().find(|code| pkg.manifest.style(code).is_none()) {
        return Err(ApiError::invalid(
            "manifest.ballot_styles",
            format!("the campaign's ballot style {missing} is missing"),
        ));
    }
    diesel::delete(election_packages::table.filter(election_packages::campaign_id.eq(cid))).execute(c)?;
    diesel::insert_into(election_packages::table)
        .values((
            election_packages::campaign_id.eq(cid),
            election_packages::package.eq(&text),
            election_packages::created_at.eq(now),
        ))
        .execute(c)?;
    diesel::delete(cast_verifier_secrets::table.filter(cast_verifier_secrets::campaign_id.eq(cid))).execute(c)?;
    if let Some(y) = cast_verifier {
        let secret = Zeroizing::new(hex::encode(Zeroizing::new(y.to_bytes()).as_slice()));
        diesel::insert_into(cast_verifier_secrets::table)
            .values((
                cast_verifier_secrets::campaign_id.eq(cid),
                cast_verifier_secrets::secret.eq(secret.as_str()),
                cast_verifier_secrets::created_at.eq(now),
            ))
            .execute(c)?;
    }
    // the package's manifest is the campaign's: one manifest (the one ballots are bound to)
    let manifest = serde_json::to_string(&pkg.manifest).map_err(|e| ApiError::Unexpected(e.into()))?;
    diesel::update(campaigns::table.filter(campaigns::id.eq(cid)))
        .set((campaigns::election_public_key.eq(pkg.joint_key.0.to_hex()), campaigns::manifest.eq(&manifest)))
        .execute(c)?;
    let details = json!({
        "base_hash": hex::encode(pkg.base_hash), "extended_hash": hex::encode(pkg.extended_hash),
        "threshold": pkg.threshold, "key_holders": pkg.key_holders.len(),
        "board_key": hex::encode(pkg.board_key), "manifest_hash": hex::encode(pkg.manifest.hash()),
        "commission_hash": hex::encode(pkg.commission.hash()), "commission_members": pkg.commission.members.len(),
        "re_vote_policy": pkg.parameters.re_vote.policy.as_str(),
        "ballot_format": if pkg.parameters.is_v2() { "v2" } else { "v1" },
        "cast_verifier_key": published.map(GroupElement::to_hex),
    });
    audit::append(c, now, actor, "campaign.election_package", Some(cid), &details)?;
    Ok(())
}

/// Campaign `id`'s cast verifier secret y (13-revoting.md §3.4), checked against its package's
/// Y_S; `None` for a v1 campaign. Only for its reveal after `closed`: nothing serves it before.
pub fn cast_verifier_secret(c: &mut AnyConnection, id: &str) -> Result<Option<CastVerifierSecret>, ApiError> {
    let election = load_election(c, id)?;
    let Some(key) = election.cast_verifier_key() else { return Ok(None) };
    let stored: Option<String> = cast_verifier_secrets::table
        .filter(cast_verifier_secrets::campaign_id.eq(id))
        .select(cast_verifier_secrets::secret)
        .first(c)
        .optional()?;
    let stored = Zeroizing::new(stored.ok_or_else(|| corrupt("a v2 package without its cast verifier secret"))?);
    let bytes =
        Zeroizing::new(hex::decode(stored.as_str()).map_err(|_| corrupt("the cast verifier secret is not hex"))?);
    let y = CastVerifierSecret::from_bytes(&bytes).map_err(|_| corrupt("the cast verifier secret is not a scalar"))?;
    if y.public_key() != key {
        return Err(corrupt("the cast verifier secret is not the package's key"));
    }
    Ok(Some(y))
}

/// Whether campaign `id` has an election package installed. While it has, the campaign's manifest
/// is the package's and changes only by installing the package again.
pub fn installed(c: &mut AnyConnection, id: &str) -> Result<bool, ApiError> {
    let n: i64 = election_packages::table.filter(election_packages::campaign_id.eq(id)).count().get_result(c)?;
    Ok(n > 0)
}
