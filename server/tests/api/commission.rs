//! The pinned commission (docs/protocol/14-commission.md, issue 18 "Trust anchors"): one
//! administrator alone can neither pin a commission of its own keys nor reach any member quorum.

use rand::rngs::OsRng;
use serde_json::{Value, json};

use crate::helpers::*;

async fn shown(app: &TestApp, id: &str) -> Value {
    reqwest::get(app.url(&format!("/api/v1/campaigns/{id}/commission"))).await.unwrap().json().await.unwrap()
}

async fn one_administrator_cannot_pin_its_own_commission(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let id = campaign_in_registration(&admin).await;
    let v1 = |p: &str| format!("/api/v1/campaigns/{id}/{p}");
    // the administrator registers three "members" whose keys it holds
    let own: Vec<ed25519_dalek::SigningKey> = (0..3).map(|_| ed25519_dalek::SigningKey::generate(&mut OsRng)).collect();
    assert_error(reqwest::get(app.url(&v1("commission"))).await.unwrap(), 409, "commission_invalid").await;
    for (k, (name, role)) in own.iter().zip([("Own A", "chair"), ("Own B", "member"), ("Own C", "member")]) {
        let m = json!({ "name": name, "role": role, "precinct": "E1", "public_key": hex::encode(k.verifying_key().to_bytes()) });
        assert_eq!(admin.post(&v1("commission-members"), &m).await.status(), 201);
    }
    // a name that a browser would read otherwise than the server (an invisible U+FEFF, a
    // right-to-left override) is refused at registration, before it can be pinned (review 14 H3)
    for name in ["Own\u{FEFF} E", "Own\u{202E} E", "Own  E"] {
        let m = json!({ "name": name, "role": "member", "precinct": "E1", "public_key": hex::encode([9u8; 32]) });
        let r = admin.post(&v1("commission-members"), &m).await;
        assert_error(r, 422, "invalid_field").await;
    }
    let s = shown(&app, &id).await;
    assert_eq!((s["confirmed"].as_bool(), s["pinned"].as_bool()), (Some(false), Some(false)));
    assert_eq!(s["commission"]["quorum"], json!({ "credential_list": 2, "replacement": 2, "protocol": 2 }));
    // each member's fingerprint, the one the member's own tool prints for its key
    // (14-commission.md §Member fingerprints)
    let print = |key: [u8; 32]| dobush_crypto::commission::SigningIdentity::Ed25519 { key }.fingerprint();
    let members: Vec<dobush_crypto::commission::CommissionMember> =
        serde_json::from_value(s["commission"]["members"].clone()).unwrap();
    let shown_prints: Vec<String> = serde_json::from_value(s["fingerprints"].clone()).unwrap();
    assert_eq!(shown_prints, members.iter().map(|m| m.identity.fingerprint()).collect::<Vec<_>>());
    let mut own_prints: Vec<String> = own.iter().map(|k| print(k.verifying_key().to_bytes())).collect();
    let mut sorted = shown_prints.clone();
    own_prints.sort();
    sorted.sort();
    assert_eq!(sorted, own_prints);
    let hash = s["commission_hash"].clone();
    // it cannot confirm them itself (dual control)
    let r =
        admin.post(&v1("commission/confirm"), &json!({ "commission_hash": hash, "re_vote_policy": "forbidden" })).await;
    assert_error(r, 409, "same_person").await;
    // nor sign the credential list or replace a credential with them before a confirmation
    app.clock.set(bishkek(2023, 3, 28, 10, 0, 0));
    let admin = app.admin().await;
    let list: Value = reqwest::get(app.url(&v1("credential-list"))).await.unwrap().json().await.unwrap();
    let digest = dobush_crypto::record::credential_list_digest(&id, list["entry"].as_str().unwrap().as_bytes());
    let sig = dobush_crypto::election_protocol::MemberSignature::sign_digest(&digest, "Own A", &own[0]);
    let path = format!("/api/campaigns/{id}/credential-list/signatures");
    assert_error(admin.post(&path, &serde_json::to_value(&sig).unwrap()).await, 409, "commission_unconfirmed").await;
    // an administrator the registering one appointed, or one appointed after the members were
    // registered, is not a second person of dual control (review 14-commission H1)
    let second = second_admin(&app).await;
    for (pin, granted_by) in [("10101197000011", &admin), ("10101197000012", &second)] {
        let r = granted_by.post("/api/staff", &json!({ "pin": pin, "role": "cec_admin" })).await;
        assert_eq!(r.status(), 201);
        let appointed = app.login(pin).await;
        let r = appointed
            .post(&v1("commission/confirm"), &json!({ "commission_hash": hash, "re_vote_policy": "forbidden" }))
            .await;
        assert_error(r, 409, "confirmer_not_independent").await;
    }
    // a second administrator confirms only the section it compared: another hash is refused
    // nor can the administrator who created a campaign, and so chose its re-vote rule, confirm
    // it, even having registered no member (review 18-stop27 M2)
    let other = campaign_in_registration(&second).await;
    for (name, role) in [("Other A", "chair"), ("Other B", "member")] {
        let k = ed25519_dalek::SigningKey::generate(&mut OsRng);
        let m = json!({ "name": name, "role": role, "precinct": "E1", "public_key": hex::encode(k.verifying_key().to_bytes()) });
        assert_eq!(admin.post(&format!("/api/v1/campaigns/{other}/commission-members"), &m).await.status(), 201);
    }
    let s2 = shown(&app, &other).await;
    let r = second
        .post(
            &format!("/api/v1/campaigns/{other}/commission/confirm"),
            &json!({ "commission_hash": s2["commission_hash"], "re_vote_policy": "forbidden" }),
        )
        .await;
    assert_error(r, 409, "same_person").await;
    let r = second
        .post(
            &v1("commission/confirm"),
            &json!({ "commission_hash": hex::encode([7u8; 32]), "re_vote_policy": "forbidden" }),
        )
        .await;
    assert_error(r, 409, "commission_changed").await;
    let r = second
        .post(&v1("commission/confirm"), &json!({ "commission_hash": "XYZ", "re_vote_policy": "forbidden" }))
        .await;
    assert_error(r, 422, "invalid_field").await;
    // and the re-vote rule it read (review 18 round 1, M5): not the campaign's is refused, none
    // is malformed
    assert_eq!(s["re_vote_policy"], "forbidden");
    let r = second
        .post(&v1("commission/confirm"), &json!({ "commission_hash": hash, "re_vote_policy": "last_counts" }))
        .await;
    assert_error(r, 409, "re_vote_rule_differs").await;
    let r =
        second.post(&v1("commission/confirm"), &json!({ "commission_hash": hash, "re_vote_policy": "bogus" })).await;
    assert_error(r, 422, "invalid_field").await;
    let r = second.post(&v1("commission/confirm"), &json!({ "commission_hash": hash })).await;
    assert!(r.status().is_client_error(), "{}", r.status());
    let voter = app.login(crate::ballots::VOTERS[0]).await;
    let r =
        voter.post(&v1("commission/confirm"), &json!({ "commission_hash": hash, "re_vote_policy": "forbidden" })).await;
    assert_eq!(r.status(), 403);
    let r = second
        .post(&v1("commission/confirm"), &json!({ "commission_hash": hash, "re_vote_policy": "forbidden" }))
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(shown(&app, &id).await["confirmed"], true);
    // a member added afterwards changes the section: the confirmation no longer holds
    let extra = ed25519_dalek::SigningKey::generate(&mut OsRng);
    let m = json!({ "name": "Own D", "role": "member", "precinct": "E1", "public_key": hex::encode(extra.verifying_key().to_bytes()) });
    assert_eq!(admin.post(&v1("commission-members"), &m).await.status(), 201);
    let s = shown(&app, &id).await;
    assert_eq!(s["confirmed"], false);
    assert_ne!(s["commission_hash"], hash);
    assert_eq!(s["commission"]["quorum"]["protocol"], 3, "more than half of four");
    // the package is built only from the confirmed section
    assert_eq!(transition(&admin, &id, "start_key_ceremony").await.status(), 200);
    crate::ceremony::ceremony_only(&app, &admin, &id).await;
    let package_path = format!("/api/campaigns/{id}/election-package");
    let req = json!({ "manifest": crate::ballots::manifest(&id) });
    assert_error(admin.put(&package_path, &req).await, 409, "commission_unconfirmed").await;
    let hash = shown(&app, &id).await["commission_hash"].clone();
    let r = second
        .post(&v1("commission/confirm"), &json!({ "commission_hash": hash, "re_vote_policy": "forbidden" }))
        .await;
    assert_eq!(r.status(), 200);
    // the rule switched in the database after the confirmation: no package is built from it
    let set_rule = |rule: &'static str| {
        let id = id.clone();
        app.with_db(move |c| {
            use diesel::prelude::*;
            use dobush_server::schema::campaigns;
            diesel::update(campaigns::table.filter(campaigns::id.eq(id)))
                .set(campaigns::revote_policy.eq(rule))
                .execute(c)
                .unwrap()
        })
    };
    assert_eq!(set_rule("last_counts").await, 1);
    assert_eq!(shown(&app, &id).await["confirmed"], false);
    assert_error(admin.put(&package_path, &req).await, 409, "commission_unconfirmed").await;
    assert_eq!(set_rule("forbidden").await, 1);
    let r = admin.put(&package_path, &req).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let package: dobush_crypto::record::ElectionPackage = r.json().await.unwrap();
    assert_eq!(package.commission.members.len(), 4);
    assert_eq!(hex::encode(package.commission.hash()), hash.as_str().unwrap());
    package.context().unwrap();
    // pinned: no member is added, nothing is confirmed any more
    let late = ed25519_dalek::SigningKey::generate(&mut OsRng);
    let m = json!({ "name": "Late", "role": "member", "precinct": "E1", "public_key": hex::encode(late.verifying_key().to_bytes()) });
    assert_error(admin.post(&v1("commission-members"), &m).await, 409, "commission_pinned").await;
    let r = second
        .post(&v1("commission/confirm"), &json!({ "commission_hash": hash, "re_vote_policy": "forbidden" }))
        .await;
    assert_error(r, 409, "commission_pinned").await;
    let s = shown(&app, &id).await;
    assert_eq!((s["pinned"].as_bool(), s["commission_hash"].clone()), (Some(true), hash));
    assert_eq!(s["fingerprints"].as_array().map(Vec::len), s["commission"]["members"].as_array().map(Vec::len));
    let log: Value = admin.get("/api/audit?limit=1000").await.json().await.unwrap();
    let confirmations = log["entries"].as_array().unwrap().iter().filter(|e| e["action"] == "commission.confirmed");
    assert!(confirmations.clone().all(|e| e["actor"] == SECOND_ADMIN_PIN));
    assert_eq!(confirmations.count(), 2);
    // the polls do not open on fewer signatures than the quorum (3 of 4), even pinned ones
    assert_eq!(transition(&admin, &id, "freeze_manifest").await.status(), 200);
    app.clock.set(bishkek(2023, 4, 9, 12, 0, 0));
    let admin = app.admin().await;
    let list: Value = reqwest::get(app.url(&v1("credential-list"))).await.unwrap().json().await.unwrap();
    let digest = dobush_crypto::record::credential_list_digest(&id, list["entry"].as_str().unwrap().as_bytes());
    for (k, name) in own.iter().zip(["Own A", "Own B"]) {
        let sig = dobush_crypto::election_protocol::MemberSignature::sign_digest(&digest, name, k);
        assert_eq!(admin.post(&path, &serde_json::to_value(&sig).unwrap()).await.status(), 200);
    }
    let outsider = dobush_crypto::election_protocol::MemberSignature::sign_digest(&digest, "Own C", &late);
    assert_error(admin.post(&path, &serde_json::to_value(&outsider).unwrap()).await, 403, "not_a_member").await;
    assert_error(transition(&admin, &id, "open_voting").await, 409, "quorum_not_reached").await;
    let sig = dobush_crypto::election_protocol::MemberSignature::sign_digest(&digest, "Own C", &own[2]);
    assert_eq!(admin.post(&path, &serde_json::to_value(&sig).unwrap()).await.status(), 200);
    assert_eq!(transition(&admin, &id, "open_voting").await.status(), 200);
}

