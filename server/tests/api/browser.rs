//! The browser voter app (`web/`, served by `routes::webapp`) in a real Chromium: this test starts
//! the server on PostgreSQL and the real OIDC provider, then runs `web/e2e/voter.mjs`
//! (playwright-core driving Debian's `/usr/bin/chromium`, headless), which applies for e-voting
//! in the browser, and — after this side has done the commission's steps and moved the clock to
//! voting day — restores the credential on a second device, votes, checks once, votes again,
//! casts and verifies the receipt, in Kyrgyz and Russian, saving screenshots under
//! `target/browser-screenshots/`. The credential is sealed under a PIN on each device, the
//! ballot and receipt pages show the election package's fingerprint (which this side computes
//! with the crypto crate and hands over), another voter's receipt is refused, a switched package
//! is refused, and both devices delete the credential once voting is closed (issue 18). Line
//! protocol: the script prints `phase NAME` and waits for `ok` or `ok VALUE`; `done` ends it.
//! With `CI=true` a missing Chromium fails the test; elsewhere it is reported and the test
//! returns.

use std::path::PathBuf;
use std::process::Stdio;

use dobush_crypto::ballot::{PlaintextBallot, PlaintextContest, encrypt_ballot};
use dobush_crypto::credential::Credential;
use dobush_crypto::record::{ElectionPackage, Receipt};
use rand::rngs::OsRng;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::ballots::{Schedule, install_package_and_open, manifest_with_options};
use crate::helpers::*;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Chromium's path and `web/`, with playwright-core installed; `None` (the test is not run) when
/// Chromium is missing outside CI.
fn browser_setup() -> Option<(String, PathBuf)> {
    let chromium = std::env::var("DOBUSH_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !std::path::Path::new(&chromium).exists() {
        let msg = format!("{chromium} is missing: install Debian's chromium (scripts/test.sh does)");
        assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "{msg}");
        eprintln!("NOT RUN: {msg}");
        return None;
    }
    let web = repo_root().join("web");
    if !web.join("node_modules").join("playwright-core").exists() {
        let status =
            std::process::Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&web).status();
        assert!(matches!(status, Ok(s) if s.success()), "`npm ci` in web/ failed");
    }
    Some((chromium, web))
}

