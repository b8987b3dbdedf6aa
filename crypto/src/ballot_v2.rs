//! The voter's side of the v2 ballot (`docs/protocol/13-revoting.md` §2, §3): building blocks
//! that a later change assembles into the ballot of `dobush-record/2`.
//!
//! - [`encrypted_credential`]: the tag base TB(X) (§2) and the encrypted credential `cred` and
//!   tag base `tbase` (§3.1), with the draws of §3.6;
//! - [`credential_proof`]: the credential proof CR-1 … CR-3 that replaces the ballot signature,
//!   and the v2 tracking code (§3.2);
//! - [`registration`]: the PIN commitment and the registration binding (§3.3);
//! - [`cast_opening`]: the designated-verifier cast opening, an OR-proof that only the server
//!   can be convinced by (§3.4);
//! - [`replacement`]: the v2 replacement's digest, `old_tbase` and the proof of knowledge of
//!   its nonce (§4.2, §4.3);
//! - [`ballot`]: the assembled v2 ballot (§3.7), whose contests are v1's ([`crate::ballot`]),
//!   its body hash, device and verification.
//!
//! The v1 ballot stays as it is until the server and the clients switch over.

pub mod ballot;
pub mod cast_opening;
pub mod credential_proof;
pub mod encrypted_credential;
pub mod registration;
pub mod replacement;

/// An election context for the tests of these modules: a one-contest manifest, a fresh key.
#[cfg(test)]
pub(crate) fn test_context() -> (crate::context::ElectionContext, crate::elgamal::SecretKey) {
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(0x62);
    let sk = crate::elgamal::SecretKey::generate(&mut rng);
    let manifest = crate::testing::one_contest_manifest("ballot-v2-test", 3);
    match crate::context::ElectionContext::new([7; 32], sk.public_key(), manifest, [8; 32], [9; 32]) {
        Ok(ctx) => (ctx, sk),
        Err(e) => unreachable!("the test manifest is valid: {e}"),
    }
}
