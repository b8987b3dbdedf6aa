//! Casting v2 ballots (docs/protocol/13-revoting.md §3.4, §3.7, §4.1–4.2) through real requests
//! and real logins: the package's cast verifier key, the board's `ballot_v2` entry without the
//! credential, re-votes without a public trace, the cast opening against the logged-in voter's
//! registered credential, the α-uniqueness rule with cred.α and tbase.α, `forbidden`, the format
//! of the campaign, every single-field change of a cast request, and a closed v2 campaign that
//! refuses to be tallied.

use std::collections::HashSet;

use dobush_crypto::ballot_v2::ballot::{BallotSecretsV2, BallotV2, body_hash_v2, encrypt_ballot_v2};
use dobush_crypto::ballot_v2::cast_opening::{
    CastOpening, CastVerifierSecret, OpeningStatement, prove_cast_opening, simulate_cast_opening,
};
use dobush_crypto::ballot_v2::credential_proof::prove_credential;
use dobush_crypto::credential::Credential;
use dobush_crypto::group::GroupElement;
use dobush_crypto::record::Receipt;
use rand::RngCore;
use rand::rngs::OsRng;
use serde_json::{Value, json};

use crate::ballots::{Election, Schedule, open_election_as};
use crate::helpers::*;

/// An open v2 campaign (three e-voters, `policy`).
pub(crate) async fn open_v2(b: Backend, policy: &str) -> Election {
    open_election_as(spawn_app(b).await, policy, &Schedule::pilot(), "v2").await
}

/// Randomness from the OS, except that the `n`th 64-byte draw is `fixed` (to reuse r_X, the
/// first, or r_V, the second, across ballots: §3.6 draws the ballot id, then r_X, then r_V).
struct FixedDraw {
    seen: usize,
    n: usize,
    fixed: [u8; 64],
}

