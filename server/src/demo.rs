//! Demo mode (docs/server.md §Demo mode). `dobush-server demo` (`main.rs`) runs the server on SQLite under `./data`
//! with a seeded demo campaign like the 2023 pilot (a village council in Batken district, seven
//! candidates, "against all", an electronic precinct and a register of demo citizens), flagged
//! `demo_mode` in the database.
//!
//! Demo-mode campaigns get the commission's steps done by the server so that a person trying the
//! demo can vote now ([`open_now`], [`close_now`]): five demo key-holders (3 of 5) played by the
//! server, whose secrets it keeps in `demo_key_holders`; the voting window set to start now (the
//! dates are data: the clock is never faked). Everything here is refused for any other campaign
//! and whenever the configuration does not allow demo mode (`routes::demo`).

use chrono::{DateTime, Duration, NaiveTime, Utc};
use diesel::prelude::*;
use dobush_crypto::context::base_hash;
use dobush_crypto::election_protocol::MemberSignature;
use dobush_crypto::manifest::{BallotStyle, Contest, ContestOption, Localized, Manifest};
use dobush_crypto::record::credential_list_digest;
use dobush_crypto::threshold::decrypt::TotalId;
use dobush_crypto::threshold::dkg::CeremonyMessage;
use dobush_crypto::threshold::local::InProcessCeremony;
use dobush_crypto::threshold::{DkgError, KeyHolderKeys, KeyShare};
use rand::rngs::OsRng;
use serde::Serialize;
use serde_json::json;
use zeroize::Zeroizing;

use crate::audit;
use crate::board_log::Boards;
use crate::ceremony;
use crate::ceremony::relay::{ComplaintList, Incoming};
use crate::clock::{bishkek, bishkek_date};
use crate::credentials::add_signature;
use crate::db::AnyConnection;
use crate::domain::campaign::bishkek_instant;
use crate::domain::{Action, CampaignState, Role};
use crate::error::ApiError;
use crate::lifecycle::apply_transition;
use crate::models::{CampaignRow, load_campaign};
use crate::package::{build_package, store_package};
use crate::schema::{ballot_styles, campaigns, demo_key_holders, demo_members, precincts, staff, voters};

/// The demo campaign's id.
pub const DEMO_CAMPAIGN: &str = "demo-samarkandek";

fn option(id: &str, ky: &str, ru: &str) -> ContestOption {
    ContestOption {
        id: id.into(),
        name: Localized::new([("ky", ky.to_owned()), ("ru", ru.to_owned())]),
        details: Localized::default(),
    }
}

/// The pilot-like manifest.
pub fn demo_manifest() -> Manifest {
    let names = [
        ("Асанов Бакыт", "Асанов Бакыт"),
        ("Бакирова Гүлзат", "Бакирова Гульзат"),
        ("Жумабеков Талант", "Жумабеков Талант"),
        ("Исаков Нурлан", "Исаков Нурлан"),
        ("Калыкова Айгүл", "Калыкова Айгуль"),
        ("Маматов Руслан", "Маматов Руслан"),
        ("Токтосунова Жылдыз", "Токтосунова Жылдыз"),
    ];
    Manifest {
        campaign_id: DEMO_CAMPAIGN.into(),
        title: Localized::new([
            ("ky", "Самаркандек айылдык кеңешинин шайлоосу (демо)".to_owned()),
            ("ru", "Выборы в Самаркандекский айылный кенеш (демо)".to_owned()),
        ]),
        contests: vec![Contest {
            id: "council".into(),
            title: Localized::new([("ky", "Айылдык кеңеш".to_owned()), ("ru", "Айылный кенеш".to_owned())]),
            options: names.iter().enumerate().map(|(i, (ky, ru))| option(&format!("c{}", i + 1), ky, ru)).collect(),
            min_marks: 1,
            max_marks: 1,
            against_all: true,
            blank_allowed: true,
        }],
        ballot_styles: vec![BallotStyle { id: "samarkandek".into(), contests: vec!["council".into()] }],
    }
}

/// What a demo-mode campaign is made of.
pub struct DemoCampaign<'a> {
    /// Campaign id.
    pub id: &'a str,
    /// Display name.
    pub name: &'a str,
    /// The manifest (its campaign id is `id`; one ballot style, used by the one precinct).
    pub manifest: &'a Manifest,
    /// Demo citizens on the register: `(pin, full name)`.
    pub citizens: Vec<(String, String)>,
    /// Re-vote policy.
    pub revote_policy: &'a str,
}

