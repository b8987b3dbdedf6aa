//! Batched Chaum–Pedersen proofs (`13-revoting.md` §9.3), checked from the text of the
//! specification: the transcript, the ChaCha20 (RFC 8439) weights, and CP-1, CP-2 of
//! `04-proofs.md` on `(Y, P*, Q*)`.

use chacha20::ChaCha20;
use chacha20::cipher::{KeyIvInit, StreamCipher};
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use serde_json::Value;

use crate::encoding::{Decoded, Invalid, Point, exact, field, point, scalar};
use crate::sigma::{Equations, dleq};
use crate::transcript;

/// The purposes §9.3 lists; any other name is refused.
pub const PURPOSES: [&str; 12] = [
    "sanitize-pet",
    "sanitize-pet-decrypt",
    "station-tag",
    "station-tag-decrypt",
    "tag-rows",
    "tag-list",
    "tag-pointers",
    "tag-decrypt-rows",
    "tag-decrypt-list",
    "tag-decrypt-pointers",
    "pet",
    "pet-decrypt",
];

/// A purpose of §9.3 (one of [`PURPOSES`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Purpose(&'static str);

impl Purpose {
    /// The purpose named `name`, or a refusal for a name the specification does not list.
    pub fn parse(name: &str) -> Decoded<Self> {
        PURPOSES
            .iter()
            .find(|p| **p == name)
            .map(|p| Purpose(p))
            .ok_or_else(|| Invalid(format!("unknown batched-proof purpose {name:?}")))
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        self.0
    }
}

/// The statement of a batched proof: `Q_i = y·P_i` for all `i` and `Y = y·G`.
pub struct Statement<'a> {
    /// Extended context hash.
    pub context: [u8; 32],
    /// The run.
    pub run: u64,
    /// The style id (`""` for the whole run).
    pub style: &'a str,
    /// The purpose.
    pub purpose: Purpose,
    /// The proving member.
    pub member: u64,
    /// `Y`.
    pub key: Point,
    /// `P_i`.
    pub bases: &'a [RistrettoPoint],
    /// `Q_i`.
    pub images: &'a [RistrettoPoint],
}

/// A batched proof `{"a", "b", "response"}` (the Chaum–Pedersen proof's serialized form).
pub struct Proof {
    /// `A`.
    pub a: Point,
    /// `B`.
    pub b: Point,
    /// `z`.
    pub z: Scalar,
}

/// Decodes a proof strictly (rules E1, E2; no unknown fields).
pub fn parse_proof(v: &Value, what: &str) -> Decoded<Proof> {
    exact(v, &["a", "b", "response"], what)?;
    Ok(Proof {
        a: point(field(v, "a", what)?, &format!("{what}.a"))?,
        b: point(field(v, "b", what)?, &format!("{what}.b"))?,
        z: scalar(field(v, "response", what)?, &format!("{what}.response"))?,
    })
}

/// `e_i`: bytes `16i … 16i+15` of the RFC 8439 keystream (key `seed`, zero nonce, counter 0),
/// little-endian.
pub fn weights(seed: &[u8; 32], m: usize) -> Vec<Scalar> {
    let mut stream = vec![0u8; 16 * m];
    ChaCha20::new(seed.into(), &[0u8; 12].into()).apply_keystream(&mut stream);
    stream
        .chunks_exact(16)
        .map(|c| {
            let mut b = [0u8; 32];
            b[..16].copy_from_slice(c);
            Scalar::from_bytes_mod_order(b)
        })
        .collect()
}

/// Adds the proof's equations to `eqs`; `Err` names a failure found before any equation.
pub fn check_into(st: &Statement<'_>, proof: &Proof, eqs: &mut Equations) -> Result<bool, String> {
    let m = st.bases.len();
    if m == 0 || st.images.len() != m {
        return Err(format!("batched proof ({}): {m} bases and {} images", st.purpose.name(), st.images.len()));
    }
    let mut t = transcript::new(b"batched-dleq");
    t.append_message(b"context", &st.context);
    t.append_u64(b"run", st.run);
    t.append_message(b"style", st.style.as_bytes());
    t.append_message(b"purpose", st.purpose.name().as_bytes());
    t.append_u64(b"member", st.member);
    t.append_message(b"Y", &st.key.bytes);
    t.append_u64(b"count", m as u64);
    for (p, q) in st.bases.iter().zip(st.images) {
        t.append_message(b"P", p.compress().as_bytes());
        t.append_message(b"Q", q.compress().as_bytes());
    }
    let seed = transcript::hash32(&mut t, b"weights");
    let e = weights(&seed, m);
    let p_star = RistrettoPoint::vartime_multiscalar_mul(&e, st.bases);
    let q_star = RistrettoPoint::vartime_multiscalar_mul(&e, st.images);
    if p_star.is_identity() {
        return Err(format!("batched proof ({}): the combined base P* is the identity", st.purpose.name()));
    }
    Ok(dleq(&mut t, &st.key.p, &p_star, &q_star, &proof.a, &proof.b, &proof.z, eqs))
}

/// Checks one proof on its own.
pub fn check(st: &Statement<'_>, proof: &Proof) -> Result<(), String> {
    let mut eqs = Equations::direct();
    if check_into(st, proof, &mut eqs)? && eqs.check() {
        Ok(())
    } else {
        Err(format!("batched proof ({}) of member {}: CP-1/CP-2 do not hold", st.purpose.name(), st.member))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_follow_rfc8439() {
        // RFC 8439 §A.1, test vector #1 (all-zero key and nonce, counter 0).
        let ks = hex::decode("76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7").unwrap_or_default();
        let e = weights(&[0u8; 32], 2);
        let mut b = [0u8; 32];
        b[..16].copy_from_slice(&ks[16..32]);
        assert_eq!(e[1], Scalar::from_bytes_mod_order(b));
        assert!(Purpose::parse("tag").is_err());
        assert_eq!(Purpose::parse("pet-decrypt").map(Purpose::name), Ok("pet-decrypt"));
    }
}
