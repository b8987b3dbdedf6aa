//! The package's `parameters` section and the parameters hash (`docs/protocol/02-transcripts.md`
//! §Parameters hash), written from the spec: decoded strictly (an unknown field or rule makes the
//! package unreadable), then hashed with the board key into the extended hash.

use serde_json::Value;

use crate::encoding::{Decoded, Invalid, Point, exact, field, point, string};
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

/// The decoded `parameters` section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parameters {
    /// The re-vote rule.
    pub re_vote: ReVotePolicy,
    /// Y_S, the cast verifier key (13-revoting.md §3.4), exactly when the campaign casts v2
    /// ballots (`parameters.ballot_v2`, §4.1); `None` for a v1 campaign.
    pub cast_verifier_key: Option<Point>,
}

impl Parameters {
    /// True if the campaign casts v2 ballots: its board holds the v2 entries, never the v1 ones.
    pub fn is_v2(&self) -> bool {
        self.cast_verifier_key.is_some()
    }
}

/// Decodes `parameters` (record-format.md §Election package) strictly: `re_vote` with a known
/// rule, and `ballot_v2 = {cast_verifier_key}` when present (an object, never `null`; the key a
/// canonical point, not the identity).
pub fn parse(v: &Value) -> Decoded<Parameters> {
    let has_v2 = v.as_object().is_some_and(|o| o.contains_key("ballot_v2"));
    if has_v2 {
        exact(v, &["re_vote", "ballot_v2"], "parameters")?;
    } else {
        exact(v, &["re_vote"], "parameters")?;
    }
    let re_vote = field(v, "re_vote", "parameters")?;
    exact(re_vote, &["policy"], "parameters.re_vote")?;
    let re_vote = match string(re_vote, "policy", "parameters.re_vote")?.as_str() {
        "forbidden" => ReVotePolicy::Forbidden,
        "last_counts" => ReVotePolicy::LastCounts,
        other => return Err(Invalid(format!("parameters: unknown re-vote rule {other:?}"))),
    };
    let cast_verifier_key = if has_v2 {
        let v2 = field(v, "ballot_v2", "parameters")?;
        exact(v2, &["cast_verifier_key"], "parameters.ballot_v2")?;
        Some(point(field(v2, "cast_verifier_key", "parameters.ballot_v2")?, "parameters.ballot_v2.cast_verifier_key")?)
    } else {
        None
    };
    Ok(Parameters { re_vote, cast_verifier_key })
}

/// The parameters hash (02-transcripts.md §Parameters hash): a v1 package appends nothing after
/// the rule; a v2 package appends `ballot-format` = "v2" and `cast-verifier-key`.
pub fn hash(board_key: &[u8; 32], p: &Parameters) -> [u8; 32] {
    let mut t = transcript::new(b"package-parameters");
    t.append_message(b"board-key", board_key);
    t.append_message(b"re-vote-policy", p.re_vote.name().as_bytes());
    if let Some(key) = &p.cast_verifier_key {
        t.append_message(b"ballot-format", b"v2");
        t.append_message(b"cast-verifier-key", &key.bytes);
    }
    transcript::hash32(&mut t, b"parameters-hash")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v1(policy: ReVotePolicy) -> Parameters {
        Parameters { re_vote: policy, cast_verifier_key: None }
    }

    #[test]
    fn only_the_known_rules_and_fields_are_read() {
        let ok = serde_json::json!({"re_vote": {"policy": "last_counts"}});
        assert_eq!(parse(&ok).ok(), Some(v1(ReVotePolicy::LastCounts)));
        let g = hex::encode(curve25519_dalek::constants::RISTRETTO_BASEPOINT_COMPRESSED.to_bytes());
        let v2 = serde_json::json!({"re_vote": {"policy": "forbidden"}, "ballot_v2": {"cast_verifier_key": g}});
        let parsed = parse(&v2).ok();
        assert!(parsed.is_some_and(|p| p.is_v2() && p.re_vote == ReVotePolicy::Forbidden), "{v2}");
        for bad in [
            serde_json::json!({"re_vote": {"policy": "bogus"}}),
            serde_json::json!({"re_vote": {"policy": "last_counts", "x": 1}}),
            serde_json::json!({"re_vote": {"policy": "last_counts"}, "x": 1}),
            serde_json::json!({"re_vote": {}}),
            serde_json::json!({}),
            serde_json::json!({"re_vote": {"policy": "last_counts"}, "ballot_v2": {"cast_verifier_key": "00"}}),
            serde_json::json!({"re_vote": {"policy": "last_counts"}, "ballot_v2": null}),
            serde_json::json!({"re_vote": {"policy": "last_counts"}, "ballot_v2": {}}),
            serde_json::json!({"re_vote": {"policy": "last_counts"}, "ballot_v2": {"cast_verifier_key": g, "x": 1}}),
            serde_json::json!({"re_vote": {"policy": "last_counts"}, "ballot_v2": {"cast_verifier_key": "00".repeat(32)}}),
            serde_json::json!({"re_vote": {"policy": "last_counts"}, "ballot_v2": {"cast_verifier_key": g}, "x": 1}),
        ] {
            assert!(parse(&bad).is_err(), "{bad}");
        }
        let (f, l) = (v1(ReVotePolicy::Forbidden), v1(ReVotePolicy::LastCounts));
        assert_ne!(hash(&[1; 32], &f), hash(&[1; 32], &l));
        assert_ne!(hash(&[1; 32], &f), hash(&[2; 32], &f));
        let p2 = parse(&v2).unwrap();
        assert_ne!(hash(&[1; 32], &p2), hash(&[1; 32], &f), "the format and Y_S are hashed");
    }
}
