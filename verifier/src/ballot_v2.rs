//! The public parts of the v2 ballot, re-implemented from `docs/protocol/13-revoting.md` alone:
//! the tag base TB(X) (§2), the encrypted credential `cred`, `tbase` and the credential proof
//! CR-1 … CR-3 with the v2 tracking code (§3.1, §3.2), and the PIN commitment and the
//! registration binding checked against a published pc (§3.3).
//!
//! The assembled ballot (§3.7) is in [`ballot`]; the v2 list and replacement entries (§4.2,
//! §4.3) in [`board`]. Library code that no numbered check calls yet:
//! no record holds a v2 ballot until the server switches over. The cast opening (§3.4) is checked by the server only and never published,
//! so it has no check here.

pub mod ballot;
pub mod board;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use serde_json::Value;
use sha2::{Digest, Sha256, Sha512};

use crate::encoding::{Decoded, Point, exact, field, point, scalar};
use crate::sigma::{Equations, signature};
use crate::transcript::{challenge, hash32, new};

/// The fields of each object (13-revoting.md §3.1, §3.2); any other is refused.
pub mod fields {
    /// The encrypted credential of a v2 ballot.
    pub const ENCRYPTED_CREDENTIAL: &[&str] = &["cred", "tbase"];
    /// A ciphertext.
    pub const CIPHERTEXT: &[&str] = &["alpha", "beta"];
    /// `credential_proof`.
    pub const CREDENTIAL_PROOF: &[&str] = &["a1", "a2", "a3", "zx", "zr", "zv"];
    /// A Schnorr signature (the registration binding).
    pub const SIGNATURE: &[&str] = &["r", "s"];
}

/// `TB(X) = hash_to_group("dobush/v2/tag-base" ‖ base_hash ‖ enc(X))` (§2): Elligator on the
/// SHA-512 digest (01-group.md §Generators).
pub fn tag_base(base_hash: &[u8; 32], x: &Point) -> RistrettoPoint {
    RistrettoPoint::hash_from_bytes::<Sha512>(&[b"dobush/v2/tag-base".as_slice(), base_hash, &x.bytes].concat())
}

/// A ciphertext `(α, β)`, both components canonical and not the identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ciphertext {
    /// α.
    pub alpha: Point,
    /// β.
    pub beta: Point,
}

/// `cred = Enc_K(X; r_X)` and `tbase = Enc_K(TB(X); r_V)` (§3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EncryptedCredential {
    /// The encrypted credential.
    pub cred: Ciphertext,
    /// The encrypted tag base.
    pub tbase: Ciphertext,
}

/// `credential_proof: {a1, a2, a3, zx, zr, zv}` (§3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CredentialProof {
    /// A₁.
    pub a1: Point,
    /// A₂.
    pub a2: Point,
    /// A₃.
    pub a3: Point,
    /// z_x.
    pub zx: Scalar,
    /// z_r.
    pub zr: Scalar,
    /// z_v.
    pub zv: Scalar,
}

/// Parses `{alpha, beta}` strictly.
pub(crate) fn ciphertext(v: &Value, what: &str) -> Decoded<Ciphertext> {
    exact(v, fields::CIPHERTEXT, what)?;
    Ok(Ciphertext {
        alpha: point(field(v, "alpha", what)?, &format!("{what}.alpha"))?,
        beta: point(field(v, "beta", what)?, &format!("{what}.beta"))?,
    })
}

/// Parses `{cred: {alpha, beta}, tbase: {alpha, beta}}` strictly.
pub fn parse_encrypted_credential(v: &Value, what: &str) -> Decoded<EncryptedCredential> {
    exact(v, fields::ENCRYPTED_CREDENTIAL, what)?;
    Ok(EncryptedCredential {
        cred: ciphertext(field(v, "cred", what)?, &format!("{what}, cred"))?,
        tbase: ciphertext(field(v, "tbase", what)?, &format!("{what}, tbase"))?,
    })
}

/// Parses a credential proof strictly (E1 points, E2 scalars, no other field).
pub fn parse_credential_proof(v: &Value, what: &str) -> Decoded<CredentialProof> {
    exact(v, fields::CREDENTIAL_PROOF, what)?;
    let p = |name: &str| point(field(v, name, what)?, &format!("{what}.{name}"));
    let s = |name: &str| scalar(field(v, name, what)?, &format!("{what}.{name}"));
    Ok(CredentialProof { a1: p("a1")?, a2: p("a2")?, a3: p("a3")?, zx: s("zx")?, zr: s("zr")?, zv: s("zv")? })
}

