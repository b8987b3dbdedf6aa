//! The pinned commission (`docs/protocol/14-commission.md`): the members, their tagged signing
//! identities and the quorum of each member-signed act, carried by the election package and bound
//! into the extended context hash by [`Commission::hash`]; and the one acceptance rule every tool
//! applies to a member-signed act ([`Commission::check_act`]).

use std::collections::HashSet;

use merlin::Transcript;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::election_protocol::{MemberSignature, SignatureError};
use crate::group::bytes_hex;
use crate::labels;
use crate::transcript::TranscriptProtocol;

/// The roles a member may have (14-commission.md §The `commission` section).
pub const ROLES: [&str; 4] = ["chair", "deputy_chair", "secretary", "member"];
/// The most members a commission may have.
pub const MAX_MEMBERS: usize = 64;

/// A member's signing identity, tagged by its kind. Only `ed25519` exists today; the `x509` kind
/// is reserved for the qualified-signature adapter and, like any unknown kind, refused when
/// decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
pub enum SigningIdentity {
    /// An Ed25519 public key (RFC 8032).
    #[serde(rename = "ed25519")]
    Ed25519 {
        /// The 32-byte key, 64 lowercase hex digits.
        #[serde(with = "bytes_hex")]
        key: [u8; 32],
    },
}

impl SigningIdentity {
    fn kind(&self) -> &'static str {
        match self {
            SigningIdentity::Ed25519 { .. } => "ed25519",
        }
    }
    fn bytes(&self) -> &[u8] {
        match self {
            SigningIdentity::Ed25519 { key } => key,
        }
    }

    /// The member's fingerprint, for people to compare (14-commission.md §Member fingerprints):
    /// `fingerprint("commission-member", LE64(len(kind)) ‖ kind ‖ identity bytes)`, so that an
    /// identity of another kind can never show the same fingerprint.
    pub fn fingerprint(&self) -> String {
        let kind = self.kind();
        let mut bytes = Vec::with_capacity(8 + kind.len() + self.bytes().len());
        bytes.extend_from_slice(&(kind.len() as u64).to_le_bytes());
        bytes.extend_from_slice(kind.as_bytes());
        bytes.extend_from_slice(self.bytes());
        crate::signature::fingerprint_of_bytes(crate::labels::FP_COMMISSION_MEMBER, &bytes)
    }
}

/// A pinned member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommissionMember {
    /// The name as printed (also the `member` of each of their [`MemberSignature`]s).
    pub name: String,
    /// One of [`ROLES`].
    pub role: String,
    /// The signing identity.
    pub identity: SigningIdentity,
}

/// A member-signed act.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    /// The frozen credential list (its signatures open the polls).
    CredentialList,
    /// A credential replacement after the application deadline.
    Replacement,
    /// The electronic protocol (the chair must be among the signers).
    Protocol,
}

impl Act {
    /// The act's name in the package's `quorum` object.
    pub fn as_str(self) -> &'static str {
        match self {
            Act::CredentialList => "credential_list",
            Act::Replacement => "replacement",
            Act::Protocol => "protocol",
        }
    }
}

/// The number of signatures each act needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quorum {
    /// The credential list (and so the opening).
    pub credential_list: u32,
    /// Each replacement after the application deadline.
    pub replacement: u32,
    /// The protocol.
    pub protocol: u32,
}

impl Quorum {
    /// The quorum of `act`.
    pub fn of(&self, act: Act) -> u32 {
        match act {
            Act::CredentialList => self.credential_list,
            Act::Replacement => self.replacement,
            Act::Protocol => self.protocol,
        }
    }

    /// The default: more than half of `n` members for every act.
    pub fn majority(n: usize) -> Self {
        let k = u32::try_from(n / 2 + 1).unwrap_or(u32::MAX);
        Quorum { credential_list: k, replacement: k, protocol: k }
    }
}

/// The `commission` section of the election package.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commission {
    /// The members, in the order the commission fixed.
    pub members: Vec<CommissionMember>,
    /// The quorum of each act.
    pub quorum: Quorum,
}