/// The PIN of generated demo citizen `i` (14 digits starting with 9).
pub fn demo_pin(i: u32) -> String {
    format!("9{i:013}")
}

/// Inserts a demo-mode campaign in state `registration` with voting day 20 days after `now`
/// (Bishkek), one electronic precinct and the citizens on its register; returns false (and
/// writes nothing) if a campaign with this id exists.
pub fn insert_demo_campaign(c: &mut AnyConnection, d: &DemoCampaign<'_>, now: i64) -> Result<bool, ApiError> {
    let exists: i64 = campaigns::table.filter(campaigns::id.eq(d.id)).count().get_result(c)?;
    if exists > 0 {
        return Ok(false);
    }
    let style = d
        .manifest
        .ballot_styles
        .first()
        .map(|s| s.id.clone())
        .ok_or_else(|| ApiError::invalid("manifest", "no ballot style"))?;
    let today = bishkek_date(DateTime::<Utc>::from_timestamp(now, 0).unwrap_or_default());
    let voting_day = today + Duration::days(20);
    let last_day = voting_day - Duration::days(15);
    let opens = bishkek_instant(voting_day, hm(8)).map(|d| d.timestamp()).unwrap_or(now);
    let closes = bishkek_instant(voting_day, hm(20)).map(|d| d.timestamp()).unwrap_or(now);
    let manifest = serde_json::to_string(d.manifest).map_err(|e| ApiError::Unexpected(e.into()))?;
    diesel::insert_into(campaigns::table)
        .values((
            campaigns::id.eq(d.id),
            campaigns::name.eq(d.name),
            campaigns::kind.eq("village_council"),
            campaigns::state.eq("registration"),
            campaigns::voting_day.eq(voting_day.format("%Y-%m-%d").to_string()),
            campaigns::window_start.eq("08:00"),
            campaigns::window_end.eq("20:00"),
            campaigns::opens_at.eq(opens),
            campaigns::closes_at.eq(closes),
            campaigns::last_application_day.eq(last_day.format("%Y-%m-%d").to_string()),
            campaigns::demo_mode.eq(true),
            campaigns::revote_policy.eq(d.revote_policy),
            campaigns::manifest.eq(manifest),
            campaigns::manifest_hash.eq(None::<String>),
            campaigns::election_public_key.eq(None::<String>),
            campaigns::created_at.eq(now),
            campaigns::updated_at.eq(now),
            campaigns::created_by.eq(ACTOR),
        ))
        .execute(c)?;
    diesel::insert_into(ballot_styles::table)
        .values((ballot_styles::campaign_id.eq(d.id), ballot_styles::code.eq(&style), ballot_styles::name.eq(&style)))
        .execute(c)?;
    diesel::insert_into(precincts::table)
        .values((
            precincts::campaign_id.eq(d.id),
            precincts::code.eq("7001"),
            precincts::name.eq("Электрондук шайлоо участогу №7001"),
            precincts::kind.eq("electronic"),
            precincts::ballot_style.eq(&style),
            precincts::territory.eq("batken"),
        ))
        .execute(c)?;
    for chunk in d.citizens.chunks(500) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|(pin, name)| {
                (
                    voters::campaign_id.eq(d.id),
                    voters::pin.eq(pin.as_str()),
                    voters::full_name.eq(name.as_str()),
                    voters::birth_date.eq("1990-01-01"),
                    voters::precinct_code.eq("7001"),
                    voters::imported_at.eq(now),
                )
            })
            .collect();
        // one statement per chunk (MultiConnection has no batch insert; each backend has)
        match c {
            AnyConnection::Postgresql(pg) => diesel::insert_into(voters::table).values(rows).execute(pg)?,
            AnyConnection::Sqlite(lite) => diesel::insert_into(voters::table).values(rows).execute(lite)?,
        };
    }
    audit::append(c, now, "demo", "demo.seed", Some(d.id), &json!({ "voters": d.citizens.len() }))?;
    Ok(true)
}

fn hm(h: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, 0, 0).unwrap_or_default()
}

