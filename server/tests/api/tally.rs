//! After voting: encrypted totals kept in shards at cast time and published at closing (equal to
//! the board's recomputation; a mismatch publishes nothing and raises an alert), ballot issuance.

use diesel::prelude::*;
use dobush_crypto::dlog::DlogTable;
use dobush_crypto::tally::ContestTotals;
use dobush_crypto::threshold::decrypt::TotalId;
use dobush_server::schema::{ballots_issued, encrypted_totals};
use rand::rngs::OsRng;
use serde_json::{Value, json};

use crate::ballots::{Election, open_election};
use crate::helpers::*;

/// Casts voter `v`'s ballot for `choice`; 201 expected.
pub async fn vote(e: &Election, v: usize, choice: usize) {
    let (b, _) = e.ballot(v, choice);
    let r = e.cast(v, &serde_json::to_value(&b).unwrap()).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

pub async fn close(e: &Election) {
    e.app.clock.set(bishkek(2023, 4, 9, 20, 0, 0));
    let admin = e.app.admin().await;
    let r = transition(&admin, &e.id, "close_voting").await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

pub async fn totals(e: &Election) -> reqwest::Response {
    reqwest::get(e.app.url(&format!("/api/v1/campaigns/{}/totals", e.id))).await.unwrap()
}

/// Decrypts every total with the shares of key-holders 1 … t (as the key-holders would).
pub fn decrypt(e: &Election, totals: &[ContestTotals]) -> Vec<Vec<u64>> {
    use dobush_crypto::threshold::decrypt::{ShareKeys, verify_and_combine};
    let table = DlogTable::new(100);
    let (outcome, shares) = e.ceremony.c.finish().unwrap();
    let ext = *e.ctx.extended_hash();
    totals
        .iter()
        .enumerate()
        .map(|(ci, c)| {
            c.totals
                .iter()
                .enumerate()
                .map(|(j, ct)| {
                    let total = TotalId { contest: ci as u32, option: j as u32 };
                    let partial: Vec<_> = shares[..3]
                        .iter()
                        .zip(&e.ceremony.c.keys)
                        .map(|(s, k)| s.partial_decrypt(&ext, total, ct, k.signing_key(), &mut OsRng).unwrap())
                        .collect();
                    verify_and_combine(
                        &e.ceremony.c.params,
                        &ext,
                        &ShareKeys::new(&outcome.verification_keys, &e.ceremony.c.publics).unwrap(),
                        total,
                        ct,
                        &partial,
                        &table,
                    )
                    .unwrap()
                    .count
                })
                .collect()
        })
        .collect()
}

async fn shard_rows(e: &Election) -> Vec<(i32, i64)> {
    let id = e.id.clone();
    e.app
        .with_db(move |c| {
            encrypted_totals::table
                .filter(encrypted_totals::campaign_id.eq(id))
                .select((encrypted_totals::shard, encrypted_totals::ballot_count))
                .load(c)
                .unwrap()
        })
        .await
}

async fn totals_kept_at_cast_time_are_published_at_closing(b: Backend) {
    let e = open_election(b, "last_counts").await;
    assert_error(totals(&e).await, 409, "not_closed").await;
    // voter 0: c1 then c3 (re-vote), voter 1: against all, voter 2: c1
    vote(&e, 0, 0).await;
    vote(&e, 1, 3).await;
    vote(&e, 2, 0).await;
    vote(&e, 0, 2).await;
    let rows = shard_rows(&e).await;
    assert!(!rows.is_empty());
    assert_eq!(rows.iter().map(|(_, n)| n).sum::<i64>(), 3, "three counted ballots in the shards: {rows:?}");
    close(&e).await;
    let r = totals(&e).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let published: Vec<ContestTotals> = serde_json::from_value(body["encrypted_totals"].clone()).unwrap();
    assert_eq!(published[0].ballots, 3);
    // options c1, c2, c3, against all, blank
    assert_eq!(decrypt(&e, &published), vec![vec![1, 0, 1, 1, 0]]);
    // every voter who cast is counted as issued
    let id = e.id.clone();
    let issued: i64 = e
        .app
        .with_db(move |c| {
            ballots_issued::table.filter(ballots_issued::campaign_id.eq(id)).count().get_result(c).unwrap()
        })
        .await;
    assert_eq!(issued, 3);
}

async fn a_shard_that_differs_from_the_board_publishes_nothing_and_alerts(b: Backend) {
    let e = open_election(b, "forbidden").await;
    vote(&e, 0, 1).await;
    vote(&e, 1, 2).await;
    // someone with database access moves a vote inside a shard (swaps two selections' sums)
    let id = e.id.clone();
    e.app
        .with_db(move |c| {
            let (style, shard, text): (String, i32, String) = encrypted_totals::table
                .filter(encrypted_totals::campaign_id.eq(&id))
                .select((encrypted_totals::ballot_style, encrypted_totals::shard, encrypted_totals::totals))
                .first(c)
                .unwrap();
            let mut t: Vec<ContestTotals> = serde_json::from_str(&text).unwrap();
            t[0].totals.swap(0, 1);
            diesel::update(
                encrypted_totals::table
                    .filter(encrypted_totals::campaign_id.eq(&id))
                    .filter(encrypted_totals::ballot_style.eq(style))
                    .filter(encrypted_totals::shard.eq(shard)),
            )
            .set(encrypted_totals::totals.eq(serde_json::to_string(&t).unwrap()))
            .execute(c)
            .unwrap();
        })
        .await;
    let alerts_before = e.app.open_alerts().await;
    close(&e).await;
    assert_error(totals(&e).await, 409, "totals_mismatch").await;
    assert_eq!(e.app.open_alerts().await, alerts_before + 1);
}

async fn ballot_issued_is_recorded_once_for_e_voters_while_open(b: Backend) {
    let e = open_election(b, "forbidden").await;
    let path = format!("/api/v1/campaigns/{}/ballot-issued", e.id);
    for _ in 0..2 {
        let r = e.voters[0].post(&path, &Value::Null).await;
        assert_eq!(r.status(), 204);
    }
    // not logged in
    let r = reqwest::Client::new().post(e.app.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    // someone not on the register (refused, audited, alerted)
    let other = e.app.admin().await;
    let alerts_before = e.app.open_alerts().await;
    assert_error(other.post(&path, &Value::Null).await, 403, "not_on_register").await;
    assert_eq!(e.app.open_alerts().await, alerts_before + 1);
    let id = e.id.clone();
    let issued: Vec<String> = e
        .app
        .with_db(move |c| {
            ballots_issued::table
                .filter(ballots_issued::campaign_id.eq(id))
                .select(ballots_issued::pin)
                .load(c)
                .unwrap()
        })
        .await;
    assert_eq!(issued, vec![VOTER1.to_string()]);
    close(&e).await;
    let v = e.app.login(VOTER2).await;
    assert_error(v.post(&path, &Value::Null).await, 409, "voting_not_open").await;
}

/// Stores the results of the one contest as the combination of the key-holders' shares would,
/// and marks the campaign tallied (the shares themselves are tested on their own).
pub async fn store_results(e: &Election, ballots: u64, counts: &[u64]) {
    let id = e.id.clone();
    let results =
        vec![dobush_crypto::tally::ContestResult { contest_id: "council".into(), ballots, counts: counts.to_vec() }];
    e.app
        .with_db(move |c| {
            use dobush_server::schema::{campaigns, tallies};
            diesel::update(tallies::table.filter(tallies::campaign_id.eq(&id)))
                .set(tallies::results.eq(serde_json::to_string(&results).unwrap()))
                .execute(c)
                .unwrap();
            diesel::update(campaigns::table.filter(campaigns::id.eq(&id)))
                .set(campaigns::state.eq("tallied"))
                .execute(c)
                .unwrap();
        })
        .await;
}

fn line<'a>(body: &'a Value, key: &str) -> &'a Value {
    body["general"].as_array().unwrap().iter().find(|l| l["key"] == key).unwrap()
}

async fn the_protocol_is_drawn_up_checked_saved_and_signed(b: Backend) {
    use dobush_crypto::election_protocol::{ElectionProtocol, ProtocolBody};
    let e = open_election(b, "last_counts").await;
    let path = |p: &str| format!("/api/v1/campaigns/{}/{p}", e.id);
    e.voters[2].post(&path("ballot-issued"), &Value::Null).await;
    vote(&e, 0, 1).await;
    vote(&e, 1, 1).await;
    vote(&e, 0, 3).await;
    // the tally and the protocol's state changes are not manual when there is an election
    e.app.clock.set(bishkek(2023, 4, 9, 20, 0, 0));
    let admin = e.app.admin().await;
    assert_eq!(transition(&admin, &e.id, "close_voting").await.status(), 200);
    assert_error(transition(&admin, &e.id, "record_tally").await, 409, "automatic_transition").await;
    assert_error(admin.get(&path("protocol/draft")).await, 409, "not_tallied").await;
    let r = reqwest::get(e.app.url(&path("record"))).await.unwrap();
    assert_eq!(r.headers()["dobush-record-status"], "partial");
    // the key-holders' part (decryption shares) is tested on its own: here the ceremony's shares
    // decrypt the published totals and the results are stored as the combination would
    let counts = {
        let body: Value = totals(&e).await.json().await.unwrap();
        let published: Vec<ContestTotals> = serde_json::from_value(body["encrypted_totals"].clone()).unwrap();
        decrypt(&e, &published)
    };
    assert_eq!(counts, vec![vec![0, 1, 0, 1, 0]]);
    store_results(&e, 2, &counts[0]).await;

    // the draft: list 3, issued 3 (voter 3 opened a ballot, 1 and 2 cast), counted 2, superseded 1
    let draft: Value = admin.get(&path("protocol/draft")).await.json().await.unwrap();
    let values: Vec<u64> = ["e_voters", "issued", "counted", "superseded", "challenged"]
        .iter()
        .map(|k| line(&draft, k)["value"].as_u64().unwrap())
        .collect();
    assert_eq!(values, vec![3, 3, 2, 1, 0]);
    let contest: Vec<u64> =
        draft["contests"][0]["lines"].as_array().unwrap().iter().map(|l| l["value"].as_u64().unwrap()).collect();
    // ballots, valid, invalid, c1, c2, c3, against all
    assert_eq!(contest, vec![2, 2, 0, 0, 1, 0, 1]);

    // a protocol breaking a control relation is refused, naming the line (§44)
    let mut bad = draft.clone();
    bad["general"][1]["value"] = 4.into();
    let err = assert_error(admin.put(&path("protocol"), &json!({ "body": bad })).await, 422, "invalid_field").await;
    assert_eq!(err["field"], "line 2", "{err}");
    let mut bad = draft.clone();
    bad["contests"][0]["lines"][4]["value"] = 2.into();
    let err = assert_error(admin.put(&path("protocol"), &json!({ "body": bad })).await, 422, "invalid_field").await;
    assert_eq!(err["field"], "line 6.2", "{err}");
    // relations that hold but lines that are not the count: refused, naming the line
    let mut bad = draft.clone();
    bad["contests"][0]["lines"][4]["value"] = 0.into();
    bad["contests"][0]["lines"][5]["value"] = 1.into();
    let err = assert_error(admin.put(&path("protocol"), &json!({ "body": bad })).await, 422, "invalid_field").await;
    assert_eq!(err["field"], "line 6.5", "{err}");
    // saved; a second save needs a CEC decision (§45)
    let r = admin.put(&path("protocol"), &json!({ "body": draft })).await;
    assert_eq!(r.status(), 200);
    let digest = r.json::<Value>().await.unwrap()["digest"].as_str().unwrap().to_string();
    assert_error(admin.put(&path("protocol"), &json!({ "body": draft })).await, 409, "protocol_saved").await;
    let r =
        admin.put(&path("protocol"), &json!({ "body": draft, "decision": "CEC decision No. 42 of 10.04.2023" })).await;
    assert_eq!(r.status(), 200);
    let log: Value = admin.get("/api/audit?limit=1000").await.json().await.unwrap();
    assert!(log["entries"].as_array().unwrap().iter().any(|x| x["action"] == "protocol.reentered"));
    // the saved protocol names the decryption shares its members sign (07-threshold.md §Share
    // list digest): a key-holder's late share is refused, the list stays as saved
    assert_eq!(
        draft["decryption_shares"],
        json!(hex::encode(dobush_crypto::threshold::decrypt::shares_digest(&[]))),
        "no share was posted here"
    );
    let late = {
        let body: Value = totals(&e).await.json().await.unwrap();
        let published: Vec<ContestTotals> = serde_json::from_value(body["encrypted_totals"].clone()).unwrap();
        let (_, key_shares) = e.ceremony.c.finish().unwrap();
        let total = TotalId { contest: 0, option: 0 };
        let signer = e.ceremony.c.keys[0].signing_key();
        key_shares[0]
            .partial_decrypt(e.ctx.extended_hash(), total, &published[0].totals[0], signer, &mut OsRng)
            .unwrap()
    };
    let kh = e.app.login(crate::ceremony::KEY_HOLDERS[0]).await;
    assert_error(
        kh.post(&path("decryption-shares"), &json!({ "shares": [late.clone()] })).await,
        409,
        "protocol_saved",
    )
    .await;

    // members' keys; signatures verified on arrival; the quorum moves the campaign
    let body: ProtocolBody = serde_json::from_value(draft.clone()).unwrap();
    assert_eq!(hex::encode(body.digest()), digest);
    // the members are those pinned in the package (helpers::pin_commission): the administrator
    // can no longer add one of its own (docs/protocol/14-commission.md §Dual control)
    let keys = crate::helpers::member_keys();
    let own = ed25519_dalek::SigningKey::from_bytes(&[98; 32]);
    let m = json!({ "name": "Admin's own member", "role": "member", "precinct": "E1", "public_key": hex::encode(own.verifying_key().to_bytes()) });
    assert_error(admin.post(&path("commission-members"), &m).await, 409, "commission_pinned").await;
    let bad_member = json!({ "name": "X", "role": "chair", "precinct": "E1", "public_key": "zz" });
    let err = assert_error(admin.post(&path("commission-members"), &bad_member).await, 422, "invalid_field").await;
    assert_eq!(err["field"], "public_key");
    let voter_try = e.app.login(VOTER1).await;
    assert_eq!(voter_try.post(&path("commission-members"), &bad_member).await.status(), 403);
    let sign = |k: &ed25519_dalek::SigningKey, what: &[u8]| {
        use ed25519_dalek::Signer;
        json!({ "public_key": hex::encode(k.verifying_key().to_bytes()), "signature": hex::encode(k.sign(what).to_bytes()) })
    };
    let anon = reqwest::Client::new();
    let post = |b: Value| anon.post(e.app.url(&path("protocol/signatures"))).json(&b).send();
    // a signature over something else, and a key that is not registered
    assert_error(post(sign(&keys[0], b"another protocol")).await.unwrap(), 422, "invalid_field").await;
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[99; 32]);
    assert_error(post(sign(&stranger, &body.digest())).await.unwrap(), 403, "not_a_member").await;
    // a share stored after the save (a race the save's check cannot see): no member signature is
    // taken for a protocol that names another list of shares than the record's
    let (id, payload) = (e.id.clone(), serde_json::to_string(&late).unwrap());
    let insert = move |c: &mut dobush_server::db::AnyConnection| {
        use dobush_server::schema::decryption_shares as ds;
        diesel::insert_into(ds::table)
            .values((
                ds::campaign_id.eq(&id),
                ds::seq.eq(1_000_i64),
                ds::key_holder.eq(1_i64),
                ds::payload.eq(&payload),
                ds::valid.eq(true),
                ds::reason.eq(None::<String>),
                ds::submitted_by.eq("race"),
                ds::received_at.eq(0_i64),
            ))
            .execute(c)
            .unwrap();
    };
    e.app.with_db(insert).await;
    assert_error(post(sign(&keys[2], &body.digest())).await.unwrap(), 409, "shares_changed").await;
    let id = e.id.clone();
    e.app
        .with_db(move |c| {
            use dobush_server::schema::decryption_shares as ds;
            diesel::delete(ds::table.filter(ds::campaign_id.eq(id))).execute(c).unwrap();
        })
        .await;
    assert_error(post(sign(&own, &body.digest())).await.unwrap(), 403, "not_a_member").await;
    let r: Value = post(sign(&keys[2], &body.digest())).await.unwrap().json().await.unwrap();
    assert_eq!(r["protocol_signed"], false, "one of three");
    let r: Value = post(sign(&keys[1], &body.digest())).await.unwrap().json().await.unwrap();
    assert_eq!(r["protocol_signed"], false, "two of three, but not the chair");
    let r: Value = post(sign(&keys[0], &body.digest())).await.unwrap().json().await.unwrap();
    assert_eq!(r["protocol_signed"], true);
    let c: Value = admin.get(&format!("/api/campaigns/{}", e.id)).await.json().await.unwrap();
    assert_eq!(c["state"], "protocol_signed");
    // the signed protocol's record is final: a key-holder's late share is refused
    assert_error(kh.post(&path("decryption-shares"), &json!({ "shares": [late] })).await, 409, "protocol_signed").await;
    let got: Value = reqwest::get(e.app.url(&path("protocol"))).await.unwrap().json().await.unwrap();
    let p: ElectionProtocol = serde_json::from_value(got["protocol"].clone()).unwrap();
    assert_eq!(p.signatures.len(), 3);
    p.verify_signatures().unwrap();

    // the record: complete, its board the whole board, its protocol the signed one
    let r = reqwest::get(e.app.url(&path("record"))).await.unwrap();
    assert_eq!(r.headers()["dobush-record-status"], "complete");
    let record: dobush_crypto::record::ElectionRecord = r.json().await.unwrap();
    assert_eq!(record.protocol.as_ref(), Some(&p));
    assert_eq!(record.results[0].counts, counts[0]);
    let board = reqwest::get(e.app.url(&path("record/board.jsonl"))).await.unwrap().text().await.unwrap();
    assert_eq!(board.lines().count() as u64, record.tree_heads.last().unwrap().head.size);
    assert_eq!(board.lines().map(str::to_string).collect::<Vec<_>>(), e.board_lines().await);
}