/// Why a commission section or a member-signed act is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CommissionError {
    /// The section breaks a rule of 14-commission.md.
    #[error("commission: {0}")]
    Invalid(String),
    /// A signature under a key that is not a pinned member's.
    #[error("the key {0} is not a pinned commission member's")]
    NotAMember(String),
    /// A signature's `member` is not the pinned member's name.
    #[error("the signature names {0:?}, but its key is pinned to {1:?}")]
    WrongName(String, String),
    /// Two signatures by one member.
    #[error("two signatures by {0}")]
    Duplicate(String),
    /// Fewer signatures than the act's quorum (or no chair on the protocol).
    #[error("{act}: {got} signature(s) of pinned members, the quorum is {need}{chair}", chair = if *.chair { " with the chair among them" } else { "" })]
    QuorumNotReached {
        /// The act.
        act: &'static str,
        /// Valid signatures.
        got: usize,
        /// Its quorum.
        need: u32,
        /// Whether the chair is required and missing.
        chair: bool,
    },
    /// A signature does not verify.
    #[error(transparent)]
    Signature(#[from] SignatureError),
}

fn invalid(s: impl Into<String>) -> CommissionError {
    CommissionError::Invalid(s.into())
}

/// Whether `s` is a member's name as 14-commission.md §The `commission` section allows it:
/// 1–200 characters, words separated by single spaces, each word of letters (`Alphabetic`, below
/// U+0530: Latin, Greek, Cyrillic, which every Unicode version reads alike), ASCII digits and
/// `. - ' ’` only (nothing invisible, no combining mark).
pub fn valid_member_name(s: &str) -> bool {
    let n = s.chars().count();
    (1..=200).contains(&n)
        && s.split(' ').all(|word| {
            !word.is_empty()
                && word.chars().all(|c| {
                    (c.is_alphabetic() && u32::from(c) < 0x0530)
                        || c.is_ascii_digit()
                        || matches!(c, '.' | '-' | '\'' | '’')
                })
        })
}

impl Commission {
    /// Checks every rule of 14-commission.md §The `commission` section.
    pub fn validate(&self) -> Result<(), CommissionError> {
        let n = self.members.len();
        if !(2..=MAX_MEMBERS).contains(&n) {
            return Err(invalid(format!("{n} members; a commission has 2 to {MAX_MEMBERS}")));
        }
        let mut names = HashSet::new();
        let mut keys = HashSet::new();
        for (i, m) in self.members.iter().enumerate() {
            if !valid_member_name(&m.name) {
                return Err(invalid(format!(
                    "member {}: the name must be 1 to 200 letters, digits and . - ' ’, words separated by single spaces",
                    i + 1
                )));
            }
            if !ROLES.contains(&m.role.as_str()) {
                return Err(invalid(format!("member {}: unknown role {:?}", i + 1, m.role)));
            }
            if !names.insert(m.name.as_str()) {
                return Err(invalid(format!("member {}: the name {:?} appears twice", i + 1, m.name)));
            }
            if !keys.insert(m.identity) {
                return Err(invalid(format!("member {}: the identity appears twice", i + 1)));
            }
            let SigningIdentity::Ed25519 { key } = &m.identity;
            match ed25519_dalek::VerifyingKey::from_bytes(key) {
                Ok(vk) if !vk.is_weak() => {}
                _ => return Err(invalid(format!("member {}: not an Ed25519 key of large order", i + 1))),
            }
        }
        if self.members.iter().filter(|m| m.role == "chair").count() != 1 {
            return Err(invalid("exactly one member must be the chair"));
        }
        for act in [Act::CredentialList, Act::Replacement, Act::Protocol] {
            let k = self.quorum.of(act) as usize;
            if k <= n / 2 || k > n {
                return Err(invalid(format!(
                    "the quorum of {} is {k}; it must be more than half of the {n} members and at most {n}",
                    act.as_str()
                )));
            }
        }
        Ok(())
    }

    /// The commission hash (14-commission.md §Binding), absorbed by the extended context hash.
    pub fn hash(&self) -> [u8; 32] {
        let mut t = Transcript::protocol(labels::DS_COMMISSION);
        t.append_u64(labels::L_N, self.members.len() as u64);
        for (i, m) in self.members.iter().enumerate() {
            t.append_u64(labels::L_MEMBER, i as u64 + 1);
            t.append_str(labels::L_NAME, &m.name);
            t.append_str(labels::L_ROLE, &m.role);
            t.append_str(labels::L_IDENTITY_KIND, m.identity.kind());
            t.append_message(labels::L_IDENTITY, m.identity.bytes());
        }
        for act in [Act::CredentialList, Act::Replacement, Act::Protocol] {
            t.append_str(labels::L_QUORUM_ACT, act.as_str());
            t.append_u64(labels::L_QUORUM, u64::from(self.quorum.of(act)));
        }
        t.challenge_32(labels::L_COMMISSION_HASH)
    }

