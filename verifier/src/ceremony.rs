//! The key ceremony (`06-dkg.md`): the published transcript of signed messages is decoded
//! strictly, every signature and proof is checked, every complaint adjudicated, the qualified
//! set `Q` determined, and the joint key and every verification key recomputed (§Verifier
//! checklist).
//!
//! A dealer disqualified by the rules of §Disqualification and an unfounded complaint are the
//! ceremony working as designed: they are reported as notes, not failures. A transcript that
//! breaks the rules of §Transcript (bad signature, bad index, duplicates), too few qualified
//! dealers, or a joint key that is not the package's are failures of the record.

use std::collections::{BTreeMap, HashSet};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT as G;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{Identity, IsIdentity};
use merlin::Transcript;
use serde_json::Value;

use crate::encoding::{Decoded, Point, array, exact, field, hex_n, point, scalar, uint32};
use crate::load::Context;
use crate::report::Running;
use crate::sigma::{self, Equations};
use crate::transcript;

/// What the ceremony determines (`06-dkg.md` §Result).
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The qualified dealers `Q`, ascending.
    pub qualified: Vec<u64>,
    /// `K = Σ_{i∈Q} K_{i,0}`.
    pub joint_key: RistrettoPoint,
    /// `VK_1 … VK_n` (index `l − 1`).
    pub verification_keys: Vec<RistrettoPoint>,
}

struct Sig {
    r: Point,
    s: Scalar,
}

struct CommitHash {
    dealer: u64,
    hash: [u8; 32],
}

struct Reveal {
    dealer: u64,
    k: Vec<Point>,
    proofs: Vec<(Point, Scalar)>,
}

struct Share {
    dealer: u64,
    recipient: u64,
    e: Point,
    ct: [u8; 48],
    proof: (Point, Scalar),
}

struct Complaint {
    complainer: u64,
    dealer: u64,
    s: Point,
    proof: (Point, Point, Scalar),
}

enum Msg {
    Hash(CommitHash),
    Reveal(Reveal),
    Share(Share),
    Complaint(Complaint),
}

impl Msg {
    fn kind(&self) -> &'static [u8] {
        match self {
            Msg::Hash(_) => b"commitment-hash",
            Msg::Reveal(_) => b"reveal",
            Msg::Share(_) => b"encrypted-share",
            Msg::Complaint(_) => b"complaint",
        }
    }

    fn sender(&self) -> u64 {
        match self {
            Msg::Hash(m) => m.dealer,
            Msg::Reveal(m) => m.dealer,
            Msg::Share(m) => m.dealer,
            Msg::Complaint(m) => m.complainer,
        }
    }

    fn name(&self) -> String {
        match self {
            Msg::Hash(m) => format!("commitment hash of dealer {}", m.dealer),
            Msg::Reveal(m) => format!("reveal of dealer {}", m.dealer),
            Msg::Share(m) => format!("share of dealer {} to key-holder {}", m.dealer, m.recipient),
            Msg::Complaint(m) => format!("complaint of key-holder {} against dealer {}", m.complainer, m.dealer),
        }
    }

    /// The transcript the sender signs (§Signed messages), before the signature's own appends.
    fn transcript(&self, ctx: &[u8; 32]) -> Transcript {
        let mut t = transcript::new(b"dkg-message");
        t.append_message(b"context", ctx);
        t.append_message(b"kind", self.kind());
        t.append_u64(b"sender", self.sender());
        match self {
            Msg::Hash(m) => {
                t.append_u64(b"dealer", m.dealer);
                t.append_message(b"hash", &m.hash);
            }
            Msg::Reveal(m) => {
                t.append_u64(b"dealer", m.dealer);
                t.append_u64(b"count", m.k.len() as u64);
                for k in &m.k {
                    t.append_message(b"K", &k.bytes);
                }
                t.append_u64(b"count", m.proofs.len() as u64);
                for (a, z) in &m.proofs {
                    t.append_message(b"A", &a.bytes);
                    t.append_message(b"z", z.as_bytes());
                }
            }
            Msg::Share(m) => {
                t.append_u64(b"dealer", m.dealer);
                t.append_u64(b"recipient", m.recipient);
                t.append_message(b"E", &m.e.bytes);
                t.append_message(b"ciphertext", &m.ct);
                t.append_message(b"A", &m.proof.0.bytes);
                t.append_message(b"z", m.proof.1.as_bytes());
            }
            Msg::Complaint(m) => {
                t.append_u64(b"complainer", m.complainer);
                t.append_u64(b"dealer", m.dealer);
                t.append_message(b"S", &m.s.bytes);
                t.append_message(b"A", &m.proof.0.bytes);
                t.append_message(b"B", &m.proof.1.bytes);
                t.append_message(b"z", m.proof.2.as_bytes());
            }
        }
        t
    }
}

