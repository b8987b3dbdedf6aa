//! Ballot checks (`08-ballot.md` §Verification): structure against the manifest and style,
//! distinct first components, every 0/1 proof, every count proof, the credential signature,
//! and the tracking code.

use std::collections::HashSet;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use serde_json::Value;

use crate::ballot_v2::EncryptedCredential;
use crate::encoding::{Decoded, Invalid, Point, array, exact, field, hex_n, point, scalar, string};
use crate::manifest::Manifest;
use crate::sigma::{Branch, Equations, RangeProofParts, disjunctive, range, signature};
use crate::transcript::{self, hash32};

/// What a ballot is checked against.
pub struct Election {
    /// The manifest.
    pub manifest: Manifest,
    /// The joint key `K`.
    pub joint_key: Point,
    /// The extended context hash.
    pub extended_hash: [u8; 32],
}

/// A parsed ballot.
pub struct Ballot {
    /// 16-byte id.
    pub id: [u8; 16],
    /// Style id.
    pub style: String,
    /// Public credential.
    pub credential: Point,
    /// Per contest (in ballot order): contest index, ciphertexts, selection proofs, count proof.
    pub contests: Vec<ContestPart>,
    /// Signature `(R, s)`.
    pub sig: (Point, Scalar),
}

/// One contest of a ballot.
pub struct ContestPart {
    /// Contest id.
    pub id: String,
    /// `(α, β)` per selection.
    pub cts: Vec<(Point, Point)>,
    /// 0/1 proof per selection.
    pub proofs: Vec<Vec<Branch>>,
    /// The count proof.
    pub count: Count,
}

/// A count proof.
pub enum Count {
    /// Disjunctive over the weighted sum.
    Disjunctive(Vec<Branch>),
    /// Bulletproofs with link proof.
    Range(Box<RangeProofParts>),
}

/// The fields of each object of a ballot (record-format.md §Ballot, §Proofs); any other is refused.
pub mod fields {
    /// `EncryptedBallot`.
    pub const BALLOT: &[&str] = &["ballot_id", "style", "credential", "contests", "signature"];
    /// `Signature`.
    pub const SIGNATURE: &[&str] = &["r", "s"];
    /// `EncryptedContest`.
    pub const CONTEST: &[&str] = &["contest_id", "selections", "count_proof"];
    /// `EncryptedSelection`.
    pub const SELECTION: &[&str] = &["ciphertext", "proof"];
    /// `Ciphertext`.
    pub const CIPHERTEXT: &[&str] = &["alpha", "beta"];
    /// `Branch` of a disjunctive proof.
    pub const BRANCH: &[&str] = &["a", "b", "c", "z"];
    /// `CountProof` (its `kind` is `disjunctive` or `range`).
    pub const COUNT_PROOF: &[&str] = &["kind", "proof"];
    /// `RangeCountProof`.
    pub const RANGE: &[&str] = &["v1", "link", "range"];
    /// The link proof of a `RangeCountProof`.
    pub const LINK: &[&str] = &["a1", "a2", "a3", "zx", "zr", "zs"];
}

fn branches(v: &Value, what: &str) -> Decoded<Vec<Branch>> {
    let arr = v.as_array().ok_or_else(|| Invalid(format!("{what}: a proof must be an array of branches")))?;
    arr.iter()
        .enumerate()
        .map(|(i, b)| {
            exact(b, fields::BRANCH, &format!("{what}, branch {i}"))?;
            Ok(Branch {
                a: point(field(b, "a", what)?, what)?,
                b: point(field(b, "b", what)?, what)?,
                c: scalar(field(b, "c", what)?, what)?,
                z: scalar(field(b, "z", what)?, what)?,
            })
        })
        .collect()
}

/// Parses a ballot's JSON strictly (unknown shapes and invalid encodings are errors).
pub fn parse(v: &Value) -> Decoded<Ballot> {
    let what = "ballot";
    exact(v, fields::BALLOT, what)?;
    let id = hex_n::<16>(field(v, "ballot_id", what)?, "ballot_id")?;
    let style = string(v, "style", what)?;
    let credential = point(field(v, "credential", what)?, "credential")?;
    let sigv = field(v, "signature", what)?;
    exact(sigv, fields::SIGNATURE, "ballot signature")?;
    let sig =
        (point(field(sigv, "r", "signature")?, "signature.r")?, scalar(field(sigv, "s", "signature")?, "signature.s")?);
    let contests = parse_contests(v)?;
    Ok(Ballot { id, style, credential, contests, sig })
}

