//! The credential proof CR-1 … CR-3 and the v2 tracking code (`docs/protocol/13-revoting.md`
//! §3.2).
//!
//! A proof of knowledge of (x, r_X, r_V) with `cred.α = r_X·G`, `cred.β = x·G + r_X·K` and
//! `tbase.α = r_V·G`, bound to the whole ballot through its body hash and to its statement
//! directly: the transcript absorbs all four points of `cred` and `tbase` before the
//! commitments, so `tbase.β`, which is in no equation, cannot be changed under a proof either
//! (rule F1, 02-transcripts.md). It replaces the v1 ballot signature: whoever casts must know the
//! credential's secret key. It does not prove that `tbase` encrypts TB(X); the filter checks
//! that (§7.3, §7.8).
//!
//! ```text
//! T ← new("credential-proof"); T.msg("context", extended_hash); T.msg("body-hash", body_hash)
//! T.point("cred-alpha", cred.α); T.point("cred-beta", cred.β)
//! T.point("tbase-alpha", tbase.α); T.point("tbase-beta", tbase.β)
//! rng_T = T.build_rng().rekey_with_witness_bytes("x", enc(x))
//!          .rekey_with_witness_bytes("r-x", enc(r_X)).rekey_with_witness_bytes("r-v", enc(r_V))
//!          .finalize(rng)
//! a_x, a_r, a_v ← rng_T (64 bytes each, reduced wide, redrawn while zero)
//! A₁ = a_r·G;  A₂ = a_x·G + a_r·K;  A₃ = a_v·G;  T.point("A1", A₁) … T.point("A3", A₃)
//! c = wide(T.challenge_bytes("c", 64));  z_x = a_x + c·x;  z_r = a_r + c·r_X;  z_v = a_v + c·r_V
//! ```

use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::encrypted_credential::{CredentialNonces, EncryptedCredential};
use crate::ballot::TrackingCode;
use crate::context::ElectionContext;
use crate::error::ProofError;
use crate::group::{GroupElement, mul_base, random_nonzero_scalar, scalar_hex};
use crate::labels;
use crate::proofs::{BaseId, DirectCheck, Equation, EquationSink};
use crate::signature::SigningKey;
use crate::transcript::TranscriptProtocol;

/// The credential proof as published: `credential_proof: {a1, a2, a3, zx, zr, zv}` (§3.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialProof {
    /// `A₁ = a_r·G`.
    pub a1: GroupElement,
    /// `A₂ = a_x·G + a_r·K`.
    pub a2: GroupElement,
    /// `A₃ = a_v·G`.
    pub a3: GroupElement,
    /// `z_x = a_x + c·x`.
    #[serde(with = "scalar_hex")]
    pub zx: Scalar,
    /// `z_r = a_r + c·r_X`.
    #[serde(with = "scalar_hex")]
    pub zr: Scalar,
    /// `z_v = a_v + c·r_V`.
    #[serde(with = "scalar_hex")]
    pub zv: Scalar,
}

impl CredentialProof {
    /// The 192-byte form `a1 ‖ a2 ‖ a3 ‖ zx ‖ zr ‖ zv` that the tracking code absorbs.
    pub fn to_bytes(&self) -> [u8; 192] {
        let mut out = [0u8; 192];
        let parts: [&[u8; 32]; 6] = [
            self.a1.as_bytes(),
            self.a2.as_bytes(),
            self.a3.as_bytes(),
            self.zx.as_bytes(),
            self.zr.as_bytes(),
            self.zv.as_bytes(),
        ];
        for (chunk, part) in out.chunks_exact_mut(32).zip(parts) {
            chunk.copy_from_slice(part);
        }
        out
    }
}

