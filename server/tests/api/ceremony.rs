//! The key ceremony relayed by the server (docs/protocol/06-dkg.md, docs/server.md §Key
//! ceremony), and THE shared helper that plays the key-holders over HTTP: every test that needs
//! a joint key (package, freezing, voting) runs a real ceremony through [`HttpCeremony`].

use dobush_crypto::context::base_hash;
use dobush_crypto::testing::InProcessCeremony;
use dobush_crypto::threshold::KeyHolderKeys;
use dobush_crypto::threshold::dkg::{CeremonyOutcome, CeremonyTranscript, Polynomial, Signed, evaluate};
use rand::rngs::OsRng;
use serde_json::{Value, json};

use crate::helpers::*;

/// The staff members who hold the key shares (role `key_holder`), index = position + 1.
pub const KEY_HOLDERS: [&str; 5] =
    ["40101198000001", "40101198000002", "40101198000003", "40101198000004", "40101198000005"];

/// A ceremony played by `n` in-process key-holders (the crypto crate's DKG), each posting its
/// own messages over HTTP with its own session.
pub struct HttpCeremony {
    pub id: String,
    /// The key-holders' secrets and the messages they made (tests may tamper between rounds).
    pub c: InProcessCeremony,
    /// Key-holder `l` at position `l − 1`.
    pub users: Vec<User>,
}

fn path(id: &str, what: &str) -> String {
    format!("/api/campaigns/{id}/ceremony/{what}")
}

impl HttpCeremony {
    /// Grants the key_holder role to `KEY_HOLDERS[..n]`, configures `t` of `n`, then [`Self::join`].
    pub async fn configure(app: &TestApp, admin: &User, id: &str, n: usize, t: u32) -> Self {
        for pin in &KEY_HOLDERS[..n] {
            grant(admin, pin, "key_holder", None).await;
        }
        let r = admin
            .put(&format!("/api/campaigns/{id}/ceremony"), &json!({ "threshold": t, "key_holders": &KEY_HOLDERS[..n] }))
            .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        Self::join(app, id, n, t).await
    }

    /// The configured key-holders `KEY_HOLDERS[..n]` log in and draw their keys (nothing is
    /// posted yet).
    pub async fn join(app: &TestApp, id: &str, n: usize, t: u32) -> Self {
        let mut users = Vec::new();
        for pin in &KEY_HOLDERS[..n] {
            users.push(app.login(pin).await);
        }
        let keys: Vec<KeyHolderKeys> = (0..n).map(|_| KeyHolderKeys::generate(&mut OsRng)).collect();
        let ids: Vec<_> = keys.iter().zip(1u32..).map(|(k, l)| k.public(l).context_keys()).collect();
        let ctx = base_hash(id, t, &ids);
        let c = InProcessCeremony::with_keys(&mut OsRng, ctx, keys, t).unwrap();
        Self { id: id.to_string(), c, users }
    }

    /// Key-holder `l` (1-based) posts `body` to `/ceremony/<what>`.
    pub async fn post(&self, l: usize, what: &str, body: &impl serde::Serialize) -> reqwest::Response {
        self.users[l - 1].post(&path(&self.id, what), &serde_json::to_value(body).unwrap()).await
    }

    async fn post_ok(&self, l: usize, what: &str, body: &impl serde::Serialize) -> Value {
        let r = self.post(l, what, body).await;
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        assert_eq!(status, 201, "{what} of key-holder {l}: {v}");
        v
    }

    /// Every key-holder registers its public keys.
    pub async fn register(&self) {
        for p in &self.c.publics {
            self.post_ok(p.index as usize, "key-holders", p).await;
        }
    }

    /// Posts every round-1 message made so far.
    pub async fn post_round1(&self) {
        for m in &self.c.transcript.commitment_hashes {
            self.post_ok(m.message.dealer as usize, "commitment-hashes", m).await;
        }
    }

    /// Posts every reveal and share made so far.
    pub async fn post_round2(&self) {
        for m in &self.c.transcript.reveals {
            self.post_ok(m.message.dealer as usize, "reveals", m).await;
        }
        for m in &self.c.transcript.shares {
            self.post_ok(m.message.dealer as usize, "shares", m).await;
        }
    }

