//! Campaigns: kinds, the lifecycle state machine, re-vote policy, precinct kinds, and the parsed
//! definition of a new campaign.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::Deserialize;

use super::text;
use crate::clock::bishkek;
use crate::error::ApiError;

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($(#[$vm])* $v),+ }
        impl $name {
            /// All values.
            pub const ALL: &'static [$name] = &[$($name::$v),+];
            /// The stored / wire name.
            pub fn as_str(self) -> &'static str { match self { $($name::$v => $s),+ } }
            /// Parses the wire name.
            pub fn parse(s: &str) -> Result<Self, String> {
                match s {
                    $($s => Ok($name::$v),)+
                    _ => Err(format!("must be one of {}", [$($s),+].join(", "))),
                }
            }
        }
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> { s.serialize_str(self.as_str()) }
        }
    };
}

string_enum!(
    /// The kind of election.
    CampaignKind {
        /// President: one candidate or "against all".
        President = "president",
        /// Jogorku Kenesh: multi-member districts (each a ballot style), one mark.
        JogorkuKenesh = "jogorku_kenesh",
        /// Village council (aiyl kenesh): candidates.
        VillageCouncil = "village_council",
        /// City council: party lists.
        CityCouncil = "city_council",
        /// Referendum: questions.
        Referendum = "referendum",
    }
);

string_enum!(
    /// Where a campaign is in its lifecycle.
    CampaignState {
        /// Being defined.
        Draft = "draft",
        /// Rehearsal with test data, erased before registration.
        TestMode = "test_mode",
        /// Voters apply for e-voting (until the deadline).
        Registration = "registration",
        /// Key-holders generate the election key.
        KeyCeremony = "key_ceremony",
        /// The manifest (contests, candidates, key) can no longer change.
        ManifestFrozen = "manifest_frozen",
        /// Ballots are accepted (within the voting window).
        VotingOpen = "voting_open",
        /// Polls closed.
        Closed = "closed",
        /// Encrypted totals decrypted.
        Tallied = "tallied",
        /// Final: the protocol is signed.
        ProtocolSigned = "protocol_signed",
    }
);

string_enum!(
    /// A lifecycle action.
    Action {
        /// draft → test_mode
        StartTest = "start_test",
        /// test_mode → registration, erasing every piece of test data first.
        EraseTestDataAndOpenRegistration = "erase_test_data_and_open_registration",
        /// registration → key_ceremony
        StartKeyCeremony = "start_key_ceremony",
        /// key_ceremony → manifest_frozen
        FreezeManifest = "freeze_manifest",
        /// manifest_frozen → voting_open (only inside the voting window)
        OpenVoting = "open_voting",
        /// voting_open → closed (only once the window has ended)
        CloseVoting = "close_voting",
        /// closed → tallied
        RecordTally = "record_tally",
        /// tallied → protocol_signed
        SignProtocol = "sign_protocol",
    }
);

string_enum!(
    /// What happens when an e-voter casts again.
    RevotePolicy {
        /// The first ballot counts; later ones are refused (the 2023 pilot).
        Forbidden = "forbidden",
        /// The last ballot counts; earlier ones stay on the board marked superseded.
        LastCounts = "last_counts",
    }
);

impl RevotePolicy {
    /// The rule as the election package's `parameters` carry it (`dobush_crypto::parameters`).
    pub fn to_package(self) -> dobush_crypto::parameters::ReVotePolicy {
        match self {
            Self::Forbidden => dobush_crypto::parameters::ReVotePolicy::Forbidden,
            Self::LastCounts => dobush_crypto::parameters::ReVotePolicy::LastCounts,
        }
    }

    /// The rule of an election package's `parameters`.
    pub fn of_package(p: dobush_crypto::parameters::ReVotePolicy) -> Self {
        match p {
            dobush_crypto::parameters::ReVotePolicy::Forbidden => Self::Forbidden,
            dobush_crypto::parameters::ReVotePolicy::LastCounts => Self::LastCounts,
        }
    }
}

