//! Fault tests (docs/deploy.md §What is tested): the server binary killed with SIGKILL in the middle of concurrent casts
//! and restarted; the database connections cut again and again under load; a PostgreSQL primary
//! lost and its synchronous standby promoted. After each: every ballot that got a receipt is on
//! the board at its index, its inclusion proof verifies against the new signed head, the new head
//! is consistent with every head issued before, and the ballot rows and the board agree (no row
//! without its entry, no entry without its row, no gap, one counted ballot per voter, the same
//! counted set as the re-vote rule computes from the board). The sizes are small (a few dozen
//! ballots) so that CI stays fast; the properties do not depend on the size.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use dobush_crypto::board::{Hash, SignedTreeHead, leaf_hash, verify_consistency, verify_inclusion};
use dobush_crypto::parameters::ReVotePolicy;
use dobush_crypto::record::{BoardEntry, Receipt, counted_ballots};
use serde_json::Value;

use crate::ballots::{Election, Schedule, open_election_on};
use crate::binary::{Binary, temp_dir};
use crate::helpers::*;

// ---- casting under faults ---------------------------------------------------------------------

/// One cast attempt: HTTP status (0 = no HTTP answer: refused or reset connection) and body.
#[derive(Debug, Clone)]
struct Attempt {
    status: u16,
    body: Value,
}

/// One ballot and every attempt to cast it, in order.
#[derive(Debug)]
struct BallotRun {
    ballot: Value,
    attempts: Vec<Attempt>,
}

impl BallotRun {
    fn receipt(&self) -> Option<Receipt> {
        self.attempts.iter().find(|a| a.status == 201).map(|a| serde_json::from_value(a.body.clone()).unwrap())
    }
}

/// A run of casts: one task per voter, each casting its own pre-encrypted ballots one after
/// another (so the voters' casts are concurrent). A ballot answered 503 or not answered at all is
/// retried (the same ballot: if its first attempt was committed, the retry must be refused as a
/// duplicate) for up to a minute, until `stop` is set.
struct CastRun {
    stop: Arc<AtomicBool>,
    receipts: Arc<AtomicUsize>,
    tasks: Vec<tokio::task::JoinHandle<Vec<BallotRun>>>,
}