/// The statement's transcript before the commitments (rule F1): the extended hash (which covers
/// K), the body hash (every contest), then `cred` and `tbase` themselves, so that the proof binds
/// its whole statement and not only what the caller's body hash happens to cover.
fn statement(ctx: &ElectionContext, body_hash: &[u8; 32], enc: &EncryptedCredential) -> Transcript {
    let mut t = Transcript::protocol(labels::DS_CREDENTIAL_PROOF);
    t.append_message(labels::L_CONTEXT, ctx.extended_hash());
    t.append_message(labels::L_BODY_HASH, body_hash);
    enc.append_to(&mut t);
    t
}

fn commitment(p: curve25519_dalek::ristretto::RistrettoPoint) -> Result<GroupElement, ProofError> {
    GroupElement::from_point(p).map_err(|_| ProofError::Shape("identity commitment"))
}

/// Proves CR-1 … CR-3 for `enc` under the ballot's body hash, without checking the witnesses
/// (the tests use it to make proofs that break one equation).
fn prove_unchecked<R: RngCore + CryptoRng>(
    ctx: &ElectionContext,
    body_hash: &[u8; 32],
    enc: &EncryptedCredential,
    x: &Scalar,
    nonces: &CredentialNonces,
    rng: &mut R,
) -> Result<CredentialProof, ProofError> {
    let mut t = statement(ctx, body_hash, enc);
    let mut rng_t = t
        .build_rng()
        .rekey_with_witness_bytes(labels::W_X, x.as_bytes())
        .rekey_with_witness_bytes(labels::W_R_X, nonces.r_x().as_bytes())
        .rekey_with_witness_bytes(labels::W_R_V, nonces.r_v().as_bytes())
        .finalize(rng);
    let a_x = Zeroizing::new(random_nonzero_scalar(&mut rng_t));
    let a_r = Zeroizing::new(random_nonzero_scalar(&mut rng_t));
    let a_v = Zeroizing::new(random_nonzero_scalar(&mut rng_t));
    let a1 = commitment(mul_base(&a_r))?;
    let a2 = commitment(mul_base(&a_x) + ctx.key_table().mul(&a_r))?;
    let a3 = commitment(mul_base(&a_v))?;
    t.append_element(labels::L_CAP_A1, &a1);
    t.append_element(labels::L_CAP_A2, &a2);
    t.append_element(labels::L_CAP_A3, &a3);
    let c = t.challenge_scalar(labels::L_C);
    Ok(CredentialProof { a1, a2, a3, zx: *a_x + c * x, zr: *a_r + c * nonces.r_x(), zv: *a_v + c * nonces.r_v() })
}

/// Proves that the caster knows the credential's secret x and the nonces of `enc` (§3.2), bound
/// to the ballot by `body_hash` and to `enc` by its four points. Refuses witnesses that do not
/// open `enc`.
///
/// Draws 32 bytes from `rng` (`finalize`, §3.6 step 4); the nonces a_x, a_r, a_v come from the
/// transcript RNG, which also absorbs the statement and the witnesses (hedged).
pub fn prove_credential<R: RngCore + CryptoRng>(
    ctx: &ElectionContext,
    body_hash: &[u8; 32],
    credential: &SigningKey,
    enc: &EncryptedCredential,
    nonces: &CredentialNonces,
    rng: &mut R,
) -> Result<CredentialProof, ProofError> {
    if !nonces.opens(ctx, &credential.verifying_key(), enc) {
        return Err(ProofError::Shape("the credential and nonces do not open cred and tbase"));
    }
    prove_unchecked(ctx, body_hash, enc, credential.secret(), nonces, rng)
}

/// Proves CR-1 … CR-3 for `enc` with witnesses that need not open it, for tests and vectors only
/// (crate feature `test-helpers`; never in production): with the honest witnesses and an `enc`
/// that differs in one component, the proof binds that `enc` and breaks exactly the equation of
/// the changed relation (`vectors/credential-v2.json`, `forged_credential_proofs`).
#[cfg(any(test, feature = "test-helpers"))]
pub fn prove_credential_unchecked<R: RngCore + CryptoRng>(
    ctx: &ElectionContext,
    body_hash: &[u8; 32],
    credential: &SigningKey,
    enc: &EncryptedCredential,
    nonces: &CredentialNonces,
    rng: &mut R,
) -> Result<CredentialProof, ProofError> {
    prove_unchecked(ctx, body_hash, enc, credential.secret(), nonces, rng)
}

