//! The end-to-end election (docs/server.md §Tally, protocol and record, "End to end"): the real
//! server in process (SQLite, a manual clock), driven only through its HTTP API, with the
//! key-holders' tool (`dobush-key-holders`' library: the same code as its commands) for the key
//! ceremony, the tally and the protocol signatures, and the independent verifier at the end.
//!
//! Campaign → register of 200 → 200 applications with credentials held by the voters → key
//! ceremony 3 of 5 over the server → package → credential list signed → polls open → 10 voters
//! on phones (the mobile bridge), 5 of whom check a ballot first → 200 voters cast, 20 of them
//! re-vote under `last_counts` → closed → key-holder 3 absent, key-holder 5
//! uploads an invalid share, 1, 2 and 4 tally → the results are the plaintext votes → a protocol
//! breaking a control relation refused, naming the line → the protocol saved and signed → the
//! record over HTTP and from `export-record`'s library function, equal, re-read, consistent →
//! `dobush-verifier`'s checks all pass.
//!
//! Also `dobush-verifier watch` (its command, [`dobush_verifier::watch::command`]) against the
//! live board while ballots are cast, and its refusal of a forged head and of a split view.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use dobush_crypto::ballot::{PlaintextBallot, PlaintextContest, encrypt_ballot};
use dobush_crypto::credential::Credential;
use dobush_crypto::election_protocol::{ElectionProtocol, ProtocolBody};
use dobush_crypto::record::{ElectionPackage, ElectionRecord};
use dobush_crypto::threshold::decrypt::DecryptionShare;
use dobush_key_holders::ceremony::Session;
use dobush_key_holders::keystore::Keystore;
use dobush_key_holders::transport::{Api, Relay, ServerRelay};
use dobush_key_holders::{ops, tally};
use dobush_server::clock::{Clock, ManualClock};
use dobush_tests::fixtures::{bishkek_2030, campaign_2030, pilot_manifest};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::{Value, json};

const ADMIN_PIN: &str = "10101197000001";
/// The second CEC administrator of dual control (14-commission.md §Dual control).
const SECOND_ADMIN_PIN: &str = "10101197000003";
const PASS: &str = "e2e passphrase of a key-holder";
const VOTERS: usize = 200;
const REVOTERS: usize = 20;
/// Voters whose device is the phone app's library; the first [`CHECKED`] of them check a ballot
/// (Benaloh challenge) before casting.
const ON_PHONES: usize = 10;
const CHECKED: usize = 5;

fn key_holder_pin(l: usize) -> String {
    format!("4010119800000{l}")
}

fn voter_pin(i: usize) -> String {
    format!("2150419900{i:04}")
}

/// The server in process: SQLite in a temporary directory, port 0, a manual clock; its own
/// runtime, so that the test (and the key-holders' blocking client) run on plain threads.
struct Live {
    _rt: tokio::runtime::Runtime,
    tmp: tempfile::TempDir,
    url: String,
    state: Arc<dobush_server::state::AppState>,
    clock: Arc<ManualClock>,
    http: reqwest::blocking::Client,
}