/// Parses a signature `{r, s}` strictly.
pub fn parse_signature(v: &Value, what: &str) -> Decoded<(Point, Scalar)> {
    exact(v, fields::SIGNATURE, what)?;
    Ok((point(field(v, "r", what)?, &format!("{what}.r"))?, scalar(field(v, "s", what)?, &format!("{what}.s"))?))
}

impl CredentialProof {
    /// `a1 ‖ a2 ‖ a3 ‖ zx ‖ zr ‖ zv`, the 192 bytes the tracking code absorbs.
    pub fn bytes(&self) -> Vec<u8> {
        [
            self.a1.bytes.as_slice(),
            &self.a2.bytes,
            &self.a3.bytes,
            self.zx.as_bytes(),
            self.zr.as_bytes(),
            self.zv.as_bytes(),
        ]
        .concat()
    }
}

/// The credential proof's challenge c (§3.2): the statement (context, body hash, then
/// `cred.α, cred.β, tbase.α, tbase.β`) before the commitments A₁, A₂, A₃.
fn credential_challenge(
    context: &[u8; 32],
    body_hash: &[u8; 32],
    enc: &EncryptedCredential,
    p: &CredentialProof,
) -> Scalar {
    let mut t = new(b"credential-proof");
    t.append_message(b"context", context);
    t.append_message(b"body-hash", body_hash);
    t.append_message(b"cred-alpha", &enc.cred.alpha.bytes);
    t.append_message(b"cred-beta", &enc.cred.beta.bytes);
    t.append_message(b"tbase-alpha", &enc.tbase.alpha.bytes);
    t.append_message(b"tbase-beta", &enc.tbase.beta.bytes);
    t.append_message(b"A1", &p.a1.bytes);
    t.append_message(b"A2", &p.a2.bytes);
    t.append_message(b"A3", &p.a3.bytes);
    challenge(&mut t, b"c")
}

/// Adds CR-1 … CR-3 (§3.2) to `eqs` for the ballot's body hash under the extended hash
/// `context` and the election key `k`. Returns false without an equation if `cred.α = tbase.α`
/// (the reused-randomness rule, §3.1). `tbase.β` is in no equation; the challenge binds it.
pub fn credential_proof(
    context: &[u8; 32],
    body_hash: &[u8; 32],
    k: &RistrettoPoint,
    enc: &EncryptedCredential,
    p: &CredentialProof,
    eqs: &mut Equations,
) -> bool {
    if enc.cred.alpha.bytes == enc.tbase.alpha.bytes {
        return false;
    }
    let c = credential_challenge(context, body_hash, enc, p);
    let one = Scalar::ONE;
    // CR-1  z_r·G − A₁ − c·cred.α = 0
    let cr1 = eqs.add(p.zr, Scalar::ZERO, &[(-one, p.a1.p), (-c, enc.cred.alpha.p)]);
    // CR-2  z_x·G + z_r·K − A₂ − c·cred.β = 0
    let cr2 = eqs.add(p.zx, Scalar::ZERO, &[(p.zr, *k), (-one, p.a2.p), (-c, enc.cred.beta.p)]);
    // CR-3  z_v·G − A₃ − c·tbase.α = 0
    let cr3 = eqs.add(p.zv, Scalar::ZERO, &[(-one, p.a3.p), (-c, enc.tbase.alpha.p)]);
    cr1 & cr2 & cr3
}

/// The v2 tracking code (§3.2): `new("tracking-code")`, `msg("body-hash")`,
/// `msg("credential-proof", a1 ‖ … ‖ zv)`, `challenge_bytes("tracking-code", 32)`.
pub fn tracking_code(body_hash: &[u8; 32], p: &CredentialProof) -> [u8; 32] {
    let mut t = new(b"tracking-code");
    t.append_message(b"body-hash", body_hash);
    t.append_message(b"credential-proof", &p.bytes());
    hash32(&mut t, b"tracking-code")
}

/// Whether `pin` is a PIN: exactly 14 ASCII digits (§3.3).
pub fn is_pin(pin: &str) -> bool {
    pin.len() == 14 && pin.bytes().all(|b| b.is_ascii_digit())
}

/// `pc = SHA-256("dobush/v2/pin-commitment" ‖ salt ‖ utf8(PIN))` (§3.3); `None` for a string
/// that is not a PIN.
pub fn pin_commitment(salt: &[u8; 32], pin: &str) -> Option<[u8; 32]> {
    if !is_pin(pin) {
        return None;
    }
    let mut h = Sha256::new();
    h.update(b"dobush/v2/pin-commitment");
    h.update(salt);
    h.update(pin.as_bytes());
    Some(h.finalize().into())
}

