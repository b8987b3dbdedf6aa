//! The election manifest: contests, their options, the marks allowed, and ballot styles
//! (`docs/protocol/08-ballot.md` §Manifest).
//!
//! A contest's *selections* are its options in the CEC's order, followed by "against all" if
//! the contest has it, followed by "blank" if the contest allows a blank ballot. "Against all"
//! and "blank" are *exclusive*: marking one of them excludes every other mark. Validity is one
//! condition on the weighted sum `v = Σ options + W·(against_all + blank)` with `W = n + 1`
//! for `n` options: `v ∈ {min, …, max} ∪ {W}`. Since `Σ options ≤ n < W`, `v = W` means exactly
//! one exclusive mark and nothing else, and `v ≤ max` means no exclusive mark.

use std::collections::{BTreeMap, HashSet};

use merlin::Transcript;
use serde::{Deserialize, Serialize};

use crate::error::DecodeError;
use crate::labels;
use crate::transcript::TranscriptProtocol;

/// Text in several languages: language code (`ky`, `ru`, `en`) → text. Decoding refuses a
/// language given twice (record-format.md §Conventions, J1): a map would keep the last silently.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Localized(pub BTreeMap<String, String>);

impl<'de> Deserialize<'de> for Localized {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Texts;
        impl<'de> serde::de::Visitor<'de> for Texts {
            type Value = Localized;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of texts by language")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Localized, A::Error> {
                let mut texts = BTreeMap::new();
                while let Some((lang, text)) = a.next_entry::<String, String>()? {
                    if texts.contains_key(&lang) {
                        return Err(serde::de::Error::custom(format!("the language {lang:?} repeats")));
                    }
                    texts.insert(lang, text);
                }
                Ok(Localized(texts))
            }
        }
        d.deserialize_map(Texts)
    }
}

impl Localized {
    /// One text in each of the given languages.
    pub fn new<I: IntoIterator<Item = (&'static str, String)>>(items: I) -> Self {
        Self(items.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    fn append_to(&self, t: &mut Transcript) {
        t.append_u64(labels::L_TEXTS, self.0.len() as u64);
        for (lang, text) in &self.0 {
            t.append_str(labels::L_LANG, lang);
            t.append_str(labels::L_TEXT, text);
        }
    }
}

/// One candidate, party list or answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContestOption {
    /// Identifier, unique within the contest.
    pub id: String,
    /// Name as printed on the ballot.
    pub name: Localized,
    /// Further text printed with the name (party, nomination, …).
    #[serde(default)]
    pub details: Localized,
}

/// One contest (a race, or one referendum question).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contest {
    /// Identifier, unique in the manifest.
    pub id: String,
    /// Title.
    pub title: Localized,
    /// Options in ballot order.
    pub options: Vec<ContestOption>,
    /// Fewest marks among the options for a valid non-exclusive vote (≥ 1).
    pub min_marks: u32,
    /// Most marks among the options.
    pub max_marks: u32,
    /// Whether the ballot has an "against all" option.
    pub against_all: bool,
    /// Whether the voter may cast a blank ballot (counted as invalid in the protocol).
    pub blank_allowed: bool,
}

/// What one selection of a contest stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectionKind {
    /// The option with this index.
    Option(usize),
    /// "Against all".
    AgainstAll,
    /// Blank ballot.
    Blank,
}

impl Contest {
    /// The number of encrypted selections: options, then against-all, then blank.
    pub fn selection_count(&self) -> usize {
        self.options.len() + usize::from(self.against_all) + usize::from(self.blank_allowed)
    }

    /// The meaning of selection `i`.
    pub fn selection_kind(&self, i: usize) -> Option<SelectionKind> {
        let n = self.options.len();
        if i < n {
            return Some(SelectionKind::Option(i));
        }
        let mut j = n;
        if self.against_all {
            if i == j {
                return Some(SelectionKind::AgainstAll);
            }
            j += 1;
        }
        (self.blank_allowed && i == j).then_some(SelectionKind::Blank)
    }

    /// Weight of selection `i` in the count proof: 1 for options, `W = n + 1` for exclusive ones.
    pub fn weight(&self, i: usize) -> u64 {
        if i < self.options.len() { 1 } else { self.options.len() as u64 + 1 }
    }

    /// Whether the contest has an exclusive selection (against all, blank).
    pub fn has_exclusive(&self) -> bool {
        self.against_all || self.blank_allowed
    }

    /// The allowed values of the weighted sum, increasing: `min..=max`, then `W` if the contest
    /// has an exclusive selection.
    pub fn allowed_values(&self) -> Vec<u64> {
        let mut v: Vec<u64> = (u64::from(self.min_marks)..=u64::from(self.max_marks)).collect();
        if self.has_exclusive() {
            v.push(self.options.len() as u64 + 1);
        }
        v
    }