string_enum!(
    /// Kind of precinct.
    PrecinctKind {
        /// An ordinary polling station with paper ballots.
        Ordinary = "ordinary",
        /// A remote-voting station (any voter of the country, identified on site).
        Remote = "remote",
        /// The electronic precinct of internet voters; its results are legally binding.
        Electronic = "electronic",
    }
);

impl Action {
    /// The state this action requires and the state it leads to.
    pub fn edge(self) -> (CampaignState, CampaignState) {
        use CampaignState as S;
        match self {
            Self::StartTest => (S::Draft, S::TestMode),
            Self::EraseTestDataAndOpenRegistration => (S::TestMode, S::Registration),
            Self::StartKeyCeremony => (S::Registration, S::KeyCeremony),
            Self::FreezeManifest => (S::KeyCeremony, S::ManifestFrozen),
            Self::OpenVoting => (S::ManifestFrozen, S::VotingOpen),
            Self::CloseVoting => (S::VotingOpen, S::Closed),
            Self::RecordTally => (S::Closed, S::Tallied),
            Self::SignProtocol => (S::Tallied, S::ProtocolSigned),
        }
    }

    /// The next state, or a refusal that says what the action needs.
    pub fn apply(self, current: CampaignState) -> Result<CampaignState, ApiError> {
        let (from, to) = self.edge();
        if current == from {
            Ok(to)
        } else {
            Err(ApiError::conflict(
                "invalid_transition",
                format!(
                    "cannot {}: the campaign is in state {}, and {} is only allowed in state {}",
                    self.as_str(),
                    current.as_str(),
                    self.as_str(),
                    from.as_str()
                ),
            ))
        }
    }
}

impl CampaignState {
    /// Whether the register, precincts and ballot styles may still change.
    pub fn register_editable(self) -> bool {
        matches!(self, Self::Draft | Self::TestMode | Self::Registration)
    }

    /// Whether voters may apply for e-voting (the deadline is checked separately).
    pub fn accepts_applications(self) -> bool {
        matches!(self, Self::TestMode | Self::Registration | Self::KeyCeremony)
    }

    /// Whether the manifest may still change.
    pub fn manifest_editable(self) -> bool {
        matches!(self, Self::Draft | Self::TestMode | Self::Registration | Self::KeyCeremony)
    }
}

/// JSON body for a new campaign.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCampaignRequest {
    name: String,
    kind: String,
    voting_day: String,
    voting_window: WindowRequest,
    #[serde(default)]
    application_deadline_days: Option<u32>,
    #[serde(default)]
    demo_mode: bool,
    #[serde(default)]
    revote_policy: Option<String>,
    #[serde(default)]
    ballot_styles: Vec<BallotStyleRequest>,
    precincts: Vec<PrecinctRequest>,
    #[serde(default)]
    manifest: Option<serde_json::Value>,
}

/// `{"start": "08:00", "end": "20:00"}` in Bishkek time.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowRequest {
    start: String,
    end: String,
}

/// A ballot style (a JK district, or the single style of other kinds).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BallotStyleRequest {
    code: String,
    name: String,
}

/// A precinct.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrecinctRequest {
    code: String,
    name: String,
    kind: String,
    #[serde(default)]
    ballot_style: Option<String>,
    territory: String,
}

/// A ballot style after parsing.
#[derive(Debug, Clone)]
pub struct BallotStyle {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
}

/// A precinct after parsing.
#[derive(Debug, Clone)]
pub struct Precinct {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: PrecinctKind,
    /// Ballot style of its voters.
    pub ballot_style: String,
    /// Territory (the territorial commission responsible).
    pub territory: String,
}