/// Adds CR-1 … CR-3 to `sink`. `pk_base` is K registered in the sink. Refuses first, without
/// an equation, `cred.α = tbase.α` (the reused-randomness rule of §3.1).
pub fn verify_credential_into<S: EquationSink>(
    ctx: &ElectionContext,
    body_hash: &[u8; 32],
    enc: &EncryptedCredential,
    proof: &CredentialProof,
    pk_base: BaseId,
    sink: &mut S,
) -> Result<(), ProofError> {
    if !enc.has_distinct_alphas() {
        return Err(ProofError::Shape("cred and tbase share their first component"));
    }
    let mut t = statement(ctx, body_hash, enc);
    t.append_element(labels::L_CAP_A1, &proof.a1);
    t.append_element(labels::L_CAP_A2, &proof.a2);
    t.append_element(labels::L_CAP_A3, &proof.a3);
    let c = t.challenge_scalar(labels::L_C);
    // CR-1  z_r·G − A₁ − c·cred.α = 0
    sink.equation(Equation {
        g: proof.zr,
        h: Scalar::ZERO,
        fixed: &[],
        terms: &[(-Scalar::ONE, *proof.a1.point()), (-c, *enc.cred.alpha.point())],
    })?;
    // CR-2  z_x·G + z_r·K − A₂ − c·cred.β = 0
    sink.equation(Equation {
        g: proof.zx,
        h: Scalar::ZERO,
        fixed: &[(pk_base, proof.zr)],
        terms: &[(-Scalar::ONE, *proof.a2.point()), (-c, *enc.cred.beta.point())],
    })?;
    // CR-3  z_v·G − A₃ − c·tbase.α = 0
    sink.equation(Equation {
        g: proof.zv,
        h: Scalar::ZERO,
        fixed: &[],
        terms: &[(-Scalar::ONE, *proof.a3.point()), (-c, *enc.tbase.alpha.point())],
    })
}

/// Verifies CR-1 … CR-3, equation by equation.
pub fn verify_credential(
    ctx: &ElectionContext,
    body_hash: &[u8; 32],
    enc: &EncryptedCredential,
    proof: &CredentialProof,
) -> Result<(), ProofError> {
    let mut sink = DirectCheck::default();
    let k = sink.base(ctx.joint_key().point());
    verify_credential_into(ctx, body_hash, enc, proof, k, &mut sink)
}

