//! Casting and challenging ballots: receipts, one counted ballot per voter under both re-vote
//! policies (100 concurrent casts), copies, replays, wrong styles, tampered proofs, challenges.
//! The campaign's joint key comes from a real 3-of-5 key ceremony run over HTTP.

use dobush_crypto::ballot::{
    BallotSecrets, EncryptedBallot, PlaintextBallot, PlaintextContest, encrypt_ballot, verify_ballot,
};
use dobush_crypto::context::ElectionContext;
use dobush_crypto::credential::Credential;
use dobush_crypto::manifest::{BallotStyle, Contest, ContestOption, Localized, Manifest};
use dobush_crypto::parameters::ReVotePolicy;
use dobush_crypto::record::{BoardEntry, ElectionPackage, Receipt, counted_ballots};
use dobush_server::cast::commit::CastJob;
use rand::rngs::OsRng;
use serde_json::{Value, json};

use crate::helpers::*;

pub const VOTERS: [&str; 3] = [VOTER1, VOTER2, VOTER3];

/// An open campaign with three e-voters.
pub struct Election {
    pub app: TestApp,
    pub id: String,
    pub ctx: ElectionContext,
    pub package: ElectionPackage,
    pub creds: Vec<Credential>,
    pub voters: Vec<User>,
    /// The key ceremony (the key-holders' shares decrypt the totals in tests).
    pub ceremony: crate::ceremony::HttpCeremony,
    /// The commission member who signed the credential list (and signs replacements).
    pub member: ed25519_dalek::SigningKey,
}

pub fn manifest(id: &str) -> Manifest {
    manifest_with_options(id, 3)
}

/// The pilot's manifest with `n` candidates `c1 … cn` (one mark, "against all", blank).
pub fn manifest_with_options(id: &str, n: usize) -> Manifest {
    let option = |id: &str| ContestOption {
        id: id.into(),
        name: Localized::new([("ky", id.to_owned())]),
        details: Localized::default(),
    };
    Manifest {
        campaign_id: id.into(),
        title: Localized::new([("ky", "Самаркандек".to_owned())]),
        contests: vec![Contest {
            id: "council".into(),
            title: Localized::new([("ky", "Айылдык кеңеш".to_owned())]),
            options: (1..=n).map(|i| option(&format!("c{i}"))).collect(),
            min_marks: 1,
            max_marks: 1,
            against_all: true,
            blank_allowed: true,
        }],
        ballot_styles: vec![BallotStyle { id: "main".into(), contests: vec!["council".into()] }],
    }
}

/// When the steps of [`open_election_on`] happen, on the app's manual clock.
pub struct Schedule {
    pub voting_day: chrono::NaiveDate,
    pub window: (&'static str, &'static str),
    /// Campaign creation and the applications.
    pub apply_at: chrono::DateTime<chrono::Utc>,
    /// Freezing the manifest and opening the polls.
    pub open_at: chrono::DateTime<chrono::Utc>,
}

impl Schedule {
    /// The pilot's dates: 9 April 2023, 08:00–20:00, opened at noon.
    pub fn pilot() -> Self {
        Self {
            voting_day: chrono::NaiveDate::from_ymd_opt(2023, 4, 9).unwrap(),
            window: ("08:00", "20:00"),
            apply_at: default_now(),
            open_at: bishkek(2023, 4, 9, 12, 0, 0),
        }
    }

    /// Voting open now, in real time (for the server binary, which uses the system clock): today
    /// in Bishkek, 00:00–23:59, applications 20 days before. Within ten minutes of Bishkek midnight
    /// it first waits for the next day, so that the window holds for the whole test.
    pub async fn real_time() -> Self {
        use chrono::{Datelike, Duration, FixedOffset, NaiveTime, Timelike};
        let bishkek_tz = FixedOffset::east_opt(6 * 3600).unwrap();
        let local = chrono::Utc::now().with_timezone(&bishkek_tz);
        if local.time() >= NaiveTime::from_hms_opt(23, 50, 0).unwrap() {
            let left = 24 * 3600 - i64::from(local.time().num_seconds_from_midnight()) + 5;
            tokio::time::sleep(std::time::Duration::from_secs(left.unsigned_abs())).await;
        }
        let now = chrono::Utc::now();
        let day = now.with_timezone(&bishkek_tz).date_naive();
        let apply = day - Duration::days(20);
        Self {
            voting_day: day,
            window: ("00:00", "23:59"),
            apply_at: bishkek(apply.year(), apply.month(), apply.day(), 12, 0, 0),
            open_at: now,
        }
    }
}

/// Campaign → register → three applications → key ceremony over HTTP (3 of 5) → package →
/// frozen → open, on the pilot's dates.
pub async fn open_election(b: Backend, policy: &str) -> Election {
    open_election_on(spawn_app(b).await, policy, &Schedule::pilot()).await
}

/// [`open_election_on`] with a package that selects `format` (`"v1"` or `"v2"`).
pub async fn open_election_as(app: TestApp, policy: &str, schedule: &Schedule, format: &str) -> Election {
    open_election_with(app, policy, schedule, format).await
}

/// [`open_election`] on a given app and schedule.
pub async fn open_election_on(app: TestApp, policy: &str, schedule: &Schedule) -> Election {
    open_election_with(app, policy, schedule, "v1").await
}

