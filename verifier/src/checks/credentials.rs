//! V07 `credentials` (`docs/record-format.md` §Verifier checklist, items 4 and 5; §Commission
//! signatures on the credential list): the commission's signatures on the frozen credential list
//! (`10-board.md` §Credential list signatures), the list's canonical form and the replacements,
//! each validly signed (`10-board.md` §Credential replacement signatures; `09-credentials.md`
//! §What a verifier checks); that the signers are pinned members reaching each act's quorum is
//! V18's (`commission.rs`, 14-commission.md). The credentials found are what the eligibility and
//! re-vote checks use.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::checks::{Check, Step};
use crate::encoding::{Decoded, Point, array, exact, field, hex_n, point, string, uint};
use crate::findings::{Credentials, Findings};
use crate::load::Entry;
use crate::report::Running;

/// The check.
pub const CHECK: Check<Step> = Check {
    id: "V07",
    name: "credentials",
    description: "frozen credential list signed by the commission, replacements signed by its members; every ballot signed by a listed credential of its style",
    run,
};

fn run(f: &mut Findings<'_>, c: &mut Running) {
    let campaign_id = &f.ctx.election.manifest.campaign_id;
    let v2 = f.ctx.parameters.is_v2();
    list_signatures(campaign_id, v2, &f.lines, &f.entries, c);
    f.creds = if v2 {
        credential_list_v2(campaign_id, &f.ctx.election.extended_hash, &f.entries, c)
    } else {
        credential_list(campaign_id, &f.entries, c)
    };
}

/// The v2 list and replacements (13-revoting.md §4.2–4.3, `crate::ballot_v2::board`): the list
/// in its canonical form, its revoked credentials only counted; each replacement's proof of
/// knowledge of old_tbase's nonce, its signatures over the replacement digest (who signed, and
/// how many: V18), and its new credential neither listed nor replaced-in before. The replaced
/// credential is not named: which one a replacement stops is the filter's (§7.3).
fn credential_list_v2(campaign_id: &str, extended_hash: &[u8; 32], entries: &[Entry], c: &mut Running) -> Credentials {
    use crate::ballot_v2::board;
    let mut creds = Credentials::default();
    let Some(list) = entries.iter().find(|e| e.kind == "credential_list_v2") else {
        c.fail("no credential list (credential_list_v2) on the board");
        return creds;
    };
    match board::parse_list(&list.v) {
        Ok(l) => {
            c.items(l.credentials.len() as u64);
            c.note(format!(
                "credential list: {} credentials; {} revoked before the freeze (counted, not named: 13-revoting.md §4.2)",
                l.credentials.len(),
                l.revoked_count
            ));
            creds.listed.extend(l.credentials.into_iter().map(|it| (it.credential.bytes, it.style)));
        }
        Err(e) => c.fail(format!("entry {}: {}", list.index, e.0)),
    }
    for e in entries.iter().filter(|e| e.kind == "credential_replaced_v2") {
        c.items(1);
        let r = match board::parse_replacement(&e.v) {
            Ok(r) => r,
            Err(err) => {
                c.fail(format!("entry {}: {}", e.index, err.0));
                continue;
            }
        };
        match board::check_replacement(extended_hash, campaign_id, &r) {
            Ok(digest) => {
                member_signatures(e, "credential replacement", &digest, c);
                c.note(format!(
                    "entry {}: replacement under decision {:?} signed by {}",
                    e.index,
                    r.decision,
                    signer_names(e)
                ));
            }
            Err(m) => c.fail(format!("entry {}: {m}", e.index)),
        }
        c.require(!creds.listed.contains_key(&r.new.bytes) && !creds.replacements.contains_key(&r.new.bytes), || {
            format!("entry {}: the new credential is already in use", e.index)
        });
        creds.replacements.insert(r.new.bytes, (r.style, e.index));
    }
    creds
}

/// The fields of an item of the credential list (record-format.md §Board); any other is refused.
pub const LIST_ITEM_FIELDS: &[&str] = &["credential", "style"];
/// The fields of a member's signature in `credential_list_signed` and `credential_replaced`.
pub const SIGNATURE_FIELDS: &[&str] = &["member", "public_key", "signature"];

