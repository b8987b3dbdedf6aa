//! A row of the voter register.

use chrono::{Datelike, NaiveDate};

use super::Pin;
use super::text;

/// A register row after parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoterRecord {
    /// PIN.
    pub pin: Pin,
    /// Full name as in the population register.
    pub full_name: String,
    /// Date of birth.
    pub birth_date: NaiveDate,
    /// Code of the home precinct.
    pub precinct: String,
}

impl VoterRecord {
    /// Parses the raw fields. Every problem is reported, not only the first. A voter must be 18 on
    /// voting day.
    pub fn parse(
        pin: &str,
        full_name: &str,
        birth_date: &str,
        precinct: &str,
        voting_day: NaiveDate,
    ) -> Result<Self, Vec<String>> {
        let mut errors = Vec::new();
        let pin = Pin::parse(pin.trim()).map_err(|e| errors.push(format!("pin: {e}"))).ok();
        let full_name = text::name(full_name, 300).map_err(|e| errors.push(format!("full_name: {e}"))).ok();
        let birth = match NaiveDate::parse_from_str(birth_date.trim(), "%Y-%m-%d") {
            Ok(d) if d.year() < 1900 => {
                errors.push("birth_date: before 1900".into());
                None
            }
            Ok(d) if adult_on(d, voting_day) => Some(d),
            Ok(_) => {
                errors.push("birth_date: the voter is not 18 on voting day".into());
                None
            }
            Err(_) => {
                errors.push("birth_date: must be a date YYYY-MM-DD".into());
                None
            }
        };
        let precinct = text::code(precinct.trim()).map_err(|e| errors.push(format!("precinct: {e}"))).ok();
        match (pin, full_name, birth, precinct) {
            (Some(pin), Some(full_name), Some(birth_date), Some(precinct)) if errors.is_empty() => {
                Ok(Self { pin, full_name, birth_date, precinct })
            }
            _ => Err(errors),
        }
    }
}

fn adult_on(birth: NaiveDate, day: NaiveDate) -> bool {
    let years = day.year() - birth.year() - i32::from((day.month(), day.day()) < (birth.month(), birth.day()));
    years >= 18
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eighteen_on_voting_day() {
        let day = NaiveDate::from_ymd_opt(2023, 4, 9).unwrap();
        assert!(VoterRecord::parse("21504199000012", "A B", "2005-04-09", "P1", day).is_ok());
        let e = VoterRecord::parse("21504199000012", "A B", "2005-04-10", "P1", day).unwrap_err();
        assert_eq!(e, vec!["birth_date: the voter is not 18 on voting day".to_string()]);
        let e = VoterRecord::parse("1", "", "x", "", day).unwrap_err();
        assert_eq!(e.len(), 4);
    }
}
