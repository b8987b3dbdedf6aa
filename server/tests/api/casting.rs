//! The cast gate: open campaign and window, e-voters only, own ballot style.

use chrono::{DateTime, Utc};
use dobush_server::cast::gate::cast_gate;
use dobush_server::error::ApiError;
use serde_json::json;

use crate::helpers::*;

async fn gate(app: &TestApp, id: &str, pin: &str, style: &str, now: DateTime<Utc>) -> Result<i64, String> {
    let (id, pin, style) = (id.to_string(), pin.to_string(), style.to_string());
    app.with_db(move |c| match cast_gate(c, &id, &pin, &style, now) {
        Ok(ctx) => Ok(ctx.credential_id),
        Err(ApiError::Conflict { code, .. } | ApiError::Forbidden { code, .. }) => Err(code.to_string()),
        Err(ApiError::Invalid { field, .. }) => Err(format!("invalid {field}")),
        Err(e) => Err(e.to_string()),
    })
    .await
}

async fn only_e_voters_of_an_open_campaign_pass_the_gate(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let id = campaign_in_registration(&admin).await;
    let voter = app.login(VOTER1).await;
    let path = format!("/api/campaigns/{id}/cabinet/application");
    assert_eq!(voter.put(&path, &json!({ "credential": CREDS[0] })).await.status(), 201);
    let open = bishkek(2023, 4, 9, 12, 0, 0);
    assert_eq!(gate(&app, &id, VOTER1, "main", open).await, Err("voting_not_open".into()));
    assert_eq!(transition(&admin, &id, "start_key_ceremony").await.status(), 200);
    crate::ceremony::ready_to_freeze(&app, &admin, &id).await;
    assert_eq!(transition(&admin, &id, "freeze_manifest").await.status(), 200);
    app.clock.set(open);
    let admin = app.admin().await;
    sign_credential_list(&app, &admin, &id).await;
    assert_eq!(transition(&admin, &id, "open_voting").await.status(), 200);
    // the e-voter passes, with their credential
    assert!(gate(&app, &id, VOTER1, "main", open).await.is_ok());
    // a voter on the register who did not apply must vote on paper
    assert_eq!(gate(&app, &id, VOTER2, "main", open).await, Err("not_an_e_voter".into()));
    // someone not on the register
    assert_eq!(gate(&app, &id, "29999199900099", "main", open).await, Err("not_on_register".into()));
    // another district's ballot
    assert_eq!(gate(&app, &id, VOTER1, "north", open).await, Err("invalid ballot_style".into()));
    // the window, in Bishkek time, by the given clock
    assert_eq!(
        gate(&app, &id, VOTER1, "main", bishkek(2023, 4, 9, 7, 59, 59)).await,
        Err("outside_voting_window".into())
    );
    assert_eq!(
        gate(&app, &id, VOTER1, "main", bishkek(2023, 4, 9, 20, 0, 0)).await,
        Err("outside_voting_window".into())
    );
    assert!(gate(&app, &id, VOTER1, "main", bishkek(2023, 4, 9, 19, 59, 59)).await.is_ok());
}

/// A campaign in registration where VOTER1 and VOTER2 have applied.
async fn two_applicants(app: &TestApp) -> String {
    let admin = app.admin().await;
    let id = campaign_in_registration(&admin).await;
    for (pin, cred) in [(VOTER1, CREDS[0]), (VOTER2, CREDS[1])] {
        let v = app.login(pin).await;
        let r = v.put(&format!("/api/campaigns/{id}/cabinet/application"), &json!({ "credential": cred })).await;
        assert_eq!(r.status(), 201);
    }
    id
}

/// Writes ballot rows as the cast endpoint stores them: (voter, received at, status), the `n`th
/// with sequence number `first + n`.
async fn insert_ballots(app: &TestApp, id: &str, first: usize, rows: Vec<(&'static str, i64, &'static str)>) {
    use diesel::prelude::*;
    use dobush_server::schema::evoter_credentials as ec;
    let cid = id.to_owned();
    app.with_db(move |c| {
        for (i, (pin, at, status)) in rows.iter().enumerate() {
            let cred: i64 = ec::table.filter(ec::pin.eq(pin)).select(ec::id).first(c).unwrap();
            insert_ballot(c, &cid, pin, cred, first + i, status, *at);
        }
    })
    .await;
}