/// Creates the pilot-like demo campaign unless it exists; returns whether it was created.
pub fn seed(c: &mut AnyConnection, now: i64) -> Result<bool, ApiError> {
    let manifest = demo_manifest();
    let citizens = (1..=12u32).map(|i| (format!("2010119900{i:04}"), format!("Демо Шайлоочу {i}"))).collect();
    let d = DemoCampaign {
        id: DEMO_CAMPAIGN,
        name: "Самаркандек айылдык кеңеши — демо",
        manifest: &manifest,
        citizens,
        revote_policy: "last_counts",
    };
    insert_demo_campaign(c, &d, now)
}

/// A demo-mode campaign for the load generator: one contest of `options` candidates (one mark,
/// no "against all", no blank) and `voters` generated citizens ([`demo_pin`] `1..=voters`).
pub fn load_campaign_manifest(id: &str, options: usize) -> Manifest {
    let mut m = demo_manifest();
    m.campaign_id = id.into();
    if let Some(contest) = m.contests.first_mut() {
        contest.options = (1..=options)
            .map(|i| option(&format!("c{i}"), &format!("Талапкер {i}"), &format!("Кандидат {i}")))
            .collect();
        contest.against_all = false;
        contest.blank_allowed = false;
    }
    m
}

/// The five demo key-holders and the threshold.
pub const DEMO_KEY_HOLDERS: u32 = 5;
/// Three of five.
pub const DEMO_THRESHOLD: u32 = 3;

/// Refuses unless `row` is a demo-mode campaign (the configuration is checked by the routes).
pub fn require_demo(row: &CampaignRow) -> Result<(), ApiError> {
    if row.demo_mode {
        Ok(())
    } else {
        Err(ApiError::forbidden("not_a_demo_campaign", format!("campaign {} is not a demo-mode campaign", row.id)))
    }
}

/// What [`open_now`] did.
#[derive(Debug, Serialize)]
pub struct Opened {
    /// The e-voters on the frozen list.
    pub e_voters: i64,
    /// The joint election key (hex).
    pub joint_key: String,
    /// Opening and closing instants (Unix seconds).
    pub opens_at: i64,
    /// Closing instant.
    pub closes_at: i64,
}

