//! Election fixtures shared by the cross-crate tests and the vector generator.

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
        ballot_styles: vec![BallotStyle { id: "samarkandek".into(), contests: vec!["council".into(), "question".into()] }],
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
            options: (1..=30).map(|i| option(&format!("c{i}"), &format!("Талапкер {i}"), &format!("Кандидат {i}"))).collect(),
            min_marks: 1,
            max_marks: 21,
            against_all: false,
            blank_allowed: false,
        }],
        ballot_styles: vec![BallotStyle { id: "all".into(), contests: vec!["council".into()] }],
    }
}
