//! The credentials of a v2 campaign (docs/protocol/13-revoting.md §3.3, §4.2–4.4) through real
//! requests and real logins: the registration binding and PIN commitment checked for the
//! logged-in voter's PIN at application, stored and never published but for the PIN commitment.

use diesel::prelude::*;
use dobush_crypto::credential::Credential;
use dobush_server::clock::Clock;
use rand::rngs::OsRng;
use serde_json::{Value, json};

use crate::helpers::*;

/// A campaign past its key ceremony (base context fixed), no package, the register imported and
/// the clock on the application day: `(app, id, base hash)`.
async fn ceremony_done(b: Backend) -> (TestApp, String, [u8; 32]) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let id = create_campaign(&admin, &pilot_campaign()).await;
    for a in ["start_test", "erase_test_data_and_open_registration"] {
        assert_eq!(transition(&admin, &id, a).await.status(), 200, "{a}");
    }
    import_csv(&admin, &id, REGISTER_CSV).await;
    // before the key-holders registered there is no base context to bind
    let v = app.login(VOTER1).await;
    let cred = Credential::generate(&mut OsRng).unwrap();
    let early = v2_application(&[0; 32], &id, VOTER1, "main", cred.signing_key(), "");
    assert_error(v.put(&apply_path(&id), &early).await, 409, "base_context_not_fixed").await;
    assert_eq!(transition(&admin, &id, "start_key_ceremony").await.status(), 200);
    let ceremony = crate::ceremony::complete_ceremony(&app, &admin, &id).await;
    (app, id, ceremony.c.context)
}

fn apply_path(id: &str) -> String {
    format!("/api/campaigns/{id}/cabinet/application")
}

/// `(pin_commitment, pin_salt, registration_binding, binding_base_hash)` of every stored credential.
async fn stored_registrations(app: &TestApp) -> Vec<(Option<String>, Option<String>, Option<String>, Option<String>)> {
    use dobush_server::schema::evoter_credentials as e;
    app.with_db(|c| {
        e::table
            .order(e::id.asc())
            .select((e::pin_commitment, e::pin_salt, e::registration_binding, e::binding_base_hash))
            .load(c)
            .unwrap()
    })
    .await
}

