//! Differential test of the shuffle (docs/protocol/12-shuffle.md): proofs made by
//! `dobush-crypto` are checked by `dobush-crypto` and by the independent `dobush-verifier`
//! from their JSON. Both accept every honest proof, both refuse every altered one, and when a
//! single equation fails both name the same one. Both check `vectors/shuffle.json`.

use std::path::Path;

use curve25519_dalek::scalar::Scalar;
use dobush_crypto::elgamal::{Ciphertext, KeyTable, Nonce, PublicKey, SecretKey, encrypt_with_nonce};
use dobush_crypto::group::{GroupElement, generator_h};
use dobush_crypto::shuffle::{
    Rows, ShuffleError, ShuffleProof, ShuffleSecret, ShuffleStatement, prove_shuffle, shuffle_rows, verify_shuffle,
};
use dobush_verifier::shuffle::{Statement, check, parse_proof, parse_rows};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::{Value, json};

const CTX: [u8; 32] = [0x5a; 32];
const PURPOSE: &str = "filter/ballots";

struct Case {
    /// The column keys: `K`, except column 1 under `H` (an ordinal column, 13-revoting.md §5).
    keys: Vec<PublicKey>,
    input: Rows,
    output: Rows,
    secret: ShuffleSecret,
    proof: ShuffleProof,
}

fn case(rng: &mut ChaCha20Rng, n: usize, w: usize) -> Case {
    let pk = SecretKey::generate(rng).public_key();
    let h = PublicKey(GroupElement::from_point(generator_h()).unwrap());
    let keys: Vec<PublicKey> = (0..w).map(|k| if k == 1 { h } else { pk }).collect();
    let cts = (0..n * w).map(|m| encrypt_with_nonce(&keys[m % w], m as u64, &Nonce::generate(rng)).unwrap()).collect();
    let input = Rows::new(w, cts).unwrap();
    let (output, secret) = shuffle_rows(rng, &keys, &input).unwrap();
    let stmt = ShuffleStatement { context: &CTX, purpose: PURPOSE, keys: &keys, input: &input, output: &output };
    let proof = prove_shuffle(rng, &stmt, &secret).unwrap();
    Case { keys, input, output, secret, proof }
}

/// The whole shuffle as JSON, the way a record would publish it.
fn document(c: &Case, output: &Rows, proof: &ShuffleProof) -> Value {
    json!({"context": hex::encode(CTX), "purpose": PURPOSE, "keys": c.keys, "input": c.input, "output": output, "proof": proof})
}

/// `dobush-crypto`'s verdict on a document: `Ok`, or the failure as text (`None` if it does
/// not decode).
fn crypto_verdict(d: &Value) -> Option<Result<(), String>> {
    let ctx: [u8; 32] = hex::decode(d["context"].as_str()?).ok()?.try_into().ok()?;
    let keys: Vec<PublicKey> = serde_json::from_value(d["keys"].clone()).ok()?;
    let input: Rows = serde_json::from_value(d["input"].clone()).ok()?;
    let output: Rows = serde_json::from_value(d["output"].clone()).ok()?;
    let proof: ShuffleProof = serde_json::from_value(d["proof"].clone()).ok()?;
    let stmt = ShuffleStatement {
        context: &ctx,
        purpose: d["purpose"].as_str()?,
        keys: &keys,
        input: &input,
        output: &output,
    };
    Some(verify_shuffle(&mut ChaCha20Rng::seed_from_u64(1), &stmt, &proof).map_err(|e| match e {
        ShuffleError::Equation(eq) => eq.to_string(),
        other => other.to_string(),
    }))
}

/// `dobush-verifier`'s verdict on the same document.
fn verifier_verdict(d: &Value) -> Option<Result<(), String>> {
    let st = Statement {
        context: hex::decode(d["context"].as_str()?).ok()?.try_into().ok()?,
        purpose: d["purpose"].as_str()?.to_owned(),
        keys: d["keys"]
            .as_array()?
            .iter()
            .map(|k| dobush_verifier::encoding::point(k, "keys").ok())
            .collect::<Option<_>>()?,
        input: parse_rows(&d["input"], "input").ok()?,
        output: parse_rows(&d["output"], "output").ok()?,
    };
    let proof = parse_proof(&d["proof"]).ok()?;
    Some(check(&st, &proof).map_err(|e| e.trim_end_matches(" does not hold").to_owned()))
}

