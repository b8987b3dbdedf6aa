//! The v2 board's credential entries, re-implemented from `docs/protocol/13-revoting.md` §4.2,
//! §4.3 and `docs/protocol/10-board.md` §Credential list signatures alone: the
//! `credential_list_v2` entry (its canonical form and the digest the commission signs) and the
//! `credential_replaced_v2` entry (its fields, the replacement digest and the proof of knowledge
//! of old_tbase's nonce). Pure functions for the checks that read a v2 record; no check calls
//! them yet.

use std::collections::HashSet;

use curve25519_dalek::scalar::Scalar;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Ciphertext, ciphertext};
use crate::encoding::{Decoded, Invalid, Point, array, exact, field, hex_n, point, scalar, string, uint};
use crate::sigma::Equations;
use crate::transcript::{challenge, new};

/// The fields of the v2 credential entries; any other is refused.
pub mod fields {
    /// `credential_list_v2`.
    pub const LIST: &[&str] = &["type", "credentials", "count", "revoked_count"];
    /// An item of the v2 list.
    pub const LIST_ITEM: &[&str] = &["credential", "style", "pin_commitment", "stations"];
    /// `credential_replaced_v2`.
    pub const REPLACEMENT: &[&str] =
        &["type", "style", "new", "new_pin_commitment", "old_tbase", "proof", "decision", "signatures"];
    /// The proof of knowledge of old_tbase's nonce.
    pub const PROOF: &[&str] = &["a", "z"];
}

/// The digest the commission signs for a v2 list: `SHA-256("dobush/v2/credential-list" ‖
/// u64be(len id) ‖ id ‖ line)`, `line` the exact bytes of the `credential_list_v2` entry.
pub fn list_digest(campaign_id: &str, line: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"dobush/v2/credential-list");
    h.update((campaign_id.len() as u64).to_be_bytes());
    h.update(campaign_id.as_bytes());
    h.update(line);
    h.finalize().into()
}

/// An item of the v2 list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListItem {
    /// X.
    pub credential: Point,
    /// The ballot style.
    pub style: String,
    /// The PIN commitment.
    pub pin_commitment: [u8; 32],
    /// The override stations, strictly increasing.
    pub stations: Vec<String>,
}

/// A parsed `credential_list_v2` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListV2 {
    /// The items, strictly increasing by encoding, pin commitments distinct.
    pub credentials: Vec<ListItem>,
    /// How many credentials were revoked before the freeze.
    pub revoked_count: u64,
}

/// Parses a `credential_list_v2` entry strictly and checks its canonical form (§4.2): exactly
/// its fields, `count` the number of items, the credentials strictly increasing by their 32-byte
/// encoding, no PIN commitment twice, each item's stations strictly increasing.
pub fn parse_list(v: &Value) -> Decoded<ListV2> {
    let what = "credential_list_v2";
    exact(v, fields::LIST, what)?;
    if string(v, "type", what)? != "credential_list_v2" {
        return Err(Invalid(format!("{what}: type is not credential_list_v2")));
    }
    let items = array(v, "credentials", what)?;
    let count = uint(v, "count", what)?;
    let revoked_count = uint(v, "revoked_count", what)?;
    if count != items.len() as u64 {
        return Err(Invalid(format!("{what}: count {count}, but {} items", items.len())));
    }
    let mut credentials: Vec<ListItem> = Vec::with_capacity(items.len());
    let mut pcs = HashSet::new();
    for (i, it) in items.iter().enumerate() {
        let w = format!("{what}: item {i}");
        exact(it, fields::LIST_ITEM, &w)?;
        let credential = point(field(it, "credential", &w)?, &format!("{w}.credential"))?;
        let pin_commitment = hex_n::<32>(field(it, "pin_commitment", &w)?, &format!("{w}.pin_commitment"))?;
        let mut stations = Vec::new();
        for (j, s) in array(it, "stations", &w)?.iter().enumerate() {
            let Some(s) = s.as_str() else { return Err(Invalid(format!("{w}: station {j} is not a string"))) };
            stations.push(s.to_string());
        }
        if stations.windows(2).any(|p| p[0] >= p[1]) {
            return Err(Invalid(format!("{w}: the stations are not strictly sorted")));
        }
        if credentials.last().is_some_and(|prev| prev.credential.bytes >= credential.bytes) {
            return Err(Invalid(format!("{w}: the credentials are not strictly sorted by encoding")));
        }
        if !pcs.insert(pin_commitment) {
            return Err(Invalid(format!("{w}: the PIN commitment of an earlier item")));
        }
        credentials.push(ListItem { credential, style: string(it, "style", &w)?, pin_commitment, stations });
    }
    Ok(ListV2 { credentials, revoked_count })
}