/// What a registration binding binds (§3.3).
#[derive(Clone, Copy, Debug)]
pub struct Binding<'a> {
    /// The election's base hash.
    pub base_hash: &'a [u8; 32],
    /// The campaign id.
    pub campaign: &'a str,
    /// The PIN.
    pub pin: &'a str,
    /// The salt.
    pub salt: &'a [u8; 32],
    /// The ballot style id.
    pub style: &'a str,
    /// The replacement decision, `""` at application.
    pub decision: &'a str,
    /// The credential X.
    pub credential: &'a Point,
}

/// Checks a registration binding `(R, s)` against the credential's published PIN commitment
/// `pc`: the PIN is a PIN, its salt gives `pc`, and X signed exactly this statement
/// (04-proofs.md §Signatures).
pub fn registration_binding(b: &Binding<'_>, r: &Point, s: &Scalar, pc: &[u8; 32]) -> Result<(), String> {
    let Some(computed) = pin_commitment(b.salt, b.pin) else {
        return Err("registration binding: the PIN is not 14 ASCII digits".into());
    };
    if computed != *pc {
        return Err("registration binding: the PIN and salt do not give the published PIN commitment".into());
    }
    let mut t: Transcript = new(b"registration-binding");
    t.append_message(b"context", b.base_hash);
    t.append_message(b"campaign", b.campaign.as_bytes());
    t.append_message(b"pin", b.pin.as_bytes());
    t.append_message(b"salt", b.salt);
    t.append_message(b"style", b.style.as_bytes());
    t.append_message(b"decision", b.decision.as_bytes());
    t.append_message(b"credential", &b.credential.bytes);
    let mut eqs = Equations::direct();
    if signature(&mut t, b.credential, r, s, &mut eqs) && eqs.check() {
        Ok(())
    } else {
        Err("registration binding: the credential's signature fails".into())
    }
}

#[cfg(test)]
mod tests {
    //! Against `vectors/credential-v2.json`, which `dobush-crypto` wrote (`gen_vectors`): what
    //! crypto proves, this independent code accepts, with the same TB(X) and tracking code.

    use super::*;
    use crate::encoding::hex_n;
    use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;

    fn vector() -> Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../vectors/credential-v2.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    struct Case {
        context: [u8; 32],
        base_hash: [u8; 32],
        k: RistrettoPoint,
        body: [u8; 32],
        enc: EncryptedCredential,
        proof: CredentialProof,
    }

    fn case(v: &Value) -> Case {
        let e = &v["election"];
        Case {
            context: hex_n::<32>(&e["extended_hash"], "extended_hash").unwrap(),
            base_hash: hex_n::<32>(&e["base_hash"], "base_hash").unwrap(),
            k: point(&e["joint_key"], "joint_key").unwrap().p,
            body: hex_n::<32>(&v["body_hash"], "body_hash").unwrap(),
            enc: parse_encrypted_credential(&v["encrypted_credential"], "enc").unwrap(),
            proof: parse_credential_proof(&v["credential_proof"], "proof").unwrap(),
        }
    }

    /// Which of CR-1, CR-2, CR-3 hold, each checked on its own.
    fn which_hold(
        c: &Case,
        context: &[u8; 32],
        body: &[u8; 32],
        enc: &EncryptedCredential,
        p: &CredentialProof,
    ) -> Vec<bool> {
        let mut eqs = Equations::direct();
        let ch = credential_challenge(context, body, enc, p);
        vec![
            eqs.add(p.zr, Scalar::ZERO, &[(-Scalar::ONE, p.a1.p), (-ch, enc.cred.alpha.p)]),
            eqs.add(p.zx, Scalar::ZERO, &[(p.zr, c.k), (-Scalar::ONE, p.a2.p), (-ch, enc.cred.beta.p)]),
            eqs.add(p.zv, Scalar::ZERO, &[(-Scalar::ONE, p.a3.p), (-ch, enc.tbase.alpha.p)]),
        ]
    }

    fn accepts(c: &Case, context: &[u8; 32], body: &[u8; 32], enc: &EncryptedCredential, p: &CredentialProof) -> bool {
        let mut direct = Equations::direct();
        let d = credential_proof(context, body, &c.k, enc, p, &mut direct) && direct.check();
        let mut batched = Equations::batched();
        let b = credential_proof(context, body, &c.k, enc, p, &mut batched) && batched.check();
        assert_eq!(d, b, "batched and direct checks agree");
        d
    }