/// Moves demo-mode campaign `id` from applications to voting, now, in one transaction: the
/// e-voter list is frozen (the key ceremony starts, so applications end), the five demo
/// key-holders run their ceremony (3 of 5) and the election package is installed, the manifest
/// is frozen, the voting window is set to `[now, now + hours)` (the last application day to the
/// day before), a demo commission member signs the frozen list, and voting opens (the list, its
/// signature and the zero report go on the board). Each step is the same function a
/// commission's request runs, audited with actor `demo`.
pub fn open_now(
    c: &mut AnyConnection,
    boards: &Boards,
    id: &str,
    now: DateTime<Utc>,
    hours: u32,
) -> Result<Opened, ApiError> {
    let ts = now.timestamp();
    let row = load_campaign(c, id)?;
    require_demo(&row)?;
    let st = row.state()?;
    if st == CampaignState::Registration {
        apply_transition(c, boards, &row, Action::StartKeyCeremony, ts, ACTOR)?;
    } else if st != CampaignState::KeyCeremony {
        return Err(ApiError::conflict(
            "invalid_state",
            format!("a demo campaign opens from state registration or key_ceremony; it is in state {}", st.as_str()),
        ));
    }
    let manifest: Manifest =
        serde_json::from_str(&row.manifest).map_err(|e| ApiError::invalid("manifest", e.to_string()))?;
    let shares = demo_ceremony(c, id, ts)?;
    let done = ceremony::store::require_complete(c, id, "the demo election package")?;
    let commission = demo_commission(c, id, ts)?;
    let policy = row.revote_policy()?.to_package();
    let package = build_package(boards.public_key(), id, manifest, &done, commission, policy, None)?;
    diesel::delete(demo_key_holders::table.filter(demo_key_holders::campaign_id.eq(id))).execute(c)?;
    for (keys, share) in shares {
        let secret_keys = Zeroizing::new(hex::encode(keys.to_bytes().as_slice()));
        let key_share = Zeroizing::new(hex::encode(share.secret_bytes().as_slice()));
        let idx = i32::try_from(share.index()).map_err(|e| ApiError::Unexpected(e.into()))?;
        diesel::insert_into(demo_key_holders::table)
            .values((
                demo_key_holders::campaign_id.eq(id),
                demo_key_holders::idx.eq(idx),
                demo_key_holders::secret_keys.eq(secret_keys.as_str()),
                demo_key_holders::key_share.eq(key_share.as_str()),
            ))
            .execute(c)?;
    }
    store_package(c, id, &package, None, ACTOR, ts)?;
    boards.forget(id);
    let row = load_campaign(c, id)?;
    apply_transition(c, boards, &row, Action::FreezeManifest, ts, ACTOR)?;
    let closes = now + Duration::hours(i64::from(hours));
    let local = |t: DateTime<Utc>| t.with_timezone(&bishkek());
    diesel::update(campaigns::table.filter(campaigns::id.eq(id)))
        .set((
            campaigns::voting_day.eq(local(now).format("%Y-%m-%d").to_string()),
            campaigns::window_start.eq(local(now).format("%H:%M").to_string()),
            campaigns::window_end.eq(local(closes).format("%H:%M").to_string()),
            campaigns::opens_at.eq(ts),
            campaigns::closes_at.eq(closes.timestamp()),
            campaigns::last_application_day
                .eq((local(now).date_naive() - Duration::days(1)).format("%Y-%m-%d").to_string()),
            campaigns::updated_at.eq(ts),
        ))
        .execute(c)?;
    audit::append(
        c,
        ts,
        ACTOR,
        "demo.window_now",
        Some(id),
        &json!({ "opens_at": ts, "closes_at": closes.timestamp() }),
    )?;
    // The demo commission members sign the frozen list (the polls open only on a list signed by
    // the pinned commission's quorum).
    let (_, list) = crate::credentials::credential_list(c, id)?;
    let digest = credential_list_digest(id, &list);
    for ((name, _), key) in DEMO_MEMBERS.iter().zip(demo_member_keys(c, id)?) {
        add_signature(c, id, &MemberSignature::sign_digest(&digest, name, &key), ACTOR, now)?;
    }
    let row = load_campaign(c, id)?;
    apply_transition(c, boards, &row, Action::OpenVoting, ts, ACTOR)?;
    let e_voters = i64::try_from(crate::credentials::active_credentials(c, id)?.len()).unwrap_or(i64::MAX);
    Ok(Opened { e_voters, joint_key: package.joint_key.0.to_hex(), opens_at: ts, closes_at: closes.timestamp() })
}

/// The PIN of demo key-holder `l` (a staff member with the `key_holder` role, played by the
/// server; granted on first use, audited).
pub fn demo_key_holder_pin(l: u32) -> String {
    format!("8{l:013}")
}

