//! Test helpers: a complete key ceremony run in process by `n` simulated key-holders
//! ([`crate::threshold::local`], re-exported here), so that other crates' tests have a real
//! threshold key; the smallest manifest benchmarks measure with.
//!
//! Compiled only with the crate feature `test-helpers` (and in this crate's own tests).

pub use crate::threshold::local::*;

use crate::manifest::{BallotStyle, Contest, ContestOption, Localized, Manifest};

/// One contest `c` of `k` options `o0 … o{k-1}`, one mark, no "against all", no blank, in one
/// ballot style `s`: the shape the benchmarks measure.
pub fn one_contest_manifest(campaign_id: &str, k: usize) -> Manifest {
    let option = |i| ContestOption { id: format!("o{i}"), name: Localized::default(), details: Localized::default() };
    Manifest {
        campaign_id: campaign_id.into(),
        title: Localized::default(),
        contests: vec![Contest {
            id: "c".into(),
            title: Localized::default(),
            options: (0..k).map(option).collect(),
            min_marks: 1,
            max_marks: 1,
            against_all: false,
            blank_allowed: false,
        }],
        ballot_styles: vec![BallotStyle { id: "s".into(), contests: vec!["c".into()] }],
    }
}
