//! Differential test: `dobush-crypto` and the independent `dobush-verifier` agree on 1,000
//! ballots, half of them valid and half altered at a random place.

use dobush_crypto::ballot::{EncryptedBallot, PlaintextBallot, PlaintextContest, encrypt_ballot, verify_ballot};
use dobush_crypto::context::ElectionContext;
use dobush_crypto::credential::Credential;
use dobush_crypto::elgamal::SecretKey;
use dobush_tests::fixtures::pilot_manifest;
use dobush_verifier::ballot::{Election, check, parse};
use dobush_verifier::sigma::Equations;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::Value;

/// Every string leaf of a JSON value, as a path of keys/indexes.
fn string_paths(v: &Value, path: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    match v {
        Value::String(_) => out.push(path.clone()),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                path.push(Value::from(i));
                string_paths(x, path, out);
                path.pop();
            }
        }
        Value::Object(o) => {
            for (k, x) in o {
                path.push(Value::from(k.clone()));
                string_paths(x, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn get_mut<'a>(v: &'a mut Value, path: &[Value]) -> &'a mut Value {
    path.iter().fold(v, |acc, p| match p {
        Value::Number(n) => &mut acc[n.as_u64().unwrap() as usize],
        Value::String(s) => &mut acc[s.as_str()],
        _ => unreachable!(),
    })
}

fn mutate(v: &mut Value, rng: &mut ChaCha20Rng) {
    let mut paths = Vec::new();
    string_paths(v, &mut Vec::new(), &mut paths);
    let path = &paths[rng.gen_range(0..paths.len())];
    let leaf = get_mut(v, path);
    let mut s: Vec<char> = leaf.as_str().unwrap().chars().collect();
    let i = rng.gen_range(0..s.len());
    let hex = "0123456789abcdef";
    let mut c = s[i];
    while c == s[i] {
        c = hex.chars().nth(rng.gen_range(0..16)).unwrap();
    }
    s[i] = c;
    *leaf = Value::from(s.into_iter().collect::<String>());
}

#[test]
fn crypto_and_verifier_agree_on_1000_ballots() {
    let mut rng = ChaCha20Rng::seed_from_u64(1000);
    let sk = SecretKey::generate(&mut rng);
    let ctx = ElectionContext::new([3u8; 32], sk.public_key(), pilot_manifest(), [4u8; 32], [5u8; 32]).unwrap();
    let election = Election {
        manifest: dobush_verifier::manifest::parse(&serde_json::to_value(ctx.manifest()).unwrap()).unwrap(),
        joint_key: dobush_verifier::encoding::point(&serde_json::to_value(ctx.joint_key()).unwrap(), "k").unwrap(),
        extended_hash: *ctx.extended_hash(),
    };
    assert_eq!(election.manifest.hash, *ctx.manifest_hash(), "manifest hashes agree");
    let (mut accepted, mut rejected) = (0, 0);
    for i in 0..1000u32 {
        let cred = Credential::generate(&mut rng).unwrap();
        let choice = rng.gen_range(0..9);
        let p = PlaintextBallot {
            style: "samarkandek".into(),
            contests: vec![
                PlaintextContest {
                    contest_id: "council".into(),
                    selections: (0..9).map(|j| u8::from(j == choice)).collect(),
                },
                PlaintextContest {
                    contest_id: "question".into(),
                    selections: if i % 2 == 0 { vec![1, 0] } else { vec![0, 1] },
                },
            ],
        };
        let (b, _) = encrypt_ballot(&ctx, cred.signing_key(), &p, &mut rng).unwrap();
        let mut v = serde_json::to_value(&b).unwrap();
        if i % 2 == 1 {
            mutate(&mut v, &mut rng);
        }
        let by_crypto = serde_json::from_value::<EncryptedBallot>(v.clone())
            .ok()
            .and_then(|b| verify_ballot(&ctx, b, &mut rng).ok())
            .map(|vb| vb.tracking_code().0);
        let by_verifier = parse(&v).ok().and_then(|b| {
            let mut eqs = Equations::direct();
            let r = check(&election, &b, &mut eqs).ok()?;
            eqs.check().then_some(r)
        });
        assert_eq!(by_crypto, by_verifier, "ballot {i}: crypto and verifier disagree on {v}");
        if by_crypto.is_some() { accepted += 1 } else { rejected += 1 }
    }
    // Every valid ballot is accepted; a changed hex digit is (almost) always caught.
    assert!(accepted >= 500 && rejected >= 450, "accepted {accepted}, rejected {rejected}");
}
