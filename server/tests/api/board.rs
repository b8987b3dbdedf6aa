//! The public board API: heads, entries, inclusion and consistency proofs, checked with
//! `dobush_crypto`'s verify functions and with the independent verifier's board code.

use dobush_crypto::board::{SignedTreeHead, leaf_hash, verify_consistency, verify_inclusion};
use dobush_crypto::record::{BoardEntry, HexHash};
use serde_json::{Value, json};

use crate::ballots::{Election, open_election};
use crate::helpers::*;

async fn get(e: &Election, path: &str) -> reqwest::Response {
    reqwest::get(e.app.url(&format!("/api/v1/campaigns/{}{path}", e.id))).await.unwrap()
}

async fn heads_after(e: &Election, size: u64) -> Vec<SignedTreeHead> {
    let r = get(e, &format!("/board/heads?after={size}")).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn proof(e: &Election, path: &str) -> Vec<[u8; 32]> {
    let r = get(e, path).await;
    assert_eq!(r.status(), 200, "{path}");
    let v: Value = r.json().await.unwrap();
    let p: Vec<HexHash> = serde_json::from_value(v["proof"].clone()).unwrap();
    p.into_iter().map(|h| h.0).collect()
}

async fn the_board_api_verifies_end_to_end(b: Backend) {
    let e = open_election(b, "last_counts").await;
    // the zero report: the frozen credential list, the commission's signature over it and the
    // web app's hashes, signed before `opened`
    let zero: SignedTreeHead = get(&e, "/board/head").await.json().await.unwrap();
    zero.verify(&e.package.board_key).unwrap();
    assert_eq!((zero.head.size, zero.head.context), (3, e.package.base_hash));
    let lines = get(&e, "/board/entries?start=0&end=4").await.text().await.unwrap();
    let first: Vec<BoardEntry> = lines.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    match &first[..] {
        [
            BoardEntry::CredentialList { credentials, count, revoked },
            BoardEntry::CredentialListSigned { signatures },
            BoardEntry::WebAssets { assets },
            BoardEntry::Opened { .. },
        ] => {
            // exactly the hashes of what the server serves, byte for byte
            let served: Value = reqwest::get(e.app.url("/api/v1/web-assets")).await.unwrap().json().await.unwrap();
            assert_eq!(serde_json::to_value(assets).unwrap(), served["assets"]);
            assert_eq!(assets.len(), 3);
            for (path, integrity) in assets {
                let bytes = reqwest::get(e.app.url(path)).await.unwrap().bytes().await.unwrap();
                assert_eq!(*integrity, dobush_server::webapp::integrity(&bytes), "{path}");
            }
            assert_eq!(*count, 3);
            assert!(revoked.is_empty(), "nobody re-applied");
            let mut sorted: Vec<_> = e.creds.iter().map(|c| c.public().0.to_hex()).collect();
            sorted.sort();
            assert_eq!(credentials.iter().map(|c| c.credential.0.to_hex()).collect::<Vec<_>>(), sorted);
            let list = lines.lines().next().unwrap();
            dobush_crypto::record::check_credential_list_signatures(
                &e.package.commission,
                &e.id,
                list.as_bytes(),
                signatures,
            )
            .unwrap();
        }
        other => panic!("{other:?}"),
    }
    // ballots of three voters, a re-vote and a challenge
    for v in [0, 1, 2, 0] {
        let (ballot, _) = e.ballot(v, v);
        assert_eq!(e.cast(v, &serde_json::to_value(&ballot).unwrap()).await.status(), 201);
    }
    let (ballot, secrets) = e.ballot(2, 0);
    let r = e.voters[2]
        .post(&format!("/api/campaigns/{}/challenges", e.id), &json!({ "ballot": ballot, "opening": secrets.open() }))
        .await;
    assert_eq!(r.status(), 201);
    // a restart: the in-memory log is rebuilt from the database, and the next receipt is
    // consistent with everything before
    e.app.state.boards.forget(&e.id);
    let (ballot, _) = e.ballot(1, 2);
    assert_eq!(e.cast(1, &serde_json::to_value(&ballot).unwrap()).await.status(), 201);

    let heads: Vec<SignedTreeHead> = get(&e, "/board/heads").await.json().await.unwrap();
    let latest: SignedTreeHead = get(&e, "/board/head").await.json().await.unwrap();
    assert_eq!(heads.first(), Some(&zero));
    assert_eq!(heads.last(), Some(&latest));
    // the chain a page at a time: the heads after a size; none after the latest or past the
    // largest size; a malformed or unknown query refused
    assert_eq!(heads_after(&e, heads[1].head.size).await, heads[2..]);
    assert!(heads_after(&e, latest.head.size).await.is_empty());
    assert!(heads_after(&e, u64::MAX).await.is_empty());
    for bad in ["after=-1", "after=x", "since=1"] {
        assert_eq!(get(&e, &format!("/board/heads?{bad}")).await.status(), 400, "{bad}");
    }
    // 4 + 4 ballots + 1 supersede marker + 1 challenge + 1 ballot + 1 supersede marker
    assert_eq!(latest.head.size, 12);
    // every head is signed, and consistent with the one before (the crypto crate's check, and
    // the independent verifier's `watch` step)
    let pin = dobush_verifier::watch::Pinned { base_hash: e.package.base_hash, board_key: e.package.board_key };
    let mut kept = Vec::new();
    for (i, h) in heads.iter().enumerate() {
        h.verify(&e.package.board_key).unwrap();
        let as_verifier = dobush_verifier::board::TreeHead::parse(&serde_json::to_value(h).unwrap()).unwrap();
        let p = match kept.last() {
            Some(last) => {
                let last: &dobush_verifier::board::TreeHead = last;
                proof(&e, &format!("/board/consistency?first={}&second={}", last.size, h.head.size)).await
            }
            None => Vec::new(),
        };
        if i > 0 {
            let prev = &heads[i - 1];
            verify_consistency(prev.head.size, &prev.head.root, h.head.size, &h.head.root, &p).unwrap();
        }
        dobush_verifier::watch::step(&mut kept, as_verifier, &p, &pin).unwrap();
    }
    // the whole board exported; every head's root recomputed by the independent verifier
    let text = get(&e, &format!("/board/entries?start=0&end={}", latest.head.size)).await.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len() as u64, latest.head.size);
    assert!(text.ends_with('\n'));
    let leaves: Vec<[u8; 32]> = lines.iter().map(|l| dobush_verifier::board::leaf(l.as_bytes())).collect();
    let sizes: Vec<u64> = heads.iter().map(|h| h.head.size).collect();
    let roots = dobush_verifier::board::roots_at(&leaves, &sizes);
    assert_eq!(roots, heads.iter().map(|h| h.head.root).collect::<Vec<_>>());
    // every entry's inclusion proof in the latest head
    for (i, l) in lines.iter().enumerate() {
        let p = proof(&e, &format!("/board/inclusion?index={i}&size={}", latest.head.size)).await;
        verify_inclusion(&leaf_hash(l.as_bytes()), i as u64, latest.head.size, &p, &latest.head.root).unwrap();
        assert!(dobush_verifier::board::verify_inclusion(
            &leaves[i],
            i as u64,
            latest.head.size,
            &p,
            &latest.head.root
        ));
    }
    let kinds: Vec<String> =
        lines.iter().map(|l| serde_json::from_str::<Value>(l).unwrap()["type"].as_str().unwrap().to_string()).collect();
    assert_eq!(
        kinds,
        [
            "credential_list",
            "credential_list_signed",
            "web_assets",
            "opened",
            "ballot",
            "ballot",
            "ballot",
            "superseded",
            "ballot",
            "challenged",
            "superseded",
            "ballot"
        ]
    );

    // bad requests name the field
    let n = latest.head.size;
    for (path, field) in [
        ("/board/entries?start=5&end=4".to_string(), "end"),
        (format!("/board/entries?start=0&end={}", n + 1), "end"),
        ("/board/entries?start=0&end=1001".to_string(), "end"),
        (format!("/board/inclusion?index={n}&size={n}"), "index"),
        (format!("/board/inclusion?index=0&size={}", n + 1), "size"),
        ("/board/consistency?first=3&second=2".to_string(), "first"),
        (format!("/board/consistency?first=1&second={}", n + 1), "second"),
    ] {
        let body = assert_error(get(&e, &path).await, 422, "invalid_field").await;
        assert_eq!(body["field"], field, "{path}");
    }
    assert_error(get(&e, "/board/inclusion?index=x&size=2").await, 400, "malformed_request").await;
    assert_error(get(&e, "/board/entries").await, 400, "malformed_request").await;
    let r = reqwest::get(e.app.url("/api/v1/campaigns/no-such-campaign/board/head")).await.unwrap();
    assert_error(r, 404, "not_found").await;

    // closing appends `closed` and signs the final head, consistent with everything before
    e.app.clock.set(bishkek(2023, 4, 9, 20, 0, 0));
    let admin = e.app.admin().await;
    assert_eq!(transition(&admin, &e.id, "close_voting").await.status(), 200);
    let last: SignedTreeHead = get(&e, "/board/head").await.json().await.unwrap();
    last.verify(&e.package.board_key).unwrap();
    assert_eq!(last.head.size, n + 1);
    let p = proof(&e, &format!("/board/consistency?first={n}&second={}", n + 1)).await;
    verify_consistency(n, &latest.head.root, n + 1, &last.head.root, &p).unwrap();
    let tail = get(&e, &format!("/board/entries?start={n}&end={}", n + 1)).await.text().await.unwrap();
    assert!(matches!(serde_json::from_str(tail.trim_end()).unwrap(), BoardEntry::Closed { .. }));
    let voter = e.app.login(crate::ballots::VOTERS[2]).await;
    let (ballot, _) = e.ballot(2, 1);
    let r = voter.post(&format!("/api/campaigns/{}/ballots", e.id), &serde_json::to_value(&ballot).unwrap()).await;
    assert_error(r, 409, "voting_not_open").await;
}

