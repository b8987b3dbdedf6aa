use diesel::prelude::*;
use dobush_server::schema::{
    ballot_ciphertexts, ballots, ballots_issued, board_entries, encrypted_totals, evoter_credentials, key_shares,
    precincts, tallies, tree_heads, voters,
};
use serde_json::{Value, json};

use crate::helpers::*;

async fn lifecycle_is_enforced_in_order(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let id = create_campaign(&admin, &pilot_campaign()).await;
    let c: Value = admin.get(&format!("/api/campaigns/{id}")).await.json().await.unwrap();
    assert_eq!(c["state"], "draft");
    assert_eq!(c["last_application_day"], "2023-03-24");
    assert_eq!(c["voting_window"]["opens_at"], "2023-04-09T02:00:00+00:00");
    assert_eq!(c["revote_policy"], "forbidden");
    assert_eq!(c["ballot_styles"][0]["code"], "main");
    // out of order
    let body = assert_error(transition(&admin, &id, "open_voting").await, 409, "invalid_transition").await;
    assert!(body["message"].as_str().unwrap().contains("state draft"), "{body}");
    assert_error(transition(&admin, &id, "erase_test_data_and_open_registration").await, 409, "invalid_transition")
        .await;
    let body = assert_error(transition(&admin, &id, "fly").await, 422, "invalid_field").await;
    assert_eq!(body["field"], "action");
    for a in ["start_test", "erase_test_data_and_open_registration", "start_key_ceremony"] {
        let r = transition(&admin, &id, a).await;
        assert_eq!(r.status(), 200, "{a}");
    }
    crate::ceremony::ready_to_freeze(&app, &admin, &id).await;
    assert_eq!(transition(&admin, &id, "freeze_manifest").await.status(), 200);
    let c: Value = admin.get(&format!("/api/campaigns/{id}")).await.json().await.unwrap();
    assert_eq!(c["state"], "manifest_frozen");
    assert_eq!(c["manifest_hash"].as_str().unwrap().len(), 64);
    assert_error(
        admin.put(&format!("/api/campaigns/{id}/manifest"), &json!({ "manifest": {} })).await,
        409,
        "manifest_frozen",
    )
    .await;
    // the window is judged by the clock, in Bishkek time
    app.clock.set(bishkek(2023, 4, 9, 7, 59, 59));
    let admin = app.admin().await; // the jump in time expired the session
    assert_error(transition(&admin, &id, "open_voting").await, 409, "outside_voting_window").await;
    app.clock.set(bishkek(2023, 4, 9, 8, 0, 0));
    let admin = app.admin().await;
    assert_error(transition(&admin, &id, "open_voting").await, 409, "credential_list_unsigned").await;
    sign_credential_list(&app, &admin, &id).await;
    assert_eq!(transition(&admin, &id, "open_voting").await.status(), 200);
    app.clock.set(bishkek(2023, 4, 9, 19, 59, 59));
    let admin = app.admin().await;
    assert_error(transition(&admin, &id, "close_voting").await, 409, "voting_window_not_over").await;
    app.clock.set(bishkek(2023, 4, 9, 20, 0, 0));
    let admin = app.admin().await;
    assert_eq!(transition(&admin, &id, "close_voting").await.status(), 200);
    // tallied and protocol_signed follow the decryption shares and the members' signatures
    // (tests in tally.rs), never an administrator's say-so
    assert_error(transition(&admin, &id, "record_tally").await, 409, "automatic_transition").await;
    assert_error(transition(&admin, &id, "sign_protocol").await, 409, "invalid_transition").await;
    // every step is in the audit chain
    let v: Value = admin.get("/api/audit/verify").await.json().await.unwrap();
    assert_eq!(v["first_bad_seq"], Value::Null);
    let log: Value = admin.get("/api/audit?limit=1000").await.json().await.unwrap();
    let transitions =
        log["entries"].as_array().unwrap().iter().filter(|e| e["action"] == "campaign.transition").count();
    assert_eq!(transitions, 6);
}

