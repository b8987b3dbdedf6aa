//! Known-answer vectors (`vectors/*.json`): a contract between the Rust crypto, the JS voter
//! client and the independent verifier. Generated from fixed seeds with `ChaCha20Rng`; the
//! `gen_vectors` binary writes them and a test checks the committed files byte for byte.

use curve25519_dalek::ristretto::RistrettoPoint;
use dobush_crypto::ballot::{PlaintextBallot, PlaintextContest, body_hash, encrypt_ballot, verify_ballot};
use dobush_crypto::ballot_v2::ballot::{
    BallotV2, body_hash_v2, encrypt_ballot_v2, tracking_code_v2, verify_ballot_v2, verify_challenged_ballot_v2,
};
use dobush_crypto::ballot_v2::cast_opening::{
    CastVerifierSecret, OpeningStatement, prove_cast_opening, simulate_cast_opening, verify_cast_opening,
};
use dobush_crypto::ballot_v2::credential_proof::{
    prove_credential, prove_credential_unchecked, tracking_code, verify_credential,
};
use dobush_crypto::ballot_v2::encrypted_credential::{
    CredentialNonces, EncryptedCredential, encrypt_credential, tag_base,
};
use dobush_crypto::ballot_v2::registration::{BindingStatement, Pin, draw_salt, sign_binding, verify_binding};
use dobush_crypto::context::{ElectionContext, KeyHolderIdentity, base_hash};
use dobush_crypto::credential::Credential;
use dobush_crypto::elgamal::{Ciphertext, Nonce, PublicKey, RawCiphertext, SecretKey, encrypt_with_nonce};
use dobush_crypto::filter::dleq::{BatchStatement, BatchedDleqProof, Purpose, RunContext, weights, weights_seed};
use dobush_crypto::group::{
    GroupElement, generator_g, generator_h, hash_to_group, mul_base, random_nonzero_scalar, random_scalar,
};
use dobush_crypto::labels;
use dobush_crypto::manifest::Manifest;
use dobush_crypto::parameters::{Parameters, ReVotePolicy, parameters_hash};
use dobush_crypto::shuffle::{Rows, ShuffleStatement, prove_shuffle, shuffle_rows};
use dobush_crypto::signature::{SigningKey, fingerprint_of_bytes};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::{Value, json};

use crate::fixtures::{pilot_manifest, wide_manifest};

fn hexp(p: &RistrettoPoint) -> String {
    hex::encode(p.compress().as_bytes())
}

fn negated_g_encoding() -> String {
    let mut b = generator_g().compress().to_bytes();
    b[0] |= 1;
    hex::encode(b)
}

fn seeded(byte: u8) -> ChaCha20Rng {
    ChaCha20Rng::from_seed([byte; 32])
}

/// The election used by the ballot vectors: a single test key (seed 1), key-holders' keys
/// (seed 2) bound into the base context, and the manifest.
fn election(manifest: Manifest) -> (ElectionContext, Value) {
    let mut rng = seeded(1);
    let sk = SecretKey::generate(&mut rng);
    let mut krng = seeded(2);
    let holders: Vec<KeyHolderIdentity> = (0..5)
        .map(|_| KeyHolderIdentity {
            signing_key: SigningKey::generate(&mut krng).verifying_key().0,
            comm_key: SigningKey::generate(&mut krng).verifying_key().0,
        })
        .collect();
    let base = base_hash(&manifest.campaign_id, 3, &holders);
    let pk = sk.public_key();
    let manifest_json = serde_json::to_value(&manifest).unwrap_or(Value::Null);
    // the pinned commission: three members' Ed25519 keys from seed 3 (14-commission.md)
    let mut mrng = seeded(3);
    let members: Vec<ed25519_dalek::SigningKey> =
        (0..3).map(|_| ed25519_dalek::SigningKey::generate(&mut mrng)).collect();
    let commission = dobush_crypto::commission::commission_of(&[
        ("Asanova A. A.", &members[0]),
        ("Bakirov B. B.", &members[1]),
        ("Cholponova Ch. Ch.", &members[2]),
    ]);
    // the board key (secret seed 0x42 × 32, which the mobile bridge's fixtures sign with) and the
    // parameters (02-transcripts.md §Parameters hash)
    let board_key = dobush_crypto::board::BoardKey::from_bytes(&[0x42; 32]).public();
    let parameters = Parameters::with_policy(ReVotePolicy::LastCounts);
    let params_hash = parameters_hash(&board_key, &parameters);
    let ctx = match ElectionContext::new(base, pk, manifest, commission.hash(), params_hash) {
        Ok(c) => c,
        Err(e) => unreachable_fixture(&e.to_string()),
    };
    let info = json!({
        "threshold": 3,
        "key_holders": holders.iter().map(|h| json!({"signing_key": h.signing_key, "comm_key": h.comm_key})).collect::<Vec<_>>(),
        "base_hash": hex::encode(base),
        "joint_key": pk,
        "manifest": manifest_json,
        "manifest_hash": hex::encode(ctx.manifest_hash()),
        "commission": commission,
        "commission_hash": hex::encode(commission.hash()),
        "commission_fingerprints": commission.members.iter().map(|m| m.identity.fingerprint()).collect::<Vec<_>>(),
        "board_key": hex::encode(board_key),
        "parameters": parameters,
        "parameters_hash": hex::encode(params_hash),
        "extended_hash": hex::encode(ctx.extended_hash()),
        "package_fingerprint": fingerprint_of_bytes(labels::FP_ELECTION_PACKAGE, ctx.extended_hash()),
    });
    (ctx, info)
}

#[allow(clippy::panic)]
fn unreachable_fixture(msg: &str) -> ! {
    panic!("fixture manifest is invalid: {msg}")
}

fn ballot_vector(ctx: &ElectionContext, cred_seed: [u8; 16], plaintext: PlaintextBallot, rng_seed: u8) -> Value {
    let cred = Credential::from_seed(&cred_seed).unwrap_or_else(|e| unreachable_fixture(&e.to_string()));
    let mut rng = seeded(rng_seed);
    let (ballot, secrets) = encrypt_ballot(ctx, cred.signing_key(), &plaintext, &mut rng)
        .unwrap_or_else(|e| unreachable_fixture(&e.to_string()));
    let mut vrng = seeded(0xee);
    let verified =
        verify_ballot(ctx, ballot.clone(), &mut vrng).unwrap_or_else(|e| unreachable_fixture(&e.to_string()));
    json!({
        "rng_seed_byte": rng_seed,
        "credential": {
            "seed": hex::encode(cred_seed),
            "public": cred.public(),
            "recovery_code": cred.recovery_code().as_str(),
            "fingerprint": cred.fingerprint(),
        },
        "plaintext": plaintext,
        "ballot": ballot,
        "body_hash": hex::encode(body_hash(ctx, &ballot)),
        "tracking_code": verified.tracking_code().to_hex(),
        "tracking_code_short": verified.tracking_code().short(),
        "opening": secrets.open(),
    })
}