async fn a_credential_replaced_while_voting_is_posted_and_votes(b: Backend) {
    let mut e = open_election(b, "forbidden").await;
    let admin = e.app.admin().await;
    let new = dobush_crypto::credential::Credential::generate(&mut rand::rngs::OsRng).unwrap();
    let path = format!("/api/campaigns/{}/credentials/replacements", e.id);
    let fields = (e.creds[0].public(), new.public(), "main", "TEC Batken 12/3");
    let keys = crate::helpers::member_keys();
    let names = crate::helpers::MEMBERS.map(|(n, _)| n);
    let signed_by = |signers: &[(&str, &ed25519_dalek::SigningKey)]| {
        let entry = dobush_crypto::record::sign_credential_replacement(&e.id, fields, signers);
        let BoardEntry::CredentialReplaced { signatures, .. } = entry else { unreachable!() };
        serde_json::to_value(signatures).unwrap()
    };
    let mut body = json!({ "pin": crate::ballots::VOTERS[0], "credential": new.public().0.to_hex(), "decision": "TEC Batken 12/3" });
    // the server alone cannot replace a credential (docs/protocol/14-commission.md §Acceptance):
    // unsigned or signed by one member (under the quorum of 2), signed by the administrator's own
    // key, or signed for another decision, it is refused (nothing written)
    let refused = assert_error(admin.post(&path, &body).await, 409, "quorum_not_reached").await;
    assert!(refused["message"].as_str().unwrap().contains("quorum is 2"), "{refused}");
    body["signatures"] = signed_by(&[(names[0], &e.member)]);
    assert_error(admin.post(&path, &body).await, 409, "quorum_not_reached").await;
    let own = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
    body["signatures"] = signed_by(&[(names[0], &e.member), ("Admin's own member", &own)]);
    let refused = assert_error(admin.post(&path, &body).await, 403, "not_a_member").await;
    assert!(refused["message"].as_str().unwrap().contains("not a pinned commission member"), "{refused}");
    body["signatures"] = signed_by(&[(names[0], &keys[0]), (names[2], &keys[2])]);
    body["decision"] = "TEC Batken 12/4".into();
    let refused = assert_error(admin.post(&path, &body).await, 422, "invalid_field").await;
    assert_eq!(refused["field"], "signatures");
    let digest =
        dobush_crypto::record::credential_replacement_digest(&e.id, &fields.0, &fields.1, "main", "TEC Batken 12/4");
    assert!(refused["message"].as_str().unwrap().contains(&hex::encode(digest)), "{refused}");
    // a refused replacement writes nothing: the board still has its 4 entries
    let r = assert_error(get(&e, "/board/entries?start=0&end=5").await, 422, "invalid_field").await;
    assert!(r["message"].as_str().unwrap().contains("the board has 4 entries"), "{r}");
    body["decision"] = "TEC Batken 12/3".into();
    let r = admin.post(&path, &body).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let answer: Value = r.json().await.unwrap();
    let head: SignedTreeHead = get(&e, "/board/head").await.json().await.unwrap();
    head.verify(&e.package.board_key).unwrap();
    assert_eq!(head.head.size, 5);
    let text = get(&e, "/board/entries?start=4&end=5").await.text().await.unwrap();
    assert_eq!(answer["board_entry"], serde_json::from_str::<Value>(text.trim_end()).unwrap());
    match serde_json::from_str(text.trim_end()).unwrap() {
        BoardEntry::CredentialReplaced { old, new: posted, style, decision, signatures } => {
            assert_eq!((old, posted), (e.creds[0].public(), new.public()));
            assert_eq!((style.as_str(), decision.as_str()), ("main", "TEC Batken 12/3"));
            dobush_crypto::record::check_replacement_signatures(
                &e.package.commission,
                &e.id,
                (&old, &posted, &style, &decision),
                &signatures,
            )
            .unwrap();
            // signed by the chair and the member, under their pinned names
            assert_eq!(signatures.iter().map(|s| s.member.as_str()).collect::<Vec<_>>(), [names[0], names[2]]);
        }
        other => panic!("{other:?}"),
    }
    // the published list stays the frozen one (entry 0), the replacement is its own entry
    let list: Value = get(&e, "/credential-list").await.json().await.unwrap();
    assert_eq!(
        list["entry"].as_str().unwrap(),
        get(&e, "/board/entries?start=0&end=1").await.text().await.unwrap().trim_end()
    );
    // the revoked credential no longer votes; the replacement does
    let (old_ballot, _) = e.ballot(0, 0);
    let body = assert_error(e.cast(0, &serde_json::to_value(&old_ballot).unwrap()).await, 422, "invalid_field").await;
    assert_eq!(body["field"], "credential");
    e.creds[0] = new;
    let (ballot, _) = e.ballot(0, 0);
    let r = e.cast(0, &serde_json::to_value(&ballot).unwrap()).await;
    assert_eq!(r.status(), 201);
    r.json::<dobush_crypto::record::Receipt>().await.unwrap().verify(&e.package).unwrap();
}

