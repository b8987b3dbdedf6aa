//! The `dobush-server` binary: settings from the environment, start-up, and graceful shutdown.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn temp_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("dobush-bin-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A running `dobush-server` binary; killed (SIGKILL) if still running when dropped.
pub struct Binary {
    pub child: Child,
    pub port: u16,
}

impl Binary {
    /// Starts the binary in `dir` with JSON logs, port 0 and `env` on top, and waits for its
    /// "listening" log line.
    pub fn start(dir: &Path, env: &[(&str, &str)]) -> Self {
        Self::spawn(Command::new(env!("CARGO_BIN_EXE_dobush-server")), dir, env)
    }

    /// [`Binary::start`] under `prlimit` with `limits` (e.g. `--nofile=64:64`).
    pub fn start_limited(dir: &Path, env: &[(&str, &str)], limits: &str) -> Self {
        let mut cmd = Command::new("prlimit");
        cmd.args([limits, env!("CARGO_BIN_EXE_dobush-server")]);
        Self::spawn(cmd, dir, env)
    }

    fn spawn(mut cmd: Command, dir: &Path, env: &[(&str, &str)]) -> Self {
        cmd.current_dir(dir)
            .env_remove("DOBUSH_CONFIG")
            .env_remove("RUST_LOG")
            .env("DOBUSH_SERVER__PORT", "0")
            .env("DOBUSH_LOG__JSON", "true")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
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
            let line =
                rx.recv_timeout(deadline.saturating_duration_since(Instant::now())).expect("no 'listening' log line");
            let v: serde_json::Value =
                serde_json::from_str(&line).unwrap_or_else(|_| panic!("not a JSON log line: {line}"));
            if v["fields"]["message"] == "dobush-server listening" {
                break u16::try_from(v["fields"]["port"].as_u64().unwrap()).unwrap();
            }
        };
        // keep draining the log so that the server never blocks on a full pipe
        std::thread::spawn(move || while rx.recv().is_ok() {});
        Self { child, port }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Sends `signal` (`-KILL`, `-TERM`) to the process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill").args([signal, &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    /// Waits up to `limit` for the process to exit.
    pub fn wait(&mut self, limit: Duration) -> std::process::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(start.elapsed() < limit, "the server did not stop within {limit:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[tokio::test]
async fn the_binary_serves_from_env_settings_and_stops_gracefully_on_sigterm() {
    let dir = temp_dir();
    // the board key is made beforehand: the server never generates it
    let key = dir.join("board.key");
    dobush_server::board_log::generate_key_file(&key).unwrap();
    let key = key.display().to_string();
    let mut server = Binary::start(
        &dir,
        &[
            ("DOBUSH_DATABASE__URL", "sqlite://./data/dobush.sqlite3"),
            ("DOBUSH_SERVER__SHUTDOWN_TIMEOUT_SECS", "5"),
            ("DOBUSH_BOARD__KEY_PATH", &key),
        ],
    );
    assert!(dir.join("data").join("dobush.sqlite3").exists(), "the SQLite file is created under ./data");
    let r = reqwest::get(server.url("/health")).await.unwrap();
    assert_eq!(r.status(), 200);
    server.signal("-TERM");
    let exit = server.wait(Duration::from_secs(10));
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