impl Live {
    fn start() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let mut settings = dobush_server::configuration::Settings::default();
        settings.server.port = 0;
        settings.server.workers = 2;
        settings.database.url = format!("sqlite://{}", tmp.path().join("db.sqlite3").display());
        settings.bootstrap.cec_admin_pins = vec![ADMIN_PIN.into(), SECOND_ADMIN_PIN.into()];
        settings.board.key_path = tmp.path().join("board.key").display().to_string();
        // the server never generates its board key while serving: it is made beforehand
        dobush_server::board_log::generate_key_file(&tmp.path().join("board.key")).unwrap();
        settings.rate_limit.per_address_per_minute = 1_000_000;
        settings.rate_limit.per_voter_per_minute = 1_000;
        let clock = Arc::new(ManualClock::new(bishkek_2030(3, 1, 12)));
        let app = rt.block_on(dobush_server::startup::Application::build(settings, clock.clone())).unwrap();
        let url = format!("http://127.0.0.1:{}", app.port());
        let state = app.state().into_inner();
        rt.spawn(app.run_until_stopped());
        Self { _rt: rt, tmp, url, state, clock, http: reqwest::blocking::Client::new() }
    }

    /// A session token of `pin` at the server's time, as a login would give it.
    fn token(&self, pin: &str) -> String {
        self.state.sessions.issue(pin, self.clock.now().timestamp()).unwrap().0
    }

    /// A request as `pin` (or anonymous); (status, JSON answer or `null`).
    fn request(&self, pin: Option<&str>, method: &str, path: &str, body: &Value) -> (u16, Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut rb = self.http.request(m, format!("{}{path}", self.url));
        if let Some(p) = pin {
            rb = rb.bearer_auth(self.token(p));
        }
        if !body.is_null() {
            rb = rb.json(body);
        }
        let r = rb.send().unwrap();
        (r.status().as_u16(), r.json().unwrap_or(Value::Null))
    }

    /// A request that must succeed; its answer.
    fn ok(&self, pin: Option<&str>, method: &str, path: &str, body: Value) -> Value {
        let (status, v) = self.request(pin, method, path, &body);
        assert!((200..300).contains(&status), "{method} {path}: {status} {v}");
        v
    }

    fn admin(&self, method: &str, path: &str, body: Value) -> Value {
        self.ok(Some(ADMIN_PIN), method, path, body)
    }

    fn get(&self, path: &str) -> Value {
        self.ok(None, "GET", path, Value::Null)
    }

    fn text(&self, path: &str) -> (String, String) {
        let r = self.http.get(format!("{}{path}", self.url)).send().unwrap();
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        let status =
            r.headers().get("dobush-record-status").map(|h| h.to_str().unwrap().to_string()).unwrap_or_default();
        (status, r.text().unwrap())
    }

    fn transition(&self, id: &str, action: &str) {
        self.admin("POST", &format!("/api/campaigns/{id}/transitions"), json!({ "action": action }));
    }

    fn db<T>(&self, f: impl FnOnce(&mut dobush_server::db::AnyConnection) -> T) -> T {
        let mut c = self.state.db.get().unwrap();
        f(&mut c)
    }
}

/// The voter's device: a client on `dobush_crypto`, or the phone app's library (the mobile
/// bridge, the code the Android and iOS apps call).
enum Device {
    Crypto(Box<Credential>),
    Bridge(Arc<dobush_mobile_bridge::CredentialHandle>),
}

/// One e-voter: PIN and the credential made on the voter's device.
struct Voter {
    pin: String,
    device: Device,
}

/// A campaign with `voters` e-voters (the last `on_phones` of them with the mobile bridge) up to
/// open polls: register, applications, the key
/// ceremony 3 of 5 run by five key-holders' keystores over the server's ceremony API, the
/// commission under dual control, the election package, the credential list signed by the
/// commission's quorum.
struct Election {
    live: Live,
    id: String,
    package: ElectionPackage,
    voters: Vec<Voter>,
    stores: Vec<PathBuf>,
}

