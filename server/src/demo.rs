//! `dobush-server demo`: the server on SQLite under `./data` with a seeded demo campaign like
//! the 2023 pilot (a village council in Batken district, seven candidates, "against all", an
//! electronic precinct and a register of demo citizens), flagged `demo_mode` in the database.
//!
//! The campaign is created in the `registration` state with voting day 20 days ahead, so the
//! voter cabinet accepts applications. Issue 7 continues this (demo login, the in-process key
//! ceremony of five key-holders, closing and decryption, the printed verifier command).

use std::sync::Arc;

use chrono::{Duration, NaiveTime, Utc};
use diesel::prelude::*;
use dobush_crypto::manifest::{BallotStyle, Contest, ContestOption, Localized, Manifest};

use crate::audit;
use crate::clock::SystemClock;
use crate::configuration::get_configuration;
use crate::domain::campaign::bishkek_instant;
use crate::error::ApiError;
use crate::schema::{ballot_styles, campaigns, precincts, voters};
use crate::startup::Application;
use crate::telemetry;

/// The demo campaign's id.
pub const DEMO_CAMPAIGN: &str = "demo-samarkandek";

fn option(id: &str, ky: &str, ru: &str) -> ContestOption {
    ContestOption {
        id: id.into(),
        name: Localized::new([("ky", ky.to_owned()), ("ru", ru.to_owned())]),
        details: Localized::default(),
    }
}

/// The pilot-like manifest.
pub fn demo_manifest() -> Manifest {
    let names = [
        ("Асанов Бакыт", "Асанов Бакыт"),
        ("Бакирова Гүлзат", "Бакирова Гульзат"),
        ("Жумабеков Талант", "Жумабеков Талант"),
        ("Исаков Нурлан", "Исаков Нурлан"),
        ("Калыкова Айгүл", "Калыкова Айгуль"),
        ("Маматов Руслан", "Маматов Руслан"),
        ("Токтосунова Жылдыз", "Токтосунова Жылдыз"),
    ];
    Manifest {
        campaign_id: DEMO_CAMPAIGN.into(),
        title: Localized::new([
            ("ky", "Самаркандек айылдык кеңешинин шайлоосу (демо)".to_owned()),
            ("ru", "Выборы в Самаркандекский айылный кенеш (демо)".to_owned()),
        ]),
        contests: vec![Contest {
            id: "council".into(),
            title: Localized::new([("ky", "Айылдык кеңеш".to_owned()), ("ru", "Айылный кенеш".to_owned())]),
            options: names.iter().enumerate().map(|(i, (ky, ru))| option(&format!("c{}", i + 1), ky, ru)).collect(),
            min_marks: 1,
            max_marks: 1,
            against_all: true,
            blank_allowed: true,
        }],
        ballot_styles: vec![BallotStyle { id: "samarkandek".into(), contests: vec!["council".into()] }],
    }
}