/// A campaign definition after parsing.
#[derive(Debug, Clone)]
pub struct NewCampaign {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: CampaignKind,
    /// Voting day (Bishkek calendar).
    pub voting_day: NaiveDate,
    /// Window start, Bishkek time.
    pub window_start: NaiveTime,
    /// Window end, Bishkek time.
    pub window_end: NaiveTime,
    /// Last day (inclusive) to apply for or withdraw from e-voting.
    pub last_application_day: NaiveDate,
    /// Demo mode (demo logins allowed; never in production).
    pub demo_mode: bool,
    /// Re-vote policy.
    pub revote_policy: RevotePolicy,
    /// Ballot styles.
    pub ballot_styles: Vec<BallotStyle>,
    /// Precincts.
    pub precincts: Vec<Precinct>,
    /// Contests (a `dobush_crypto` manifest; opaque JSON for now).
    pub manifest: serde_json::Value,
}

/// Default number of full calendar days between the last application day and voting day.
pub const DEFAULT_APPLICATION_DEADLINE_DAYS: u32 = 15;

/// "No later than N calendar days before voting day": N full days lie between the last day and
/// voting day, so for 9 April 2023 and N = 15 the last day is 24 March 2023.
pub fn last_application_day(voting_day: NaiveDate, days: u32) -> Option<NaiveDate> {
    voting_day.checked_sub_days(Days::new(u64::from(days) + 1))
}

/// The instant of a Bishkek wall-clock time on a date.
pub fn bishkek_instant(day: NaiveDate, t: NaiveTime) -> Option<DateTime<Utc>> {
    bishkek().from_local_datetime(&day.and_time(t)).single().map(|d| d.with_timezone(&Utc))
}

fn parse_time(field: &str, s: &str) -> Result<NaiveTime, ApiError> {
    NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| ApiError::invalid(field, "must be a time HH:MM (Asia/Bishkek)"))
}

/// Parses a ballot-style list, checking codes are unique.
pub fn parse_ballot_styles(items: &[BallotStyleRequest]) -> Result<Vec<BallotStyle>, ApiError> {
    let mut out: Vec<BallotStyle> = Vec::new();
    for (i, b) in items.iter().enumerate() {
        let code = text::code(&b.code).map_err(|e| ApiError::invalid(format!("ballot_styles[{i}].code"), e))?;
        let name = text::name(&b.name, 200).map_err(|e| ApiError::invalid(format!("ballot_styles[{i}].name"), e))?;
        if out.iter().any(|o| o.code == code) {
            return Err(ApiError::invalid(format!("ballot_styles[{i}].code"), "duplicate code"));
        }
        out.push(BallotStyle { code, name });
    }
    Ok(out)
}

/// Parses a precinct list against the known ballot-style codes (`default_style` fills a missing one).
pub fn parse_precincts(
    items: &[PrecinctRequest],
    style_codes: &[String],
    default_style: Option<&str>,
) -> Result<Vec<Precinct>, ApiError> {
    let mut out: Vec<Precinct> = Vec::new();
    for (i, p) in items.iter().enumerate() {
        let f = |k: &str| format!("precincts[{i}].{k}");
        let code = text::code(&p.code).map_err(|e| ApiError::invalid(f("code"), e))?;
        let name = text::name(&p.name, 200).map_err(|e| ApiError::invalid(f("name"), e))?;
        let kind = PrecinctKind::parse(&p.kind).map_err(|e| ApiError::invalid(f("kind"), e))?;
        let territory = text::code(&p.territory).map_err(|e| ApiError::invalid(f("territory"), e))?;
        let ballot_style = match (&p.ballot_style, default_style) {
            (Some(s), _) => s.clone(),
            (None, Some(d)) => d.to_string(),
            (None, None) => {
                return Err(ApiError::invalid(f("ballot_style"), "required when there are several ballot styles"));
            }
        };
        if !style_codes.contains(&ballot_style) {
            return Err(ApiError::invalid(f("ballot_style"), "no such ballot style in this campaign"));
        }
        if out.iter().any(|o| o.code == code) {
            return Err(ApiError::invalid(f("code"), "duplicate code"));
        }
        out.push(Precinct { code, name, kind, ballot_style, territory });
    }
    Ok(out)
}

