//! Demo mode (docs/server.md §Demo mode): demo login only for demo-mode campaigns and only when the configuration
//! allows it (each refusal audited and alerted), demo sessions confined to their campaign, the
//! demo opening (in-process 3-of-5 ceremony, window from now) and closing, and a tiny run of the
//! load generator against the server.

use diesel::prelude::*;
use dobush_crypto::credential::Credential;
use dobush_crypto::record::{ElectionPackage, Receipt};
use dobush_server::clock::Clock;
use serde_json::{Value, json};

use crate::helpers::*;

/// Alerts of one kind (every refusal through `refusal::refuse` opens one, with its audit entry).
async fn alerts(app: &TestApp, kind: &'static str) -> i64 {
    app.refusals(kind).await
}

/// A fresh demo-mode campaign with `voters` generated citizens (`9000000000001`, …).
pub(crate) async fn demo_campaign(app: &TestApp, voters: u32) -> String {
    let r = http_client()
        .post(app.url("/api/demo/campaigns"))
        .json(&json!({ "voters": voters, "options": 3 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["first_pin"], "90000000000001");
    v["id"].as_str().unwrap().to_string()
}

pub(crate) async fn demo_login(app: &TestApp, id: &str, pin: &str) -> reqwest::Response {
    http_client()
        .post(app.url(&format!("/api/campaigns/{id}/demo/login")))
        .json(&json!({ "pin": pin, "client": "api" }))
        .send()
        .await
        .unwrap()
}

pub(crate) async fn demo_user(app: &TestApp, id: &str, pin: &str) -> User {
    let r = demo_login(app, id, pin).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["campaign_id"], id);
    User {
        pin: pin.into(),
        token: v["token"].as_str().unwrap().into(),
        csrf: v["csrf_token"].as_str().unwrap().into(),
        http: http_client(),
        base: app.address.clone(),
        use_cookie: false,
    }
}

pub(crate) async fn post_anon(app: &TestApp, path: &str) -> reqwest::Response {
    http_client().post(app.url(path)).send().await.unwrap()
}

async fn demo_login_only_for_demo_campaigns(b: Backend) {
    let app = spawn_app(b).await;
    let id = demo_campaign(&app, 3).await;
    // the demo campaign says so publicly
    let info: Value = reqwest::get(app.url(&format!("/api/campaigns/{id}/demo"))).await.unwrap().json().await.unwrap();
    assert_eq!((info["demo_login"].as_bool(), info["citizens_total"].as_i64()), (Some(true), Some(3)));
    assert_eq!(info["citizens"][0]["pin"], "90000000000001");
    let campaign: Value = reqwest::get(app.url(&format!("/api/campaigns/{id}"))).await.unwrap().json().await.unwrap();
    assert_eq!(campaign["demo_mode"], true);
    // a demo citizen logs in without Tunduk and reaches the cabinet
    let voter = demo_user(&app, &id, "90000000000001").await;
    let me: Value = voter.get("/api/me").await.json().await.unwrap();
    assert_eq!(me["pin"], "90000000000001");
    let cab: Value = voter.get(&format!("/api/campaigns/{id}/cabinet")).await.json().await.unwrap();
    assert_eq!(cab["e_voter"], false);
    // a web demo login sets the session cookies
    let web = http_client();
    let r = web
        .post(app.url(&format!("/api/campaigns/{id}/demo/login")))
        .json(&json!({ "pin": "90000000000002" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.cookies().any(|c| c.name() == "dobush_session" && c.http_only()));
    assert!(r.json::<Value>().await.unwrap().get("token").is_none(), "no bearer token for the web client");
    // not a citizen of the demo campaign: refused and audited
    let before = alerts(&app, "demo_login").await;
    assert_error(demo_login(&app, &id, "90000000000009").await, 403, "not_on_register").await;
    assert_eq!(alerts(&app, "demo_login").await, before + 1);
    assert_error(demo_login(&app, &id, "12345").await, 422, "invalid_field").await;
    // a campaign created without demo mode: refused and audited, for its own voters too
    let admin = app.admin().await;
    let real = campaign_in_registration(&admin).await;
    let before = alerts(&app, "not_a_demo_campaign").await;
    assert_error(demo_login(&app, &real, VOTER1).await, 403, "not_a_demo_campaign").await;
    let r = reqwest::get(app.url(&format!("/api/campaigns/{real}/demo"))).await.unwrap();
    assert_error(r, 403, "not_a_demo_campaign").await;
    assert_eq!(alerts(&app, "not_a_demo_campaign").await, before + 2);
    assert_error(demo_login(&app, "no-such-campaign", VOTER1).await, 404, "not_found").await;
}

async fn demo_refused_when_the_configuration_disallows_it(b: Backend) {
    let app = spawn_app_with(b, |s| s.campaigns.allow_demo_mode = false).await;
    // a demo campaign in the database (as left by an earlier demo configuration)
    app.with_db(|c| dobush_server::demo::seed(c, 1_677_650_400).unwrap()).await;
    let id = dobush_server::demo::DEMO_CAMPAIGN;
    let before = alerts(&app, "demo_disabled").await;
    assert_error(demo_login(&app, id, "20101199000001").await, 403, "demo_disabled").await;
    assert_error(reqwest::get(app.url(&format!("/api/campaigns/{id}/demo"))).await.unwrap(), 403, "demo_disabled")
        .await;
    assert_error(post_anon(&app, &format!("/api/campaigns/{id}/demo/open")).await, 403, "demo_disabled").await;
    assert_error(post_anon(&app, &format!("/api/campaigns/{id}/demo/close")).await, 403, "demo_disabled").await;
    let r = http_client().post(app.url("/api/demo/campaigns")).json(&json!({ "voters": 2 })).send().await.unwrap();
    assert_error(r, 403, "demo_disabled").await;
    assert_eq!(alerts(&app, "demo_disabled").await, before + 5);
    // a demo session token (signed by this server) is void here
    let now = app.clock.now().timestamp();
    let (token, _) = app.state.sessions.issue_scoped("20101199000001", Some(id), now).unwrap();
    let r =
        http_client().get(app.url(&format!("/api/campaigns/{id}/cabinet"))).bearer_auth(&token).send().await.unwrap();
    assert_error(r, 403, "demo_disabled").await;
    assert_eq!(alerts(&app, "demo_session").await, 1);
}

async fn demo_sessions_are_confined_to_their_campaign(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let real = campaign_in_registration(&admin).await;
    let id = demo_campaign(&app, 2).await;
    // the CEC administrator's PIN, also a demo citizen: the demo session carries no staff role
    let cid = id.clone();
    app.with_db(move |c| {
        use dobush_server::schema::voters;
        diesel::insert_into(voters::table)
            .values((
                voters::campaign_id.eq(cid),
                voters::pin.eq(ADMIN_PIN),
                voters::full_name.eq("Admin as a demo citizen"),
                voters::birth_date.eq("1970-01-01"),
                voters::precinct_code.eq("7001"),
                voters::imported_at.eq(0i64),
            ))
            .execute(c)
            .unwrap()
    })
    .await;
    let demo_admin = demo_user(&app, &id, ADMIN_PIN).await;
    let before = alerts(&app, "role").await;
    assert_error(
        demo_admin.post(&format!("/api/campaigns/{id}/transitions"), &json!({ "action": "start_key_ceremony" })).await,
        403,
        "forbidden_role",
    )
    .await;
    assert_eq!(alerts(&app, "role").await, before + 1);
    // another campaign, or a route outside campaigns: refused and audited
    let voter = demo_user(&app, &id, "90000000000001").await;
    let before = alerts(&app, "demo_session").await;
    assert_error(voter.get(&format!("/api/campaigns/{real}/cabinet")).await, 403, "demo_session").await;
    assert_error(demo_admin.get("/api/audit").await, 403, "demo_session").await;
    assert_error(
        demo_admin
            .post(&format!("/api/campaigns/{real}/transitions"), &json!({ "action": "start_key_ceremony" }))
            .await,
        403,
        "demo_session",
    )
    .await;
    assert_eq!(alerts(&app, "demo_session").await, before + 3);
    // the real campaign did not move
    let c: Value = reqwest::get(app.url(&format!("/api/campaigns/{real}"))).await.unwrap().json().await.unwrap();
    assert_eq!(c["state"], "registration");
}

async fn demo_opens_now_and_closes(b: Backend) {
    let app = spawn_app(b).await;
    let id = demo_campaign(&app, 2).await;
    let (voter, cred) = demo_applicant(&app, &id, "90000000000001").await;
    // demo control refuses a campaign not created in demo mode, and audits it
    let admin = app.admin().await;
    let real = campaign_in_registration(&admin).await;
    let before = alerts(&app, "not_a_demo_campaign").await;
    assert_error(post_anon(&app, &format!("/api/campaigns/{real}/demo/open")).await, 403, "not_a_demo_campaign").await;
    assert_error(post_anon(&app, &format!("/api/campaigns/{real}/demo/close")).await, 403, "not_a_demo_campaign").await;
    assert_eq!(alerts(&app, "not_a_demo_campaign").await, before + 2);
    let c: Value = reqwest::get(app.url(&format!("/api/campaigns/{real}"))).await.unwrap().json().await.unwrap();
    assert_eq!(c["state"], "registration");
    assert_error(post_anon(&app, &format!("/api/campaigns/{id}/demo/open?hours=0")).await, 422, "invalid_field").await;
    assert_error(post_anon(&app, &format!("/api/campaigns/{id}/demo/close")).await, 409, "invalid_transition").await;
    // open now: the window starts at the server's clock (which nobody moved)
    let now = app.clock.now();
    let r = post_anon(&app, &format!("/api/campaigns/{id}/demo/open?hours=2")).await;
    assert_eq!(r.status(), 200);
    let opened: Value = r.json().await.unwrap();
    assert_eq!((opened["e_voters"].as_i64(), opened["opens_at"].as_i64()), (Some(1), Some(now.timestamp())));
    assert_eq!(opened["closes_at"].as_i64(), Some(now.timestamp() + 7200));
    let c: Value = reqwest::get(app.url(&format!("/api/campaigns/{id}"))).await.unwrap().json().await.unwrap();
    assert_eq!((c["state"].as_str(), c["voting_day"].as_str()), (Some("voting_open"), Some("2023-03-01")));
    assert!(c["manifest_hash"].is_string());
    assert_error(post_anon(&app, &format!("/api/campaigns/{id}/demo/open")).await, 409, "invalid_state").await;
    // applications are over; the package holds five demo key-holders, 3 of 5
    let late = demo_user(&app, &id, "90000000000002").await;
    assert_error(
        late.put(&format!("/api/campaigns/{id}/cabinet/application"), &json!({ "credential": CREDS[0] })).await,
        409,
        "applications_closed",
    )
    .await;
    let package: ElectionPackage =
        reqwest::get(app.url(&format!("/api/v1/campaigns/{id}/package"))).await.unwrap().json().await.unwrap();
    assert_eq!((package.key_holders.len(), package.threshold), (5, 3));
    let cid = id.clone();
    let holders = app
        .with_db(move |c| {
            use dobush_server::schema::demo_key_holders as k;
            k::table.filter(k::campaign_id.eq(cid)).count().get_result::<i64>(c).unwrap()
        })
        .await;
    assert_eq!(holders, 5);
    // a ballot made with the package casts and its receipt verifies
    let receipt = demo_ballot(&id, &voter, &cred, &package, 1, false).await;
    receipt.verify(&package).unwrap();
    // close now: the window ends at the server's clock and the final head is signed
    let r = post_anon(&app, &format!("/api/campaigns/{id}/demo/close")).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let closed: Value = r.json().await.unwrap();
    assert_eq!(closed["state"], "protocol_signed", "{closed}");
    assert_eq!(closed["decrypting_key_holders"], json!([1, 2, 3]));
    let head: Value =
        reqwest::get(app.url(&format!("/api/v1/campaigns/{id}/board/head"))).await.unwrap().json().await.unwrap();
    let size = head["size"].as_u64().unwrap();
    let text = reqwest::get(app.url(&format!("/api/v1/campaigns/{id}/board/entries?start={}&end={size}", size - 1)))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("\"type\":\"closed\""), "{text}");
    demo_close_went_all_the_way(&app, &id, &closed).await;
}

/// After `…/demo/close`: the stored demo shares were decrypted through the server's share path
/// (each share verified, combined at t), the protocol saved and signed by the demo commission,
/// the campaign `protocol_signed`, and the record complete and accepted by the independent
/// verifier (and refused once altered).
async fn demo_close_went_all_the_way(app: &TestApp, id: &str, closed: &Value) {
    let v1 = |p: &str| app.url(&format!("/api/v1/campaigns/{id}/{p}"));
    let c: Value = reqwest::get(app.url(&format!("/api/campaigns/{id}"))).await.unwrap().json().await.unwrap();
    assert_eq!(c["state"], "protocol_signed");
    // one ballot for the second of three candidates
    let results: Value = reqwest::get(v1("results")).await.unwrap().json().await.unwrap();
    assert_eq!(results["results"][0]["counts"], json!([0, 1, 0]), "{results}");
    // three key-holders' shares of each of the three totals, all valid, submitted by their PINs
    let cid = id.to_string();
    let shares: Vec<(i64, bool, String)> = app
        .with_db(move |c| {
            use dobush_server::schema::decryption_shares as d;
            d::table
                .filter(d::campaign_id.eq(cid))
                .order(d::seq.asc())
                .select((d::key_holder, d::valid, d::submitted_by))
                .load(c)
                .unwrap()
        })
        .await;
    assert_eq!(shares.len(), 9, "{shares:?}");
    assert!(
        shares.iter().all(|(l, valid, by)| *valid && *by == dobush_server::demo::demo_key_holder_pin(*l as u32)),
        "{shares:?}"
    );
    // the protocol: three registered demo members, all signed, signatures verify
    let p: Value = reqwest::get(v1("protocol")).await.unwrap().json().await.unwrap();
    let protocol: dobush_crypto::election_protocol::ElectionProtocol =
        serde_json::from_value(p["protocol"].clone()).unwrap();
    assert_eq!(protocol.signatures.len(), 3);
    protocol.verify_signatures().unwrap();
    assert_eq!(p["digest"], closed["protocol_digest"]);
    let members: Value = reqwest::get(v1("commission-members")).await.unwrap().json().await.unwrap();
    assert_eq!(members["members"].as_array().unwrap().len(), 3);
    // the record is complete and verifies
    let (record, board) = complete_record(app, id).await;
    let opts = dobush_verifier::record::Options::default();
    let report = dobush_verifier::record::verify(&record, board.as_bytes(), &opts);
    assert!(report.passed(), "{}", report.text());
    // … and an altered result does not
    let mut altered: Value = serde_json::from_str(&record).unwrap();
    altered["results"][0]["counts"] = json!([1, 0, 0]);
    let report = dobush_verifier::record::verify(&altered.to_string(), board.as_bytes(), &opts);
    assert!(!report.passed(), "an altered result must fail: {}", report.text());
    // closing again changes nothing
    let r = post_anon(app, &format!("/api/campaigns/{id}/demo/close")).await;
    assert_eq!(r.status(), 200);
    let again: Value = r.json().await.unwrap();
    assert_eq!((&again["state"], &again["protocol_digest"]), (&closed["state"], &closed["protocol_digest"]));
    assert_eq!(again["decrypting_key_holders"], json!([]));
}

/// A demo citizen of campaign `id` logs in and applies with a fresh credential.
pub(crate) async fn demo_applicant(app: &TestApp, id: &str, pin: &str) -> (User, Credential) {
    let voter = demo_user(app, id, pin).await;
    let cred = Credential::generate(&mut rand::rngs::OsRng).unwrap();
    let r = voter
        .put(&format!("/api/campaigns/{id}/cabinet/application"), &json!({ "credential": cred.public().0.to_hex() }))
        .await;
    assert_eq!(r.status(), 201);
    (voter, cred)
}

/// `voter` casts (or, with `challenge`, challenges) a ballot for option `option` of the demo
/// campaign's contest, made with `package`; the receipt the server answers.
pub(crate) async fn demo_ballot(
    id: &str,
    voter: &User,
    cred: &Credential,
    package: &ElectionPackage,
    option: usize,
    challenge: bool,
) -> Receipt {
    let ctx = package.context().unwrap();
    let n = ctx.manifest().contests[0].selection_count();
    let mut selections = vec![0u8; n];
    selections[option] = 1;
    let plain = dobush_crypto::ballot::PlaintextBallot {
        style: ctx.manifest().ballot_styles[0].id.clone(),
        contests: vec![dobush_crypto::ballot::PlaintextContest { contest_id: "council".into(), selections }],
    };
    let (ballot, secrets) =
        dobush_crypto::ballot::encrypt_ballot(&ctx, cred.signing_key(), &plain, &mut rand::rngs::OsRng).unwrap();
    let r = if challenge {
        let body = json!({ "ballot": ballot, "opening": secrets.open() });
        voter.post(&format!("/api/campaigns/{id}/challenges"), &body).await
    } else {
        voter.post(&format!("/api/campaigns/{id}/ballots"), &serde_json::to_value(&ballot).unwrap()).await
    };
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    serde_json::from_value(if challenge { v["receipt"].clone() } else { v }).unwrap()
}

/// The complete record of campaign `id` as the server serves it: `record.json` and `board.jsonl`.
pub(crate) async fn complete_record(app: &TestApp, id: &str) -> (String, String) {
    let v1 = |p: &str| app.url(&format!("/api/v1/campaigns/{id}/{p}"));
    let r = reqwest::get(v1("record")).await.unwrap();
    assert_eq!(r.headers()["dobush-record-status"], "complete");
    let record = r.text().await.unwrap();
    let board = reqwest::get(v1("record/board.jsonl")).await.unwrap().text().await.unwrap();
    (record, board)
}

async fn a_tiny_load_run(b: Backend) {
    let app = spawn_app(b).await;
    let cfg = dobush_tests::load::LoadConfig {
        base: app.address.clone(),
        voters: 20,
        options: 5,
        concurrency: 8,
        setup_concurrency: 8,
    };
    let s = dobush_tests::load::run(&cfg).await.unwrap();
    assert_eq!((s.receipts, s.errors), (20, 0), "{s:?}");
    let c = &s.check;
    assert!(c.ok, "{c:?}");
    assert_eq!((c.receipts_verified, c.ballots_on_board, c.receipted_missing, c.unexpected_on_board), (20, 20, 0, 0));
    // the check is not blind: a ballot on the board whose cast was answered with a refusal is
    // caught, and so is a receipt altered by a hostile server
    let http = dobush_tests::load::client().unwrap();
    let p =
        dobush_tests::load::prepare(&http, &dobush_tests::load::LoadConfig { voters: 2, ..cfg.clone() }).await.unwrap();
    let (outcomes, _) = dobush_tests::load::cast_all(&http, &app.address, &p, 2).await;
    assert!(dobush_tests::load::check(&http, &app.address, &p, &outcomes).await.unwrap().ok);
    let mut refused = outcomes.clone();
    refused[1].receipt = None;
    refused[1].status = Some(409);
    refused[1].error = Some("board_busy".into());
    let c = dobush_tests::load::check(&http, &app.address, &p, &refused).await.unwrap();
    assert_eq!((c.unexpected_on_board, c.totals_match, c.ok), (1, false, false));
    let mut altered = outcomes.clone();
    altered[0].receipt.as_mut().unwrap().index += 1;
    let c = dobush_tests::load::check(&http, &app.address, &p, &altered).await.unwrap();
    assert_eq!((c.receipts_invalid, c.ok), (1, false));
}

crate::backend_tests!(
    demo_login_only_for_demo_campaigns,
    demo_refused_when_the_configuration_disallows_it,
    demo_sessions_are_confined_to_their_campaign,
    demo_opens_now_and_closes,
    a_tiny_load_run,
);