/// The frozen list and the replacements (09-credentials.md §What a verifier checks), each
/// replacement validly signed (by whom is V18's).
fn credential_list(campaign_id: &str, entries: &[Entry], c: &mut Running) -> Credentials {
    let mut creds = Credentials {
        listed: HashMap::new(),
        revoked_at: HashMap::new(),
        replacements: HashMap::new(),
        root_of: HashMap::new(),
        revoked_before: std::collections::HashSet::new(),
    };
    let Some(list) = entries.iter().find(|e| e.kind == "credential_list") else {
        c.fail("no credential list on the board");
        return creds;
    };
    let items = match array(&list.v, "credentials", "credential list") {
        Ok(a) => a.clone(),
        Err(e) => {
            c.fail(e.0);
            return creds;
        }
    };
    let mut prev: Option<[u8; 32]> = None;
    for (i, it) in items.iter().enumerate() {
        c.items(1);
        if let Err(e) = exact(it, LIST_ITEM_FIELDS, &format!("entry {} (credential_list): item {i}", list.index)) {
            c.fail(e.0);
        }
        match (
            field(it, "credential", "credential").and_then(|v| point(v, "credential")),
            string(it, "style", "credential"),
        ) {
            (Ok(p), Ok(style)) => {
                c.require(prev.is_none_or(|q| q < p.bytes), || {
                    format!("credential list item {i}: not sorted or duplicate")
                });
                prev = Some(p.bytes);
                creds.listed.insert(p.bytes, style);
            }
            (Err(e), _) | (_, Err(e)) => c.fail(format!("credential list item {i}: {}", e.0)),
        }
    }
    match uint(&list.v, "count", "credential list") {
        Ok(n) => {
            c.require(n == items.len() as u64, || format!("credential list says count {n} but holds {}", items.len()))
        }
        Err(e) => c.fail(e.0),
    }
    // 09-credentials.md step 2: credentials revoked before the freeze, absent when none (a v2
    // board has no such list: `credential_list_v2` counts them, 13-revoting.md §4.2)
    if list.v.get("revoked").is_some() {
        match array(&list.v, "revoked", "credential list") {
            Ok(rs) if rs.is_empty() => {
                c.fail("credential list: \"revoked\" is present but empty (it is left out when there are none)")
            }
            Ok(rs) => {
                let mut prev: Option<[u8; 32]> = None;
                for (i, r) in rs.iter().enumerate() {
                    c.items(1);
                    match point(r, "revoked credential") {
                        Ok(p) => {
                            c.require(prev.is_none_or(|q| q < p.bytes), || {
                                format!("credential list revoked item {i}: not sorted or duplicate")
                            });
                            c.require(!creds.listed.contains_key(&p.bytes), || {
                                format!("credential list revoked item {i}: the credential is also listed")
                            });
                            prev = Some(p.bytes);
                            creds.revoked_before.insert(p.bytes);
                        }
                        Err(e) => c.fail(format!("credential list revoked item {i}: {}", e.0)),
                    }
                }
            }
            Err(e) => c.fail(e.0),
        }
    }
    for e in entries.iter().filter(|e| e.kind == "credential_replaced") {
        let parsed = (|| -> Decoded<(Point, Point, String, String)> {
            Ok((
                point(field(&e.v, "old", "replacement")?, "old")?,
                point(field(&e.v, "new", "replacement")?, "new")?,
                string(&e.v, "style", "replacement")?,
                string(&e.v, "decision", "replacement")?,
            ))
        })();
        match parsed {
            Ok((old, new, style, decision)) => {
                replacement_signatures(campaign_id, e, (&old, &new, &style, &decision), c);
                let known =
                    creds.listed.get(&old.bytes).or_else(|| creds.replacements.get(&old.bytes).map(|x| &x.0)).cloned();
                c.require(known.as_ref() == Some(&style), || {
                    format!("entry {}: replaces a credential that is not listed for style {style:?}", e.index)
                });
                c.require(
                    !creds.listed.contains_key(&new.bytes) && !creds.replacements.contains_key(&new.bytes),
                    || format!("entry {}: the new credential is already in use", e.index),
                );
                c.require(!creds.revoked_before.contains(&new.bytes), || {
                    format!("entry {}: the new credential was revoked before the freeze", e.index)
                });
                c.require(!creds.revoked_at.contains_key(&old.bytes), || {
                    format!("entry {}: the credential was already replaced", e.index)
                });
                creds.revoked_at.insert(old.bytes, e.index);
                creds.root_of.insert(new.bytes, old.bytes);
                creds.replacements.insert(new.bytes, (style, e.index));
            }
            Err(err) => c.fail(format!("entry {}: {}", e.index, err.0)),
        }
    }
    creds
}

