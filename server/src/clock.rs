//! Time. Every deadline and window decision asks an injected [`Clock`], so tests can set the time
//! exactly. Kyrgyzstan uses UTC+6 all year (no daylight saving since 2005), so Asia/Bishkek is a
//! fixed offset here rather than a tz-database zone.

use std::sync::Mutex;

use chrono::{DateTime, FixedOffset, NaiveDate, Offset, Utc};

/// The source of "now".
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until moved (tests, and rehearsals in test mode).
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    /// A clock showing `at`.
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(Mutex::new(at))
    }

    /// Sets the time.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }

    /// Moves the time forward (or back, with a negative duration).
    pub fn advance(&self, by: chrono::Duration) {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *g += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Asia/Bishkek: UTC+06:00, no DST.
pub fn bishkek() -> FixedOffset {
    FixedOffset::east_opt(6 * 3600).unwrap_or(Utc.fix())
}

/// The calendar date in Bishkek at `at`.
pub fn bishkek_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&bishkek()).date_naive()
}

/// Milliseconds since the epoch as the `u64` of tree heads and signed documents.
pub fn millis(now: DateTime<Utc>) -> u64 {
    u64::try_from(now.timestamp_millis()).unwrap_or(0)
}