fn open_election(voters: usize, on_phones: usize, seed: u64) -> Election {
    let live = Live::start();
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let c = live.admin("POST", "/api/campaigns", campaign_2030());
    let id = c["id"].as_str().unwrap().to_string();
    live.transition(&id, "start_test");
    live.transition(&id, "erase_test_data_and_open_registration");
    let mut csv = String::from("pin,full_name,birth_date,precinct\n");
    for i in 0..voters {
        csv.push_str(&format!("{},Voter {i},1980-01-01,P1\n", voter_pin(i)));
    }
    let r = live
        .http
        .post(format!("{}/api/campaigns/{id}/voters/import", live.url))
        .bearer_auth(live.token(ADMIN_PIN))
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().unwrap());
    let voters: Vec<Voter> = (0..voters)
        .map(|i| {
            let (device, public) = if i + on_phones >= voters {
                let c = dobush_mobile_bridge::new_credential().unwrap();
                let public = c.public_hex();
                (Device::Bridge(c), public)
            } else {
                let c = Credential::generate(&mut rng).unwrap();
                let public = c.public().0.to_hex();
                (Device::Crypto(Box::new(c)), public)
            };
            let v = Voter { pin: voter_pin(i), device };
            let body = json!({ "credential": public });
            live.ok(Some(&v.pin), "PUT", &format!("/api/campaigns/{id}/cabinet/application"), body);
            v
        })
        .collect();

    // the key ceremony, 3 of 5, every key-holder with its own keystore and session
    live.transition(&id, "start_key_ceremony");
    let pins: Vec<String> = (1..=5).map(key_holder_pin).collect();
    for pin in &pins {
        live.admin("POST", "/api/staff", json!({ "pin": pin, "role": "key_holder" }));
    }
    live.admin("PUT", &format!("/api/campaigns/{id}/ceremony"), json!({ "threshold": 3, "key_holders": pins }));
    let relay =
        |l: usize| Relay::Server(Box::new(ServerRelay::new(&live.url, &id, &live.token(&key_holder_pin(l))).unwrap()));
    let stores: Vec<PathBuf> = (1..=5).map(|l| live.tmp.path().join(format!("keystore-{l}"))).collect();
    for l in 1..=5 {
        ops::init(&stores[l - 1], l as u32, PASS, Some(&relay(l))).unwrap();
    }
    for round in 0..4 {
        for l in 1..=5 {
            let s = Session::open(&stores[l - 1], PASS, relay(l), &id, 3).unwrap();
            match round {
                0 => s.commit(),
                1 => s.reveal(true),
                2 => s.check(),
                _ => s.finish(),
            }
            .unwrap();
        }
    }
    assert_eq!(live.get(&format!("/api/campaigns/{id}/ceremony"))["phase"], "complete");

    // the commission under dual control (docs/protocol/14-commission.md): the administrator
    // registers the members (key-holders 1, 2 and 4's keystores hold their member keys), a second
    // CEC administrator confirms the section by its hash
    for (l, role) in [(1usize, "chair"), (2, "secretary"), (4, "member")] {
        let (store, _) = Keystore::open(&stores[l - 1], PASS).unwrap();
        let m = json!({ "name": format!("Member {l}"), "role": role, "precinct": "E1", "public_key": store.meta().member_key });
        live.admin("POST", &format!("/api/v1/campaigns/{id}/commission-members"), m);
    }
    // appointed at startup, independently of the administrator who registered the members
    let second = SECOND_ADMIN_PIN;
    let shown = live.get(&format!("/api/v1/campaigns/{id}/commission"));
    let confirm = json!({ "commission_hash": shown["commission_hash"], "re_vote_policy": shown["re_vote_policy"] });
    live.ok(Some(second), "POST", &format!("/api/v1/campaigns/{id}/commission/confirm"), confirm);

    let mut manifest = pilot_manifest();
    manifest.campaign_id = id.clone();
    let package: ElectionPackage = serde_json::from_value(live.admin(
        "PUT",
        &format!("/api/campaigns/{id}/election-package"),
        json!({ "manifest": manifest }),
    ))
    .unwrap();
    live.transition(&id, "freeze_manifest");
    live.clock.set(bishkek_2030(4, 9, 12));
    // the chair and the secretary (the quorum, 2 of 3) sign the frozen list
    let list = live.get(&format!("/api/v1/campaigns/{id}/credential-list"));
    let list_file = live.tmp.path().join("credential-list.json");
    std::fs::write(&list_file, list.to_string()).unwrap();
    for l in [1usize, 2] {
        let (sig, count) = ops::sign_list(&stores[l - 1], PASS, &list_file, &format!("Member {l}")).unwrap();
        assert_eq!(count, voters.len() as u64);
        let sig = serde_json::to_value(&sig).unwrap();
        live.admin("POST", &format!("/api/campaigns/{id}/credential-list/signatures"), sig);
    }
    live.transition(&id, "open_voting");
    Election { live, id, package, voters, stores }
}

/// A plaintext ballot: council selection `council` (0–6 candidates, 7 against all, 8 blank) and
/// the question's answer.
fn plaintext(council: usize, yes: bool) -> PlaintextBallot {
    PlaintextBallot {
        style: "samarkandek".into(),
        contests: vec![
            PlaintextContest {
                contest_id: "council".into(),
                selections: (0..9).map(|j| u8::from(j == council)).collect(),
            },
            PlaintextContest { contest_id: "question".into(), selections: if yes { vec![1, 0] } else { vec![0, 1] } },
        ],
    }
}