impl CastRun {
    fn start(users: Vec<User>, path: String, ballots: Vec<Vec<Value>>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let receipts = Arc::new(AtomicUsize::new(0));
        let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        let tasks = users
            .into_iter()
            .zip(ballots)
            .map(|(user, mine)| {
                let (stop, receipts, path, http) = (stop.clone(), receipts.clone(), path.clone(), http.clone());
                tokio::spawn(async move {
                    let mut runs = Vec::new();
                    'ballots: for ballot in mine {
                        let mut run = BallotRun { ballot: ballot.clone(), attempts: Vec::new() };
                        let first_try = Instant::now();
                        loop {
                            if stop.load(Ordering::SeqCst) {
                                if !run.attempts.is_empty() {
                                    runs.push(run);
                                }
                                break 'ballots;
                            }
                            let sent = http
                                .post(format!("{}{path}", user.base))
                                .bearer_auth(&user.token)
                                .json(&ballot)
                                .send()
                                .await;
                            let attempt = match sent {
                                Ok(r) => {
                                    let status = r.status().as_u16();
                                    Attempt { status, body: r.json().await.unwrap_or(Value::Null) }
                                }
                                Err(_) => Attempt { status: 0, body: Value::Null },
                            };
                            let again = matches!(attempt.status, 0 | 503);
                            if attempt.status == 201 {
                                receipts.fetch_add(1, Ordering::SeqCst);
                            }
                            run.attempts.push(attempt);
                            if !again || first_try.elapsed() > Duration::from_secs(60) {
                                break;
                            }
                            tokio::time::sleep(Duration::from_millis(25)).await;
                        }
                        runs.push(run);
                    }
                    runs
                })
            })
            .collect();
        Self { stop, receipts, tasks }
    }

    async fn wait_for_receipts(&self, n: usize, limit: Duration) {
        let start = Instant::now();
        while self.receipts.load(Ordering::SeqCst) < n {
            assert!(start.elapsed() < limit, "only {} receipts after {limit:?}", self.receipts.load(Ordering::SeqCst));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    async fn join(self) -> Vec<BallotRun> {
        let mut out = Vec::new();
        for t in self.tasks {
            out.extend(t.await.unwrap());
        }
        out
    }
}

/// What a run of casts ended with.
struct Outcome {
    receipts: Vec<Receipt>,
    /// Attempts answered 503 or not answered.
    failures: usize,
    /// Ballots whose failed attempt had in fact been committed: the retry was refused as a
    /// duplicate. They got no receipt, but they must be on the board.
    committed_unanswered: Vec<Value>,
    /// Ballots that ended with a receipt or as `committed_unanswered`.
    settled: usize,
}

/// Every answer is a receipt, a clear 503 `unavailable`, no answer at all (only if
/// `transport_errors`), or — after such a failure of the same ballot — 409 `duplicate_ballot`.
fn check_answers(runs: &[BallotRun], transport_errors: bool) -> Outcome {
    let mut out = Outcome { receipts: Vec::new(), failures: 0, committed_unanswered: Vec::new(), settled: 0 };
    for run in runs {
        for (i, a) in run.attempts.iter().enumerate() {
            match (a.status, a.body["error"].as_str()) {
                (201, _) => {}
                (503, Some("unavailable")) => out.failures += 1,
                (0, _) if transport_errors => out.failures += 1,
                (409, Some("duplicate_ballot")) if i > 0 => {}
                _ => panic!("an unclear answer under a fault: {a:?} (attempts of this ballot: {:?})", run.attempts),
            }
        }
        if let Some(r) = run.receipt() {
            out.receipts.push(r);
            out.settled += 1;
        } else if run.attempts.last().is_some_and(|a| a.status == 409) {
            out.committed_unanswered.push(run.ballot.clone());
            out.settled += 1;
        }
    }
    out
}

/// The ballots committed without an answer are on the board (as `ballot` entries).
async fn check_committed_on_board(e: &Election, base: &str, ballots: &[Value]) {
    let head = get_json(format!("{base}/api/v1/campaigns/{}/board/head", e.id)).await;
    let url = format!("{base}/api/v1/campaigns/{}/board/entries?start=0&end={}", e.id, head["size"]);
    let text = reqwest::get(url).await.unwrap().text().await.unwrap();
    let codes: BTreeSet<String> = text
        .lines()
        .filter_map(|l| match serde_json::from_str(l).unwrap() {
            BoardEntry::Ballot { tracking_code, .. } => Some(tracking_code.to_hex()),
            _ => None,
        })
        .collect();
    for b in ballots {
        let ballot: dobush_crypto::ballot::EncryptedBallot = serde_json::from_value(b.clone()).unwrap();
        let code = dobush_crypto::ballot::tracking_code_of(&e.ctx, &ballot).to_hex();
        assert!(codes.contains(&code), "a ballot refused as a duplicate is not on the board: {code}");
    }
}

/// `n` ballots of each voter, pre-encrypted (choices rotate).
fn ballots_for(e: &Election, n: usize) -> Vec<Vec<Value>> {
    (0..e.voters.len())
        .map(|v| (0..n).map(|i| serde_json::to_value(e.ballot(v, (v + i) % 3).0).unwrap()).collect())
        .collect()
}

/// The voters' sessions, addressed to another server (the binary) with the same session key.
fn users_at(e: &Election, base: &str) -> Vec<User> {
    e.voters.iter().map(|u| User { base: base.to_string(), ..u.clone() }).collect()
}

// ---- checking the board afterwards ------------------------------------------------------------

async fn get_json(url: String) -> Value {
    let r = reqwest::get(&url).await.unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{url}: {v}");
    v
}

fn hashes(v: &Value) -> Vec<Hash> {
    v["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let mut out = [0u8; 32];
            hex::decode_to_slice(h.as_str().unwrap(), &mut out).unwrap();
            out
        })
        .collect()
}

