//! Election fixtures shared by the cross-crate tests and the vector generator.

use dobush_crypto::ballot::{PlaintextBallot, PlaintextContest};
use dobush_crypto::manifest::{BallotStyle, Contest, ContestOption, Localized, Manifest};

fn option(id: &str, ky: &str, ru: &str) -> ContestOption {
    ContestOption {
        id: id.into(),
        name: Localized::new([("ky", ky.to_owned()), ("ru", ru.to_owned())]),
        details: Localized::default(),
    }
}

/// A village council election like the 2023 pilot (Samarkandek, Batken district): seven
/// candidates, one mark, "against all" and a blank ballot allowed; plus a referendum question.
pub fn pilot_manifest() -> Manifest {
    let names = [
        ("Асанов Б.", "Асанов Б."),
        ("Бакирова Г.", "Бакирова Г."),
        ("Жумабеков Т.", "Жумабеков Т."),
        ("Исаков Н.", "Исаков Н."),
        ("Калыкова А.", "Калыкова А."),
        ("Маматов Р.", "Маматов Р."),
        ("Токтосунова Ж.", "Токтосунова Ж."),
    ];
    Manifest {
        campaign_id: "samarkandek-2023".into(),
        title: Localized::new([
            ("ky", "Самаркандек айылдык кеңешинин шайлоосу".to_owned()),
            ("ru", "Выборы в Самаркандекский айылный кенеш".to_owned()),
        ]),
        contests: vec![
            Contest {
                id: "council".into(),
                title: Localized::new([("ky", "Айылдык кеңеш".to_owned()), ("ru", "Айылный кенеш".to_owned())]),
                options: names.iter().enumerate().map(|(i, (ky, ru))| option(&format!("c{}", i + 1), ky, ru)).collect(),
                min_marks: 1,
                max_marks: 1,
                against_all: true,
                blank_allowed: true,
            },
            Contest {
                id: "question".into(),
                title: Localized::new([("ky", "Суроо".to_owned()), ("ru", "Вопрос".to_owned())]),
                options: vec![option("yes", "Ооба", "Да"), option("no", "Жок", "Нет")],
                min_marks: 1,
                max_marks: 1,
                against_all: false,
                blank_allowed: false,
            },
        ],
        ballot_styles: vec![BallotStyle {
            id: "samarkandek".into(),
            contests: vec!["council".into(), "question".into()],
        }],
    }
}

/// A ballot of [`pilot_manifest`]'s style: a mark for council candidate `candidate` (`0..9`:
/// seven candidates, "against all", blank) and "yes" or "no" on the question.
pub fn pilot_vote(candidate: usize, yes: bool) -> PlaintextBallot {
    PlaintextBallot {
        style: "samarkandek".into(),
        contests: vec![
            PlaintextContest {
                contest_id: "council".into(),
                selections: (0..9).map(|j| u8::from(j == candidate)).collect(),
            },
            PlaintextContest { contest_id: "question".into(), selections: if yes { vec![1, 0] } else { vec![0, 1] } },
        ],
    }
}

/// A multi-mark council with more than 16 allowed counts (bulletproofs count proof).
pub fn wide_manifest() -> Manifest {
    Manifest {
        campaign_id: "wide-2026".into(),
        title: Localized::new([("en", "Wide multi-mark council".to_owned())]),
        contests: vec![Contest {
            id: "council".into(),
            title: Localized::new([("en", "Council".to_owned())]),
            options: (1..=30)
                .map(|i| option(&format!("c{i}"), &format!("Талапкер {i}"), &format!("Кандидат {i}")))
                .collect(),
            min_marks: 1,
            max_marks: 21,
            against_all: false,
            blank_allowed: false,
        }],
        ballot_styles: vec![BallotStyle { id: "all".into(), contests: vec!["council".into()] }],
    }
}

/// A Bishkek wall-clock instant (UTC+6 all year) in 2030, the year of [`campaign_2030`].
pub fn bishkek_2030(month: u32, day: u32, hour: u32) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    chrono::FixedOffset::east_opt(6 * 3600)
        .and_then(|tz| tz.with_ymd_and_hms(2030, month, day, hour, 0, 0).single())
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_default()
}

/// The campaign that the tests against a running server create (`POST /api/campaigns`): a village
/// council voting on 9 April 2030, 08:00–20:00, re-votes under `last_counts`, the ballot style of
/// [`pilot_manifest`] (`samarkandek`), an ordinary precinct `P1` (the e-voters' register) and the
/// electronic precinct `E1`, and [`pilot_manifest`]'s contests. Applications go in before
/// 25 March ([`bishkek_2030`]`(3, 1, 12)`), the polls open on the day.
pub fn campaign_2030() -> serde_json::Value {
    serde_json::json!({
        "manifest": serde_json::to_value(pilot_manifest()).unwrap_or_default(),
        "name": "Samarkandek village council 2030", "kind": "village_council", "voting_day": "2030-04-09",
        "voting_window": { "start": "08:00", "end": "20:00" }, "revote_policy": "last_counts",
        "ballot_styles": [{ "code": "samarkandek", "name": "Samarkandek" }],
        "precincts": [
            { "code": "P1", "name": "School No. 1", "kind": "ordinary", "territory": "batken" },
            { "code": "E1", "name": "Electronic precinct", "kind": "electronic", "territory": "batken" }
        ]
    })
}