#[test]
fn both_accept_honest_shuffles() {
    let mut rng = ChaCha20Rng::seed_from_u64(40);
    for (n, w) in [(1, 1), (2, 1), (2, 5), (3, 3), (10, 1), (25, 4)] {
        let c = case(&mut rng, n, w);
        let d = document(&c, &c.output, &c.proof);
        assert_eq!(crypto_verdict(&d), Some(Ok(())), "crypto, N = {n}, w = {w}");
        assert_eq!(verifier_verdict(&d), Some(Ok(())), "verifier, N = {n}, w = {w}");
    }
}

#[test]
fn both_name_the_same_failing_equation() {
    let mut rng = ChaCha20Rng::seed_from_u64(41);
    let c = case(&mut rng, 5, 3);
    let bump = |p: &mut GroupElement| *p = GroupElement::from_point(p.point() + p.point()).unwrap();
    let altered = |change: &dyn Fn(&mut ShuffleProof)| {
        let mut p = c.proof.clone();
        change(&mut p);
        document(&c, &c.output, &p)
    };
    // A response changed leaves the transcript as it was: only its own equation(s) fail.
    let cases: Vec<(Value, &str)> = vec![
        (altered(&|p| p.s1 += Scalar::ONE), "SH-1"),
        (altered(&|p| p.s2 += Scalar::ONE), "SH-2"),
        (altered(&|p| p.s3 += Scalar::ONE), "SH-3"),
        (altered(&|p| p.s4[2] += Scalar::ONE), "SH-4 column 2"),
        (altered(&|p| p.s_hat[3] += Scalar::ONE), "SH-6 row 3"),
        (altered(&|p| p.s_prime[4] += Scalar::ONE), "SH-3"),
    ];
    // An output changed and proved with the honest secret: SH-4 (α) or SH-5 (β) of its column.
    let mut reproved = Vec::new();
    for (beta, expected) in [(false, "SH-4 column 1"), (true, "SH-5 column 1")] {
        let mut rows = c.output.to_vecs();
        let ct: &mut Ciphertext = &mut rows[2][1];
        bump(if beta { &mut ct.beta } else { &mut ct.alpha });
        let output = Rows::from_rows(rows).unwrap();
        let stmt =
            ShuffleStatement { context: &CTX, purpose: PURPOSE, keys: &c.keys, input: &c.input, output: &output };
        let proof = prove_shuffle(&mut rng, &stmt, &c.secret).unwrap();
        reproved.push((document(&c, &output, &proof), expected));
    }
    for (d, expected) in cases.iter().chain(&reproved) {
        assert_eq!(crypto_verdict(d), Some(Err(expected.to_string())), "crypto");
        assert_eq!(verifier_verdict(d), Some(Err(expected.to_string())), "verifier");
    }
}

#[test]
fn both_refuse_altered_statements_and_proofs() {
    let mut rng = ChaCha20Rng::seed_from_u64(42);
    let c = case(&mut rng, 4, 2);
    let base = document(&c, &c.output, &c.proof);
    let mut docs = vec![];
    let mut with = |change: &dyn Fn(&mut Value)| {
        let mut d = base.clone();
        change(&mut d);
        docs.push(d);
    };
    with(&|d| d["purpose"] = "filter/other".into());
    with(&|d| d["context"] = hex::encode([0x5b; 32]).into());
    with(&|d| d["output"].as_array_mut().unwrap().swap(0, 1));
    with(&|d| d["output"][3] = d["output"][2].clone());
    with(&|d| d["input"].as_array_mut().unwrap().swap(1, 3));
    with(&|d| d["output"][0].as_array_mut().unwrap().swap(0, 1));
    with(&|d| d["proof"]["chain"].as_array_mut().unwrap().swap(0, 1));
    with(&|d| d["proof"]["t1"] = d["proof"]["t2"].clone());
    with(&|d| d["keys"][0] = d["proof"]["t3"].clone());
    with(&|d| d["keys"].as_array_mut().unwrap().swap(0, 1));
    with(&|d| d["keys"][1] = d["keys"][0].clone());
    with(&|d| drop(d["keys"].as_array_mut().unwrap().pop()));
    with(&|d| drop(d["output"].as_array_mut().unwrap().pop()));
    with(&|d| drop(d["proof"]["s_hat"].as_array_mut().unwrap().pop()));
    for (i, d) in docs.iter().enumerate() {
        let (a, b) = (crypto_verdict(d), verifier_verdict(d));
        assert!(matches!(a, Some(Err(_))), "crypto accepts alteration {i}");
        assert!(matches!(b, Some(Err(_))), "verifier accepts alteration {i}");
    }
}