/// Through the public board API of the server at `base`: the latest head is signed by the
/// package's board key for this election; every receipt's entry is on the board at its index
/// and included in the latest head; every head issued before (`earlier`, and every head the
/// server lists) is consistent with the latest. Returns the latest head.
async fn check_receipts_on_board(
    e: &Election,
    base: &str,
    receipts: &[Receipt],
    earlier: &[SignedTreeHead],
) -> SignedTreeHead {
    let board = format!("{base}/api/v1/campaigns/{}/board", e.id);
    let head: SignedTreeHead = serde_json::from_value(get_json(format!("{board}/head")).await).unwrap();
    head.verify(&e.package.board_key).unwrap();
    assert_eq!(head.head.context, e.package.base_hash);
    let text =
        reqwest::get(format!("{board}/entries?start=0&end={}", head.head.size)).await.unwrap().text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len() as u64, head.head.size);
    for r in receipts {
        r.verify(&e.package).unwrap();
        assert_eq!(lines[r.index as usize], r.entry, "receipted entry {} changed or lost", r.index);
        let proof = hashes(&get_json(format!("{board}/inclusion?index={}&size={}", r.index, head.head.size)).await);
        verify_inclusion(&leaf_hash(r.entry.as_bytes()), r.index, head.head.size, &proof, &head.head.root)
            .unwrap_or_else(|err| panic!("receipt at {}: {err}", r.index));
    }
    let listed: Vec<SignedTreeHead> = serde_json::from_value(get_json(format!("{board}/heads")).await).unwrap();
    let mut checked = 0;
    for old in earlier.iter().chain(&listed) {
        old.verify(&e.package.board_key).unwrap();
        let proof =
            hashes(&get_json(format!("{board}/consistency?first={}&second={}", old.head.size, head.head.size)).await);
        verify_consistency(old.head.size, &old.head.root, head.head.size, &head.head.root, &proof)
            .unwrap_or_else(|err| panic!("head of size {} is not consistent with the new head: {err}", old.head.size));
        // the check is not vacuous: another old root is refused with the same proof
        if old.head.size > 0 && old.head.size < head.head.size {
            let mut forged = old.head.root;
            forged[0] ^= 1;
            assert!(verify_consistency(old.head.size, &forged, head.head.size, &head.head.root, &proof).is_err());
        }
        checked += 1;
    }
    assert!(checked > earlier.len(), "the server lists its heads");
    head
}

/// In the database behind `e`: board indexes without gaps; every ballot row has its entry (the
/// same tracking code, pointing back at the row) and every ballot entry its row; every
/// superseded row its `superseded` entry; one counted ballot per voter who cast, and exactly the
/// ballots the re-vote rule counts from the board.
async fn check_rows_match_board(e: &Election) {
    use dobush_server::schema::{ballots, board_entries};
    type Row = (i64, String, String, String, Option<i64>, Option<i64>);
    let id = e.id.clone();
    let (rows, entries) = e
        .app
        .with_db(move |c| {
            let rows: Vec<Row> = ballots::table
                .filter(ballots::campaign_id.eq(&id))
                .select((
                    ballots::id,
                    ballots::pin,
                    ballots::tracking_code,
                    ballots::status,
                    ballots::board_index,
                    ballots::superseded_by,
                ))
                .load(c)
                .unwrap();
            let entries: Vec<(i64, String, Option<i64>, String)> = board_entries::table
                .filter(board_entries::campaign_id.eq(&id))
                .order(board_entries::idx.asc())
                .select((board_entries::idx, board_entries::kind, board_entries::ballot_id, board_entries::payload))
                .load(c)
                .unwrap();
            (rows, entries)
        })
        .await;
    let idx: Vec<i64> = entries.iter().map(|x| x.0).collect();
    assert_eq!(idx, (0..entries.len() as i64).collect::<Vec<_>>(), "board indexes have a gap");
    let by_id: HashMap<i64, &Row> = rows.iter().map(|r| (r.0, r)).collect();
    let mut on_board = Vec::new();
    for (i, kind, ballot_id, payload) in &entries {
        let parsed: BoardEntry = serde_json::from_str(payload).unwrap();
        match parsed {
            BoardEntry::Ballot { ballot, tracking_code } => {
                assert_eq!(kind, "ballot");
                let row = by_id
                    .get(&ballot_id.expect("a ballot entry names its row"))
                    .expect("a ballot entry without its row");
                assert_eq!(
                    (row.2.as_str(), row.4),
                    (tracking_code.to_hex().as_str(), Some(*i)),
                    "entry {i} and its row disagree"
                );
                on_board.push((ballot.credential, tracking_code));
            }
            BoardEntry::Superseded { tracking_code, by } => {
                let row = by_id.get(&ballot_id.expect("a superseded entry names its row")).expect("superseded row");
                assert_eq!((row.2.as_str(), row.3.as_str()), (tracking_code.to_hex().as_str(), "superseded"));
                let newer = by_id.get(&row.5.expect("superseded_by")).unwrap();
                assert_eq!(newer.2, by.to_hex());
            }
            BoardEntry::Challenged { .. } => panic!("no challenges in this test"),
            _ => assert!(ballot_id.is_none()),
        }
    }
    for row in &rows {
        let i = row.4.unwrap_or_else(|| panic!("ballot row {} has no board entry", row.0));
        let entry = &entries[usize::try_from(i).unwrap()];
        assert_eq!((entry.1.as_str(), entry.2), ("ballot", Some(row.0)), "row {} and entry {i} disagree", row.0);
        if row.3 == "superseded" {
            assert!(
                entries.iter().any(|x| x.1 == "superseded" && x.2 == Some(row.0)),
                "row {} superseded without a marker",
                row.0
            );
        }
    }
    let (counted, _) = counted_ballots(ReVotePolicy::LastCounts, &on_board, &[]).unwrap();
    let from_board: BTreeSet<String> = counted.iter().map(|&i| on_board[i].1.to_hex()).collect();
    let from_rows: BTreeSet<String> = rows.iter().filter(|r| r.3 == "counted").map(|r| r.2.clone()).collect();
    assert_eq!(from_board, from_rows, "the counted ballots differ between the rows and the board");
    let voters: BTreeSet<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(from_rows.len(), voters.len(), "one counted ballot per voter who cast");
}

