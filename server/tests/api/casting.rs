//! The cast gate: open campaign and window, e-voters only, own ballot style.

use chrono::{DateTime, Utc};
use dobush_server::casting::cast_gate;
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
    for a in ["start_key_ceremony", "freeze_manifest"] {
        assert_eq!(transition(&admin, &id, a).await.status(), 200);
    }
    app.clock.set(open);
    let admin = app.admin().await;
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
    assert_eq!(gate(&app, &id, VOTER1, "main", bishkek(2023, 4, 9, 7, 59, 59)).await, Err("outside_voting_window".into()));
    assert_eq!(gate(&app, &id, VOTER1, "main", bishkek(2023, 4, 9, 20, 0, 0)).await, Err("outside_voting_window".into()));
    assert!(gate(&app, &id, VOTER1, "main", bishkek(2023, 4, 9, 19, 59, 59)).await.is_ok());
}

crate::backend_tests!(only_e_voters_of_an_open_campaign_pass_the_gate);
