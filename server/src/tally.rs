//! The tally after closing: the key-holders' decryption shares, each verified on arrival and
//! stored (docs/protocol/07-threshold.md §Verification), and the results combined from them
//! (§Combination, §Discrete logarithm), which moves the campaign to `tallied`.

use diesel::prelude::*;
use dobush_crypto::dlog::DlogTable;
use dobush_crypto::signature::VerifyingKey;
use dobush_crypto::tally::ContestResult;
use dobush_crypto::tally::ContestTotals;
use dobush_crypto::threshold::decrypt::{DecryptionShare, ShareKeys, TotalId, VerifiedDecryptionShare, combine};
use dobush_crypto::threshold::dkg::{self, CeremonyTranscript};
use dobush_crypto::threshold::{KeyHolderPublic, Parameters};
use serde_json::json;

use crate::db::AnyConnection;
use crate::error::ApiError;
use crate::schema::{decryption_shares, protocols, tallies};

fn corrupt(what: impl std::fmt::Display) -> ApiError {
    ApiError::Unexpected(anyhow::anyhow!("tally: {what}"))
}

/// The campaign's key-ceremony transcript as published, if the server ran the ceremony (the one
/// seam to the ceremony module).
pub fn ceremony_transcript(c: &mut AnyConnection, campaign: &str) -> Result<Option<CeremonyTranscript>, ApiError> {
    crate::ceremony::store::load_transcript(c, campaign)
}

/// Evaluates a ceremony transcript against a package (06-dkg.md §Result): the parameters, and
/// the outcome whose joint key must be the package's.
pub fn evaluate_ceremony(
    package: &dobush_crypto::record::ElectionPackage,
    transcript: &CeremonyTranscript,
) -> Result<(Parameters, dkg::CeremonyOutcome), String> {
    let n = u32::try_from(package.key_holders.len()).map_err(|e| e.to_string())?;
    let params = Parameters::new(n, package.threshold).map_err(|e| e.to_string())?;
    let outcome =
        dkg::evaluate(&params, &package.base_hash, &key_holders(package), transcript).map_err(|e| e.to_string())?;
    if outcome.joint_key != package.joint_key {
        return Err("the transcript gives another joint key than the package's".into());
    }
    Ok((params, outcome))
}

/// The package's key-holders as the ceremony names them.
fn key_holders(package: &dobush_crypto::record::ElectionPackage) -> Vec<KeyHolderPublic> {
    package
        .key_holders
        .iter()
        .map(|k| KeyHolderPublic { index: k.index, signing_key: VerifyingKey(k.signing_key), comm_key: k.comm_key })
        .collect()
}

/// The ceremony's parameters and the keys a decryption share is checked against: the
/// verification keys `VK_1 … VK_n`, recomputed from the transcript (06-dkg.md §Result) and
/// checked against the package's joint key, and the key-holders' signing keys `Y_l`
/// (07-threshold.md §Share signature).
pub fn share_keys(
    c: &mut AnyConnection,
    campaign: &str,
    election: &crate::package::Election,
) -> Result<(Parameters, ShareKeys), ApiError> {
    let Some(transcript) = ceremony_transcript(c, campaign)? else {
        return Err(ApiError::conflict("no_ceremony", "this campaign's key ceremony was not run through this server"));
    };
    let (params, outcome) = evaluate_ceremony(&election.package, &transcript).map_err(corrupt)?;
    let keys = ShareKeys::new(&outcome.verification_keys, &key_holders(&election.package)).map_err(corrupt)?;
    Ok((params, keys))
}

/// One share set aside, for the report.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct RejectedShare {
    /// Position in the request.
    pub position: usize,
    /// The key-holder it names.
    pub key_holder: u32,
    /// Contest index.
    pub contest: u32,
    /// Option index.
    pub option: u32,
    /// Why.
    pub reason: String,
}

/// What a submission did.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct SharesReport {
    /// Shares stored as valid.
    pub accepted: usize,
    /// Shares stored as invalid, with the reason.
    pub rejected: Vec<RejectedShare>,
    /// Shares not stored because a valid share of the key-holder for the total is published
    /// already.
    pub duplicates: Vec<RejectedShare>,
    /// Key-holders with a valid share of every total.
    pub complete_key_holders: Vec<u32>,
    /// Key-holders with no valid share of some total.
    pub missing_key_holders: Vec<u32>,
    /// Whether the results are combined (now or before).
    pub combined: bool,
}