/// Parses a ballot's `contests` strictly (v1 and v2 alike: 13-revoting.md §3.7).
pub(crate) fn parse_contests(v: &Value) -> Decoded<Vec<ContestPart>> {
    let what = "ballot";
    let mut contests = Vec::new();
    for (ci, c) in array(v, "contests", what)?.iter().enumerate() {
        exact(c, fields::CONTEST, &format!("ballot contest {ci}"))?;
        let id = string(c, "contest_id", "contest")?;
        let what = format!("contest {id:?}");
        let mut cts = Vec::new();
        let mut proofs = Vec::new();
        for (si, s) in array(c, "selections", &what)?.iter().enumerate() {
            let what = format!("{what}, selection {si}");
            exact(s, fields::SELECTION, &what)?;
            let ct = field(s, "ciphertext", &what)?;
            exact(ct, fields::CIPHERTEXT, &format!("{what}, ciphertext"))?;
            cts.push((point(field(ct, "alpha", &what)?, &what)?, point(field(ct, "beta", &what)?, &what)?));
            proofs.push(branches(field(s, "proof", &what)?, &what)?);
        }
        let cp = field(c, "count_proof", &what)?;
        exact(cp, fields::COUNT_PROOF, &format!("{what}, count proof"))?;
        let count = match string(cp, "kind", &what)?.as_str() {
            "disjunctive" => Count::Disjunctive(branches(field(cp, "proof", &what)?, &what)?),
            "range" => {
                let p = field(cp, "proof", &what)?;
                exact(p, fields::RANGE, &format!("{what}, range proof"))?;
                let link = field(p, "link", &what)?;
                exact(link, fields::LINK, &format!("{what}, link proof"))?;
                let bp =
                    field(p, "range", &what)?.as_str().ok_or_else(|| Invalid(format!("{what}: range must be hex")))?;
                Count::Range(Box::new(RangeProofParts {
                    v1: point(field(p, "v1", &what)?, &what)?,
                    a: [
                        point(field(link, "a1", &what)?, &what)?,
                        point(field(link, "a2", &what)?, &what)?,
                        point(field(link, "a3", &what)?, &what)?,
                    ],
                    z: [
                        scalar(field(link, "zx", &what)?, &what)?,
                        scalar(field(link, "zr", &what)?, &what)?,
                        scalar(field(link, "zs", &what)?, &what)?,
                    ],
                    bulletproof: if bp.bytes().all(|x| x.is_ascii_digit() || (b'a'..=b'f').contains(&x)) {
                        hex::decode(bp).map_err(|_| Invalid(format!("{what}: range is not hex")))?
                    } else {
                        return Err(Invalid(format!("{what}: range is not lowercase hex")));
                    },
                }))
            }
            k => return Err(Invalid(format!("{what}: unknown count proof kind {k:?}"))),
        };
        contests.push(ContestPart { id, cts, proofs, count });
    }
    Ok(contests)
}

/// What a ballot binds at the credential's position of T_ballot and of the body hash: X (v1),
/// or `cred.α, cred.β, tbase.α, tbase.β` (v2, 13-revoting.md §3.1, §3.7).
#[derive(Clone, Copy)]
pub(crate) enum Voter<'a> {
    /// `point("credential", X)`.
    Credential(&'a Point),
    /// `point("cred-alpha") … point("tbase-beta")`.
    Encrypted(&'a EncryptedCredential),
}

fn append_voter(t: &mut Transcript, voter: Voter<'_>) {
    match voter {
        Voter::Credential(x) => t.append_message(b"credential", &x.bytes),
        Voter::Encrypted(enc) => {
            t.append_message(b"cred-alpha", &enc.cred.alpha.bytes);
            t.append_message(b"cred-beta", &enc.cred.beta.bytes);
            t.append_message(b"tbase-alpha", &enc.tbase.alpha.bytes);
            t.append_message(b"tbase-beta", &enc.tbase.beta.bytes);
        }
    }
}

/// The ballot id, style and voter that every transcript of a ballot starts from.
#[derive(Clone, Copy)]
pub(crate) struct Header<'a> {
    /// The ballot id.
    pub(crate) id: &'a [u8; 16],
    /// The style id.
    pub(crate) style: &'a str,
    /// X or (cred, tbase).
    pub(crate) voter: Voter<'a>,
}