    /// Every key-holder posts its list of complaints (possibly empty); returns the answers.
    pub async fn post_round3(&self) -> Vec<Value> {
        let mut answers = Vec::new();
        for l in 1..=self.c.params.n() {
            let mine: Vec<_> = self.c.transcript.complaints.iter().filter(|m| m.message.complainer == l).collect();
            answers.push(self.post_ok(l as usize, "complaints", &json!({ "complainer": l, "complaints": mine })).await);
        }
        answers
    }

    /// The outcome as the server publishes it.
    pub async fn server_outcome(&self, app: &TestApp) -> CeremonyOutcome {
        let r = reqwest::get(app.url(&path(&self.id, "outcome"))).await.unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    /// The transcript as the server publishes it.
    pub async fn server_transcript(&self, app: &TestApp) -> CeremonyTranscript {
        reqwest::get(app.url(&path(&self.id, "transcript"))).await.unwrap().json().await.unwrap()
    }

    /// Checks the server's outcome against every key-holder's own evaluation of the server's
    /// transcript (each derives its key share from it).
    pub async fn check_outcome(&self, app: &TestApp) -> CeremonyOutcome {
        let published = self.server_outcome(app).await;
        let transcript = self.server_transcript(app).await;
        assert_eq!(evaluate(&self.c.params, &self.c.context, &self.c.publics, &transcript).unwrap(), published);
        let (mine, shares) = self.c.finish().unwrap();
        assert_eq!(mine, published);
        assert_eq!(shares.len(), self.c.params.n() as usize);
        published
    }
}

/// A complete honest ceremony, 3 of 5, for campaign `id` (in state key_ceremony), and its
/// commission pinned under dual control (`helpers::pin_commission`).
pub async fn complete_ceremony(app: &TestApp, admin: &User, id: &str) -> HttpCeremony {
    let h = ceremony_only(app, admin, id).await;
    crate::helpers::pin_commission(app, admin, id).await;
    h
}

/// A complete honest ceremony, 3 of 5, for campaign `id` (in state key_ceremony).
pub async fn ceremony_only(app: &TestApp, admin: &User, id: &str) -> HttpCeremony {
    let mut h = HttpCeremony::configure(app, admin, id, 5, 3).await;
    h.register().await;
    h.c.round1(&mut OsRng).unwrap();
    h.post_round1().await;
    h.c.round2(&mut OsRng).unwrap();
    h.post_round2().await;
    assert_eq!(h.c.round3(&mut OsRng).unwrap(), 0);
    h.post_round3().await;
    h.check_outcome(app).await;
    h
}

/// A complete ceremony and the election package installed from it (manifest
/// `crate::ballots::manifest`): the campaign can be frozen.
pub async fn ready_to_freeze(app: &TestApp, admin: &User, id: &str) -> HttpCeremony {
    let h = complete_ceremony(app, admin, id).await;
    let r = admin
        .put(&format!("/api/campaigns/{id}/election-package"), &json!({ "manifest": crate::ballots::manifest(id) }))
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    h
}

async fn campaign_in_key_ceremony(app: &TestApp) -> (User, String) {
    let admin = app.admin().await;
    let id = campaign_in_registration(&admin).await;
    assert_eq!(transition(&admin, &id, "start_key_ceremony").await.status(), 200);
    (admin, id)
}

async fn status(app: &TestApp, id: &str) -> Value {
    reqwest::get(app.url(&format!("/api/campaigns/{id}/ceremony"))).await.unwrap().json().await.unwrap()
}

async fn audit_actions(admin: &User) -> Vec<String> {
    let log: Value = admin.get("/api/audit?limit=1000").await.json().await.unwrap();
    log["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_string()).collect()
}

async fn a_ceremony_3_of_5_gives_the_package_and_voting_opens(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, id) = campaign_in_key_ceremony(&app).await;
    // before anything: no ceremony, no package, no freezing
    assert_error(admin.get(&format!("/api/campaigns/{id}/ceremony")).await, 404, "not_found").await;
    let package = json!({ "manifest": crate::ballots::manifest(&id) });
    assert_error(
        admin.put(&format!("/api/campaigns/{id}/election-package"), &package).await,
        409,
        "ceremony_incomplete",
    )
    .await;
    assert_error(transition(&admin, &id, "freeze_manifest").await, 409, "ceremony_incomplete").await;
    // the package no longer takes a key from the request
    let mut forged = package.clone();
    forged["joint_key"] = json!(CREDS[0]);
    assert_error(admin.put(&format!("/api/campaigns/{id}/election-package"), &forged).await, 400, "malformed_request")
        .await;

    let mut h = HttpCeremony::configure(&app, &admin, &id, 5, 3).await;
    let s = status(&app, &id).await;
    assert_eq!((s["n"].as_u64(), s["t"].as_u64(), s["phase"].as_str()), (Some(5), Some(3), Some("registration")));
    h.register().await;
    let s = status(&app, &id).await;
    assert_eq!(s["phase"], "round1");
    assert_eq!(s["base_hash"], hex::encode(h.c.context), "the server's base context is the key-holders' own");
    assert_eq!(s["key_holders"][2]["signing_fingerprint"], h.c.publics[2].signing_fingerprint());
    h.c.round1(&mut OsRng).unwrap();
    h.post_round1().await;
    assert_eq!(status(&app, &id).await["phase"], "round2");
    h.c.round2(&mut OsRng).unwrap();
    h.post_round2().await;
    assert_eq!(status(&app, &id).await["phase"], "round3");
    assert_error(transition(&admin, &id, "freeze_manifest").await, 409, "ceremony_incomplete").await;
    assert_eq!(h.c.round3(&mut OsRng).unwrap(), 0);
    let answers = h.post_round3().await;
    let last = &answers[4];
    assert!(answers[..4].iter().all(|a| a.get("completed").is_none()));
    assert_eq!(last["completed"]["outcome"]["qualified"], json!([1, 2, 3, 4, 5]), "{last}");
    let outcome = h.check_outcome(&app).await;
    let s = status(&app, &id).await;
    assert_eq!(s["phase"], "complete");
    assert_eq!(s["joint_key_fingerprint"], outcome.joint_key_fingerprint());
    // nothing more is relayed; a repeat is still answered
    let again = h.post(1, "commitment-hashes", &h.c.transcript.commitment_hashes[0]).await;
    assert_eq!(again.status(), 200);
    // freezing needs the package; the package comes from the ceremony and the commission
    // confirmed under dual control (docs/protocol/14-commission.md)
    assert_error(transition(&admin, &id, "freeze_manifest").await, 409, "no_election_package").await;
    assert_error(
        admin.put(&format!("/api/campaigns/{id}/election-package"), &package).await,
        409,
        "commission_invalid",
    )
    .await;
    crate::helpers::pin_commission(&app, &admin, &id).await;
    let r = admin.put(&format!("/api/campaigns/{id}/election-package"), &package).await;
    assert_eq!(r.status(), 200);
    let pkg: dobush_crypto::record::ElectionPackage = r.json().await.unwrap();
    assert_eq!(pkg.joint_key, outcome.joint_key);
    assert_eq!((pkg.threshold, pkg.base_hash), (3, h.c.context));
    assert_eq!(
        pkg.key_holders.iter().map(|k| k.signing_key).collect::<Vec<_>>(),
        h.c.publics.iter().map(|p| p.signing_key.0).collect::<Vec<_>>()
    );
    // the joint key works: the key-holders' shares decrypt what is encrypted to it
    let (ct, _) = dobush_crypto::elgamal::encrypt(&pkg.joint_key, 7, &mut OsRng).unwrap();
    let (_, shares) = h.c.finish().unwrap();
    let total = dobush_crypto::threshold::decrypt::TotalId { contest: 0, option: 0 };
    let partials: Vec<_> = [0usize, 2, 4]
        .iter()
        .map(|&k| {
            shares[k].partial_decrypt(&pkg.extended_hash, total, &ct, h.c.keys[k].signing_key(), &mut OsRng).unwrap()
        })
        .collect();
    let table = dobush_crypto::dlog::DlogTable::new(100);
    let got = dobush_crypto::threshold::decrypt::verify_and_combine(
        &h.c.params,
        &pkg.extended_hash,
        &dobush_crypto::threshold::decrypt::ShareKeys::new(&outcome.verification_keys, &h.c.publics).unwrap(),
        total,
        &ct,
        &partials,
        &table,
    )
    .unwrap();
    assert_eq!(got.count, 7);
    assert_eq!(transition(&admin, &id, "freeze_manifest").await.status(), 200);
    app.clock.set(bishkek(2023, 4, 9, 12, 0, 0));
    let admin = app.admin().await;
    sign_credential_list(&app, &admin, &id).await;
    assert_eq!(transition(&admin, &id, "open_voting").await.status(), 200);
    // every staff action is in the audit chain
    let actions = audit_actions(&admin).await;
    assert_eq!(actions.iter().filter(|a| *a == "ceremony.configure").count(), 1);
    assert_eq!(actions.iter().filter(|a| *a == "ceremony.register").count(), 5);
    assert_eq!(actions.iter().filter(|a| *a == "ceremony.message").count(), 5 + 5 + 20 + 5);
    assert_eq!(actions.iter().filter(|a| *a == "ceremony.completed").count(), 1);
    let v: Value = admin.get("/api/audit/verify").await.json().await.unwrap();
    assert_eq!(v["first_bad_seq"], Value::Null);
}

async fn a_bad_share_is_complained_about_and_its_dealer_disqualified(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, id) = campaign_in_key_ceremony(&app).await;
    let mut h = HttpCeremony::configure(&app, &admin, &id, 5, 3).await;
    h.register().await;
    h.c.round1(&mut OsRng).unwrap();
    h.post_round1().await;
    h.c.round2(&mut OsRng).unwrap();
    // dealer 2 sends key-holder 4 a share of another polynomial, validly signed: the server
    // cannot see it (it is encrypted to 4), so it relays it
    let wrong = Polynomial::random(&h.c.params, &mut OsRng);
    let bad = wrong.encrypt_share(&h.c.context, 2, &h.c.publics[3], &mut OsRng).unwrap();
    h.c.replace_share(Signed::sign(bad, &h.c.context, &h.c.keys[1], &mut OsRng));
    h.post_round2().await;
    assert_eq!(h.c.round3(&mut OsRng).unwrap(), 1, "key-holder 4 complains");
    // key-holder 4's complaint is adjudicated publicly on arrival
    let answers = h.post_round3().await;
    assert_eq!(
        answers[3]["verdicts"],
        json!([{ "dealer": 2, "verdict": "dealer_cheated", "fault": { "kind": "share_mismatch", "recipient": 4 } }])
    );
    assert_eq!(answers[4]["completed"]["outcome"]["qualified"], json!([1, 3, 4, 5]));
    let outcome = h.check_outcome(&app).await;
    assert_eq!(outcome.qualified, vec![1, 3, 4, 5]);
    assert_eq!(
        serde_json::to_value(&outcome.disqualified).unwrap(),
        json!([{ "dealer": 2, "fault": { "kind": "share_mismatch", "recipient": 4 } }])
    );
    assert_eq!(status(&app, &id).await["phase"], "complete");
}