/// 10-board.md §Credential list signatures: every signature in `credential_list_signed` is an
/// Ed25519 signature (strict) over SHA-256("dobush/v1/credential-list" ‖ u64be(len id) ‖ id ‖ the
/// exact line of the `credential_list` entry): at least one, no key twice, each valid; notes the
/// signers for comparison with the commission's minutes (whether they are pinned members reaching
/// the quorum is V18's).
fn list_signatures(campaign_id: &str, v2: bool, lines: &[&[u8]], entries: &[Entry], c: &mut Running) {
    use sha2::{Digest, Sha256};
    let (Some(list), Some(signed)) = (
        entries.iter().find(|e| e.kind == crate::checks::entries::list_kind(v2)),
        entries.iter().find(|e| e.kind == "credential_list_signed"),
    ) else {
        c.fail("the credential list is not signed by the commission (no credential_list_signed entry)");
        return;
    };
    let Some(line) = lines.get(list.index) else { return };
    if v2 {
        // 10-board.md §Credential list signatures, the v2 list digest
        member_signatures(signed, "credential list", &crate::ballot_v2::board::list_digest(campaign_id, line), c);
        c.note(format!("credential list signed by {}", signer_names(signed)));
        return;
    }
    let mut h = Sha256::new();
    h.update(b"dobush/v1/credential-list");
    h.update((campaign_id.len() as u64).to_be_bytes());
    h.update(campaign_id.as_bytes());
    h.update(line);
    member_signatures(signed, "credential list", &h.finalize().into(), c);
    c.note(format!("credential list signed by {}", signer_names(signed)));
}

/// 10-board.md §Credential replacement signatures: a `credential_replaced` entry carries at least
/// one strict Ed25519 signature, no key twice, over SHA-256("dobush/v1/credential-replacement" ‖
/// u64be(len id) ‖ id ‖ old ‖ new ‖ u64be(len style) ‖ style ‖ u64be(len decision) ‖ decision),
/// each valid (whether by a pinned member, and how many: V18).
fn replacement_signatures(
    campaign_id: &str,
    e: &Entry,
    (old, new, style, decision): (&Point, &Point, &str, &str),
    c: &mut Running,
) {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"dobush/v1/credential-replacement");
    h.update((campaign_id.len() as u64).to_be_bytes());
    h.update(campaign_id.as_bytes());
    h.update(old.bytes);
    h.update(new.bytes);
    h.update((style.len() as u64).to_be_bytes());
    h.update(style.as_bytes());
    h.update((decision.len() as u64).to_be_bytes());
    h.update(decision.as_bytes());
    member_signatures(e, "credential replacement", &h.finalize().into(), c);
    c.note(format!("entry {}: replacement under decision {decision:?} signed by {}", e.index, signer_names(e)));
}

/// The `signatures` of entry `e` over `digest`: at least one, no key twice, each valid (strict
/// Ed25519). Who signed, and whether they reach the act's quorum, is V18's (`commission.rs`).
fn member_signatures(e: &Entry, what: &str, digest: &[u8; 32], c: &mut Running) {
    let mut seen = HashSet::new();
    let sigs = match array(&e.v, "signatures", what) {
        Ok(a) => a,
        Err(err) => {
            c.fail(format!("entry {}: {}", e.index, err.0));
            return;
        }
    };
    c.require(!sigs.is_empty(), || format!("entry {}: the {what} carries no signature", e.index));
    for (i, sg) in sigs.iter().enumerate() {
        c.items(1);
        let member = sg.get("member").and_then(Value::as_str).unwrap_or("?");
        let parsed = (|| -> Decoded<([u8; 32], [u8; 64])> {
            exact(sg, SIGNATURE_FIELDS, "signature")?;
            string(sg, "member", "signature")?;
            Ok((
                hex_n(field(sg, "public_key", "signature")?, "public_key")?,
                hex_n(field(sg, "signature", "signature")?, "signature")?,
            ))
        })();
        match parsed {
            Ok((pk, sig)) => {
                c.require(seen.insert(pk), || {
                    format!("entry {}: signature {i} ({member}): a second signature by the same key", e.index)
                });
                let ok = ed25519_dalek::VerifyingKey::from_bytes(&pk)
                    .ok()
                    .and_then(|k| k.verify_strict(digest, &ed25519_dalek::Signature::from_bytes(&sig)).ok());
                c.require(ok.is_some(), || format!("entry {}: {what} signature {i} ({member}): invalid", e.index));
            }
            Err(err) => c.fail(format!("entry {}: signature {i}: {}", e.index, err.0)),
        }
    }
}

/// The `member` names of entry `e`'s signatures, for the report.
fn signer_names(e: &Entry) -> String {
    let names: Vec<&str> =
        e.v.get("signatures")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|s| s.get("member").and_then(Value::as_str)).collect())
            .unwrap_or_default();
    if names.is_empty() { "nobody".into() } else { names.join(", ") }
}
