//! Threshold decryption of the totals (`07-threshold.md` §Verifier checklist): every published
//! decryption share's proof against the verification keys recomputed from the ceremony, at
//! least `t` valid shares per total, the Lagrange combination, the discrete logarithm, and the
//! published results.
//!
//! Every share must be signed by the key-holder it names (`07-threshold.md` §Share signature):
//! the server refuses any other, so a share of an unknown key-holder, for no total, or whose
//! signature fails is a failure. A signed share whose proof fails, or a second one of a
//! key-holder, is set aside and reported as a note in that key-holder's name (§Combination:
//! absent and cheating key-holders are tolerated). A total with fewer than `t` valid shares, a
//! combination out of range, or a result that differs are failures, named by contest and option.

use std::collections::{BTreeMap, HashMap};

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT as G;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;
use serde_json::Value;

use crate::ceremony::Outcome;
use crate::encoding::{Decoded, Point, array, exact, field, point, scalar, string, uint, uint32};
use crate::load::Context;
use crate::report::Running;
use crate::sigma::{self, Equations};
use crate::transcript;

/// The encrypted totals as the verifier recomputed them: per contest (manifest order), one
/// ciphertext `(α, β)` per selection and the number of counted ballots of the contest.
#[derive(Default)]
pub struct Totals {
    /// Per contest: the ciphertext of every selection.
    pub totals: Vec<Vec<(RistrettoPoint, RistrettoPoint)>>,
    /// Per contest: the number of counted ballots that contain it.
    pub ballots: Vec<u64>,
}

struct DShare {
    pos: usize,
    l: u64,
    a: usize,
    b: usize,
    d: Point,
    pa: Point,
    pb: Point,
    z: Scalar,
    /// The key-holder's signature `(R, s)`.
    sig: (Point, Scalar),
}

/// A share as published, before it is matched with a total and a key-holder.
struct Parsed {
    l: u64,
    a: u64,
    b: u64,
    d: Point,
    pa: Point,
    pb: Point,
    z: Scalar,
    sig: (Point, Scalar),
}

fn parse(v: &Value, pos: usize) -> Decoded<Parsed> {
    let what = format!("decryption share #{pos}");
    let what = what.as_str();
    exact(v, &["key_holder", "contest", "option", "share", "proof", "signature"], what)?;
    let p = field(v, "proof", what)?;
    exact(p, &["a", "b", "response"], what)?;
    let sig = field(v, "signature", what)?;
    exact(sig, &["r", "s"], what)?;
    Ok(Parsed {
        l: uint32(v, "key_holder", what)?,
        a: uint32(v, "contest", what)?,
        b: uint32(v, "option", what)?,
        d: point(field(v, "share", what)?, what)?,
        pa: point(field(p, "a", what)?, what)?,
        pb: point(field(p, "b", what)?, what)?,
        z: scalar(field(p, "response", what)?, what)?,
        sig: (point(field(sig, "r", what)?, what)?, scalar(field(sig, "s", what)?, what)?),
    })
}

fn enc(p: &RistrettoPoint) -> [u8; 32] {
    p.compress().to_bytes()
}

/// The DLEQ proof of a share (§Partial decryption): `log_G VK_l = log_α D_l`.
fn share_proof(
    ext: &[u8; 32],
    vk: &RistrettoPoint,
    ct: &(RistrettoPoint, RistrettoPoint),
    s: &DShare,
    eqs: &mut Equations,
) -> bool {
    let mut t = transcript::new(b"decryption-share");
    t.append_message(b"context", ext);
    t.append_u64(b"key-holder", s.l);
    t.append_message(b"VK", &enc(vk));
    t.append_u64(b"contest", s.a as u64);
    t.append_u64(b"option", s.b as u64);
    t.append_message(b"alpha", &enc(&ct.0));
    t.append_message(b"beta", &enc(&ct.1));
    t.append_message(b"D", &s.d.bytes);
    sigma::dleq(&mut t, vk, &ct.0, &s.d.p, &s.pa, &s.pb, &s.z, eqs)
}

