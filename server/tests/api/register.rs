use serde_json::{Value, json};

use crate::helpers::*;

const MIXED_CSV: &str = "\u{feff}pin,full_name,birth_date,precinct\n\
21504199000012,Aibek Asanov,1990-04-15,P1\n\
2150419900001X,Bad Pin,1990-04-15,P1\n\
11203198500034,Aigul Bekova,2005-04-10,P1\n\
20101197000056,Nurlan Osmonov,1970-01-01,P9\n\
21504199000012,Aibek Again,1990-04-15,P1\n\
20202199000078,Too,Many,Fields,P1\n\
20303199000089,Kanykei Sadykova,1990-13-01,E1\n\
20404199000090,Ok Voter,2005-04-09,P2\n";

async fn csv_import_is_idempotent_with_a_report(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let id = create_campaign(&admin, &pilot_campaign()).await;
    let r = import_csv(&admin, &id, MIXED_CSV).await;
    assert_eq!((r["inserted"].as_u64(), r["rejected"].as_u64()), (Some(2), Some(6)), "{r}");
    let reasons: Vec<(u64, String)> = r["rejections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["row"].as_u64().unwrap(),
                x["reasons"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect::<Vec<_>>().join("; "),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        vec![
            (2, "pin: must be exactly 14 digits".to_string()),
            (3, "birth_date: the voter is not 18 on voting day".to_string()),
            (4, "precinct: no precinct P9 in this campaign".to_string()),
            (5, "pin: duplicate of row 1 in this file".to_string()),
            (6, "expected 4 fields, found 5".to_string()),
            (7, "birth_date: must be a date YYYY-MM-DD".to_string()),
        ]
    );
    // the same file again changes nothing and reports the same rejections
    let again = import_csv(&admin, &id, MIXED_CSV).await;
    assert_eq!(
        (again["inserted"].as_u64(), again["unchanged"].as_u64(), again["rejected"].as_u64()),
        (Some(0), Some(2), Some(6))
    );
    assert_eq!(again["rejections"], r["rejections"]);
    // a corrected name is an update
    let fix = "pin,full_name,birth_date,precinct\n21504199000012,Aibek Asanovich,1990-04-15,P1\n";
    let u = import_csv(&admin, &id, fix).await;
    assert_eq!((u["updated"].as_u64(), u["inserted"].as_u64()), (Some(1), Some(0)));
    // a header without the needed columns is refused as a whole
    let e = assert_error(
        admin.post_raw(&format!("/api/campaigns/{id}/voters/import"), "text/csv", "a,b\n1,2\n").await,
        400,
        "malformed_request",
    )
    .await;
    assert_eq!(e["field"], "header");
}

async fn json_import_reports_per_row(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let id = create_campaign(&admin, &pilot_campaign()).await;
    let body = json!([
        { "pin": VOTER1, "full_name": "Aibek Asanov", "birth_date": "1990-04-15", "precinct": "P1" },
        { "pin": VOTER2, "full_name": "Aigul Bekova", "birth_date": "1985-03-12" },
        { "pin": 12345678901234u64, "full_name": "N", "birth_date": "1985-03-12", "precinct": "P1" },
        { "pin": VOTER3, "full_name": "X", "birth_date": "1985-03-12", "precinct": "P1", "extra": 1 },
        "not an object"
    ]);
    let r = admin.post(&format!("/api/campaigns/{id}/voters/import"), &body).await;
    assert_eq!(r.status(), 200);
    let r: Value = r.json().await.unwrap();
    assert_eq!(r["inserted"], 1);
    let rej = r["rejections"].as_array().unwrap();
    assert_eq!(rej.len(), 4);
    assert_eq!(rej[0]["reasons"][0], "precinct: missing");
    assert_eq!(rej[1]["reasons"][0], "pin: must be a string");
    assert_eq!(rej[2]["reasons"][0], "extra: unknown field");
    assert_eq!(rej[3]["reasons"][0], "must be an object");
    // not an array at all
    let e = assert_error(
        admin.post(&format!("/api/campaigns/{id}/voters/import"), &json!({ "pin": 1 })).await,
        400,
        "malformed_request",
    )
    .await;
    assert!(e["message"].as_str().unwrap().contains("sequence"), "{e}");
    // another media type
    assert_error(
        admin.post_raw(&format!("/api/campaigns/{id}/voters/import"), "application/xml", "<x/>").await,
        415,
        "unsupported_media_type",
    )
    .await;
}

async fn register_is_closed_after_registration(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let id = campaign_in_registration(&admin).await;
    assert_eq!(transition(&admin, &id, "start_key_ceremony").await.status(), 200);
    let r = admin.post_raw(&format!("/api/campaigns/{id}/voters/import"), "text/csv", REGISTER_CSV).await;
    assert_error(r, 409, "register_closed").await;
}

async fn tec_admin_is_limited_to_their_territory(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let id = create_campaign(&admin, &pilot_campaign()).await;
    let tec_pin = "10202197500002";
    grant(&admin, tec_pin, "tec_admin", Some("batken")).await;
    let tec = app.login(tec_pin).await;
    let r = import_csv(&tec, &id, REGISTER_CSV).await;
    assert_eq!(r["inserted"], 2);
    assert_eq!(r["rejections"][0]["reasons"][0], "precinct: P2 is outside your territory");
    assert_eq!(tec.get(&format!("/api/campaigns/{id}/evoters?precinct=P1")).await.status(), 200);
    let alerts = app.open_alerts().await;
    assert_error(tec.get(&format!("/api/campaigns/{id}/evoters?precinct=P2")).await, 403, "outside_territory").await;
    assert_eq!(app.open_alerts().await, alerts + 1);
}

/// A register of `n` valid rows in precinct P1.
fn big_register(n: usize) -> String {
    let mut csv = String::from("pin,full_name,birth_date,precinct\n");
    for i in 0..n {
        csv.push_str(&format!("2{:013},Voter Number {i},1980-01-01,P1\n", i));
    }
    csv
}

async fn a_large_register_imports_and_reimports(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let id = create_campaign(&admin, &pilot_campaign()).await;
    let n: usize = std::env::var("DOBUSH_TEST_REGISTER_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(3000);
    let csv = big_register(n);
    let t = std::time::Instant::now();
    let r = import_csv(&admin, &id, &csv).await;
    eprintln!("{b:?}: imported {n} rows in {:?}", t.elapsed());
    assert_eq!(r["inserted"].as_u64(), Some(n as u64));
    let t = std::time::Instant::now();
    let r = import_csv(&admin, &id, &csv).await;
    eprintln!("{b:?}: re-imported {n} rows in {:?}", t.elapsed());
    assert_eq!((r["unchanged"].as_u64(), r["inserted"].as_u64()), (Some(n as u64), Some(0)));
}

crate::backend_tests!(
    csv_import_is_idempotent_with_a_report,
    json_import_reports_per_row,
    register_is_closed_after_registration,
    tec_admin_is_limited_to_their_territory,
    a_large_register_imports_and_reimports,
);