impl rand::RngCore for FixedDraw {
    fn next_u32(&mut self) -> u32 {
        OsRng.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        OsRng.next_u64()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        if dest.len() == 64 {
            self.seen += 1;
            if self.seen == self.n {
                dest.copy_from_slice(&self.fixed);
                return;
            }
        }
        OsRng.fill_bytes(dest);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rand::CryptoRng for FixedDraw {}

impl Election {
    /// Y_S from the published package.
    fn cast_verifier_key(&self) -> GroupElement {
        self.package.parameters.ballot_v2.expect("a v2 package").cast_verifier_key
    }

    /// A v2 ballot made with voter `v`'s credential for option `choice`.
    fn ballot_v2_with<R: rand::RngCore + rand::CryptoRng>(
        &self,
        v: usize,
        choice: usize,
        rng: &mut R,
    ) -> (BallotV2, BallotSecretsV2) {
        encrypt_ballot_v2(&self.ctx, self.creds[v].signing_key(), &self.plaintext(choice), rng).unwrap()
    }

    /// `f` of the opening statement of `ballot`, voter `v`'s registered credential and `key`.
    fn statement<T>(
        &self,
        v: usize,
        ballot: &BallotV2,
        key: &GroupElement,
        f: impl FnOnce(&OpeningStatement) -> T,
    ) -> T {
        let body = body_hash_v2(&self.ctx, ballot);
        let enc = ballot.encrypted_credential();
        let registered = self.creds[v].public();
        f(&OpeningStatement { ctx: &self.ctx, body_hash: &body, enc: &enc, registered: &registered, verifier_key: key })
    }

    /// The device's cast opening of `ballot` for voter `v`'s registered credential.
    fn opening(&self, v: usize, ballot: &BallotV2, secrets: &BallotSecretsV2) -> CastOpening {
        self.statement(v, ballot, &self.cast_verifier_key(), |st| {
            prove_cast_opening(st, secrets.credential_nonces(), &mut OsRng).unwrap()
        })
    }

    /// An opening of `ballot` for voter `v`'s credential simulated with `y` (as its holder can,
    /// §3.4), for the key `y`·G.
    fn simulated(&self, v: usize, ballot: &BallotV2, y: &CastVerifierSecret) -> CastOpening {
        self.statement(v, ballot, y.public_key(), |st| simulate_cast_opening(st, y, &mut OsRng).unwrap())
    }

    /// `ballot` with its credential proof made anew (voter `v`'s credential and `secrets`) over
    /// its body as it now is: a ballot changed after encryption whose only fault is the change.
    fn reproved(&self, v: usize, mut ballot: BallotV2, secrets: &BallotSecretsV2) -> BallotV2 {
        let body = body_hash_v2(&self.ctx, &ballot);
        let enc = ballot.encrypted_credential();
        ballot.credential_proof = prove_credential(
            &self.ctx,
            &body,
            self.creds[v].signing_key(),
            &enc,
            secrets.credential_nonces(),
            &mut OsRng,
        )
        .unwrap();
        ballot
    }

    /// A cast request of voter `v` for `choice`: `{"ballot", "opening_proof"}`.
    pub(crate) fn cast_request(&self, v: usize, choice: usize) -> (Value, BallotV2) {
        let (ballot, secrets) = self.ballot_v2_with(v, choice, &mut OsRng);
        let opening = self.opening(v, &ballot, &secrets);
        (json!({ "ballot": ballot, "opening_proof": opening }), ballot)
    }

    /// Every board line, audit detail and alert reason the server wrote, concatenated.
    pub(crate) async fn written_text(&self) -> String {
        use diesel::prelude::*;
        use dobush_server::schema::{alerts, audit_log, board_entries};
        self.app
            .with_db(move |c| {
                let mut all: Vec<String> = board_entries::table.select(board_entries::payload).load(c).unwrap();
                all.extend(audit_log::table.select(audit_log::details).load::<String>(c).unwrap());
                all.extend(alerts::table.select(alerts::reason).load::<String>(c).unwrap());
                all.concat()
            })
            .await
    }

    /// The stored cast verifier secret y, hex (never served while the campaign is open).
    async fn stored_secret(&self) -> String {
        use diesel::prelude::*;
        use dobush_server::schema::cast_verifier_secrets as s;
        let id = self.id.clone();
        self.app
            .with_db(move |c| s::table.filter(s::campaign_id.eq(id)).select(s::secret).first::<String>(c).unwrap())
            .await
    }
}

/// A point nobody knows the logarithm of (a fresh credential's public key).
fn random_point() -> GroupElement {
    Credential::generate(&mut OsRng).unwrap().public().0
}

/// The canonical encoding of a random scalar below 2²⁵² (< ℓ).
fn random_scalar_hex() -> String {
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    b[31] &= 0x0f;
    hex::encode(b)
}

/// Every 64-hex-digit string in a JSON text (points, scalars, codes).
fn hex32s(text: &str) -> HashSet<String> {
    fn walk(v: &Value, out: &mut HashSet<String>) {
        match v {
            Value::String(s) if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) => {
                out.insert(s.clone());
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            Value::Object(o) => o.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = HashSet::new();
    walk(&serde_json::from_str(text).unwrap(), &mut out);
    out
}

async fn v2_casts_are_recorded_without_the_credential_and_re_votes_leave_no_trace(b: Backend) {
    let e = open_v2(b, "last_counts").await;
    // the package publishes Y_S, bound by the extended hash; y is nowhere public
    let y = e.stored_secret().await;
    let secret = CastVerifierSecret::from_bytes(&hex::decode(&y).unwrap()).unwrap();
    assert_eq!(secret.public_key(), &e.cast_verifier_key());
    let package_text =
        reqwest::get(e.app.url(&format!("/api/v1/campaigns/{}/package", e.id))).await.unwrap().text().await.unwrap();
    assert!(package_text.contains(&e.cast_verifier_key().to_hex()) && !package_text.contains(&y));
    let mut unbound = e.package.clone();
    unbound.parameters.ballot_v2 = None;
    assert!(unbound.context().is_err(), "the extended hash binds the v2 parameters");

    // a cast: 201, a receipt that verifies, a `ballot_v2` entry that names no credential
    let (first, first_ballot) = e.cast_request(0, 1);
    let r = e.cast(0, &first).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let receipt: Receipt = r.json().await.unwrap();
    receipt.verify(&e.package).unwrap();
    let lines = e.board_lines().await;
    let line = &lines[usize::try_from(receipt.index).unwrap()];
    assert_eq!(line, &receipt.entry);
    let entry: Value = serde_json::from_str(line).unwrap();
    assert_eq!(entry["type"], "ballot_v2");
    assert_eq!(entry["ballot"], serde_json::to_value(&first_ballot).unwrap());
    for cred in &e.creds {
        assert!(!line.contains(&cred.public().0.to_hex()), "a credential on the board");
    }
    assert!(!line.contains("credential\"") && !line.contains("signature") && !line.contains("opening"));

    // the re-vote: recorded, no `superseded` entry, no value shared with the first ballot
    let (second, _) = e.cast_request(0, 2);
    let r = e.cast(0, &second).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let again: Receipt = r.json().await.unwrap();
    assert_eq!(again.index, receipt.index + 1, "the re-vote is the next entry: nothing between");
    let lines = e.board_lines().await;
    assert!(lines.iter().all(|l| !l.contains("superseded")));
    let shared: HashSet<_> = hex32s(line).intersection(&hex32s(&again.entry)).cloned().collect();
    assert!(shared.is_empty(), "the two ballots share {shared:?}");
    // the server's own rows keep one counted ballot per voter; nothing of that is published
    assert_eq!(e.statuses(VOTER1).await, vec!["superseded", "counted"]);
    for l in &lines {
        assert!(!l.contains(&y), "y on the board");
    }

    // a v1 ballot on a v2 campaign
    let (v1, _) = e.ballot(1, 0);
    let body = assert_error(e.cast(1, &serde_json::to_value(&v1).unwrap()).await, 422, "invalid_field").await;
    assert_eq!(body["field"], "ballot_format");

    // voter 1 posts voter 0's fresh ballot and opening: the opening is for another credential
    let (other, _) = e.cast_request(0, 0);
    assert_error(e.cast(1, &other).await, 403, "credential_mismatch").await;
    // voter 1's ballot with an opening made for voter 0's credential (a buyer holding voter 0's seed)
    let (ballot, secrets) = e.ballot_v2_with(0, 0, &mut OsRng);
    let opening = e.opening(0, &ballot, &secrets);
    assert_error(e.cast(1, &json!({ "ballot": ballot, "opening_proof": opening })).await, 403, "credential_mismatch")
        .await;
    // an opening simulated with a y that is not the campaign's
    let (ballot, _) = e.ballot_v2_with(1, 0, &mut OsRng);
    let forged = e.simulated(1, &ballot, &CastVerifierSecret::generate(&mut OsRng));
    assert_error(e.cast(1, &json!({ "ballot": ballot, "opening_proof": forged })).await, 403, "credential_mismatch")
        .await;
    // with the campaign's y it passes (which is why an opening is evidence to nobody but the server)
    let simulated = e.simulated(1, &ballot, &secret);
    let r = e.cast(1, &json!({ "ballot": ballot, "opening_proof": simulated })).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    assert_eq!(e.app.refusals("cast_refused").await, 3, "each credential_mismatch is audited as a refusal");

    // α reuse across the board: voter 2's ballot with voter 0's r_X (the same cred.α) …
    let fixed = {
        let mut f = [0u8; 64];
        OsRng.fill_bytes(&mut f);
        f
    };
    let (a, sa) = e.ballot_v2_with(0, 0, &mut FixedDraw { seen: 0, n: 1, fixed });
    let r = e.cast(0, &json!({ "ballot": a, "opening_proof": e.opening(0, &a, &sa) })).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let (reuse, sr) = e.ballot_v2_with(2, 0, &mut FixedDraw { seen: 0, n: 1, fixed });
    assert_eq!(reuse.cred.alpha, a.cred.alpha);
    let request = json!({ "ballot": reuse, "opening_proof": e.opening(2, &reuse, &sr) });
    assert_error(e.cast(2, &request).await, 409, "ciphertext_replayed").await;
    // … and with the r_V of a ballot on the board (the same tbase.α)
    let tb = {
        let mut f = [0u8; 64];
        OsRng.fill_bytes(&mut f);
        f
    };
    let (d, sd) = e.ballot_v2_with(1, 2, &mut FixedDraw { seen: 0, n: 2, fixed: tb });
    let r = e.cast(1, &json!({ "ballot": d, "opening_proof": e.opening(1, &d, &sd) })).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let (d2, sd2) = e.ballot_v2_with(2, 1, &mut FixedDraw { seen: 0, n: 2, fixed: tb });
    assert_eq!(d2.tbase.alpha, d.tbase.alpha);
    let request = json!({ "ballot": d2, "opening_proof": e.opening(2, &d2, &sd2) });
    assert_error(e.cast(2, &request).await, 409, "ciphertext_replayed").await;
    // voter 2's own fresh ballot still goes through: nothing above was recorded
    let (fresh, _) = e.cast_request(2, 1);
    let r = e.cast(2, &fresh).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

    // no value of any opening (accepted or refused), and not y, is stored anywhere the server
    // writes text: the board, the audit log, the alerts
    let openings: HashSet<String> =
        [&first, &second, &other, &fresh].iter().flat_map(|r| hex32s(&r["opening_proof"].to_string())).collect();
    assert_eq!(openings.len(), 40);
    let written = e.written_text().await;
    for value in openings.iter().chain([&y]) {
        assert!(!written.contains(value.as_str()), "{value} stored");
    }
}

/// Under `last_counts` a voter's chain casts at most c − 1 = 5 e-ballots (13-revoting.md §9.2):
/// the sixth is refused (409 `ballot_limit`) and written nowhere, a challenge is still taken,
/// and another voter is not affected. A longer chain would be an exception group in the filter's
/// public cover (review 19-filtered H3).
async fn a_v2_voter_casts_at_most_five_e_ballots(b: Backend) {
    let e = open_v2(b, "last_counts").await;
    for choice in 0..5 {
        let (request, _) = e.cast_request(0, choice % 3);
        let r = e.cast(0, &request).await;
        assert_eq!(r.status(), 201, "ballot {choice}: {}", r.text().await.unwrap());
    }
    let before = e.board_lines().await.len();
    let (request, _) = e.cast_request(0, 1);
    assert_error(e.cast(0, &request).await, 409, "ballot_limit").await;
    assert_eq!(e.board_lines().await.len(), before, "nothing of the refused ballot is on the board");
    let (ballot, secrets) = e.ballot_v2_with(0, 2, &mut OsRng);
    let r = e.voters[0]
        .post(&format!("/api/campaigns/{}/challenges", e.id), &json!({ "ballot": ballot, "opening": secrets.open() }))
        .await;
    assert_eq!(r.status(), 201, "a challenge is not a cast ballot: {}", r.text().await.unwrap());
    let (request, _) = e.cast_request(1, 0);
    assert_eq!(e.cast(1, &request).await.status(), 201);
}

async fn a_v2_ballot_is_checked_opened_and_refused_a_second_time_under_forbidden(b: Backend) {
    let e = open_v2(b, "forbidden").await;
    // a Benaloh check opens the votes only; its ballot can never be cast afterwards
    let (ballot, secrets) = e.ballot_v2_with(2, 2, &mut OsRng);
    let opening_proof = e.opening(2, &ballot, &secrets);
    let r = e.voters[2]
        .post(&format!("/api/campaigns/{}/challenges", e.id), &json!({ "ballot": ballot, "opening": secrets.open() }))
        .await;
    assert_eq!(r.status(), 201);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["plaintext"]["contests"][0]["selections"][2], 1);
    let entry: Value = serde_json::from_str(answer["receipt"]["entry"].as_str().unwrap()).unwrap();
    assert_eq!(entry["type"], "challenged_v2");
    assert_eq!(entry["opening"].as_object().unwrap().keys().collect::<Vec<_>>(), ["ballot_id", "contests"]);
    assert_error(
        e.cast(2, &json!({ "ballot": ballot, "opening_proof": opening_proof })).await,
        409,
        "duplicate_ballot",
    )
    .await;

    // a tampered ballot: one vote's ciphertext changed, with its credential proof and a valid
    // cast opening made anew over the changed ballot (its body hash changed), so that only the
    // verification of its contests can refuse it: 422 naming the vote, never 403
    // `credential_mismatch` (review 19-cast-v2 F5)
    let (mut tampered, secrets) = e.ballot_v2_with(0, 1, &mut OsRng);
    tampered.contests[0].selections[0].ciphertext.beta = random_point();
    let tampered = e.reproved(0, tampered, &secrets);
    let request = json!({ "ballot": tampered, "opening_proof": e.opening(0, &tampered, &secrets) });
    let body = assert_error(e.cast(0, &request).await, 422, "invalid_field").await;
    assert!(body["field"].as_str().is_some_and(|f| f.starts_with("contests[council].selections[0]")), "{body}");

    // one ballot; the second is refused
    let (first, _) = e.cast_request(0, 1);
    assert_eq!(e.cast(0, &first).await.status(), 201);
    let (second, _) = e.cast_request(0, 0);
    assert_error(e.cast(0, &second).await, 409, "already_voted").await;

    // closed: y is revealed right after `closed`, under the same head, and matches Y_S …
    let y = e.stored_secret().await;
    assert!(e.board_lines().await.iter().all(|l| !l.contains(&y)), "y on the board before closing");
    crate::tally::close(&e).await;
    let lines = e.board_lines().await;
    let [closed, revealed] = &lines[lines.len() - 2..] else { unreachable!() };
    assert!(closed.starts_with(r#"{"type":"closed""#), "{closed}");
    let revealed: Value = serde_json::from_str(revealed).unwrap();
    assert_eq!(revealed, json!({ "type": "cast_verifier_revealed", "secret": y }));
    let secret = CastVerifierSecret::from_bytes(&hex::decode(&y).unwrap()).unwrap();
    assert_eq!(secret.public_key(), &e.cast_verifier_key());
    assert_eq!(lines.iter().filter(|l| l.contains("cast_verifier_revealed")).count(), 1);
    // … and the campaign refuses to be tallied instead of summing every v2 ballot
    assert_error(crate::tally::totals(&e).await, 409, "v2_not_tallied").await;
}

/// Every single-field change of a v2 cast request (each value replaced by another of its kind,
/// each field removed, a field added at every level) is refused, and the unchanged request is
/// then accepted: the refusals were the changes'. A changed ballot that still decodes gets a
/// valid cast opening over itself (simulated with the campaign's y), and a changed contest also
/// a credential proof made anew, so that only the ballot's own verification can refuse it: 422
/// or 409, never 403 (review 19-cast-v2 F5); only a change of the opening itself is refused as
/// `credential_mismatch`.
async fn every_single_field_change_of_a_v2_cast_is_refused(b: Backend) {
    let e = open_v2(b, "last_counts").await;
    let y = CastVerifierSecret::from_bytes(&hex::decode(e.stored_secret().await).unwrap()).unwrap();
    let (ballot, secrets) = e.ballot_v2_with(1, 2, &mut OsRng);
    let request = json!({ "ballot": ballot, "opening_proof": e.opening(1, &ballot, &secrets) });
    let mut paths = Vec::new();
    fn leaves(v: &Value, path: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
        match v {
            Value::Object(o) => {
                for (k, x) in o {
                    path.push(k.clone().into());
                    leaves(x, path, out);
                    path.pop();
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    path.push(i.into());
                    leaves(x, path, out);
                    path.pop();
                }
            }
            _ => out.push(path.clone()),
        }
    }
    leaves(&request, &mut Vec::new(), &mut paths);
    assert!(paths.len() > 40, "{}", paths.len());
    let mut mutants = Vec::new();
    for path in &paths {
        let mut m = request.clone();
        let leaf = at(&mut m, path);
        *leaf = match &*leaf {
            Value::String(s) if GroupElement::from_hex(s).is_ok() => random_point().to_hex().into(),
            Value::String(s) if s.len() == 64 => random_scalar_hex().into(),
            Value::String(s) if s.len() == 32 => {
                let mut id = [0u8; 16];
                OsRng.fill_bytes(&mut id);
                hex::encode(id).into()
            }
            Value::String(s) => format!("{s}x").into(),
            Value::Number(n) => (n.as_u64().unwrap() + 1).into(),
            other => panic!("unexpected leaf {other} at {path:?}"),
        };
        mutants.push((format!("{path:?} changed"), m));
    }
    // removed and added fields, at every object
    let mut objects = vec![Vec::new()];
    for path in &paths {
        for n in 1..path.len() {
            if path[n - 1].is_string() && !objects.contains(&path[..n - 1].to_vec()) {
                objects.push(path[..n - 1].to_vec());
            }
        }
    }
    for object in &objects {
        let mut m = request.clone();
        at(&mut m, object).as_object_mut().unwrap().insert("extra".into(), 0.into());
        mutants.push((format!("{object:?} + extra"), m));
        for key in request_keys(&request, object) {
            let mut m = request.clone();
            at(&mut m, object).as_object_mut().unwrap().remove(&key);
            mutants.push((format!("{object:?} - {key}"), m));
        }
    }
    let (mut remade, mut contests) = (0, 0);
    for (what, m) in &mutants {
        let mut m = m.clone();
        let of_ballot = what.starts_with("[String(\"ballot\")");
        if of_ballot {
            let decoded = m.get("ballot").and_then(|b| serde_json::from_value::<BallotV2>(b.clone()).ok());
            if let Some(mut ballot) = decoded {
                if what.starts_with("[String(\"ballot\"), String(\"contests\")") {
                    ballot = e.reproved(1, ballot, &secrets);
                    m["ballot"] = serde_json::to_value(&ballot).unwrap();
                    contests += 1;
                }
                m["opening_proof"] = serde_json::to_value(e.simulated(1, &ballot, &y)).unwrap();
                remade += 1;
            }
        }
        let r = e.cast(1, &m).await;
        let status = r.status().as_u16();
        let body = r.text().await.unwrap();
        if of_ballot {
            // refused by the ballot's own checks (400 when it no longer decodes)
            assert!([400, 409, 422].contains(&status), "{what}: {status} {body}");
        } else {
            assert!([400, 403].contains(&status), "{what}: {status} {body}");
            if status == 403 {
                assert!(body.contains("credential_mismatch"), "{what}: {body}");
            }
        }
    }
    assert!(remade > 30 && contests > 20, "{remade} mutants of the ballot got a fresh opening, {contests} a proof");
    let r = e.cast(1, &request).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

/// The value at `path` (keys and indices).
fn at<'a>(v: &'a mut Value, path: &[Value]) -> &'a mut Value {
    let mut cur = v;
    for p in path {
        cur = match p {
            Value::String(k) => cur.get_mut(k.as_str()).unwrap(),
            Value::Number(i) => cur.get_mut(usize::try_from(i.as_u64().unwrap()).unwrap()).unwrap(),
            _ => unreachable!(),
        };
    }
    cur
}

fn request_keys(request: &Value, object: &[Value]) -> Vec<String> {
    let mut cur = request;
    for p in object {
        cur = match p {
            Value::String(k) => &cur[k.as_str()],
            Value::Number(i) => &cur[usize::try_from(i.as_u64().unwrap()).unwrap()],
            _ => unreachable!(),
        };
    }
    cur.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default()
}

/// v2 verification runs on the blocking pool in a bounded number of slots (review 19-cast-v2
/// F6): with one slot, held here, and no wait, a v2 cast is answered 503 with `Retry-After`
/// and nothing is recorded; once the slot is free the same request is accepted.
async fn a_v2_cast_finding_every_verification_slot_taken_is_answered_503(b: Backend) {
    let app = spawn_app_with(b, |s| {
        s.server.v2_verifications = 1;
        s.server.v2_verification_wait_ms = 0;
    })
    .await;
    let e = open_election_as(app, "last_counts", &Schedule::pilot(), "v2").await;
    let slot = e.app.state.verifier.v2_slot().await.expect("the only slot is free");
    assert!(e.app.state.verifier.v2_slot().await.is_none(), "one slot only");
    let (request, _) = e.cast_request(0, 1);
    let r = e.cast(0, &request).await;
    assert_eq!(r.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
    assert_error(r, 503, "unavailable").await;
    assert!(e.board_lines().await.iter().all(|l| !l.contains("ballot_v2")), "nothing recorded");
    drop(slot);
    let r = e.cast(0, &request).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

/// A v1 campaign keeps its package (no `ballot_v2`) and refuses a v2 cast.
async fn a_v1_campaign_refuses_a_v2_ballot(b: Backend) {
    let e = crate::ballots::open_election(b, "last_counts").await;
    assert!(e.package.parameters.ballot_v2.is_none());
    let (ballot, _) = e.ballot_v2_with(0, 1, &mut OsRng);
    // an opening made with some key: the format is refused before any opening is looked at
    let opening = e.simulated(0, &ballot, &CastVerifierSecret::generate(&mut OsRng));
    let body =
        assert_error(e.cast(0, &json!({ "ballot": ballot, "opening_proof": opening })).await, 422, "invalid_field")
            .await;
    assert_eq!(body["field"], "ballot_format");
    let (v1, _) = e.ballot(0, 1);
    assert_eq!(e.cast(0, &serde_json::to_value(&v1).unwrap()).await.status(), 201);
}

/// v2 is unfinished (no tally; the list and replacements still name credentials: review
/// 19-cast-v2 F1–F4): a server that does not allow it refuses a v2 package before anything else,
/// so that one administrator cannot make a real campaign v2. (The test servers allow it.)
async fn a_server_that_does_not_allow_v2_refuses_a_v2_package(b: Backend) {
    let app = spawn_app_with(b, |s| s.campaigns.allow_unfinished_ballot_v2 = false).await;
    let admin = app.admin().await;
    let id = create_campaign(&admin, &pilot_campaign()).await;
    let path = format!("/api/campaigns/{id}/election-package");
    let req = json!({ "manifest": crate::ballots::manifest(&id), "ballot_format": "v2" });
    let body = assert_error(admin.put(&path, &req).await, 422, "invalid_field").await;
    assert_eq!(body["field"], "ballot_format");
    // the same request as v1 goes past the format (to the ceremony, not yet done here)
    let r = admin.put(&path, &json!({ "manifest": crate::ballots::manifest(&id) })).await;
    assert_eq!(r.status(), 409, "{}", r.text().await.unwrap());
}

/// A closed v2 campaign (`last_counts`): voter 0 casts then votes again, voter 1 casts, replaces
/// its credential and casts with the new one, voter 2 challenges a ballot. Returns it with the
/// receipts of the four cast ballots, in cast order.
pub(crate) async fn closed_v2_election_with_receipts(b: Backend) -> (Election, Vec<String>) {
    let mut e = open_v2(b, "last_counts").await;
    let mut receipts = Vec::new();
    for (v, choice) in [(0, 1), (1, 0), (0, 2), (1, 1)] {
        if receipts.len() == 3 {
            crate::credentials_v2::replace_v2(&mut e, 1, VOTER2).await;
        }
        let (request, _) = e.cast_request(v, choice);
        let r = e.cast(v, &request).await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        receipts.push(r.text().await.unwrap());
    }
    let (ballot, secrets) = e.ballot_v2_with(2, 2, &mut OsRng);
    let r = e.voters[2]
        .post(&format!("/api/campaigns/{}/challenges", e.id), &json!({ "ballot": ballot, "opening": secrets.open() }))
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    crate::tally::close(&e).await;
    (e, receipts)
}

/// [`closed_v2_election_with_receipts`] without the receipts.
pub(crate) async fn closed_v2_election(b: Backend) -> Election {
    closed_v2_election_with_receipts(b).await.0
}

/// The record of a closed v2 campaign as the server serves it (`partial`: no filter has run).
pub(crate) async fn partial_record(e: &Election) -> (String, String) {
    let url = |p: &str| e.app.url(&format!("/api/v1/campaigns/{}/{p}", e.id));
    let r = reqwest::get(url("record")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["dobush-record-status"], "partial");
    let record = r.text().await.unwrap();
    let board = reqwest::get(url("record/board.jsonl")).await.unwrap().text().await.unwrap();
    (record, board)
}

/// A closed v2 campaign exports its record (review 19-cast-v2 F4) and the independent verifier
/// reads it: every ballot's proofs and tracking code, uniqueness (cred.α and tbase.α included),
/// the challenged ballot's opening and the revealed cast verifier secret hold; eligibility and the
/// re-vote rule are left to the filter, said in a note; and the record proves no result until the
/// filter runs (the totals check fails, saying why). Every receipt, the replaced one included,
/// is answered alike: recorded. The board's format is the package's: a v1 entry on it is refused.
async fn a_closed_v2_campaign_exports_a_record_the_verifier_reads(b: Backend) {
    use dobush_verifier::record::{Options, verify, verify_receipt};
    let (e, receipts) = closed_v2_election_with_receipts(b).await;
    let (record, board) = partial_record(&e).await;
    // the shapes of docs/schemas/record.schema.json
    let rec: Value = serde_json::from_str(&record).unwrap();
    let errors: Vec<String> = schema("record.schema.json", None).iter_errors(&rec).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let entry = schema("record.schema.json", Some("boardEntry"));
    for line in board.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert!(entry.is_valid(&v), "{line}");
    }
    let report = verify(&record, board.as_bytes(), &Options::default());
    for check in &report.checks {
        let expected_to_fail = ["totals", "protocol", "filtered", "decryption"].contains(&check.name);
        assert_eq!(check.passed, !expected_to_fail, "{}", report.text());
    }
    assert!(report.pending() && report.text().contains("NO RESULT IS PROVED YET"), "{}", report.text());
    let count = |name: &str| report.checks.iter().find(|c| c.name == name).map(|c| c.count);
    assert_eq!(count("ballots"), Some(5), "four cast ballots and a challenged one");
    assert_eq!(count("cast verifier"), Some(1));
    assert!(report.failures_of("totals")[0].contains("filter"), "{}", report.text());
    for name in ["eligibility", "re-vote"] {
        assert!(report.notes_of(name).iter().any(|n| n.contains("filter")), "{}", report.text());
    }
    let texts: Vec<String> = receipts
        .iter()
        .map(|r| {
            let rep = verify_receipt(&record, board.as_bytes(), r);
            assert!(rep.failures_of("receipt").is_empty(), "{}", rep.text());
            rep.checks.iter().map(|c| format!("{} {} {:?}", c.id, c.passed, c.failures)).collect::<Vec<_>>().join("\n")
        })
        .collect();
    assert!(texts.iter().all(|t| t == &texts[0]), "the receipts of a replaced and a last ballot are answered alike");

    // forged boards, re-signed by the holder of the board key: each refused by the check named
    let lines: Vec<String> = board.lines().map(str::to_owned).collect();
    let last = lines.len() - 1;
    let forged = |f: &dyn Fn(&mut Vec<String>)| {
        let mut lines = lines.clone();
        f(&mut lines);
        let forged = resigned(&e, &record, &lines);
        verify(&forged, lines.iter().map(|l| format!("{l}\n")).collect::<String>().as_bytes(), &Options::default())
    };
    let reveal =
        |secret: [u8; 32]| json!({ "type": "cast_verifier_revealed", "secret": hex::encode(secret) }).to_string();
    let other = CastVerifierSecret::from_bytes(&[7; 32]).unwrap().to_bytes();
    let replacement = json!({
        "type": "credential_replaced", "old": e.creds[0].public().0.to_hex(), "new": random_point().to_hex(),
        "style": "s", "decision": "d", "signatures": []
    })
    .to_string();
    let marker = json!({ "type": "superseded", "tracking_code": "00".repeat(32), "by": "11".repeat(32) }).to_string();
    type Forgery<'a> = &'a dyn Fn(&mut Vec<String>);
    let cases: [(&str, &str, Forgery); 7] = [
        ("cast verifier", "y·G ≠ Y_S", &|l| l[last] = reveal(other)),
        ("cast verifier", "zero", &|l| l[last] = reveal([0; 32])),
        ("cast verifier", "not revealed", &|l| {
            l.pop();
        }),
        ("entries", "at most once", &|l| l.push(l[last].clone())),
        ("entries", "right after `closed`", &|l| l.swap(last - 1, last)),
        ("entries", "\"superseded\" entry on the board of a v2 campaign", &|l| l.insert(last - 1, marker.clone())),
        ("entries", "\"credential_replaced\" entry on the board of a v2 campaign", &|l| {
            l.insert(2, replacement.clone())
        }),
    ];
    for (check, failure, f) in cases {
        let rep = forged(f);
        assert!(rep.failures_of(check).iter().any(|m| m.contains(failure)), "{failure}: {}", rep.text());
        assert!(!rep.pending() && rep.text().contains("does NOT verify"), "{failure}: refused, not pending");
    }
    // a receipt of a challenged ballot is not a receipt of a cast one
    let challenged = lines.iter().position(|l| l.contains("challenged_v2")).unwrap();
    let mut receipt: Value = serde_json::from_str(&receipts[0]).unwrap();
    receipt["entry"] = json!(lines[challenged]);
    receipt["index"] = json!(challenged);
    let rep = verify_receipt(&record, board.as_bytes(), &receipt.to_string());
    assert!(!rep.failures_of("receipt").is_empty(), "{}", rep.text());
}

/// `record` with every tree head re-signed over `lines` by the server's board key (a server
/// forging a board).
fn resigned(e: &Election, record: &str, lines: &[String]) -> String {
    let mut rec: Value = serde_json::from_str(record).unwrap();
    crate::record_mutations::resign(&mut rec, lines, e.app.state.boards.key());
    rec.to_string()
}

crate::backend_tests!(
    a_closed_v2_campaign_exports_a_record_the_verifier_reads,
    a_server_that_does_not_allow_v2_refuses_a_v2_package,
    v2_casts_are_recorded_without_the_credential_and_re_votes_leave_no_trace,
    a_v2_ballot_is_checked_opened_and_refused_a_second_time_under_forbidden,
    every_single_field_change_of_a_v2_cast_is_refused,
    a_v2_cast_finding_every_verification_slot_taken_is_answered_503,
    a_v1_campaign_refuses_a_v2_ballot,
    a_v2_voter_casts_at_most_five_e_ballots,
);