/// The digest of the record's decryption shares in order (07-threshold.md §Share list digest),
/// which the protocol binds; `None` if a share does not decode (a failure of V16).
pub fn shares_digest(rec: &Value) -> Option<[u8; 32]> {
    use sha2::{Digest, Sha256};
    let items = rec.get("decryption_shares")?.as_array()?;
    let mut h = Sha256::new();
    h.update(b"dobush/v2/decryption-shares");
    h.update((items.len() as u64).to_be_bytes());
    for (pos, v) in items.iter().enumerate() {
        let s = parse(v, pos).ok()?;
        // each index was decoded as a u32 (`uint32`)
        for n in [s.l, s.a, s.b] {
            h.update(u32::try_from(n).ok()?.to_be_bytes());
        }
        for bytes in [&s.d.bytes, &s.pa.bytes, &s.pb.bytes, s.z.as_bytes(), &s.sig.0.bytes, s.sig.1.as_bytes()] {
            h.update(bytes);
        }
    }
    Some(h.finalize().into())
}

/// Key-holder `l`'s signature over its share (§Share signature), by its signing key `Y_l`: the
/// context, the share's key-holder, total, ciphertext, `D_l` and the whole proof.
fn share_signature(
    ext: &[u8; 32],
    y: &Point,
    ct: &(RistrettoPoint, RistrettoPoint),
    s: &DShare,
    eqs: &mut Equations,
) -> bool {
    let mut t = transcript::new(b"decryption-share-signature");
    t.append_message(b"context", ext);
    t.append_u64(b"key-holder", s.l);
    t.append_u64(b"contest", s.a as u64);
    t.append_u64(b"option", s.b as u64);
    t.append_message(b"alpha", &enc(&ct.0));
    t.append_message(b"beta", &enc(&ct.1));
    t.append_message(b"D", &s.d.bytes);
    t.append_message(b"A", &s.pa.bytes);
    t.append_message(b"B", &s.pb.bytes);
    t.append_message(b"z", s.z.as_bytes());
    sigma::signature(&mut t, y, &s.sig.0, &s.sig.1, eqs)
}

/// `λ_l = Π_{m∈S, m≠l} m / (m − l)` (§Lagrange).
fn lagrange(set: &[u64], l: u64) -> Scalar {
    let (mut num, mut den) = (Scalar::ONE, Scalar::ONE);
    for &m in set.iter().filter(|m| **m != l) {
        num *= Scalar::from(m);
        den *= Scalar::from(m) - Scalar::from(l);
    }
    num * den.invert()
}

/// Baby-step giant-step table (§Discrete logarithm).
struct Dlog {
    step: u64,
    baby: HashMap<[u8; 32], u64>,
}

impl Dlog {
    fn new(max: u64) -> Self {
        let step = ((max as f64 + 1.0).sqrt().ceil() as u64).max(1);
        let step = if step.saturating_mul(step) < max.saturating_add(1) { step + 1 } else { step };
        let mut baby = HashMap::with_capacity(step as usize);
        let mut p = RistrettoPoint::identity();
        for j in 0..step {
            baby.insert(enc(&p), j);
            p += G;
        }
        Self { step, baby }
    }

    /// `m ≤ max` with `M = m·G`, if any.
    fn solve(&self, m: &RistrettoPoint, max: u64) -> Option<u64> {
        let giant = Scalar::from(self.step) * G;
        let mut cur = *m;
        let mut i = 0u64;
        while i.checked_mul(self.step).is_some_and(|x| x <= max) {
            if let Some(j) = self.baby.get(&enc(&cur)) {
                let v = i * self.step + j;
                return (v <= max).then_some(v);
            }
            cur -= giant;
            i += 1;
        }
        None
    }
}