async fn open_election_with(app: TestApp, policy: &str, schedule: &Schedule, format: &str) -> Election {
    app.clock.set(schedule.apply_at);
    let admin = app.admin().await;
    let mut body = pilot_campaign();
    body["revote_policy"] = policy.into();
    body["voting_day"] = schedule.voting_day.format("%Y-%m-%d").to_string().into();
    body["voting_window"] = json!({ "start": schedule.window.0, "end": schedule.window.1 });
    let id = create_campaign(&admin, &body).await;
    for a in ["start_test", "erase_test_data_and_open_registration"] {
        assert_eq!(transition(&admin, &id, a).await.status(), 200, "{a}");
    }
    import_csv(&admin, &id, REGISTER_CSV).await;
    let creds: Vec<Credential> = (0..VOTERS.len()).map(|_| Credential::generate(&mut OsRng).unwrap()).collect();
    let apply_all = |base: Option<[u8; 32]>| {
        let (app, id, creds) = (&app, &id, &creds);
        async move {
            for (pin, cred) in VOTERS.iter().zip(creds) {
                let v = app.login(pin).await;
                let body = match &base {
                    None => json!({ "credential": cred.public().0.to_hex() }),
                    Some(base) => v2_application(base, id, pin, "main", cred.signing_key(), ""),
                };
                let r = v.put(&format!("/api/campaigns/{id}/cabinet/application"), &body).await;
                assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
            }
        }
    };
    let (package, ceremony, member) = if format == "v1" {
        apply_all(None).await;
        install_package_and_open_as(&app, &id, manifest(&id), schedule, format).await
    } else {
        // a v2 application binds the base context, fixed once the key-holders registered
        assert_eq!(transition(&admin, &id, "start_key_ceremony").await.status(), 200);
        let ceremony = crate::ceremony::complete_ceremony(&app, &admin, &id).await;
        apply_all(Some(ceremony.c.context)).await;
        install_and_open(&app, &id, manifest(&id), schedule, format, ceremony).await
    };
    let ctx = package.context().unwrap();
    let mut voters = Vec::new();
    for pin in VOTERS {
        voters.push(app.login(pin).await);
    }
    Election { app, id, ctx, package, creds, voters, ceremony, member }
}

/// The commission's steps after the applications: key ceremony over HTTP (3 of 5), the package
/// with `manifest` installed, the manifest frozen, the clock moved to `schedule.open_at`, the
/// credential list signed, voting opened. Returns the published package and the ceremony (whose
/// shares decrypt the totals in tests).
pub async fn install_package_and_open(
    app: &TestApp,
    id: &str,
    manifest: Manifest,
    schedule: &Schedule,
) -> (ElectionPackage, crate::ceremony::HttpCeremony, ed25519_dalek::SigningKey) {
    install_package_and_open_as(app, id, manifest, schedule, "v1").await
}

/// [`install_package_and_open`] with a package of ballot format `format` (`"v1"` sends no
/// `ballot_format`, as every client did before v2).
pub async fn install_package_and_open_as(
    app: &TestApp,
    id: &str,
    manifest: Manifest,
    schedule: &Schedule,
    format: &str,
) -> (ElectionPackage, crate::ceremony::HttpCeremony, ed25519_dalek::SigningKey) {
    let admin = app.admin().await;
    assert_eq!(transition(&admin, id, "start_key_ceremony").await.status(), 200);
    let ceremony = crate::ceremony::complete_ceremony(app, &admin, id).await;
    install_and_open(app, id, manifest, schedule, format, ceremony).await
}

/// [`install_package_and_open_as`] after the key ceremony (`ceremony`, complete).
pub async fn install_and_open(
    app: &TestApp,
    id: &str,
    manifest: Manifest,
    schedule: &Schedule,
    format: &str,
    ceremony: crate::ceremony::HttpCeremony,
) -> (ElectionPackage, crate::ceremony::HttpCeremony, ed25519_dalek::SigningKey) {
    let admin = app.admin().await;
    let id = id.to_string();
    let path = format!("/api/campaigns/{id}/election-package");
    let mut req = json!({ "manifest": manifest });
    // a manifest of another campaign is refused, naming the field
    req["manifest"]["campaign_id"] = "other".into();
    let body = assert_error(admin.put(&path, &req).await, 422, "invalid_field").await;
    assert_eq!(body["field"], "manifest.campaign_id");
    req["manifest"]["campaign_id"] = id.clone().into();
    if format != "v1" {
        req["ballot_format"] = format.into();
    }
    let r = admin.put(&path, &req).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(transition(&admin, &id, "freeze_manifest").await.status(), 200);
    app.clock.set(schedule.open_at);
    let admin = app.admin().await;
    // voting does not open on an unsigned credential list
    assert_error(transition(&admin, &id, "open_voting").await, 409, "credential_list_unsigned").await;
    let member = sign_credential_list(app, &admin, &id).await;
    assert_eq!(transition(&admin, &id, "open_voting").await.status(), 200);
    let package: ElectionPackage =
        reqwest::get(app.url(&format!("/api/v1/campaigns/{id}/package"))).await.unwrap().json().await.unwrap();
    assert_eq!(package.context().unwrap().joint_key(), &ceremony.c.finish().unwrap().0.joint_key);
    (package, ceremony, member)
}

/// The OS's randomness, except that its first 16-byte draw (the ballot id) is the given one.
struct FirstDraw(Option<[u8; 16]>);