impl Election {
    fn path(&self, what: &str) -> String {
        format!("/api/v1/campaigns/{}/{what}", self.id)
    }

    /// Voter `v` opens the ballot (protocol line 2) and casts `ballot`; the receipt verifies.
    fn cast(&self, v: usize, ballot: &PlaintextBallot, rng: &mut ChaCha20Rng) {
        let voter = &self.voters[v];
        self.live.ok(Some(&voter.pin), "POST", &self.path("ballot-issued"), Value::Null);
        let path = format!("/api/campaigns/{}/ballots", self.id);
        let receipt = match &voter.device {
            Device::Crypto(c) => {
                let ctx = self.package.context().unwrap();
                let (b, _) = encrypt_ballot(&ctx, c.signing_key(), ballot, rng).unwrap();
                self.live.ok(Some(&voter.pin), "POST", &path, serde_json::to_value(&b).unwrap())
            }
            Device::Bridge(c) => {
                let phone = self.phone();
                let b = phone.encrypt(c.clone(), serde_json::to_string(ballot).unwrap()).unwrap();
                let receipt = self.live.ok(
                    Some(&voter.pin),
                    "POST",
                    &path,
                    serde_json::from_str(&b.cast_json().unwrap()).unwrap(),
                );
                let checked = phone.verify_receipt(receipt.to_string()).unwrap();
                assert_eq!(checked.tracking_code.hex, b.tracking_code_hex());
                receipt
            }
        };
        let receipt: dobush_crypto::record::Receipt = serde_json::from_value(receipt).unwrap();
        receipt.verify(&self.package).unwrap();
    }

    /// The election as the phone app loads it (the mobile bridge).
    fn phone(&self) -> Arc<dobush_mobile_bridge::Election> {
        dobush_mobile_bridge::Election::load(serde_json::to_string(&self.package).unwrap()).unwrap()
    }

    /// Voter `v` (on a phone) checks a ballot for `ballot` instead of casting it (Benaloh): the
    /// app posts it with its opening, and a second device re-encrypts the opening to it.
    fn challenge(&self, v: usize, ballot: &PlaintextBallot) {
        let Device::Bridge(c) = &self.voters[v].device else { panic!("voter {v} has no phone") };
        let phone = self.phone();
        let b = phone.encrypt(c.clone(), serde_json::to_string(ballot).unwrap()).unwrap();
        let opening = b.challenge().unwrap();
        let body = json!({ "ballot": serde_json::from_str::<Value>(&b.ballot_json()).unwrap(),
            "opening": serde_json::from_str::<Value>(&opening).unwrap() });
        self.live.ok(Some(&self.voters[v].pin), "POST", &format!("/api/campaigns/{}/challenges", self.id), body);
        let checked = self.phone().verify_challenged(b.ballot_json(), opening).unwrap();
        assert_eq!(serde_json::from_str::<PlaintextBallot>(&checked.plaintext_json).unwrap(), *ballot);
    }

    fn close(&self) {
        self.live.clock.set(bishkek_2030(4, 9, 20));
        self.live.transition(&self.id, "close_voting");
    }

    fn api(&self, l: usize) -> Api {
        Api::new(&self.live.url, Some(&self.live.token(&key_holder_pin(l)))).unwrap()
    }
}

fn line_value(lines: &[dobush_crypto::election_protocol::Line], key: &str) -> u64 {
    lines.iter().find(|l| l.key == key).unwrap_or_else(|| panic!("no line {key}")).value
}

