use serde_json::{Value, json};

use crate::helpers::*;

fn app_path(id: &str) -> String {
    format!("/api/campaigns/{id}/cabinet/application")
}

async fn apply_replace_withdraw_and_export(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let id = campaign_in_registration(&admin).await;
    let voter = app.login(VOTER1).await;
    let c: Value = voter.get(&format!("/api/campaigns/{id}/cabinet")).await.json().await.unwrap();
    assert_eq!(
        (c["e_voter"].as_bool(), c["precinct"].as_str(), c["ballot_style"].as_str()),
        (Some(false), Some("P1"), Some("main"))
    );
    assert_eq!(
        (c["last_application_day"].as_str(), c["applications_open"].as_bool()),
        (Some("2023-03-24"), Some(true))
    );
    let r = voter.put(&app_path(&id), &json!({ "credential": CREDS[0], "ballot_style": "main" })).await;
    assert_eq!(r.status(), 201);
    let first: Value = r.json().await.unwrap();
    let fp0 = first["credential"]["fingerprint"].as_str().unwrap().to_string();
    // the same credential again: nothing changes
    let r = voter.put(&app_path(&id), &json!({ "credential": CREDS[0] })).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["revoked"], Value::Null);
    // a new credential replaces it; the old one is recorded as revoked
    let r = voter.put(&app_path(&id), &json!({ "credential": CREDS[1] })).await;
    assert_eq!(r.status(), 200);
    let second: Value = r.json().await.unwrap();
    assert_eq!(second["revoked"], fp0.as_str());
    let c: Value = voter.get(&format!("/api/campaigns/{id}/cabinet")).await.json().await.unwrap();
    assert_eq!(c["e_voter"], true);
    assert_eq!(c["credential"]["public_key"], CREDS[1]);
    let statuses: Vec<&str> = c["history"].as_array().unwrap().iter().map(|h| h["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, vec!["revoked", "active"]);
    // a revoked credential cannot come back, nor can another voter take it
    assert_error(voter.put(&app_path(&id), &json!({ "credential": CREDS[0] })).await, 409, "credential_in_use").await;
    let voter2 = app.login(VOTER2).await;
    assert_error(voter2.put(&app_path(&id), &json!({ "credential": CREDS[1] })).await, 409, "credential_in_use").await;
    assert_eq!(voter2.put(&app_path(&id), &json!({ "credential": CREDS[2] })).await.status(), 201);
    // the e-voter list of precinct P1, JSON and CSV
    let list: Value = admin.get(&format!("/api/campaigns/{id}/evoters?precinct=P1")).await.json().await.unwrap();
    assert_eq!(list["count"], 2);
    assert_eq!(list["e_voters"][0]["pin"], VOTER2);
    assert_eq!(list["e_voters"][1]["credential_fingerprint"], second["credential"]["fingerprint"]);
    let csv = admin.get(&format!("/api/campaigns/{id}/evoters?precinct=P1&format=csv")).await.text().await.unwrap();
    assert!(
        csv.starts_with("pin,full_name,birth_date,precinct,ballot_style,credential_fingerprint,applied_at\n"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 3);
    let other: Value = admin.get(&format!("/api/campaigns/{id}/evoters?precinct=P2")).await.json().await.unwrap();
    assert_eq!(other["count"], 0);
    // the public credential list: no names or PINs, revocations visible
    let public: Value =
        reqwest::get(format!("{}/api/campaigns/{id}/credentials", app.address)).await.unwrap().json().await.unwrap();
    assert_eq!(public["active"], 2);
    assert_eq!(public["credentials"].as_array().unwrap().len(), 3);
    let text = public.to_string();
    assert!(!text.contains(VOTER1) && !text.contains("Aibek"), "{text}");
    assert!(
        public["credentials"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["fingerprint"] == fp0.as_str() && c["status"] == "revoked")
    );
    // the list the board will freeze: active credentials only, sorted by encoding, counted, and
    // the revoked ones
    let frozen = |id: String| app.with_db(move |c| dobush_server::credentials::credential_list(c, &id).unwrap());
    let (_, bytes) = frozen(id.clone()).await;
    let entry: Value = serde_json::from_slice(&bytes).unwrap();
    let mut expected = [CREDS[1], CREDS[2]];
    expected.sort();
    assert_eq!(
        entry,
        json!({
            "type": "credential_list", "count": 2,
            "credentials": expected.iter().map(|k| json!({ "credential": k, "style": "main" })).collect::<Vec<_>>(),
            "revoked": [CREDS[0]],
        })
    );
    // withdrawal takes the voter off the list, and the credential onto the revoked ones
    assert_eq!(voter.delete(&app_path(&id)).await.status(), 204);
    assert_error(voter.delete(&app_path(&id)).await, 404, "not_found").await;
    let list: Value = admin.get(&format!("/api/campaigns/{id}/evoters?precinct=P1")).await.json().await.unwrap();
    assert_eq!(list["count"], 1);
    let (_, bytes) = frozen(id.clone()).await;
    let entry: Value = serde_json::from_slice(&bytes).unwrap();
    let mut revoked = [CREDS[0], CREDS[1]];
    revoked.sort();
    assert_eq!((entry["count"].clone(), entry["revoked"].clone()), (json!(1), json!(revoked)));
}

async fn the_deadline_is_15_days_before_voting_day(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let id = campaign_in_registration(&admin).await;
    // last second of 24 March 2023, Bishkek time
    app.clock.set(bishkek(2023, 3, 24, 23, 59, 59));
    let voter = app.login(VOTER1).await;
    assert_eq!(voter.put(&app_path(&id), &json!({ "credential": CREDS[0] })).await.status(), 201);
    let voter2 = app.login(VOTER2).await;
    // first second of 25 March 2023, Bishkek time (still 24 March in UTC)
    app.clock.set(bishkek(2023, 3, 25, 0, 0, 0));
    let body = assert_error(
        voter2.put(&app_path(&id), &json!({ "credential": CREDS[1] })).await,
        409,
        "application_deadline_passed",
    )
    .await;
    assert!(body["message"].as_str().unwrap().contains("2023-03-24"));
    assert_error(
        voter.put(&app_path(&id), &json!({ "credential": CREDS[2] })).await,
        409,
        "application_deadline_passed",
    )
    .await;
    assert_error(voter.delete(&app_path(&id)).await, 409, "application_deadline_passed").await;
    let c: Value = voter.get(&format!("/api/campaigns/{id}/cabinet")).await.json().await.unwrap();
    assert_eq!((c["e_voter"].as_bool(), c["applications_open"].as_bool()), (Some(true), Some(false)));
}

async fn credentials_and_ballot_styles_are_checked(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let id = campaign_in_registration(&admin).await;
    let voter = app.login(VOTER1).await;
    for bad in ["abc", &"00".repeat(32), &"ff".repeat(32), &"zz".repeat(32)] {
        let e =
            assert_error(voter.put(&app_path(&id), &json!({ "credential": bad })).await, 422, "invalid_field").await;
        assert_eq!(e["field"], "credential", "{bad}");
    }
    let e = assert_error(
        voter.put(&app_path(&id), &json!({ "credential": CREDS[0], "ballot_style": "d7" })).await,
        422,
        "invalid_field",
    )
    .await;
    assert_eq!(e["field"], "ballot_style");
    let e = assert_error(voter.put(&app_path(&id), &json!({ "credential": 5 })).await, 400, "malformed_request").await;
    assert_eq!(e["field"], "credential");
    // applications only in the right states
    assert_eq!(transition(&admin, &id, "start_key_ceremony").await.status(), 200);
    assert_eq!(voter.put(&app_path(&id), &json!({ "credential": CREDS[0] })).await.status(), 201);
    crate::ceremony::ready_to_freeze(&app, &admin, &id).await;
    assert_eq!(transition(&admin, &id, "freeze_manifest").await.status(), 200);
    assert_error(voter.put(&app_path(&id), &json!({ "credential": CREDS[1] })).await, 409, "applications_closed").await;
}

async fn people_off_the_register_are_refused(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let id = campaign_in_registration(&admin).await;
    let other = create_campaign(&admin, &pilot_campaign()).await;
    let voter = app.login(VOTER1).await;
    let alerts = app.open_alerts().await;
    assert_error(voter.get(&format!("/api/campaigns/{other}/cabinet")).await, 403, "not_on_register").await;
    assert_error(voter.put(&app_path(&other), &json!({ "credential": CREDS[0] })).await, 403, "not_on_register").await;
    assert_eq!(app.open_alerts().await, alerts + 2);
    assert_error(voter.get("/api/campaigns/no-such-campaign/cabinet").await, 404, "not_found").await;
    assert_eq!(voter.get(&format!("/api/campaigns/{id}/cabinet")).await.status(), 200);
}

async fn a_lost_credential_is_replaced_by_commission_decision(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let id = campaign_in_registration(&admin).await;
    let voter = app.login(VOTER1).await;
    assert_eq!(voter.put(&app_path(&id), &json!({ "credential": CREDS[0] })).await.status(), 201);
    let path = format!("/api/campaigns/{id}/credentials/replacements");
    let mut body = json!({ "pin": VOTER1, "credential": CREDS[1], "decision": "TEC Batken No. 12/3" });
    // before the deadline the voter re-applies themselves
    assert_error(admin.post(&path, &body).await, 409, "before_deadline").await;
    app.clock.set(bishkek(2023, 3, 28, 10, 0, 0));
    let admin = app.admin().await;
    // a territorial administrator of another territory is refused (and alerted)
    let tec = "10707197000007";
    grant(&admin, tec, "tec_admin", Some("osh")).await;
    let tec = app.login(tec).await;
    assert_error(tec.post(&path, &body).await, 403, "outside_territory").await;
    // checks on the request
    let e = assert_error(
        admin.post(&path, &json!({ "pin": VOTER1, "credential": CREDS[1], "decision": " " })).await,
        422,
        "invalid_field",
    )
    .await;
    assert_eq!(e["field"], "decision");
    assert_error(
        admin.post(&path, &json!({ "pin": VOTER2, "credential": CREDS[1], "decision": "d" })).await,
        409,
        "not_an_e_voter",
    )
    .await;
    // after the deadline a replacement needs the commission's signatures whether or not voting
    // has opened (docs/protocol/14-commission.md §Acceptance): none without a commission confirmed
    // under dual control, then not without the quorum, and never under the administrator's key
    assert_error(admin.post(&path, &body).await, 409, "commission_invalid").await;
    pin_commission(&app, &admin, &id).await;
    assert_error(admin.post(&path, &body).await, 409, "quorum_not_reached").await;
    let key =
        |h: &str| dobush_crypto::signature::VerifyingKey(dobush_crypto::group::GroupElement::from_hex(h).unwrap());
    let digest = |new: &str, decision: &str| {
        dobush_crypto::record::credential_replacement_digest(&id, &key(CREDS[0]), &key(new), "main", decision)
    };
    let d = digest(CREDS[1], "TEC Batken No. 12/3");
    let own = ed25519_dalek::SigningKey::from_bytes(&[97; 32]);
    let own_sig = dobush_crypto::election_protocol::MemberSignature::sign_digest(&d, "Admin", &own);
    body["signatures"] = json!([member_signatures(&d, &[0])[0], own_sig]);
    assert_error(admin.post(&path, &body).await, 403, "not_a_member").await;
    body["signatures"] = json!(member_signatures(&d, &[0]));
    assert_error(admin.post(&path, &body).await, 409, "quorum_not_reached").await;
    let d0 = digest(CREDS[0], "d");
    assert_error(
        admin
            .post(
                &path,
                &json!({ "pin": VOTER1, "credential": CREDS[0], "decision": "d", "signatures": member_signatures(&d0, &[0, 1]) }),
            )
            .await,
        409,
        "credential_in_use",
    )
    .await;
    // the replacement, signed by the quorum (2 of 3)
    body["signatures"] = json!(member_signatures(&d, &[1, 2]));
    let r = admin.post(&path, &body).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    // before the opening nothing is posted: the new credential is on the list the members sign
    assert_eq!(
        v,
        json!({ "old": CREDS[0], "new": CREDS[1], "style": "main", "decision": "TEC Batken No. 12/3", "board_entry": null })
    );
    let voter = app.login(VOTER1).await;
    let c: Value = voter.get(&format!("/api/campaigns/{id}/cabinet")).await.json().await.unwrap();
    assert_eq!(c["credential"]["public_key"], CREDS[1]);
    let log: Value = admin.get(&format!("/api/audit?limit=1000&campaign_id={id}")).await.json().await.unwrap();
    let entry = log["entries"].as_array().unwrap().iter().find(|e| e["action"] == "credential.replace").unwrap();
    assert!(entry["details"].as_str().unwrap().contains("TEC Batken No. 12/3"));
}

crate::backend_tests!(
    a_lost_credential_is_replaced_by_commission_decision,
    apply_replace_withdraw_and_export,
    the_deadline_is_15_days_before_voting_day,
    credentials_and_ballot_styles_are_checked,
    people_off_the_register_are_refused,
);