/// The first-run demo in the browser (docs/server.md §Demo mode): the welcome page of a demo-mode server offers its
/// demo citizens; one click logs in without Tunduk and shows the cabinet; the public list of
/// campaigns shows the demo campaign (`web/e2e/demo.mjs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_login_in_chromium() {
    let Some((chromium, web)) = browser_setup() else { return };
    let app = spawn_app(Backend::Sqlite).await;
    let id = crate::demo::demo_campaign(&app, 3).await;
    let out = tokio::process::Command::new("node")
        .arg(web.join("e2e").join("demo.mjs"))
        .env("DOBUSH_URL", &app.address)
        .env("DOBUSH_CAMPAIGN", &id)
        .env("DOBUSH_CHROMIUM", &chromium)
        .env("DOBUSH_SCREENSHOTS", repo_root().join("target").join("browser-screenshots"))
        .kill_on_drop(true)
        .output()
        .await
        .expect("starting node web/e2e/demo.mjs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    // the session the browser got is the demo citizen's, confined to the demo campaign
    assert!(stdout.contains("logged in as 90000000000001"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_voter_app_in_chromium_on_postgres() {
    let Some((chromium, web)) = browser_setup() else { return };
    // `cookie_secure` as in production: Chromium drops the `SameSite=None` login-binding cookie
    // without `Secure` (and accepts `Secure` cookies from http://127.0.0.1, a secure context).
    let app = spawn_app_with(Backend::Postgres, |s| {
        s.server.post_login_redirect = "/#/cabinet".into();
        s.server.cookie_secure = true;
    })
    .await;
    let admin = app.admin().await;
    let id = campaign_in_registration(&admin).await;
    let shots = repo_root().join("target").join("browser-screenshots");

    let mut child = tokio::process::Command::new("node")
        .arg(web.join("e2e").join("voter.mjs"))
        .env("DOBUSH_URL", &app.address)
        .env("DOBUSH_CAMPAIGN", &id)
        .env("DOBUSH_PIN", VOTER1)
        .env("DOBUSH_PASSWORD", PROVIDER_PASSWORD)
        .env("DOBUSH_ACR", ACR_STRONG)
        .env("DOBUSH_CHROMIUM", &chromium)
        .env("DOBUSH_SCREENSHOTS", &shots)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("starting node web/e2e/voter.mjs");
    let mut to_script = child.stdin.take().unwrap();
    let mut from_script = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut package: Option<ElectionPackage> = None;
    // a second voter, played from here: their receipt is the one a malicious server would show
    let other = Credential::generate(&mut OsRng).unwrap();
    let mut receipt: Option<Receipt> = None;
    let mut done = false;
    while let Some(line) = tokio::time::timeout(std::time::Duration::from_secs(180), from_script.next_line())
        .await
        .expect("the browser script is silent for 3 minutes")
        .unwrap()
    {
        match line.split_once(' ').unwrap_or((line.as_str(), "")) {
            ("phase", "applied") => {
                // the credential the browser made is the voter's registered one
                let v = app.login(VOTER1).await;
                let cab: serde_json::Value = v.get(&format!("/api/campaigns/{id}/cabinet")).await.json().await.unwrap();
                assert_eq!(cab["e_voter"], true, "{cab}");
                let v2 = app.login(VOTER2).await;
                let r = v2
                    .put(
                        &format!("/api/campaigns/{id}/cabinet/application"),
                        &json!({ "credential": other.public().0.to_hex() }),
                    )
                    .await;
                assert_eq!(r.status(), 201);
                // the commission: key ceremony, package (30 candidates), list frozen, voting day
                let p = install_package_and_open(&app, &id, manifest_with_options(&id, 30), &Schedule::pilot()).await.0;
                // the fingerprint the browser must show, computed by the crypto crate
                to_script.write_all(format!("ok {}\n", p.fingerprint().unwrap()).as_bytes()).await.unwrap();
                package = Some(p);
            }
            ("phase", "voted") => {
                // the second voter casts; the browser is handed their (valid) receipt
                let ctx = package.as_ref().expect("phase applied came first").context().unwrap();
                let mut selections = vec![0u8; ctx.manifest().contests[0].selection_count()];
                selections[0] = 1;
                let plain = PlaintextBallot {
                    style: "main".into(),
                    contests: vec![PlaintextContest { contest_id: "council".into(), selections }],
                };
                let (ballot, _) = encrypt_ballot(&ctx, other.signing_key(), &plain, &mut OsRng).unwrap();
                let r = app.login(VOTER2).await.post(&format!("/api/campaigns/{id}/ballots"), &json!(ballot)).await;
                assert_eq!(r.status(), 201);
                let foreign: serde_json::Value = r.json().await.unwrap();
                to_script.write_all(format!("ok {foreign}\n").as_bytes()).await.unwrap();
            }
            ("phase", "checked") => {
                // the polls close: the devices must delete the credential when they see it
                app.clock.set(bishkek(2023, 4, 9, 20, 0, 0));
                let admin = app.admin().await;
                assert_eq!(transition(&admin, &id, "close_voting").await.status(), 200);
                to_script.write_all(b"ok\n").await.unwrap();
            }
            ("receipt", json) => receipt = Some(serde_json::from_str(json).expect("the receipt the browser printed")),
            ("done", _) => done = true,
            _ => panic!("unexpected line from the browser script: {line}"),
        }
    }
    let status = child.wait().await.unwrap();
    assert!(status.success() && done, "the browser script failed (its log is above): {status}");
    // the receipt the browser verified also verifies with the crypto crate, and its ballot is the
    // voter's one counted ballot; the checked ballot is on the board, never counted (the
    // intercepted cast never reached the server)
    let package = package.expect("phase applied was reached");
    let receipt = receipt.expect("a receipt");
    receipt.verify(&package).unwrap();
    let statuses: Vec<String> = {
        use diesel::prelude::*;
        use dobush_server::schema::ballots;
        let id = id.clone();
        app.with_db(move |c| {
            ballots::table
                .filter(ballots::campaign_id.eq(id))
                .filter(ballots::pin.eq(VOTER1))
                .order(ballots::id.asc())
                .select(ballots::status)
                .load(c)
                .unwrap()
        })
        .await
    };
    assert_eq!(statuses, vec!["challenged", "counted"]);
    println!("screenshots: {}", shots.display());
}