/// The attacker's applications: another voter's PIN, another campaign, style, decision or base
/// hash, another credential's signature, a forged signature, a part missing, a PIN commitment
/// used before; each refused with a clear 4xx and nothing stored. The honest one is stored with
/// its PIN commitment, salt and binding, none of which any public answer shows but the list.
async fn a_v2_application_is_bound_to_the_logged_in_voters_pin(b: Backend) {
    let (app, id, base) = ceremony_done(b).await;
    let v1 = app.login(VOTER1).await;
    let cred = Credential::generate(&mut OsRng).unwrap();
    let key = cred.signing_key();
    let path = apply_path(&id);
    // a binding made for voter 2's PIN, sent in voter 1's session: the pc is not voter 1's
    let other_pin = v2_application(&base, &id, VOTER2, "main", key, "");
    let body = assert_error(v1.put(&path, &other_pin).await, 422, "invalid_field").await;
    assert_eq!(body["field"], "pin_commitment");
    for (what, bad) in [
        ("campaign", v2_application(&base, "other-campaign", VOTER1, "main", key, "")),
        ("style", v2_application(&base, &id, VOTER1, "other-style", key, "")),
        ("decision", v2_application(&base, &id, VOTER1, "main", key, "decision 1")),
        ("base hash", v2_application(&[7; 32], &id, VOTER1, "main", key, "")),
    ] {
        let body = assert_error(v1.put(&path, &bad).await, 422, "invalid_field").await;
        assert_eq!(body["field"], "binding", "{what}");
    }
    // a binding signed by another credential than the one applied with
    let other = Credential::generate(&mut OsRng).unwrap();
    let mut swapped = v2_application(&base, &id, VOTER1, "main", other.signing_key(), "");
    swapped["credential"] = cred.public().0.to_hex().into();
    let body = assert_error(v1.put(&path, &swapped).await, 422, "invalid_field").await;
    assert_eq!(body["field"], "binding");
    // a forged binding: the credential's signature over another salt's statement
    let good = v2_application(&base, &id, VOTER1, "main", key, "");
    let mut forged = good.clone();
    forged["binding"] = v2_application(&base, &id, VOTER1, "main", key, "")["binding"].clone();
    let body = assert_error(v1.put(&path, &forged).await, 422, "invalid_field").await;
    assert_eq!(body["field"], "binding");
    // a part missing
    for part in ["pin_commitment", "salt", "binding"] {
        let mut partial = good.clone();
        partial.as_object_mut().unwrap().remove(part);
        let body = assert_error(v1.put(&path, &partial).await, 422, "invalid_field").await;
        assert_eq!(body["field"], part);
    }
    assert!(stored_registrations(&app).await.is_empty(), "nothing stored");
    // the honest application
    assert_eq!(v1.put(&path, &good).await.status(), 201);
    let stored = stored_registrations(&app).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].0.as_deref(), good["pin_commitment"].as_str());
    assert_eq!(stored[0].1.as_deref(), good["salt"].as_str());
    assert_eq!(stored[0].3.as_deref(), Some(hex::encode(base).as_str()));
    let binding: Value = serde_json::from_str(stored[0].2.as_deref().unwrap()).unwrap();
    assert_eq!(binding, good["binding"]);
    // the same application again is a retry
    assert_eq!(v1.put(&path, &good).await.status(), 200);
    // voter 2 sending voter 1's PIN commitment and salt (a copied application): the PIN is not
    // voter 2's
    let v2 = app.login(VOTER2).await;
    let fresh = Credential::generate(&mut OsRng).unwrap();
    let mut copied = v2_application(&base, &id, VOTER2, "main", fresh.signing_key(), "");
    copied["pin_commitment"] = good["pin_commitment"].clone();
    copied["salt"] = good["salt"].clone();
    let body = assert_error(v2.put(&apply_path(&id), &copied).await, 422, "invalid_field").await;
    assert_eq!(body["field"], "pin_commitment");
    // voter 1 re-applying with the same salt (so the same PIN commitment): pin commitments are
    // distinct in a campaign
    let mut salt = [0u8; 32];
    hex::decode_to_slice(good["salt"].as_str().unwrap(), &mut salt).unwrap();
    let same_salt = v2_application_salted(&base, (&id, VOTER1, "main", ""), fresh.signing_key(), &salt);
    assert_error(v1.put(&path, &same_salt).await, 409, "pin_commitment_in_use").await;
    assert_eq!(stored_registrations(&app).await.len(), 1);
    // nothing public carries the salt or the binding
    let public: Value =
        reqwest::get(app.url(&format!("/api/v1/campaigns/{id}/credential-list"))).await.unwrap().json().await.unwrap();
    let text = public.to_string();
    assert!(!text.contains(good["salt"].as_str().unwrap()) && !text.contains(VOTER1));
    let v1 = app.login(VOTER1).await;
    let cabinet: Value = v1.get(&format!("/api/campaigns/{id}/cabinet")).await.json().await.unwrap();
    assert!(!cabinet.to_string().contains(good["salt"].as_str().unwrap()));
    // once anyone applied with a binding, the public list is the v2 one: no live status before
    // the freeze, nor before the package fixes the format
    let public = format!("/api/campaigns/{id}/credentials");
    assert_error(reqwest::get(app.url(&public)).await.unwrap(), 409, "applications_open").await;
    app.clock.set(crate::ballots::Schedule::pilot().open_at);
    assert_error(reqwest::get(app.url(&public)).await.unwrap(), 409, "no_election_key").await;
}

