//! Configuring a campaign's ceremony (CEC administrator): `t` of `n` and which staff member holds
//! which index; reconfiguring after anything was posted starts a new attempt.

use diesel::prelude::*;
use dobush_crypto::threshold::Parameters;
use serde_json::json;

use super::store::{load, load_messages, to_i32};
use crate::audit;
use crate::db::AnyConnection;
use crate::domain::{Pin, Role};
use crate::error::ApiError;
use crate::models::{load_campaign, staff_roles};
use crate::schema::{campaigns, cast_verifier_secrets, ceremony_key_holders, election_packages, key_ceremonies};

/// The threshold when the administrator gives none (3 of the usual 5 key-holders).
pub const DEFAULT_THRESHOLD: u32 = 3;

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
                let removed =
                    diesel::delete(election_packages::table.filter(election_packages::campaign_id.eq(campaign)))
                        .execute(c)?
                        > 0;
                // the package's cast verifier secret y goes with it: the next package draws its
                // own (review 19-cast-v2 F10: a stale y outlived its package)
                diesel::delete(cast_verifier_secrets::table.filter(cast_verifier_secrets::campaign_id.eq(campaign)))
                    .execute(c)?;
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