/// Names a total for messages.
fn total_name(ctx: &Context, a: usize, b: usize) -> String {
    let contest = &ctx.election.manifest.contests[a];
    let option = match contest.option_ids.get(b) {
        Some(id) => format!("option {b} ({id:?})"),
        None if b == contest.options && contest.against_all => format!("selection {b} (against all)"),
        None => format!("selection {b} (blank)"),
    };
    format!("contest {:?}, {option}", contest.id)
}

/// Checks the decryption shares and the results of the record.
pub fn check(rec: &Value, ctx: &Context, outcome: Option<&Outcome>, sums: &Totals, c: &mut Running) {
    let contests = &ctx.election.manifest.contests;
    let n = ctx.key_holders.len() as u64;
    let t = ctx.threshold as usize;
    let Some(outcome) = outcome else {
        c.fail("no verification keys: the key ceremony could not be evaluated, so no share can be checked");
        return;
    };
    let vks = &outcome.verification_keys;
    let ext = &ctx.election.extended_hash;
    let items = match array(rec, "decryption_shares", "record") {
        Ok(a) => a,
        Err(e) => {
            c.fail(e.0);
            return;
        }
    };
    // Decode; a share of an unknown key-holder or for no total cannot be signed by anyone, and
    // the server refuses it (07-threshold.md §Share signature).
    let mut candidates = Vec::new();
    let mut refused = 0;
    for (pos, v) in items.iter().enumerate() {
        c.items(1);
        let Parsed { l, a, b, d, pa, pb, z, sig } = match parse(v, pos) {
            Ok(x) => x,
            Err(e) => {
                c.fail(e.0);
                refused += 1;
                continue;
            }
        };
        let exists = (a as usize) < sums.totals.len() && (b as usize) < sums.totals[a as usize].len();
        if !exists {
            refused += 1;
            c.fail(format!(
                "share #{pos} of key-holder {l} is for no total (contest {a}, option {b}): the server must refuse it"
            ));
        } else if !(1..=n).contains(&l) {
            refused += 1;
            c.fail(format!(
                "share #{pos} names an unknown key-holder {l} (n = {n}), for {}: the server must refuse it",
                total_name(ctx, a as usize, b as usize)
            ));
        } else {
            candidates.push(DShare { pos, l, a: a as usize, b: b as usize, d, pa, pb, z, sig });
        }
    }
    // Every signature, batched; a share its key-holder did not sign is nobody's.
    let unsigned: Vec<usize> = sigma::locate(&candidates, |s, eqs| {
        share_signature(ext, &ctx.key_holders[(s.l - 1) as usize].0, &sums.totals[s.a][s.b], s, eqs)
    });
    for &k in &unsigned {
        let s = &candidates[k];
        c.fail(format!(
            "share #{} is not signed by key-holder {}, whom it names, for {}: the server must refuse it",
            s.pos,
            s.l,
            total_name(ctx, s.a, s.b)
        ));
    }
    refused += unsigned.len();
    let candidates: Vec<DShare> = candidates
        .into_iter()
        .enumerate()
        .filter(|(k, _)| unsigned.binary_search(k).is_err())
        .map(|(_, s)| s)
        .collect();
    // Every proof of a signed share, batched; on failure each share re-checked to name the
    // invalid ones.
    let invalid: Vec<usize> =
        sigma::locate(&candidates, |s, eqs| share_proof(ext, &vks[(s.l - 1) as usize], &sums.totals[s.a][s.b], s, eqs));
    let mut valid: Vec<Vec<BTreeMap<u64, RistrettoPoint>>> =
        sums.totals.iter().map(|x| vec![BTreeMap::new(); x.len()]).collect();
    let mut set_aside = 0;
    for (k, s) in candidates.iter().enumerate() {
        if invalid.binary_search(&k).is_ok() {
            set_aside += 1;
            c.note(format!(
                "share #{} of key-holder {} set aside: signed by it, with an invalid proof for {}",
                s.pos,
                s.l,
                total_name(ctx, s.a, s.b)
            ));
        } else if valid[s.a][s.b].insert(s.l, s.d.p).is_some() {
            set_aside += 1;
            c.note(format!(
                "share #{} set aside: a second share of key-holder {} for {}",
                s.pos,
                s.l,
                total_name(ctx, s.a, s.b)
            ));
        }
    }
    c.note(format!(
        "{} shares, {} valid, {set_aside} set aside, {refused} that the server must have refused",
        items.len(),
        items.len() - set_aside - refused
    ));

    // Combination and discrete logarithm, per total.
    let max = sums.ballots.iter().copied().max().unwrap_or(0);
    let table = Dlog::new(max);
    let mut decrypted: Vec<Vec<Option<u64>>> = sums.totals.iter().map(|x| vec![None; x.len()]).collect();
    for (a, per) in valid.iter().enumerate() {
        for (b, shares) in per.iter().enumerate() {
            c.items(1);
            if shares.len() < t {
                c.fail(format!(
                    "{}: only {} valid decryption shares of distinct key-holders, t = {t} are required",
                    total_name(ctx, a, b),
                    shares.len()
                ));
                continue;
            }
            let set: Vec<u64> = shares.keys().copied().take(t).collect();
            let combined: RistrettoPoint = set.iter().map(|l| lagrange(&set, *l) * shares[l]).sum();
            let m = sums.totals[a][b].1 - combined;
            match table.solve(&m, sums.ballots[a]) {
                Some(v) => decrypted[a][b] = Some(v),
                None => c.fail(format!(
                    "{}: the combination is not m·G for any m ≤ {} (the contest's ballots)",
                    total_name(ctx, a, b),
                    sums.ballots[a]
                )),
            }
        }
    }

    // The published results.
    let results = match array(rec, "results", "record") {
        Ok(r) => r,
        Err(e) => {
            c.fail(e.0);
            return;
        }
    };
    let published_ballots: Vec<Option<u64>> = array(rec, "encrypted_totals", "record")
        .map(|ts| ts.iter().map(|t| t.get("ballots").and_then(Value::as_u64)).collect())
        .unwrap_or_default();
    c.require(results.len() == contests.len(), || {
        format!("results: {} contests where the manifest has {}", results.len(), contests.len())
    });
    for (a, (r, contest)) in results.iter().zip(contests).enumerate() {
        let parsed = (|| -> Decoded<(String, u64, Vec<u64>)> {
            let what = format!("results[{a}]");
            exact(r, &["contest_id", "ballots", "counts"], &what)?;
            let counts = array(r, "counts", &what)?
                .iter()
                .map(|x| {
                    x.as_u64()
                        .ok_or_else(|| crate::encoding::Invalid(format!("{what}: counts must be unsigned integers")))
                })
                .collect::<Decoded<_>>()?;
            Ok((string(r, "contest_id", &what)?, uint(r, "ballots", &what)?, counts))
        })();
        let (id, ballots, counts) = match parsed {
            Ok(x) => x,
            Err(e) => {
                c.fail(e.0);
                continue;
            }
        };
        c.require(id == contest.id, || format!("results[{a}]: contest {id:?} where {:?} was expected", contest.id));
        c.require(published_ballots.get(a).copied().flatten() == Some(ballots), || {
            format!(
                "contest {:?}: the results say {ballots} ballots but the encrypted totals say {:?}",
                contest.id,
                published_ballots.get(a).copied().flatten()
            )
        });
        c.require(counts.len() == decrypted[a].len(), || {
            format!(
                "contest {:?}: {} counts where {} selections were expected",
                contest.id,
                counts.len(),
                decrypted[a].len()
            )
        });
        for (b, (count, m)) in counts.iter().zip(&decrypted[a]).enumerate() {
            if let Some(m) = m {
                c.require(count == m, || {
                    format!(
                        "{}: the published count {count} differs from the decrypted total {m}",
                        total_name(ctx, a, b)
                    )
                });
            }
        }
    }
}
