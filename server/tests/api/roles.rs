use diesel::prelude::*;
use serde_json::{Value, json};

use crate::helpers::*;

const OBSERVER: &str = "10303197000003";
const KEY_HOLDER: &str = "10404197000004";
const TEC: &str = "10505197000005";

async fn each_role_is_refused_where_it_does_not_belong(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let id = campaign_in_registration(&admin).await;
    grant(&admin, OBSERVER, "observer", None).await;
    grant(&admin, KEY_HOLDER, "key_holder", None).await;
    grant(&admin, TEC, "tec_admin", Some("batken")).await;
    let observer = app.login(OBSERVER).await;
    let key_holder = app.login(KEY_HOLDER).await;
    let tec = app.login(TEC).await;
    let voter = app.login(VOTER1).await;
    let campaign = pilot_campaign();
    let import = format!("/api/campaigns/{id}/voters/import");
    let export = format!("/api/campaigns/{id}/evoters?precinct=P1");
    let transition_path = format!("/api/campaigns/{id}/transitions");
    let staff_body = json!({ "pin": "10606197000006", "role": "observer" });
    let mut refusals = 0;
    for (who, user) in [("observer", &observer), ("key_holder", &key_holder), ("tec_admin", &tec), ("voter", &voter)] {
        let mut expect_403 = |r: reqwest::Response, what: &str| {
            refusals += 1;
            let what = format!("{who} {what}");
            async move {
                let body = assert_error(r, 403, "forbidden_role").await;
                assert!(body["message"].as_str().unwrap().contains("requires the role"), "{what}: {body}");
            }
        };
        expect_403(user.post("/api/campaigns", &campaign).await, "creates a campaign").await;
        expect_403(
            user.post(&transition_path, &json!({ "action": "start_key_ceremony" })).await,
            "moves the lifecycle",
        )
        .await;
        expect_403(user.post("/api/staff", &staff_body).await, "grants a role").await;
        expect_403(user.get("/api/staff").await, "lists staff").await;
        if who != "tec_admin" {
            expect_403(user.post_raw(&import, "text/csv", REGISTER_CSV).await, "imports the register").await;
            expect_403(user.get(&export).await, "exports the e-voter list").await;
        }
        if who != "observer" {
            expect_403(user.get("/api/audit").await, "reads the audit log").await;
            expect_403(user.get("/api/alerts").await, "reads the alerts").await;
        }
        expect_403(user.post("/api/alerts/1/acknowledge", &json!({})).await, "acknowledges an alert").await;
    }
    // every refusal is an open alert and an audit entry
    assert_eq!(app.open_alerts().await, refusals);
    let alerts: Value = admin.get("/api/alerts").await.json().await.unwrap();
    assert_eq!(alerts["alerts"].as_array().unwrap().len() as i64, refusals);
    // newest first: the first refusal (the observer's) is listed last
    let oldest = &alerts["alerts"][refusals as usize - 1];
    assert_eq!(oldest["actor"], OBSERVER);
    assert_eq!(oldest["path"], "/api/campaigns");
    let log: Value = observer.get("/api/audit?limit=1000").await.json().await.unwrap();
    let refused = log["entries"].as_array().unwrap().iter().filter(|e| e["action"] == "access.refused").count() as i64;
    assert_eq!(refused, refusals);
    let metrics = reqwest::get(app.url("/metrics")).await.unwrap().text().await.unwrap();
    assert!(metrics.contains(&format!("\ndobush_open_alerts {refusals}\n")), "{metrics}");
    assert!(metrics.contains(&format!("\ndobush_access_refused_total {refusals}\n")), "{metrics}");
    // what each role may do
    assert_eq!(observer.get("/api/audit/verify").await.status(), 200);
    assert_eq!(observer.get("/api/alerts?status=all").await.status(), 200);
    assert_eq!(tec.get(&export).await.status(), 200);
    // the CEC acknowledges an alert; the gauge drops
    let first = alerts["alerts"][0]["id"].as_i64().unwrap();
    assert_eq!(admin.post(&format!("/api/alerts/{first}/acknowledge"), &json!({})).await.status(), 204);
    assert_error(admin.post(&format!("/api/alerts/{first}/acknowledge"), &json!({})).await, 404, "not_found").await;
    assert_eq!(app.open_alerts().await, refusals - 1);
    // 24 hours later the open ones are overdue (the regulation's reporting deadline)
    let m = reqwest::get(app.url("/metrics")).await.unwrap().text().await.unwrap();
    assert!(m.contains("\ndobush_overdue_alerts 0\n"), "{m}");
    app.clock.advance(chrono::Duration::hours(24));
    let m = reqwest::get(app.url("/metrics")).await.unwrap().text().await.unwrap();
    assert!(m.contains(&format!("\ndobush_overdue_alerts {}\n", refusals - 1)), "{m}");
    let admin = app.admin().await;
    let all: Value = admin.get("/api/alerts?status=all").await.json().await.unwrap();
    let all = all["alerts"].as_array().unwrap();
    assert_eq!(all.iter().filter(|a| a["overdue"] == true).count() as i64, refusals - 1);
    assert_eq!(all[0]["overdue"], false, "acknowledged in time");
}

