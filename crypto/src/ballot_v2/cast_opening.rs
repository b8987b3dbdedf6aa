//! The cast opening, designated to the server (`docs/protocol/13-revoting.md` §3.4).
//!
//! The device proves to the server that the ballot was made with the logged-in voter's
//! registered credential X_reg, by an OR-proof (Cramer–Damgård–Schoenmakers) of
//!
//! ```text
//! branch 0: knowledge of (r_X, r_V): cred.α = r_X·G, cred.β − X_reg = r_X·K,
//!                                    tbase.α = r_V·G, tbase.β − TB(X_reg) = r_V·K
//! branch 1: knowledge of y:          Y_S = y·G
//! ```
//!
//! where Y_S is the server's designated-verifier key. The device knows branch 0 and simulates
//! branch 1 ([`prove_cast_opening`]); the server, who knows y, can make an opening for *any*
//! X_reg by simulating branch 0 ([`simulate_cast_opening`]), so an opening convinces nobody but
//! the server. It is verified ([`verify_cast_opening`]) and never stored, logged or published.
//!
//! ```text
//! T ← new("cast-opening"); T.msg("context", extended_hash); T.msg("body-hash", body_hash)
//! T.point("cred-alpha", cred.α); T.point("cred-beta", cred.β)
//! T.point("tbase-alpha", tbase.α); T.point("tbase-beta", tbase.β)
//! T.point("x-reg", X_reg); T.point("y-s", Y_S)
//! T.point("A1", A₁) … T.point("A5", A₅);  c = wide(T.challenge_bytes("c", 64))
//! CO-0  c₀ + c₁ = c
//! CO-1  z₁·G − A₁ − c₀·cred.α = 0          CO-2  z₁·K − A₂ − c₀·(cred.β − X_reg) = 0
//! CO-3  z₂·G − A₃ − c₀·tbase.α = 0         CO-4  z₂·K − A₄ − c₀·(tbase.β − TB(X_reg)) = 0
//! CO-5  z₃·G − A₅ − c₁·Y_S = 0
//! ```

use std::fmt;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::encrypted_credential::{CredentialNonces, EncryptedCredential, tag_base};
use crate::context::ElectionContext;
use crate::error::{DecodeError, ProofError};
use crate::group::{GroupElement, decode_scalar, mul_base, random_nonzero_scalar, scalar_hex};
use crate::labels;
use crate::proofs::{DirectCheck, Equation, EquationSink};
use crate::signature::VerifyingKey;
use crate::transcript::TranscriptProtocol;

/// The server's designated-verifier secret y (`cast_verifier_key` Y_S = y·G, §3.4): drawn fresh
/// for one campaign when the package is made, used for nothing else, published after `closed`.
/// Zeroized on drop, redacted in `Debug`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct CastVerifierSecret {
    y: Scalar,
    #[zeroize(skip)]
    public: GroupElement,
}

impl CastVerifierSecret {
    /// A fresh non-zero secret (64 bytes, redrawn while zero).
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let y = random_nonzero_scalar(rng);
        Self { y, public: GroupElement::from_nonzero_multiple(mul_base(&y)) }
    }

    /// From its 32-byte canonical encoding (e.g. the revealed `cast_verifier_revealed {secret}`);
    /// zero is refused.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let y = decode_scalar(bytes)?;
        if y == Scalar::ZERO {
            return Err(DecodeError::ZeroScalar);
        }
        Ok(Self { y, public: GroupElement::from_nonzero_multiple(mul_base(&y)) })
    }

    /// The encoding of y, for the server's sealed storage and for its reveal after `closed`.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.y.to_bytes()
    }

    /// Y_S = y·G.
    pub fn public_key(&self) -> &GroupElement {
        &self.public
    }
}

impl fmt::Debug for CastVerifierSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CastVerifierSecret(public={}, secret=<redacted>)", self.public.to_hex())
    }
}

