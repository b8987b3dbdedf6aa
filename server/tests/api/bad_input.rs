use serde_json::json;

use crate::helpers::*;

async fn malformed_bodies_get_4xx_naming_the_field(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    // syntax error
    let r = admin.post_raw("/api/campaigns", "application/json", "{\"name\": ").await;
    assert_error(r, 400, "malformed_request").await;
    // not UTF-8
    let r = admin.post_raw("/api/campaigns", "application/json", vec![0x7b, 0xff, 0xfe, 0x7d]).await;
    assert_error(r, 400, "malformed_request").await;
    // trailing garbage
    let r = admin.post_raw("/api/campaigns", "application/json", "{} {}").await;
    assert_error(r, 400, "malformed_request").await;
    // wrong type deep inside
    let mut body = pilot_campaign();
    body["voting_window"]["start"] = json!(8);
    let e = assert_error(admin.post("/api/campaigns", &body).await, 400, "malformed_request").await;
    assert_eq!(e["field"], "voting_window.start");
    // unknown field
    let mut body = pilot_campaign();
    body["precincts"][1]["colour"] = json!("red");
    let e = assert_error(admin.post("/api/campaigns", &body).await, 400, "malformed_request").await;
    assert_eq!(e["field"], "precincts[1].colour");
    assert!(e["message"].as_str().unwrap().contains("colour"), "{e}");
    // missing field
    let mut body = pilot_campaign();
    body.as_object_mut().unwrap().remove("voting_day");
    let e = assert_error(admin.post("/api/campaigns", &body).await, 400, "malformed_request").await;
    assert!(e["message"].as_str().unwrap().contains("voting_day"), "{e}");
    // media type
    let r = admin.post_raw("/api/campaigns", "text/plain", pilot_campaign().to_string()).await;
    assert_error(r, 415, "unsupported_media_type").await;
    // query strings
    assert_error(admin.get("/api/audit?limit=ten").await, 400, "malformed_request").await;
    assert_error(admin.get("/api/alerts?status=maybe").await, 422, "invalid_field").await;
    assert_error(admin.get("/api/alerts?colour=red").await, 400, "malformed_request").await;
    // path parameters
    assert_error(admin.post("/api/alerts/abc/acknowledge", &json!({})).await, 400, "malformed_request").await;
    // wrong method
    let r = admin.delete("/api/campaigns").await;
    assert!(r.status().is_client_error());
    // an unknown campaign
    assert_error(admin.get("/api/campaigns/nope").await, 404, "not_found").await;
    // form_post callback without state
    let r = http_client().post(app.url("/auth/callback")).form(&[("code", "x")]).send().await.unwrap();
    let e = assert_error(r, 400, "malformed_request").await;
    assert_eq!(e["field"], "state");
}

async fn bodies_over_the_limits_are_413(b: Backend) {
    let app = spawn_app_with(b, |s| {
        s.server.max_json_bytes = 2048;
        s.server.max_import_bytes = 4096;
    })
    .await;
    let admin = app.admin().await;
    let mut body = pilot_campaign();
    body["manifest"] = json!({ "padding": "x".repeat(3000) });
    assert_error(admin.post("/api/campaigns", &body).await, 413, "payload_too_large").await;
    let id = create_campaign(&admin, &pilot_campaign()).await;
    let mut csv = String::from("pin,full_name,birth_date,precinct\n");
    while csv.len() < 5000 {
        csv.push_str("21504199000012,Aibek Asanov,1990-04-15,P1\n");
    }
    let r = admin.post_raw(&format!("/api/campaigns/{id}/voters/import"), "text/csv", csv).await;
    assert_error(r, 413, "payload_too_large").await;
}

async fn rate_limits_answer_429(b: Backend) {
    let app = spawn_app_with(b, |s| {
        s.rate_limit.per_voter_per_minute = 3;
    })
    .await;
    let admin = app.admin().await;
    let id = campaign_in_registration(&admin).await;
    let voter = app.login(VOTER1).await;
    let path = format!("/api/campaigns/{id}/cabinet/application");
    for cred in &CREDS[..3] {
        let r = voter.put(&path, &json!({ "credential": cred })).await;
        assert!(r.status().is_success(), "{cred}");
    }
    let r = voter.put(&path, &json!({ "credential": CREDS[3] })).await;
    assert!(r.headers().contains_key("retry-after"));
    assert_error(r, 429, "rate_limited").await;
    // another voter is not affected
    let voter2 = app.login(VOTER2).await;
    assert_eq!(voter2.put(&path, &json!({ "credential": CREDS[4] })).await.status(), 201);
    // per address
    let app = spawn_app_with(b, |s| s.rate_limit.per_address_per_minute = 5).await;
    let http = http_client();
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(http.get(app.url("/api/campaigns")).send().await.unwrap().status().as_u16());
    }
    assert_eq!(statuses, vec![200, 200, 200, 200, 200, 429, 429]);
    let m = reqwest::get(app.url("/metrics")).await.unwrap().text().await.unwrap();
    assert!(m.contains("\ndobush_rate_limited_total 2\n"), "{m}");
}

crate::backend_tests!(
    malformed_bodies_get_4xx_naming_the_field,
    bodies_over_the_limits_are_413,
    rate_limits_answer_429
);