/// `GET …/turnout`.
async fn turnout(app: &TestApp, id: &str) -> serde_json::Value {
    reqwest::get(app.url(&format!("/api/campaigns/{id}/turnout"))).await.unwrap().json().await.unwrap()
}

async fn turnout_is_published_per_ended_slot(b: Backend) {
    let app = spawn_app(b).await;
    let id = two_applicants(&app).await;
    // ballots as the cast endpoint will store them: VOTER1 at 09:00 and again at 13:00 (a re-vote),
    // VOTER2 at 11:30, plus a challenged ballot that never counts
    let at = |h, m| bishkek(2023, 4, 9, h, m, 0).timestamp();
    let rows = vec![
        (VOTER1, at(9, 0), "superseded"),
        (VOTER1, at(13, 0), "counted"),
        (VOTER2, at(11, 30), "counted"),
        (VOTER2, at(8, 30), "challenged"),
    ];
    insert_ballots(&app, &id, 0, rows).await;
    app.clock.set(bishkek(2023, 4, 9, 11, 59, 59));
    let t = turnout(&app, &id).await;
    assert_eq!(t["e_voters"], 2);
    assert_eq!(t["slots"], json!([{ "until": "10:00", "voters": 1, "cumulative": 1 }]));
    // the figures are computed once per ended slot, not per request (a crowd reading turnout
    // scans nothing): a row written behind the server's back shows only once the next slot ends
    insert_ballots(&app, &id, 9, vec![(VOTER2, at(9, 45), "superseded")]).await;
    assert_eq!(turnout(&app, &id).await["slots"], json!([{ "until": "10:00", "voters": 1, "cumulative": 1 }]));
    app.clock.set(bishkek(2023, 4, 9, 20, 0, 0));
    let t = turnout(&app, &id).await;
    let slots = t["slots"].as_array().unwrap();
    assert_eq!(slots.len(), 6);
    assert_eq!(slots[0], json!({ "until": "10:00", "voters": 2, "cumulative": 2 }));
    assert_eq!(slots[1], json!({ "until": "12:00", "voters": 0, "cumulative": 2 }));
    assert_eq!(slots[5], json!({ "until": "20:00", "voters": 0, "cumulative": 2 }));
}

/// Voting closed before the scheduled end (the demo closes early; so may a decision): the last
/// slot ends at the closing, so the final figure counts every voter who cast (issue 20: after
/// the demo's polls closed, turnout still said 2 voted when 4 had cast).
async fn turnout_after_an_early_close_counts_every_voter(b: Backend) {
    use diesel::prelude::*;
    use dobush_server::schema::tallies;
    let app = spawn_app(b).await;
    let id = two_applicants(&app).await;
    let at = |h, m| bishkek(2023, 4, 9, h, m, 0).timestamp();
    insert_ballots(&app, &id, 0, vec![(VOTER1, at(9, 0), "counted"), (VOTER2, at(14, 10), "counted")]).await;
    app.clock.set(bishkek(2023, 4, 9, 14, 31, 0));
    // still open (scheduled until 20:00): the 14:00–16:00 slot has not ended, VOTER2 not yet shown
    let slots = turnout(&app, &id).await["slots"].as_array().unwrap().clone();
    assert_eq!(slots.len(), 3);
    assert_eq!(slots[2], json!({ "until": "14:00", "voters": 0, "cumulative": 1 }));
    // closed at 14:30: the last slot ends there and the final figure counts both voters
    let cid = id.clone();
    app.with_db(move |c| {
        diesel::insert_into(tallies::table)
            .values((
                tallies::campaign_id.eq(&cid),
                tallies::status.eq("closed"),
                tallies::board_totals.eq("[]"),
                tallies::shard_totals.eq("[]"),
                tallies::closed_at.eq(at(14, 30)),
            ))
            .execute(c)
            .unwrap();
    })
    .await;
    let slots = turnout(&app, &id).await["slots"].as_array().unwrap().clone();
    assert_eq!(slots.len(), 4);
    assert_eq!(slots[3], json!({ "until": "14:30", "voters": 1, "cumulative": 2 }));
}

crate::backend_tests!(
    only_e_voters_of_an_open_campaign_pass_the_gate,
    turnout_is_published_per_ended_slot,
    turnout_after_an_early_close_counts_every_voter
);
