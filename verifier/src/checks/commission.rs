//! V18 `commission` (`docs/protocol/14-commission.md` §Acceptance): every member-signed act of
//! the record — the credential list (`credential_list_signed`, which opens the polls), each
//! `credential_replaced` entry and the electronic protocol — is signed only by members pinned in
//! the package's `commission` section (which V03 decoded and bound into the extended hash), each
//! under the name pinned for its key, no member twice, and by at least the act's quorum; the
//! protocol with the chair among its signers. That each signature verifies over its act's digest
//! is V07's and V14's. The pinned members are printed as notes with their fingerprints
//! (§Member fingerprints), to be compared with the commission's decision on paper.

use std::collections::HashSet;

use serde_json::Value;

use crate::checks::{Check, Step};
use crate::commission::Commission;
use crate::encoding::hex_n;
use crate::findings::Findings;
use crate::report::Running;

/// The check.
pub const CHECK: Check<Step> = Check {
    id: "V18",
    name: "commission",
    description: "every member-signed act (credential list, replacements, protocol) signed by members pinned in the package, named as pinned, at least its quorum; the protocol by the chair too",
    run,
};

fn run(f: &mut Findings<'_>, c: &mut Running) {
    let pinned = &f.ctx.commission;
    for m in &pinned.members {
        let fp = crate::fingerprint::commission_member("ed25519", &m.key);
        c.note(format!("pinned member: {} ({}), fingerprint {fp}", m.name, m.role));
    }
    c.note(format!(
        "quorum: credential list {}, replacement {}, protocol {} of {}",
        pinned.quorum_of("credential_list"),
        pinned.quorum_of("replacement"),
        pinned.quorum_of("protocol"),
        pinned.members.len()
    ));
    let mut list_signed = false;
    for e in &f.entries {
        match e.kind.as_str() {
            "credential_list_signed" => {
                list_signed = true;
                act(pinned, &format!("entry {}: credential list", e.index), "credential_list", &e.v, c);
            }
            "credential_replaced" | "credential_replaced_v2" => {
                act(pinned, &format!("entry {}: credential replacement", e.index), "replacement", &e.v, c);
            }
            _ => {}
        }
    }
    c.require(list_signed, || "the credential list carries no commission signatures".into());
    if let Some(p) = f.record.get("protocol").filter(|p| !p.is_null()) {
        act(pinned, "protocol", "protocol", p, c);
    }
}

/// One act: the `signatures` array of `v` against the pinned commission.
fn act(pinned: &Commission, what: &str, name: &str, v: &Value, c: &mut Running) {
    let empty = Vec::new();
    let sigs = v.get("signatures").and_then(Value::as_array).unwrap_or(&empty);
    let mut seen = HashSet::new();
    let mut chair = false;
    for (i, sg) in sigs.iter().enumerate() {
        c.items(1);
        let member = sg.get("member").and_then(Value::as_str).unwrap_or("?");
        let Some(pk) = sg.get("public_key").and_then(|k| hex_n::<32>(k, "public_key").ok()) else {
            c.fail(format!("{what}: signature {i} ({member}): no public key"));
            continue;
        };
        let Some(m) = pinned.member(&pk) else {
            c.fail(format!("{what}: signature {i} ({member}): the key is not a pinned commission member's"));
            continue;
        };
        c.require(m.name == member, || {
            format!("{what}: signature {i} names {member:?}; its key is pinned to {:?}", m.name)
        });
        c.require(seen.insert(pk), || format!("{what}: signature {i}: {} signed twice", m.name));
        chair |= m.role == "chair";
    }
    let need = pinned.quorum_of(name);
    c.require(seen.len() as u64 >= need, || {
        format!("{what}: {} pinned member(s) signed; the quorum is {need}", seen.len())
    });
    if name == "protocol" {
        c.require(chair, || "protocol: the pinned chair has not signed".into());
    }
}