/// The proof of knowledge of old_tbase's nonce `{a, z}` (§4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NonceProof {
    /// A = a·G.
    pub a: Point,
    /// z.
    pub z: Scalar,
}

/// A parsed `credential_replaced_v2` entry; the signatures are left as they are (member
/// signatures over [`replacement_digest`], checked as the v1 replacement's are).
#[derive(Clone, Debug, PartialEq)]
pub struct ReplacementV2 {
    /// The ballot style.
    pub style: String,
    /// X_new in the clear.
    pub new: Point,
    /// X_new's PIN commitment.
    pub new_pin_commitment: [u8; 32],
    /// `Enc_K(TB(X_old))`.
    pub old_tbase: Ciphertext,
    /// The nonce proof.
    pub proof: NonceProof,
    /// The commission's decision.
    pub decision: String,
    /// The members' signatures, as in the entry.
    pub signatures: Value,
}

/// Parses a `credential_replaced_v2` entry strictly (E1 points, E2 scalars, exactly its fields).
pub fn parse_replacement(v: &Value) -> Decoded<ReplacementV2> {
    let what = "credential_replaced_v2";
    exact(v, fields::REPLACEMENT, what)?;
    if string(v, "type", what)? != "credential_replaced_v2" {
        return Err(Invalid(format!("{what}: type is not credential_replaced_v2")));
    }
    let p = field(v, "proof", what)?;
    exact(p, fields::PROOF, &format!("{what}.proof"))?;
    let proof = NonceProof {
        a: point(field(p, "a", what)?, &format!("{what}.proof.a"))?,
        z: scalar(field(p, "z", what)?, &format!("{what}.proof.z"))?,
    };
    let signatures = field(v, "signatures", what)?;
    if !signatures.is_array() {
        return Err(Invalid(format!("{what}: signatures is not an array")));
    }
    Ok(ReplacementV2 {
        style: string(v, "style", what)?,
        new: point(field(v, "new", what)?, &format!("{what}.new"))?,
        new_pin_commitment: hex_n::<32>(field(v, "new_pin_commitment", what)?, &format!("{what}.new_pin_commitment"))?,
        old_tbase: ciphertext(field(v, "old_tbase", what)?, &format!("{what}.old_tbase"))?,
        proof,
        decision: string(v, "decision", what)?,
        signatures: signatures.clone(),
    })
}

/// The replacement digest (§4.3): `SHA-256("dobush/v2/credential-replacement" ‖ u64be(len id) ‖
/// id ‖ u64be(len style) ‖ style ‖ enc(new) ‖ new_pin_commitment ‖ enc(old_tbase.α) ‖
/// enc(old_tbase.β) ‖ u64be(len decision) ‖ decision)`.
pub fn replacement_digest(campaign_id: &str, r: &ReplacementV2) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"dobush/v2/credential-replacement");
    h.update((campaign_id.len() as u64).to_be_bytes());
    h.update(campaign_id.as_bytes());
    h.update((r.style.len() as u64).to_be_bytes());
    h.update(r.style.as_bytes());
    h.update(r.new.bytes);
    h.update(r.new_pin_commitment);
    h.update(r.old_tbase.alpha.bytes);
    h.update(r.old_tbase.beta.bytes);
    h.update((r.decision.len() as u64).to_be_bytes());
    h.update(r.decision.as_bytes());
    h.finalize().into()
}

/// Checks the proof of knowledge of old_tbase's nonce (§4.2): `new("entry-nonce")`,
/// `msg("context", extended hash)`, `msg("digest", digest)`, `point("alpha", old_tbase.α)`,
/// `point("A", A)`, c = `challenge("c")`; then z·G = A + c·old_tbase.α.
pub fn nonce_proof(
    extended_hash: &[u8; 32],
    digest: &[u8; 32],
    old_tbase: &Ciphertext,
    p: &NonceProof,
) -> Result<(), String> {
    let mut t = new(b"entry-nonce");
    t.append_message(b"context", extended_hash);
    t.append_message(b"digest", digest);
    t.append_message(b"alpha", &old_tbase.alpha.bytes);
    t.append_message(b"A", &p.a.bytes);
    let c = challenge(&mut t, b"c");
    let mut eqs = Equations::direct();
    // z·G − A − c·α = 0
    if eqs.add(p.z, Scalar::ZERO, &[(-Scalar::ONE, p.a.p), (-c, old_tbase.alpha.p)]) && eqs.check() {
        Ok(())
    } else {
        Err("credential_replaced_v2: the proof of knowledge of old_tbase's nonce fails".into())
    }
}