    /// The pinned member whose Ed25519 key is `key`.
    pub fn member_by_key(&self, key: &[u8; 32]) -> Option<&CommissionMember> {
        self.members.iter().find(|m| matches!(&m.identity, SigningIdentity::Ed25519 { key: k } if k == key))
    }

    /// Checks one signature of an act: its key is pinned, it names its member, it verifies over
    /// `digest`. Returns the member.
    pub fn check_signature(
        &self,
        digest: &[u8; 32],
        s: &MemberSignature,
    ) -> Result<&CommissionMember, CommissionError> {
        let Some(m) = self.member_by_key(&s.public_key) else {
            return Err(CommissionError::NotAMember(hex::encode(s.public_key)));
        };
        if s.member != m.name {
            return Err(CommissionError::WrongName(s.member.clone(), m.name.clone()));
        }
        s.verify_digest(digest)?;
        Ok(m)
    }

    /// The acceptance rule of a member-signed act (14-commission.md §Acceptance): every
    /// signature by a distinct pinned member, named as pinned, valid over `digest`, and at least
    /// the act's quorum of them (for the protocol, the chair among them).
    pub fn check_act(
        &self,
        act: Act,
        digest: &[u8; 32],
        signatures: &[MemberSignature],
    ) -> Result<(), CommissionError> {
        let mut seen = HashSet::new();
        let mut chair = false;
        for s in signatures {
            let m = self.check_signature(digest, s)?;
            if !seen.insert(s.public_key) {
                return Err(CommissionError::Duplicate(m.name.clone()));
            }
            chair |= m.role == "chair";
        }
        let need = self.quorum.of(act);
        let chair_missing = act == Act::Protocol && !chair;
        if seen.len() < need as usize || chair_missing {
            return Err(CommissionError::QuorumNotReached {
                act: act.as_str(),
                got: seen.len(),
                need,
                chair: act == Act::Protocol,
            });
        }
        Ok(())
    }
}