    #[test]
    fn crypto_s_credential_proof_verifies_with_the_same_tag_base_and_tracking_code() {
        let v = vector();
        let c = case(&v);
        let x = point(&v["credential"], "credential").unwrap();
        assert_eq!(tag_base(&c.base_hash, &x).compress().to_bytes(), hex_n::<32>(&v["tag_base"], "tb").unwrap());
        assert!(accepts(&c, &c.context, &c.body, &c.enc, &c.proof));
        assert_eq!(hex::encode(tracking_code(&c.body, &c.proof)), v["tracking_code"].as_str().unwrap());
        // cred and tbase open with the listed nonces to X and TB(X).
        let r_x = scalar(&v["r_x"], "r_x").unwrap();
        let r_v = scalar(&v["r_v"], "r_v").unwrap();
        let g = RISTRETTO_BASEPOINT_POINT;
        assert_eq!(c.enc.cred.alpha.p, r_x * g);
        assert_eq!(c.enc.cred.beta.p, x.p + r_x * c.k);
        assert_eq!(c.enc.tbase.alpha.p, r_v * g);
        assert_eq!(c.enc.tbase.beta.p, tag_base(&c.base_hash, &x) + r_v * c.k);
    }

    #[test]
    fn each_forgery_breaks_exactly_its_equation_and_is_refused() {
        let v = vector();
        let c = case(&v);
        for f in v["forged_credential_proofs"].as_array().unwrap() {
            let enc = parse_encrypted_credential(&f["encrypted_credential"], "forged").unwrap();
            let p = parse_credential_proof(&f["credential_proof"], "forged").unwrap();
            let broken = ["CR-1", "CR-2", "CR-3"].map(|name| f["breaks"] == name);
            let holds = which_hold(&c, &c.context, &c.body, &enc, &p);
            assert_eq!(holds, broken.map(|b| !b).to_vec(), "{}", f["breaks"]);
            assert!(!accepts(&c, &c.context, &c.body, &enc, &p));
        }
    }

    #[test]
    fn any_change_of_field_context_or_body_hash_is_refused() {
        let v = vector();
        let c = case(&v);
        let mut other = c.body;
        other[0] ^= 1;
        assert!(!accepts(&c, &c.context, &other, &c.enc, &c.proof), "another body hash");
        let mut ctx = c.context;
        ctx[31] ^= 0x80;
        assert!(!accepts(&c, &ctx, &c.body, &c.enc, &c.proof), "another election");
        let g = Point { p: RISTRETTO_BASEPOINT_POINT, bytes: RISTRETTO_BASEPOINT_POINT.compress().to_bytes() };
        for i in 0..6 {
            let mut p = c.proof;
            match i {
                0 => p.a1 = g,
                1 => p.a2 = g,
                2 => p.a3 = g,
                3 => p.zx += Scalar::ONE,
                4 => p.zr += Scalar::ONE,
                _ => p.zv += Scalar::ONE,
            }
            assert!(!accepts(&c, &c.context, &c.body, &c.enc, &p), "field {i}");
            assert_ne!(tracking_code(&c.body, &p), tracking_code(&c.body, &c.proof));
        }
        for i in 0..5 {
            let mut e = c.enc;
            match i {
                0 => e.cred.alpha = g,
                1 => e.cred.beta = g,
                2 => e.tbase.alpha = g,
                3 => e.tbase.beta = g,
                _ => std::mem::swap(&mut e.cred, &mut e.tbase),
            }
            assert!(!accepts(&c, &c.context, &c.body, &e, &c.proof), "ciphertext {i}");
        }
        // cred.α = tbase.α is refused before any equation.
        let mut e = c.enc;
        e.tbase.alpha = e.cred.alpha;
        assert!(!credential_proof(&c.context, &c.body, &c.k, &e, &c.proof, &mut Equations::direct()));
    }

    #[test]
    fn a_proof_for_one_tbase_beta_is_refused_with_another() {
        // tbase.β is in no equation of CR-1 … CR-3; under the same body hash, with cred and
        // tbase.α unchanged, only the transcript (§3.2) refuses crypto's proof for another β.
        let v = vector();
        let c = case(&v);
        assert!(accepts(&c, &c.context, &c.body, &c.enc, &c.proof));
        let moved = c.enc.tbase.beta.p + RISTRETTO_BASEPOINT_POINT;
        let mut e = c.enc;
        e.tbase.beta = Point { p: moved, bytes: moved.compress().to_bytes() };
        assert!(!accepts(&c, &c.context, &c.body, &e, &c.proof));
        // All three fail at once: the challenge changed, no relation did.
        assert_eq!(which_hold(&c, &c.context, &c.body, &e, &c.proof), [false; 3]);
    }