async fn test_data_is_erased_before_registration(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let id = create_campaign(&admin, &pilot_campaign()).await;
    assert_eq!(transition(&admin, &id, "start_test").await.status(), 200);
    import_csv(&admin, &id, REGISTER_CSV).await;
    let voter = app.login(VOTER1).await;
    let r = voter.put(&format!("/api/campaigns/{id}/cabinet/application"), &json!({ "credential": CREDS[0] })).await;
    assert_eq!(r.status(), 201);
    // rows of the tables that ballot casting and the board will fill
    let cid = id.clone();
    app.with_db(move |c| {
        let cred: i64 = evoter_credentials::table.select(evoter_credentials::id).first(c).unwrap();
        insert_ballot(c, &cid, VOTER1, cred, 1, "counted", 1);
        let bid: i64 = ballots::table.select(ballots::id).first(c).unwrap();
        diesel::insert_into(ballot_ciphertexts::table)
            .values((
                ballot_ciphertexts::campaign_id.eq(&cid),
                ballot_ciphertexts::ciphertext_hash.eq("c1"),
                ballot_ciphertexts::ballot_id.eq(bid),
            ))
            .execute(c)
            .unwrap();
        diesel::insert_into(board_entries::table)
            .values((
                board_entries::campaign_id.eq(&cid),
                board_entries::idx.eq(0),
                board_entries::kind.eq("ballot"),
                board_entries::ballot_id.eq(Some(bid)),
                board_entries::payload.eq("{}"),
                board_entries::leaf_hash.eq("l"),
                board_entries::created_at.eq(1),
            ))
            .execute(c)
            .unwrap();
        diesel::insert_into(tree_heads::table)
            .values((
                tree_heads::campaign_id.eq(&cid),
                tree_heads::tree_size.eq(1),
                tree_heads::root_hash.eq("r"),
                tree_heads::signature.eq("s"),
                tree_heads::issued_at.eq(1),
            ))
            .execute(c)
            .unwrap();
        diesel::insert_into(encrypted_totals::table)
            .values((
                encrypted_totals::campaign_id.eq(&cid),
                encrypted_totals::ballot_style.eq("main"),
                encrypted_totals::shard.eq(0),
                encrypted_totals::totals.eq("{}"),
                encrypted_totals::ballot_count.eq(1),
            ))
            .execute(c)
            .unwrap();
        diesel::insert_into(key_shares::table)
            .values((
                key_shares::campaign_id.eq(&cid),
                key_shares::trustee_index.eq(1),
                key_shares::holder_pin.eq(ADMIN_PIN),
                key_shares::public_data.eq("{}"),
                key_shares::created_at.eq(1),
            ))
            .execute(c)
            .unwrap();
        {
            use dobush_server::schema::credential_list_signatures as s;
            diesel::insert_into(s::table)
                .values((
                    s::campaign_id.eq(&cid),
                    s::public_key.eq("k"),
                    s::member.eq("m"),
                    s::signature.eq("s"),
                    s::list_digest.eq("d"),
                    s::uploaded_by.eq(ADMIN_PIN),
                    s::created_at.eq(1),
                ))
                .execute(c)
                .unwrap();
        }
        diesel::insert_into(ballots_issued::table)
            .values((
                ballots_issued::campaign_id.eq(&cid),
                ballots_issued::pin.eq(VOTER1),
                ballots_issued::issued_at.eq(1),
            ))
            .execute(c)
            .unwrap();
        diesel::insert_into(tallies::table)
            .values((
                tallies::campaign_id.eq(&cid),
                tallies::status.eq("published"),
                tallies::board_totals.eq("[]"),
                tallies::shard_totals.eq("[]"),
                tallies::closed_at.eq(1),
            ))
            .execute(c)
            .unwrap();
    })
    .await;
    let r = transition(&admin, &id, "erase_test_data_and_open_registration").await;
    assert_eq!(r.status(), 200);
    let cid = id.clone();
    let counts = app
        .with_db(move |c| {
            let n = |r: QueryResult<i64>| r.unwrap();
            vec![
                n(ballots::table.filter(ballots::campaign_id.eq(&cid)).count().get_result(c)),
                n(ballot_ciphertexts::table.filter(ballot_ciphertexts::campaign_id.eq(&cid)).count().get_result(c)),
                n(board_entries::table.filter(board_entries::campaign_id.eq(&cid)).count().get_result(c)),
                n(tree_heads::table.filter(tree_heads::campaign_id.eq(&cid)).count().get_result(c)),
                n(encrypted_totals::table.filter(encrypted_totals::campaign_id.eq(&cid)).count().get_result(c)),
                n(key_shares::table.filter(key_shares::campaign_id.eq(&cid)).count().get_result(c)),
                n(ballots_issued::table.filter(ballots_issued::campaign_id.eq(&cid)).count().get_result(c)),
                n(tallies::table.filter(tallies::campaign_id.eq(&cid)).count().get_result(c)),
                n(evoter_credentials::table.filter(evoter_credentials::campaign_id.eq(&cid)).count().get_result(c)),
                n(voters::table.filter(voters::campaign_id.eq(&cid)).count().get_result(c)),
                n(dobush_server::schema::credential_list_signatures::table
                    .filter(dobush_server::schema::credential_list_signatures::campaign_id.eq(&cid))
                    .count()
                    .get_result(c)),
                n(precincts::table.filter(precincts::campaign_id.eq(&cid)).count().get_result(c)),
            ]
        })
        .await;
    assert_eq!(counts, vec![0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3], "only the precincts (configuration) remain");
    let log: Value = admin.get("/api/audit?limit=1000").await.json().await.unwrap();
    let erased =
        log["entries"].as_array().unwrap().iter().find(|e| e["action"] == "campaign.test_data_erased").unwrap();
    let details: Value = serde_json::from_str(erased["details"].as_str().unwrap()).unwrap();
    assert_eq!(
        details,
        json!({
            "ballots": 1, "ciphertexts": 1, "board_entries": 1, "tree_heads": 1, "encrypted_totals": 1,
            "tally": 2, "credentials": 1, "key_shares": 1, "voters": 3, "credential_list_signatures": 1,
        })
    );
    // the erased voter is no longer on the register
    assert_eq!(app.try_login(VOTER1, ACR_STRONG, "api").await.err().unwrap().status, 403);
}