// ---- 1. the server binary killed with SIGKILL and restarted -----------------------------------

async fn the_binary_killed_during_casts_loses_no_receipted_ballot(b: Backend) {
    let dir = temp_dir();
    let session_key = write_session_key(&dir);
    // prepared in process on a manual clock set to real time, so that the binary (system clock)
    // finds the polls open; then that server stops and the binary takes over its database
    let schedule = Schedule::real_time().await;
    let sk = session_key.clone();
    let app = spawn_app_with(b, move |s| s.session.signing_key_path = sk).await;
    let e = open_election_on(app, "last_counts", &schedule).await;
    e.app.server.stop(true).await;
    let env = [
        ("DOBUSH_DATABASE__URL", e.app._db.url.clone()),
        ("DOBUSH_BOARD__KEY_PATH", e.app.state.settings.board.key_path.clone()),
        ("DOBUSH_SESSION__SIGNING_KEY_PATH", session_key),
        ("DOBUSH_RATE_LIMIT__PER_VOTER_PER_MINUTE", "100000".into()),
        ("DOBUSH_RATE_LIMIT__PER_ADDRESS_PER_MINUTE", "100000".into()),
        ("DOBUSH_DATABASE__CONNECT_TIMEOUT_SECS", "2".into()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let path = format!("/api/campaigns/{}/ballots", e.id);

    let mut first = Binary::start(&dir, &env);
    let run = CastRun::start(users_at(&e, &first.url("")), path.clone(), ballots_for(&e, 12));
    run.wait_for_receipts(12, Duration::from_secs(120)).await;
    first.signal("-KILL");
    first.wait(Duration::from_secs(10));
    run.stop();
    let runs = run.join().await;
    let Outcome { receipts: before, failures, .. } = check_answers(&runs, true);
    assert!(before.len() >= 12);
    eprintln!("SIGKILL after {} receipts; {failures} attempts failed with the server", before.len());

    let second = Binary::start(&dir, &env);
    let after = CastRun::start(users_at(&e, &second.url("")), path, ballots_for(&e, 2));
    let runs = after.join().await;
    let Outcome { receipts: after, failures, .. } = check_answers(&runs, false);
    assert_eq!((after.len(), failures), (2 * VOTER_COUNT, 0), "the restarted server accepts ballots");
    let earlier: Vec<SignedTreeHead> = before.iter().map(|r| r.tree_head).collect();
    let receipts: Vec<Receipt> = before.into_iter().chain(after).collect();
    check_receipts_on_board(&e, &second.url(""), &receipts, &earlier).await;
    check_rows_match_board(&e).await;
    drop(second);
    let _ = std::fs::remove_dir_all(&dir);
}

const VOTER_COUNT: usize = crate::ballots::VOTERS.len();

// ---- 2. the database connections cut under load (PostgreSQL) ----------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_database_connections_give_clear_503s_and_no_partial_writes() {
    let app = spawn_app_with(Backend::Postgres, |s| s.database.connect_timeout_secs = 2).await;
    let name = app._db.pg_name().unwrap().to_string();
    let e = open_election_on(app, "last_counts", &Schedule::pilot()).await;
    let run = CastRun::start(e.voters.clone(), format!("/api/campaigns/{}/ballots", e.id), ballots_for(&e, 12));
    // terminate every connection of the server to its database, again and again, while it casts,
    // until two thirds of the ballots are in (then the rest go through undisturbed)
    let cutter = {
        let (receipts, name) = (run.receipts.clone(), name.clone());
        tokio::task::spawn_blocking(move || {
            let mut admin = PgConnection::establish(&format!("{}/postgres", pg_base_url())).unwrap();
            let mut cuts = 0usize;
            let start = Instant::now();
            while receipts.load(Ordering::SeqCst) < 8 * VOTER_COUNT && start.elapsed() < Duration::from_secs(60) {
                #[derive(QueryableByName)]
                struct N {
                    #[diesel(sql_type = diesel::sql_types::BigInt)]
                    n: i64,
                }
                let q = format!(
                    "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
                     WHERE datname = '{name}' AND pid <> pg_backend_pid()"
                );
                let n: Vec<N> = diesel::sql_query(q).load(&mut admin).unwrap();
                cuts += usize::try_from(n[0].n).unwrap();
                std::thread::sleep(Duration::from_millis(60));
            }
            cuts
        })
    };
    let cuts = cutter.await.unwrap();
    let runs = run.join().await;
    let Outcome { receipts, failures, committed_unanswered, settled } = check_answers(&runs, false);
    eprintln!(
        "{cuts} connections cut; {} receipts, {failures} clear 503s, {} committed unanswered",
        receipts.len(),
        committed_unanswered.len()
    );
    assert!(failures > 0 && cuts > 0, "the connections were cut during the casts ({cuts} cuts, {failures} 503s)");
    assert_eq!(settled, 12 * VOTER_COUNT, "every ballot is accepted in the end (503s are retried)");
    check_committed_on_board(&e, &e.app.address, &committed_unanswered).await;
    // recovery: the server answers at once once the database stays
    assert_eq!(reqwest::get(e.app.url("/health")).await.unwrap().status(), 200);
    let runs =
        CastRun::start(e.voters.clone(), format!("/api/campaigns/{}/ballots", e.id), ballots_for(&e, 1)).join().await;
    let Outcome { receipts: after, failures, .. } = check_answers(&runs, false);
    assert_eq!((after.len(), failures), (VOTER_COUNT, 0));
    let receipts: Vec<Receipt> = receipts.into_iter().chain(after).collect();
    let earlier: Vec<SignedTreeHead> = receipts.iter().map(|r| r.tree_head).collect();
    check_receipts_on_board(&e, &e.app.address, &receipts, &earlier).await;
    check_rows_match_board(&e).await;
}

crate::backend_tests!(the_binary_killed_during_casts_loses_no_receipted_ballot);

// ---- 3. the PostgreSQL primary lost, its synchronous standby promoted -------------------------

/// A throw-away pair of PostgreSQL clusters on loopback: a primary and a synchronous standby
/// made from it with `pg_basebackup`, each on its own free port, with data directories and
/// sockets under one temporary directory owned by `postgres`. The machine's main cluster is not
/// touched. Both are stopped (immediately) and deleted when dropped.
struct ClusterPair {
    dir: std::path::PathBuf,
    bin: std::path::PathBuf,
    primary_port: u16,
    standby_port: u16,
}

fn is_root() -> bool {
    std::process::Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// The PostgreSQL server programs: `$DOBUSH_TEST_PG_BIN`, else the newest
/// `/usr/lib/postgresql/<version>/bin` (Debian's layout).
fn pg_bin_dir() -> std::path::PathBuf {
    if let Ok(d) = std::env::var("DOBUSH_TEST_PG_BIN") {
        return d.into();
    }
    let mut dirs: Vec<(u32, std::path::PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server programs under /usr/lib/postgresql (or set DOBUSH_TEST_PG_BIN)")
        .filter_map(|d| {
            let d = d.ok()?;
            let v: u32 = d.file_name().to_str()?.parse().ok()?;
            let bin = d.path().join("bin");
            bin.join("pg_ctl").exists().then_some((v, bin))
        })
        .collect();
    dirs.sort();
    dirs.pop().expect("no /usr/lib/postgresql/<version>/bin/pg_ctl").1
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl ClusterPair {
    /// Runs a PostgreSQL program as `postgres` (PostgreSQL refuses to run as root).
    fn tool(&self, name: &str, args: &[&str]) -> std::process::Output {
        let program = self.bin.join(name);
        let mut cmd = if is_root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            std::process::Command::new(&program)
        };
        let out = cmd.args(args).current_dir(&self.dir).output().unwrap();
        assert!(
            out.status.success(),
            "{name} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    fn start_cluster(&self, name: &str, port: u16, extra: &str) {
        let opts = format!(
            "-c port={port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=on {extra}",
            self.dir.display()
        );
        let (data, log) = (self.path(name), self.path(&format!("{name}.log")));
        self.tool("pg_ctl", &["-D", &data, "-l", &log, "-w", "-t", "60", "-o", &opts, "start"]);
    }

    fn connect(port: u16, db: &str) -> PgConnection {
        PgConnection::establish(&format!("postgres://postgres@127.0.0.1:{port}/{db}")).unwrap()
    }

    fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("dobush-standby-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        if is_root() {
            let ok = std::process::Command::new("chown").args(["postgres:postgres"]).arg(&dir).status().unwrap();
            assert!(ok.success());
        }
        let pair = Self { dir, bin: pg_bin_dir(), primary_port: free_port(), standby_port: free_port() };
        pair.tool("initdb", &["-D", &pair.path("primary"), "-U", "postgres", "--auth=trust", "-N"]);
        pair.start_cluster("primary", pair.primary_port, "-c synchronous_commit=on");
        diesel::sql_query("CREATE DATABASE dobush").execute(&mut Self::connect(pair.primary_port, "postgres")).unwrap();
        let port = pair.primary_port.to_string();
        let standby = pair.path("standby");
        pair.tool(
            "pg_basebackup",
            &["-h", "127.0.0.1", "-p", &port, "-U", "postgres", "-D", &standby, "-R", "-X", "stream", "-c", "fast"],
        );
        pair.start_cluster("standby", pair.standby_port, "-c hot_standby=on");
        // from now on every commit on the primary waits until the standby has flushed it
        let mut primary = Self::connect(pair.primary_port, "postgres");
        diesel::sql_query("ALTER SYSTEM SET synchronous_standby_names = '*'").execute(&mut primary).unwrap();
        diesel::sql_query("SELECT pg_reload_conf()").execute(&mut primary).unwrap();
        let start = Instant::now();
        loop {
            #[derive(QueryableByName)]
            struct N {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            let n: Vec<N> =
                diesel::sql_query("SELECT count(*) AS n FROM pg_stat_replication WHERE sync_state = 'sync'")
                    .load(&mut primary)
                    .unwrap();
            if n[0].n == 1 {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "the standby did not become synchronous");
            std::thread::sleep(Duration::from_millis(100));
        }
        pair
    }

    /// Both hosts; libpq tries them in order and keeps the one that accepts writes, so new
    /// connections reach whichever is the primary.
    fn url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{},127.0.0.1:{}/dobush?target_session_attrs=read-write",
            self.primary_port, self.standby_port
        )
    }

    /// SIGKILL to the primary's postmaster and all its processes at once (a crashed machine).
    fn kill_primary(&self) {
        let text = std::fs::read_to_string(self.dir.join("primary").join("postmaster.pid")).unwrap();
        let postmaster: u32 = text.lines().next().unwrap().trim().parse().unwrap();
        let mut pids = vec![postmaster.to_string()];
        for d in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(stat) = std::fs::read_to_string(d.path().join("stat")) else { continue };
            // pid (comm) state ppid …: comm may contain spaces, so split after the last ')'
            let Some(rest) = stat.rsplit_once(')').map(|x| x.1) else { continue };
            if rest.split_whitespace().nth(1) == Some(postmaster.to_string().as_str()) {
                pids.push(d.file_name().to_string_lossy().into_owned());
            }
        }
        let ok = std::process::Command::new("kill").arg("-KILL").args(&pids).status().unwrap();
        assert!(ok.success(), "kill -KILL {pids:?}");
    }

    fn promote(&self) {
        self.tool("pg_ctl", &["-D", &self.path("standby"), "-w", "-t", "60", "promote"]);
    }
}

impl Drop for ClusterPair {
    fn drop(&mut self) {
        for name in ["standby", "primary"] {
            let data = self.path(name);
            if self.dir.join(name).join("postmaster.pid").exists() {
                let mut cmd = if is_root() {
                    let mut c = std::process::Command::new("runuser");
                    c.args(["-u", "postgres", "--"]).arg(self.bin.join("pg_ctl"));
                    c
                } else {
                    std::process::Command::new(self.bin.join("pg_ctl"))
                };
                let _ = cmd.args(["-D", &data, "-m", "immediate", "-w", "stop"]).output();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_primary_lost_and_its_synchronous_standby_promoted_loses_no_receipted_ballot() {
    let pair = tokio::task::spawn_blocking(ClusterPair::start).await.unwrap();
    let app = spawn_app_on(TestDb::external(pair.url()), |s| s.database.connect_timeout_secs = 2).await;
    let e = open_election_on(app, "last_counts", &Schedule::pilot()).await;
    let run = CastRun::start(e.voters.clone(), format!("/api/campaigns/{}/ballots", e.id), ballots_for(&e, 8));
    run.wait_for_receipts(3 * VOTER_COUNT, Duration::from_secs(120)).await;
    pair.kill_primary();
    let at_kill = run.receipts.load(Ordering::SeqCst);
    assert!(PgConnection::establish(&format!("postgres://postgres@127.0.0.1:{}/dobush", pair.primary_port)).is_err());
    // the casts meet the lost primary: a request waits for a connection up to
    // `database.connect_timeout_secs` (2 s here), then gets a clear 503; after the promotion the
    // next connection reaches the standby
    tokio::time::sleep(Duration::from_secs(3)).await;
    let standby_port = pair.standby_port;
    let pair = tokio::task::spawn_blocking(move || {
        pair.promote();
        pair
    })
    .await
    .unwrap();
    let runs = run.join().await;
    let Outcome { receipts, failures, committed_unanswered, settled } = check_answers(&runs, false);
    eprintln!(
        "{} receipts, {failures} clear 503s across the failover, {} committed unanswered",
        receipts.len(),
        committed_unanswered.len()
    );
    assert!(failures > 0, "the outage was not noticed");
    assert!(receipts.len() > at_kill, "no ballot was accepted after the failover");
    assert_eq!(settled, 8 * VOTER_COUNT, "every ballot is accepted in the end (503s are retried)");
    check_committed_on_board(&e, &e.app.address, &committed_unanswered).await;
    // on the promoted standby itself: every receipted entry at its index, byte for byte
    let id = e.id.clone();
    let on_standby: HashMap<i64, String> = tokio::task::spawn_blocking(move || {
        use dobush_server::schema::board_entries;
        board_entries::table
            .filter(board_entries::campaign_id.eq(id))
            .select((board_entries::idx, board_entries::payload))
            .load::<(i64, String)>(&mut ClusterPair::connect(standby_port, "dobush"))
            .unwrap()
            .into_iter()
            .collect()
    })
    .await
    .unwrap();
    for r in &receipts {
        assert_eq!(
            on_standby.get(&(r.index as i64)),
            Some(&r.entry),
            "receipted entry {} is not on the standby",
            r.index
        );
    }
    let earlier: Vec<SignedTreeHead> = receipts.iter().map(|r| r.tree_head).collect();
    check_receipts_on_board(&e, &e.app.address, &receipts, &earlier).await;
    check_rows_match_board(&e).await;
    drop(e);
    drop(pair);
}
