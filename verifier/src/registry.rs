//! The verifier's checks in the order the report prints them (`docs/verifier-checks.md`).

use crate::checks::{
    Check, Step, ballots, board, ceremony, challenged, context, credentials, decryption, eligibility, entries, files,
    protocol, receipt, revote, totals, uniqueness, version, web_app,
};

/// The checks after `files`, `version` and `context` (which open the record), in report order.
pub const REGISTRY: [&Check<Step>; 13] = [
    &board::CHECK,
    &entries::CHECK,
    &web_app::CHECK,
    &credentials::CHECK,
    &ballots::CHECK,
    &uniqueness::CHECK,
    &eligibility::CHECK,
    &revote::CHECK,
    &challenged::CHECK,
    &totals::CHECK,
    &protocol::CHECK,
    &ceremony::CHECK,
    &decryption::CHECK,
];

/// Every check's id and name in report order: the opening checks, [`REGISTRY`], then the
/// receipt's.
pub fn ids() -> Vec<(&'static str, &'static str)> {
    let opening = [(files::CHECK.id, files::CHECK.name), (version::CHECK.id, version::CHECK.name)];
    let opening = opening.into_iter().chain([(context::CHECK.id, context::CHECK.name)]);
    let steps = REGISTRY.iter().map(|c| (c.id, c.name));
    opening.chain(steps).chain([(receipt::CHECK.id, receipt::CHECK.name)]).collect()
}