/// A v2 package needs every e-voter bound under its base context (409 `credentials_unbound`);
/// once installed, a v2 campaign refuses an application without the binding and a v1 campaign
/// refuses one with it (422 naming `binding`).
async fn the_package_fixes_which_application_a_campaign_takes(b: Backend) {
    let (app, id, base) = ceremony_done(b).await;
    let admin = app.admin().await;
    let v1 = app.login(VOTER1).await;
    let plain = Credential::generate(&mut OsRng).unwrap();
    let r = v1.put(&apply_path(&id), &json!({ "credential": plain.public().0.to_hex() })).await;
    assert_eq!(r.status(), 201);
    let path = format!("/api/campaigns/{id}/election-package");
    let v2_req = json!({ "manifest": crate::ballots::manifest(&id), "ballot_format": "v2" });
    assert_error(admin.put(&path, &v2_req).await, 409, "credentials_unbound").await;
    // the voter re-applies with a binding: the package goes in
    let cred = Credential::generate(&mut OsRng).unwrap();
    let good = v2_application(&base, &id, VOTER1, "main", cred.signing_key(), "");
    assert_eq!(v1.put(&apply_path(&id), &good).await.status(), 200);
    let r = admin.put(&path, &v2_req).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    // a v2 campaign: a plain application is refused
    let v2 = app.login(VOTER2).await;
    let other = Credential::generate(&mut OsRng).unwrap();
    let body = assert_error(
        v2.put(&apply_path(&id), &json!({ "credential": other.public().0.to_hex() })).await,
        422,
        "invalid_field",
    )
    .await;
    assert_eq!(body["field"], "binding");
    let ok = v2_application(&base, &id, VOTER2, "main", other.signing_key(), "");
    assert_eq!(v2.put(&apply_path(&id), &ok).await.status(), 201);
    // the same campaign's package as v1: a binding is refused
    let r = admin.put(&path, &json!({ "manifest": crate::ballots::manifest(&id) })).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let v3 = app.login(VOTER3).await;
    let third = Credential::generate(&mut OsRng).unwrap();
    let style3: Value = v3.get(&format!("/api/campaigns/{id}/cabinet")).await.json().await.unwrap();
    let style3 = style3["ballot_style"].as_str().unwrap().to_string();
    let bound = v2_application(&base, &id, VOTER3, &style3, third.signing_key(), "");
    let body = assert_error(v3.put(&apply_path(&id), &bound).await, 422, "invalid_field").await;
    assert_eq!(body["field"], "binding");
}

/// The v2 list (13-revoting.md §4.2, §4.4): items with their PIN commitment and (empty)
/// stations, `revoked_count` instead of the revoked credentials, signed under the v2 digest; the
/// public `…/credentials` serves only that frozen list, without a status, and the cabinet shows
/// the active credential only.
async fn the_v2_list_names_pin_commitments_and_only_counts_revocations(b: Backend) {
    use dobush_crypto::record::{
        BoardEntry, check_credential_list_v2, credential_list_digest, credential_list_digest_v2,
    };
    let (app, id, base) = ceremony_done(b).await;
    let admin = app.admin().await;
    let v1 = app.login(VOTER1).await;
    let first = Credential::generate(&mut OsRng).unwrap();
    let second = Credential::generate(&mut OsRng).unwrap();
    for cred in [&first, &second] {
        let body = v2_application(&base, &id, VOTER1, "main", cred.signing_key(), "");
        assert!(v1.put(&apply_path(&id), &body).await.status().is_success());
    }
    let v2 = app.login(VOTER2).await;
    let other = Credential::generate(&mut OsRng).unwrap();
    let body = v2_application(&base, &id, VOTER2, "main", other.signing_key(), "");
    assert_eq!(v2.put(&apply_path(&id), &body).await.status(), 201);
    let path = format!("/api/campaigns/{id}/election-package");
    let req = json!({ "manifest": crate::ballots::manifest(&id), "ballot_format": "v2" });
    assert_eq!(admin.put(&path, &req).await.status(), 200);
    let public = |app: &TestApp| reqwest::get(app.url(&format!("/api/campaigns/{id}/credentials")));
    // before the freeze nothing is served
    assert_error(public(&app).await.unwrap(), 409, "applications_open").await;
    app.clock.set(crate::ballots::Schedule::pilot().open_at);
    let admin = app.admin().await;
    let list: Value =
        reqwest::get(app.url(&format!("/api/v1/campaigns/{id}/credential-list"))).await.unwrap().json().await.unwrap();
    let line = list["entry"].as_str().unwrap();
    let BoardEntry::CredentialListV2 { credentials, count, revoked_count } = serde_json::from_str(line).unwrap() else {
        panic!("not a v2 list: {line}")
    };
    assert_eq!((count, revoked_count), (2, 1), "voter 1 re-applied once");
    check_credential_list_v2(&credentials, count).unwrap();
    assert!(credentials.iter().all(|c| c.stations.is_empty() && c.style == "main"));
    assert!(!line.contains(&first.public().0.to_hex()), "the revoked credential is not named");
    assert!(!line.contains("\"revoked\""));
    assert_eq!(list["digest"], hex::encode(credential_list_digest_v2(&id, line.as_bytes())));
    assert_ne!(list["digest"], hex::encode(credential_list_digest(&id, line.as_bytes())));
    // the public list: the frozen items, no status, no history
    let answer: Value = public(&app).await.unwrap().json().await.unwrap();
    assert_eq!((answer["count"].as_u64(), answer["revoked_count"].as_u64()), (Some(2), Some(1)));
    let text = answer.to_string();
    assert!(!text.contains("status") && !text.contains("active") && !text.contains(&first.public().0.to_hex()));
    for item in answer["credentials"].as_array().unwrap() {
        let mut keys: Vec<&str> = item.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["ballot_style", "fingerprint", "pin_commitment", "public_key", "stations"]);
    }
    let v1 = app.login(VOTER1).await;
    let cabinet: Value = v1.get(&format!("/api/campaigns/{id}/cabinet")).await.json().await.unwrap();
    assert_eq!(cabinet["history"].as_array().unwrap().len(), 1, "{cabinet}");
    assert_eq!(cabinet["credential"]["public_key"], second.public().0.to_hex());
    // the members sign the v2 digest; a signature under the v1 label is refused
    let v1_digest = credential_list_digest(&id, line.as_bytes());
    let sig = member_signatures(&v1_digest, &[0]).remove(0);
    let r = admin
        .post(&format!("/api/campaigns/{id}/credential-list/signatures"), &serde_json::to_value(&sig).unwrap())
        .await;
    assert_eq!(r.status(), 422, "{}", r.text().await.unwrap());
    sign_credential_list(&app, &admin, &id).await;
}