/// Creates the demo campaign unless it exists; returns whether it was created.
fn seed(c: &mut crate::db::AnyConnection, now: i64) -> Result<bool, ApiError> {
    let exists: i64 = campaigns::table.filter(campaigns::id.eq(DEMO_CAMPAIGN)).count().get_result(c)?;
    if exists > 0 {
        return Ok(false);
    }
    let today = (Utc::now() + Duration::hours(6)).date_naive();
    let voting_day = today + Duration::days(20);
    let last_day = voting_day - Duration::days(15);
    let (start, end) = (NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default(), NaiveTime::from_hms_opt(20, 0, 0).unwrap_or_default());
    let opens = bishkek_instant(voting_day, start).map(|d| d.timestamp()).unwrap_or(now);
    let closes = bishkek_instant(voting_day, end).map(|d| d.timestamp()).unwrap_or(now);
    let manifest = serde_json::to_string(&demo_manifest()).map_err(|e| ApiError::Unexpected(e.into()))?;
    diesel::insert_into(campaigns::table)
        .values((
            campaigns::id.eq(DEMO_CAMPAIGN),
            campaigns::name.eq("Самаркандек айылдык кеңеши — демо"),
            campaigns::kind.eq("village_council"),
            campaigns::state.eq("registration"),
            campaigns::voting_day.eq(voting_day.format("%Y-%m-%d").to_string()),
            campaigns::window_start.eq("08:00"),
            campaigns::window_end.eq("20:00"),
            campaigns::opens_at.eq(opens),
            campaigns::closes_at.eq(closes),
            campaigns::last_application_day.eq(last_day.format("%Y-%m-%d").to_string()),
            campaigns::demo_mode.eq(true),
            campaigns::revote_policy.eq("last_counts"),
            campaigns::manifest.eq(manifest),
            campaigns::manifest_hash.eq(None::<String>),
            campaigns::election_public_key.eq(None::<String>),
            campaigns::created_at.eq(now),
            campaigns::updated_at.eq(now),
        ))
        .execute(c)?;
    diesel::insert_into(ballot_styles::table)
        .values((ballot_styles::campaign_id.eq(DEMO_CAMPAIGN), ballot_styles::code.eq("samarkandek"), ballot_styles::name.eq("Самаркандек")))
        .execute(c)?;
    diesel::insert_into(precincts::table)
        .values((
            precincts::campaign_id.eq(DEMO_CAMPAIGN),
            precincts::code.eq("7001"),
            precincts::name.eq("Электрондук шайлоо участогу №7001"),
            precincts::kind.eq("electronic"),
            precincts::ballot_style.eq("samarkandek"),
            precincts::territory.eq("batken"),
        ))
        .execute(c)?;
    for i in 1..=12u32 {
        diesel::insert_into(voters::table)
            .values((
                voters::campaign_id.eq(DEMO_CAMPAIGN),
                voters::pin.eq(format!("2010119900{i:04}")),
                voters::full_name.eq(format!("Демо Шайлоочу {i}")),
                voters::birth_date.eq("1990-01-01"),
                voters::precinct_code.eq("7001"),
                voters::imported_at.eq(now),
            ))
            .execute(c)?;
    }
    audit::append(c, now, "demo", "demo.seed", Some(DEMO_CAMPAIGN), &serde_json::json!({"voters": 12}))?;
    Ok(true)
}

/// Runs the demo server until SIGINT/SIGTERM.
pub async fn run() -> anyhow::Result<()> {
    let mut settings = get_configuration()?;
    if std::env::var_os("DOBUSH_DATABASE__URL").is_none() {
        settings.database.url = "sqlite://./data/demo.sqlite3".into();
    }
    settings.campaigns.allow_demo_mode = true;
    std::fs::create_dir_all("data")?;
    telemetry::init(&settings.log);
    let host = settings.server.host.clone();
    let app = Application::build(settings, Arc::new(SystemClock)).await?;
    let port = app.port();
    let now = Utc::now().timestamp();
    let created = app.state().db.write(move |c| seed(c, now)).await.map_err(|e| anyhow::anyhow!("seeding the demo campaign: {e}"))?;
    let base = format!("http://{host}:{port}");
    println!("Dobush demo {} on {base} (SQLite under ./data)", if created { "seeded" } else { "resumed" });
    println!("  health:          {base}/health");
    println!("  campaigns:       {base}/api/campaigns");
    println!("  demo campaign:   {base}/api/campaigns/{DEMO_CAMPAIGN}");
    println!("  board (public):  {base}/api/v1/campaigns/{DEMO_CAMPAIGN}/board/head");
    println!("  metrics:         {base}/metrics");
    println!("Stop with Ctrl-C.");
    app.run_until_stopped().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_campaign_is_seeded_once_and_valid() {
        let dir = std::env::temp_dir().join(format!("dobush-demo-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = crate::db::Db::connect(&format!("sqlite://{}/d.sqlite3", dir.display()), 2, std::time::Duration::from_secs(5)).unwrap();
        db.migrate().unwrap();
        let mut c = db.get().unwrap();
        assert!(crate::db::write_transaction(&mut c, |c| seed(c, 1)).unwrap());
        assert!(!crate::db::write_transaction(&mut c, |c| seed(c, 2)).unwrap(), "idempotent");
        let (demo, manifest): (bool, String) = campaigns::table
            .filter(campaigns::id.eq(DEMO_CAMPAIGN))
            .select((campaigns::demo_mode, campaigns::manifest))
            .first(&mut *c)
            .unwrap();
        assert!(demo, "flagged demo_mode in the database");
        let m: Manifest = serde_json::from_str(&manifest).unwrap();
        m.validate().unwrap();
        assert_eq!(m.contests[0].options.len(), 7);
        let n: i64 = voters::table.filter(voters::campaign_id.eq(DEMO_CAMPAIGN)).count().get_result(&mut *c).unwrap();
        assert_eq!(n, 12);
        std::fs::remove_dir_all(dir).ok();
    }
}
