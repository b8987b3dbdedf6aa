//! The v2 credential replacement (`docs/protocol/13-revoting.md` §4.2, §4.3): the entry
//! `credential_replaced_v2` names the new credential in the clear and the old one only as
//! `old_tbase = Enc_K(TB(X_old); r)`, with a Schnorr proof of knowledge of r; the commission
//! members sign the replacement digest.
//!
//! ```text
//! replacement_digest = SHA-256("dobush/v2/credential-replacement" ‖ u64be(len id) ‖ id
//!                              ‖ u64be(len style) ‖ style ‖ enc(new) ‖ new_pin_commitment
//!                              ‖ enc(old_tbase.α) ‖ enc(old_tbase.β)
//!                              ‖ u64be(len decision) ‖ decision)
//!
//! T ← new("entry-nonce")
//! T.msg("context", extended_hash); T.msg("digest", replacement_digest)
//! T.point("alpha", old_tbase.α)                    statement: α = r·G
//! rng_T = T.build_rng().rekey_with_witness_bytes("r", enc(r)).finalize(rng)   (32 bytes)
//! a = 64 bytes from rng_T reduced wide, redrawn while zero;  A = a·G;  T.point("A", A)
//! c = wide(T.challenge_bytes("c", 64));  z = a + c·r
//! proof = {a: A, z};   verifier: E1 on A, E2 on z, z·G = A + c·α
//! ```

use std::fmt;

use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::ballot_v2::encrypted_credential::tag_base;
use crate::context::ElectionContext;
use crate::elgamal::{Ciphertext, RawCiphertext};
use crate::error::{DecodeError, ProofError};
use crate::group::{GroupElement, mul_base, random_nonzero_scalar, scalar_hex};
use crate::labels;
use crate::signature::VerifyingKey;
use crate::transcript::TranscriptProtocol;

/// What a v2 replacement's digest covers (§4.3).
#[derive(Clone, Copy, Debug)]
pub struct ReplacementStatement<'a> {
    /// The campaign id.
    pub campaign: &'a str,
    /// The voter's ballot style.
    pub style: &'a str,
    /// The new credential, in the clear.
    pub new: &'a VerifyingKey,
    /// The new credential's PIN commitment.
    pub new_pin_commitment: &'a [u8; 32],
    /// `Enc_K(TB(X_old); r)`.
    pub old_tbase: &'a Ciphertext,
    /// The commission's decision.
    pub decision: &'a str,
}

impl ReplacementStatement<'_> {
    /// The replacement digest the members sign (§4.3).
    pub fn digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(labels::CREDENTIAL_REPLACEMENT_DIGEST_V2);
        for part in [self.campaign, self.style] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        h.update(self.new.0.as_bytes());
        h.update(self.new_pin_commitment);
        h.update(self.old_tbase.alpha.as_bytes());
        h.update(self.old_tbase.beta.as_bytes());
        h.update((self.decision.len() as u64).to_be_bytes());
        h.update(self.decision.as_bytes());
        h.finalize().into()
    }
}

/// The nonce r of `old_tbase`: shown to the members who sign (they check the re-encryption),
/// zeroized on drop and redacted in `Debug`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct EntryNonce(Scalar);

impl EntryNonce {
    /// From its canonical 32-byte encoding (a member's tool, the server's check); not zero.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, DecodeError> {
        let s = crate::group::decode_scalar(bytes)?;
        if s == Scalar::ZERO {
            return Err(DecodeError::ZeroScalar);
        }
        Ok(Self(s))
    }

    /// The canonical encoding, to hand to the members' tool (the caller zeroizes it).
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }
}

impl fmt::Debug for EntryNonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EntryNonce(<redacted>)")
    }
}

/// `Enc_K(TB(X_old); r)` for the nonce `r`.
fn encrypt_tag_base_with(ctx: &ElectionContext, old: &VerifyingKey, r: &EntryNonce) -> Result<Ciphertext, DecodeError> {
    let tb = tag_base(ctx.base_hash(), &old.0);
    RawCiphertext { alpha: mul_base(&r.0), beta: tb + ctx.key_table().mul(&r.0) }.validate()
}