async fn staff_roles_are_granted_and_revoked(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    grant(&admin, OBSERVER, "observer", None).await;
    assert_error(
        admin.post("/api/staff", &json!({ "pin": OBSERVER, "role": "observer" })).await,
        409,
        "already_granted",
    )
    .await;
    let e =
        assert_error(admin.post("/api/staff", &json!({ "pin": TEC, "role": "tec_admin" })).await, 422, "invalid_field")
            .await;
    assert_eq!(e["field"], "territory");
    let e = assert_error(admin.post("/api/staff", &json!({ "pin": TEC, "role": "king" })).await, 422, "invalid_field")
        .await;
    assert_eq!(e["field"], "role");
    let e = assert_error(
        admin.post("/api/staff", &json!({ "pin": "123", "role": "observer" })).await,
        422,
        "invalid_field",
    )
    .await;
    assert_eq!(e["field"], "pin");
    let observer = app.login(OBSERVER).await;
    assert_eq!(observer.get("/api/audit").await.status(), 200);
    assert_eq!(admin.delete(&format!("/api/staff/{OBSERVER}/observer")).await.status(), 204);
    // roles are read from the staff table on every request, so the revocation takes effect at once
    assert_error(observer.get("/api/audit").await, 403, "forbidden_role").await;
    assert_error(admin.delete(&format!("/api/staff/{ADMIN_PIN}/cec_admin")).await, 409, "self_revoke").await;
    let staff: Value = admin.get("/api/staff").await.json().await.unwrap();
    // the two CEC administrators appointed at startup (helpers::test_settings)
    let left: Vec<&str> = staff["staff"].as_array().unwrap().iter().map(|s| s["pin"].as_str().unwrap()).collect();
    assert_eq!(left, vec![ADMIN_PIN, SECOND_ADMIN_PIN]);
}

async fn the_audit_log_is_hash_chained_and_append_only(b: Backend) {
    use dobush_server::schema::audit_log;
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let id = campaign_in_registration(&admin).await;
    let v: Value = admin.get("/api/audit/verify").await.json().await.unwrap();
    assert_eq!(v["first_bad_seq"], Value::Null);
    let n = v["entries"].as_i64().unwrap();
    assert!(n >= 6, "{v}");
    let log: Value = admin.get("/api/audit?limit=1000").await.json().await.unwrap();
    let entries = log["entries"].as_array().unwrap();
    for w in entries.windows(2) {
        assert_eq!(w[1]["prev_hash"], w[0]["hash"]);
    }
    assert_eq!(entries.last().unwrap()["hash"], v["head"]);
    // the database refuses to rewrite or delete history
    let (upd, del) = app
        .with_db(|c| {
            let u = diesel::update(audit_log::table.filter(audit_log::seq.eq(2)))
                .set(audit_log::actor.eq("someone else"))
                .execute(c);
            let d = diesel::delete(audit_log::table.filter(audit_log::seq.eq(2))).execute(c);
            (u.is_err(), d.is_err())
        })
        .await;
    assert!(upd && del, "audit_log must be append-only");
    // paging
    let page: Value = admin.get("/api/audit?after_seq=2&limit=2").await.json().await.unwrap();
    assert_eq!(page["entries"][0]["seq"], 3);
    assert_eq!(page["entries"].as_array().unwrap().len(), 2);
    assert_error(admin.get("/api/audit?limit=0").await, 422, "invalid_field").await;
    // per campaign
    let mine: Value = admin.get(&format!("/api/audit?limit=1000&campaign_id={id}")).await.json().await.unwrap();
    let mine = mine["entries"].as_array().unwrap();
    assert!(!mine.is_empty() && mine.iter().all(|e| e["campaign_id"] == id.as_str()));
}

#[test]
fn a_rewritten_entry_breaks_the_chain() {
    use dobush_server::audit::{GENESIS, entry_hash};
    let h1 = entry_hash(GENESIS, 1, 10, "a", "x", None, "{}");
    let h2 = entry_hash(&h1, 2, 11, "a", "y", Some("c"), "{}");
    assert_ne!(h1, entry_hash(GENESIS, 1, 10, "b", "x", None, "{}"));
    assert_ne!(h2, entry_hash(&h1, 2, 11, "a", "y", None, "{}"));
    // field boundaries are length-prefixed: moving a character between fields changes the hash
    assert_ne!(entry_hash(GENESIS, 1, 10, "ab", "c", None, "{}"), entry_hash(GENESIS, 1, 10, "a", "bc", None, "{}"));
}

crate::backend_tests!(
    each_role_is_refused_where_it_does_not_belong,
    staff_roles_are_granted_and_revoked,
    the_audit_log_is_hash_chained_and_append_only,
);
