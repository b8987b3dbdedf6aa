//! The `dobush-server` binary: settings from the environment, start-up, and graceful shutdown.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn temp_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("dobush-bin-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[tokio::test]
async fn the_binary_serves_from_env_settings_and_stops_gracefully_on_sigterm() {
    let dir = temp_dir();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dobush-server"))
        .current_dir(&dir)
        .env_remove("DOBUSH_CONFIG")
        .env_remove("RUST_LOG")
        .env("DOBUSH_DATABASE__URL", "sqlite://./data/dobush.sqlite3")
        .env("DOBUSH_SERVER__PORT", "0")
        .env("DOBUSH_SERVER__SHUTDOWN_TIMEOUT_SECS", "5")
        .env("DOBUSH_LOG__JSON", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let port = loop {
        let line = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())).expect("no 'listening' log line");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("not a JSON log line: {line}"));
        if v["fields"]["message"] == "dobush-server listening" {
            break v["fields"]["port"].as_u64().unwrap();
        }
    };
    assert!(dir.join("data").join("dobush.sqlite3").exists(), "the SQLite file is created under ./data");
    let r = reqwest::get(format!("http://127.0.0.1:{port}/health")).await.unwrap();
    assert_eq!(r.status(), 200);
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let start = Instant::now();
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "the server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "graceful shutdown exits 0, got {exit:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_misspelt_setting_stops_the_binary() {
    let dir = temp_dir();
    let out = Command::new(env!("CARGO_BIN_EXE_dobush-server"))
        .current_dir(&dir)
        .env_remove("DOBUSH_CONFIG")
        .env("DOBUSH_SERVER__PROT", "8080")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown field `prot`"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