/// What a cast opening is about: a ballot (its body hash, `cred` and `tbase`), the voter's
/// registered active credential X_reg and the server's key Y_S.
#[derive(Clone, Copy, Debug)]
pub struct OpeningStatement<'a> {
    /// The election (extended hash, base hash for TB, K).
    pub ctx: &'a ElectionContext,
    /// The ballot's body hash (covers `cred`, `tbase` and every contest).
    pub body_hash: &'a [u8; 32],
    /// The ballot's `cred` and `tbase`.
    pub enc: &'a EncryptedCredential,
    /// X_reg: the logged-in voter's registered active credential.
    pub registered: &'a VerifyingKey,
    /// Y_S: the campaign's `cast_verifier_key`.
    pub verifier_key: &'a GroupElement,
}

/// The cast opening `opening_proof: {a1, a2, a3, a4, a5, c0, c1, z1, z2, z3}` (§3.4): the
/// commitments of both branches, their challenges and responses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CastOpening {
    /// A₁ (branch 0, on G).
    pub a1: GroupElement,
    /// A₂ (branch 0, on K).
    pub a2: GroupElement,
    /// A₃ (branch 0, on G).
    pub a3: GroupElement,
    /// A₄ (branch 0, on K).
    pub a4: GroupElement,
    /// A₅ (branch 1, on G).
    pub a5: GroupElement,
    /// c₀, branch 0's challenge.
    #[serde(with = "scalar_hex")]
    pub c0: Scalar,
    /// c₁, branch 1's challenge.
    #[serde(with = "scalar_hex")]
    pub c1: Scalar,
    /// z₁ (branch 0, for r_X).
    #[serde(with = "scalar_hex")]
    pub z1: Scalar,
    /// z₂ (branch 0, for r_V).
    #[serde(with = "scalar_hex")]
    pub z2: Scalar,
    /// z₃ (branch 1, for y).
    #[serde(with = "scalar_hex")]
    pub z3: Scalar,
}

impl OpeningStatement<'_> {
    /// The whole statement before the commitments (rule F1): context, body hash, the four points
    /// of `cred` and `tbase`, X_reg and Y_S.
    fn transcript(&self) -> Transcript {
        let mut t = Transcript::protocol(labels::DS_CAST_OPENING);
        t.append_message(labels::L_CONTEXT, self.ctx.extended_hash());
        t.append_message(labels::L_BODY_HASH, self.body_hash);
        self.enc.append_to(&mut t);
        t.append_element(labels::L_X_REG, &self.registered.0);
        t.append_element(labels::L_Y_S, self.verifier_key);
        t
    }

    /// Branch 0's D₁ = cred.β − X_reg and D₂ = tbase.β − TB(X_reg), which are r_X·K and r_V·K
    /// when the ballot was made with X_reg.
    fn branch0_betas(&self) -> (RistrettoPoint, RistrettoPoint) {
        let x = &self.registered.0;
        (self.enc.cred.beta.point() - x.point(), self.enc.tbase.beta.point() - tag_base(self.ctx.base_hash(), x))
    }
}

fn commitment(p: RistrettoPoint) -> Result<GroupElement, ProofError> {
    GroupElement::from_point(p).map_err(|_| ProofError::Shape("identity commitment"))
}

fn append_commitments(t: &mut Transcript, p: [&GroupElement; 5]) {
    let labels = [labels::L_CAP_A1, labels::L_CAP_A2, labels::L_CAP_A3, labels::L_CAP_A4, labels::L_CAP_A5];
    for (label, a) in labels.into_iter().zip(p) {
        t.append_element(label, a);
    }
}