/// A shuffle of four rows of width 3 in the pilot election (docs/protocol/12-shuffle.md): the
/// inputs encrypt 0 … 11 with nonces from seed 20, the shuffle draws from seed 21 and the proof
/// from seed 22. The generators h_0 … h_3 and ĥ are listed for implementers (SH-G1, SH-G2).
fn shuffle_vector() -> Value {
    let (ctx, _) = election(pilot_manifest());
    let pk = *ctx.joint_key();
    let h =
        GroupElement::from_point(generator_h()).map(PublicKey).unwrap_or_else(|e| unreachable_fixture(&e.to_string()));
    // Column 1 is under H, as an ordinal column is (13-revoting.md §5).
    let keys = [pk, h, pk];
    let mut rng = seeded(20);
    let cts = (0..12u64)
        .map(|m| encrypt_with_nonce(&keys[(m % 3) as usize], m, &Nonce::generate(&mut rng)))
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or_else(|e| unreachable_fixture(&e.to_string()));
    let input = Rows::new(3, cts).unwrap_or_else(|e| unreachable_fixture(&e.to_string()));
    let (output, secret) =
        shuffle_rows(&mut seeded(21), &keys, &input).unwrap_or_else(|e| unreachable_fixture(&e.to_string()));
    let purpose = "filter/ballots";
    let stmt = ShuffleStatement { context: ctx.extended_hash(), purpose, keys: &keys, input: &input, output: &output };
    let proof = prove_shuffle(&mut seeded(22), &stmt, &secret).unwrap_or_else(|e| unreachable_fixture(&e.to_string()));
    let generator = |prefix: &[u8], index: Option<u64>| {
        let mut x = [prefix, ctx.extended_hash(), &(purpose.len() as u64).to_le_bytes(), purpose.as_bytes()].concat();
        if let Some(i) = index {
            x.extend(i.to_le_bytes());
        }
        hexp(&hash_to_group(&x))
    };
    json!({
        "description": "A shuffle of 4 rows of 3 ciphertexts and its proof (docs/protocol/12-shuffle.md). Columns 0 and 2 are under the election key K, column 1 under H (keys). Input row j, column k encrypts 3j + k under its column's key.",
        "rng": "inputs' nonces: Nonce::generate(ChaCha20Rng::from_seed([20; 32])) in order; shuffle_rows: ChaCha20Rng::from_seed([21; 32]); prove_shuffle: ChaCha20Rng::from_seed([22; 32])",
        "context": hex::encode(ctx.extended_hash()),
        "context_is": "the extended hash of the pilot election (ballots-pilot.json)",
        "purpose": purpose,
        "keys": keys,
        "generators": (0..4).map(|i| generator(b"dobush/v1/shuffle/generator", Some(i))).collect::<Vec<_>>(),
        "chain_base": generator(b"dobush/v1/shuffle/chain-base", None),
        "input": input,
        "permutation": secret.permutation(),
        "nonces": secret.nonces().iter().map(|x| hex::encode(x.as_bytes())).collect::<Vec<_>>(),
        "output": output,
        "proof": proof,
    })
}

/// A batched Chaum–Pedersen proof (docs/protocol/13-revoting.md §9.3) in the pilot election:
/// member 2's tag shares of three ciphertexts (encrypting 0, 1, 2; nonces from seed 30), its
/// secret from seed 31, the proof's nonce from seed 32. The seed of the weights and the first
/// weights are listed for implementers.
fn batched_dleq_vector() -> Value {
    let (ctx, _) = election(pilot_manifest());
    let pk = *ctx.joint_key();
    let mut rng = seeded(30);
    let mut bases = Vec::new();
    for m in 0..3u64 {
        let ct = encrypt_with_nonce(&pk, m, &Nonce::generate(&mut rng))
            .unwrap_or_else(|e| unreachable_fixture(&e.to_string()));
        bases.extend([*ct.alpha.point(), *ct.beta.point()]);
    }
    let y = random_nonzero_scalar(&mut seeded(31));
    let key = GroupElement::from_point(mul_base(&y)).unwrap_or_else(|e| unreachable_fixture(&e.to_string()));
    let images: Vec<RistrettoPoint> = bases.iter().map(|p| y * p).collect();
    let (run, style, purpose, member) = (1u64, "samarkandek", Purpose::TagRows, 2u32);
    let st = BatchStatement {
        run: RunContext { context: ctx.extended_hash(), run, style },
        purpose,
        member,
        key: &key,
        bases: &bases,
        images: &images,
    };
    let proof =
        BatchedDleqProof::prove(&st, &y, &mut seeded(32)).unwrap_or_else(|e| unreachable_fixture(&e.to_string()));
    let seed = weights_seed(&st).unwrap_or_else(|e| unreachable_fixture(&e.to_string()));
    json!({
        "description": "A batched Chaum–Pedersen proof (docs/protocol/13-revoting.md §9.3): Q_i = y·P_i for the α and β of three ciphertexts, A before B.",
        "rng": "ciphertexts' nonces: Nonce::generate(ChaCha20Rng::from_seed([30; 32])); y: random_nonzero_scalar(ChaCha20Rng::from_seed([31; 32])); proof: ChaCha20Rng::from_seed([32; 32])",
        "context": hex::encode(ctx.extended_hash()),
        "context_is": "the extended hash of the pilot election (ballots-pilot.json)",
        "run": run,
        "style": style,
        "purpose": purpose.as_str(),
        "member": member,
        "key": key,
        "bases": bases.iter().map(hexp).collect::<Vec<_>>(),
        "images": images.iter().map(hexp).collect::<Vec<_>>(),
        "weights_seed": hex::encode(seed),
        "weights": weights(&seed, bases.len()).iter().map(|e| hex::encode(e.as_bytes())).collect::<Vec<_>>(),
        "proof": proof,
    })
}