/// [`replacement_digest`] and [`nonce_proof`] of a parsed entry: the digest its signatures must
/// be over, or why its proof fails.
pub fn check_replacement(extended_hash: &[u8; 32], campaign_id: &str, r: &ReplacementV2) -> Result<[u8; 32], String> {
    let digest = replacement_digest(campaign_id, r);
    nonce_proof(extended_hash, &digest, &r.old_tbase, &r.proof)?;
    Ok(digest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT as G;
    use serde_json::json;

    fn hexp(p: &curve25519_dalek::ristretto::RistrettoPoint) -> String {
        hex::encode(p.compress().to_bytes())
    }

    fn s(n: u64) -> Scalar {
        Scalar::from(n)
    }

    /// An entry with old_tbase = (r·G, β) and an honest proof for campaign `c1` (made here by
    /// the spec's equations, with a fixed commitment nonce).
    fn entry(ext: &[u8; 32], r: Scalar) -> Value {
        let mut v = json!({
            "type": "credential_replaced_v2", "style": "main", "new": hexp(&(s(5) * G)),
            "new_pin_commitment": "11".repeat(32),
            "old_tbase": {"alpha": hexp(&(r * G)), "beta": hexp(&(s(9) * G))},
            "proof": {"a": hexp(&G), "z": hex::encode(Scalar::ONE.as_bytes())},
            "decision": "TEC 12/3", "signatures": [],
        });
        let parsed = parse_replacement(&v).unwrap();
        let digest = replacement_digest("c1", &parsed);
        let a = s(77);
        let mut t = new(b"entry-nonce");
        t.append_message(b"context", ext);
        t.append_message(b"digest", &digest);
        t.append_message(b"alpha", &parsed.old_tbase.alpha.bytes);
        t.append_message(b"A", &(a * G).compress().to_bytes());
        let c = challenge(&mut t, b"c");
        v["proof"] = json!({"a": hexp(&(a * G)), "z": hex::encode((a + c * r).as_bytes())});
        v
    }

    #[test]
    fn an_honest_replacement_passes_and_every_changed_field_or_forged_proof_fails() {
        let ext = [3u8; 32];
        let v = entry(&ext, s(1234));
        let r = parse_replacement(&v).unwrap();
        let digest = check_replacement(&ext, "c1", &r).unwrap();
        // the digest is the spec's bytes
        let mut input = b"dobush/v2/credential-replacement".to_vec();
        input.extend_from_slice(&2u64.to_be_bytes());
        input.extend_from_slice(b"c1");
        input.extend_from_slice(&4u64.to_be_bytes());
        input.extend_from_slice(b"main");
        input.extend_from_slice(&(s(5) * G).compress().to_bytes());
        input.extend_from_slice(&[0x11; 32]);
        input.extend_from_slice(&(s(1234) * G).compress().to_bytes());
        input.extend_from_slice(&(s(9) * G).compress().to_bytes());
        input.extend_from_slice(&8u64.to_be_bytes());
        input.extend_from_slice(b"TEC 12/3");
        assert_eq!(digest, <[u8; 32]>::from(Sha256::digest(&input)));
        // another campaign, election, or any field changed: the proof (bound to the digest) fails
        assert!(check_replacement(&ext, "c2", &r).is_err());
        assert!(check_replacement(&[4; 32], "c1", &r).is_err());
        for (ptr, val) in [
            ("/style", json!("other")),
            ("/new", json!(hexp(&(s(6) * G)))),
            ("/new_pin_commitment", json!("12".repeat(32))),
            ("/old_tbase/beta", json!(hexp(&(s(10) * G)))),
            ("/old_tbase/alpha", json!(hexp(&(s(1235) * G)))),
            ("/decision", json!("TEC 12/4")),
            ("/proof/z", json!(hex::encode(s(1).as_bytes()))),
            ("/proof/a", json!(hexp(&(s(78) * G)))),
        ] {
            let mut m = v.clone();
            *m.pointer_mut(ptr).unwrap() = val;
            let p = parse_replacement(&m).unwrap();
            assert!(check_replacement(&ext, "c1", &p).is_err(), "{ptr}");
        }
        // a forger without r who picks z and A = z·G: c is drawn after A, so it fails
        let mut forged = v.clone();
        forged["proof"] = json!({"a": hexp(&(s(55) * G)), "z": hex::encode(s(55).as_bytes())});
        assert!(check_replacement(&ext, "c1", &parse_replacement(&forged).unwrap()).is_err());
        // strict parsing: an unknown field, v1's `old`, the identity, a non-canonical scalar
        let mut extra = v.clone();
        extra["old"] = json!(hexp(&G));
        assert!(parse_replacement(&extra).is_err());
        let mut ident = v.clone();
        ident["proof"]["a"] = json!("00".repeat(32));
        assert!(parse_replacement(&ident).is_err());
        let mut big = v.clone();
        big["proof"]["z"] = json!("ff".repeat(32));
        assert!(parse_replacement(&big).is_err());
        let mut v1 = v.clone();
        v1["type"] = json!("credential_replaced");
        assert!(parse_replacement(&v1).is_err());
    }

    #[test]
    fn the_v2_list_is_canonical_and_its_digest_is_the_specified_hash() {
        let mut keys: Vec<String> = (1..=3u64).map(|i| hexp(&(s(i) * G))).collect();
        keys.sort();
        let item = |k: &str, pc: &str| json!({"credential": k, "style": "main", "pin_commitment": pc, "stations": []});
        let list = json!({
            "type": "credential_list_v2",
            "credentials": [item(&keys[0], &"01".repeat(32)), item(&keys[1], &"02".repeat(32)), item(&keys[2], &"03".repeat(32))],
            "count": 3, "revoked_count": 2,
        });
        let parsed = parse_list(&list).unwrap();
        assert_eq!((parsed.credentials.len(), parsed.revoked_count), (3, 2));
        let line = serde_json::to_vec(&list).unwrap();
        let mut input = b"dobush/v2/credential-list".to_vec();
        input.extend_from_slice(&2u64.to_be_bytes());
        input.extend_from_slice(b"c1");
        input.extend_from_slice(&line);
        assert_eq!(list_digest("c1", &line), <[u8; 32]>::from(Sha256::digest(&input)));
        assert_ne!(list_digest("c2", &line), list_digest("c1", &line));
        for (ptr, val) in [
            ("/count", json!(2)),
            ("/credentials/1/pin_commitment", json!("01".repeat(32))),
            ("/credentials/1/credential", json!(keys[0])),
            ("/credentials/0/stations", json!(["s2", "s1"])),
            ("/credentials/0/stations", json!(["s1", "s1"])),
            ("/revoked_count", json!(-1)),
            ("/type", json!("credential_list")),
        ] {
            let mut m = list.clone();
            *m.pointer_mut(ptr).unwrap() = val;
            assert!(parse_list(&m).is_err(), "{ptr}");
        }
        let mut revoked = list.clone();
        revoked["revoked"] = json!([]);
        assert!(parse_list(&revoked).is_err(), "v1's revoked list");
        let mut ok = list.clone();
        ok["credentials"][0]["stations"] = json!(["s1", "s2"]);
        assert!(parse_list(&ok).is_ok());
    }

    /// Against `vectors/board-v2.json`, which `dobush-crypto` wrote (`gen_vectors`): the same
    /// list digests (v1 and v2 labels), replacement digest and an accepted nonce proof.
    #[test]
    fn the_crypto_vector_gives_the_same_digests_and_an_accepted_proof() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../vectors/board-v2.json");
        let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let id = v["campaign_id"].as_str().unwrap();
        let line = v["list_v2"]["entry"].as_str().unwrap();
        let list = parse_list(&serde_json::from_str(line).unwrap()).unwrap();
        assert_eq!((list.credentials.len(), list.revoked_count), (3, 1));
        assert_eq!(hex::encode(list_digest(id, line.as_bytes())), v["list_v2"]["digest"].as_str().unwrap());
        let ext = hex_n::<32>(&v["extended_hash"], "extended_hash").unwrap();
        let r =
            parse_replacement(&serde_json::from_str(v["replacement_v2"]["entry"].as_str().unwrap()).unwrap()).unwrap();
        let digest = check_replacement(&ext, id, &r).unwrap();
        assert_eq!(hex::encode(digest), v["replacement_v2"]["digest"].as_str().unwrap());
        // old_tbase is Enc_K(TB(X_old); r) with the vector's nonce (what a member's tool checks)
        let base = hex_n::<32>(&v["base_hash"], "base_hash").unwrap();
        let k = point(&v["joint_key"], "joint_key").unwrap().p;
        let old = point(&v["replacement_v2"]["old"], "old").unwrap();
        let nonce = scalar(&v["replacement_v2"]["nonce"], "nonce").unwrap();
        assert_eq!(r.old_tbase.alpha.p, nonce * G);
        assert_eq!(r.old_tbase.beta.p, super::super::tag_base(&base, &old) + nonce * k);
        assert!(check_replacement(&[0; 32], id, &r).is_err());
    }
}
