//! A campaign's election package (docs/record-format.md §Election package): the public outcome
//! of its key ceremony with the manifest, as installed, and the election context it yields.

use diesel::prelude::*;
use dobush_crypto::context::ElectionContext;
use dobush_crypto::record::ElectionPackage;

use crate::db::AnyConnection;
use crate::error::ApiError;
use crate::schema::election_packages;

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

/// Loads and checks the election package of a campaign.
pub fn load_election(c: &mut AnyConnection, id: &str) -> Result<Election, ApiError> {
    let text: Option<String> = election_packages::table
        .filter(election_packages::campaign_id.eq(id))
        .select(election_packages::package)
        .first(c)
        .optional()?;
    let Some(text) = text else {
        return Err(ApiError::conflict(
            "no_election_key",
            "no election package (joint key) is installed for this campaign",
        ));
    };
    let package: ElectionPackage = serde_json::from_str(&text).map_err(corrupt)?;
    let context = package.context().map_err(corrupt)?;
    Ok(Election { package, context })
}