fn append_branches(t: &mut Transcript, bs: &[Branch]) {
    t.append_u64(b"branches", bs.len() as u64);
    for b in bs {
        t.append_message(b"a", &b.a.bytes);
        t.append_message(b"b", &b.b.bytes);
        t.append_message(b"c", b.c.as_bytes());
        t.append_message(b"z", b.z.as_bytes());
    }
}

/// The body hash (§Body hash).
pub fn body_hash(e: &Election, b: &Ballot) -> [u8; 32] {
    body_hash_of(e, &header(b), &b.contests)
}

fn header(b: &Ballot) -> Header<'_> {
    Header { id: &b.id, style: &b.style, voter: Voter::Credential(&b.credential) }
}

/// 08-ballot.md §Body hash with the voter at the credential's position (v2: 13 §3.7).
pub(crate) fn body_hash_of(e: &Election, h: &Header<'_>, contests: &[ContestPart]) -> [u8; 32] {
    let mut t = transcript::new(b"ballot-body");
    t.append_message(b"context", &e.extended_hash);
    t.append_message(b"ballot-id", h.id);
    t.append_message(b"style", h.style.as_bytes());
    append_voter(&mut t, h.voter);
    t.append_u64(b"contests", contests.len() as u64);
    for c in contests {
        t.append_message(b"contest-id", c.id.as_bytes());
        t.append_u64(b"selections", c.cts.len() as u64);
        for ((a, be), p) in c.cts.iter().zip(&c.proofs) {
            t.append_message(b"alpha", &a.bytes);
            t.append_message(b"beta", &be.bytes);
            append_branches(&mut t, p);
        }
        match &c.count {
            Count::Disjunctive(p) => {
                t.append_message(b"count-kind", b"disjunctive");
                append_branches(&mut t, p);
            }
            Count::Range(r) => {
                t.append_message(b"count-kind", b"range");
                t.append_message(b"v1", &r.v1.bytes);
                t.append_message(b"a1", &r.a[0].bytes);
                t.append_message(b"a2", &r.a[1].bytes);
                t.append_message(b"a3", &r.a[2].bytes);
                t.append_message(b"zx", r.z[0].as_bytes());
                t.append_message(b"zr", r.z[1].as_bytes());
                t.append_message(b"zs", r.z[2].as_bytes());
                t.append_message(b"bulletproof", &r.bulletproof);
            }
        }
    }
    hash32(&mut t, b"body-hash")
}

/// The tracking code from the body hash and signature.
pub fn tracking_code(body: &[u8; 32], b: &Ballot) -> [u8; 32] {
    let mut t = transcript::new(b"tracking-code");
    t.append_message(b"body-hash", body);
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&b.sig.0.bytes);
    sig[32..].copy_from_slice(b.sig.1.as_bytes());
    t.append_message(b"signature", &sig);
    hash32(&mut t, b"tracking-code")
}

/// Checks one ballot, adding its equations to `eqs`. Returns its tracking code, or the first
/// problem found with its location (contest, selection, proof).
pub fn check(e: &Election, b: &Ballot, eqs: &mut Equations) -> Result<[u8; 32], String> {
    check_contests(e, &header(b), &b.contests, &[], eqs)?;
    let body = body_hash(e, b);
    let mut ts = transcript::new(b"ballot-signature");
    ts.append_message(b"context", &e.extended_hash);
    ts.append_message(b"body-hash", &body);
    if !signature(&mut ts, &b.credential, &b.sig.0, &b.sig.1, eqs) {
        return Err("credential signature fails".into());
    }
    Ok(tracking_code(&body, b))
}