/// A v2 replacement (13-revoting.md §4.2, §4.3) drafted, signed by the members and posted: the
/// entry names the new credential and its PIN commitment, never X_old; its proof and the
/// members' signatures hold; X_old stops and the new credential votes. Every attacker's
/// variation is refused with a clear 4xx and writes nothing; a v1 `credential_replaced` never
/// reaches a v2 board.
async fn a_v2_replacement_names_no_old_credential(b: Backend) {
    use dobush_crypto::ballot_v2::replacement::verify_entry_nonce;
    use dobush_crypto::record::BoardEntry;
    let mut e =
        crate::ballots::open_election_as(spawn_app(b).await, "last_counts", &crate::ballots::Schedule::pilot(), "v2")
            .await;
    let admin = e.app.admin().await;
    let base = e.package.base_hash;
    let id = e.id.clone();
    let decision = "TEC Batken 12/3";
    let new = Credential::generate(&mut OsRng).unwrap();
    let draft_path = format!("/api/campaigns/{id}/credentials/replacements/draft");
    let path = format!("/api/campaigns/{id}/credentials/replacements");
    let draft_for = |pin: &str, key: &dobush_crypto::signature::SigningKey| {
        let mut body = v2_application(&base, &id, pin, "main", key, decision);
        body["pin"] = pin.into();
        body["decision"] = decision.into();
        body
    };
    // a `new` already listed (voter 2's credential) is refused at the draft
    let listed = draft_for(VOTER1, e.creds[1].signing_key());
    assert_error(admin.post(&draft_path, &listed).await, 409, "credential_in_use").await;
    // a binding for another PIN, or without the decision
    let mut other_pin = draft_for(VOTER2, new.signing_key());
    other_pin["pin"] = VOTER1.into();
    let body = assert_error(admin.post(&draft_path, &other_pin).await, 422, "invalid_field").await;
    assert_eq!(body["field"], "pin_commitment");
    let mut no_decision = v2_application(&base, &id, VOTER1, "main", new.signing_key(), "");
    no_decision["pin"] = VOTER1.into();
    no_decision["decision"] = decision.into();
    let body = assert_error(admin.post(&draft_path, &no_decision).await, 422, "invalid_field").await;
    assert_eq!(body["field"], "binding");
    let body = draft_for(VOTER1, new.signing_key());
    let r = admin.post(&draft_path, &body).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let draft: Value = r.json().await.unwrap();
    assert_eq!(draft["check"]["old"]["credential"], e.creds[0].public().0.to_hex());
    assert_eq!(draft["check"]["old"]["decision"], "", "bound at application");
    let entry = &draft["entry"];
    let (new_pc, digest) = draft_digest(&id, &new, &draft, decision);
    assert_eq!(draft["digest"], hex::encode(digest), "the members recompute the digest");
    let mut request = body.clone();
    request["old_tbase"] = entry["old_tbase"].clone();
    request["proof"] = entry["proof"].clone();
    request["nonce"] = draft["check"]["nonce"].clone();
    request["signatures"] = serde_json::to_value(member_signatures(&digest, &[0, 1])).unwrap();
    // voter 2's draft: its old_tbase, nonce and proof are not voter 1's active credential's
    let other_new = Credential::generate(&mut OsRng).unwrap();
    let other: Value = admin.post(&draft_path, &draft_for(VOTER2, other_new.signing_key())).await.json().await.unwrap();
    let board_before = e.board_lines().await.len();
    for (what, patch, status, code, field) in [
        (
            "a v1 request",
            json!({"old_tbase": null, "proof": null, "nonce": null, "pin_commitment": null, "salt": null, "binding": null}),
            422,
            "invalid_field",
            Some("old_tbase"),
        ),
        (
            "another voter's old_tbase",
            json!({"old_tbase": other["entry"]["old_tbase"], "nonce": other["check"]["nonce"], "proof": other["entry"]["proof"]}),
            409,
            "not_active_credential",
            None,
        ),
        ("another nonce", json!({"nonce": other["check"]["nonce"]}), 409, "not_active_credential", None),
        ("another draft's proof", json!({"proof": other["entry"]["proof"]}), 422, "invalid_field", Some("proof")),
        (
            "one member's signature",
            json!({"signatures": member_signatures(&digest, &[0])}),
            409,
            "quorum_not_reached",
            None,
        ),
        (
            "signatures over v1's digest",
            json!({"signatures": member_signatures(&dobush_crypto::record::credential_replacement_digest(&id, &e.creds[0].public(), &new.public(), "main", decision), &[0, 1])}),
            422,
            "invalid_field",
            Some("signatures"),
        ),
        ("another decision", json!({"decision": "TEC Batken 12/4"}), 422, "invalid_field", Some("binding")),
    ] {
        let mut m = request.clone();
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                m.as_object_mut().unwrap().remove(k);
            } else {
                m[k] = v.clone();
            }
        }
        let got = assert_error(admin.post(&path, &m).await, status, code).await;
        if let Some(f) = field {
            assert_eq!(got["field"], f, "{what}: {got}");
        }
        assert_eq!(e.board_lines().await.len(), board_before, "{what}: nothing written");
    }
    // a proof with only z changed (another proof's z)
    let mut forged = request.clone();
    forged["proof"]["z"] = other["entry"]["proof"]["z"].clone();
    let got = assert_error(admin.post(&path, &forged).await, 422, "invalid_field").await;
    assert_eq!(got["field"], "proof");
    // the honest replacement
    let r = admin.post(&path, &request).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let answer: Value = r.json().await.unwrap();
    assert!(answer.get("old").is_none(), "{answer}");
    let lines = e.board_lines().await;
    assert!(lines.len() > board_before);
    assert_eq!(lines.iter().filter(|l| l.contains("\"type\":\"credential_replaced_v2\"")).count(), 1);
    let line = lines.last().unwrap();
    assert!(!line.contains(&e.creds[0].public().0.to_hex()), "the entry does not name X_old");
    let BoardEntry::CredentialReplacedV2 {
        style,
        new: posted,
        new_pin_commitment,
        old_tbase: posted_tbase,
        proof,
        decision: d,
        signatures,
    } = serde_json::from_str(line).unwrap()
    else {
        panic!("not a credential_replaced_v2: {line}")
    };
    assert_eq!((style.as_str(), posted, new_pin_commitment, d.as_str()), ("main", new.public(), new_pc, decision));
    verify_entry_nonce(&e.ctx, &digest, &posted_tbase, &proof).unwrap();
    e.package.commission.check_act(dobush_crypto::commission::Act::Replacement, &digest, &signatures).unwrap();
    assert!(lines.iter().all(|l| !l.contains("\"type\":\"credential_replaced\"")), "no v1 replacement ever");
    // the audit log, which observers read, names neither the voter nor a credential of a v2
    // replacement or draft (review 19-v2-credentials H1)
    let details: Vec<String> = e
        .app
        .with_db(|c| {
            use dobush_server::schema::audit_log as a;
            a::table
                .filter(a::action.eq_any(["credential.replace", "credential.replacement_drafted"]))
                .select(a::details)
                .load(c)
                .unwrap()
        })
        .await;
    assert!(details.len() >= 2, "{details:?}");
    let old_fp = dobush_server::domain::credential::fingerprint_of_hex(&e.creds[0].public().0.to_hex());
    for d in &details {
        for secret in
            [VOTER1, VOTER2, old_fp.as_str(), e.creds[0].public().0.to_hex().as_str(), &new.public().0.to_hex()]
        {
            assert!(!d.contains(secret), "{secret} in the audit log: {d}");
        }
    }
    // again: the new credential is in use now, and a replay of the draft finds X_old stopped
    assert_error(admin.post(&path, &request).await, 409, "credential_in_use").await;
    // X_old no longer votes; the new credential does
    let (req_old, _) = e.cast_request(0, 1);
    let r = e.cast(0, &req_old).await;
    assert!(r.status().is_client_error(), "X_old cast: {}", r.status());
    e.creds[0] = new;
    let (req_new, _) = e.cast_request(0, 1);
    assert_eq!(e.cast(0, &req_new).await.status(), 201);
    // a later draft for the same voter shows the members the new credential's binding and the
    // decision it names
    let again = Credential::generate(&mut OsRng).unwrap();
    let second: Value = admin.post(&draft_path, &draft_for(VOTER1, again.signing_key())).await.json().await.unwrap();
    assert_eq!(second["check"]["old"]["credential"], e.creds[0].public().0.to_hex(), "{second}");
    assert_eq!(second["check"]["old"]["decision"], decision);
    // the server's v1 poster refuses a v2 board outright
    let boards = e.app.state.boards.clone();
    let (cid, now) = (id.clone(), e.app.clock.now());
    let (o, n) = (e.creds[1].public().0.to_hex(), Credential::generate(&mut OsRng).unwrap().public().0.to_hex());
    let refused = e
        .app
        .with_db(move |c| {
            boards
                .credential_replaced(
                    c,
                    &cid,
                    dobush_server::board_log::Replacement {
                        old: &o,
                        new: &n,
                        style: "main",
                        decision: "x",
                        signatures: &[],
                    },
                    now,
                )
                .map(|_| ())
        })
        .await;
    assert!(
        matches!(refused, Err(dobush_server::error::ApiError::Invalid { ref field, .. }) if field == "ballot_format"),
        "{refused:?}"
    );
    assert!(!e.written_text().await.contains("\"credential_replaced\""));
}