async fn forged_misaddressed_replayed_and_early_messages_are_refused(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, id) = campaign_in_key_ceremony(&app).await;
    let mut h = HttpCeremony::configure(&app, &admin, &id, 5, 3).await;
    h.c.round1(&mut OsRng).unwrap();
    // round 1 before every key-holder has registered
    let body = assert_error(
        h.post(1, "commitment-hashes", &h.c.transcript.commitment_hashes[0]).await,
        409,
        "registration_incomplete",
    )
    .await;
    assert!(body["message"].as_str().unwrap().contains("1, 2, 3, 4, 5"), "{body}");
    h.register().await;
    // a registration again: the same keys are a repeat, other keys are refused
    assert_eq!(h.post(1, "key-holders", &h.c.publics[0]).await.status(), 200);
    let mut other = KeyHolderKeys::generate(&mut OsRng).public(1);
    other.comm_key = h.c.publics[0].comm_key;
    assert_error(h.post(1, "key-holders", &other).await, 409, "message_exists").await;

    let good = h.c.transcript.commitment_hashes[0].clone();
    // forged: key-holder 1's message signed with key-holder 2's key
    let forged = Signed::sign(good.message, &h.c.context, &h.c.keys[1], &mut OsRng);
    let e = assert_error(h.post(1, "commitment-hashes", &forged).await, 422, "invalid_field").await;
    assert_eq!(e["field"], "signature");
    // altered: one bit of the hash
    let mut altered = good.clone();
    altered.message.hash[0] ^= 1;
    assert_error(h.post(1, "commitment-hashes", &altered).await, 422, "invalid_field").await;
    // signed under another context (another campaign)
    let foreign = Signed::sign(good.message, &[9u8; 32], &h.c.keys[0], &mut OsRng);
    assert_error(h.post(1, "commitment-hashes", &foreign).await, 422, "invalid_field").await;
    // someone else's slot: key-holder 2 posts key-holder 1's valid message
    let alerts = app.open_alerts().await;
    assert_error(h.post(2, "commitment-hashes", &good).await, 403, "not_your_slot").await;
    assert_eq!(app.open_alerts().await, alerts + 1, "the refusal is audited and alerted");
    // stored once; the same bytes again are a repeat; a re-signed message is a different one
    assert_eq!(h.post(1, "commitment-hashes", &good).await.status(), 201);
    let r = h.post(1, "commitment-hashes", &good).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["repeated"], true);
    let resigned = Signed::sign(good.message, &h.c.context, &h.c.keys[0], &mut OsRng);
    assert_error(h.post(1, "commitment-hashes", &resigned).await, 409, "message_exists").await;
    // round 2 before round 1 is complete
    h.c.round2(&mut OsRng).unwrap();
    let body = assert_error(h.post(1, "reveals", &h.c.transcript.reveals[0]).await, 409, "round_incomplete").await;
    let msg = body["message"].as_str().unwrap();
    assert!(msg.contains("round 1") && msg.contains("2, 3, 4, 5"), "{body}");
    assert_error(h.post(1, "shares", &h.c.transcript.shares[0]).await, 409, "round_incomplete").await;
    for m in &h.c.transcript.commitment_hashes[1..] {
        assert_eq!(h.post(m.message.dealer as usize, "commitment-hashes", m).await.status(), 201);
    }
    // round 3 before round 2 is complete
    let body = assert_error(
        h.post(1, "complaints", &json!({ "complainer": 1, "complaints": [] })).await,
        409,
        "round_incomplete",
    )
    .await;
    assert!(body["message"].as_str().unwrap().contains("round 2"), "{body}");
    // a reveal that is not what the dealer committed to (a rushing dealer), validly signed
    let other = Polynomial::random(&h.c.params, &mut OsRng).commit(&h.c.params, &h.c.context, 3, &mut OsRng).unwrap();
    let rushing = Signed::sign(other, &h.c.context, &h.c.keys[2], &mut OsRng);
    let e = assert_error(h.post(3, "reveals", &rushing).await, 422, "invalid_field").await;
    assert_eq!(e["field"], "message");
    // a share whose proof of knowledge of its ephemeral key is altered
    let mut share = h.c.transcript.shares[0].message.clone();
    share.ciphertext[0] ^= 1;
    let share = Signed::sign(share, &h.c.context, &h.c.keys[0], &mut OsRng);
    let e = assert_error(h.post(1, "shares", &share).await, 422, "invalid_field").await;
    assert_eq!(e["field"], "message.proof");
    // a share addressed to its own dealer is malformed for the slot
    let mut own = h.c.transcript.shares[0].message.clone();
    own.recipient = 1;
    let own = Signed::sign(own, &h.c.context, &h.c.keys[0], &mut OsRng);
    assert_error(h.post(1, "shares", &own).await, 422, "invalid_field").await;
    // malformed JSON (an identity point) names the field
    let mut v = serde_json::to_value(&h.c.transcript.reveals[0]).unwrap();
    v["message"]["commitments"][0] = json!("00".repeat(32));
    assert_error(h.post(1, "reveals", &v).await, 400, "malformed_request").await;
    h.post_round2().await;
    // a complaint list of someone else, and a complaint signed by another key-holder
    let e = assert_error(
        h.post(1, "complaints", &json!({ "complainer": 2, "complaints": [] })).await,
        403,
        "not_your_slot",
    )
    .await;
    assert!(e["message"].as_str().unwrap().contains("key-holder 1"));
    let share = h.c.transcript.shares.iter().find(|s| s.message.dealer == 2 && s.message.recipient == 1).unwrap();
    let complaint = h.c.keys[0].complain(&h.c.context, &share.message, &mut OsRng).unwrap();
    let stolen = Signed::sign(complaint.clone(), &h.c.context, &h.c.keys[2], &mut OsRng);
    let e = assert_error(
        h.post(1, "complaints", &json!({ "complainer": 1, "complaints": [stolen] })).await,
        422,
        "invalid_field",
    )
    .await;
    assert_eq!(e["field"], "complaints[0].signature");
    // an unfounded complaint is relayed and recorded against the complainer
    let unfounded = Signed::sign(complaint, &h.c.context, &h.c.keys[0], &mut OsRng);
    let r = h.post(1, "complaints", &json!({ "complainer": 1, "complaints": [&unfounded] })).await;
    assert_eq!(r.status(), 201);
    assert_eq!(r.json::<Value>().await.unwrap()["verdicts"][0]["verdict"], "complaint_unfounded");
    h.c.transcript.complaints.push(unfounded);
    for l in 2..=5u32 {
        let r = h.post(l as usize, "complaints", &json!({ "complainer": l, "complaints": [] })).await;
        assert_eq!(r.status(), 201);
    }
    let outcome = h.check_outcome(&app).await;
    assert_eq!(outcome.qualified, vec![1, 2, 3, 4, 5]);
    assert_eq!(
        serde_json::to_value(&outcome.unfounded_complaints).unwrap(),
        json!([{ "complainer": 1, "dealer": 2, "reason": "share_is_valid" }])
    );
}