/// `old_tbase = Enc_K(TB(X_old); r)` with a fresh non-zero r (one 64-byte draw, redrawn while
/// zero).
pub fn encrypt_old_tag_base<R: RngCore + CryptoRng>(
    ctx: &ElectionContext,
    old: &VerifyingKey,
    rng: &mut R,
) -> Result<(Ciphertext, EntryNonce), DecodeError> {
    let r = EntryNonce(random_nonzero_scalar(rng));
    Ok((encrypt_tag_base_with(ctx, old, &r)?, r))
}

/// Whether `old_tbase` is `Enc_K(TB(X_old); r)`: what a member's tool checks with the nonce it
/// is shown (§4.3).
pub fn opens_old_tag_base(ctx: &ElectionContext, old: &VerifyingKey, old_tbase: &Ciphertext, r: &EntryNonce) -> bool {
    encrypt_tag_base_with(ctx, old, r).is_ok_and(|c| c == *old_tbase)
}

/// The proof of knowledge of old_tbase's nonce: `{a, z}` (§4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryNonceProof {
    /// The commitment A = a·G.
    pub a: GroupElement,
    /// z = a + c·r.
    #[serde(with = "scalar_hex")]
    pub z: Scalar,
}

fn statement(ctx: &ElectionContext, digest: &[u8; 32], alpha: &GroupElement) -> Transcript {
    let mut t = Transcript::protocol(labels::DS_ENTRY_NONCE);
    t.append_message(labels::L_CONTEXT, ctx.extended_hash());
    t.append_message(labels::L_DIGEST, digest);
    t.append_element(labels::L_ALPHA, alpha);
    t
}

/// Proves knowledge of r with `old_tbase.α = r·G`, bound to the replacement's `digest` (which
/// covers old_tbase) under the election's extended hash. Refuses a nonce that is not
/// old_tbase's. Draws 32 bytes (`finalize`).
pub fn prove_entry_nonce<R: RngCore + CryptoRng>(
    ctx: &ElectionContext,
    digest: &[u8; 32],
    old_tbase: &Ciphertext,
    r: &EntryNonce,
    rng: &mut R,
) -> Result<EntryNonceProof, ProofError> {
    if mul_base(&r.0) != *old_tbase.alpha.point() {
        return Err(ProofError::Shape("the nonce is not old_tbase's"));
    }
    let mut t = statement(ctx, digest, &old_tbase.alpha);
    let mut rng_t = t.build_rng().rekey_with_witness_bytes(labels::W_R, r.0.as_bytes()).finalize(rng);
    let a = Zeroizing::new(random_nonzero_scalar(&mut rng_t));
    let cap_a = GroupElement::from_point(mul_base(&a)).map_err(|_| ProofError::Shape("identity commitment"))?;
    t.append_element(labels::L_CAP_A, &cap_a);
    let c = t.challenge_scalar(labels::L_C);
    Ok(EntryNonceProof { a: cap_a, z: *a + c * r.0 })
}

