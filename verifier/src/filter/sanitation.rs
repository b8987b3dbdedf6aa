//! Rounds 2–4, sanitation (`13-revoting.md` §7.3), from the text of the specification: the
//! coordinator's claims (board indices with claimed plaintexts), the check that every claim is
//! malformed, and one conjunctive plaintext-equivalence test per named entry (SN-0, SN-1),
//! whose blinding under fresh keys (round 3) and decryption (round 4) must give the identity.
//!
//! A row is malformed if its X is no surviving credential of the style or its V is not TB(X);
//! a replacement is malformed if its `old_tbase` encrypts no TB(X) of a credential listed or
//! replaced-in, by a replacement not malformed, before it. Entries not named are taken to be
//! well-formed: if one is not, a later round finds a row out of its chain and refuses the run.

use std::collections::{HashMap, HashSet};

use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{Identity, IsIdentity};
use serde_json::Value;

use super::inputs::StyleInputs;
use crate::ballot_v2::tag_base;
use crate::encoding::{Point, hex_n};
use crate::shuffle::Ciphertext;
use crate::transcript;

/// A named entry's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A `ballot`.
    Ballot,
    /// An `override`.
    Override,
    /// A `credential_replaced`.
    Replacement,
}

/// An entry named malformed, with its plaintexts as claimed and shown by the tests (reported).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed {
    /// Board index.
    pub index: u64,
    /// Kind.
    pub kind: Kind,
    /// A row's X; `None` for a replacement.
    pub credential: Option<RistrettoPoint>,
    /// A row's V, or a replacement's old tag base.
    pub tag_base: RistrettoPoint,
}

/// A named entry with its ciphertexts (a row's `cred`, `tbase`; a replacement's `old_tbase`)
/// and the plaintext claimed for each.
pub struct Named {
    /// Board index.
    pub index: u64,
    /// Kind.
    pub kind: Kind,
    /// Ciphertexts, X before V.
    pub cts: Vec<Ciphertext>,
    /// The claimed plaintexts, one per ciphertext.
    pub claims: Vec<RistrettoPoint>,
}

/// A claimed plaintext: 32 bytes of lowercase hex, a canonical encoding (the identity is
/// allowed: a caster may have encrypted anything).
fn claimed_point(v: &Value, what: &str) -> Result<RistrettoPoint, String> {
    let bytes = hex_n::<32>(v, what).map_err(|e| e.0)?;
    CompressedRistretto(bytes).decompress().ok_or_else(|| format!("{what}: not a canonical Ristretto255 encoding"))
}

/// Round 2's `malformed`: the claims resolved to the style's entries, strictly ascending, each
/// exactly one entry, a row's with `credential` and `tag_base`, a replacement's with
/// `credential` null. On failure, the location and the reason.
pub fn resolve(s: &StyleInputs, claims: &[Value]) -> Result<Vec<Named>, (String, String)> {
    let mut entries: HashMap<u64, Vec<(Kind, Vec<Ciphertext>)>> = HashMap::new();
    for b in &s.ballots {
        entries.entry(b.index).or_default().push((Kind::Ballot, vec![b.cred, b.tbase]));
    }
    for o in &s.overrides {
        entries.entry(o.index).or_default().push((Kind::Override, vec![o.cred, o.tbase]));
    }
    for r in &s.replacements {
        entries.entry(r.index).or_default().push((Kind::Replacement, vec![r.old_tbase]));
    }
    let mut out: Vec<Named> = Vec::new();
    for (i, c) in claims.iter().enumerate() {
        let index = c
            .get("index")
            .and_then(Value::as_u64)
            .ok_or_else(|| (format!("claim {i}"), "no board index".to_string()))?;
        let at = format!("named entry {index}");
        let keys: Vec<&str> = c.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
        if keys.len() != 3 || !["index", "credential", "tag_base"].iter().all(|k| keys.contains(k)) {
            return Err((at, "a claim has exactly index, credential and tag_base".into()));
        }
        if out.last().is_some_and(|p| p.index >= index) {
            return Err((at, "indices must ascend strictly".into()));
        }
        let (kind, cts) = match entries.remove(&index).as_deref() {
            Some([(kind, cts)]) => (*kind, cts.clone()),
            Some([]) | None => return Err((at, "not a ballot, override or replacement of the style".into())),
            Some(_) => return Err((at, "names two entries".into())),
        };
        let tb = claimed_point(&c["tag_base"], "tag_base").map_err(|e| (at.clone(), e))?;
        let claims = match (kind, &c["credential"]) {
            (Kind::Replacement, Value::Null) => vec![tb],
            (Kind::Replacement, _) => return Err((at, "a replacement's claim has no credential".into())),
            (_, Value::Null) => return Err((at, "a row's claim needs its credential".into())),
            (_, x) => vec![claimed_point(x, "credential").map_err(|e| (at.clone(), e))?, tb],
        };
        out.push(Named { index, kind, cts, claims });
    }
    Ok(out)
}