#[test]
fn an_election_of_200_from_the_campaign_to_the_verified_record() {
    let e = open_election(VOTERS, ON_PHONES, 2030);
    let mut rng = ChaCha20Rng::seed_from_u64(409);

    // some voters on phones check a ballot first; it is published opened and never counted
    for v in VOTERS - ON_PHONES..VOTERS - ON_PHONES + CHECKED {
        e.challenge(v, &plaintext(v % 9, true));
    }

    // 200 voters cast; the first 20 vote again later, and only their last ballot counts
    let mut last: Vec<(usize, bool)> = Vec::new();
    for v in 0..VOTERS {
        let choice = (rng.gen_range(0..9), rng.gen_bool(0.6));
        e.cast(v, &plaintext(choice.0, choice.1), &mut rng);
        last.push(choice);
    }
    for (v, vote) in last.iter_mut().enumerate().take(REVOTERS) {
        let choice = ((vote.0 + 1 + rng.gen_range(0..8)) % 9, !vote.1);
        e.cast(v, &plaintext(choice.0, choice.1), &mut rng);
        *vote = choice;
    }
    let mut expected = vec![vec![0u64; 9], vec![0u64; 2]];
    for &(council, yes) in &last {
        expected[0][council] += 1;
        expected[1][usize::from(!yes)] += 1;
    }
    e.close();

    // key-holder 5 signs and uploads an invalid share (its share of total (0, 0) replaced by the
    // one of (0, 1)); key-holder 3 never comes
    let (store5, secrets5) = Keystore::open(&e.stores[4], PASS).unwrap();
    let (record_text, board_text) = (e.live.text(&e.path("record")).1, e.live.text(&e.path("record/board.jsonl")).1);
    let no_files = |name: &str| -> anyhow::Result<Vec<u8>> { anyhow::bail!("a v1 record has no {name}") };
    let (_, mut shares5) = tally::check_and_decrypt(
        &store5,
        &secrets5,
        Some(e.id.as_str()),
        &record_text,
        &board_text,
        &no_files,
        "record",
    )
    .unwrap();
    shares5[0].share = shares5[1].share;
    let partial: dobush_crypto::record::ElectionRecord = serde_json::from_str(&record_text).unwrap();
    let ct00 = partial.encrypted_totals[0].totals[0];
    shares5[0].sign(&partial.package.extended_hash, &ct00, secrets5.keys.signing_key(), &mut rand::rngs::OsRng);
    let answer =
        e.live.ok(Some(&key_holder_pin(5)), "POST", &e.path("decryption-shares"), json!({ "shares": shares5 }));
    assert_eq!(
        (answer["accepted"].as_u64(), answer["rejected"].as_array().map(Vec::len)),
        (Some(10), Some(1)),
        "{answer}"
    );
    assert_eq!(
        (answer["rejected"][0]["contest"].as_u64(), answer["rejected"][0]["option"].as_u64()),
        (Some(0), Some(0))
    );
    for (l, combined) in [(1usize, false), (2, false), (4, true)] {
        let (store, secrets) = Keystore::open(&e.stores[l - 1], PASS).unwrap();
        let (summary, answer) = tally::run_server(&store, &secrets, &e.api(l), &e.id).unwrap();
        assert_eq!(
            (summary.ballots, summary.counted, summary.superseded, summary.shares),
            (VOTERS + REVOTERS, VOTERS, REVOTERS, 11)
        );
        assert_eq!((answer["accepted"].as_u64(), answer["combined"].as_bool()), (Some(11), Some(combined)), "{answer}");
    }
    let results = e.live.get(&e.path("results"));
    let counts: Vec<Vec<u64>> = results["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| serde_json::from_value(r["counts"].clone()).unwrap())
        .collect();
    assert_eq!(counts, expected, "the combined results are the plaintext votes");

    // the protocol's lines are the plaintext votes
    let draft_json = e.live.admin("GET", &e.path("protocol/draft"), Value::Null);
    let draft: ProtocolBody = serde_json::from_value(draft_json.clone()).unwrap();
    let general: Vec<u64> = ["e_voters", "issued", "counted", "superseded", "challenged"]
        .iter()
        .map(|k| line_value(&draft.general, k))
        .collect();
    assert_eq!(general, vec![VOTERS as u64, VOTERS as u64, VOTERS as u64, REVOTERS as u64, CHECKED as u64]);
    let council = &draft.contests[0].lines;
    for (j, count) in expected[0].iter().take(7).enumerate() {
        assert_eq!(line_value(council, &format!("option:c{}", j + 1)), *count, "candidate c{}", j + 1);
    }
    assert_eq!(line_value(council, "against_all"), expected[0][7]);
    assert_eq!(line_value(council, "invalid"), expected[0][8], "blank ballots");
    assert_eq!(line_value(council, "valid"), VOTERS as u64 - expected[0][8]);
    let question = &draft.contests[1].lines;
    assert_eq!(
        (line_value(question, "option:yes"), line_value(question, "option:no")),
        (expected[1][0], expected[1][1])
    );

    // a protocol that breaks a control relation is refused, naming the line (§44)
    let mut bad = draft_json.clone();
    bad["contests"][0]["lines"][1]["value"] = (line_value(council, "valid") + 1).into();
    let (status, err) = e.live.request(Some(ADMIN_PIN), "PUT", &e.path("protocol"), &json!({ "body": bad }));
    assert_eq!(
        (status, err["error"].as_str(), err["field"].as_str()),
        (422, Some("invalid_field"), Some("line 6.2")),
        "{err}"
    );
    let mut bad = draft_json.clone();
    bad["general"][2]["value"] = (VOTERS as u64 + 1).into();
    let (status, err) = e.live.request(Some(ADMIN_PIN), "PUT", &e.path("protocol"), &json!({ "body": bad }));
    assert_eq!((status, err["field"].as_str()), (422, Some("line 3")), "{err}");
    let saved = e.live.admin("PUT", &e.path("protocol"), json!({ "body": draft_json }));
    assert_eq!(saved["digest"], hex::encode(draft.digest()));

    // the pinned members sign on their own computers (the key-holders' tool), the quorum is reached
    for (l, signed) in [(2usize, false), (1, true), (4, true)] {
        let api = e.api(l);
        let p = ops::fetch_protocol(&api, &e.id, Some(hex::encode(draft.digest()).as_str())).unwrap();
        assert_eq!(p.body, draft);
        let (_, now_signed) = ops::post_signature(&e.stores[l - 1], PASS, &api, &p, &format!("Member {l}")).unwrap();
        assert_eq!(now_signed, signed, "after member {l}");
    }

    // the record over HTTP, and from export-record's library function: the same, and complete
    let (status, http_record) = e.live.text(&e.path("record"));
    assert_eq!(status, "complete");
    let (_, http_board) = e.live.text(&e.path("record/board.jsonl"));
    let export = e.live.db(|c| dobush_server::export::build_record(c, &e.id)).unwrap();
    assert!(export.complete);
    let dir = e.live.tmp.path().join("record");
    dobush_server::export::write_record(&export, &dir).unwrap();
    let record_text = std::fs::read_to_string(dir.join("record.json")).unwrap();
    let board_text = std::fs::read_to_string(dir.join("board.jsonl")).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&record_text).unwrap(),
        serde_json::from_str::<Value>(&http_record).unwrap()
    );
    assert_eq!(board_text, http_board);
    check_record(&dir, &e, &expected);
}