async fn campaign_definitions_are_validated(b: Backend) {
    let app = spawn_app_with(b, |s| s.campaigns.allow_demo_mode = false).await;
    let admin = app.admin().await;
    let cases: Vec<(&str, Value, &str)> = vec![
        ("kind", json!("mayor"), "kind"),
        ("voting_day", json!("2023-02-30"), "voting_day"),
        ("voting_window", json!({ "start": "20:00", "end": "08:00" }), "voting_window.end"),
        ("voting_window", json!({ "start": "8am", "end": "20:00" }), "voting_window.start"),
        ("revote_policy", json!("sometimes"), "revote_policy"),
        ("demo_mode", json!(true), "demo_mode"),
        ("precincts", json!([{ "code": "P1", "name": "x", "kind": "ordinary", "territory": "t" }]), "precincts"),
        (
            "precincts",
            json!([{ "code": "E 1", "name": "x", "kind": "electronic", "territory": "t" }]),
            "precincts[0].code",
        ),
        (
            "precincts",
            json!([{ "code": "E1", "name": "x", "kind": "electronic", "territory": "t", "ballot_style": "d9" }]),
            "precincts[0].ballot_style",
        ),
        ("manifest", json!([1, 2]), "manifest"),
        ("name", json!("  "), "name"),
    ];
    for (key, value, field) in cases {
        let mut body = pilot_campaign();
        body[key] = value;
        let e = assert_error(admin.post("/api/campaigns", &body).await, 422, "invalid_field").await;
        assert_eq!(e["field"], field, "{key}: {e}");
    }
    let mut jk = pilot_campaign();
    jk["kind"] = json!("jogorku_kenesh");
    let e = assert_error(admin.post("/api/campaigns", &jk).await, 422, "invalid_field").await;
    assert_eq!(e["field"], "ballot_styles");
    jk["ballot_styles"] = json!([{ "code": "d1", "name": "District 1" }, { "code": "d2", "name": "District 2" }]);
    let e = assert_error(admin.post("/api/campaigns", &jk).await, 422, "invalid_field").await;
    assert_eq!(e["field"], "precincts[0].ballot_style", "several districts: each precinct names its own");
    jk["precincts"] = json!([
        { "code": "P1", "name": "a", "kind": "ordinary", "territory": "t", "ballot_style": "d1" },
        { "code": "R1", "name": "Kumtor", "kind": "remote", "territory": "t", "ballot_style": "d2" }
    ]);
    jk["revote_policy"] = json!("last_counts");
    jk["application_deadline_days"] = json!(10);
    let id = create_campaign(&admin, &jk).await;
    let c: Value = admin.get(&format!("/api/campaigns/{id}")).await.json().await.unwrap();
    assert_eq!(c["last_application_day"], "2023-03-29");
    assert_eq!(c["revote_policy"], "last_counts");
    assert_eq!(c["demo_mode"], false);
    for kind in ["president", "city_council", "referendum", "village_council"] {
        let mut body = pilot_campaign();
        body["kind"] = json!(kind);
        create_campaign(&admin, &body).await;
    }
    let list: Value = reqwest::get(app.url("/api/campaigns")).await.unwrap().json().await.unwrap();
    assert_eq!(list["campaigns"].as_array().unwrap().len(), 5);
}