    /// Whether the count proof is a bulletproofs range proof (more than 16 allowed values).
    pub fn uses_range_proof(&self) -> bool {
        self.allowed_values().len() > 16
    }

    /// Whether a 0/1 selection vector is a valid vote in this contest.
    pub fn is_valid_vote(&self, selections: &[u8]) -> bool {
        if selections.len() != self.selection_count() || selections.iter().any(|&s| s > 1) {
            return false;
        }
        let v: u64 = selections.iter().enumerate().map(|(i, &s)| u64::from(s) * self.weight(i)).sum();
        self.allowed_values().contains(&v)
    }

    fn validate(&self) -> Result<(), DecodeError> {
        let err = |m: String| Err(DecodeError::Structure(format!("contest {:?}: {m}", self.id)));
        if self.id.is_empty() {
            return err("empty id".into());
        }
        if self.options.is_empty() {
            return err("no options".into());
        }
        if self.min_marks < 1 {
            return err("min_marks must be at least 1 (a blank vote is the explicit blank option)".into());
        }
        if self.min_marks > self.max_marks || self.max_marks as usize > self.options.len() {
            return err("need 1 ≤ min_marks ≤ max_marks ≤ number of options".into());
        }
        if self.uses_range_proof() && self.has_exclusive() {
            return err("a contest with more than 16 allowed mark counts cannot have against-all or blank yet".into());
        }
        let mut ids = HashSet::new();
        if self.options.iter().any(|o| o.id.is_empty() || !ids.insert(&o.id)) {
            return err("option ids must be non-empty and unique".into());
        }
        Ok(())
    }

    fn append_to(&self, t: &mut Transcript) {
        t.append_str(labels::L_CONTEST_ID, &self.id);
        self.title.append_to(t);
        t.append_u64(labels::L_MIN, u64::from(self.min_marks));
        t.append_u64(labels::L_MAX, u64::from(self.max_marks));
        t.append_u64(labels::L_AGAINST_ALL, u64::from(self.against_all));
        t.append_u64(labels::L_BLANK_ALLOWED, u64::from(self.blank_allowed));
        t.append_u64(labels::L_OPTIONS, self.options.len() as u64);
        for o in &self.options {
            t.append_str(labels::L_OPTION_ID, &o.id);
            o.name.append_to(t);
            o.details.append_to(t);
        }
    }
}

/// A ballot style: the contests one group of voters receives (e.g. one Jogorku Kenesh district).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BallotStyle {
    /// Identifier, unique in the manifest.
    pub id: String,
    /// Contest ids in ballot order.
    pub contests: Vec<String>,
}

/// The frozen election manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The campaign this manifest belongs to.
    pub campaign_id: String,
    /// The election's name.
    pub title: Localized,
    /// Every contest of the election.
    pub contests: Vec<Contest>,
    /// Every ballot style.
    pub ballot_styles: Vec<BallotStyle>,
}

impl Manifest {
    /// Checks the manifest's structure: unique ids, sane bounds, styles naming real contests.
    pub fn validate(&self) -> Result<(), DecodeError> {
        if self.contests.is_empty() || self.ballot_styles.is_empty() {
            return Err(DecodeError::Structure("manifest needs contests and ballot styles".into()));
        }
        let mut ids = HashSet::new();
        for c in &self.contests {
            c.validate()?;
            if !ids.insert(c.id.as_str()) {
                return Err(DecodeError::Structure(format!("duplicate contest id {:?}", c.id)));
            }
        }
        let mut style_ids = HashSet::new();
        for s in &self.ballot_styles {
            if s.id.is_empty() || !style_ids.insert(s.id.as_str()) {
                return Err(DecodeError::Structure(format!("bad or duplicate style id {:?}", s.id)));
            }
            let mut seen = HashSet::new();
            if s.contests.is_empty() || s.contests.iter().any(|c| !ids.contains(c.as_str()) || !seen.insert(c)) {
                return Err(DecodeError::Structure(format!("style {:?} must list existing contests, each once", s.id)));
            }
        }
        Ok(())
    }

    /// The contest with this id and its index in the manifest.
    pub fn contest(&self, id: &str) -> Option<(usize, &Contest)> {
        self.contests.iter().enumerate().find(|(_, c)| c.id == id)
    }

    /// The ballot style with this id.
    pub fn style(&self, id: &str) -> Option<&BallotStyle> {
        self.ballot_styles.iter().find(|s| s.id == id)
    }

