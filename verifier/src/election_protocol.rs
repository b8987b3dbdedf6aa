//! The electronic protocol (`11-election-protocol.md`): every line re-derived from the record,
//! the control relations, and the members' signatures.

use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::encoding::{Decoded, array, exact, field, string, uint};
use crate::manifest::Manifest;
use crate::report::Running;

/// Canonical JSON: keys sorted by bytes at every level, no whitespace.
pub fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(x, out);
            }
            out.push(']');
        }
        x => out.push_str(&x.to_string()),
    }
}

/// The fields of each object of the protocol (11-election-protocol.md §Body and signatures); any
/// other is refused.
pub mod fields {
    /// `ElectionProtocol`.
    pub const PROTOCOL: &[&str] = &["body", "signatures"];
    /// `ProtocolBody`.
    pub const BODY: &[&str] = &[
        "version",
        "campaign_id",
        "precinct",
        "extended_hash",
        "final_head",
        "decryption_shares",
        "general",
        "contests",
        "drawn_up_ms",
    ];
    /// A contest's section of the body.
    pub const CONTEST: &[&str] = &["contest_id", "lines"];
    /// `Line`.
    pub const LINE: &[&str] = &["number", "key", "ky", "ru", "value"];
    /// `MemberSignature`.
    pub const SIGNATURE: &[&str] = &["member", "public_key", "signature"];
}

/// Every object of the protocol has exactly its fields, of their types (strings, `u64`); the
/// first that does not is returned, located.
fn shape(p: &Value) -> Decoded<()> {
    exact(p, fields::PROTOCOL, "protocol")?;
    let body = field(p, "body", "protocol")?;
    exact(body, fields::BODY, "protocol body")?;
    for k in ["version", "campaign_id", "precinct", "extended_hash", "final_head", "decryption_shares"] {
        string(body, k, "protocol body")?;
    }
    uint(body, "drawn_up_ms", "protocol body")?;
    let line = |l: &Value, what: &str| -> Decoded<()> {
        exact(l, fields::LINE, what)?;
        for k in ["number", "key", "ky", "ru"] {
            string(l, k, what)?;
        }
        uint(l, "value", what).map(|_| ())
    };
    for (i, l) in array(body, "general", "protocol body")?.iter().enumerate() {
        line(l, &format!("protocol body general[{i}]"))?;
    }
    for (i, s) in array(body, "contests", "protocol body")?.iter().enumerate() {
        let what = format!("protocol body contests[{i}]");
        exact(s, fields::CONTEST, &what)?;
        string(s, "contest_id", &what)?;
        for (j, l) in array(s, "lines", &what)?.iter().enumerate() {
            line(l, &format!("{what} lines[{j}]"))?;
        }
    }
    for (i, s) in array(p, "signatures", "protocol")?.iter().enumerate() {
        let what = format!("protocol signatures[{i}]");
        exact(s, fields::SIGNATURE, &what)?;
        string(s, "member", &what)?;
    }
    Ok(())
}

/// What the record itself says, for re-deriving the lines.
pub struct Derived {
    /// Credentials on the frozen list.
    pub e_voters: u64,
    /// Counted ballots.
    pub counted: u64,
    /// Superseded ballots.
    pub superseded: u64,
    /// Challenged ballots.
    pub challenged: u64,
    /// Extended hash.
    pub extended_hash: [u8; 32],
    /// The final tree head's link.
    pub final_head: [u8; 32],
    /// The digest of the record's decryption shares (`None` if one does not decode).
    pub decryption_shares: Option<[u8; 32]>,
}

fn value(lines: &[Value], key: &str) -> Option<u64> {
    lines
        .iter()
        .find(|l| l.get("key").and_then(Value::as_str) == Some(key))
        .and_then(|l| l.get("value"))
        .and_then(Value::as_u64)
}