/// The five demo key-holders' key ceremony, 3 of 5, through the server's own ceremony functions
/// (`ceremony::configure` and `ceremony::accept`, exactly what the key-holders' HTTP requests
/// run): the server plays each key-holder's device with [`InProcessCeremony`] and posts every
/// registration and signed message of rounds 1–3. Returns each key-holder's keys and share.
fn demo_ceremony(c: &mut AnyConnection, id: &str, ts: i64) -> Result<Vec<(KeyHolderKeys, KeyShare)>, ApiError> {
    let pins: Vec<String> = (1..=DEMO_KEY_HOLDERS).map(demo_key_holder_pin).collect();
    for pin in &pins {
        let held: i64 = staff::table
            .filter(staff::pin.eq(pin))
            .filter(staff::role.eq(Role::KeyHolder.as_str()))
            .count()
            .get_result(c)?;
        if held == 0 {
            diesel::insert_into(staff::table)
                .values((
                    staff::pin.eq(pin),
                    staff::role.eq(Role::KeyHolder.as_str()),
                    staff::territory.eq(None::<String>),
                    staff::granted_at.eq(ts),
                    staff::granted_by.eq(ACTOR),
                ))
                .execute(c)?;
            audit::append(
                c,
                ts,
                ACTOR,
                "staff.grant",
                None,
                &json!({ "pin": pin, "role": "key_holder", "demo": true }),
            )?;
        }
    }
    ceremony::setup::configure(c, id, DEMO_THRESHOLD, &pins, ts, ACTOR)?;
    let unexpected = |e: DkgError| ApiError::Unexpected(anyhow::anyhow!("demo key ceremony: {e}"));
    let keys: Vec<KeyHolderKeys> = (0..DEMO_KEY_HOLDERS).map(|_| KeyHolderKeys::generate(&mut OsRng)).collect();
    let publics: Vec<_> = keys.iter().zip(1u32..).map(|(k, l)| k.public(l)).collect();
    let pin_of = |l: u32| demo_key_holder_pin(l);
    for p in &publics {
        ceremony::relay::accept(c, id, &pin_of(p.index), &Incoming::Register(*p), ts)?;
    }
    let identities: Vec<_> = publics.iter().map(|p| p.context_keys()).collect();
    let mut dkg =
        InProcessCeremony::with_keys(&mut OsRng, base_hash(id, DEMO_THRESHOLD, &identities), keys, DEMO_THRESHOLD)
            .map_err(unexpected)?;
    dkg.round1(&mut OsRng).map_err(unexpected)?;
    for m in dkg.transcript.commitment_hashes.clone() {
        ceremony::relay::accept(c, id, &pin_of(m.message.sender()), &Incoming::CommitmentHash(m), ts)?;
    }
    dkg.round2(&mut OsRng).map_err(unexpected)?;
    for m in dkg.transcript.reveals.clone() {
        ceremony::relay::accept(c, id, &pin_of(m.message.sender()), &Incoming::Reveal(m), ts)?;
    }
    for m in dkg.transcript.shares.clone() {
        ceremony::relay::accept(c, id, &pin_of(m.message.sender()), &Incoming::Share(m), ts)?;
    }
    dkg.round3(&mut OsRng).map_err(unexpected)?;
    for l in 1..=DEMO_KEY_HOLDERS {
        let complaints = dkg.transcript.complaints.iter().filter(|m| m.message.complainer == l).cloned().collect();
        ceremony::relay::accept(
            c,
            id,
            &pin_of(l),
            &Incoming::Complaints(ComplaintList { complainer: l, complaints }),
            ts,
        )?;
    }
    let (_, shares) = dkg.finish().map_err(unexpected)?;
    Ok(dkg.keys.into_iter().zip(shares).collect())
}

/// Closes the polls of demo-mode campaign `id` now: the window is set to end now (data, not
/// the clock) and voting closes (the `closed` entry and the final head go on the board).
pub fn close_now(c: &mut AnyConnection, boards: &Boards, id: &str, now: DateTime<Utc>) -> Result<(), ApiError> {
    let ts = now.timestamp();
    let row = load_campaign(c, id)?;
    require_demo(&row)?;
    Action::CloseVoting.apply(row.state()?)?;
    diesel::update(campaigns::table.filter(campaigns::id.eq(id)))
        .set((
            campaigns::window_end.eq(now.with_timezone(&bishkek()).format("%H:%M").to_string()),
            campaigns::closes_at.eq(ts),
            campaigns::updated_at.eq(ts),
        ))
        .execute(c)?;
    audit::append(c, ts, ACTOR, "demo.window_ends_now", Some(id), &json!({ "closes_at": ts }))?;
    let row = load_campaign(c, id)?;
    apply_transition(c, boards, &row, Action::CloseVoting, ts, ACTOR)
}

/// The demo commission members who sign the credential list and the protocol: `(name, role)`.
/// Three pinned, all three sign (the quorum is more than half of them, for the protocol the chair
/// among them).
pub const DEMO_MEMBERS: [(&str, &str); 3] =
    [("Демо төрага", "chair"), ("Демо катчы", "secretary"), ("Демо мүчө", "member")];

/// What [`finish_now`] did.
#[derive(Debug, Serialize)]
pub struct Finished {
    /// The campaign's state afterwards (`protocol_signed`).
    pub state: String,
    /// The demo key-holders whose decryption shares were submitted.
    pub decrypting_key_holders: Vec<u32>,
    /// The saved protocol's digest (hex).
    pub protocol_digest: String,
    /// Members' signatures on the protocol.
    pub signatures: usize,
}