async fn the_commission_signs_the_frozen_credential_list(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let id = campaign_in_registration(&admin).await;
    let voter = app.login(crate::ballots::VOTERS[0]).await;
    // the voter applies, then re-applies from another device: the first credential is revoked
    let first = dobush_crypto::credential::Credential::generate(&mut rand::rngs::OsRng).unwrap();
    let r = voter
        .put(&format!("/api/campaigns/{id}/cabinet/application"), &json!({ "credential": first.public().0.to_hex() }))
        .await;
    assert_eq!(r.status(), 201);
    let cred = dobush_crypto::credential::Credential::generate(&mut rand::rngs::OsRng).unwrap();
    let r = voter
        .put(&format!("/api/campaigns/{id}/cabinet/application"), &json!({ "credential": cred.public().0.to_hex() }))
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    // not before the applications close
    let list_url = app.url(&format!("/api/v1/campaigns/{id}/credential-list"));
    assert_error(reqwest::get(list_url.clone()).await.unwrap(), 409, "applications_open").await;
    app.clock.set(bishkek(2023, 3, 25, 9, 0, 0));
    let list: Value = reqwest::get(list_url.clone()).await.unwrap().json().await.unwrap();
    let entry = list["entry"].as_str().unwrap();
    match serde_json::from_str(entry).unwrap() {
        BoardEntry::CredentialList { credentials, count, revoked } => {
            assert_eq!(count, 1);
            assert_eq!(credentials[0].credential, cred.public());
            // the pre-deadline revocation is public (09-credentials.md step 2)
            assert_eq!(revoked, vec![first.public()]);
        }
        other => panic!("{other:?}"),
    }
    let digest = dobush_crypto::record::credential_list_digest(&id, entry.as_bytes());
    let path = format!("/api/campaigns/{id}/credential-list/signatures");
    let admin = app.admin().await;
    // members sign only once the commission is confirmed under dual control
    // (docs/protocol/14-commission.md); until then, and for any key not in it, they are refused
    let own = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
    let own_sig = dobush_crypto::election_protocol::MemberSignature::sign_digest(&digest, "Chair", &own);
    assert_error(admin.post(&path, &serde_json::to_value(&own_sig).unwrap()).await, 409, "commission_invalid").await;
    let keys = crate::helpers::pin_commission(&app, &admin, &id).await;
    assert_error(admin.post(&path, &serde_json::to_value(&own_sig).unwrap()).await, 403, "not_a_member").await;
    let member = keys[0].clone();
    let sig = dobush_crypto::election_protocol::MemberSignature::sign_digest(&digest, "Chair", &member);
    // a voter may not upload; a signature over another digest, or malformed hex, is refused by field
    let voter = app.login(crate::ballots::VOTERS[0]).await;
    assert_eq!(voter.post(&path, &serde_json::to_value(&sig).unwrap()).await.status(), 403);
    let mut other = serde_json::to_value(dobush_crypto::election_protocol::MemberSignature::sign_digest(
        &[0; 32], "Chair", &member,
    ))
    .unwrap();
    let body = assert_error(admin.post(&path, &other).await, 422, "invalid_field").await;
    assert_eq!(body["field"], "signature");
    other["public_key"] = "ABC".into();
    let body = assert_error(admin.post(&path, &other).await, 422, "invalid_field").await;
    assert_eq!(body["field"], "public_key");
    let r = admin.post(&path, &serde_json::to_value(&sig).unwrap()).await;
    assert_eq!(r.status(), 200);
    let shown: Value = reqwest::get(list_url.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(shown["signatures"].as_array().unwrap().len(), 1);
    // stored under the name pinned for the key, not the one the upload gave
    assert_eq!(shown["signatures"][0]["member"], crate::helpers::MEMBERS[0].0);
    // a replacement (signed by the quorum even before the polls open) changes the list: the old
    // signature no longer covers it
    let new = dobush_crypto::credential::Credential::generate(&mut rand::rngs::OsRng).unwrap();
    let rd = dobush_crypto::record::credential_replacement_digest(
        &id,
        &cred.public(),
        &new.public(),
        "main",
        "TEC Batken 12/4",
    );
    let body = json!({
        "pin": crate::ballots::VOTERS[0], "credential": new.public().0.to_hex(), "decision": "TEC Batken 12/4",
        "signatures": crate::helpers::member_signatures(&rd, &[1, 2]),
    });
    assert_eq!(admin.post(&format!("/api/campaigns/{id}/credentials/replacements"), &body).await.status(), 200);
    let shown: Value = reqwest::get(list_url).await.unwrap().json().await.unwrap();
    assert_ne!(shown["digest"], hex::encode(digest));
    assert_eq!(shown["signatures"].as_array().unwrap().len(), 0);
    match serde_json::from_str(shown["entry"].as_str().unwrap()).unwrap() {
        BoardEntry::CredentialList { credentials, revoked, .. } => {
            assert_eq!(credentials[0].credential, new.public());
            let mut expected = vec![first.public(), cred.public()];
            expected.sort_by_key(|k| *k.0.as_bytes());
            assert_eq!(revoked, expected);
        }
        other => panic!("{other:?}"),
    }
    let log: Value = admin.get("/api/audit?limit=1000").await.json().await.unwrap();
    assert!(log["entries"].as_array().unwrap().iter().any(|e| e["action"] == "credential_list.signed"));
}

crate::backend_tests!(
    the_board_api_verifies_end_to_end,
    a_credential_replaced_while_voting_is_posted_and_votes,
    the_commission_signs_the_frozen_credential_list
);