/// Re-reads the exported record and checks it is consistent with the election, then runs the
/// independent verifier on it (the library entry of `dobush-verifier verify`).
fn check_record(dir: &Path, e: &Election, expected: &[Vec<u64>]) {
    let record: ElectionRecord =
        serde_json::from_str(&std::fs::read_to_string(dir.join("record.json")).unwrap()).unwrap();
    let board = std::fs::read_to_string(dir.join("board.jsonl")).unwrap();
    let lines: Vec<&str> = board.lines().collect();
    // the exported files follow docs/schemas/record.schema.json
    let as_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("record.json")).unwrap()).unwrap();
    assert_eq!(crate::schemas::schemas().errors(&as_json, &lines), Vec::<String>::new());
    assert_eq!(record.package, e.package);
    let last = record.tree_heads.last().unwrap();
    assert_eq!(last.head.size, lines.len() as u64, "the final head covers the whole board");
    let rebuilt = dobush_crypto::record::Board::from_lines(lines.iter().map(|l| l.to_string()).collect());
    assert_eq!(rebuilt.log().root(), last.head.root);
    last.verify(&record.package.board_key).unwrap();
    // the list, its signatures, the web app's hashes, opened; every ballot checked or cast; a
    // supersede marker per re-vote; closed
    assert_eq!(lines.len(), 4 + CHECKED + VOTERS + 2 * REVOTERS + 1);
    assert_eq!(record.results.iter().map(|r| r.counts.clone()).collect::<Vec<_>>(), expected);
    assert_eq!(record.encrypted_totals.iter().map(|t| t.ballots).collect::<Vec<_>>(), vec![VOTERS as u64; 2]);
    let from = |l: u32| record.decryption_shares.iter().filter(|s: &&DecryptionShare| s.key_holder == l).count();
    assert_eq!((from(1), from(2), from(3), from(4), from(5)), (11, 11, 0, 11, 11));
    let protocol: &ElectionProtocol = record.protocol.as_ref().unwrap();
    assert_eq!(protocol.signatures.len(), 3);
    protocol.verify_signatures().unwrap();
    assert_eq!(protocol.body.final_head, last.head.link());

    let report = dobush_verifier::record::verify_dir(dir, &dobush_verifier::record::Options::default());
    assert!(report.passed(), "{}", report.text());
    let names: Vec<&str> = report.checks.iter().map(|c| c.name).collect();
    for name in [
        "version",
        "context",
        "board",
        "entries",
        "credentials",
        "ballots",
        "uniqueness",
        "eligibility",
        "re-vote",
        "challenged",
        "totals",
        "protocol",
        "ceremony",
        "decryption",
    ] {
        assert!(names.contains(&name), "check {name} missing from {names:?}");
    }
    assert!(report.checks.iter().all(|c| c.passed && c.failure_count == 0), "{}", report.text());
    let count = |name: &str| report.checks.iter().find(|c| c.name == name).unwrap().count;
    let counts = [count("ballots"), count("eligibility"), count("challenged"), count("decryption")];
    let cast = (VOTERS + REVOTERS) as u64;
    assert_eq!(counts, [cast + CHECKED as u64, cast, CHECKED as u64, 55], "{}", report.text());
    let notes = report.notes_of("decryption").join("\n");
    assert!(
        notes.contains("of key-holder 5 set aside: signed by it, with an invalid proof"),
        "the invalid share is reported: {notes}"
    );
}

