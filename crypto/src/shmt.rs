//! Export of a signed electronic protocol for the State election information system (ШМТ,
//! regulation seed 004): one versioned JSON document per precinct, signed as a whole by the
//! board key (`docs/shmt-export.md`, JSON Schema `docs/schemas/shmt-export.schema.json`).
//!
//! ```text
//! digest    = SHA-256(labels::SHMT_EXPORT_DIGEST ‖ canonical_json(document without "signature"))
//! signature = Ed25519(board key, digest)
//! ```
//!
//! The digest is computed over the JSON as received ([`ShmtExport::verify_json`]), so any change,
//! an added member included, breaks the signature. The board key signs nothing else of 32 bytes
//! (tree heads are 131-byte messages with their own prefix, `docs/protocol/10-board.md`).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::board::BoardKey;
use crate::election_protocol::{ElectionProtocol, MemberSignature, ProtocolBody, canonical_json};
use crate::group::bytes_hex;

/// The export's format id.
pub const SHMT_FORMAT: &str = "dobush-shmt/1";

/// The campaign the protocol belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShmtCampaign {
    /// Campaign id.
    pub id: String,
    /// Campaign name as registered.
    pub name: String,
    /// Election kind (`local_council`, …).
    pub kind: String,
    /// Voting day, `YYYY-MM-DD`.
    pub voting_day: String,
}

/// The precinct the protocol is drawn up for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShmtPrecinct {
    /// Precinct code; equals the protocol's `precinct`.
    pub code: String,
    /// Name.
    pub name: String,
    /// `electronic` or `remote`.
    pub kind: String,
    /// Territory (the commission above the precinct).
    pub territory: String,
}

/// A line's caption in both languages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShmtLabel {
    /// Kyrgyz.
    pub ky: String,
    /// Russian.
    pub ru: String,
}

/// One numbered line of the protocol, flattened for import.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShmtLine {
    /// `general`, or the contest's id.
    pub section: String,
    /// Line number as printed (`"1"`, `"6.4"`).
    pub number: String,
    /// Stable key (`e_voters`, `option:c1`, `against_all`, …).
    pub key: String,
    /// Caption.
    pub label: ShmtLabel,
    /// Value.
    pub value: u64,
}

/// The export document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShmtExport {
    /// [`SHMT_FORMAT`].
    pub format: String,
    /// The campaign.
    pub campaign: ShmtCampaign,
    /// The precinct.
    pub precinct: ShmtPrecinct,
    /// Every line, in the protocol's order (general lines, then each contest's).
    pub lines: Vec<ShmtLine>,
    /// The protocol body exactly as the members signed it.
    pub protocol: ProtocolBody,
    /// [`ProtocolBody::digest`] of `protocol`: what the members signed.
    #[serde(with = "bytes_hex")]
    pub protocol_digest: [u8; 32],
    /// The members' signatures over `protocol_digest`.
    pub member_signatures: Vec<MemberSignature>,
    /// The election's extended context hash (equals `protocol.extended_hash`).
    #[serde(with = "bytes_hex")]
    pub election_context_hash: [u8; 32],
    /// Time of export, RFC 3339 in UTC.
    pub exported_at: String,
    /// Time of export, milliseconds since the Unix epoch.
    pub exported_at_ms: u64,
    /// The board's Ed25519 public key (the election package's `board_key`).
    #[serde(with = "bytes_hex")]
    pub board_key: [u8; 32],
    /// Ed25519 signature by `board_key` over [`ShmtExport::digest`].
    #[serde(with = "bytes_hex")]
    pub signature: [u8; 64],
}