async fn precincts_can_be_added_until_registration_ends(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let id = campaign_in_registration(&admin).await;
    let path = format!("/api/campaigns/{id}/precincts");
    let body =
        json!({ "precincts": [{ "code": "R1", "name": "Kumtor mine", "kind": "remote", "territory": "issyk-kul" }] });
    let c: Value = admin.post(&path, &body).await.json().await.unwrap();
    assert_eq!(c["precincts"].as_array().unwrap().len(), 4);
    assert_error(admin.post(&path, &body).await, 422, "invalid_field").await;
    let two = json!({
        "ballot_styles": [{ "code": "north", "name": "North" }],
        "precincts": [{ "code": "N1", "name": "n", "kind": "ordinary", "territory": "t" }]
    });
    let e = assert_error(admin.post(&path, &two).await, 422, "invalid_field").await;
    assert_eq!(e["field"], "precincts[0].ballot_style");
    assert_eq!(transition(&admin, &id, "start_key_ceremony").await.status(), 200);
    let more = json!({ "precincts": [{ "code": "R2", "name": "x", "kind": "remote", "territory": "t" }] });
    assert_error(admin.post(&path, &more).await, 409, "register_closed").await;
}

async fn demo_mode_is_a_stored_flag(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let mut body = pilot_campaign();
    body["demo_mode"] = json!(true);
    let id = create_campaign(&admin, &body).await;
    let c: Value = admin.get(&format!("/api/campaigns/{id}")).await.json().await.unwrap();
    assert_eq!(c["demo_mode"], true);
}

/// One manifest, one hash: installing the election package makes its manifest the campaign's;
/// afterwards the campaign's manifest changes only with the package (installed again), and the
/// hash set when it is frozen is the manifest hash the election context, and so every ballot, is
/// bound to (docs/protocol/08-ballot.md §Manifest hash).
async fn the_campaign_manifest_is_the_package_manifest(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let id = campaign_in_registration(&admin).await;
    assert_eq!(transition(&admin, &id, "start_key_ceremony").await.status(), 200);
    crate::ceremony::ready_to_freeze(&app, &admin, &id).await;
    let package: dobush_crypto::record::ElectionPackage =
        reqwest::get(app.url(&format!("/api/v1/campaigns/{id}/package"))).await.unwrap().json().await.unwrap();
    let c: Value = admin.get(&format!("/api/campaigns/{id}")).await.json().await.unwrap();
    assert_eq!(c["manifest"], serde_json::to_value(&package.manifest).unwrap(), "the package's manifest");
    // no second manifest beside the package's
    let other = json!({ "manifest": { "contests": [ { "id": "council", "candidates": ["X"] } ] } });
    assert_error(admin.put(&format!("/api/campaigns/{id}/manifest"), &other).await, 409, "manifest_in_package").await;
    let c: Value = admin.get(&format!("/api/campaigns/{id}")).await.json().await.unwrap();
    assert_eq!(c["manifest"], serde_json::to_value(&package.manifest).unwrap(), "unchanged");
    // installing the package again with another manifest changes the campaign's with it
    let mut manifest = package.manifest.clone();
    manifest.title = dobush_crypto::manifest::Localized::new([("ky", "Башка аталыш".to_owned())]);
    let r = admin.put(&format!("/api/campaigns/{id}/election-package"), &json!({ "manifest": manifest })).await;
    assert_eq!(r.status(), 200);
    let package: dobush_crypto::record::ElectionPackage = r.json().await.unwrap();
    let c: Value = admin.get(&format!("/api/campaigns/{id}")).await.json().await.unwrap();
    assert_eq!(c["manifest"], serde_json::to_value(&manifest).unwrap());
    // one hash: the one the ballots are bound to
    assert_eq!(transition(&admin, &id, "freeze_manifest").await.status(), 200);
    let c: Value = admin.get(&format!("/api/campaigns/{id}")).await.json().await.unwrap();
    assert_eq!(c["manifest_hash"], hex::encode(package.context().unwrap().manifest_hash()));
}

crate::backend_tests!(
    lifecycle_is_enforced_in_order,
    test_data_is_erased_before_registration,
    campaign_definitions_are_validated,
    demo_mode_is_a_stored_flag,
    precincts_can_be_added_until_registration_ends,
    the_campaign_manifest_is_the_package_manifest,
);