/// Checks the manifest is a JSON object (its content is `dobush_crypto`'s business).
pub fn parse_manifest(v: Option<serde_json::Value>) -> Result<serde_json::Value, ApiError> {
    match v {
        None => Ok(serde_json::json!({})),
        Some(v @ serde_json::Value::Object(_)) => Ok(v),
        Some(_) => Err(ApiError::invalid("manifest", "must be a JSON object")),
    }
}

impl NewCampaignRequest {
    /// Parses and checks the whole definition.
    pub fn parse(self) -> Result<NewCampaign, ApiError> {
        let name = text::name(&self.name, 200).map_err(|e| ApiError::invalid("name", e))?;
        let kind = CampaignKind::parse(&self.kind).map_err(|e| ApiError::invalid("kind", e))?;
        let voting_day = NaiveDate::parse_from_str(&self.voting_day, "%Y-%m-%d")
            .map_err(|_| ApiError::invalid("voting_day", "must be a date YYYY-MM-DD"))?;
        let window_start = parse_time("voting_window.start", &self.voting_window.start)?;
        let window_end = parse_time("voting_window.end", &self.voting_window.end)?;
        if window_end <= window_start {
            return Err(ApiError::invalid("voting_window.end", "must be after voting_window.start (same day)"));
        }
        let days = self.application_deadline_days.unwrap_or(DEFAULT_APPLICATION_DEADLINE_DAYS);
        if days > 365 {
            return Err(ApiError::invalid("application_deadline_days", "must be at most 365"));
        }
        let last_application_day = last_application_day(voting_day, days)
            .ok_or_else(|| ApiError::invalid("application_deadline_days", "out of range"))?;
        let revote_policy = match self.revote_policy.as_deref() {
            None => RevotePolicy::Forbidden,
            Some(s) => RevotePolicy::parse(s).map_err(|e| ApiError::invalid("revote_policy", e))?,
        };
        let mut ballot_styles = parse_ballot_styles(&self.ballot_styles)?;
        if ballot_styles.is_empty() {
            if kind == CampaignKind::JogorkuKenesh {
                return Err(ApiError::invalid("ballot_styles", "a Jogorku Kenesh campaign needs its districts"));
            }
            ballot_styles.push(BallotStyle { code: "main".into(), name: name.clone() });
        }
        let codes: Vec<String> = ballot_styles.iter().map(|b| b.code.clone()).collect();
        let default_style = if codes.len() == 1 { codes.first().map(String::as_str) } else { None };
        let precincts = parse_precincts(&self.precincts, &codes, default_style)?;
        if !precincts.iter().any(|p| p.kind != PrecinctKind::Ordinary) {
            return Err(ApiError::invalid("precincts", "at least one electronic or remote precinct is required"));
        }
        let manifest = parse_manifest(self.manifest)?;
        Ok(NewCampaign {
            name,
            kind,
            voting_day,
            window_start,
            window_end,
            last_application_day,
            demo_mode: self.demo_mode,
            revote_policy,
            ballot_styles,
            precincts,
            manifest,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pilot_deadline_is_24_march() {
        let day = NaiveDate::from_ymd_opt(2023, 4, 9).unwrap();
        assert_eq!(last_application_day(day, 15), NaiveDate::from_ymd_opt(2023, 3, 24));
    }

    #[test]
    fn every_action_needs_exactly_its_state() {
        for a in Action::ALL {
            let (from, to) = a.edge();
            for s in CampaignState::ALL {
                assert_eq!(a.apply(*s).ok(), if *s == from { Some(to) } else { None });
            }
        }
    }

    #[test]
    fn window_is_bishkek_time() {
        let day = NaiveDate::from_ymd_opt(2023, 4, 9).unwrap();
        let t = NaiveTime::from_hms_opt(8, 0, 0).unwrap();
        assert_eq!(bishkek_instant(day, t).unwrap().to_rfc3339(), "2023-04-09T02:00:00+00:00");
    }
}