/// Dual control follows who appointed whom (review 14-commission H1, re-review H-A): an
/// administrator who appointed the one who sets up a campaign, directly or through another,
/// cannot confirm its commission, even appointed long before.
async fn dual_control_follows_the_line_of_appointments(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let second = second_admin(&app).await;
    let register = |user: User, id: String| async move {
        for (name, role) in [("Line A", "chair"), ("Line B", "member")] {
            let k = ed25519_dalek::SigningKey::generate(&mut OsRng);
            let m = json!({ "name": name, "role": role, "precinct": "E1", "public_key": hex::encode(k.verifying_key().to_bytes()) });
            let r = user.post(&format!("/api/v1/campaigns/{id}/commission-members"), &m).await;
            assert_eq!(r.status(), 201);
        }
        user
    };
    let confirm = |user: &User, id: &str| {
        let (user, id) = (user.clone(), id.to_string());
        let app = &app;
        async move {
            let shown: Value = reqwest::get(app.url(&format!("/api/v1/campaigns/{id}/commission")))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let body = json!({ "commission_hash": shown["commission_hash"], "re_vote_policy": "forbidden" });
            user.post(&format!("/api/v1/campaigns/{id}/commission/confirm"), &body).await
        }
    };
    let grant = |by: &User, pin: &'static str| {
        let by = by.clone();
        async move { assert_eq!(by.post("/api/staff", &json!({ "pin": pin, "role": "cec_admin" })).await.status(), 201) }
    };
    // the second administrator appoints S, who sets up a campaign: the second cannot confirm it
    grant(&second, "10101197000021").await;
    let s = app.login("10101197000021").await;
    let id = campaign_in_registration(&s).await;
    register(s, id.clone()).await;
    assert_error(confirm(&second, &id).await, 409, "confirmer_not_independent").await;
    // the first appoints S1, S1 appoints S2; the first sets up a campaign: S2 cannot confirm it
    grant(&admin, "10101197000022").await;
    let s1 = app.login("10101197000022").await;
    grant(&s1, "10101197000023").await;
    let s2 = app.login("10101197000023").await;
    let id = campaign_in_registration(&admin).await;
    let admin = register(admin, id.clone()).await;
    assert_error(confirm(&s2, &id).await, 409, "confirmer_not_independent").await;
    // the installation's other appointee can
    assert_eq!(confirm(&second, &id).await.status(), 200);
    drop(admin);
}

crate::backend_tests!(dual_control_follows_the_line_of_appointments, one_administrator_cannot_pin_its_own_commission);
