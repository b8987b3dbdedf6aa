//! The assembled v2 ballot, re-implemented from `docs/protocol/13-revoting.md` §3.7: the JSON
//! form, T_ballot and the body hash with `cred.α, cred.β, tbase.α, tbase.β` at the credential's
//! position, the contests exactly as a v1 ballot's (`crate::ballot`), the extended
//! reused-randomness rule, the credential proof CR-1 … CR-3 on the body hash and the v2 tracking
//! code (§3.2).

use serde_json::Value;

use super::{
    CredentialProof, EncryptedCredential, ciphertext, credential_proof, parse_credential_proof, tracking_code,
};
use crate::ballot::{ContestPart, Election, Header, Voter, body_hash_of, check_contests, parse_contests};
use crate::encoding::{Decoded, exact, field, hex_n, string};
use crate::sigma::Equations;

/// The fields of a v2 ballot (§3.7); any other is refused. Its contests have the fields of
/// `crate::ballot::fields`, its credential proof those of `super::fields::CREDENTIAL_PROOF`.
pub const FIELDS: &[&str] = &["ballot_id", "style", "cred", "tbase", "contests", "credential_proof"];

/// A parsed v2 ballot.
pub struct BallotV2 {
    /// 16-byte id.
    pub id: [u8; 16],
    /// Style id.
    pub style: String,
    /// `cred` and `tbase`.
    pub enc: EncryptedCredential,
    /// The contests, in ballot order.
    pub contests: Vec<ContestPart>,
    /// The credential proof.
    pub proof: CredentialProof,
}

/// Parses a v2 ballot strictly: exactly the fields of §3.7 at every level, points E1, scalars
/// E2, lowercase hex.
pub fn parse(v: &Value) -> Decoded<BallotV2> {
    let what = "v2 ballot";
    exact(v, FIELDS, what)?;
    let id = hex_n::<16>(field(v, "ballot_id", what)?, "ballot_id")?;
    let style = string(v, "style", what)?;
    let enc = EncryptedCredential {
        cred: ciphertext(field(v, "cred", what)?, "cred")?,
        tbase: ciphertext(field(v, "tbase", what)?, "tbase")?,
    };
    let contests = parse_contests(v)?;
    let proof = parse_credential_proof(field(v, "credential_proof", what)?, "credential_proof")?;
    Ok(BallotV2 { id, style, enc, contests, proof })
}

fn header(b: &BallotV2) -> Header<'_> {
    Header { id: &b.id, style: &b.style, voter: Voter::Encrypted(&b.enc) }
}

/// The v2 body hash (§3.7).
pub fn body_hash(e: &Election, b: &BallotV2) -> [u8; 32] {
    body_hash_of(e, &header(b), &b.contests)
}

/// Checks one v2 ballot (§3.7 Verification), adding its equations to `eqs`. Returns its
/// tracking code, or the first problem found.
pub fn check(e: &Election, b: &BallotV2, eqs: &mut Equations) -> Result<[u8; 32], String> {
    let more = [b.enc.cred.alpha.bytes, b.enc.tbase.alpha.bytes];
    check_contests(e, &header(b), &b.contests, &more, eqs)?;
    let body = body_hash(e, b);
    if !credential_proof(&e.extended_hash, &body, &e.joint_key.p, &b.enc, &b.proof, eqs) {
        return Err("credential proof fails".into());
    }
    Ok(tracking_code(&body, &b.proof))
}

/// Verifies one v2 ballot completely: batched, and on failure again equation by equation so
/// that a structural error is named.
pub fn verify(e: &Election, b: &BallotV2) -> Result<[u8; 32], String> {
    let mut eqs = Equations::batched();
    let code = check(e, b, &mut eqs)?;
    if eqs.check() { Ok(code) } else { Err("a proof equation fails".into()) }
}

#[cfg(test)]
mod tests {
    //! Against `vectors/ballots-v2.json`, which `dobush-crypto` wrote (`gen_vectors`).

    use super::*;
    use crate::encoding::point;
    use crate::manifest;

    fn vector() -> Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../vectors/ballots-v2.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn election(v: &Value) -> Election {
        let info = &v["election"];
        Election {
            manifest: manifest::parse(&info["manifest"]).unwrap(),
            joint_key: point(&info["joint_key"], "joint_key").unwrap(),
            extended_hash: hex_n::<32>(&info["extended_hash"], "extended_hash").unwrap(),
        }
    }

    /// Ballot 0 changed by a vector entry's `patches`: `value` set at the JSON `pointer` (an
    /// object member added if missing), or the member removed when there is no `value`.
    fn patched(v: &Value, entry: &Value) -> Value {
        let mut out = v["ballots"][0]["ballot"].clone();
        for p in entry["patches"].as_array().unwrap() {
            let (parent, last) = p["pointer"].as_str().unwrap().rsplit_once('/').unwrap();
            match (out.pointer_mut(parent).unwrap(), p.get("value")) {
                (Value::Object(m), Some(x)) => drop(m.insert(last.into(), x.clone())),
                (Value::Object(m), None) => drop(m.remove(last).unwrap()),
                (Value::Array(a), Some(x)) => a[last.parse::<usize>().unwrap()] = x.clone(),
                _ => panic!("bad patch {p}"),
            }
        }
        out
    }

    fn verify_direct(e: &Election, b: &BallotV2) -> Result<[u8; 32], String> {
        let mut eqs = Equations::direct();
        let code = check(e, b, &mut eqs)?;
        if eqs.check() { Ok(code) } else { Err("a proof equation fails".into()) }
    }

    #[test]
    fn crypto_s_ballots_verify_with_the_same_body_hash_and_tracking_code() {
        let v = vector();
        let e = election(&v);
        let ballots = v["ballots"].as_array().unwrap();
        assert!(ballots.len() >= 3);
        for case in ballots {
            let b = parse(&case["ballot"]).unwrap();
            assert_eq!(hex::encode(body_hash(&e, &b)), case["body_hash"].as_str().unwrap());
            let code = verify(&e, &b).unwrap();
            assert_eq!(hex::encode(code), case["tracking_code"].as_str().unwrap());
            assert_eq!(verify_direct(&e, &b).unwrap(), code);
        }
    }

    #[test]
    fn every_forged_ballot_is_refused() {
        let v = vector();
        let e = election(&v);
        let forged = v["forged"].as_array().unwrap();
        assert!(forged.len() > 40);
        for f in forged {
            let what = f["change"].as_str().unwrap();
            let b = parse(&patched(&v, f)).unwrap_or_else(|err| panic!("{what}: parses ({err:?})"));
            assert!(verify(&e, &b).is_err(), "{what}");
            assert!(verify_direct(&e, &b).is_err(), "{what}");
            if f["refused_before_any_proof"] == true {
                let err = check(&e, &b, &mut Equations::batched()).err().unwrap_or_default();
                assert!(err.contains("first component"), "{what}: {err}");
            }
        }
    }

    #[test]
    fn unknown_fields_and_non_canonical_encodings_are_refused() {
        let v = vector();
        let refused = v["refused_encodings"].as_array().unwrap();
        assert!(!refused.is_empty());
        for r in refused {
            assert!(parse(&patched(&v, r)).is_err(), "{}", r["change"]);
        }
        // A v1 ballot is not a v2 ballot, nor the other way round.
        let honest = &v["ballots"][0]["ballot"];
        assert!(crate::ballot::parse(honest).is_err());
        let mut v1ish = honest.clone();
        v1ish["signature"] = serde_json::json!({"r": honest["cred"]["alpha"], "s": honest["credential_proof"]["zx"]});
        assert!(parse(&v1ish).is_err());
    }
}
