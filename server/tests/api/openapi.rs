//! docs/openapi.yaml lists only endpoints the server has, and the server has every listed one.

use crate::helpers::*;

fn documented() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.yaml")).unwrap();
    let mut out = Vec::new();
    let mut in_paths = false;
    let mut path = String::new();
    for line in text.lines() {
        if line == "paths:" {
            in_paths = true;
            continue;
        }
        if !in_paths {
            continue;
        }
        if let Some(p) = line.strip_prefix("  /") {
            path = format!("/{}", p.trim_end_matches(':'));
        } else if let Some(m) = line.strip_prefix("    ") {
            let m = m.trim_end_matches(':');
            if ["get", "post", "put", "delete"].contains(&m) {
                out.push((m.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

async fn every_documented_endpoint_exists(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let endpoints = documented();
    assert!(endpoints.len() >= 20, "{endpoints:?}");
    for (method, path) in endpoints {
        let concrete = path.replace("{id}", "1").replace("{pin}", ADMIN_PIN).replace("{role}", "observer");
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = admin
            .http
            .request(m, app.url(&concrete))
            .bearer_auth(&admin.token)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        if r.status() == 404 {
            let body: serde_json::Value = r.json().await.unwrap_or_default();
            let msg = body["message"].as_str().unwrap_or("");
            assert!(!msg.starts_with("no route for"), "{method} {path} is documented but not served");
        }
    }
}

crate::backend_tests!(every_documented_endpoint_exists);