impl rand::RngCore for FirstDraw {
    fn next_u32(&mut self) -> u32 {
        OsRng.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        OsRng.next_u64()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        match self.0.take() {
            Some(id) if dest.len() == id.len() => dest.copy_from_slice(&id),
            _ => OsRng.fill_bytes(dest),
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rand::CryptoRng for FirstDraw {}

impl Election {
    /// A ballot of voter `v` for option `choice`.
    pub fn ballot(&self, v: usize, choice: usize) -> (EncryptedBallot, BallotSecrets) {
        self.ballot_with(v, choice, &mut OsRng)
    }

    /// A ballot of voter `v` for option `choice` whose ballot id is `id` (a modified client draws
    /// the id it likes: 08-ballot.md lets the device draw it).
    pub fn ballot_with_id(&self, v: usize, choice: usize, id: [u8; 16]) -> (EncryptedBallot, BallotSecrets) {
        self.ballot_with(v, choice, &mut FirstDraw(Some(id)))
    }

    fn ballot_with<R: rand::RngCore + rand::CryptoRng>(
        &self,
        v: usize,
        choice: usize,
        rng: &mut R,
    ) -> (EncryptedBallot, BallotSecrets) {
        encrypt_ballot(&self.ctx, self.creds[v].signing_key(), &self.plaintext(choice), rng).unwrap()
    }

    /// The plaintext ballot marking option `choice` of the one contest.
    pub fn plaintext(&self, choice: usize) -> PlaintextBallot {
        let n = self.ctx.manifest().contests[0].selection_count();
        let mut selections = vec![0u8; n];
        selections[choice] = 1;
        PlaintextBallot {
            style: "main".into(),
            contests: vec![PlaintextContest { contest_id: "council".into(), selections }],
        }
    }

    pub async fn cast(&self, v: usize, b: &Value) -> reqwest::Response {
        self.voters[v].post(&format!("/api/campaigns/{}/ballots", self.id), b).await
    }

    /// Statuses of the voter's ballot rows.
    pub async fn statuses(&self, pin: &str) -> Vec<String> {
        use diesel::prelude::*;
        use dobush_server::schema::ballots;
        let (id, pin) = (self.id.clone(), pin.to_string());
        self.app
            .with_db(move |c| {
                ballots::table
                    .filter(ballots::campaign_id.eq(id))
                    .filter(ballots::pin.eq(pin))
                    .order(ballots::id.asc())
                    .select(ballots::status)
                    .load::<String>(c)
                    .unwrap()
            })
            .await
    }

    /// The board up to the latest head (which, after a cast, covers the whole board).
    pub async fn board_lines(&self) -> Vec<String> {
        let head: Value = reqwest::get(self.app.url(&format!("/api/v1/campaigns/{}/board/head", self.id)))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let end = head["size"].as_u64().unwrap();
        let text =
            reqwest::get(self.app.url(&format!("/api/v1/campaigns/{}/board/entries?start=0&end={end}", self.id)))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
        text.lines().map(str::to_string).collect()
    }
}

async fn a_cast_ballot_gets_a_receipt_that_verifies(b: Backend) {
    let e = open_election(b, "forbidden").await;
    let (ballot, _) = e.ballot(0, 1);
    let r = e.cast(0, &serde_json::to_value(&ballot).unwrap()).await;
    assert_eq!(r.status(), 201);
    let receipt: Receipt = r.json().await.unwrap();
    receipt.verify(&e.package).unwrap();
    assert_eq!(receipt.index, 4, "after credential_list, credential_list_signed, web_assets and opened");
    assert_eq!(receipt.tree_head.head.size, 5);
    assert_eq!(e.statuses(VOTER1).await, vec!["counted"]);
    // the receipt's entry is on the board, byte for byte
    let lines = e.board_lines().await;
    assert_eq!(lines[4], receipt.entry);
    // a second ballot of the same voter under `forbidden`
    let (again, _) = e.ballot(0, 2);
    assert_error(e.cast(0, &serde_json::to_value(&again).unwrap()).await, 409, "already_voted").await;
    // a voter who is not logged in
    let r = reqwest::Client::new()
        .post(e.app.url(&format!("/api/campaigns/{}/ballots", e.id)))
        .json(&ballot)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

async fn cast_concurrently(e: &Election, n: usize) -> Vec<(u16, Value)> {
    let ballots: Vec<Value> = (0..n).map(|i| serde_json::to_value(e.ballot(0, i % 3).0).unwrap()).collect();
    let mut tasks = Vec::new();
    for b in ballots {
        let v = e.voters[0].clone();
        let path = format!("/api/campaigns/{}/ballots", e.id);
        tasks.push(tokio::spawn(async move {
            let r = v.post(&path, &b).await;
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

async fn hundred_concurrent_casts_count_once_under_forbidden(b: Backend) {
    let e = open_election(b, "forbidden").await;
    let results = cast_concurrently(&e, 100).await;
    let ok = results.iter().filter(|(s, _)| *s == 201).count();
    let already = results.iter().filter(|(s, v)| *s == 409 && v["error"] == "already_voted").count();
    assert_eq!(
        (ok, already),
        (1, 99),
        "{:?}",
        results.iter().filter(|(s, _)| *s != 201 && *s != 409).collect::<Vec<_>>()
    );
    assert_eq!(e.statuses(VOTER1).await, vec!["counted"]);
    let ballots_on_board = e.board_lines().await.iter().filter(|l| l.starts_with("{\"type\":\"ballot\"")).count();
    assert_eq!(ballots_on_board, 1);
}

async fn hundred_concurrent_casts_the_last_counts_under_last_counts(b: Backend) {
    let e = open_election(b, "last_counts").await;
    let results = cast_concurrently(&e, 100).await;
    assert!(results.iter().all(|(s, _)| *s == 201), "{:?}", results.iter().find(|(s, _)| *s != 201));
    let statuses = e.statuses(VOTER1).await;
    assert_eq!(statuses.iter().filter(|s| *s == "counted").count(), 1);
    assert_eq!(statuses.iter().filter(|s| *s == "superseded").count(), 99);
    // the board: 100 ballots, 99 supersede markers; the counted ballot is the last one on the
    // board, and the crypto crate's re-vote rule agrees with the database
    let lines = e.board_lines().await;
    let entries: Vec<BoardEntry> = lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    let ballots: Vec<_> = entries
        .iter()
        .filter_map(|x| match x {
            BoardEntry::Ballot { ballot, tracking_code } => Some((ballot.credential, *tracking_code)),
            _ => None,
        })
        .collect();
    let markers: Vec<_> = entries
        .iter()
        .filter_map(|x| match x {
            BoardEntry::Superseded { tracking_code, by } => Some((*tracking_code, *by)),
            _ => None,
        })
        .collect();
    assert_eq!((ballots.len(), markers.len()), (100, 99));
    let (counted, superseded) = counted_ballots(ReVotePolicy::LastCounts, &ballots, &[]).unwrap();
    assert_eq!(counted, vec![99]);
    assert_eq!(superseded, markers);
    let counted_code: String = {
        use diesel::prelude::*;
        use dobush_server::schema::ballots;
        let id = e.id.clone();
        e.app
            .with_db(move |c| {
                ballots::table
                    .filter(ballots::campaign_id.eq(id))
                    .filter(ballots::status.eq("counted"))
                    .select(ballots::tracking_code)
                    .first(c)
                    .unwrap()
            })
            .await
    };
    assert_eq!(counted_code, ballots[99].1.to_hex());
}

async fn copies_replays_wrong_styles_and_tampered_proofs_are_refused(b: Backend) {
    let e = open_election(b, "last_counts").await;
    let (ballot, _) = e.ballot(0, 0);
    let json = serde_json::to_value(&ballot).unwrap();
    // a ballot copied from another voter: signed with someone else's credential
    let body = assert_error(e.cast(1, &json).await, 422, "invalid_field").await;
    assert_eq!(body["field"], "credential");
    // another district's ballot
    let mut other = json.clone();
    other["style"] = "north".into();
    let body = assert_error(e.cast(0, &other).await, 422, "invalid_field").await;
    assert_eq!(body["field"], "ballot_style");
    // a tampered proof: the proof is named
    let mut bad = json.clone();
    let z0 = bad["contests"][0]["selections"][0]["proof"][0]["z"].clone();
    bad["contests"][0]["selections"][0]["proof"][0]["z"] = bad["contests"][0]["selections"][0]["proof"][1]["z"].clone();
    bad["contests"][0]["selections"][0]["proof"][1]["z"] = z0;
    let body = assert_error(e.cast(0, &bad).await, 422, "invalid_field").await;
    assert_eq!(body["field"], "contests[council].selections[0].proof", "{body}");
    // an altered signature
    let mut bad = json.clone();
    bad["signature"]["s"] = json["contests"][0]["selections"][0]["proof"][0]["z"].clone();
    let body = assert_error(e.cast(0, &bad).await, 422, "invalid_field").await;
    assert_eq!(body["field"], "signature");
    // garbage
    let body = assert_error(e.cast(0, &json!({ "style": "main" })).await, 400, "malformed_request").await;
    assert!(body["message"].as_str().unwrap().contains("missing field"), "{body}");
    // nothing of the above reached the database
    assert!(e.statuses(VOTER1).await.is_empty());
    // the real one, then its replay (even under last_counts, where re-voting is allowed)
    assert_eq!(e.cast(0, &json).await.status(), 201);
    assert_error(e.cast(0, &json).await, 409, "duplicate_ballot").await;
    assert_eq!(e.statuses(VOTER1).await, vec!["counted"]);
    // outside the window
    e.app.clock.set(bishkek(2023, 4, 9, 20, 0, 0));
    let (late, _) = e.ballot(0, 1);
    let voter = e.app.login(VOTER1).await;
    let r = voter.post(&format!("/api/campaigns/{}/ballots", e.id), &serde_json::to_value(&late).unwrap()).await;
    assert_error(r, 409, "outside_voting_window").await;
}

async fn a_bad_ballot_in_a_concurrent_batch_refuses_only_itself(b: Backend) {
    let e = open_election(b, "forbidden").await;
    let mut tasks = Vec::new();
    for v in 0..3 {
        let mut json = serde_json::to_value(e.ballot(v, v).0).unwrap();
        if v == 1 {
            let z0 = json["contests"][0]["selections"][2]["proof"][0]["z"].clone();
            json["contests"][0]["selections"][2]["proof"][0]["z"] =
                json["contests"][0]["selections"][2]["proof"][1]["z"].clone();
            json["contests"][0]["selections"][2]["proof"][1]["z"] = z0;
        }
        let (voter, path) = (e.voters[v].clone(), format!("/api/campaigns/{}/ballots", e.id));
        tasks.push(tokio::spawn(async move {
            let r = voter.post(&path, &json).await;
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    assert_eq!(out[0].0, 201);
    assert_eq!(out[2].0, 201);
    assert_eq!(out[1].0, 422, "{:?}", out[1]);
    assert_eq!(out[1].1["field"], "contests[council].selections[2].proof");
}

/// A second, valid signature of voter `v` over the same ballot body.
fn resign(e: &Election, v: usize, b: &EncryptedBallot) -> dobush_crypto::signature::Signature {
    use dobush_crypto::labels;
    use dobush_crypto::transcript::TranscriptProtocol;
    let body = dobush_crypto::ballot::body_hash(&e.ctx, b);
    let mut t = merlin::Transcript::protocol(labels::DS_BALLOT_SIGNATURE);
    t.append_message(labels::L_CONTEXT, e.ctx.extended_hash());
    t.append_message(labels::L_BODY_HASH, &body);
    e.creds[v].signing_key().sign(&mut t, &mut OsRng)
}

async fn a_challenged_ballot_is_posted_and_can_never_be_cast(b: Backend) {
    let e = open_election(b, "last_counts").await;
    let (ballot, secrets) = e.ballot(1, 2);
    let opening = secrets.open();
    let path = format!("/api/campaigns/{}/challenges", e.id);
    // a wrong opening is refused, naming it
    let mut wrong = serde_json::to_value(&opening).unwrap();
    wrong["contests"][0][0]["mark"] = 1.into();
    let body = assert_error(
        e.voters[1].post(&path, &json!({ "ballot": ballot, "opening": wrong })).await,
        422,
        "invalid_field",
    )
    .await;
    assert_eq!(body["field"], "opening");
    let r = e.voters[1].post(&path, &json!({ "ballot": ballot, "opening": opening })).await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["plaintext"]["contests"][0]["selections"], json!([0, 0, 1, 0, 0]));
    let entry: BoardEntry = serde_json::from_str(v["receipt"]["entry"].as_str().unwrap()).unwrap();
    assert!(matches!(entry, BoardEntry::Challenged { .. }));
    assert_eq!(e.statuses(VOTER2).await, vec!["challenged"]);
    // never cast afterwards: not as it is …
    assert_error(e.cast(1, &serde_json::to_value(&ballot).unwrap()).await, 409, "duplicate_ballot").await;
    // … nor re-signed (a new tracking code, the same ciphertexts: the ciphertext index refuses it) …
    let mut resigned = ballot.clone();
    resigned.signature = resign(&e, 1, &ballot);
    assert_error(e.cast(1, &serde_json::to_value(&resigned).unwrap()).await, 409, "ciphertext_replayed").await;
    // … nor with its ciphertexts under a fresh ballot id and signature (proofs then fail) …
    let (fresh, _) = e.ballot(1, 2);
    let mut reused = serde_json::to_value(&fresh).unwrap();
    reused["contests"] = serde_json::to_value(&ballot.contests).unwrap();
    let r = e.cast(1, &reused).await;
    assert!(r.status().is_client_error(), "{}", r.status());
    assert_eq!(e.statuses(VOTER2).await, vec!["challenged"]);
    // a new ballot of the voter is accepted and counted
    assert_eq!(e.cast(1, &serde_json::to_value(&fresh).unwrap()).await.status(), 201);
    assert_eq!(e.statuses(VOTER2).await, vec!["challenged", "counted"]);
}

/// The campaign's ballot ids on the board, in board order.
async fn board_ballot_ids(e: &Election) -> Vec<String> {
    e.board_lines()
        .await
        .iter()
        .filter_map(|l| match serde_json::from_str(l).unwrap() {
            BoardEntry::Ballot { ballot, .. } | BoardEntry::Challenged { ballot, .. } => {
                Some(hex::encode(ballot.ballot_id))
            }
            _ => None,
        })
        .collect()
}

/// Issue 18: a modified client casts a valid ballot of its own voter under another voter's ballot
/// id. Accepted, it made the record fail uniqueness (V09) and the key-holders refuse to tally: one
/// voter blocked the tally. It is refused at cast and at challenge time, whichever came first.
async fn a_ballot_id_taken_by_another_ballot_is_refused(b: Backend) {
    let e = open_election(b, "last_counts").await;
    let (first, _) = e.ballot(0, 0);
    assert_eq!(e.cast(0, &serde_json::to_value(&first).unwrap()).await.status(), 201);
    // another voter's valid ballot (its own credential, fresh ciphertexts) under the same id
    let (copy, copy_secrets) = e.ballot_with_id(1, 1, first.ballot_id);
    let body = assert_error(e.cast(1, &serde_json::to_value(&copy).unwrap()).await, 409, "duplicate_ballot_id").await;
    assert!(body["message"].as_str().unwrap().contains("ballot id"), "{body}");
    // nor as a Benaloh check
    let path = format!("/api/campaigns/{}/challenges", e.id);
    let r = e.voters[1].post(&path, &json!({ "ballot": copy, "opening": copy_secrets.open() })).await;
    assert_error(r, 409, "duplicate_ballot_id").await;
    // nor the voter's own re-vote (last_counts) under the id of its counted ballot
    let (again, _) = e.ballot_with_id(0, 2, first.ballot_id);
    assert_error(e.cast(0, &serde_json::to_value(&again).unwrap()).await, 409, "duplicate_ballot_id").await;
    assert!(e.statuses(VOTER2).await.is_empty());
    assert_eq!(e.statuses(VOTER1).await, ["counted"]);
    // a challenged ballot's id is taken too: a later cast under it is refused
    let (checked, checked_secrets) = e.ballot(2, 0);
    let r = e.voters[2].post(&path, &json!({ "ballot": checked, "opening": checked_secrets.open() })).await;
    assert_eq!(r.status(), 201);
    let (copy, _) = e.ballot_with_id(1, 1, checked.ballot_id);
    assert_error(e.cast(1, &serde_json::to_value(&copy).unwrap()).await, 409, "duplicate_ballot_id").await;
    // the voter's own fresh ballot is still accepted, and the board holds each id once
    assert_eq!(e.cast(1, &serde_json::to_value(&e.ballot(1, 1).0).unwrap()).await.status(), 201);
    let ids = board_ballot_ids(&e).await;
    assert_eq!(ids.len(), 3);
    assert_eq!(ids.iter().collect::<std::collections::HashSet<_>>().len(), ids.len(), "{ids:?}");
}

/// The jobs of a group commit for `e`'s election.
async fn jobs(
    e: &Election,
    casts: Vec<(&str, &EncryptedBallot, Option<dobush_crypto::ballot::BallotOpening>)>,
) -> Vec<CastJob> {
    let (state, id) = (e.app.state.clone(), e.id.clone());
    let election = e.app.with_db(move |c| state.boards.election(c, &id).unwrap()).await;
    casts
        .into_iter()
        .map(|(pin, ballot, opening)| {
            CastJob::new(pin, verify_ballot(&e.ctx, ballot.clone(), &mut OsRng).unwrap(), opening, election.clone())
                .unwrap()
        })
        .collect()
}

/// The answers of a group as `201` or the error code.
fn codes(answers: &[Result<Receipt, dobush_server::error::ApiError>]) -> Vec<&'static str> {
    answers.iter().map(|a| a.as_ref().map_or_else(|e| e.code(), |_| "201")).collect()
}

async fn one_group_answers_each_cast_as_if_it_came_alone(b: Backend) {
    let e = open_election(b, "forbidden").await;
    let (a, _) = e.ballot(0, 1);
    let (b1, _) = e.ballot(1, 0);
    let (b2, _) = e.ballot(1, 2);
    let (c, c_secrets) = e.ballot(2, 3);
    let mut c_resigned = c.clone();
    c_resigned.signature = resign(&e, 2, &c);
    let (c2, _) = e.ballot(2, 4);
    let group = jobs(
        &e,
        vec![
            (VOTER1, &a, None),
            (VOTER1, &a, None),
            (VOTER2, &b1, None),
            (VOTER2, &b2, None),
            (VOTER3, &c, Some(c_secrets.open())),
            (VOTER3, &c_resigned, None),
            (VOTER3, &c2, None),
            ("10101199900000", &b2, None),
        ],
    )
    .await;
    let answers = e.app.state.committer.record_together(&e.id, group).await.unwrap();
    assert_eq!(
        codes(&answers),
        ["201", "duplicate_ballot", "201", "already_voted", "201", "ciphertext_replayed", "201", "not_on_register"]
    );
    // one transaction, one head: every receipt proves inclusion in it, and it covers the board
    let receipts: Vec<&Receipt> = answers.iter().filter_map(|a| a.as_ref().ok()).collect();
    let lines = e.board_lines().await;
    for r in &receipts {
        if !r.entry.starts_with("{\"type\":\"challenged\"") {
            r.verify(&e.package).unwrap(); // a cast's receipt (a check's is not a ballot receipt)
        }
        assert_eq!(r.tree_head, receipts[0].tree_head);
        assert_eq!(lines[r.index as usize], r.entry);
    }
    assert_eq!(receipts[0].tree_head.head.size, lines.len() as u64);
    assert_eq!(receipts.iter().map(|r| r.index).collect::<Vec<_>>(), [4, 5, 6, 7]);
    assert_eq!(e.statuses(VOTER1).await, ["counted"]);
    assert_eq!(e.statuses(VOTER2).await, ["counted"]);
    assert_eq!(e.statuses(VOTER3).await, ["challenged", "counted"]);
    // a group of refusals only writes nothing, not even a head
    let heads = reqwest::get(e.app.url(&format!("/api/v1/campaigns/{}/board/heads", e.id)))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let again = e
        .app
        .state
        .committer
        .record_together(&e.id, jobs(&e, vec![(VOTER1, &a, None), (VOTER2, &b2, None)]).await)
        .await
        .unwrap();
    assert_eq!(codes(&again), ["duplicate_ballot", "already_voted"]);
    let heads_after = reqwest::get(e.app.url(&format!("/api/v1/campaigns/{}/board/heads", e.id)))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(heads, heads_after);
    assert_eq!(e.board_lines().await, lines);
}

async fn one_group_supersedes_within_itself_under_last_counts(b: Backend) {
    let e = open_election(b, "last_counts").await;
    let (a, _) = e.ballot(0, 1);
    let (b1, _) = e.ballot(0, 2);
    let (other, _) = e.ballot(1, 0);
    let group =
        jobs(&e, vec![(VOTER1, &a, None), (VOTER2, &other, None), (VOTER1, &b1, None), (VOTER1, &a, None)]).await;
    let answers = e.app.state.committer.record_together(&e.id, group).await.unwrap();
    assert_eq!(codes(&answers), ["201", "201", "201", "duplicate_ballot"]);
    assert_eq!(e.statuses(VOTER1).await, ["superseded", "counted"]);
    let lines = e.board_lines().await;
    let entries: Vec<BoardEntry> = lines[4..].iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    let (ta, tb) = (answers[0].as_ref().unwrap().tracking_code, answers[2].as_ref().unwrap().tracking_code);
    assert!(matches!(&entries[..], [
        BoardEntry::Ballot { tracking_code: x, .. },
        BoardEntry::Ballot { .. },
        BoardEntry::Superseded { tracking_code: s, by },
        BoardEntry::Ballot { tracking_code: y, .. },
    ] if *x == ta && *s == ta && *by == tb && *y == tb));
    // the encrypted totals kept at cast time hold exactly the counted ballots (b1 and other)
    let mut expected = dobush_crypto::tally::EncryptedTally::new(&e.ctx);
    for ballot in [&b1, &other] {
        expected.add(&verify_ballot(&e.ctx, ballot.clone(), &mut OsRng).unwrap()).unwrap();
    }
    let (id, ctx) = (e.id.clone(), e.ctx.clone());
    let (kept, count) = e.app.with_db(move |c| dobush_server::close::shards::shard_totals(c, &id, &ctx).unwrap()).await;
    assert_eq!(count, 2);
    assert_eq!(serde_json::to_value(kept).unwrap(), serde_json::to_value(expected.totals().unwrap()).unwrap());
}

/// Two ballots of different voters with one ballot id in one group commit: the first is recorded,
/// the second refused, exactly as if it had come alone after it.
async fn one_group_refuses_a_second_ballot_with_the_same_ballot_id(b: Backend) {
    let e = open_election(b, "forbidden").await;
    let (x, _) = e.ballot(0, 0);
    let (y, _) = e.ballot_with_id(1, 1, x.ballot_id);
    let (z, z_secrets) = e.ballot_with_id(2, 2, x.ballot_id);
    let (w, _) = e.ballot(2, 1);
    let group = jobs(
        &e,
        vec![(VOTER1, &x, None), (VOTER2, &y, None), (VOTER3, &z, Some(z_secrets.open())), (VOTER3, &w, None)],
    )
    .await;
    let answers = e.app.state.committer.record_together(&e.id, group).await.unwrap();
    assert_eq!(codes(&answers), ["201", "duplicate_ballot_id", "duplicate_ballot_id", "201"]);
    assert!(e.statuses(VOTER2).await.is_empty());
    assert_eq!(e.statuses(VOTER3).await, ["counted"]);
    // and across groups: a later group meets the stored id
    let (v, _) = e.ballot_with_id(1, 2, x.ballot_id);
    let answers = e.app.state.committer.record_together(&e.id, jobs(&e, vec![(VOTER2, &v, None)]).await).await.unwrap();
    assert_eq!(codes(&answers), ["duplicate_ballot_id"]);
    let ids = board_ballot_ids(&e).await;
    assert_eq!(ids.len(), 2, "{ids:?}");
}

/// A voter's rows as (id, status, superseded_by, board_index), and the board's entries linked to
/// a ballot as (idx, kind, ballot_id).
#[allow(clippy::type_complexity)]
async fn rows_and_entries(
    e: &Election,
    pin: &str,
) -> (Vec<(i64, String, Option<i64>, Option<i64>)>, Vec<(i64, String, Option<i64>)>) {
    use diesel::prelude::*;
    use dobush_server::schema::{ballots, board_entries};
    let (id, pin) = (e.id.clone(), pin.to_string());
    e.app
        .with_db(move |c| {
            let rows = ballots::table
                .filter(ballots::campaign_id.eq(&id))
                .filter(ballots::pin.eq(pin))
                .order(ballots::id.asc())
                .select((ballots::id, ballots::status, ballots::superseded_by, ballots::board_index))
                .load(c)
                .unwrap();
            let entries = board_entries::table
                .filter(board_entries::campaign_id.eq(&id))
                .filter(board_entries::ballot_id.is_not_null())
                .order(board_entries::idx.asc())
                .select((board_entries::idx, board_entries::kind, board_entries::ballot_id))
                .load(c)
                .unwrap();
            (rows, entries)
        })
        .await
}

async fn one_group_continues_a_chain_of_supersessions_from_a_stored_ballot(b: Backend) {
    let e = open_election(b, "last_counts").await;
    let ((z, _), (a, _), (b1, _)) = (e.ballot(0, 0), e.ballot(0, 1), e.ballot(0, 2));
    let first = e.app.state.committer.record_together(&e.id, jobs(&e, vec![(VOTER1, &z, None)]).await).await.unwrap();
    assert_eq!(codes(&first), ["201"]);
    let group = jobs(&e, vec![(VOTER1, &a, None), (VOTER1, &b1, None)]).await;
    let answers = e.app.state.committer.record_together(&e.id, group).await.unwrap();
    assert_eq!(codes(&answers), ["201", "201"]);
    let (rows, entries) = rows_and_entries(&e, VOTER1).await;
    let [(iz, sz, bz, xz), (ia, sa, ba, xa), (ib, sb, bb, xb)] = &rows[..] else { panic!("three rows: {rows:?}") };
    assert_eq!((sz.as_str(), sa.as_str(), sb.as_str()), ("superseded", "superseded", "counted"));
    // z was superseded by a (stored before the group), a by b1 (within the group)
    assert_eq!((*bz, *ba, *bb), (Some(*ia), Some(*ib), None));
    let (xz, xa, xb) = (xz.unwrap(), xa.unwrap(), xb.unwrap());
    // the board: z's ballot, z superseded by a, a's ballot, a superseded by b1, b1's ballot; each
    // entry linked to its ballot row, each row to its entry
    assert_eq!((xa, xb), (xz + 2, xz + 4));
    let kinds = |k: &str| k.to_string();
    assert_eq!(
        entries,
        vec![
            (xz, kinds("ballot"), Some(*iz)),
            (xz + 1, kinds("superseded"), Some(*iz)),
            (xa, kinds("ballot"), Some(*ia)),
            (xa + 1, kinds("superseded"), Some(*ia)),
            (xb, kinds("ballot"), Some(*ib)),
        ]
    );
    let receipts: Vec<i64> = answers.iter().map(|r| i64::try_from(r.as_ref().unwrap().index).unwrap()).collect();
    assert_eq!(receipts, [xa, xb]);
    // the totals kept at cast time hold b1 only: z and a were subtracted (a from the group's
    // memory, z read back from its board entry)
    let mut expected = dobush_crypto::tally::EncryptedTally::new(&e.ctx);
    expected.add(&verify_ballot(&e.ctx, b1.clone(), &mut OsRng).unwrap()).unwrap();
    let (id, ctx) = (e.id.clone(), e.ctx.clone());
    let (kept, count) = e.app.with_db(move |c| dobush_server::close::shards::shard_totals(c, &id, &ctx).unwrap()).await;
    assert_eq!(count, 1);
    assert_eq!(serde_json::to_value(kept).unwrap(), serde_json::to_value(expected.totals().unwrap()).unwrap());
}

/// Makes the database refuse every `ballots` row of `pin` (an injected fault: a trigger).
async fn refuse_ballot_rows_of(e: &Election, pin: &'static str) {
    use diesel::connection::SimpleConnection;
    e.app
        .with_db(move |c| {
            let sql = if matches!(c, dobush_server::db::AnyConnection::Postgresql(_)) {
                format!(
                    "CREATE FUNCTION injected_fault() RETURNS trigger AS $$ BEGIN \
                       IF NEW.pin = '{pin}' THEN RAISE EXCEPTION 'injected fault'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql; \
                     CREATE TRIGGER injected_fault BEFORE INSERT ON ballots FOR EACH ROW EXECUTE FUNCTION injected_fault();"
                )
            } else {
                format!(
                    "CREATE TRIGGER injected_fault BEFORE INSERT ON ballots WHEN NEW.pin = '{pin}' \
                     BEGIN SELECT RAISE(ABORT, 'injected fault'); END;"
                )
            };
            c.batch_execute(&sql).unwrap();
        })
        .await
}

async fn a_failed_group_is_recorded_cast_by_cast(b: Backend) {
    let e = open_election(b, "forbidden").await;
    refuse_ballot_rows_of(&e, VOTER2).await;
    let ((x, _), (y, _), (z, _)) = (e.ballot(0, 0), e.ballot(1, 1), e.ballot(2, 2));
    let casts = || vec![(VOTER1, &x, None), (VOTER2, &y, None), (VOTER3, &z, None)];
    let board_size = || async {
        use diesel::prelude::*;
        use dobush_server::schema::board_entries;
        let id = e.id.clone();
        let n: i64 = e
            .app
            .with_db(move |c| {
                board_entries::table.filter(board_entries::campaign_id.eq(id)).count().get_result(c).unwrap()
            })
            .await;
        usize::try_from(n).unwrap()
    };
    let (before, head_before) = (board_size().await, e.board_lines().await.len());
    // together, the group's transaction fails as a whole: nothing of it is written, no head
    assert!(e.app.state.committer.record_together(&e.id, jobs(&e, casts()).await).await.is_err());
    assert_eq!((board_size().await, e.board_lines().await.len()), (before, head_before));
    assert!(e.statuses(VOTER1).await.is_empty());
    // as the queue records a group: after the failure each cast alone, so the fault refuses only
    // the cast it concerns
    let answers = e.app.state.committer.record_or_each(&e.id, jobs(&e, casts()).await).await.unwrap();
    assert_eq!(codes(&answers), ["201", "internal_error", "201"]);
    assert_eq!(e.statuses(VOTER1).await, ["counted"]);
    assert!(e.statuses(VOTER2).await.is_empty());
    assert_eq!(e.statuses(VOTER3).await, ["counted"]);
    assert_eq!(board_size().await, before + 2);
    let lines = e.board_lines().await;
    assert_eq!(lines.len(), before + 2);
    // each receipt verifies (signed head, inclusion) and names its own entry; one head each
    for (answer, ballot) in [(&answers[0], &x), (&answers[2], &z)] {
        let receipt = answer.as_ref().unwrap();
        receipt.verify(&e.package).unwrap();
        assert_eq!(lines[usize::try_from(receipt.index).unwrap()], receipt.entry);
        assert_eq!(receipt.tracking_code, *verify_ballot(&e.ctx, ballot.clone(), &mut OsRng).unwrap().tracking_code());
    }
    let (h1, h3) = (&answers[0].as_ref().unwrap().tree_head.head, &answers[2].as_ref().unwrap().tree_head.head);
    assert_eq!((h1.size, h3.size), (u64::try_from(before).unwrap() + 1, u64::try_from(before).unwrap() + 2));
}

crate::backend_tests!(
    a_ballot_id_taken_by_another_ballot_is_refused,
    one_group_refuses_a_second_ballot_with_the_same_ballot_id,
    one_group_answers_each_cast_as_if_it_came_alone,
    a_failed_group_is_recorded_cast_by_cast,
    one_group_supersedes_within_itself_under_last_counts,
    one_group_continues_a_chain_of_supersessions_from_a_stored_ballot,
    a_cast_ballot_gets_a_receipt_that_verifies,
    hundred_concurrent_casts_count_once_under_forbidden,
    hundred_concurrent_casts_the_last_counts_under_last_counts,
    copies_replays_wrong_styles_and_tampered_proofs_are_refused,
    a_challenged_ballot_is_posted_and_can_never_be_cast,
    a_bad_ballot_in_a_concurrent_batch_refuses_only_itself,
);