/// Every hex string leaf of a JSON value, as a path.
fn leaves(v: &Value, path: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    match v {
        Value::String(_) => out.push(path.clone()),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| {
            path.push(i.into());
            leaves(x, path, out);
            path.pop();
        }),
        Value::Object(o) => o.iter().for_each(|(k, x)| {
            path.push(k.as_str().into());
            leaves(x, path, out);
            path.pop();
        }),
        _ => {}
    }
}

#[test]
fn both_agree_on_random_single_digit_changes() {
    let mut rng = ChaCha20Rng::seed_from_u64(43);
    let c = case(&mut rng, 6, 2);
    let base = document(&c, &c.output, &c.proof);
    let mut paths = Vec::new();
    leaves(&base, &mut Vec::new(), &mut paths);
    paths.retain(|p| p.first() != Some(&Value::from("purpose")));
    for _ in 0..300 {
        let mut d = base.clone();
        let path = &paths[rng.gen_range(0..paths.len())];
        let leaf = path.iter().fold(&mut d, |acc, p| match p {
            Value::Number(i) => &mut acc[i.as_u64().unwrap() as usize],
            Value::String(k) => &mut acc[k.as_str()],
            _ => unreachable!(),
        });
        let mut s: Vec<u8> = leaf.as_str().unwrap().bytes().collect();
        let i = rng.gen_range(0..s.len());
        let old = s[i];
        while s[i] == old {
            s[i] = b"0123456789abcdef"[rng.gen_range(0..16)];
        }
        *leaf = String::from_utf8(s).unwrap().into();
        let (a, b) = (crypto_verdict(&d), verifier_verdict(&d));
        assert_eq!(a.is_some(), b.is_some(), "both decode, or neither, at {path:?}");
        assert!(a.is_none_or(|r| r.is_err()), "crypto accepts a change at {path:?}");
        assert!(b.is_none_or(|r| r.is_err()), "verifier accepts a change at {path:?}");
    }
}

fn vector() -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors/shuffle.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn the_vector_verifies_on_both_sides_and_its_output_is_reproduced() {
    let v = vector();
    let mut d = v.clone();
    d.as_object_mut()
        .unwrap()
        .retain(|k, _| ["context", "purpose", "keys", "input", "output", "proof"].contains(&k.as_str()));
    assert_eq!(crypto_verdict(&d), Some(Ok(())));
    assert_eq!(verifier_verdict(&d), Some(Ok(())));
    // SH-0 from the published permutation and nonces.
    let keys: Vec<PublicKey> = serde_json::from_value(v["keys"].clone()).unwrap();
    assert_eq!(keys[1].point(), &generator_h(), "the vector's column 1 is under H");
    assert_ne!(keys[0], keys[1]);
    let input: Rows = serde_json::from_value(v["input"].clone()).unwrap();
    let output: Rows = serde_json::from_value(v["output"].clone()).unwrap();
    let permutation: Vec<usize> = serde_json::from_value(v["permutation"].clone()).unwrap();
    let nonces: Vec<Scalar> = v["nonces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| Scalar::from_canonical_bytes(hex::decode(x.as_str().unwrap()).unwrap().try_into().unwrap()).unwrap())
        .collect();
    for (j, &i) in permutation.iter().enumerate() {
        for k in 0..3 {
            let key = KeyTable::new(keys[k]);
            let rho = nonces[j * 3 + k];
            let (a, b) = (&input.row(j).unwrap()[k], &output.row(i).unwrap()[k]);
            assert_eq!(*b.alpha.point(), a.alpha.point() + dobush_crypto::group::mul_base(&rho));
            assert_eq!(*b.beta.point(), a.beta.point() + key.mul(&rho));
        }
    }
    // The shuffle of the vector, redone from its seeds, gives the same bytes.
    let mut rng = ChaCha20Rng::from_seed([21; 32]);
    let (again, secret) = shuffle_rows(&mut rng, &keys, &input).unwrap();
    assert_eq!(again, output);
    assert_eq!(secret.permutation(), permutation.as_slice());
}