/// Refuses the whole submission (422, nothing stored) if a share names no published total or
/// is not signed by the key-holder it names (07-threshold.md §Share signature): such a share is
/// nobody's, and storing it would report it in a key-holder's name; and any submission once the
/// protocol is signed (409 `protocol_signed`: its record is final). Then stores every share
/// (valid or not, in order) except one of a key-holder and total that has a valid share already
/// (reported as a duplicate), verifying each on arrival against the key-holder's verification
/// key and the published total it names; combines the results as soon as every total has `t`
/// valid shares of distinct key-holders, moving the campaign `closed → tallied`. Missing and
/// invalid (but signed) shares are tolerated and reported.
pub fn submit_shares(
    c: &mut AnyConnection,
    campaign: &str,
    shares: &[DecryptionShare],
    submitted_by: &str,
    now_secs: i64,
) -> Result<SharesReport, ApiError> {
    let row = crate::models::load_campaign(c, campaign)?;
    let st = row.state()?;
    if st == crate::domain::CampaignState::ProtocolSigned {
        // the signed protocol's record is final: a share now would change it afterwards
        return Err(ApiError::conflict(
            "protocol_signed",
            "the protocol is signed: its record takes no more decryption shares",
        ));
    }
    let saved: i64 = protocols::table.filter(protocols::campaign_id.eq(campaign)).count().get_result(c)?;
    if saved > 0 {
        // the saved protocol names the list of shares its members sign (`decryption_shares`)
        return Err(ApiError::conflict(
            "protocol_saved",
            "the protocol is drawn up and saved with the list of decryption shares its members sign: no more shares",
        ));
    }
    if !matches!(st, crate::domain::CampaignState::Closed | crate::domain::CampaignState::Tallied) {
        return Err(ApiError::conflict(
            "not_closed",
            format!("decryption shares are accepted after closing (state {})", st.as_str()),
        ));
    }
    let election = crate::package::load_election(c, campaign)?;
    let totals = crate::close::totals::published_totals(c, campaign)?;
    let (params, vks) = share_keys(c, campaign, &election)?;
    let ext = *election.context.extended_hash();
    for (position, s) in shares.iter().enumerate() {
        let Some(ct) = total_of(&totals, s.total()) else {
            return Err(ApiError::invalid(
                format!("shares[{position}]"),
                format!("no published total at contest {}, option {}", s.contest, s.option),
            ));
        };
        s.verify_signature(&ext, &vks, ct).map_err(|e| {
            ApiError::invalid(
                format!("shares[{position}]"),
                format!("not a share signed by key-holder {} over the published total: {e}", s.key_holder),
            )
        })?;
    }
    // the verdicts given when each stored share was received (each was verified then)
    let mut valid: Vec<(TotalId, u32)> = decryption_shares::table
        .filter(decryption_shares::campaign_id.eq(campaign))
        .filter(decryption_shares::valid.eq(true))
        .order(decryption_shares::seq.asc())
        .select(decryption_shares::payload)
        .load::<String>(c)?
        .iter()
        .map(|t| serde_json::from_str::<DecryptionShare>(t).map(|s| (s.total(), s.key_holder)).map_err(corrupt))
        .collect::<Result<_, _>>()?;
    let mut seq: i64 = decryption_shares::table
        .filter(decryption_shares::campaign_id.eq(campaign))
        .select(diesel::dsl::max(decryption_shares::seq))
        .first::<Option<i64>>(c)?
        .unwrap_or(0);
    let mut rejected = Vec::new();
    let mut duplicates = Vec::new();
    let mut accepted = 0;
    for (position, s) in shares.iter().enumerate() {
        let about = |reason: String| RejectedShare {
            position,
            key_holder: s.key_holder,
            contest: s.contest,
            option: s.option,
            reason,
        };
        if valid.contains(&(s.total(), s.key_holder)) {
            // a valid share of this total is published already (anyone may replay the public
            // ones): nothing new, not stored again, not reported against the key-holder
            duplicates.push(about(format!("key-holder {} already gave a valid share of this total", s.key_holder)));
            continue;
        }
        let verdict = match total_of(&totals, s.total()) {
            None => Err(format!("no published total at contest {}, option {}", s.contest, s.option)),
            Some(ct) => s.verify(&ext, &vks, s.total(), ct).map(|_| ()).map_err(|e| e.to_string()),
        };
        seq += 1;
        diesel::insert_into(decryption_shares::table)
            .values((
                decryption_shares::campaign_id.eq(campaign),
                decryption_shares::seq.eq(seq),
                decryption_shares::key_holder.eq(i64::from(s.key_holder)),
                decryption_shares::payload.eq(serde_json::to_string(s).map_err(corrupt)?),
                decryption_shares::valid.eq(verdict.is_ok()),
                decryption_shares::reason.eq(verdict.as_ref().err()),
                decryption_shares::submitted_by.eq(submitted_by),
                decryption_shares::received_at.eq(now_secs),
            ))
            .execute(c)?;
        match verdict {
            Ok(()) => {
                accepted += 1;
                valid.push((s.total(), s.key_holder));
            }
            Err(reason) => rejected.push(about(reason)),
        }
    }
    let all_totals: Vec<TotalId> = (0u32..)
        .zip(&totals)
        .flat_map(|(ci, t)| (0u32..).take(t.totals.len()).map(move |j| TotalId { contest: ci, option: j }))
        .collect();
    let (mut complete_key_holders, mut missing_key_holders) = (Vec::new(), Vec::new());
    for l in params.indices() {
        if all_totals.iter().all(|t| valid.contains(&(*t, l))) {
            complete_key_holders.push(l);
        } else {
            missing_key_holders.push(l);
        }
    }
    crate::audit::append(
        c,
        now_secs,
        submitted_by,
        "tally.decryption_shares",
        Some(campaign),
        &json!({ "received": shares.len(), "accepted": accepted, "rejected": rejected, "duplicates": duplicates.len() }),
    )?;
    if !rejected.is_empty() {
        crate::audit::raise_alert(
            c,
            now_secs,
            "tally.invalid_decryption_shares",
            "invalid_decryption_share",
            campaign,
            &format!("{} decryption share(s) set aside", rejected.len()),
            &json!({ "rejected": rejected }),
        )?;
    }
    let mut combined = load_results(c, campaign)?.is_some();
    let enough = all_totals.iter().all(|t| valid.iter().filter(|(v, _)| v == t).count() >= params.t() as usize);
    if !combined && enough {
        // every share stored, this submission's included
        let all = load_shares(c, campaign)?;
        let results = combine_results(&params, &ext, &vks, &totals, &all)?;
        diesel::update(tallies::table.filter(tallies::campaign_id.eq(campaign)))
            .set((
                tallies::results.eq(serde_json::to_string(&results).map_err(corrupt)?),
                tallies::tallied_at.eq(now_secs),
            ))
            .execute(c)?;
        crate::lifecycle::advance(
            c,
            campaign,
            crate::domain::Action::RecordTally,
            json!({ "results": results }),
            now_secs,
        )?;
        combined = true;
    }
    Ok(SharesReport { accepted, rejected, duplicates, complete_key_holders, missing_key_holders, combined })
}