/// SN-0: one weight per named entry (a replacement's is unused), from the transcript
/// `new("sanitize-weights")` of the context, run, style and every claim.
pub fn weights(context: &[u8; 32], run: u64, style: &str, named: &[Named]) -> Vec<Scalar> {
    let mut t = transcript::new(b"sanitize-weights");
    t.append_message(b"context", context);
    t.append_u64(b"run", run);
    t.append_message(b"style", style.as_bytes());
    t.append_u64(b"count", named.len() as u64);
    for n in named {
        t.append_u64(b"index", n.index);
        let (x, v) = match n.claims.as_slice() {
            [x, v] => (x.compress().to_bytes().to_vec(), v.compress().to_bytes().to_vec()),
            [v] => (Vec::new(), v.compress().to_bytes().to_vec()),
            _ => (Vec::new(), Vec::new()),
        };
        t.append_message(b"credential", &x);
        t.append_message(b"tag-base", &v);
    }
    named.iter().map(|n| if n.cts.len() == 2 { transcript::challenge(&mut t, b"w") } else { Scalar::ZERO }).collect()
}

/// SN-1: each named entry's test ciphertext `Σ_k w_k·(ct_k.α, ct_k.β − claim_k)` (w_0 = 1,
/// w_1 = w); one whose α or β is the identity is refused at the entry.
pub fn tests(named: &[Named], w: &[Scalar]) -> Result<Vec<(RistrettoPoint, RistrettoPoint)>, (String, String)> {
    let mut out = Vec::new();
    for (n, w) in named.iter().zip(w) {
        let (mut a, mut b) = (RistrettoPoint::identity(), RistrettoPoint::identity());
        for (k, (ct, x)) in n.cts.iter().zip(&n.claims).enumerate() {
            let weight = if k == 0 { Scalar::ONE } else { *w };
            a += weight * ct.0.p;
            b += weight * (ct.1.p - x);
        }
        if a.is_identity() || b.is_identity() {
            return Err((format!("named entry {}", n.index), "the claim gives a test of the identity".into()));
        }
        out.push((a, b));
    }
    Ok(out)
}

/// The named entry of the i-th test.
pub fn entry_of_test(named: &[Named], i: usize) -> String {
    named.get(i).map_or_else(|| "sanitation".into(), |n| format!("named entry {}", n.index))
}

/// Checks every claim is malformed; returns the entries in board order, or the first
/// well-formed claim's location.
pub fn judge(s: &StyleInputs, named: &[Named]) -> Result<Vec<Malformed>, (String, String)> {
    let by_index: HashMap<u64, &Named> = named.iter().map(|n| (n.index, n)).collect();
    // X → TB(X) of the surviving credentials, and every surviving TB, in board order.
    let mut tb_of: HashMap<[u8; 32], [u8; 32]> = HashMap::new();
    let mut known: HashSet<[u8; 32]> = HashSet::new();
    for x in &s.list {
        admit(&s.base_hash, x, &mut tb_of, &mut known);
    }
    let mut out = Vec::new();
    for r in &s.replacements {
        match by_index.get(&r.index) {
            None => admit(&s.base_hash, &r.new, &mut tb_of, &mut known),
            Some(n) => {
                let tb = n.claims.first().copied().unwrap_or_default();
                if known.contains(&tb.compress().to_bytes()) {
                    return Err((format!("named entry {}", r.index), "the claim is a well-formed replacement".into()));
                }
                out.push(Malformed { index: r.index, kind: Kind::Replacement, credential: None, tag_base: tb });
            }
        }
    }
    for n in named.iter().filter(|n| n.kind != Kind::Replacement) {
        let (Some(x), Some(v)) = (n.claims.first(), n.claims.get(1)) else {
            return Err((format!("named entry {}", n.index), "no claimed plaintexts".into()));
        };
        if tb_of.get(&x.compress().to_bytes()) == Some(&v.compress().to_bytes()) {
            return Err((format!("named entry {}", n.index), "the claim is a well-formed row".into()));
        }
        out.push(Malformed { index: n.index, kind: n.kind, credential: Some(*x), tag_base: *v });
    }
    out.sort_by_key(|m| m.index);
    Ok(out)
}

fn admit(base_hash: &[u8; 32], x: &Point, tb_of: &mut HashMap<[u8; 32], [u8; 32]>, known: &mut HashSet<[u8; 32]>) {
    let tb = tag_base(base_hash, x).compress().to_bytes();
    tb_of.insert(x.bytes, tb);
    known.insert(tb);
}

/// The inputs without the dropped entries (M_s is still counted before sanitation, §5).
pub fn without(s: &StyleInputs, dropped: &HashSet<u64>) -> StyleInputs {
    let mut out = s.clone();
    out.ballots.retain(|b| !dropped.contains(&b.index));
    out.overrides.retain(|o| !dropped.contains(&o.index));
    out.replacements.retain(|r| !dropped.contains(&r.index));
    out
}