async fn only_the_bound_key_holder_may_post_and_restarting_drops_the_package(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, id) = campaign_in_key_ceremony(&app).await;
    // configuration: only key_holder staff, t < n
    let setup = |body: Value| {
        let (admin, id) = (admin.clone(), id.clone());
        async move { admin.put(&format!("/api/campaigns/{id}/ceremony"), &body).await }
    };
    let e = assert_error(setup(json!({ "key_holders": KEY_HOLDERS })).await, 422, "invalid_field").await;
    assert_eq!(e["field"], "key_holders[0]", "no key_holder role yet");
    for pin in KEY_HOLDERS {
        grant(&admin, pin, "key_holder", None).await;
    }
    let e =
        assert_error(setup(json!({ "threshold": 5, "key_holders": KEY_HOLDERS })).await, 422, "invalid_field").await;
    assert_eq!(e["field"], "threshold");
    let e = assert_error(
        setup(json!({ "key_holders": [KEY_HOLDERS[0], KEY_HOLDERS[0], KEY_HOLDERS[1], KEY_HOLDERS[2]] })).await,
        422,
        "invalid_field",
    )
    .await;
    assert_eq!(e["field"], "key_holders[1]");
    // key-holders 1..4 of a 3-of-4 ceremony; key-holder 5 has the role but no index here
    let r = setup(json!({ "key_holders": &KEY_HOLDERS[..4] })).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!((v["n"].as_u64(), v["t"].as_u64()), (Some(4), Some(3)), "t defaults to 3");
    assert!(!v.to_string().contains(KEY_HOLDERS[0]), "no PINs in the public view");
    let keys = KeyHolderKeys::generate(&mut OsRng);
    let alerts = app.open_alerts().await;
    // a voter (no staff role)
    let voter = app.login(VOTER1).await;
    let url = format!("/api/campaigns/{id}/ceremony/key-holders");
    assert_error(voter.post(&url, &serde_json::to_value(keys.public(1)).unwrap()).await, 403, "forbidden_role").await;
    // a key-holder of this campaign registering someone else's index
    let kh2 = app.login(KEY_HOLDERS[1]).await;
    assert_error(kh2.post(&url, &serde_json::to_value(keys.public(1)).unwrap()).await, 403, "not_your_slot").await;
    // a key-holder not bound to this ceremony
    let kh5 = app.login(KEY_HOLDERS[4]).await;
    assert_error(kh5.post(&url, &serde_json::to_value(keys.public(1)).unwrap()).await, 403, "not_a_key_holder").await;
    assert_eq!(app.open_alerts().await, alerts + 3, "every refusal is alerted");
    let log: Value = admin.get("/api/audit?limit=1000").await.json().await.unwrap();
    let refused: Vec<&Value> =
        log["entries"].as_array().unwrap().iter().filter(|e| e["action"] == "access.refused").collect();
    assert!(refused.iter().any(|e| e["actor"] == KEY_HOLDERS[1]));
    assert!(refused.iter().any(|e| e["actor"] == VOTER1));
    assert!(refused.iter().any(|e| e["actor"] == KEY_HOLDERS[4]));

    // a complete ceremony (5 of its own) and its package; reconfiguring restarts and drops it
    let r = setup(json!({ "threshold": 3, "key_holders": KEY_HOLDERS })).await;
    assert_eq!(r.status(), 200, "replaced: nothing was posted under the old configuration");
    let mut h = HttpCeremony::join(&app, &id, 5, 3).await;
    h.register().await;
    h.c.round1(&mut OsRng).unwrap();
    h.post_round1().await;
    h.c.round2(&mut OsRng).unwrap();
    h.post_round2().await;
    h.c.round3(&mut OsRng).unwrap();
    h.post_round3().await;
    h.check_outcome(&app).await;
    // a v2 package, so that its cast verifier secret y exists (13-revoting.md §3.4)
    let package = json!({ "manifest": crate::ballots::manifest(&id), "ballot_format": "v2" });
    crate::helpers::pin_commission(&app, &admin, &id).await;
    let r = admin.put(&format!("/api/campaigns/{id}/election-package"), &package).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let secrets = || {
        use diesel::prelude::*;
        use dobush_server::schema::cast_verifier_secrets as s;
        let id = id.clone();
        app.with_db(move |c| s::table.filter(s::campaign_id.eq(id)).count().get_result::<i64>(c).unwrap())
    };
    assert_eq!(secrets().await, 1);
    let r = setup(json!({ "key_holders": KEY_HOLDERS })).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!((v["attempt"].as_u64(), v["phase"].as_str()), (Some(2), Some("registration")));
    assert_eq!(secrets().await, 0, "the dropped package's y is dropped with it (review 19-cast-v2 F10)");
    assert_error(transition(&admin, &id, "freeze_manifest").await, 409, "ceremony_incomplete").await;
    assert_error(
        reqwest::get(app.url(&format!("/api/v1/campaigns/{id}/package"))).await.unwrap(),
        409,
        "no_election_key",
    )
    .await;
    assert_error(reqwest::get(app.url(&path(&id, "outcome"))).await.unwrap(), 409, "ceremony_incomplete").await;
    // the old attempt's messages are not the new attempt's
    let t: CeremonyTranscript = reqwest::get(app.url(&path(&id, "transcript"))).await.unwrap().json().await.unwrap();
    assert!(t.commitment_hashes.is_empty());
    // and messages are relayed only in state key_ceremony
    let other = create_campaign(&admin, &pilot_campaign()).await;
    let r = kh2
        .post(&format!("/api/campaigns/{other}/ceremony/key-holders"), &serde_json::to_value(keys.public(2)).unwrap())
        .await;
    assert_error(r, 409, "invalid_state").await;
}

crate::backend_tests!(
    a_ceremony_3_of_5_gives_the_package_and_voting_opens,
    a_bad_share_is_complained_about_and_its_dealer_disqualified,
    forged_misaddressed_replayed_and_early_messages_are_refused,
    only_the_bound_key_holder_may_post_and_restarting_drops_the_package,
);