/// After [`close_now`], the commission's remaining steps for demo-mode campaign `id`, each
/// through the function its HTTP request runs (docs/server.md §Demo mode):
///
/// 1. `closed`: the first `t` demo key-holders (1–3) load their stored shares and post decryption
///    shares of every published total, each key-holder's as one submission by the key-holder's
///    PIN (`tally::submit_shares` verifies every share and combines the results at `t`, moving
///    the campaign to `tallied`);
/// 2. `tallied`: the server's draft protocol is saved (`election_protocol::save`) and the three
///    demo commission members pinned in the package at the opening (their keys kept in
///    `demo_members`) each sign the saved protocol's digest (`election_protocol::add_signature`);
///    the quorum moves the campaign to `protocol_signed`.
///
/// A step already done is skipped, so this can be retried; it is refused for a campaign in
/// another state.
pub fn finish_now(c: &mut AnyConnection, id: &str, now: DateTime<Utc>) -> Result<Finished, ApiError> {
    let ts = now.timestamp();
    let row = load_campaign(c, id)?;
    require_demo(&row)?;
    let mut decrypting_key_holders = Vec::new();
    if row.state()? == CampaignState::Closed {
        decrypting_key_holders = demo_decrypt(c, id, ts)?;
    }
    let st = load_campaign(c, id)?.state()?;
    if st == CampaignState::Tallied {
        demo_sign_protocol(c, id, now)?;
    } else if st != CampaignState::ProtocolSigned {
        return Err(ApiError::conflict(
            "invalid_state",
            format!("the demo tally runs after the polls close; the campaign is in state {}", st.as_str()),
        ));
    }
    let st = load_campaign(c, id)?.state()?;
    let protocol = crate::election_protocol::signed_protocol(c, id)?
        .ok_or_else(|| unexpected_state("no protocol after the demo signing"))?;
    Ok(Finished {
        state: st.as_str().into(),
        decrypting_key_holders,
        protocol_digest: hex::encode(protocol.body.digest()),
        signatures: protocol.signatures.len(),
    })
}

fn unexpected_state(what: &str) -> ApiError {
    ApiError::Unexpected(anyhow::anyhow!("demo: {what}"))
}

/// Step 1 of [`finish_now`]: returns the key-holders who decrypted.
fn demo_decrypt(c: &mut AnyConnection, id: &str, ts: i64) -> Result<Vec<u32>, ApiError> {
    let election = crate::package::load_election(c, id)?;
    let totals = crate::close::totals::published_totals(c, id)?;
    let ext = *election.context.extended_hash();
    let rows: Vec<(i32, String, String)> = demo_key_holders::table
        .filter(demo_key_holders::campaign_id.eq(id))
        .order(demo_key_holders::idx.asc())
        .limit(i64::from(DEMO_THRESHOLD))
        .select((demo_key_holders::idx, demo_key_holders::secret_keys, demo_key_holders::key_share))
        .load(c)?;
    if rows.len() < DEMO_THRESHOLD as usize {
        return Err(ApiError::conflict(
            "no_demo_key_holders",
            "the demo key-holders' shares are not stored for this campaign",
        ));
    }
    let mut used = Vec::with_capacity(rows.len());
    let mut combined = false;
    for (idx, hex_keys, hex_share) in rows {
        let (hex_keys, hex_share) = (Zeroizing::new(hex_keys), Zeroizing::new(hex_share));
        let l = u32::try_from(idx).map_err(|e| ApiError::Unexpected(e.into()))?;
        let key_bytes = Zeroizing::new(
            hex::decode(hex_keys.as_bytes()).map_err(|e| unexpected_state(&format!("secret keys {l}: {e}")))?,
        );
        let keys =
            KeyHolderKeys::from_bytes(&key_bytes).map_err(|e| unexpected_state(&format!("secret keys {l}: {e}")))?;
        let mut bytes = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(hex_share.as_bytes(), bytes.as_mut())
            .map_err(|e| unexpected_state(&format!("key share {l}: {e}")))?;
        let share = KeyShare::from_secret_bytes(l, bytes.as_ref())
            .map_err(|e| unexpected_state(&format!("key share {l}: {e}")))?;
        let mut shares = Vec::new();
        for (ci, contest) in (0u32..).zip(&totals) {
            for (j, ct) in (0u32..).zip(&contest.totals) {
                let total = TotalId { contest: ci, option: j };
                shares.push(
                    share
                        .partial_decrypt(&ext, total, ct, keys.signing_key(), &mut OsRng)
                        .map_err(|e| unexpected_state(&format!("partial decryption: {e}")))?,
                );
            }
        }
        let report = crate::tally::submit_shares(c, id, &shares, &demo_key_holder_pin(l), ts)?;
        if !report.rejected.is_empty() {
            return Err(unexpected_state(&format!(
                "demo key-holder {l}'s shares were set aside: {:?}",
                report.rejected
            )));
        }
        combined = report.combined;
        used.push(l);
    }
    if !combined {
        return Err(unexpected_state("the results were not combined from t valid shares"));
    }
    Ok(used)
}