    /// The manifest hash (`docs/protocol/08-ballot.md` §Manifest hash).
    pub fn hash(&self) -> [u8; 32] {
        let mut t = Transcript::protocol(labels::DS_MANIFEST);
        t.append_str(labels::L_CAMPAIGN, &self.campaign_id);
        self.title.append_to(&mut t);
        t.append_u64(labels::L_CONTESTS, self.contests.len() as u64);
        for c in &self.contests {
            c.append_to(&mut t);
        }
        t.append_u64(labels::L_STYLES, self.ballot_styles.len() as u64);
        for s in &self.ballot_styles {
            t.append_str(labels::L_STYLE_ID, &s.id);
            t.append_u64(labels::L_STYLE_CONTESTS, s.contests.len() as u64);
            for c in &s.contests {
                t.append_str(labels::L_CONTEST_ID, c);
            }
        }
        t.challenge_32(labels::L_MANIFEST_HASH)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_language_given_twice_is_refused() {
        let once: Localized = serde_json::from_str(r#"{"ky":"A","ru":"B"}"#).unwrap();
        assert_eq!(once, Localized::new([("ky", "A".to_owned()), ("ru", "B".to_owned())]));
        let e = serde_json::from_str::<Localized>(r#"{"ky":"A","ru":"B","ky":"C"}"#).unwrap_err();
        assert!(e.to_string().contains("repeats"), "{e}");
        assert!(serde_json::from_str::<Localized>(r#"{"k\u0079":"A","ky":"C"}"#).is_err());
        assert!(serde_json::from_str::<Localized>(r#"["ky","A"]"#).is_err());
    }

    fn contest(n: usize, min: u32, max: u32, aa: bool, blank: bool) -> Contest {
        Contest {
            id: "c".into(),
            title: Localized::default(),
            options: (0..n)
                .map(|i| ContestOption {
                    id: format!("o{i}"),
                    name: Localized::default(),
                    details: Localized::default(),
                })
                .collect(),
            min_marks: min,
            max_marks: max,
            against_all: aa,
            blank_allowed: blank,
        }
    }

    #[test]
    fn one_mark_with_against_all_and_blank() {
        let c = contest(3, 1, 1, true, true);
        assert_eq!(c.selection_count(), 5);
        assert_eq!(c.allowed_values(), vec![1, 4]);
        assert!(c.is_valid_vote(&[0, 1, 0, 0, 0]));
        assert!(c.is_valid_vote(&[0, 0, 0, 1, 0]), "against all alone");
        assert!(c.is_valid_vote(&[0, 0, 0, 0, 1]), "blank alone");
        assert!(!c.is_valid_vote(&[0, 0, 0, 0, 0]), "no mark at all");
        assert!(!c.is_valid_vote(&[1, 1, 0, 0, 0]), "two marks");
        assert!(!c.is_valid_vote(&[1, 0, 0, 1, 0]), "candidate and against all");
        assert!(!c.is_valid_vote(&[0, 0, 0, 1, 1]), "against all and blank");
        assert!(!c.is_valid_vote(&[0, 2, 0, 0, 0]));
        assert_eq!(c.selection_kind(3), Some(SelectionKind::AgainstAll));
        assert_eq!(c.selection_kind(4), Some(SelectionKind::Blank));
        assert_eq!(c.selection_kind(5), None);
    }

    #[test]
    fn multi_mark_with_exclusive_option() {
        let c = contest(10, 1, 5, true, false);
        assert_eq!(c.allowed_values(), vec![1, 2, 3, 4, 5, 11]);
        assert!(!c.is_valid_vote(&[1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0]));
        assert!(c.is_valid_vote(&[1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0]));
        assert!(!c.is_valid_vote(&[1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0]), "six marks");
        assert!(c.is_valid_vote(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]));
        assert!(!c.is_valid_vote(&[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]));
    }

    #[test]
    fn validation_and_hash_sensitivity() {
        let m = Manifest {
            campaign_id: "x".into(),
            title: Localized::default(),
            contests: vec![contest(3, 1, 1, true, false)],
            ballot_styles: vec![BallotStyle { id: "s".into(), contests: vec!["c".into()] }],
        };
        m.validate().unwrap();
        let mut m2 = m.clone();
        m2.contests[0].options[1].name = Localized::new([("ky", "Башка".to_owned())]);
        assert_ne!(m.hash(), m2.hash(), "renaming a candidate changes the hash");
        let mut bad = m.clone();
        bad.contests[0].min_marks = 0;
        assert!(bad.validate().is_err());
        let mut bad = m.clone();
        bad.ballot_styles[0].contests.push("nope".into());
        assert!(bad.validate().is_err());
        let mut bad = m;
        bad.contests[0].max_marks = 4;
        assert!(bad.validate().is_err());
    }
}