/// Two signed round messages of the filter (docs/protocol/13-revoting.md §6.3): round 6 (`tags`)
/// of style `samarkandek`, run 1, F = {1, 3}, by members 1 and 3 of a 2-of-3 election whose
/// key-holders' keys are drawn from seeds 50, 51, 52; their round digest; and malformed headers
/// a reader must refuse.
fn filter_messages_vector() -> Value {
    use dobush_crypto::filter::run::signed::{Header, Kind, SignedHeader, round_digest};
    use dobush_crypto::threshold::KeyHolderKeys;
    let (ctx, _) = election(pilot_manifest());
    let keys: Vec<KeyHolderKeys> = (50u8..53).map(|s| KeyHolderKeys::generate(&mut seeded(s))).collect();
    let previous = [0x11u8; 32];
    let bodies = [r#"{"member":1,"shares":[]}"#, r#"{"member":3,"shares":[]}"#];
    let mut rng = seeded(53);
    let messages: Vec<SignedHeader> = [(1u32, bodies[0]), (3, bodies[1])]
        .iter()
        .map(|(j, body)| {
            let h =
                Header::for_body(Kind::Tags, *j, (1, [0x22; 32]), &[1, 3], 6, "samarkandek", previous, body.as_bytes());
            SignedHeader::sign(h, ctx.extended_hash(), &keys[*j as usize - 1], &mut rng)
                .unwrap_or_else(|e| unreachable_fixture(&e.to_string()))
        })
        .collect();
    let refs: Vec<&SignedHeader> = messages.iter().collect();
    let digest =
        round_digest(1, "samarkandek", 6, &previous, &refs).unwrap_or_else(|e| unreachable_fixture(&e.to_string()));
    let honest = serde_json::to_value(&messages[0]).unwrap_or_else(|e| unreachable_fixture(&e.to_string()));
    let malformed: Vec<Value> = [
        ("/header/kind", json!("tally")),
        ("/header/round", json!(7)),
        ("/header/sender", json!(2)),
        ("/header/filter", json!([3, 1])),
        ("/header/filter", json!([])),
        ("/header/run", json!(0)),
        ("/header/style", json!("")),
        ("/header/previous", json!("11")),
        ("/header/opening", json!("22")),
        ("/signature/s", json!("ff".repeat(32))),
        ("/header/extra", json!(1)),
    ]
    .iter()
    .map(|(at, value)| {
        let mut v = honest.clone();
        let (parent, name) = at.rsplit_once('/').unwrap_or(("", at));
        if let Some(o) = v.pointer_mut(parent).and_then(Value::as_object_mut) {
            o.insert(name.to_owned(), value.clone());
        }
        v
    })
    .collect();
    json!({
        "description": "Signed round messages of the filter (docs/protocol/13-revoting.md §6.3): round 6 of style samarkandek, run 1 opened with O = 22…22, F = {1, 3}; their round digest over `previous`; malformed headers to refuse.",
        "rng": "key-holder l's keys: KeyHolderKeys::generate(ChaCha20Rng::from_seed([49 + l; 32])); both signatures: ChaCha20Rng::from_seed([53; 32]), member 1 first",
        "context": hex::encode(ctx.extended_hash()),
        "context_is": "the extended hash of the pilot election (ballots-pilot.json)",
        "signing_keys": keys.iter().map(|k| k.public(1).signing_key.0.to_hex()).collect::<Vec<_>>(),
        "previous": hex::encode(previous),
        "bodies": bodies,
        "messages": messages,
        "round_digest": hex::encode(digest),
        "malformed": malformed,
    })
}

/// The voter's side of a v2 ballot in the pilot election (docs/protocol/13-revoting.md §2,
/// §3.1–3.4, §3.6): the credential from seed 0x60…, its encryption and credential proof and cast
/// opening drawn from seed 40 in the order of §3.6 (r_X, r_V; the proof's 32 bytes; the
/// opening's 32 bytes), a stand-in body hash from seed 41 (the v2 body hash is not built yet),
/// two registration bindings from seed 42 (salt, then the signature's 32 bytes, each), the
/// server's y from seed 43 and its simulated opening for another credential (0x61…) from seed 44.
/// Three forgeries each break one of CR-1, CR-2, CR-3 (the honest proof with one ciphertext
/// component moved by G), and four encodings must be refused.
fn credential_v2_vector() -> Value {
    fn fix<T>(e: &dyn std::fmt::Display) -> T {
        unreachable_fixture(&e.to_string())
    }
    let (ctx, _) = election(pilot_manifest());
    let cred = Credential::from_seed(&[0x60; 16]).unwrap_or_else(|e| fix(&e));
    let x = cred.public();
    let mut rng = seeded(40);
    let mut replay = rng.clone();
    let (enc, nonces) = encrypt_credential(&ctx, &x, &mut rng).unwrap_or_else(|e| fix(&e));
    let (r_x, r_v) = (random_nonzero_scalar(&mut replay), random_nonzero_scalar(&mut replay));
    if !CredentialNonces::from_scalars(r_x, r_v).is_ok_and(|n| n.opens(&ctx, &x, &enc)) {
        unreachable_fixture("r_X, r_V are the first two draws");
    }
    let mut body = [0u8; 32];
    rand::RngCore::fill_bytes(&mut seeded(41), &mut body);
    let proof = prove_credential(&ctx, &body, cred.signing_key(), &enc, &nonces, &mut rng).unwrap_or_else(|e| fix(&e));
    verify_credential(&ctx, &body, &enc, &proof).unwrap_or_else(|e| fix(&e));
    let server = CastVerifierSecret::generate(&mut seeded(43));
    let st =
        OpeningStatement { ctx: &ctx, body_hash: &body, enc: &enc, registered: &x, verifier_key: server.public_key() };
    let opening = prove_cast_opening(&st, &nonces, &mut rng).unwrap_or_else(|e| fix(&e));
    verify_cast_opening(&st, &opening).unwrap_or_else(|e| fix(&e));
    let other = Credential::from_seed(&[0x61; 16]).unwrap_or_else(|e| fix(&e)).public();
    let sim_st = OpeningStatement { registered: &other, ..st };
    let simulated = simulate_cast_opening(&sim_st, &server, &mut seeded(44)).unwrap_or_else(|e| fix(&e));
    verify_cast_opening(&sim_st, &simulated).unwrap_or_else(|e| fix(&e));

    let pin = Pin::parse("21204199500123").unwrap_or_else(|e| fix(&e));
    let mut rrng = seeded(42);
    let bindings: Vec<Value> = [("samarkandek", ""), ("samarkandek", "decision 17 of 2026-12-01")]
        .into_iter()
        .map(|(style, decision)| {
            let salt = draw_salt(&mut rrng);
            let b = BindingStatement {
                base_hash: ctx.base_hash(),
                campaign: &ctx.manifest().campaign_id,
                pin: &pin,
                salt: &salt,
                style,
                decision,
                credential: &x,
            };
            let sig = sign_binding(&b, cred.signing_key(), &mut rrng).unwrap_or_else(|e| fix(&e));
            verify_binding(&b, &sig, &b.pin_commitment()).unwrap_or_else(|e| fix(&e));
            json!({
                "campaign": ctx.manifest().campaign_id,
                "pin": pin.as_str(),
                "salt": hex::encode(salt),
                "style": style,
                "decision": decision,
                "pin_commitment": hex::encode(b.pin_commitment()),
                "binding": sig,
            })
        })
        .collect();

    let g = generator_g();
    let moved = |c: &Ciphertext, alpha: bool| -> Ciphertext {
        let raw = c.raw();
        let raw = if alpha {
            RawCiphertext { alpha: raw.alpha + g, ..raw }
        } else {
            RawCiphertext { beta: raw.beta + g, ..raw }
        };
        raw.validate().unwrap_or_else(|e| fix(&e))
    };
    // Each forgery is a proof made with the honest witnesses for a statement that differs in
    // one component: the transcript binds that statement (§3.2), so exactly the changed
    // relation's equation fails.
    let mut frng = seeded(45);
    let forged = [
        ("CR-1", EncryptedCredential { cred: moved(&enc.cred, true), ..enc }),
        ("CR-2", EncryptedCredential { cred: moved(&enc.cred, false), ..enc }),
        ("CR-3", EncryptedCredential { tbase: moved(&enc.tbase, true), ..enc }),
    ]
    .map(|(breaks, e)| {
        let p = prove_credential_unchecked(&ctx, &body, cred.signing_key(), &e, &nonces, &mut frng)
            .unwrap_or_else(|err| fix(&err));
        json!({"breaks": breaks, "encrypted_credential": e, "credential_proof": p})
    });
    let l_hex = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";
    json!({
        "description": "The voter's side of a v2 ballot (docs/protocol/13-revoting.md §2, §3.1-3.4): TB(X), cred and tbase, the credential proof CR-1..CR-3, the v2 tracking code, PIN commitments and registration bindings, and the designated-verifier cast opening (the device's, and the server's simulation for another credential).",
        "rng": "credential: Credential::from_seed([0x60; 16]); r_X, r_V, the credential proof's finalize and the cast opening's finalize: ChaCha20Rng::from_seed([40; 32]) in this order; body_hash: 32 bytes of ChaCha20Rng::from_seed([41; 32]); bindings: ChaCha20Rng::from_seed([42; 32]) (salt, then the signature, per binding); y: random_nonzero_scalar(ChaCha20Rng::from_seed([43; 32])); the simulated opening: ChaCha20Rng::from_seed([44; 32]); the forged credential proofs (CR-1, CR-2, CR-3 in this order, each made with the honest witnesses for its changed statement): ChaCha20Rng::from_seed([45; 32])",
        "election": {
            "is": "the pilot election of ballots-pilot.json",
            "base_hash": hex::encode(ctx.base_hash()),
            "extended_hash": hex::encode(ctx.extended_hash()),
            "joint_key": ctx.joint_key(),
        },
        "credential": x,
        "tag_base": hexp(&tag_base(ctx.base_hash(), &x.0)),
        "r_x": hex::encode(r_x.as_bytes()),
        "r_v": hex::encode(r_v.as_bytes()),
        "encrypted_credential": enc,
        "body_hash": hex::encode(body),
        "body_hash_is": "a stand-in: 32 bytes from seed 41",
        "credential_proof": proof,
        "tracking_code": tracking_code(&body, &proof).to_hex(),
        "registrations": bindings,
        "cast_opening": {
            "cast_verifier_key": server.public_key(),
            "cast_verifier_secret": hex::encode(server.to_bytes()),
            "registered": x,
            "opening_proof": opening,
            "simulated_for": other,
            "simulated_opening_proof": simulated,
        },
        "forged_credential_proofs": forged,
        "refused_encodings": [
            {"field": "zx", "value": l_hex, "reason": "the scalar ℓ is not canonical"},
            {"field": "zr", "value": "ff".repeat(32), "reason": "a scalar above ℓ"},
            {"field": "a1", "value": "00".repeat(32), "reason": "the identity"},
            {"field": "a2", "value": negated_g_encoding(), "reason": "a negative field element"},
            {"field": "a3", "value": hexp(&g).to_uppercase(), "reason": "upper-case hex"},
        ],
    })
}

/// One change of a vector ballot: set `value` at the JSON pointer `pointer` (an object's member
/// is added if missing), or remove that member when `value` is absent.
pub fn apply_patches(ballot: &Value, patches: &[Value]) -> Option<Value> {
    let mut out = ballot.clone();
    for p in patches {
        let pointer = p.get("pointer")?.as_str()?;
        let (parent, last) = pointer.rsplit_once('/')?;
        let target = out.pointer_mut(parent)?;
        match (target, p.get("value")) {
            (Value::Object(m), Some(v)) => {
                m.insert(last.to_owned(), v.clone());
            }
            (Value::Object(m), None) => {
                m.remove(last)?;
            }
            (Value::Array(a), Some(v)) => *a.get_mut(last.parse::<usize>().ok()?)? = v.clone(),
            _ => return None,
        }
    }
    Some(out)
}

/// `ballots-v2.json` (13-revoting.md §3.7): three v2 ballots of the pilot election with the
/// plaintexts of ballots-pilot.json, credentials `Credential::from_seed([0x70 + i; 16])` and
/// device draws from `ChaCha20Rng::from_seed([50 + i; 32])`; forgeries of ballot 0 as patches,
/// each refused by every verifier (one field changed, a credential proof made for another tbase
/// or another ballot, reused randomness); encodings that no parser accepts.
fn ballots_v2_vector() -> Value {
    fn fix<T>(e: &dyn std::fmt::Display) -> T {
        unreachable_fixture(&e.to_string())
    }
    let (ctx, info) = election(pilot_manifest());
    let plaintexts = [
        (vec![0, 0, 1, 0, 0, 0, 0, 0, 0], vec![1, 0]),
        (vec![0, 0, 0, 0, 0, 0, 0, 1, 0], vec![0, 1]),
        (vec![0, 0, 0, 0, 0, 0, 0, 0, 1], vec![1, 0]),
    ];
    let mut made = Vec::new();
    let mut ballots = Vec::new();
    for (i, (council, question)) in plaintexts.into_iter().enumerate() {
        let p = PlaintextBallot {
            style: "samarkandek".into(),
            contests: vec![
                PlaintextContest { contest_id: "council".into(), selections: council },
                PlaintextContest { contest_id: "question".into(), selections: question },
            ],
        };
        let seed = [0x70 + i as u8; 16];
        let cred = Credential::from_seed(&seed).unwrap_or_else(|e| fix(&e));
        let rng_seed = 50 + i as u8;
        let mut rng = seeded(rng_seed);
        let mut replay = rng.clone();
        let (ballot, secrets) = encrypt_ballot_v2(&ctx, cred.signing_key(), &p, &mut rng).unwrap_or_else(|e| fix(&e));
        rand::RngCore::fill_bytes(&mut replay, &mut [0u8; 16]);
        let (r_x, r_v) = (random_nonzero_scalar(&mut replay), random_nonzero_scalar(&mut replay));
        let verified = verify_ballot_v2(&ctx, ballot.clone(), &mut seeded(0xee)).unwrap_or_else(|e| fix(&e));
        let code = *verified.tracking_code();
        if code != tracking_code_v2(&ctx, &ballot) {
            unreachable_fixture("the device's and the verifier's tracking codes agree");
        }
        let opening = secrets.open();
        if verify_challenged_ballot_v2(&ctx, &verified, &opening).ok().as_ref() != Some(&p) {
            unreachable_fixture("the opening gives the plaintext back");
        }
        ballots.push(json!({
            "rng_seed_byte": rng_seed,
            "credential": {"seed": hex::encode(seed), "public": cred.public()},
            "r_x": hex::encode(r_x.as_bytes()),
            "r_v": hex::encode(r_v.as_bytes()),
            "plaintext": p,
            "ballot": ballot,
            "body_hash": hex::encode(body_hash_v2(&ctx, &ballot)),
            "tracking_code": code.to_hex(),
            "tracking_code_short": code.short(),
            "opening": opening,
        }));
        made.push((ballot, cred, CredentialNonces::from_scalars(r_x, r_v).unwrap_or_else(|e| fix(&e))));
    }
    let Some((b, cred, nonces)) = made.first() else { unreachable_fixture("three ballots") };
    let honest = serde_json::to_value(b).unwrap_or_else(|e| fix(&e));
    let at = |pointer: &str| honest.pointer(pointer).cloned().unwrap_or(Value::Null);
    let set = |pointer: &str, value: Value| json!({"pointer": pointer, "value": value});
    let g = generator_g();
    // A point moves by G, a scalar by 1: another valid encoding of another value.
    let bump = |pointer: &str| -> Value {
        let bytes: [u8; 32] = at(pointer)
            .as_str()
            .and_then(|h| hex::decode(h).ok())
            .and_then(|v| v.try_into().ok())
            .unwrap_or_else(|| unreachable_fixture(pointer));
        let scalar = ["/c", "/z", "/zx", "/zr", "/zv"].iter().any(|s| pointer.ends_with(s));
        let value = if scalar {
            let s = dobush_crypto::group::decode_scalar(&bytes).unwrap_or_else(|e| fix(&e));
            hex::encode((s + curve25519_dalek::scalar::Scalar::ONE).as_bytes())
        } else {
            hexp(&(GroupElement::from_bytes(&bytes).unwrap_or_else(|e| fix(&e)).point() + g))
        };
        set(pointer, json!(value))
    };
    let mut fields: Vec<String> =
        ["/cred/alpha", "/cred/beta", "/tbase/alpha", "/tbase/beta"].map(String::from).to_vec();
    let branch = |base: &str| ["a", "b", "c", "z"].map(|f| format!("{base}/{f}"));
    for (ci, c) in b.contests.iter().enumerate() {
        for (si, sel) in c.selections.iter().enumerate() {
            let base = format!("/contests/{ci}/selections/{si}");
            fields.extend(["alpha", "beta"].map(|f| format!("{base}/ciphertext/{f}")));
            for bi in 0..sel.proof.branches.len() {
                fields.extend(branch(&format!("{base}/proof/{bi}")));
            }
        }
        let branches = at(&format!("/contests/{ci}/count_proof/proof")).as_array().map_or(0, Vec::len);
        for bi in 0..branches {
            fields.extend(branch(&format!("/contests/{ci}/count_proof/proof/{bi}")));
        }
    }
    fields.extend(["a1", "a2", "a3", "zx", "zr", "zv"].map(|f| format!("/credential_proof/{f}")));
    let mut forged: Vec<(String, Vec<Value>, bool)> = Vec::new();
    let mut id = b.ballot_id;
    id[15] ^= 1;
    forged.push(("ballot_id".into(), vec![set("/ballot_id", json!(hex::encode(id)))], false));
    forged.push(("style".into(), vec![set("/style", json!("samarkandek-2"))], false));
    forged.extend(fields.into_iter().map(|p| (p.clone(), vec![bump(&p)], false)));
    forged.push((
        "contests swapped".into(),
        vec![set("/contests/0", at("/contests/1")), set("/contests/1", at("/contests/0"))],
        false,
    ));
    forged.push(("cred and tbase swapped".into(), vec![set("/cred", at("/tbase")), set("/tbase", at("/cred"))], false));
    // The credential proof of ballot 1, and one made with ballot 0's own witnesses and body hash
    // for a tbase whose β moved by G: each is refused with ballot 0's cred and tbase.
    let other = made.get(1).map(|(o, _, _)| serde_json::to_value(&o.credential_proof).unwrap_or(Value::Null));
    forged.push((
        "the credential proof of another ballot".into(),
        vec![set("/credential_proof", other.unwrap_or(Value::Null))],
        false,
    ));
    let moved = EncryptedCredential {
        tbase: RawCiphertext { beta: b.tbase.beta.point() + g, ..b.tbase.raw() }.validate().unwrap_or_else(|e| fix(&e)),
        ..b.encrypted_credential()
    };
    let for_other_tbase =
        prove_credential_unchecked(&ctx, &body_hash_v2(&ctx, b), cred.signing_key(), &moved, nonces, &mut seeded(53))
            .unwrap_or_else(|e| fix(&e));
    forged.push((
        "a credential proof made for another tbase".into(),
        vec![set("/credential_proof", json!(for_other_tbase))],
        false,
    ));
    forged.push(("tbase.alpha = cred.alpha".into(), vec![set("/tbase/alpha", at("/cred/alpha"))], true));
    forged.push((
        "cred.alpha = a vote's alpha".into(),
        vec![set("/cred/alpha", at("/contests/1/selections/0/ciphertext/alpha"))],
        true,
    ));
    forged.push((
        "tbase.alpha = a vote's alpha".into(),
        vec![set("/tbase/alpha", at("/contests/0/selections/3/ciphertext/alpha"))],
        true,
    ));
    // Every forgery parses and is refused by crypto, before it is written.
    let forged: Vec<Value> = forged
        .into_iter()
        .map(|(change, patches, before)| {
            let fb = apply_patches(&honest, &patches).unwrap_or_else(|| unreachable_fixture(&change));
            let fb: BallotV2 = serde_json::from_value(fb).unwrap_or_else(|e| fix(&e));
            if verify_ballot_v2(&ctx, fb, &mut seeded(0xee)).is_ok() {
                unreachable_fixture(&format!("forgery accepted: {change}"));
            }
            json!({"change": change, "patches": patches, "refused_before_any_proof": before})
        })
        .collect();
    let l_hex = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";
    let upper = |pointer: &str| set(pointer, json!(at(pointer).as_str().unwrap_or_default().to_uppercase()));
    let refused: Vec<Value> = [
        ("an unknown field", vec![set("/signature", json!({"r": at("/cred/alpha"), "s": at("/credential_proof/zx")}))]),
        ("v1's credential field", vec![set("/credential", at("/cred/alpha"))]),
        ("no tbase", vec![json!({"pointer": "/tbase"})]),
        ("an unknown field in cred", vec![set("/cred/gamma", at("/cred/alpha"))]),
        ("an unknown field in the credential proof", vec![set("/credential_proof/c", at("/credential_proof/zx"))]),
        ("an unknown field in a contest", vec![set("/contests/0/extra", json!(1))]),
        ("an unknown field in a selection", vec![set("/contests/0/selections/0/extra", json!(1))]),
        ("an unknown field in a ciphertext", vec![set("/contests/0/selections/0/ciphertext/gamma", at("/cred/alpha"))]),
        ("an unknown field in a branch", vec![set("/contests/1/selections/1/proof/0/d", at("/credential_proof/zx"))]),
        ("an unknown field in a count proof", vec![set("/contests/1/count_proof/extra", json!(1))]),
        ("an unknown count proof kind", vec![set("/contests/1/count_proof/kind", json!("schnorr"))]),
        ("the identity as tbase.alpha", vec![set("/tbase/alpha", json!("00".repeat(32)))]),
        ("a negative field element as cred.beta", vec![set("/cred/beta", json!(negated_g_encoding()))]),
        ("upper-case hex in tbase.beta", vec![upper("/tbase/beta")]),
        ("upper-case hex in the ballot id", vec![upper("/ballot_id")]),
        ("a 17-byte ballot id", vec![set("/ballot_id", json!("00".repeat(17)))]),
        ("the scalar l as zv", vec![set("/credential_proof/zv", json!(l_hex))]),
        ("a scalar above l as zr", vec![set("/credential_proof/zr", json!("ff".repeat(32)))]),
        ("the identity as a1", vec![set("/credential_proof/a1", json!("00".repeat(32)))]),
    ]
    .into_iter()
    .map(|(change, patches)| {
        let fb = apply_patches(&honest, &patches).unwrap_or_else(|| unreachable_fixture(change));
        if serde_json::from_value::<BallotV2>(fb).is_ok() {
            unreachable_fixture(&format!("encoding accepted: {change}"));
        }
        json!({"change": change, "patches": patches})
    })
    .collect();
    json!({
        "description": "v2 ballots of the pilot election (docs/protocol/13-revoting.md §3.7): cred and tbase at the credential's position, the contests as in v1, the credential proof over the v2 body hash and the v2 tracking code. `forged` and `refused_encodings` change ballot 0 by `patches` (set `value` at the JSON `pointer`, adding an object member if missing; without `value`, remove the member): every forged ballot parses and is refused by verification (`refused_before_any_proof`: by the reused-randomness rule), every refused encoding fails to parse.",
        "rng": "ballot i: Credential::from_seed([0x70 + i; 16]); the device draws from ChaCha20Rng::from_seed([rng_seed_byte; 32]) as in §3.6 (ballot id, r_X, r_V, the contests, the credential proof's finalize); the proof for another tbase: ChaCha20Rng::from_seed([53; 32]); the key is SecretKey::generate(ChaCha20Rng::from_seed([1; 32]))",
        "election": info,
        "ballots": ballots,
        "forged": forged,
        "refused_encodings": refused,
    })
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

/// `board-v2.json` (13-revoting.md §4.2, §4.3; 10-board.md §Credential list signatures): a v1
/// and a v2 credential list entry of campaign `pilot-2023` with the digests the commission signs
/// (the v1 and v2 labels), and a `credential_replaced_v2` entry with its replacement digest, its
/// proof of knowledge of old_tbase's nonce under the pilot election's extended hash, the nonce
/// and X_old (what a member's tool checks) and one member signature. Credentials
/// `Credential::from_seed([0x80 + i; 16])` (list), `[0x90; 16]` (X_old), `[0x91; 16]` (new);
/// salts from seed 60; old_tbase's nonce from seed 61, the proof from seed 62; the member's key
/// Ed25519 `[0x33; 32]`.
fn board_v2_vector() -> Value {
    use dobush_crypto::ballot_v2::replacement::{
        ReplacementStatement, encrypt_old_tag_base, prove_entry_nonce, verify_entry_nonce,
    };
    use dobush_crypto::record::{
        BoardEntry, ListedCredential, ListedCredentialV2, credential_list_digest, credential_list_digest_v2,
    };
    fn fix<T>(e: &dyn std::fmt::Display) -> T {
        unreachable_fixture(&e.to_string())
    }
    let (ctx, info) = election(pilot_manifest());
    let campaign = "pilot-2023";
    let pin = Pin::parse("21504199000012").unwrap_or_else(|e| fix(&e));
    let mut salts = seeded(60);
    let mut listed: Vec<ListedCredentialV2> = (0..3u8)
        .map(|i| {
            let x = Credential::from_seed(&[0x80 + i; 16]).unwrap_or_else(|e| fix(&e)).public();
            let pc = dobush_crypto::ballot_v2::registration::pin_commitment(&draw_salt(&mut salts), &pin);
            ListedCredentialV2 { credential: x, style: "samarkandek".into(), pin_commitment: pc, stations: vec![] }
        })
        .collect();
    listed.sort_by(|a, b| a.credential.0.as_bytes().cmp(b.credential.0.as_bytes()));
    let v1_items: Vec<ListedCredential> =
        listed.iter().map(|l| ListedCredential { credential: l.credential, style: l.style.clone() }).collect();
    let v1 = BoardEntry::CredentialList { credentials: v1_items, count: 3, revoked: vec![] };
    let v2 = BoardEntry::CredentialListV2 { credentials: listed, count: 3, revoked_count: 1 };
    let (v1_line, v2_line) = (v1.to_bytes().unwrap_or_else(|e| fix(&e)), v2.to_bytes().unwrap_or_else(|e| fix(&e)));
    let old = Credential::from_seed(&[0x90; 16]).unwrap_or_else(|e| fix(&e)).public();
    let new = Credential::from_seed(&[0x91; 16]).unwrap_or_else(|e| fix(&e)).public();
    let new_pc = dobush_crypto::ballot_v2::registration::pin_commitment(&draw_salt(&mut salts), &pin);
    let (old_tbase, nonce) = encrypt_old_tag_base(&ctx, &old, &mut seeded(61)).unwrap_or_else(|e| fix(&e));
    let decision = "TEC Batken No. 12/3 of 2023-04-02";
    let st = ReplacementStatement {
        campaign,
        style: "samarkandek",
        new: &new,
        new_pin_commitment: &new_pc,
        old_tbase: &old_tbase,
        decision,
    };
    let digest = st.digest();
    let proof = prove_entry_nonce(&ctx, &digest, &old_tbase, &nonce, &mut seeded(62)).unwrap_or_else(|e| fix(&e));
    verify_entry_nonce(&ctx, &digest, &old_tbase, &proof).unwrap_or_else(|e| fix(&e));
    let member = ed25519_dalek::SigningKey::from_bytes(&[0x33; 32]);
    let entry = BoardEntry::CredentialReplacedV2 {
        style: "samarkandek".into(),
        new,
        new_pin_commitment: new_pc,
        old_tbase,
        proof,
        decision: decision.into(),
        signatures: vec![dobush_crypto::election_protocol::MemberSignature::sign_digest(&digest, "Member A.", &member)],
    };
    let line = entry.to_bytes().unwrap_or_else(|e| fix(&e));
    json!({
        "description": "The v2 board's credential entries (docs/protocol/13-revoting.md §4.2, §4.3; 10-board.md §Credential list signatures): list digests with the v1 and v2 labels over the entry's exact line, and a credential_replaced_v2 entry with its replacement digest and the proof of knowledge of old_tbase's nonce under the election's extended hash.",
        "rng": "list credentials: Credential::from_seed([0x80 + i; 16]), i = 0..3, sorted by encoding; PIN 21504199000012; salts: ChaCha20Rng::from_seed([60; 32]) (three for the list, then the new credential's); X_old: from_seed([0x90; 16]); new: from_seed([0x91; 16]); old_tbase's nonce: ChaCha20Rng::from_seed([61; 32]); the proof: ChaCha20Rng::from_seed([62; 32]); the member: Ed25519 secret [0x33; 32]",
        "campaign_id": campaign,
        "extended_hash": info["extended_hash"],
        "base_hash": info["base_hash"],
        "joint_key": info["joint_key"],
        "list_v1": {"entry": String::from_utf8_lossy(&v1_line), "digest": hex::encode(credential_list_digest(campaign, &v1_line))},
        "list_v2": {"entry": String::from_utf8_lossy(&v2_line), "digest": hex::encode(credential_list_digest_v2(campaign, &v2_line))},
        "replacement_v2": {
            "entry": String::from_utf8_lossy(&line),
            "digest": hex::encode(digest),
            "old": old,
            "nonce": hex::encode(*nonce.to_bytes()),
        },
    })
}

/// Every vector file: `(file name under vectors/, contents)`.
pub fn generate() -> Vec<(&'static str, String)> {
    // Group: generators, hash-to-group, wide reduction, encryption with a fixed nonce.
    let mut rng = seeded(3);
    let scalars: Vec<Value> = (0..3)
        .map(|_| {
            let mut r2 = rng.clone();
            let mut wide = [0u8; 64];
            rand::RngCore::fill_bytes(&mut r2, &mut wide);
            let s = random_scalar(&mut rng);
            json!({"wide_bytes": hex::encode(wide), "scalar": hex::encode(s.as_bytes())})
        })
        .collect();
    let sk = SecretKey::generate(&mut seeded(1));
    let pk = sk.public_key();
    let encs: Vec<Value> = [0u64, 1, 5]
        .iter()
        .map(|m| {
            let n = Nonce::generate(&mut rng);
            let ct = encrypt_with_nonce(&pk, *m, &n).unwrap_or_else(|e| unreachable_fixture(&e.to_string()));
            json!({"m": m, "nonce": hex::encode(n.scalar().as_bytes()), "ciphertext": ct})
        })
        .collect();
    let group = json!({
        "description": "Ristretto255 encodings, generators and ElGamal known answers (docs/protocol/01-group.md, 03-elgamal.md)",
        "G": hexp(&generator_g()),
        "H": hexp(&generator_h()),
        "H_label": "dobush/v1/generator/H",
        "hash_to_group": [
            {"input": hex::encode(b"dobush"), "point": hexp(&hash_to_group(b"dobush"))},
            {"input": "", "point": hexp(&hash_to_group(b""))},
        ],
        "random_scalars_seed_byte": 3,
        "random_scalars": scalars,
        "public_key": pk,
        "encryptions": encs,
        "invalid_points": [
            {"hex": "0000000000000000000000000000000000000000000000000000000000000000", "reason": "identity"},
            {"hex": "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "reason": "non-canonical field element"},
            {"hex": negated_g_encoding(), "reason": "negative field element (G's encoding with the low bit set)"},
        ],
    });

    let (ctx, info) = election(pilot_manifest());
    let ballots: Vec<Value> = [
        (vec![0, 0, 1, 0, 0, 0, 0, 0, 0], vec![1, 0], 10u8),
        (vec![0, 0, 0, 0, 0, 0, 0, 1, 0], vec![0, 1], 11),
        (vec![0, 0, 0, 0, 0, 0, 0, 0, 1], vec![1, 0], 12),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (council, question, seed))| {
        let p = PlaintextBallot {
            style: "samarkandek".into(),
            contests: vec![
                PlaintextContest { contest_id: "council".into(), selections: council },
                PlaintextContest { contest_id: "question".into(), selections: question },
            ],
        };
        ballot_vector(&ctx, [i as u8 + 0x40; 16], p, seed)
    })
    .collect();
    let pilot = json!({
        "description": "Ballots of the pilot election (narrow contests only: the JS client must reproduce these byte for byte). See docs/protocol/08-ballot.md.",
        "rng": "rand_chacha::ChaCha20Rng::from_seed([rng_seed_byte; 32]); the key is SecretKey::generate(ChaCha20Rng::from_seed([1; 32]))",
        "election": info,
        "ballots": ballots,
    });

    let (wctx, winfo) = election(wide_manifest());
    let wp = PlaintextBallot {
        style: "all".into(),
        contests: vec![PlaintextContest {
            contest_id: "council".into(),
            selections: (0..30).map(|i| u8::from(i % 3 == 0)).collect(),
        }],
    };
    let wide = json!({
        "description": "A wide multi-mark contest with a bulletproofs count proof (Rust and the verifier only).",
        "election": winfo,
        "ballots": [ballot_vector(&wctx, [0x55; 16], wp, 13)],
    });

    vec![
        ("group.json", pretty(&group)),
        ("ballots-pilot.json", pretty(&pilot)),
        ("ballots-wide.json", pretty(&wide)),
        ("shuffle.json", pretty(&shuffle_vector())),
        ("filter-dleq.json", pretty(&batched_dleq_vector())),
        ("filter-messages.json", pretty(&filter_messages_vector())),
        ("commission-names.json", pretty(&commission_names_vector())),
        ("credential-v2.json", pretty(&credential_v2_vector())),
        ("ballots-v2.json", pretty(&ballots_v2_vector())),
        ("board-v2.json", pretty(&board_v2_vector())),
    ]
}

/// Commission members' names (14-commission.md §The `commission` section), sorted by crypto's
/// rule into accepted and refused: the verifier and the web app must agree with every one
/// (review 14-commission round 1, H3: a name one tool accepts and another refuses can block
/// every browser once pinned).
fn commission_names_vector() -> Value {
    let long = "Б".repeat(200);
    let too_long = "Б".repeat(201);
    let candidates: Vec<&str> = vec![
        "Asanova A. A.",
        "Асанова А. А.",
        "Үсөнова Ө. Ң.",
        "O’Brien-Smith J.",
        "d'Artagnan",
        "Айнура",
        &long,
        "",
        " Asanova",
        "Asanova ",
        "Asanova  A.",
        "Asanova\u{FEFF}",
        "\u{FEFF}Asanova",
        "Asa\u{200B}nova",
        "Asa\u{200D}nova",
        "\u{202E}avonasA",
        "Asanova\u{2066}",
        "Asanova\u{2060}",
        "Asanova\u{00A0}A.",
        "Asanova\u{3000}A.",
        "Asanova\tA.",
        "Asanova\nA.",
        "Asanova\u{0085}",
        "Member 7",
        "Агент ٠٠٧",
        "Агент ７",
        "Асанова (төрага)",
        "и\u{0306}",
        "A_B",
        "Ἀλέξανδρος",
        "Αλέξανδρος",
        "Աշոտ",
        "Asa\u{3164}nova",
        "\u{1C8A}sanova",
        "Nino ნინო",
        &too_long,
    ];
    let (accepted, refused): (Vec<&str>, Vec<&str>) =
        candidates.into_iter().partition(|n| dobush_crypto::commission::valid_member_name(n));
    json!({
        "description": "Commission members' names: accepted and refused by crypto's rule (docs/protocol/14-commission.md §The commission section); the verifier and the web app agree",
        "accepted": accepted,
        "refused": refused,
    })
}

#[cfg(test)]
mod tests {
    //! `dobush-crypto` against the committed `vectors/ballots-v2.json`: it makes the same ballots
    //! from the same seeds, accepts them and refuses every forgery and encoding there.

    use super::*;

    fn committed() -> Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../vectors/ballots-v2.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn crypto_remakes_accepts_and_refuses_the_v2_vector() {
        let v = committed();
        let (ctx, info) = election(pilot_manifest());
        assert_eq!(info["extended_hash"], v["election"]["extended_hash"]);
        let mut rng = seeded(0x99);
        for case in v["ballots"].as_array().unwrap() {
            let b: BallotV2 = serde_json::from_value(case["ballot"].clone()).unwrap();
            let seed: [u8; 16] = hex::decode(case["credential"]["seed"].as_str().unwrap()).unwrap().try_into().unwrap();
            let cred = Credential::from_seed(&seed).unwrap();
            let p: PlaintextBallot = serde_json::from_value(case["plaintext"].clone()).unwrap();
            let byte = u8::try_from(case["rng_seed_byte"].as_u64().unwrap()).unwrap();
            let (again, _) = encrypt_ballot_v2(&ctx, cred.signing_key(), &p, &mut seeded(byte)).unwrap();
            assert_eq!(again, b, "the device's draws of §3.6");
            assert_eq!(hex::encode(body_hash_v2(&ctx, &b)), case["body_hash"].as_str().unwrap());
            let verified = verify_ballot_v2(&ctx, b, &mut rng).unwrap();
            assert_eq!(verified.tracking_code().to_hex(), case["tracking_code"].as_str().unwrap());
            assert_eq!(verified.tracking_code().short(), case["tracking_code_short"].as_str().unwrap());
            let opening = serde_json::from_value(case["opening"].clone()).unwrap();
            assert_eq!(verify_challenged_ballot_v2(&ctx, &verified, &opening).unwrap(), p);
        }
        let honest = &v["ballots"][0]["ballot"];
        for f in v["forged"].as_array().unwrap() {
            let patched = apply_patches(honest, f["patches"].as_array().unwrap()).unwrap();
            let b: BallotV2 = serde_json::from_value(patched).unwrap();
            let r = verify_ballot_v2(&ctx, b, &mut rng);
            assert!(r.is_err(), "{}", f["change"]);
            if f["refused_before_any_proof"] == true {
                assert!(
                    matches!(r, Err(dobush_crypto::ballot::BallotError::Malformed(ref m)) if m.contains("reused")),
                    "{}",
                    f["change"]
                );
            }
        }
        for f in v["refused_encodings"].as_array().unwrap() {
            let patched = apply_patches(honest, f["patches"].as_array().unwrap()).unwrap();
            assert!(serde_json::from_value::<BallotV2>(patched).is_err(), "{}", f["change"]);
        }
    }
}
