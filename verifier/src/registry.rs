//! The verifier's checks in the order the report prints them (`docs/verifier-checks.md`).

use crate::checks::{
    Check, Step, ballots, board, cast_verifier, ceremony, challenged, commission, context, credentials, decryption,
    election_protocol, eligibility, entries, files, filter, filtered, filtered_totals, receipt, revote, totals,
    uniqueness, version, web_app,
};

/// The checks after `files`, `version` and `context` (which open the record), in report order.
/// The filter's checks come after the ceremony (V22 needs its verification keys) and before the
/// decryption (V16 decrypts V24's totals); V22 before V20, whose counting entry per style is the
/// first V22 accepted.
pub const REGISTRY: [&Check<Step>; 18] = [
    &board::CHECK,
    &entries::CHECK,
    &web_app::CHECK,
    &credentials::CHECK,
    &ballots::CHECK,
    &uniqueness::CHECK,
    &eligibility::CHECK,
    &revote::CHECK,
    &challenged::CHECK,
    &cast_verifier::CHECK,
    &totals::CHECK,
    &commission::CHECK,
    &ceremony::CHECK,
    &filter::CHECK,
    &filtered::CHECK,
    &filtered_totals::CHECK,
    &election_protocol::CHECK,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The table of `docs/verifier-checks.md`: (id, name, file) per row, in order.
    fn documented() -> Vec<(String, String, String)> {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/verifier-checks.md")).unwrap();
        doc.lines()
            .filter(|l| l.starts_with("| V"))
            .map(|l| {
                let cells: Vec<&str> = l.split('|').map(|c| c.trim().trim_matches('`')).collect();
                (cells[1].to_owned(), cells[2].to_owned(), cells[3].to_owned())
            })
            .collect()
    }

    #[test]
    fn ids_and_names_are_distinct() {
        let ids = ids();
        for (id, _) in &ids {
            assert!(id.len() == 3 && id.starts_with('V') && id[1..].bytes().all(|b| b.is_ascii_digit()), "{id}");
        }
        for k in 0..ids.len() {
            for other in &ids[..k] {
                assert!(ids[k].0 != other.0 && ids[k].1 != other.1, "{:?} and {other:?}", ids[k]);
            }
        }
    }

    #[test]
    fn the_documentation_lists_every_check_in_order_with_its_file() {
        let doc = documented();
        let code: Vec<(String, String)> = ids().into_iter().map(|(i, n)| (i.to_owned(), n.to_owned())).collect();
        assert_eq!(doc.iter().map(|(i, n, _)| (i.clone(), n.clone())).collect::<Vec<_>>(), code);
        for (id, name, file) in &doc {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/checks/").to_owned() + file;
            let src = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            assert!(src.contains(&format!("id: \"{id}\"")), "{file} does not define {id}");
            assert!(src.contains(&format!("name: \"{name}\"")), "{file} does not name {id} {name:?}");
        }
    }
}