/// Every decryption share received, in order (valid or not).
pub fn load_shares(c: &mut AnyConnection, campaign: &str) -> Result<Vec<DecryptionShare>, ApiError> {
    let rows: Vec<String> = decryption_shares::table
        .filter(decryption_shares::campaign_id.eq(campaign))
        .order(decryption_shares::seq.asc())
        .select(decryption_shares::payload)
        .load(c)?;
    rows.iter().map(|t| serde_json::from_str(t).map_err(corrupt)).collect()
}

/// The combined results, if any.
pub fn load_results(c: &mut AnyConnection, campaign: &str) -> Result<Option<Vec<ContestResult>>, ApiError> {
    let text: Option<Option<String>> =
        tallies::table.filter(tallies::campaign_id.eq(campaign)).select(tallies::results).first(c).optional()?;
    text.flatten().map(|t| serde_json::from_str(&t).map_err(corrupt)).transpose()
}

fn total_of(totals: &[ContestTotals], t: TotalId) -> Option<&dobush_crypto::elgamal::Ciphertext> {
    totals.get(t.contest as usize).and_then(|c| c.totals.get(t.option as usize))
}

/// Combines every total from the valid shares (the first `t` valid ones of distinct key-holders,
/// in the order received) and solves the discrete logarithm (`m ≤ ballots`).
pub fn combine_results(
    params: &Parameters,
    ext: &[u8; 32],
    vks: &ShareKeys,
    totals: &[ContestTotals],
    shares: &[DecryptionShare],
) -> Result<Vec<ContestResult>, ApiError> {
    let max = totals.iter().map(|t| t.ballots).max().unwrap_or(0);
    let table = DlogTable::new(max);
    let mut results = Vec::with_capacity(totals.len());
    for (ci, contest) in (0u32..).zip(totals) {
        let mut counts = Vec::with_capacity(contest.totals.len());
        for (j, ct) in (0u32..).zip(&contest.totals) {
            let total = TotalId { contest: ci, option: j };
            let mut used: Vec<VerifiedDecryptionShare> = Vec::new();
            for s in shares.iter().filter(|s| s.total() == total) {
                if used.len() == params.t() as usize || used.iter().any(|u| u.key_holder() == s.key_holder) {
                    continue;
                }
                if let Ok(v) = s.verify(ext, vks, total, ct) {
                    used.push(v);
                }
            }
            let count = combine(params, total, ct, &used, &table)
                .map_err(|e| corrupt(format!("contest {ci}, option {j}: {e}")))?;
            counts.push(count);
        }
        results.push(ContestResult { contest_id: contest.contest_id.clone(), ballots: contest.ballots, counts });
    }
    Ok(results)
}
