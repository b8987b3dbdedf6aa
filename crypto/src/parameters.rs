//! The election package's parameters: the rules of the campaign that every reader must apply the
//! same way, bound into the extended context hash with the board key
//! (`docs/protocol/02-transcripts.md` §Parameters hash, record-format.md §Election package).
//!
//! Before `dobush-record/2` the re-vote rule was a top-level field of the record that nothing
//! bound: changing it, even to an unknown value, still verified (issue 18).

use merlin::Transcript;
use serde::{Deserialize, Serialize};

use crate::labels;
use crate::transcript::TranscriptProtocol;

/// The re-vote rule of a campaign.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReVotePolicy {
    /// One ballot per credential (the 2023 pilot).
    Forbidden,
    /// A later ballot supersedes the earlier one (against vote buying).
    LastCounts,
}

impl ReVotePolicy {
    /// The name written in the package and hashed (`forbidden`, `last_counts`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Forbidden => "forbidden",
            Self::LastCounts => "last_counts",
        }
    }
}

/// The re-vote section of the parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReVote {
    /// The rule.
    pub policy: ReVotePolicy,
}

/// The package's `parameters` section.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameters {
    /// What happens to a voter's second ballot.
    pub re_vote: ReVote,
}

impl Parameters {
    /// Parameters with this re-vote rule.
    pub fn with_policy(policy: ReVotePolicy) -> Self {
        Self { re_vote: ReVote { policy } }
    }
}

/// The parameters hash (02-transcripts.md §Parameters hash): the board key and every parameter,
/// absorbed by the extended context hash after the commission hash.
pub fn parameters_hash(board_key: &[u8; 32], parameters: &Parameters) -> [u8; 32] {
    let mut t = Transcript::protocol(labels::DS_PARAMETERS);
    t.append_message(labels::L_BOARD_KEY, board_key);
    t.append_str(labels::L_RE_VOTE_POLICY, parameters.re_vote.policy.as_str());
    t.challenge_32(labels::L_PARAMETERS_HASH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_binds_the_board_key_and_the_rule() {
        let p = Parameters::with_policy(ReVotePolicy::LastCounts);
        let h = parameters_hash(&[1; 32], &p);
        assert_ne!(parameters_hash(&[2; 32], &p), h);
        assert_ne!(parameters_hash(&[1; 32], &Parameters::with_policy(ReVotePolicy::Forbidden)), h);
        assert_eq!(parameters_hash(&[1; 32], &p), h);
    }

    #[test]
    fn unknown_rules_and_fields_are_refused() {
        let ok: Parameters = serde_json::from_str(r#"{"re_vote":{"policy":"forbidden"}}"#).unwrap();
        assert_eq!(ok, Parameters::with_policy(ReVotePolicy::Forbidden));
        for bad in [
            r#"{"re_vote":{"policy":"bogus"}}"#,
            r#"{"re_vote":{"policy":"Forbidden"}}"#,
            r#"{"re_vote":{"policy":"forbidden","max":1}}"#,
            r#"{"re_vote":{"policy":"forbidden"},"x":1}"#,
            r#"{"re_vote":{}}"#,
            r#"{}"#,
        ] {
            assert!(serde_json::from_str::<Parameters>(bad).is_err(), "{bad}");
        }
    }
}
