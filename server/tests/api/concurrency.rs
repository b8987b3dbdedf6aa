//! Concurrent writers: no SQLITE_BUSY failures, no fork in the audit chain, one active credential.

use serde_json::{Value, json};

use crate::helpers::*;

async fn concurrent_refusals_keep_the_audit_chain_linear(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let id = campaign_in_registration(&admin).await;
    let voter = app.login(VOTER1).await;
    // 40 refused accesses at once, each appending to the audit log and opening an alert
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let v = voter.clone();
            tokio::spawn(async move { v.get("/api/audit").await.status().as_u16() })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 403);
    }
    assert_eq!(app.open_alerts().await, 40);
    let v: Value = admin.get("/api/audit/verify").await.json().await.unwrap();
    assert_eq!(v["first_bad_seq"], Value::Null, "{v}");
    let log: Value = admin.get("/api/audit?limit=1000").await.json().await.unwrap();
    let seqs: Vec<i64> = log["entries"].as_array().unwrap().iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    drop(id);
}

async fn concurrent_applications_of_one_voter_leave_one_active_credential(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let id = campaign_in_registration(&admin).await;
    let voter = app.login(VOTER1).await;
    let path = format!("/api/campaigns/{id}/cabinet/application");
    let tasks: Vec<_> = CREDS
        .iter()
        .map(|cred| {
            let (v, p, cred) = (voter.clone(), path.clone(), cred.to_string());
            tokio::spawn(async move { v.put(&p, &json!({ "credential": cred })).await.status().as_u16() })
        })
        .collect();
    for t in tasks {
        let s = t.await.unwrap();
        assert!(s == 200 || s == 201, "{s}");
    }
    let c: Value = voter.get(&format!("/api/campaigns/{id}/cabinet")).await.json().await.unwrap();
    let history = c["history"].as_array().unwrap();
    assert_eq!(history.len(), CREDS.len());
    assert_eq!(history.iter().filter(|h| h["status"] == "active").count(), 1);
    assert_eq!(c["e_voter"], true);
}

crate::backend_tests!(
    concurrent_refusals_keep_the_audit_chain_linear,
    concurrent_applications_of_one_voter_leave_one_active_credential,
);