async fn decryption_shares_are_verified_on_arrival_and_combined_at_t(b: Backend) {
    use dobush_crypto::threshold::decrypt::DecryptionShare;
    let e = open_election(b, "last_counts").await;
    vote(&e, 0, 2).await;
    vote(&e, 1, 0).await;
    vote(&e, 1, 4).await;
    vote(&e, 2, 2).await;
    close(&e).await;
    let body: Value = totals(&e).await.json().await.unwrap();
    let published: Vec<ContestTotals> = serde_json::from_value(body["encrypted_totals"].clone()).unwrap();
    let ext = *e.ctx.extended_hash();
    let (_, key_shares) = e.ceremony.c.finish().unwrap();
    let shares_of = |l: usize| -> Vec<DecryptionShare> {
        published[0]
            .totals
            .iter()
            .enumerate()
            .map(|(j, ct)| {
                let signer = e.ceremony.c.keys[l - 1].signing_key();
                key_shares[l - 1]
                    .partial_decrypt(&ext, TotalId { contest: 0, option: j as u32 }, ct, signer, &mut OsRng)
                    .unwrap()
            })
            .collect()
    };
    let admin = e.app.admin().await;
    let kh = e.app.login(crate::ceremony::KEY_HOLDERS[0]).await;
    let path = format!("/api/v1/campaigns/{}/decryption-shares", e.id);
    // voters may not post shares
    let v = e.app.login(VOTER1).await;
    assert_eq!(v.post(&path, &json!({ "shares": shares_of(1) })).await.status(), 403);
    // Another key-holder's shares under key-holder 2's name, or key-holder 2's shares with a
    // signature altered, or one share naming no published total: nobody's shares, refused whole
    // (422) and nothing stored, so nothing is reported in key-holder 2's name
    // (07-threshold.md §Share signature).
    let mut forged = shares_of(4);
    for s in &mut forged {
        s.key_holder = 2;
    }
    let mut unsigned = shares_of(2);
    unsigned[3].signature.r = unsigned[3].share;
    let mut stray = shares_of(5);
    stray[4].option = 9;
    let mut unknown = shares_of(5);
    unknown[1].key_holder = 9;
    for (bad, place) in [(forged, "shares[0]"), (unsigned, "shares[3]"), (stray, "shares[4]"), (unknown, "shares[1]")] {
        let r = kh.post(&path, &json!({ "shares": bad })).await;
        assert_eq!(r.status(), 422);
        let body: Value = r.json().await.unwrap();
        assert!(body.to_string().contains(place), "{body}");
    }
    let all: Value = reqwest::get(e.app.url(&path)).await.unwrap().json().await.unwrap();
    assert_eq!(all["decryption_shares"], json!([]), "nothing of a refused submission is stored");
    // …but each refusal is on record: who posted, naming which key-holder, why
    let log: Value = admin.get("/api/audit?limit=1000").await.json().await.unwrap();
    let refused: Vec<&Value> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "access.refused" && e["details"].to_string().contains("decryption_shares_refused"))
        .collect();
    assert_eq!(refused.len(), 4, "{log}");
    assert!(refused.iter().all(|e| e["actor"] == crate::ceremony::KEY_HOLDERS[0]));
    assert!(refused[0]["details"].to_string().contains("key-holder 2"), "{}", refused[0]);
    // key-holder 2 signs wrong shares (key-holder 4's D under its own name): its own, stored
    // and set aside as evidence against it
    let mut wrong = shares_of(2);
    for (w, (other, ct)) in wrong.iter_mut().zip(shares_of(4).iter().zip(&published[0].totals)) {
        w.share = other.share;
        w.sign(&ext, ct, e.ceremony.c.keys[1].signing_key(), &mut OsRng);
    }
    let r: Value = kh.post(&path, &json!({ "shares": wrong })).await.json().await.unwrap();
    assert_eq!(
        (r["accepted"].as_u64(), r["rejected"].as_array().map(Vec::len), &r["combined"]),
        (Some(0), Some(5), &json!(false)),
        "{r}"
    );
    assert!(r["rejected"][0]["reason"].as_str().unwrap().contains("key-holder 2"), "{r}");
    // key-holders 1 and 4: still below t = 3
    for l in [1, 4] {
        let r: Value = kh.post(&path, &json!({ "shares": shares_of(l) })).await.json().await.unwrap();
        assert_eq!(r["accepted"], 5);
        assert_eq!(r["combined"], false);
    }
    assert_error(
        reqwest::get(e.app.url(&format!("/api/v1/campaigns/{}/results", e.id))).await.unwrap(),
        409,
        "not_tallied",
    )
    .await;
    // a repeat of a published valid share (anyone can replay the public ones): not stored
    // again, not set aside in key-holder 1's name
    let again = shares_of(1).remove(0);
    let r: Value = kh.post(&path, &json!({ "shares": [again] })).await.json().await.unwrap();
    assert_eq!((r["accepted"].as_u64(), r["rejected"].as_array().map(Vec::len)), (Some(0), Some(0)), "{r}");
    assert_eq!(r["duplicates"][0]["key_holder"], 1, "{r}");
    // key-holder 5: the third valid one → combined; key-holder 3 never came
    let r: Value = kh.post(&path, &json!({ "shares": shares_of(5) })).await.json().await.unwrap();
    assert_eq!(r["combined"], true, "{r}");
    assert_eq!(r["complete_key_holders"], json!([1, 4, 5]));
    assert_eq!(r["missing_key_holders"], json!([2, 3]));
    let res: Value =
        reqwest::get(e.app.url(&format!("/api/v1/campaigns/{}/results", e.id))).await.unwrap().json().await.unwrap();
    // c1, c2, c3, against all, blank: voter 1 re-voted blank, voters 0 and 2 chose c3
    assert_eq!(res["results"][0]["counts"], json!([0, 0, 2, 0, 1]));
    let c: Value = admin.get(&format!("/api/campaigns/{}", e.id)).await.json().await.unwrap();
    assert_eq!(c["state"], "tallied");
    // every share is kept, in order, valid or not
    let all: Value = reqwest::get(e.app.url(&path)).await.unwrap().json().await.unwrap();
    assert_eq!(all["decryption_shares"].as_array().unwrap().len(), 5 + 5 + 5 + 5);
}

