//! Ballot decoding and verification (`dobush_crypto::ballot`): any bytes that decode as an
//! `EncryptedBallot` are verified against the pilot election of `vectors/ballots-pilot.json`
//! (alone and in a batch of two), and a verified ballot's opening is checked. Nothing may panic;
//! a decoded ballot re-encodes to JSON that decodes to the same ballot.
#![no_main]

use std::sync::OnceLock;

use dobush_crypto::ballot::{BallotOpening, EncryptedBallot, verify_ballot, verify_ballots, verify_challenged_ballot};
use dobush_crypto::context::ElectionContext;
use libfuzzer_sys::fuzz_target;
use rand::SeedableRng;

fn context() -> &'static ElectionContext {
    static CTX: OnceLock<ElectionContext> = OnceLock::new();
    CTX.get_or_init(|| {
        let v: serde_json::Value = serde_json::from_str(include_str!("../../vectors/ballots-pilot.json")).unwrap();
        let e = &v["election"];
        let base: [u8; 32] = hex::decode(e["base_hash"].as_str().unwrap()).unwrap().try_into().unwrap();
        ElectionContext::new(
            base,
            serde_json::from_value(e["joint_key"].clone()).unwrap(),
            serde_json::from_value(e["manifest"].clone()).unwrap(),
        )
        .unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    let ctx = context();
    // an opening (Benaloh challenge) alone
    let opening: Option<BallotOpening> = serde_json::from_slice(data).ok();
    let Ok(ballot) = serde_json::from_slice::<EncryptedBallot>(data) else { return };
    let again: EncryptedBallot = serde_json::from_slice(&serde_json::to_vec(&ballot).unwrap()).unwrap();
    assert_eq!(again, ballot, "JSON round trip changed the ballot");
    let _ = dobush_crypto::ballot::tracking_code_of(ctx, &ballot);
    let _ = dobush_crypto::ballot::body_hash(ctx, &ballot);
    let _ = verify_ballots(ctx, vec![ballot.clone(), ballot.clone()], &mut rng);
    if let Ok(verified) = verify_ballot(ctx, ballot, &mut rng) {
        if let Some(o) = opening {
            let _ = verify_challenged_ballot(ctx, &verified, &o);
        }
    }
});