/// The device's opening with its own nonces, unchecked (the tests make openings for a wrong
/// X_reg with it).
fn prove_unchecked<R: RngCore + CryptoRng>(
    st: &OpeningStatement<'_>,
    nonces: &CredentialNonces,
    rng: &mut R,
) -> Result<CastOpening, ProofError> {
    let mut t = st.transcript();
    let mut rng_t = t
        .build_rng()
        .rekey_with_witness_bytes(labels::W_R_X, nonces.r_x().as_bytes())
        .rekey_with_witness_bytes(labels::W_R_V, nonces.r_v().as_bytes())
        .finalize(rng);
    // Branch 1 simulated: c₁, z₃; then branch 0's nonces a₁, a₂ (§3.6, step 5).
    let c1 = random_nonzero_scalar(&mut rng_t);
    let z3 = random_nonzero_scalar(&mut rng_t);
    let a1n = Zeroizing::new(random_nonzero_scalar(&mut rng_t));
    let a2n = Zeroizing::new(random_nonzero_scalar(&mut rng_t));
    let key = st.ctx.key_table();
    let a1 = commitment(mul_base(&a1n))?;
    let a2 = commitment(key.mul(&a1n))?;
    let a3 = commitment(mul_base(&a2n))?;
    let a4 = commitment(key.mul(&a2n))?;
    let a5 = commitment(mul_base(&z3) - c1 * st.verifier_key.point())?;
    append_commitments(&mut t, [&a1, &a2, &a3, &a4, &a5]);
    let c = t.challenge_scalar(labels::L_C);
    let c0 = c - c1;
    Ok(CastOpening { a1, a2, a3, a4, a5, c0, c1, z1: *a1n + c0 * nonces.r_x(), z2: *a2n + c0 * nonces.r_v(), z3 })
}

/// The device's opening (§3.4): it knows branch 0 (the nonces of `cred` and `tbase`, made with
/// X_reg) and simulates branch 1. Refuses nonces that do not open `cred` and `tbase` to X_reg.
///
/// Draws 32 bytes from `rng` (`finalize`); then, from the transcript RNG rekeyed with r_X and
/// r_V (hedged), c₁, z₃, a₁, a₂, each 64 bytes reduced wide and redrawn while zero (§3.6, step 5).
pub fn prove_cast_opening<R: RngCore + CryptoRng>(
    st: &OpeningStatement<'_>,
    nonces: &CredentialNonces,
    rng: &mut R,
) -> Result<CastOpening, ProofError> {
    if !nonces.opens(st.ctx, st.registered, st.enc) {
        return Err(ProofError::Shape("cred and tbase are not encryptions of the registered credential"));
    }
    prove_unchecked(st, nonces, rng)
}

/// An opening made by the holder of y for any X_reg, whatever credential the ballot carries
/// (§3.4): branch 0 simulated (c₀, z₁, z₂), branch 1 real (a₃). It verifies exactly like the
/// device's, which is why an opening is evidence to nobody but the server.
///
/// Draws 32 bytes from `rng` (`finalize`); then, from the transcript RNG rekeyed with y, c₀, z₁,
/// z₂, a₃, each 64 bytes reduced wide and redrawn while zero.
pub fn simulate_cast_opening<R: RngCore + CryptoRng>(
    st: &OpeningStatement<'_>,
    secret: &CastVerifierSecret,
    rng: &mut R,
) -> Result<CastOpening, ProofError> {
    if secret.public_key() != st.verifier_key {
        return Err(ProofError::Shape("the secret is not the statement's verifier key"));
    }
    let mut t = st.transcript();
    let mut rng_t = t.build_rng().rekey_with_witness_bytes(labels::W_Y, secret.y.as_bytes()).finalize(rng);
    let c0 = random_nonzero_scalar(&mut rng_t);
    let z1 = random_nonzero_scalar(&mut rng_t);
    let z2 = random_nonzero_scalar(&mut rng_t);
    let a3n = Zeroizing::new(random_nonzero_scalar(&mut rng_t));
    let key = st.ctx.key_table();
    let (d_cred, d_tbase) = st.branch0_betas();
    let a1 = commitment(mul_base(&z1) - c0 * st.enc.cred.alpha.point())?;
    let a2 = commitment(key.mul(&z1) - c0 * d_cred)?;
    let a3 = commitment(mul_base(&z2) - c0 * st.enc.tbase.alpha.point())?;
    let a4 = commitment(key.mul(&z2) - c0 * d_tbase)?;
    let a5 = commitment(mul_base(&a3n))?;
    append_commitments(&mut t, [&a1, &a2, &a3, &a4, &a5]);
    let c = t.challenge_scalar(labels::L_C);
    let c1 = c - c0;
    Ok(CastOpening { a1, a2, a3, a4, a5, c0, c1, z1, z2, z3: *a3n + c1 * secret.y })
}

