//! The committed vectors equal what the generator produces now, byte for byte, and every
//! ballot in them verifies.

use std::path::Path;

use dobush_crypto::ballot::{BallotOpening, EncryptedBallot, PlaintextBallot, verify_ballot, verify_challenged_ballot};
use dobush_crypto::context::ElectionContext;
use dobush_crypto::elgamal::PublicKey;
use dobush_crypto::manifest::Manifest;
use dobush_crypto::record::{ElectionPackage, PublishedKeyHolder, RECORD_VERSION};
use rand::SeedableRng;

fn read(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors").join(name);
    std::fs::read_to_string(&p).expect("vector file is readable")
}

#[test]
fn committed_vectors_match_the_generator_byte_for_byte() {
    for (name, contents) in dobush_tests::vectors::generate() {
        assert!(read(name) == contents, "vectors/{name} differs from the generator's output: the protocol changed");
    }
}

#[test]
fn vector_ballots_verify_and_open() {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(99);
    for name in ["ballots-pilot.json", "ballots-wide.json"] {
        let v: serde_json::Value = serde_json::from_str(&read(name)).unwrap();
        let e = &v["election"];
        let manifest: Manifest = serde_json::from_value(e["manifest"].clone()).unwrap();
        let pk: PublicKey = serde_json::from_value(e["joint_key"].clone()).unwrap();
        let base: [u8; 32] = hex::decode(e["base_hash"].as_str().unwrap()).unwrap().try_into().unwrap();
        let commission: dobush_crypto::commission::Commission =
            serde_json::from_value(e["commission"].clone()).unwrap();
        assert_eq!(hex::encode(commission.hash()), e["commission_hash"].as_str().unwrap());
        let parameters: dobush_crypto::parameters::Parameters =
            serde_json::from_value(e["parameters"].clone()).unwrap();
        let board_key: [u8; 32] = hex::decode(e["board_key"].as_str().unwrap()).unwrap().try_into().unwrap();
        let params_hash = dobush_crypto::parameters::parameters_hash(&board_key, &parameters);
        assert_eq!(hex::encode(params_hash), e["parameters_hash"].as_str().unwrap());
        let ctx = ElectionContext::new(base, pk, manifest, commission.hash(), params_hash).unwrap();
        assert_eq!(hex::encode(ctx.extended_hash()), e["extended_hash"].as_str().unwrap());
        // the package a device loads has the vector's fingerprint, and only once its hashes check
        let mut package = ElectionPackage {
            version: RECORD_VERSION.into(),
            manifest: ctx.manifest().clone(),
            threshold: serde_json::from_value(e["threshold"].clone()).unwrap(),
            key_holders: serde_json::from_value::<Vec<serde_json::Value>>(e["key_holders"].clone())
                .unwrap()
                .into_iter()
                .enumerate()
                .map(|(i, mut k)| {
                    k["index"] = (i + 1).into();
                    serde_json::from_value::<PublishedKeyHolder>(k).unwrap()
                })
                .collect(),
            joint_key: pk,
            base_hash: base,
            extended_hash: *ctx.extended_hash(),
            board_key,
            commission,
            parameters,
        };
        assert_eq!(package.fingerprint().unwrap(), e["package_fingerprint"].as_str().unwrap());
        package.extended_hash[0] ^= 1;
        assert!(package.fingerprint().is_err(), "a package whose extended hash is not its own");
        for b in v["ballots"].as_array().unwrap() {
            let ballot: EncryptedBallot = serde_json::from_value(b["ballot"].clone()).unwrap();
            let verified = verify_ballot(&ctx, ballot, &mut rng).unwrap();
            assert_eq!(verified.tracking_code().to_hex(), b["tracking_code"].as_str().unwrap());
            let opening: BallotOpening = serde_json::from_value(b["opening"].clone()).unwrap();
            let plain: PlaintextBallot = serde_json::from_value(b["plaintext"].clone()).unwrap();
            assert_eq!(verify_challenged_ballot(&ctx, &verified, &opening).unwrap(), plain);
        }
    }
}

#[test]
fn the_verifier_reads_commission_names_as_crypto_does() {
    let v: serde_json::Value = serde_json::from_str(&read("commission-names.json")).unwrap();
    let names =
        |k: &str| -> Vec<String> { v[k].as_array().unwrap().iter().map(|n| n.as_str().unwrap().to_owned()).collect() };
    let (accepted, refused) = (names("accepted"), names("refused"));
    assert!(accepted.len() >= 5 && refused.len() >= 15, "{v}");
    for n in &accepted {
        assert!(dobush_verifier::commission::member_name(n), "the verifier refuses {n:?}");
    }
    for n in &refused {
        assert!(!dobush_verifier::commission::member_name(n), "the verifier accepts {n:?}");
    }
}