/// 08-ballot.md §Verification checks 3–9 on T_ballot of `h` (v2: 13 §3.7): the contests are
/// the style's; the α's of every ciphertext and `more_alphas` (v2: cred.α, tbase.α) are
/// pairwise distinct, before any proof; then every 0/1 and count proof, added to `eqs`.
pub(crate) fn check_contests(
    e: &Election,
    h: &Header<'_>,
    contests: &[ContestPart],
    more_alphas: &[[u8; 32]],
    eqs: &mut Equations,
) -> Result<(), String> {
    let style = e.manifest.styles.get(h.style).ok_or_else(|| format!("unknown ballot style {:?}", h.style))?;
    if style.len() != contests.len()
        || style.iter().zip(contests).any(|(i, c)| e.manifest.contests.get(*i).map(|k| &k.id) != Some(&c.id))
    {
        return Err("contests do not match the ballot style".into());
    }
    let mut alphas = HashSet::new();
    let votes = contests.iter().flat_map(|c| &c.cts).map(|(a, _)| a.bytes);
    if votes.chain(more_alphas.iter().copied()).any(|a| !alphas.insert(a)) {
        return Err("two ciphertexts share their first component".into());
    }
    let k = &e.joint_key;
    let mut tb = transcript::new(b"ballot");
    tb.append_message(b"context", &e.extended_hash);
    tb.append_message(b"ballot-id", h.id);
    tb.append_message(b"style", h.style.as_bytes());
    append_voter(&mut tb, h.voter);
    tb.append_message(b"pk", &k.bytes);
    for (ci, c) in style.iter().zip(contests) {
        let Some(contest) = e.manifest.contests.get(*ci) else { return Err("unknown contest".into()) };
        if c.cts.len() != contest.selections() || c.proofs.len() != c.cts.len() {
            return Err(format!("contest {:?}: wrong number of selections", c.id));
        }
        let mut tc = tb.clone();
        tc.append_u64(b"contest", *ci as u64);
        tc.append_u64(b"selections", c.cts.len() as u64);
        for (a, be) in &c.cts {
            tc.append_message(b"alpha", &a.bytes);
            tc.append_message(b"beta", &be.bytes);
        }
        for (j, ((a, be), p)) in c.cts.iter().zip(&c.proofs).enumerate() {
            let mut t = tc.clone();
            t.append_message(b"dom-sep", b"selection-proof");
            t.append_u64(b"selection", j as u64);
            t.append_u64(b"values", 2);
            t.append_u64(b"value", 0);
            t.append_u64(b"value", 1);
            if !disjunctive(&mut t, &k.p, &a.p, &be.p, &[0, 1], p, eqs) {
                return Err(format!("contest {:?}, selection {j}: 0/1 proof fails", c.id));
            }
        }
        let (mut sa, mut sb) = (RistrettoPoint::default(), RistrettoPoint::default());
        for (i, (a, be)) in c.cts.iter().enumerate() {
            match contest.weight(i) {
                1 => {
                    sa += a.p;
                    sb += be.p;
                }
                w => {
                    sa += Scalar::from(w) * a.p;
                    sb += Scalar::from(w) * be.p;
                }
            }
        }
        let allowed = contest.allowed();
        let wide = allowed.len() > 16;
        let mut t = tc.clone();
        t.append_message(b"dom-sep", if wide { b"count-range-proof".as_slice() } else { b"count-proof".as_slice() });
        t.append_u64(b"weights", c.cts.len() as u64);
        for i in 0..c.cts.len() {
            t.append_u64(b"weight", contest.weight(i));
        }
        t.append_u64(b"values", allowed.len() as u64);
        for v in &allowed {
            t.append_u64(b"value", *v);
        }
        let ok = match (&c.count, wide) {
            (Count::Disjunctive(p), false) => disjunctive(&mut t, &k.p, &sa, &sb, &allowed, p, eqs),
            (Count::Range(r), true) => {
                let (lo, hi) = (allowed.first().copied().unwrap_or(0), allowed.last().copied().unwrap_or(0));
                range(&mut t, &k.p, &sa, &sb, lo, hi, r, eqs)
            }
            _ => false,
        };
        if !ok {
            return Err(format!("contest {:?}: count proof fails", c.id));
        }
    }
    Ok(())
}

/// How one ballot of a format is checked: its equations added to the batch, its tracking code
/// returned (`check` here, `crate::ballot_v2::ballot::check`).
pub type CheckOne<B> = fn(&Election, &B, &mut Equations) -> Result<[u8; 32], String>;

/// Verifies many ballots of one format, each by `check`: batched per chunk of 64, chunks in
/// parallel; a failed chunk is re-checked ballot by ballot, equation by equation, to name the
/// ballot and the proof.
pub fn verify_all<B: Sync>(e: &Election, ballots: &[&B], check: CheckOne<B>) -> Vec<Result<[u8; 32], String>> {
    use rayon::prelude::*;
    ballots
        .par_chunks(64)
        .flat_map_iter(|chunk| {
            let mut eqs = Equations::batched();
            let first: Vec<Result<[u8; 32], String>> = chunk.iter().map(|b| check(e, b, &mut eqs)).collect();
            if first.iter().all(Result::is_ok) && eqs.check() {
                return first;
            }
            chunk
                .iter()
                .map(|b| {
                    let mut d = Equations::direct();
                    let r = check(e, b, &mut d)?;
                    if d.check() { Ok(r) } else { Err("a proof equation fails".into()) }
                })
                .collect()
        })
        .collect()
}