/// Adds CO-1 … CO-5 to `sink` after checking CO-0 (`c₀ + c₁ = c`, a [`ProofError::Challenge`]).
pub fn verify_cast_opening_into<S: EquationSink>(
    st: &OpeningStatement<'_>,
    p: &CastOpening,
    sink: &mut S,
) -> Result<(), ProofError> {
    let mut t = st.transcript();
    append_commitments(&mut t, [&p.a1, &p.a2, &p.a3, &p.a4, &p.a5]);
    let c = t.challenge_scalar(labels::L_C);
    if p.c0 + p.c1 != c {
        return Err(ProofError::Challenge);
    }
    let k = sink.base(st.ctx.joint_key().point());
    let (d_cred, d_tbase) = st.branch0_betas();
    let one = Scalar::ONE;
    // CO-1  z₁·G − A₁ − c₀·cred.α = 0
    sink.equation(Equation {
        g: p.z1,
        h: Scalar::ZERO,
        fixed: &[],
        terms: &[(-one, *p.a1.point()), (-p.c0, *st.enc.cred.alpha.point())],
    })?;
    // CO-2  z₁·K − A₂ − c₀·(cred.β − X_reg) = 0
    sink.equation(Equation {
        g: Scalar::ZERO,
        h: Scalar::ZERO,
        fixed: &[(k, p.z1)],
        terms: &[(-one, *p.a2.point()), (-p.c0, d_cred)],
    })?;
    // CO-3  z₂·G − A₃ − c₀·tbase.α = 0
    sink.equation(Equation {
        g: p.z2,
        h: Scalar::ZERO,
        fixed: &[],
        terms: &[(-one, *p.a3.point()), (-p.c0, *st.enc.tbase.alpha.point())],
    })?;
    // CO-4  z₂·K − A₄ − c₀·(tbase.β − TB(X_reg)) = 0
    sink.equation(Equation {
        g: Scalar::ZERO,
        h: Scalar::ZERO,
        fixed: &[(k, p.z2)],
        terms: &[(-one, *p.a4.point()), (-p.c0, d_tbase)],
    })?;
    // CO-5  z₃·G − A₅ − c₁·Y_S = 0
    sink.equation(Equation {
        g: p.z3,
        h: Scalar::ZERO,
        fixed: &[],
        terms: &[(-one, *p.a5.point()), (-p.c1, *st.verifier_key.point())],
    })
}