/// Runs `dobush-verifier watch <board> --package … --state … --once` (the command's own code,
/// [`dobush_verifier::watch::command`], which the binary's `main` only calls); its exit code.
fn watch_once(board_url: &str, package: &Path, state: &Path) -> u8 {
    let args: Vec<String> =
        [board_url, "--package", package.to_str().unwrap(), "--state", state.to_str().unwrap(), "--once"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    dobush_verifier::watch::command(&args)
}

/// The evidence files `watch` saved beside `state`, oldest first.
fn evidence(state: &Path) -> Vec<Value> {
    let prefix = format!("{}.evidence-", state.file_name().unwrap().to_str().unwrap());
    let mut files: Vec<_> = std::fs::read_dir(state.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with(&prefix))
        .collect();
    files.sort();
    files.iter().map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()).collect()
}

fn kept(state: &Path) -> Vec<Value> {
    serde_json::from_str(&std::fs::read_to_string(state).unwrap()).unwrap()
}

#[test]
fn watch_follows_the_live_board_and_catches_a_forged_head_and_a_split_view() {
    use diesel::prelude::*;
    use dobush_server::schema::tree_heads;
    let e = open_election(6, 0, 77);
    let mut rng = ChaCha20Rng::seed_from_u64(78);
    let dir = e.live.tmp.path();
    let package = dir.join("package.json");
    std::fs::write(&package, e.live.get(&e.path("package")).to_string()).unwrap();
    let board = format!("{}{}", e.live.url, e.path("board"));
    let state = dir.join("heads.json");

    // an observer polls twice while ballots are cast, keeping the heads
    e.cast(0, &plaintext(1, true), &mut rng);
    e.cast(1, &plaintext(2, false), &mut rng);
    assert_eq!(watch_once(&board, &package, &state), 0);
    assert_eq!(kept(&state).len(), 1);
    e.cast(2, &plaintext(3, true), &mut rng);
    e.cast(0, &plaintext(4, true), &mut rng);
    assert_eq!(watch_once(&board, &package, &state), 0);
    let heads = kept(&state);
    assert_eq!(heads.len(), 2);
    let live_head = e.live.get(&e.path("board/head"));
    assert_eq!(heads[1], live_head, "the second head kept is the server's latest");
    assert!(heads[0]["size"].as_u64() < heads[1]["size"].as_u64());

    // a forged head (the signature of a head signed since the last poll, altered in the server's
    // database) fails, and is not kept
    e.cast(1, &plaintext(5, true), &mut rng);
    let live_head = e.live.get(&e.path("board/head"));
    let size = live_head["size"].as_i64().unwrap();
    let sig = live_head["signature"].as_str().unwrap().to_string();
    let set_signature = |s: &str| {
        e.live.db(|c| {
            diesel::update(
                tree_heads::table.filter(tree_heads::campaign_id.eq(&e.id)).filter(tree_heads::tree_size.eq(size)),
            )
            .set(tree_heads::signature.eq(s))
            .execute(c)
            .unwrap()
        })
    };
    let forged = format!("{}{}", if sig.starts_with('0') { "1" } else { "0" }, &sig[1..]);
    assert_eq!(set_signature(&forged), 1);
    let before = std::fs::read_to_string(&state).unwrap();
    assert_eq!(watch_once(&board, &package, &state), 1);
    assert_eq!(std::fs::read_to_string(&state).unwrap(), before, "nothing kept from a failed poll");
    // what the server sent is kept as evidence: the forged head as served, the last kept head
    let ev = evidence(&state);
    assert_eq!(ev.len(), 1);
    assert!(ev[0]["failure"].as_str().unwrap().contains("signature invalid"), "{}", ev[0]);
    assert_eq!(ev[0]["last_kept_head"], kept(&state)[1]);
    assert!(ev[0]["responses"][0]["body"].as_array().unwrap().iter().any(|h| h["signature"] == forged.as_str()));
    set_signature(&sig);
    assert_eq!(watch_once(&board, &package, &state), 0);

    // a split view: the server (its own board key) showed another observer a head of another
    // board of the same election, one ballot swapped for another; when that observer next polls
    // the board everyone else sees, the consistency proof fails
    let key = dobush_server::board_log::load_key(&dir.join("board.key")).unwrap();
    let mut lines = e.live.db(|c| dobush_server::board_log::load_lines(c, &e.id)).unwrap();
    let n = lines.len();
    lines.swap(n - 1, n - 2);
    let fork = dobush_crypto::record::Board::from_lines(lines).sign_head(
        &key,
        e.package.base_hash,
        live_head["timestamp_ms"].as_u64().unwrap(),
        None,
    );
    let other = dir.join("other-observer.json");
    std::fs::write(&other, json!([fork]).to_string()).unwrap();
    e.cast(3, &plaintext(5, false), &mut rng);
    assert_eq!(watch_once(&board, &package, &other), 1);
    assert_eq!(kept(&other), vec![serde_json::to_value(fork).unwrap()], "the other observer keeps only its own head");
    // its evidence: its own (forked) head, the board's signed heads and the failing proof
    let ev = evidence(&other);
    assert_eq!(ev.len(), 1);
    assert!(ev[0]["failure"].as_str().unwrap().contains("not consistent"), "{}", ev[0]);
    assert_eq!(ev[0]["last_kept_head"], serde_json::to_value(fork).unwrap());
    let gets: Vec<&str> = ev[0]["responses"].as_array().unwrap().iter().map(|r| r["get"].as_str().unwrap()).collect();
    assert!(gets[0].contains("/heads?after=") && gets[1].contains("/consistency?first="), "{gets:?}");
    // the honest history still passes, up to the final head after closing
    assert_eq!(watch_once(&board, &package, &state), 0);
    e.close();
    assert_eq!(watch_once(&board, &package, &state), 0);
    let heads = kept(&state);
    assert_eq!(heads.last().unwrap(), &e.live.get(&e.path("board/head")));
    assert_eq!(heads.len(), 5);
}