    #[test]
    fn non_canonical_encodings_and_unknown_fields_are_refused() {
        let v = vector();
        for r in v["refused_encodings"].as_array().unwrap() {
            let mut p = v["credential_proof"].clone();
            p[r["field"].as_str().unwrap()] = r["value"].clone();
            assert!(parse_credential_proof(&p, "proof").is_err(), "{}", r["reason"]);
        }
        let mut p = v["credential_proof"].clone();
        p["c"] = v["credential_proof"]["zx"].clone();
        assert!(parse_credential_proof(&p, "proof").is_err());
        let mut e = v["encrypted_credential"].clone();
        e["cred"]["alpha"] = "00".repeat(32).into();
        assert!(parse_encrypted_credential(&e, "enc").is_err(), "identity cred.α");
        let mut e = v["encrypted_credential"].clone();
        e["tbase"]["gamma"] = e["tbase"]["alpha"].clone();
        assert!(parse_encrypted_credential(&e, "enc").is_err());
    }

    #[test]
    fn registration_bindings_verify_against_their_pin_commitment_only() {
        let v = vector();
        let c = case(&v);
        let x = point(&v["credential"], "credential").unwrap();
        let regs = v["registrations"].as_array().unwrap();
        for r in regs {
            let salt = hex_n::<32>(&r["salt"], "salt").unwrap();
            let pc = hex_n::<32>(&r["pin_commitment"], "pc").unwrap();
            let pin = r["pin"].as_str().unwrap();
            assert_eq!(pin_commitment(&salt, pin), Some(pc));
            let (rr, s) = parse_signature(&r["binding"], "binding").unwrap();
            let b = Binding {
                base_hash: &c.base_hash,
                campaign: r["campaign"].as_str().unwrap(),
                pin,
                salt: &salt,
                style: r["style"].as_str().unwrap(),
                decision: r["decision"].as_str().unwrap(),
                credential: &x,
            };
            registration_binding(&b, &rr, &s, &pc).unwrap();
            // Another PIN, salt, style, decision, campaign, election or credential; another pc.
            let other_salt = [0x5a; 32];
            let other_pc = pin_commitment(&other_salt, pin).unwrap();
            let k = Point { p: c.k, bytes: c.k.compress().to_bytes() };
            let other_base = [0u8; 32];
            for (b2, pc2) in [
                (Binding { pin: "11111111111111", ..b }, pc),
                (Binding { salt: &other_salt, ..b }, pc),
                (Binding { salt: &other_salt, ..b }, other_pc),
                (Binding { style: "other", ..b }, pc),
                (Binding { decision: "another decision", ..b }, pc),
                (Binding { campaign: "other", ..b }, pc),
                (Binding { base_hash: &other_base, ..b }, pc),
                (Binding { credential: &k, ..b }, pc),
                (b, [0; 32]),
            ] {
                assert!(registration_binding(&b2, &rr, &s, &pc2).is_err(), "{b2:?}");
            }
            assert!(registration_binding(&b, &rr, &(s + Scalar::ONE), &pc).is_err());
        }
        // An application binding (decision "") does not pass as the replacement's, nor back.
        let (r0, s0) = parse_signature(&regs[0]["binding"], "binding").unwrap();
        let salt1 = hex_n::<32>(&regs[1]["salt"], "salt").unwrap();
        let pc1 = hex_n::<32>(&regs[1]["pin_commitment"], "pc").unwrap();
        let b1 = Binding {
            base_hash: &c.base_hash,
            campaign: regs[1]["campaign"].as_str().unwrap(),
            pin: regs[1]["pin"].as_str().unwrap(),
            salt: &salt1,
            style: regs[1]["style"].as_str().unwrap(),
            decision: regs[1]["decision"].as_str().unwrap(),
            credential: &x,
        };
        assert!(registration_binding(&b1, &r0, &s0, &pc1).is_err());
    }

    #[test]
    fn pins_are_fourteen_ascii_digits() {
        assert!(pin_commitment(&[0; 32], "21204199500123").is_some());
        for bad in ["2120419950012", "212041995001234", "2120419950012a", "2120419950012٣", ""] {
            assert_eq!(pin_commitment(&[0; 32], bad), None, "{bad:?}");
        }
    }
}