fn schnorr_proof(v: &Value, what: &str) -> Decoded<(Point, Scalar)> {
    exact(v, &["commitment", "response"], what)?;
    Ok((point(field(v, "commitment", what)?, what)?, scalar(field(v, "response", what)?, what)?))
}

fn parse_signed(v: &Value, list: &str, what: &str) -> Decoded<(Msg, Sig)> {
    exact(v, &["message", "signature"], what)?;
    let s = field(v, "signature", what)?;
    exact(s, &["r", "s"], what)?;
    let sig = Sig { r: point(field(s, "r", what)?, what)?, s: scalar(field(s, "s", what)?, what)? };
    let m = field(v, "message", what)?;
    let msg = match list {
        "commitment_hashes" => {
            exact(m, &["dealer", "hash"], what)?;
            Msg::Hash(CommitHash {
                dealer: uint32(m, "dealer", what)?,
                hash: hex_n::<32>(field(m, "hash", what)?, what)?,
            })
        }
        "reveals" => {
            exact(m, &["dealer", "commitments", "proofs"], what)?;
            Msg::Reveal(Reveal {
                dealer: uint32(m, "dealer", what)?,
                k: array(m, "commitments", what)?.iter().map(|k| point(k, what)).collect::<Decoded<_>>()?,
                proofs: array(m, "proofs", what)?.iter().map(|p| schnorr_proof(p, what)).collect::<Decoded<_>>()?,
            })
        }
        "shares" => {
            exact(m, &["dealer", "recipient", "ephemeral", "ciphertext", "proof"], what)?;
            Msg::Share(Share {
                dealer: uint32(m, "dealer", what)?,
                recipient: uint32(m, "recipient", what)?,
                e: point(field(m, "ephemeral", what)?, what)?,
                ct: hex_n::<48>(field(m, "ciphertext", what)?, what)?,
                proof: schnorr_proof(field(m, "proof", what)?, what)?,
            })
        }
        _ => {
            exact(m, &["complainer", "dealer", "shared_secret", "proof"], what)?;
            let p = field(m, "proof", what)?;
            exact(p, &["a", "b", "response"], what)?;
            Msg::Complaint(Complaint {
                complainer: uint32(m, "complainer", what)?,
                dealer: uint32(m, "dealer", what)?,
                s: point(field(m, "shared_secret", what)?, what)?,
                proof: (
                    point(field(p, "a", what)?, what)?,
                    point(field(p, "b", what)?, what)?,
                    scalar(field(p, "response", what)?, what)?,
                ),
            })
        }
    };
    Ok((msg, sig))
}

/// `h_i` recomputed from a reveal (§Round 1).
fn commitment_hash(ctx: &[u8; 32], t: u64, r: &Reveal) -> [u8; 32] {
    let mut tr = transcript::new(b"dkg-commitment-hash");
    tr.append_message(b"context", ctx);
    tr.append_u64(b"dealer", r.dealer);
    tr.append_u64(b"t", t);
    for k in &r.k {
        tr.append_message(b"K", &k.bytes);
    }
    for (a, z) in &r.proofs {
        tr.append_message(b"A", &a.bytes);
        tr.append_message(b"z", z.as_bytes());
    }
    transcript::hash32(&mut tr, b"commitment-hash")
}

/// Coefficient proof `j` of a reveal (§Coefficient proofs).
fn coefficient_proof(ctx: &[u8; 32], t: u64, r: &Reveal, j: usize, eqs: &mut Equations) -> bool {
    let mut tr = transcript::new(b"dkg-coefficient");
    tr.append_message(b"context", ctx);
    tr.append_u64(b"dealer", r.dealer);
    tr.append_u64(b"t", t);
    for k in &r.k {
        tr.append_message(b"K", &k.bytes);
    }
    tr.append_u64(b"j", j as u64);
    let (a, z) = &r.proofs[j];
    sigma::schnorr_pok(&mut tr, &r.k[j].p, a, z, eqs)
}