/// Checks the proof of knowledge of old_tbase's nonce for `digest` (§4.2): z·G = A + c·α. A and
/// α are decoded (E1) and z is canonical (E2) by their types.
pub fn verify_entry_nonce(
    ctx: &ElectionContext,
    digest: &[u8; 32],
    old_tbase: &Ciphertext,
    proof: &EntryNonceProof,
) -> Result<(), ProofError> {
    let mut t = statement(ctx, digest, &old_tbase.alpha);
    t.append_element(labels::L_CAP_A, &proof.a);
    let c = t.challenge_scalar(labels::L_C);
    if mul_base(&proof.z) == proof.a.point() + c * old_tbase.alpha.point() { Ok(()) } else { Err(ProofError::Equation) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ballot_v2::test_context;
    use crate::signature::SigningKey;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn setup() -> (ElectionContext, VerifyingKey, VerifyingKey, Ciphertext, EntryNonce, ChaCha20Rng) {
        let (ctx, _) = test_context();
        let mut rng = ChaCha20Rng::seed_from_u64(0x72);
        let old = SigningKey::generate(&mut rng).verifying_key();
        let new = SigningKey::generate(&mut rng).verifying_key();
        let (old_tbase, r) = encrypt_old_tag_base(&ctx, &old, &mut rng).unwrap();
        (ctx, old, new, old_tbase, r, rng)
    }

    #[test]
    fn the_digest_is_the_specified_hash_of_every_field() {
        let (_, _, new, old_tbase, _, _) = setup();
        let st = ReplacementStatement {
            campaign: "c1",
            style: "main",
            new: &new,
            new_pin_commitment: &[5; 32],
            old_tbase: &old_tbase,
            decision: "TEC 12/3",
        };
        let mut input = b"dobush/v2/credential-replacement".to_vec();
        input.extend_from_slice(&2u64.to_be_bytes());
        input.extend_from_slice(b"c1");
        input.extend_from_slice(&4u64.to_be_bytes());
        input.extend_from_slice(b"main");
        input.extend_from_slice(new.0.as_bytes());
        input.extend_from_slice(&[5; 32]);
        input.extend_from_slice(old_tbase.alpha.as_bytes());
        input.extend_from_slice(old_tbase.beta.as_bytes());
        input.extend_from_slice(&8u64.to_be_bytes());
        input.extend_from_slice(b"TEC 12/3");
        let want: [u8; 32] = Sha256::digest(&input).into();
        assert_eq!(st.digest(), want);
        let swapped = Ciphertext { alpha: old_tbase.beta, beta: old_tbase.alpha };
        for other in [
            ReplacementStatement { campaign: "c2", ..st },
            ReplacementStatement { style: "mai", ..st },
            ReplacementStatement { decision: "TEC 12/4", ..st },
            ReplacementStatement { new_pin_commitment: &[6; 32], ..st },
            ReplacementStatement { old_tbase: &swapped, ..st },
        ] {
            assert_ne!(other.digest(), want);
        }
    }

    #[test]
    fn the_nonce_proof_verifies_and_a_forged_or_moved_one_is_refused() {
        let (ctx, old, new, old_tbase, r, mut rng) = setup();
        assert!(opens_old_tag_base(&ctx, &old, &old_tbase, &r));
        assert!(!opens_old_tag_base(&ctx, &new, &old_tbase, &r), "another credential's tag base");
        let digest = [9u8; 32];
        let proof = prove_entry_nonce(&ctx, &digest, &old_tbase, &r, &mut rng).unwrap();
        verify_entry_nonce(&ctx, &digest, &old_tbase, &proof).unwrap();
        // another digest (a changed entry), another old_tbase, a changed z or A
        assert_eq!(verify_entry_nonce(&ctx, &[8; 32], &old_tbase, &proof), Err(ProofError::Equation));
        let (other, r2) = encrypt_old_tag_base(&ctx, &old, &mut rng).unwrap();
        assert_eq!(verify_entry_nonce(&ctx, &digest, &other, &proof), Err(ProofError::Equation));
        let bad_z = EntryNonceProof { z: proof.z + Scalar::ONE, ..proof };
        assert_eq!(verify_entry_nonce(&ctx, &digest, &old_tbase, &bad_z), Err(ProofError::Equation));
        let bad_a = EntryNonceProof { a: other.alpha, ..proof };
        assert_eq!(verify_entry_nonce(&ctx, &digest, &old_tbase, &bad_a), Err(ProofError::Equation));
        // a forger without r: z chosen, A = z·G − c·α needs c first, which absorbs A
        let z = random_nonzero_scalar(&mut rng);
        let forged = EntryNonceProof { a: GroupElement::from_point(mul_base(&z)).unwrap(), z };
        assert_eq!(verify_entry_nonce(&ctx, &digest, &old_tbase, &forged), Err(ProofError::Equation));
        // a nonce that is not old_tbase's is refused by the prover
        assert!(prove_entry_nonce(&ctx, &digest, &old_tbase, &r2, &mut rng).is_err());
        // under another election context
        let (ctx2, _) = {
            let mut rng2 = ChaCha20Rng::seed_from_u64(0x73);
            let sk = crate::elgamal::SecretKey::generate(&mut rng2);
            let m = crate::testing::one_contest_manifest("ballot-v2-test", 3);
            (ElectionContext::new([7; 32], sk.public_key(), m, [8; 32], [9; 32]).unwrap(), sk)
        };
        assert_eq!(verify_entry_nonce(&ctx2, &digest, &old_tbase, &proof), Err(ProofError::Equation));
        // the nonce is redacted and round-trips through its encoding
        assert!(!format!("{r:?}").contains(&hex::encode(r.to_bytes().as_slice())));
        let back = EntryNonce::from_bytes(&r.to_bytes()).unwrap();
        assert!(opens_old_tag_base(&ctx, &old, &old_tbase, &back));
        assert!(EntryNonce::from_bytes(&[0; 32]).is_err());
    }
}