/// Step 2 of [`finish_now`].
fn demo_sign_protocol(c: &mut AnyConnection, id: &str, now: DateTime<Utc>) -> Result<(), ApiError> {
    let ts = now.timestamp();
    let body = match crate::election_protocol::saved_body(c, id)? {
        Some(b) => b,
        None => {
            let body = crate::election_protocol::draft(c, id, crate::clock::millis(now))?;
            crate::election_protocol::save(c, id, &body, None, ACTOR, ts)?;
            body
        }
    };
    let digest = body.digest();
    let keys = demo_member_keys(c, id)?;
    if keys.is_empty() {
        return Err(ApiError::conflict(
            "members_registered",
            "this demo campaign's commission is not the demo's: its members sign the protocol themselves",
        ));
    }
    for ((name, _), key) in DEMO_MEMBERS.iter().zip(keys) {
        let signature = MemberSignature::sign_digest(&digest, name, &key);
        let req = crate::election_protocol::SignatureRequest {
            public_key: hex::encode(signature.public_key),
            signature: hex::encode(signature.signature),
        };
        crate::election_protocol::add_signature(c, id, &req, ts)?;
    }
    let st = load_campaign(c, id)?.state()?;
    if st != CampaignState::ProtocolSigned {
        return Err(unexpected_state(&format!(
            "the demo members' signatures left the campaign in state {}",
            st.as_str()
        )));
    }
    Ok(())
}

/// The second administrator of the demo's dual control (docs/protocol/14-commission.md §Dual
/// control): in demo mode the server plays both, which is what demo mode is.
const DEMO_CONFIRMER: &str = "demo-second-administrator";

/// The demo commission of campaign `id`, confirmed: if no member is registered yet, the
/// [`DEMO_MEMBERS`] with fresh keys kept in `demo_members` (registered by the demo, confirmed by
/// [`DEMO_CONFIRMER`]); otherwise the registered commission as confirmed by its administrators.
fn demo_commission(
    c: &mut AnyConnection,
    id: &str,
    ts: i64,
) -> Result<dobush_crypto::commission::Commission, ApiError> {
    if !crate::election_protocol::members(c, id)?.is_empty() {
        return crate::commission::confirmed(c, id);
    }
    let precinct = crate::models::load_precincts(c, id)?
        .into_iter()
        .find(|p| p.kind == "electronic")
        .map(|p| p.code)
        .ok_or_else(|| unexpected_state("no electronic precinct"))?;
    diesel::delete(demo_members::table.filter(demo_members::campaign_id.eq(id))).execute(c)?;
    for (i, (name, role)) in DEMO_MEMBERS.iter().enumerate() {
        let key = ed25519_dalek::SigningKey::generate(&mut OsRng);
        let member = crate::election_protocol::Member {
            name: (*name).into(),
            role: (*role).into(),
            precinct: precinct.clone(),
            public_key: hex::encode(key.verifying_key().to_bytes()),
        };
        // registered one second apart: the section's order is the order of registration
        crate::election_protocol::register_member(c, id, &member, ACTOR, ts + i as i64)?;
        let secret = Zeroizing::new(hex::encode(key.to_bytes()));
        diesel::insert_into(demo_members::table)
            .values((
                demo_members::campaign_id.eq(id),
                demo_members::idx.eq(i32::try_from(i).map_err(|e| ApiError::Unexpected(e.into()))?),
                demo_members::signing_key.eq(secret.as_str()),
            ))
            .execute(c)?;
    }
    let proposed = crate::commission::proposed(c, id)?;
    let rule = crate::models::load_campaign(c, id)?.revote_policy()?;
    crate::commission::confirm(c, id, &hex::encode(proposed.hash()), rule.as_str(), DEMO_CONFIRMER, ts)?;
    crate::commission::confirmed(c, id)
}

