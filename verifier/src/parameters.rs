//! The package's `parameters` section and the parameters hash (`docs/protocol/02-transcripts.md`
//! §Parameters hash), written from the spec: decoded strictly (an unknown field or rule makes the
//! package unreadable), then hashed with the board key into the extended hash.

use serde_json::Value;

use crate::encoding::{Decoded, Invalid, exact, field, string};
use crate::transcript;

/// The re-vote rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReVotePolicy {
    /// A voter's second ballot is an error.
    Forbidden,
    /// A voter's last ballot counts.
    LastCounts,
}

impl ReVotePolicy {
    fn name(self) -> &'static str {
        match self {
            Self::Forbidden => "forbidden",
            Self::LastCounts => "last_counts",
        }
    }
}

/// Decodes `parameters` (record-format.md §Election package).
/// A v2 campaign's package (`ballot_v2`) is refused by name: its board (`ballot_v2` entries, the
/// filter) is not verified by this version, and must not pass as an unknown field might.
pub fn parse(v: &Value) -> Decoded<ReVotePolicy> {
    if v.get("ballot_v2").is_some() {
        return Err(Invalid(
            "parameters.ballot_v2: a v2 campaign (docs/protocol/13-revoting.md) is not verified by this version".into(),
        ));
    }
    exact(v, &["re_vote"], "parameters")?;
    let re_vote = field(v, "re_vote", "parameters")?;
    exact(re_vote, &["policy"], "parameters.re_vote")?;
    match string(re_vote, "policy", "parameters.re_vote")?.as_str() {
        "forbidden" => Ok(ReVotePolicy::Forbidden),
        "last_counts" => Ok(ReVotePolicy::LastCounts),
        other => Err(Invalid(format!("parameters: unknown re-vote rule {other:?}"))),
    }
}

/// The parameters hash.
pub fn hash(board_key: &[u8; 32], policy: ReVotePolicy) -> [u8; 32] {
    let mut t = transcript::new(b"package-parameters");
    t.append_message(b"board-key", board_key);
    t.append_message(b"re-vote-policy", policy.name().as_bytes());
    transcript::hash32(&mut t, b"parameters-hash")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_known_rules_and_fields_are_read() {
        let ok = serde_json::json!({"re_vote": {"policy": "last_counts"}});
        assert_eq!(parse(&ok).ok(), Some(ReVotePolicy::LastCounts));
        for bad in [
            serde_json::json!({"re_vote": {"policy": "bogus"}}),
            serde_json::json!({"re_vote": {"policy": "last_counts", "x": 1}}),
            serde_json::json!({"re_vote": {"policy": "last_counts"}, "x": 1}),
            serde_json::json!({"re_vote": {}}),
            serde_json::json!({}),
            serde_json::json!({"re_vote": {"policy": "last_counts"}, "ballot_v2": {"cast_verifier_key": "00"}}),
        ] {
            assert!(parse(&bad).is_err(), "{bad}");
        }
        assert_ne!(hash(&[1; 32], ReVotePolicy::Forbidden), hash(&[1; 32], ReVotePolicy::LastCounts));
        assert_ne!(hash(&[1; 32], ReVotePolicy::Forbidden), hash(&[2; 32], ReVotePolicy::Forbidden));
    }
}