/// The proof of knowledge of a share's ephemeral key (§Share encryption, step 4).
fn share_proof(ctx: &[u8; 32], c_l: &Point, s: &Share, eqs: &mut Equations) -> bool {
    let mut tr = transcript::new(b"dkg-share-ephemeral");
    tr.append_message(b"context", ctx);
    tr.append_u64(b"dealer", s.dealer);
    tr.append_u64(b"recipient", s.recipient);
    tr.append_message(b"C", &c_l.bytes);
    tr.append_message(b"E", &s.e.bytes);
    tr.append_message(b"ciphertext", &s.ct);
    sigma::schnorr_pok(&mut tr, &s.e.p, &s.proof.0, &s.proof.1, eqs)
}

/// The complaint's DLEQ proof `log_G C_l = log_E S` (§Complaints).
fn complaint_proof(ctx: &[u8; 32], c_l: &Point, share: &Share, k: &Complaint) -> bool {
    let mut tr = transcript::new(b"dkg-complaint");
    tr.append_message(b"context", ctx);
    tr.append_u64(b"complainer", k.complainer);
    tr.append_u64(b"dealer", k.dealer);
    tr.append_message(b"C", &c_l.bytes);
    tr.append_message(b"E", &share.e.bytes);
    tr.append_message(b"ciphertext", &share.ct);
    tr.append_message(b"S", &k.s.bytes);
    let mut eqs = Equations::direct();
    sigma::dleq(&mut tr, &c_l.p, &share.e.p, &k.s.p, &k.proof.0, &k.proof.1, &k.proof.2, &mut eqs) && eqs.check()
}

/// Opens a share with the revealed shared secret `S` (§Share encryption, steps 2–3): the AEAD
/// plaintext, or `None` if it does not decrypt.
fn open_share(ctx: &[u8; 32], share: &Share, s: &Point) -> Option<Vec<u8>> {
    let mut tr = transcript::new(b"dkg-share-key");
    tr.append_message(b"context", ctx);
    tr.append_u64(b"dealer", share.dealer);
    tr.append_u64(b"recipient", share.recipient);
    tr.append_message(b"E", &share.e.bytes);
    tr.append_message(b"S", &s.bytes);
    let key = transcript::hash32(&mut tr, b"key");
    let mut aad = ctx.to_vec();
    aad.extend_from_slice(&(share.dealer as u32).to_le_bytes());
    aad.extend_from_slice(&(share.recipient as u32).to_le_bytes());
    ChaCha20Poly1305::new(Key::from_slice(&key))
        .decrypt(Nonce::from_slice(&[0u8; 12]), Payload { msg: &share.ct, aad: &aad })
        .ok()
}

/// `Σ_j x^j·K_j`: evaluation of a committed polynomial in the exponent.
fn eval(k: &[RistrettoPoint], x: u64) -> RistrettoPoint {
    let x = Scalar::from(x);
    let mut acc = RistrettoPoint::identity();
    for kj in k.iter().rev() {
        acc = acc * x + kj;
    }
    acc
}

/// Adjudicates a complaint against a dealer whose reveal and share passed (§Complaints, steps
/// 3–5): `Ok(fault)` if the dealer is at fault, `Err(reason)` if the complaint is unfounded.
fn adjudicate(
    ctx: &[u8; 32],
    c_l: &Point,
    reveal: &Reveal,
    share: &Share,
    k: &Complaint,
) -> Result<&'static str, &'static str> {
    if !complaint_proof(ctx, c_l, share, k) {
        return Err("invalid_proof");
    }
    let Some(plain) = open_share(ctx, share, &k.s) else { return Ok("undecryptable_share") };
    let Ok(bytes) = <[u8; 32]>::try_from(plain.as_slice()) else { return Ok("non_canonical_share") };
    let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(bytes)) else { return Ok("non_canonical_share") };
    let ks: Vec<RistrettoPoint> = reveal.k.iter().map(|p| p.p).collect();
    if s * G != eval(&ks, k.complainer) {
        return Ok("share_mismatch");
    }
    Err("share_is_valid")
}