/// The demo members' signing keys of campaign `id` in [`DEMO_MEMBERS`] order (none if its
/// commission is not the demo's).
fn demo_member_keys(c: &mut AnyConnection, id: &str) -> Result<Vec<ed25519_dalek::SigningKey>, ApiError> {
    let rows: Vec<String> = demo_members::table
        .filter(demo_members::campaign_id.eq(id))
        .order(demo_members::idx.asc())
        .select(demo_members::signing_key)
        .load(c)?;
    rows.iter()
        .map(|h| {
            let mut b = Zeroizing::new([0u8; 32]);
            hex::decode_to_slice(h, b.as_mut_slice())
                .map_err(|_| unexpected_state("a demo member's stored key does not decode"))?;
            Ok(ed25519_dalek::SigningKey::from_bytes(&b))
        })
        .collect()
}

/// The audit actor of the server's demo steps.
const ACTOR: &str = "demo";

/// What the demo prints at startup: the addresses of the demo campaign and the commands that
/// check its record (`export-record` reads the same database as the server: `sqlite_url`, or the
/// `DOBUSH_DATABASE__URL` of the environment when `None`).
pub fn addresses(base: &str, id: &str, sqlite_url: Option<&str>) -> String {
    let db_env = sqlite_url.map(|u| format!("DOBUSH_DATABASE__URL={u} ")).unwrap_or_default();
    let c = format!("{base}/api/campaigns/{id}");
    let v1 = format!("{base}/api/v1/campaigns/{id}");
    let record_dir = format!("data/record-{id}");
    [
        format!("  demo campaign:    {c}"),
        format!("  demo citizens:    {c}/demo            (PINs to log in with)"),
        format!("  demo login:       POST {c}/demo/login  {{\"pin\": \"20101199000001\", \"client\": \"api\"}}"),
        format!("  voter app:        {base}/          (in a browser: the demo citizens log in from its first page, no Tunduk)"),
        format!("  voter cabinet:    {c}/cabinet          (the API the web app and the mobile apps, through mobile-bridge, use)"),
        format!("    apply:          PUT  {c}/cabinet/application  (the device makes the credential)"),
        format!("    cast:           POST {c}/ballots      (encrypted on the device; the answer is the receipt)"),
        format!("  open voting now:  curl -X POST {c}/demo/open"),
        format!("  close the polls:  curl -X POST {c}/demo/close   (then 3 of 5 demo key-holders decrypt, demo members sign the protocol)"),
        format!("  board (public):   {v1}/board/head  {v1}/board/entries?start=0&end=N"),
        format!("  turnout:          {c}/turnout"),
        format!("  results:          {v1}/results     protocol: {v1}/protocol"),
        format!("  record:           {v1}/record  {v1}/record/board.jsonl"),
        format!("  health, metrics:  {base}/health  {base}/metrics"),
        "Check the record after closing (exits 0 only when every check holds):".to_owned(),
        format!("  {db_env}cargo run --release -p dobush-server -- export-record --campaign {id} --out {record_dir}"),
        format!("  cargo run --release -p dobush-verifier -- verify {record_dir}"),
    ]
    .iter()
    .map(|l| format!("{l}\n"))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_campaign_is_seeded_once_and_valid() {
        let dir = std::env::temp_dir().join(format!("dobush-demo-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = crate::db::Db::connect(
            &format!("sqlite://{}/d.sqlite3", dir.display()),
            2,
            std::time::Duration::from_secs(5),
        )
        .unwrap();
        db.migrate().unwrap();
        let mut c = db.get().unwrap();
        assert!(crate::db::write_transaction(&mut c, |c| seed(c, 1)).unwrap());
        assert!(!crate::db::write_transaction(&mut c, |c| seed(c, 2)).unwrap(), "idempotent");
        let (demo, manifest): (bool, String) = campaigns::table
            .filter(campaigns::id.eq(DEMO_CAMPAIGN))
            .select((campaigns::demo_mode, campaigns::manifest))
            .first(&mut *c)
            .unwrap();
        assert!(demo, "flagged demo_mode in the database");
        let m: Manifest = serde_json::from_str(&manifest).unwrap();
        m.validate().unwrap();
        assert_eq!(m.contests[0].options.len(), 7);
        let n: i64 = voters::table.filter(voters::campaign_id.eq(DEMO_CAMPAIGN)).count().get_result(&mut *c).unwrap();
        assert_eq!(n, 12);
        std::fs::remove_dir_all(dir).ok();
    }
}