/// A cast reads the clock before it waits for the board lock, so under concurrency a later head
/// can be signed with an earlier time (found by exporting a load run's record: the verifier
/// refused it, "tree head 9: older than head 8"). Played here with the clock set back between
/// two casts: the heads stay in time order and the independent verifier's board check passes.
async fn tree_heads_never_go_back_in_time(b: Backend) {
    let e = open_election(b, "last_counts").await;
    e.app.clock.set(bishkek(2023, 4, 9, 12, 8, 0));
    vote(&e, 0, 1).await;
    e.app.clock.set(bishkek(2023, 4, 9, 12, 4, 0));
    vote(&e, 1, 2).await;
    vote(&e, 2, 0).await;
    close(&e).await;
    let path = |p: &str| format!("/api/v1/campaigns/{}/{p}", e.id);
    let record = reqwest::get(e.app.url(&path("record"))).await.unwrap().text().await.unwrap();
    let parsed: dobush_crypto::record::ElectionRecord = serde_json::from_str(&record).unwrap();
    let times: Vec<u64> = parsed.tree_heads.iter().map(|h| h.head.timestamp_ms).collect();
    assert!(times.len() >= 4, "{times:?}");
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "tree head times go back: {times:?}");
    let board = reqwest::get(e.app.url(&path("record/board.jsonl"))).await.unwrap().text().await.unwrap();
    let report =
        dobush_verifier::record::verify(&record, board.as_bytes(), &dobush_verifier::record::Options::default());
    assert!(report.failures_of("board").is_empty(), "{}", report.text());
}

crate::backend_tests!(
    tree_heads_never_go_back_in_time,
    decryption_shares_are_verified_on_arrival_and_combined_at_t,
    the_protocol_is_drawn_up_checked_saved_and_signed,
    totals_kept_at_cast_time_are_published_at_closing,
    a_shard_that_differs_from_the_board_publishes_nothing_and_alerts,
    ballot_issued_is_recorded_once_for_e_voters_while_open
);