/// Checks the ceremony transcript of the record against the package's key-holders, threshold,
/// base hash and joint key. Returns the outcome when it could be computed (even if it differs
/// from the package, so that decryption shares can still be checked and named).
pub fn check(rec: &Value, ctx: &Context, c: &mut Running) -> Option<Outcome> {
    let base = &ctx.base_hash;
    let n = ctx.key_holders.len() as u64;
    let t = ctx.threshold;
    // §Keys: no point twice among all signing and communication keys.
    let mut seen = HashSet::new();
    for (i, (y, cm)) in ctx.key_holders.iter().enumerate() {
        c.require(seen.insert(y.bytes), || {
            format!("key-holder {}: signing key occurs twice in the key-holder list", i + 1)
        });
        c.require(seen.insert(cm.bytes), || {
            format!("key-holder {}: communication key occurs twice in the key-holder list", i + 1)
        });
    }

    let cer = match field(rec, "ceremony", "record")
        .and_then(|v| exact(v, &["commitment_hashes", "reveals", "shares", "complaints"], "ceremony").map(|_| v))
    {
        Ok(v) => v,
        Err(e) => {
            c.fail(e.0);
            return None;
        }
    };
    // Decode strictly; structural rules; indexes.
    let mut msgs: Vec<(Msg, Sig)> = Vec::new();
    for list in ["commitment_hashes", "reveals", "shares", "complaints"] {
        let items = match array(cer, list, "ceremony") {
            Ok(a) => a,
            Err(e) => {
                c.fail(e.0);
                continue;
            }
        };
        for (k, v) in items.iter().enumerate() {
            c.items(1);
            let what = format!("ceremony {list}[{k}]");
            match parse_signed(v, list, &what) {
                Ok((m, s)) => {
                    let in_range = |x: u64| (1..=n).contains(&x);
                    let bad = match &m {
                        Msg::Hash(h) => (!in_range(h.dealer)).then(|| "dealer index outside 1..=n".to_owned()),
                        Msg::Reveal(r) => {
                            if !in_range(r.dealer) {
                                Some("dealer index outside 1..=n".into())
                            } else if r.k.len() as u64 != t || r.proofs.len() as u64 != t {
                                Some(format!(
                                    "{} commitments and {} proofs where t = {t} of each are required",
                                    r.k.len(),
                                    r.proofs.len()
                                ))
                            } else {
                                None
                            }
                        }
                        Msg::Share(s) => {
                            if !in_range(s.dealer) || !in_range(s.recipient) {
                                Some("index outside 1..=n".into())
                            } else {
                                (s.dealer == s.recipient).then(|| "a share to its own dealer".into())
                            }
                        }
                        Msg::Complaint(q) => {
                            if !in_range(q.complainer) || !in_range(q.dealer) {
                                Some("index outside 1..=n".into())
                            } else {
                                (q.complainer == q.dealer).then(|| "a complaint against oneself".into())
                            }
                        }
                    };
                    match bad {
                        Some(b) => c.fail(format!("{what} ({}): {b}", m.name())),
                        None => msgs.push((m, s)),
                    }
                }
                Err(e) => c.fail(e.0),
            }
        }
    }

    // Every signature under the sender's signing key (batched; located on failure).
    let bad_sigs: HashSet<usize> = sigma::locate(&msgs, |(m, s), eqs| {
        let signer = &ctx.key_holders[(m.sender() - 1) as usize].0;
        sigma::signature(&mut m.transcript(base), signer, &s.r, &s.s, eqs)
    })
    .into_iter()
    .collect();
    let mut hashes: BTreeMap<u64, [u8; 32]> = BTreeMap::new();
    let mut reveals: BTreeMap<u64, Reveal> = BTreeMap::new();
    let mut shares: BTreeMap<(u64, u64), Share> = BTreeMap::new();
    let mut complaints: Vec<Complaint> = Vec::new();
    let mut complained: HashSet<(u64, u64)> = HashSet::new();
    for (k, (m, _)) in msgs.into_iter().enumerate() {
        if bad_sigs.contains(&k) {
            c.fail(format!("ceremony: {}: signature invalid under the sender's signing key", m.name()));
            continue;
        }
        let name = m.name();
        let fresh = match m {
            Msg::Hash(h) => hashes.insert(h.dealer, h.hash).is_none(),
            Msg::Reveal(r) => reveals.insert(r.dealer, r).is_none(),
            Msg::Share(s) => shares.insert((s.dealer, s.recipient), s).is_none(),
            Msg::Complaint(q) => {
                let f = complained.insert((q.complainer, q.dealer));
                complaints.push(q);
                f
            }
        };
        c.require(fresh, || format!("ceremony: {name}: a second message of this kind"));
    }

    // Coefficient proofs and share proofs, batched.
    enum Proof {
        Coefficient(u64, usize),
        Share(u64, u64),
    }
    let mut proofs = Vec::new();
    for (i, r) in &reveals {
        proofs.extend((0..r.k.len()).map(|j| Proof::Coefficient(*i, j)));
    }
    proofs.extend(shares.keys().map(|(i, l)| Proof::Share(*i, *l)));
    let failed: Vec<&Proof> = sigma::locate(&proofs, |p, eqs| match p {
        Proof::Coefficient(i, j) => coefficient_proof(base, t, &reveals[i], *j, eqs),
        Proof::Share(i, l) => share_proof(base, &ctx.key_holders[(*l - 1) as usize].1, &shares[&(*i, *l)], eqs),
    })
    .into_iter()
    .map(|k| &proofs[k])
    .collect();
    let bad_coefficient = |i: u64| {
        failed
            .iter()
            .filter_map(|p| if let Proof::Coefficient(d, j) = p { (*d == i).then_some(*j) } else { None })
            .min()
    };
    let bad_share = |i: u64, l: u64| failed.iter().any(|p| matches!(p, Proof::Share(d, r) if *d == i && *r == l));

    // §Disqualification, rules 1–5.
    let mut disqualified: BTreeMap<u64, String> = BTreeMap::new();
    for i in 1..=n {
        let fault = match (hashes.get(&i), reveals.get(&i)) {
            (None, _) => Some("no_commitment_hash".to_owned()),
            (_, None) => Some("no_reveal".to_owned()),
            (Some(h), Some(r)) if commitment_hash(base, t, r) != *h => Some("commitment_hash_mismatch".to_owned()),
            _ => bad_coefficient(i).map(|j| format!("invalid_coefficient_proof {{coefficient: {j}}}")).or_else(|| {
                (1..=n).filter(|l| *l != i).find_map(|l| {
                    if !shares.contains_key(&(i, l)) {
                        Some(format!("missing_share {{recipient: {l}}}"))
                    } else {
                        bad_share(i, l).then(|| format!("invalid_share_proof {{recipient: {l}}}"))
                    }
                })
            }),
        };
        if let Some(f) = fault {
            disqualified.insert(i, f);
        }
    }
    // Rule 6: complaints in transcript order.
    let mut unfounded = Vec::new();
    for k in &complaints {
        if disqualified.contains_key(&k.dealer) {
            c.note(format!(
                "complaint of key-holder {} against dealer {}: not adjudicated, the dealer is already disqualified",
                k.complainer, k.dealer
            ));
            continue;
        }
        let (Some(r), Some(s)) = (reveals.get(&k.dealer), shares.get(&(k.dealer, k.complainer))) else { continue };
        match adjudicate(base, &ctx.key_holders[(k.complainer - 1) as usize].1, r, s, k) {
            Ok(fault) => {
                disqualified.insert(k.dealer, format!("{fault} {{recipient: {}}}", k.complainer));
            }
            Err(reason) => unfounded.push((k.complainer, k.dealer, reason)),
        }
    }
    for (i, f) in &disqualified {
        c.note(format!("dealer {i} disqualified: {f}"));
    }
    for (l, i, reason) in &unfounded {
        c.note(format!("unfounded complaint of key-holder {l} against dealer {i}: {reason}"));
    }
    let qualified: Vec<u64> = (1..=n).filter(|i| !disqualified.contains_key(i)).collect();
    c.note(format!("qualified dealers {qualified:?} ({} of {n}, t = {t})", qualified.len()));
    if (qualified.len() as u64) < t {
        c.fail(format!(
            "only {} qualified dealers, at least t = {t} are required: the ceremony failed",
            qualified.len()
        ));
        return None;
    }

    // §Result.
    let a: Vec<RistrettoPoint> = (0..t as usize).map(|j| qualified.iter().map(|i| reveals[i].k[j].p).sum()).collect();
    let joint_key = a[0];
    c.require(!joint_key.is_identity(), || "the joint key is the identity".into());
    c.require(joint_key == ctx.election.joint_key.p, || {
        format!(
            "the package's joint key {} is not the ceremony's K = Σ_(i∈Q) K_(i,0) = {}",
            hex::encode(ctx.election.joint_key.bytes),
            hex::encode(joint_key.compress().to_bytes())
        )
    });
    let verification_keys: Vec<RistrettoPoint> = (1..=n).map(|l| eval(&a, l)).collect();
    for (l, vk) in verification_keys.iter().enumerate() {
        c.require(!vk.is_identity(), || format!("verification key VK_{} is the identity", l + 1));
    }
    Some(Outcome { qualified, joint_key, verification_keys })
}