/// Tests and tools where the members' keys are at hand: the commission of `members`
/// (`(name, key)`, the first one the chair), with the majority quorum.
pub fn commission_of(members: &[(&str, &ed25519_dalek::SigningKey)]) -> Commission {
    Commission {
        members: members
            .iter()
            .enumerate()
            .map(|(i, (name, key))| CommissionMember {
                name: (*name).into(),
                role: if i == 0 { "chair" } else { "member" }.into(),
                identity: SigningIdentity::Ed25519 { key: key.verifying_key().to_bytes() },
            })
            .collect(),
        quorum: Quorum::majority(members.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: u8) -> Vec<ed25519_dalek::SigningKey> {
        (1..=n).map(|i| ed25519_dalek::SigningKey::from_bytes(&[i; 32])).collect()
    }

    fn commission(k: &[ed25519_dalek::SigningKey]) -> Commission {
        let names = ["A", "B", "C", "D", "E"];
        let pairs: Vec<(&str, &ed25519_dalek::SigningKey)> = names.iter().copied().zip(k).collect();
        commission_of(&pairs)
    }

    #[test]
    fn quorum_of_pinned_members_accepted_and_everything_else_refused() {
        let k = keys(3);
        let c = commission(&k);
        c.validate().unwrap();
        let d = [9u8; 32];
        let sig = |i: usize, name: &str| MemberSignature::sign_digest(&d, name, &k[i]);
        c.check_act(Act::CredentialList, &d, &[sig(0, "A"), sig(2, "C")]).unwrap();
        // under quorum
        assert!(matches!(
            c.check_act(Act::CredentialList, &d, &[sig(1, "B")]),
            Err(CommissionError::QuorumNotReached { got: 1, need: 2, .. })
        ));
        // the protocol needs the chair
        assert!(matches!(
            c.check_act(Act::Protocol, &d, &[sig(1, "B"), sig(2, "C")]),
            Err(CommissionError::QuorumNotReached { .. })
        ));
        // an unpinned key, even with a pinned member's name
        let outsider = ed25519_dalek::SigningKey::from_bytes(&[77; 32]);
        let forged = MemberSignature::sign_digest(&d, "A", &outsider);
        assert!(matches!(
            c.check_act(Act::CredentialList, &d, &[sig(1, "B"), forged]),
            Err(CommissionError::NotAMember(_))
        ));
        // one member twice
        assert!(matches!(
            c.check_act(Act::CredentialList, &d, &[sig(1, "B"), sig(1, "B")]),
            Err(CommissionError::Duplicate(_))
        ));
        // another member's name
        assert!(matches!(
            c.check_act(Act::CredentialList, &d, &[sig(0, "B"), sig(1, "B")]),
            Err(CommissionError::WrongName(..))
        ));
        // a signature over another digest
        let other = MemberSignature::sign_digest(&[8u8; 32], "C", &k[2]);
        assert!(matches!(
            c.check_act(Act::CredentialList, &d, &[sig(0, "A"), other]),
            Err(CommissionError::Signature(_))
        ));
    }

    #[test]
    fn invalid_sections_refused() {
        let k = keys(4);
        let good = commission(&k);
        good.validate().unwrap();
        let mut c = good.clone();
        c.quorum.protocol = 2; // half of 4 is not more than half
        assert!(c.validate().is_err());
        let mut c = good.clone();
        c.quorum.replacement = 5;
        assert!(c.validate().is_err());
        let mut c = good.clone();
        c.members[1].role = "chair".into();
        assert!(c.validate().is_err());
        let mut c = good.clone();
        c.members[1].identity = c.members[0].identity;
        assert!(c.validate().is_err());
        let mut c = good.clone();
        c.members[1].name = "A".into();
        assert!(c.validate().is_err());
        let mut c = good.clone();
        c.members[1].role = "boss".into();
        assert!(c.validate().is_err());
        let mut c = good.clone();
        c.members.truncate(1);
        c.quorum = Quorum::majority(1);
        assert!(c.validate().is_err());
        let mut c = good.clone();
        c.members[2].identity = SigningIdentity::Ed25519 { key: [0u8; 32] }; // small order
        assert!(c.validate().is_err());
    }

    #[test]
    fn member_fingerprints_are_over_the_tagged_identity() {
        use sha2::{Digest, Sha512};
        let k = keys(3);
        let c = commission(&k);
        let prints: Vec<String> = c.members.iter().map(|m| m.identity.fingerprint()).collect();
        for (m, p) in c.members.iter().zip(&prints) {
            let SigningIdentity::Ed25519 { key } = &m.identity;
            // SHA-512("dobush/v1/fingerprint" ‖ LE64(17) ‖ "commission-member" ‖ LE64(7) ‖ "ed25519" ‖ key)
            let mut h = Sha512::new();
            h.update(b"dobush/v1/fingerprint");
            h.update(17u64.to_le_bytes());
            h.update(b"commission-member");
            h.update(7u64.to_le_bytes());
            h.update(b"ed25519");
            h.update(key);
            let d = hex::encode(&h.finalize()[..10]);
            let grouped = [&d[0..4], &d[4..8], &d[8..12], &d[12..16], &d[16..20]].join("-");
            assert_eq!(p, &grouped);
            // not the fingerprint of the bare key under any kind used elsewhere
            assert_ne!(p, &crate::signature::fingerprint_of_bytes(labels::FP_COMMISSION_MEMBER, key));
        }
        assert_eq!(prints.iter().collect::<std::collections::BTreeSet<_>>().len(), 3);
    }

    #[test]
    fn hash_binds_every_field_and_unknown_kinds_are_refused() {
        let k = keys(3);
        let c = commission(&k);
        let h = c.hash();
        let mut m = c.clone();
        m.members.swap(1, 2);
        assert_ne!(m.hash(), h);
        let mut m = c.clone();
        m.members[1].name = "Z".into();
        assert_ne!(m.hash(), h);
        let mut m = c.clone();
        m.members[1].role = "secretary".into();
        assert_ne!(m.hash(), h);
        let mut m = c.clone();
        m.members[1].identity = SigningIdentity::Ed25519 { key: keys(5)[4].verifying_key().to_bytes() };
        assert_ne!(m.hash(), h);
        let mut m = c.clone();
        m.quorum.protocol = 3;
        assert_ne!(m.hash(), h);
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<Commission>(&json).unwrap(), c);
        let x509 = json.replacen("\"kind\":\"ed25519\"", "\"kind\":\"x509\"", 1);
        assert!(serde_json::from_str::<Commission>(&x509).is_err());
        let extra = json.replacen("\"quorum\":{", "\"quorum\":{\"opening\":2,", 1);
        assert!(serde_json::from_str::<Commission>(&extra).is_err());
    }
}