/// The v2 tracking code (§3.2): `T ← new("tracking-code"); T.msg("body-hash", body_hash);
/// T.msg("credential-proof", a1 ‖ a2 ‖ a3 ‖ zx ‖ zr ‖ zv); challenge_bytes("tracking-code", 32)`.
/// Computes only hashes; it says nothing about validity.
pub fn tracking_code(body_hash: &[u8; 32], proof: &CredentialProof) -> TrackingCode {
    let mut t = Transcript::protocol(labels::DS_TRACKING_CODE);
    t.append_message(labels::L_BODY_HASH, body_hash);
    t.append_message(labels::L_CREDENTIAL_PROOF, &proof.to_bytes());
    TrackingCode(t.challenge_32(labels::L_TRACKING_CODE))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ballot_v2::encrypted_credential::{encrypt_credential, tag_base};
    use crate::ballot_v2::test_context;
    use crate::elgamal::RawCiphertext;
    use crate::proofs::BatchVerifier;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    /// Checks every equation on its own and records which hold.
    #[derive(Default)]
    struct EachEquation {
        direct: DirectCheck,
        holds: Vec<bool>,
    }

    impl EquationSink for EachEquation {
        fn base(&mut self, p: &curve25519_dalek::ristretto::RistrettoPoint) -> BaseId {
            self.direct.base(p)
        }
        fn equation(&mut self, eq: Equation<'_>) -> Result<(), ProofError> {
            self.holds.push(self.direct.equation(eq).is_ok());
            Ok(())
        }
    }

    fn which_hold(ctx: &ElectionContext, body: &[u8; 32], enc: &EncryptedCredential, p: &CredentialProof) -> Vec<bool> {
        let mut s = EachEquation::default();
        let k = s.base(ctx.joint_key().point());
        verify_credential_into(ctx, body, enc, p, k, &mut s).unwrap();
        s.holds
    }

    fn honest(rng: &mut ChaCha20Rng) -> (ElectionContext, SigningKey, EncryptedCredential, CredentialNonces, [u8; 32]) {
        let (ctx, _) = test_context();
        let key = SigningKey::generate(rng);
        let (enc, nonces) = encrypt_credential(&ctx, &key.verifying_key(), rng).unwrap();
        let mut body = [0u8; 32];
        rng.fill_bytes(&mut body);
        (ctx, key, enc, nonces, body)
    }

    #[test]
    fn an_honest_proof_verifies_directly_and_in_a_batch() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let (ctx, key, enc, nonces, body) = honest(&mut rng);
        let p = prove_credential(&ctx, &body, &key, &enc, &nonces, &mut rng).unwrap();
        verify_credential(&ctx, &body, &enc, &p).unwrap();
        assert_eq!(which_hold(&ctx, &body, &enc, &p), [true; 3]);
        let mut b = BatchVerifier::new(&mut rng);
        let k = b.base(ctx.joint_key().point());
        verify_credential_into(&ctx, &body, &enc, &p, k, &mut b).unwrap();
        b.finish().unwrap();
        // Hedged: the same statement and witnesses with other caller randomness give another proof.
        let q = prove_credential(&ctx, &body, &key, &enc, &nonces, &mut rng).unwrap();
        assert_ne!(p, q);
        verify_credential(&ctx, &body, &enc, &q).unwrap();
        // The tracking code covers the body hash and every byte of the proof.
        let code = tracking_code(&body, &p);
        assert_ne!(code, tracking_code(&body, &q));
        let mut other = body;
        other[31] ^= 1;
        assert_ne!(code, tracking_code(&other, &p));
    }

    #[test]
    fn the_nonces_follow_the_transcript_rng_of_3_2() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let (ctx, key, enc, nonces, body) = honest(&mut rng);
        let mut replay = rng.clone();
        let p = prove_credential(&ctx, &body, &key, &enc, &nonces, &mut rng).unwrap();
        // Exactly 32 bytes of the caller's rng are used.
        let mut skipped = [0u8; 32];
        replay.fill_bytes(&mut skipped);
        assert_eq!(replay.next_u64(), rng.next_u64());
        // Recompute a_r from the spec's derivation and compare A₁.
        let mut replay = ChaCha20Rng::seed_from_u64(2);
        let _ = honest(&mut replay);
        let t = statement(&ctx, &body, &enc);
        let mut rng_t = t
            .build_rng()
            .rekey_with_witness_bytes(b"x", key.secret().as_bytes())
            .rekey_with_witness_bytes(b"r-x", nonces.r_x().as_bytes())
            .rekey_with_witness_bytes(b"r-v", nonces.r_v().as_bytes())
            .finalize(&mut replay);
        let _a_x = random_nonzero_scalar(&mut rng_t);
        let a_r = random_nonzero_scalar(&mut rng_t);
        assert_eq!(*p.a1.point(), mul_base(&a_r));
    }

    #[test]
    fn each_equation_fails_alone_when_its_relation_is_false() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let (ctx, key, _, nonces, body) = honest(&mut rng);
        let (x, r_x, r_v) = (*key.secret(), *nonces.r_x(), *nonces.r_v());
        let k = *ctx.joint_key().point();
        let tb = tag_base(ctx.base_hash(), &key.verifying_key().0);
        let enc_of = |a_x: Scalar, b_x: Scalar, m: Scalar, a_v: Scalar| EncryptedCredential {
            cred: RawCiphertext { alpha: mul_base(&a_x), beta: mul_base(&m) + b_x * k }.validate().unwrap(),
            tbase: RawCiphertext { alpha: mul_base(&a_v), beta: tb + a_v * k }.validate().unwrap(),
        };
        let one = Scalar::ONE;
        // CR-1 alone: cred.α is not r_X·G while cred.β is x·G + r_X·K.
        let enc = enc_of(r_x + one, r_x, x, r_v);
        let p = prove_unchecked(&ctx, &body, &enc, &x, &nonces, &mut rng).unwrap();
        assert_eq!(which_hold(&ctx, &body, &enc, &p), [false, true, true]);
        assert_eq!(verify_credential(&ctx, &body, &enc, &p), Err(ProofError::Equation));
        // CR-2 alone: cred.β encrypts a credential whose secret the prover does not know.
        let enc = enc_of(r_x, r_x, x + one, r_v);
        let p = prove_unchecked(&ctx, &body, &enc, &x, &nonces, &mut rng).unwrap();
        assert_eq!(which_hold(&ctx, &body, &enc, &p), [true, false, true]);
        assert!(verify_credential(&ctx, &body, &enc, &p).is_err());
        // CR-3 alone: tbase.α is not r_V·G.
        let enc = enc_of(r_x, r_x, x, r_v + one);
        let p = prove_unchecked(&ctx, &body, &enc, &x, &nonces, &mut rng).unwrap();
        assert_eq!(which_hold(&ctx, &body, &enc, &p), [true, true, false]);
        assert!(verify_credential(&ctx, &body, &enc, &p).is_err());
        // The checked prover refuses all three.
        for enc in [enc_of(r_x + one, r_x, x, r_v), enc_of(r_x, r_x, x + one, r_v), enc_of(r_x, r_x, x, r_v + one)] {
            assert!(prove_credential(&ctx, &body, &key, &enc, &nonces, &mut rng).is_err());
        }
    }

    #[test]
    fn any_changed_field_context_or_body_is_refused() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let (ctx, key, enc, nonces, body) = honest(&mut rng);
        let p = prove_credential(&ctx, &body, &key, &enc, &nonces, &mut rng).unwrap();
        let g = GroupElement::from_point(mul_base(&Scalar::from(5u64))).unwrap();
        let mut changed = Vec::new();
        for i in 0..6 {
            let mut q = p.clone();
            match i {
                0 => q.a1 = g,
                1 => q.a2 = g,
                2 => q.a3 = g,
                3 => q.zx += Scalar::ONE,
                4 => q.zr += Scalar::ONE,
                _ => q.zv += Scalar::ONE,
            }
            changed.push(q);
        }
        for q in &changed {
            assert!(verify_credential(&ctx, &body, &enc, q).is_err());
        }
        // Another body hash (another ballot) or another election.
        let mut other = body;
        other[0] ^= 1;
        assert!(verify_credential(&ctx, &other, &enc, &p).is_err());
        let other_ctx =
            ElectionContext::new([1; 32], *ctx.joint_key(), ctx.manifest().clone(), [8; 32], [9; 32]).unwrap();
        assert!(verify_credential(&other_ctx, &body, &enc, &p).is_err());
        // Another cred or tbase (each component), or the two swapped.
        let (other_enc, _) = encrypt_credential(&ctx, &key.verifying_key(), &mut rng).unwrap();
        for e in [
            EncryptedCredential { cred: enc.cred, tbase: other_enc.tbase },
            EncryptedCredential { cred: other_enc.cred, tbase: enc.tbase },
            EncryptedCredential { cred: crate::elgamal::Ciphertext { beta: other_enc.cred.beta, ..enc.cred }, ..enc },
            EncryptedCredential { cred: enc.tbase, tbase: enc.cred },
        ] {
            assert!(verify_credential(&ctx, &body, &e, &p).is_err());
        }
        // tbase.β alone: see a_proof_for_one_tbase_beta_is_refused_with_another.
        // Equal first components are refused before any equation.
        let same =
            EncryptedCredential { tbase: crate::elgamal::Ciphertext { alpha: enc.cred.alpha, ..enc.tbase }, ..enc };
        assert!(matches!(verify_credential(&ctx, &body, &same, &p), Err(ProofError::Shape(_))));
        // A prover with another key is refused.
        let other_key = SigningKey::generate(&mut rng);
        assert!(prove_credential(&ctx, &body, &other_key, &enc, &nonces, &mut rng).is_err());
    }

    #[test]
    fn a_proof_for_one_tbase_beta_is_refused_with_another() {
        // tbase.β is in no equation of CR-1 … CR-3 (the filter, not this proof, shows that tbase
        // encrypts TB(X), §7.3), so only the transcript can tie it to the proof: the same body
        // hash, the same cred and tbase.α, another tbase.β must fail.
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        let (ctx, key, enc, nonces, body) = honest(&mut rng);
        let p = prove_credential(&ctx, &body, &key, &enc, &nonces, &mut rng).unwrap();
        let moved_beta = GroupElement::from_point(enc.tbase.beta.point() + mul_base(&Scalar::ONE)).unwrap();
        let moved = EncryptedCredential { tbase: crate::elgamal::Ciphertext { beta: moved_beta, ..enc.tbase }, ..enc };
        verify_credential(&ctx, &body, &enc, &p).unwrap();
        assert_eq!(verify_credential(&ctx, &body, &moved, &p), Err(ProofError::Equation));
        let mut b = BatchVerifier::new(&mut rng);
        let k = b.base(ctx.joint_key().point());
        verify_credential_into(&ctx, &body, &moved, &p, k, &mut b).unwrap();
        assert!(b.finish().is_err());
        // Every equation fails at once: the challenge moved, not a relation.
        assert_eq!(which_hold(&ctx, &body, &moved, &p), [false; 3]);
        // A proof made for the moved statement with the same witnesses verifies for it alone:
        // the refusal above comes from the binding, not from an equation on tbase.β.
        let q = prove_unchecked(&ctx, &body, &moved, key.secret(), &nonces, &mut rng).unwrap();
        verify_credential(&ctx, &body, &moved, &q).unwrap();
        assert!(verify_credential(&ctx, &body, &enc, &q).is_err());
    }

    #[test]
    fn decoding_is_canonical_and_strict() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let (ctx, key, enc, nonces, body) = honest(&mut rng);
        let p = prove_credential(&ctx, &body, &key, &enc, &nonces, &mut rng).unwrap();
        let json = serde_json::to_value(&p).unwrap();
        let back: CredentialProof = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, p);
        let l_hex = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";
        let identity = "0000000000000000000000000000000000000000000000000000000000000000";
        for (field, value) in [("zx", l_hex), ("zr", "ff".repeat(32).as_str()), ("a1", identity), ("a2", "ZZ")] {
            let mut bad = json.clone();
            bad[field] = value.into();
            assert!(serde_json::from_value::<CredentialProof>(bad).is_err(), "{field}");
        }
        let mut upper = json.clone();
        upper["a3"] = p.a3.to_hex().to_uppercase().into();
        assert!(serde_json::from_value::<CredentialProof>(upper).is_err());
        let mut extra = json;
        extra["c"] = "00".into();
        assert!(serde_json::from_value::<CredentialProof>(extra).is_err());
        let enc_json = serde_json::to_value(enc).unwrap();
        let mut bad = enc_json.clone();
        bad["tbase"]["alpha"] = identity.into();
        assert!(serde_json::from_value::<EncryptedCredential>(bad).is_err());
        assert_eq!(serde_json::from_value::<EncryptedCredential>(enc_json).unwrap(), enc);
    }
}