/// Why an export is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ShmtError {
    /// Not JSON of this format.
    #[error("malformed export: {0}")]
    Malformed(String),
    /// Signed by another key than the expected board key.
    #[error("the export is signed by another key than the board's")]
    WrongKey,
    /// The board's signature does not verify.
    #[error("the board's signature over the export does not verify")]
    Signature,
    /// The document contradicts itself (lines, digests, context hash).
    #[error("inconsistent export: {0}")]
    Inconsistent(&'static str),
    /// A member's signature does not verify over the protocol's digest.
    #[error("member signature: {0}")]
    Member(#[from] crate::election_protocol::SignatureError),
}

/// The protocol's lines, flattened in order.
pub fn flatten_lines(body: &ProtocolBody) -> Vec<ShmtLine> {
    let general = body.general.iter().map(|l| ("general", l));
    let contests = body.contests.iter().flat_map(|c| c.lines.iter().map(move |l| (c.contest_id.as_str(), l)));
    general
        .chain(contests)
        .map(|(section, l)| ShmtLine {
            section: section.into(),
            number: l.number.clone(),
            key: l.key.clone(),
            label: ShmtLabel { ky: l.ky.clone(), ru: l.ru.clone() },
            value: l.value,
        })
        .collect()
}

/// The signed digest of a document given as JSON: its `signature` member is left out.
pub fn digest_of_json(doc: &serde_json::Value) -> Result<[u8; 32], ShmtError> {
    let mut v = doc.clone();
    let obj = v.as_object_mut().ok_or_else(|| ShmtError::Malformed("not a JSON object".into()))?;
    obj.remove("signature");
    let mut text = String::new();
    canonical_json(&v, &mut text);
    let mut h = Sha256::new();
    h.update(crate::labels::SHMT_EXPORT_DIGEST);
    h.update(text.as_bytes());
    Ok(h.finalize().into())
}

impl ShmtExport {
    /// Builds the export of a signed protocol and signs it with the board key.
    pub fn build(
        campaign: ShmtCampaign,
        precinct: ShmtPrecinct,
        protocol: &ElectionProtocol,
        exported_at: String,
        exported_at_ms: u64,
        key: &BoardKey,
    ) -> Result<Self, ShmtError> {
        let mut doc = ShmtExport {
            format: SHMT_FORMAT.into(),
            campaign,
            precinct,
            lines: flatten_lines(&protocol.body),
            protocol_digest: protocol.body.digest(),
            member_signatures: protocol.signatures.clone(),
            election_context_hash: protocol.body.extended_hash,
            protocol: protocol.body.clone(),
            exported_at,
            exported_at_ms,
            board_key: key.public(),
            signature: [0; 64],
        };
        doc.signature = key.sign_digest(&doc.digest()?);
        Ok(doc)
    }

    /// The digest the board signs.
    pub fn digest(&self) -> Result<[u8; 32], ShmtError> {
        let v = serde_json::to_value(self).map_err(|e| ShmtError::Malformed(e.to_string()))?;
        digest_of_json(&v)
    }

    /// Verifies a received export (as JSON) against the expected board key: the board's
    /// signature over the document as received, then its consistency (lines = the protocol's,
    /// digests, context hash) and every member's signature over the protocol's digest.
    pub fn verify_json(doc: &serde_json::Value, board_key: &[u8; 32]) -> Result<Self, ShmtError> {
        let export: ShmtExport =
            serde_json::from_value(doc.clone()).map_err(|e| ShmtError::Malformed(e.to_string()))?;
        if export.format != SHMT_FORMAT {
            return Err(ShmtError::Malformed(format!("format must be {SHMT_FORMAT}")));
        }
        if &export.board_key != board_key {
            return Err(ShmtError::WrongKey);
        }
        let vk = ed25519_dalek::VerifyingKey::from_bytes(board_key).map_err(|_| ShmtError::WrongKey)?;
        let sig = ed25519_dalek::Signature::from_bytes(&export.signature);
        vk.verify_strict(&digest_of_json(doc)?, &sig).map_err(|_| ShmtError::Signature)?;
        export.check_consistency()?;
        Ok(export)
    }

    /// The document's parts agree with each other and the members' signatures verify.
    pub fn check_consistency(&self) -> Result<(), ShmtError> {
        if self.protocol_digest != self.protocol.digest() {
            return Err(ShmtError::Inconsistent("protocol_digest is not the protocol's digest"));
        }
        if self.lines != flatten_lines(&self.protocol) {
            return Err(ShmtError::Inconsistent("lines differ from the protocol's lines"));
        }
        if self.election_context_hash != self.protocol.extended_hash {
            return Err(ShmtError::Inconsistent("election_context_hash is not the protocol's"));
        }
        if self.precinct.code != self.protocol.precinct || self.campaign.id != self.protocol.campaign_id {
            return Err(ShmtError::Inconsistent("campaign or precinct differs from the protocol's"));
        }
        let signed = ElectionProtocol { body: self.protocol.clone(), signatures: self.member_signatures.clone() };
        signed.verify_signatures()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::election_protocol::{ContestLines, Line};

    fn body() -> ProtocolBody {
        let line = |n: &str, k: &str, v| Line {
            number: n.into(),
            key: k.into(),
            ky: format!("{k} ky"),
            ru: format!("{k} ru"),
            value: v,
        };
        ProtocolBody {
            version: crate::election_protocol::PROTOCOL_VERSION.into(),
            campaign_id: "c".into(),
            precinct: "E1".into(),
            extended_hash: [3; 32],
            final_head: [4; 32],
            decryption_shares: [5; 32],
            general: vec![line("1", "e_voters", 3), line("2", "issued", 2)],
            contests: vec![ContestLines {
                contest_id: "council".into(),
                lines: vec![line("6.1", "ballots", 2), line("6.4", "option:c1", 2)],
            }],
            drawn_up_ms: 5,
        }
    }

    fn export() -> (ShmtExport, BoardKey) {
        let key = BoardKey::from_bytes(&[9; 32]);
        let b = body();
        let member = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let p = ElectionProtocol { signatures: vec![ElectionProtocol::sign(&b, "A (chair)", &member)], body: b };
        let campaign = ShmtCampaign {
            id: "c".into(),
            name: "N".into(),
            kind: "local_council".into(),
            voting_day: "2023-04-09".into(),
        };
        let precinct =
            ShmtPrecinct { code: "E1".into(), name: "E".into(), kind: "electronic".into(), territory: "T".into() };
        (ShmtExport::build(campaign, precinct, &p, "2023-04-10T00:00:00Z".into(), 1, &key).unwrap(), key)
    }

    #[test]
    fn an_export_verifies_and_its_lines_follow_the_protocol() {
        let (e, key) = export();
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(ShmtExport::verify_json(&v, &key.public()).unwrap(), e);
        let keys: Vec<_> = e.lines.iter().map(|l| (l.section.as_str(), l.number.as_str())).collect();
        assert_eq!(keys, [("general", "1"), ("general", "2"), ("council", "6.1"), ("council", "6.4")]);
    }

    #[test]
    fn any_change_breaks_the_board_signature() {
        let (e, key) = export();
        let v = serde_json::to_value(&e).unwrap();
        let mut changed = v.clone();
        changed["lines"][3]["value"] = 3.into();
        assert_eq!(ShmtExport::verify_json(&changed, &key.public()), Err(ShmtError::Signature));
        let mut changed = v.clone();
        changed["exported_at"] = "2023-04-11T00:00:00Z".into();
        assert_eq!(ShmtExport::verify_json(&changed, &key.public()), Err(ShmtError::Signature));
        // an added member is refused too (unknown field), never silently dropped
        let mut changed = v.clone();
        changed["note"] = "x".into();
        assert!(matches!(ShmtExport::verify_json(&changed, &key.public()), Err(ShmtError::Malformed(_))));
        let mut changed = v.clone();
        changed["protocol"]["note"] = "x".into();
        assert_eq!(ShmtExport::verify_json(&changed, &key.public()), Err(ShmtError::Signature));
        let other = BoardKey::from_bytes(&[8; 32]);
        assert_eq!(ShmtExport::verify_json(&v, &other.public()), Err(ShmtError::WrongKey));
    }

    #[test]
    fn a_re_signed_but_inconsistent_export_is_refused() {
        let (mut e, key) = export();
        e.lines[0].value = 4;
        e.signature = key.sign_digest(&e.digest().unwrap());
        let v = serde_json::to_value(&e).unwrap();
        assert!(matches!(ShmtExport::verify_json(&v, &key.public()), Err(ShmtError::Inconsistent(_))));
        let (mut e, key) = export();
        e.member_signatures[0].signature[0] ^= 1;
        e.signature = key.sign_digest(&e.digest().unwrap());
        let v = serde_json::to_value(&e).unwrap();
        assert!(matches!(ShmtExport::verify_json(&v, &key.public()), Err(ShmtError::Member(_))));
    }
}
