//! The election package's parameters: the rules of the campaign that every reader must apply the
//! same way, bound into the extended context hash with the board key
//! (`docs/protocol/02-transcripts.md` §Parameters hash, record-format.md §Election package).
//!
//! Before `dobush-record/2` the re-vote rule was a top-level field of the record that nothing
//! bound: changing it, even to an unknown value, still verified (issue 18).

use merlin::Transcript;
use serde::{Deserialize, Serialize};

use crate::group::GroupElement;
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

/// The `ballot_v2` section: present exactly when the campaign's ballots are v2
/// (13-revoting.md §3.7, §4.1); absent, the campaign casts v1 ballots (08-ballot.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BallotV2Parameters {
    /// Y_S = y·G, the server's designated-verifier key of the cast opening (13-revoting.md §3.4),
    /// drawn fresh for this campaign when the package is made.
    pub cast_verifier_key: GroupElement,
}

/// The package's `parameters` section.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameters {
    /// What happens to a voter's second ballot.
    pub re_vote: ReVote,
    /// The v2 ballot's parameters; `None` (the field absent) for a v1 campaign.
    /// (`null` is refused: one spelling of a v1 package.)
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    pub ballot_v2: Option<BallotV2Parameters>,
}

/// A field that, when present, is an object (never `null`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<BallotV2Parameters>, D::Error> {
    BallotV2Parameters::deserialize(d).map(Some)
}

impl Parameters {
    /// Parameters of a v1 campaign with this re-vote rule.
    pub fn with_policy(policy: ReVotePolicy) -> Self {
        Self { re_vote: ReVote { policy }, ballot_v2: None }
    }

    /// Parameters of a v2 campaign with this re-vote rule and cast verifier key Y_S.
    pub fn v2(policy: ReVotePolicy, cast_verifier_key: GroupElement) -> Self {
        Self { re_vote: ReVote { policy }, ballot_v2: Some(BallotV2Parameters { cast_verifier_key }) }
    }

    /// True if the campaign casts v2 ballots.
    pub fn is_v2(&self) -> bool {
        self.ballot_v2.is_some()
    }
}

/// The parameters hash (02-transcripts.md §Parameters hash): the board key and every parameter,
/// absorbed by the extended context hash after the commission hash.
pub fn parameters_hash(board_key: &[u8; 32], parameters: &Parameters) -> [u8; 32] {
    let mut t = Transcript::protocol(labels::DS_PARAMETERS);
    t.append_message(labels::L_BOARD_KEY, board_key);
    t.append_str(labels::L_RE_VOTE_POLICY, parameters.re_vote.policy.as_str());
    // a v1 package appends nothing more, so its hash is the one it had before v2 existed
    if let Some(v2) = &parameters.ballot_v2 {
        t.append_str(labels::L_BALLOT_FORMAT, "v2");
        t.append_element(labels::L_CAST_VERIFIER_KEY, &v2.cast_verifier_key);
    }
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
    fn the_hash_binds_the_ballot_format_and_the_cast_verifier_key() {
        use crate::group::mul_base;
        use curve25519_dalek::scalar::Scalar;
        let key = |n: u64| GroupElement::from_nonzero_multiple(mul_base(&Scalar::from(n)));
        let v1 = Parameters::with_policy(ReVotePolicy::LastCounts);
        let v2 = Parameters::v2(ReVotePolicy::LastCounts, key(7));
        let h = parameters_hash(&[1; 32], &v2);
        assert_ne!(parameters_hash(&[1; 32], &v1), h);
        assert_ne!(parameters_hash(&[1; 32], &Parameters::v2(ReVotePolicy::LastCounts, key(8))), h);
        assert_ne!(parameters_hash(&[1; 32], &Parameters::v2(ReVotePolicy::Forbidden, key(7))), h);
        assert!(v2.is_v2() && !v1.is_v2());
        // the v1 JSON has no `ballot_v2` field; the v2 JSON round-trips
        assert_eq!(serde_json::to_string(&v1).unwrap(), r#"{"re_vote":{"policy":"last_counts"}}"#);
        let text = serde_json::to_string(&v2).unwrap();
        assert_eq!(serde_json::from_str::<Parameters>(&text).unwrap(), v2);
        for bad in [
            r#"{"re_vote":{"policy":"forbidden"},"ballot_v2":{}}"#,
            r#"{"re_vote":{"policy":"forbidden"},"ballot_v2":null}"#,
            r#"{"re_vote":{"policy":"forbidden"},"ballot_v2":{"cast_verifier_key":"00"}}"#,
        ] {
            assert!(serde_json::from_str::<Parameters>(bad).is_err(), "{bad}");
        }
        let identity = format!(
            r#"{{"re_vote":{{"policy":"forbidden"}},"ballot_v2":{{"cast_verifier_key":"{}"}}}}"#,
            "00".repeat(32)
        );
        assert!(serde_json::from_str::<Parameters>(&identity).is_err());
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