/// The server's check of a cast opening (§3.4); a failure is 403 `credential_mismatch`.
pub fn verify_cast_opening(st: &OpeningStatement<'_>, p: &CastOpening) -> Result<(), ProofError> {
    verify_cast_opening_into(st, p, &mut DirectCheck::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ballot_v2::encrypted_credential::encrypt_credential;
    use crate::ballot_v2::test_context;
    use crate::proofs::BatchVerifier;
    use crate::signature::SigningKey;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    struct Fixture {
        ctx: ElectionContext,
        x: VerifyingKey,
        other: VerifyingKey,
        enc: EncryptedCredential,
        nonces: CredentialNonces,
        body: [u8; 32],
        server: CastVerifierSecret,
    }

    fn fixture(seed: u64) -> (Fixture, ChaCha20Rng) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let (ctx, _) = test_context();
        let x = SigningKey::generate(&mut rng).verifying_key();
        let other = SigningKey::generate(&mut rng).verifying_key();
        let (enc, nonces) = encrypt_credential(&ctx, &x, &mut rng).unwrap();
        let mut body = [0u8; 32];
        rng.fill_bytes(&mut body);
        let server = CastVerifierSecret::generate(&mut rng);
        (Fixture { ctx, x, other, enc, nonces, body, server }, rng)
    }

    impl Fixture {
        fn st<'a>(&'a self, registered: &'a VerifyingKey) -> OpeningStatement<'a> {
            OpeningStatement {
                ctx: &self.ctx,
                body_hash: &self.body,
                enc: &self.enc,
                registered,
                verifier_key: self.server.public_key(),
            }
        }
    }

    #[test]
    fn the_device_opening_verifies_for_its_registered_credential_only() {
        let (f, mut rng) = fixture(1);
        let st = f.st(&f.x);
        let p = prove_cast_opening(&st, &f.nonces, &mut rng).unwrap();
        verify_cast_opening(&st, &p).unwrap();
        let mut b = BatchVerifier::new(&mut rng);
        verify_cast_opening_into(&st, &p, &mut b).unwrap();
        b.finish().unwrap();
        // Another X_reg: refused by the server, and the device cannot make one.
        let wrong = f.st(&f.other);
        // X_reg is in the transcript, so the moved opening fails its challenge sum (CO-0) ...
        assert_eq!(verify_cast_opening(&wrong, &p), Err(ProofError::Challenge));
        assert!(prove_cast_opening(&wrong, &f.nonces, &mut rng).is_err());
        // ... and one made for the other X_reg with the device's nonces fails CO-2 and CO-4.
        let forced = prove_unchecked(&wrong, &f.nonces, &mut rng).unwrap();
        assert_eq!(verify_cast_opening(&wrong, &forced), Err(ProofError::Equation));
        // Hedged nonces: another opening of the same statement differs and verifies.
        let q = prove_cast_opening(&st, &f.nonces, &mut rng).unwrap();
        assert_ne!(p, q);
        verify_cast_opening(&st, &q).unwrap();
    }

    #[test]
    fn the_server_holding_y_opens_any_ballot_for_any_credential() {
        // The designated-verifier property: with y, an opening for X_reg = other verifies
        // although the ballot was made with x; so no opening is evidence to a third party.
        let (f, mut rng) = fixture(2);
        for registered in [&f.other, &f.x] {
            let st = f.st(registered);
            let p = simulate_cast_opening(&st, &f.server, &mut rng).unwrap();
            verify_cast_opening(&st, &p).unwrap();
        }
        // Without y (another secret), the server cannot.
        let stranger = CastVerifierSecret::generate(&mut rng);
        assert!(simulate_cast_opening(&f.st(&f.other), &stranger, &mut rng).is_err());
        // A real opening and a simulated one have the same form; neither names its real branch.
        let st = f.st(&f.x);
        let real = prove_cast_opening(&st, &f.nonces, &mut rng).unwrap();
        let sim = simulate_cast_opening(&st, &f.server, &mut rng).unwrap();
        assert_eq!(
            serde_json::to_value(&real).unwrap().as_object().unwrap().keys().collect::<Vec<_>>(),
            serde_json::to_value(&sim).unwrap().as_object().unwrap().keys().collect::<Vec<_>>()
        );
    }

    #[test]
    fn altered_openings_and_statements_are_refused() {
        let (f, mut rng) = fixture(3);
        let st = f.st(&f.x);
        let p = prove_cast_opening(&st, &f.nonces, &mut rng).unwrap();
        let g5 = GroupElement::from_point(mul_base(&Scalar::from(5u64))).unwrap();
        for i in 0..10 {
            let mut q = p.clone();
            match i {
                0 => q.a1 = g5,
                1 => q.a2 = g5,
                2 => q.a3 = g5,
                3 => q.a4 = g5,
                4 => q.a5 = g5,
                5 => q.c0 += Scalar::ONE,
                6 => q.c1 += Scalar::ONE,
                7 => q.z1 += Scalar::ONE,
                8 => q.z2 += Scalar::ONE,
                _ => q.z3 += Scalar::ONE,
            }
            assert!(verify_cast_opening(&st, &q).is_err(), "field {i}");
        }
        // Moving challenge between the branches keeps CO-0 and breaks the equations.
        let mut q = p.clone();
        q.c0 += Scalar::ONE;
        q.c1 -= Scalar::ONE;
        assert_eq!(verify_cast_opening(&st, &q), Err(ProofError::Equation));
        let mut q = p.clone();
        q.c1 += Scalar::ONE;
        assert_eq!(verify_cast_opening(&st, &q), Err(ProofError::Challenge));
        // Another body hash, election, ballot ciphertexts or server key.
        let mut body = f.body;
        body[5] ^= 4;
        assert!(verify_cast_opening(&OpeningStatement { body_hash: &body, ..st }, &p).is_err());
        let ctx2 =
            ElectionContext::new([1; 32], *f.ctx.joint_key(), f.ctx.manifest().clone(), [8; 32], [9; 32]).unwrap();
        assert!(verify_cast_opening(&OpeningStatement { ctx: &ctx2, ..st }, &p).is_err());
        let (enc2, _) = encrypt_credential(&f.ctx, &f.x, &mut rng).unwrap();
        assert!(verify_cast_opening(&OpeningStatement { enc: &enc2, ..st }, &p).is_err());
        let y2 = CastVerifierSecret::generate(&mut rng);
        assert!(verify_cast_opening(&OpeningStatement { verifier_key: y2.public_key(), ..st }, &p).is_err());
        // Strict decoding: unknown fields, non-canonical scalars, the identity.
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(serde_json::from_value::<CastOpening>(json.clone()).unwrap(), p);
        let mut bad = json.clone();
        bad["c0"] = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010".into();
        assert!(serde_json::from_value::<CastOpening>(bad).is_err());
        let mut bad = json.clone();
        bad["a5"] = "00".repeat(32).into();
        assert!(serde_json::from_value::<CastOpening>(bad).is_err());
        let mut bad = json;
        bad["c"] = "00".repeat(32).into();
        assert!(serde_json::from_value::<CastOpening>(bad).is_err());
    }

    #[test]
    fn an_opening_for_one_tbase_beta_is_refused_with_another() {
        // Same body hash, cred, tbase.α, X_reg and Y_S; only tbase.β moves. The statement binds
        // it before the commitments, so the moved opening fails its challenge sum (CO-0) before
        // CO-4 is looked at, for the device's opening and for the server's simulation alike.
        let (f, mut rng) = fixture(5);
        let st = f.st(&f.x);
        let moved_beta = GroupElement::from_point(f.enc.tbase.beta.point() + mul_base(&Scalar::ONE)).unwrap();
        let moved =
            EncryptedCredential { tbase: crate::elgamal::Ciphertext { beta: moved_beta, ..f.enc.tbase }, ..f.enc };
        let moved_st = OpeningStatement { enc: &moved, ..st };
        let real = prove_cast_opening(&st, &f.nonces, &mut rng).unwrap();
        let sim = simulate_cast_opening(&st, &f.server, &mut rng).unwrap();
        for p in [&real, &sim] {
            verify_cast_opening(&st, p).unwrap();
            assert_eq!(verify_cast_opening(&moved_st, p), Err(ProofError::Challenge));
        }
        // The holder of y can still open the moved ballot, but only with a new opening for it.
        let sim_moved = simulate_cast_opening(&moved_st, &f.server, &mut rng).unwrap();
        verify_cast_opening(&moved_st, &sim_moved).unwrap();
        assert_eq!(verify_cast_opening(&st, &sim_moved), Err(ProofError::Challenge));
    }

    #[test]
    fn the_verifier_secret_decodes_strictly_and_is_redacted() {
        let (f, _) = fixture(4);
        let back = CastVerifierSecret::from_bytes(&f.server.to_bytes()).unwrap();
        assert_eq!(back.public_key(), f.server.public_key());
        assert!(CastVerifierSecret::from_bytes(&[0; 32]).is_err());
        assert!(CastVerifierSecret::from_bytes(&[0xff; 32]).is_err());
        assert!(format!("{:?}", f.server).contains("redacted"));
    }
}
