//! The pinned commission (`docs/protocol/14-commission.md`), written from the spec: the
//! package's `commission` section decoded strictly, its hash (§Binding), and the acceptance rule
//! of a member-signed act (§Acceptance). Only the `ed25519` identity kind is known; any other
//! kind (the reserved `x509` included) makes the package unreadable.

use std::collections::HashSet;

use serde_json::Value;

use crate::encoding::{Decoded, Invalid, array, exact, field, hex_n, string, uint32};
use crate::transcript;

/// The acts in hashing order, with their quorum field names.
pub const ACTS: [&str; 3] = ["credential_list", "replacement", "protocol"];
const ROLES: [&str; 4] = ["chair", "deputy_chair", "secretary", "member"];

/// A pinned member.
pub struct Member {
    /// Name as printed.
    pub name: String,
    /// Role.
    pub role: String,
    /// Ed25519 public key.
    pub key: [u8; 32],
}

/// The pinned commission.
pub struct Commission {
    /// Members in order.
    pub members: Vec<Member>,
    /// Quorum per act, in [`ACTS`] order.
    pub quorum: [u64; 3],
}

/// A member's name as 14-commission.md allows it: 1–200 characters; words of letters
/// (`Alphabetic` below U+0530), ASCII digits and `. - ' ’`, separated by single spaces.
pub fn member_name(name: &str) -> bool {
    (1..=200).contains(&name.chars().count())
        && name.split(' ').all(|w| {
            !w.is_empty()
                && w.chars()
                    .all(|c| (c.is_alphabetic() && (c as u32) < 0x530) || c.is_ascii_digit() || ".-'’".contains(c))
        })
}

fn bad(s: String) -> Invalid {
    Invalid(format!("commission: {s}"))
}

/// Decodes and checks the `commission` section (§The `commission` section).
pub fn parse(v: &Value) -> Decoded<Commission> {
    exact(v, &["members", "quorum"], "commission")?;
    let list = array(v, "members", "commission")?;
    let n = list.len();
    if !(2..=64).contains(&n) {
        return Err(bad(format!("{n} members; a commission has 2 to 64")));
    }
    let mut members = Vec::new();
    let (mut names, mut keys) = (HashSet::new(), HashSet::new());
    for (i, m) in list.iter().enumerate() {
        let what = format!("commission member {}", i + 1);
        exact(m, &["name", "role", "identity"], &what)?;
        let name = string(m, "name", &what)?;
        if !member_name(&name) {
            return Err(bad(format!(
                "member {}: the name must be 1 to 200 letters, digits and . - ' ’, words separated by single spaces",
                i + 1
            )));
        }
        let role = string(m, "role", &what)?;
        if !ROLES.contains(&role.as_str()) {
            return Err(bad(format!("member {}: unknown role {role:?}", i + 1)));
        }
        let id = field(m, "identity", &what)?;
        exact(id, &["kind", "key"], &what)?;
        let kind = string(id, "kind", &what)?;
        if kind != "ed25519" {
            return Err(bad(format!("member {}: unknown identity kind {kind:?}", i + 1)));
        }
        let key: [u8; 32] = hex_n(field(id, "key", &what)?, "key")?;
        match ed25519_dalek::VerifyingKey::from_bytes(&key) {
            Ok(k) if !k.is_weak() => {}
            _ => return Err(bad(format!("member {}: not an Ed25519 key of large order", i + 1))),
        }
        if !names.insert(name.clone()) || !keys.insert(key) {
            return Err(bad(format!("member {}: a name or key appears twice", i + 1)));
        }
        members.push(Member { name, role, key });
    }
    if members.iter().filter(|m| m.role == "chair").count() != 1 {
        return Err(bad("exactly one member must be the chair".into()));
    }
    let q = field(v, "quorum", "commission")?;
    exact(q, &ACTS, "commission quorum")?;
    let mut quorum = [0u64; 3];
    for (i, act) in ACTS.iter().enumerate() {
        let k = uint32(q, act, "commission quorum")?;
        if k as usize <= n / 2 || k as usize > n {
            return Err(bad(format!("the quorum of {act} must be more than half of the {n} members and at most {n}")));
        }
        quorum[i] = k;
    }
    Ok(Commission { members, quorum })
}

impl Commission {
    /// The commission hash (§Binding).
    pub fn hash(&self) -> [u8; 32] {
        let mut t = transcript::new(b"commission");
        t.append_u64(b"n", self.members.len() as u64);
        for (i, m) in self.members.iter().enumerate() {
            t.append_u64(b"member", i as u64 + 1);
            t.append_message(b"name", m.name.as_bytes());
            t.append_message(b"role", m.role.as_bytes());
            t.append_message(b"identity-kind", b"ed25519");
            t.append_message(b"identity", &m.key);
        }
        for (act, k) in ACTS.iter().zip(self.quorum) {
            t.append_message(b"quorum-act", act.as_bytes());
            t.append_u64(b"quorum", k);
        }
        transcript::hash32(&mut t, b"commission-hash")
    }

    /// The pinned member with `key`.
    pub fn member(&self, key: &[u8; 32]) -> Option<&Member> {
        self.members.iter().find(|m| &m.key == key)
    }

    /// The quorum of `act` (one of [`ACTS`]).
    pub fn quorum_of(&self, act: &str) -> u64 {
        ACTS.iter().position(|a| *a == act).map_or(u64::MAX, |i| self.quorum[i])
    }
}