/// Checks the protocol against the record.
pub fn check(rec: &Value, m: &Manifest, d: &Derived, c: &mut Running) {
    let Some(p) = rec.get("protocol").filter(|p| !p.is_null()) else {
        c.fail("the record has no protocol");
        return;
    };
    if let Err(e) = shape(p) {
        c.fail(e.0);
    }
    let Some(body) = p.get("body") else {
        c.fail("protocol: no body");
        return;
    };
    let empty = Vec::new();
    let general = body.get("general").and_then(Value::as_array).unwrap_or(&empty);
    let hexeq = |k: &str, want: &[u8; 32]| body.get(k).and_then(Value::as_str) == Some(hex::encode(want).as_str());
    c.require(body.get("version").and_then(Value::as_str) == Some("dobush-protocol/2"), || {
        "protocol: unknown version".into()
    });
    c.require(body.get("campaign_id").and_then(Value::as_str) == Some(m.campaign_id.as_str()), || {
        "protocol: another campaign".into()
    });
    c.require(hexeq("extended_hash", &d.extended_hash), || "protocol: drawn up for another election context".into());
    c.require(hexeq("final_head", &d.final_head), || {
        "protocol: not drawn up from the record's final tree head (final_head is not its link)".into()
    });
    c.require(d.decryption_shares.is_some_and(|h| hexeq("decryption_shares", &h)), || {
        "protocol: its decryption_shares is not the digest of the record's decryption shares (a share added, dropped or moved after the members signed)".into()
    });
    for (key, want) in
        [("e_voters", d.e_voters), ("counted", d.counted), ("superseded", d.superseded), ("challenged", d.challenged)]
    {
        c.items(1);
        let got = value(general, key);
        c.require(got == Some(want), || format!("protocol line {key}: says {got:?}, the record gives {want}"));
    }
    let issued = value(general, "issued").unwrap_or(u64::MAX);
    c.require(issued <= d.e_voters && issued >= d.counted, || {
        format!("control relation: line 1 ≥ line 2 ≥ line 3 fails (issued = {issued})")
    });

    let results = rec.get("results").and_then(Value::as_array).unwrap_or(&empty);
    let contests = body.get("contests").and_then(Value::as_array).unwrap_or(&empty);
    c.require(contests.len() == m.contests.len(), || "protocol: one section per contest expected".into());
    for (ci, (cl, contest)) in contests.iter().zip(&m.contests).enumerate() {
        let lines = cl.get("lines").and_then(Value::as_array).unwrap_or(&empty);
        let n = ci + 6;
        c.require(cl.get("contest_id").and_then(Value::as_str) == Some(contest.id.as_str()), || {
            format!("protocol section {n}: contest {:?} expected", contest.id)
        });
        let res = results.iter().find(|r| r.get("contest_id").and_then(Value::as_str) == Some(contest.id.as_str()));
        let counts: Vec<u64> = res
            .and_then(|r| r.get("counts"))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default();
        let ballots = res.and_then(|r| r.get("ballots")).and_then(Value::as_u64).unwrap_or(0);
        let blank_index = contest.options + usize::from(contest.against_all);
        let blank = if contest.blank { counts.get(blank_index).copied().unwrap_or(0) } else { 0 };
        let mut want: Vec<(String, u64)> = vec![
            ("ballots".into(), ballots),
            ("valid".into(), ballots.saturating_sub(blank)),
            ("invalid".into(), blank),
        ];
        for (i, id) in contest.option_ids.iter().enumerate() {
            want.push((format!("option:{id}"), counts.get(i).copied().unwrap_or(0)));
        }
        if contest.against_all {
            want.push(("against_all".into(), counts.get(contest.options).copied().unwrap_or(0)));
        }
        c.require(lines.len() == want.len(), || {
            format!("protocol section {n} ({:?}): {} lines, {} expected", contest.id, lines.len(), want.len())
        });
        for (k, (l, (key, v))) in lines.iter().zip(&want).enumerate() {
            c.items(1);
            let number = format!("{n}.{}", k + 1);
            c.require(l.get("number").and_then(Value::as_str) == Some(number.as_str()), || {
                format!("protocol line {number}: wrong number")
            });
            c.require(l.get("key").and_then(Value::as_str) == Some(key.as_str()), || {
                format!("protocol line {number}: expected {key}")
            });
            let got = l.get("value").and_then(Value::as_u64);
            c.require(got == Some(*v), || {
                format!("protocol line {number} ({key}): says {got:?}, the decrypted result gives {v}")
            });
        }
        // Control relations of the section.
        let (vb, vv, vi) = (
            value(lines, "ballots").unwrap_or(0),
            value(lines, "valid").unwrap_or(0),
            value(lines, "invalid").unwrap_or(0),
        );
        // Checked sums: the values are input, and a wrapped sum could satisfy a relation.
        let marks: Option<u64> = lines
            .iter()
            .filter(|l| {
                l.get("key").and_then(Value::as_str).is_some_and(|k| k.starts_with("option:") || k == "against_all")
            })
            .filter_map(|l| l.get("value").and_then(Value::as_u64))
            .try_fold(0u64, u64::checked_add);
        c.require(vv.checked_add(vi) == Some(vb), || {
            format!("control relation at line {n}.2: valid + invalid = ballots fails")
        });
        c.require(vb <= d.counted, || format!("control relation at line {n}.1: more ballots than counted"));
        c.require(marks.is_some(), || format!("protocol section {n}: the marks' sum does not fit in 64 bits"));
        c.require(contest.max != 1 || marks == Some(vv), || {
            format!("control relation at line {n}.2: valid = Σ options + against all fails")
        });
    }
    // Signatures.
    let mut s = String::new();
    canonical(body, &mut s);
    let mut h = Sha256::new();
    h.update(b"dobush/v1/protocol");
    h.update(s.as_bytes());
    let digest: [u8; 32] = h.finalize().into();
    let sigs = p.get("signatures").and_then(Value::as_array).unwrap_or(&empty);
    c.require(!sigs.is_empty(), || "protocol: not signed".into());
    for (i, sg) in sigs.iter().enumerate() {
        c.items(1);
        let member = sg.get("member").and_then(Value::as_str).unwrap_or("?");
        let ok = (|| {
            let pk: [u8; 32] = crate::encoding::hex_n(sg.get("public_key")?, "public key").ok()?;
            let sig: [u8; 64] = crate::encoding::hex_n(sg.get("signature")?, "signature").ok()?;
            VerifyingKey::from_bytes(&pk).ok()?.verify_strict(&digest, &Signature::from_bytes(&sig)).ok()
        })();
        c.require(ok.is_some(), || format!("protocol signature {i} ({member}): invalid"));
    }
}