/// What the members recompute from a replacement draft (13-revoting.md §4.3): the new PIN
/// commitment and the replacement digest over the draft's `old_tbase`.
fn draft_digest(id: &str, new: &Credential, draft: &Value, decision: &str) -> ([u8; 32], [u8; 32]) {
    use dobush_crypto::ballot_v2::replacement::ReplacementStatement;
    let entry = &draft["entry"];
    let new_pc: [u8; 32] = hex::decode(entry["new_pin_commitment"].as_str().unwrap()).unwrap().try_into().unwrap();
    let old_tbase: dobush_crypto::elgamal::Ciphertext = serde_json::from_value(entry["old_tbase"].clone()).unwrap();
    let statement = ReplacementStatement {
        campaign: id,
        style: "main",
        new: &new.public(),
        new_pin_commitment: &new_pc,
        old_tbase: &old_tbase,
        decision,
    };
    (new_pc, statement.digest())
}

/// Voter `v` (PIN `pin`) replaces its credential in an open v2 campaign through the
/// administrator, with the signatures of members 0 and 1 (the quorum); `e.creds[v]` becomes the
/// new one.
pub(crate) async fn replace_v2(e: &mut crate::ballots::Election, v: usize, pin: &str) {
    let admin = e.app.admin().await;
    let (base, id, decision) = (e.package.base_hash, e.id.clone(), "TEC Batken 12/5");
    let new = Credential::generate(&mut OsRng).unwrap();
    let mut body = v2_application(&base, &id, pin, "main", new.signing_key(), decision);
    body["pin"] = pin.into();
    body["decision"] = decision.into();
    let r = admin.post(&format!("/api/campaigns/{id}/credentials/replacements/draft"), &body).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let draft: Value = r.json().await.unwrap();
    let entry = &draft["entry"];
    let (_, digest) = draft_digest(&id, &new, &draft, decision);
    body["old_tbase"] = entry["old_tbase"].clone();
    body["proof"] = entry["proof"].clone();
    body["nonce"] = draft["check"]["nonce"].clone();
    body["signatures"] = serde_json::to_value(member_signatures(&digest, &[0, 1])).unwrap();
    let r = admin.post(&format!("/api/campaigns/{id}/credentials/replacements"), &body).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    e.creds[v] = new;
}

crate::backend_tests!(
    a_v2_application_is_bound_to_the_logged_in_voters_pin,
    the_package_fixes_which_application_a_campaign_takes,
    the_v2_list_names_pin_commitments_and_only_counts_revocations,
    a_v2_replacement_names_no_old_credential,
);
