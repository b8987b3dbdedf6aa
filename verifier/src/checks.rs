//! The verifier's checks, one file each. Every check has a stable id (`V01`, `V02`, …, never
//! reused), the name and description the report prints, and a `run` function;
//! `docs/verifier-checks.md` lists them with what each verifies and the spec sections it
//! implements, and [`crate::registry`] lists them in the order the report prints them.
//!
//! `files`, `version` and `context` open the record: each returns what every later check needs,
//! and the run stops at the first that fails. The others are [`Step`]s: each reads the
//! [`Findings`] of the checks before it and adds its own. `receipt` is the `receipt` command's
//! check, after the record's.

pub mod ballots;
pub mod board;
pub mod cast_verifier;
pub mod ceremony;
pub mod challenged;
pub mod commission;
pub mod context;
pub mod credentials;
pub mod decryption;
pub mod election_protocol;
pub mod eligibility;
pub mod entries;
pub mod files;
pub mod filter;
pub mod filtered;
pub mod filtered_totals;
pub mod receipt;
pub mod revote;
pub mod totals;
pub mod uniqueness;
pub mod version;
pub mod web_app;

use crate::findings::Findings;
use crate::report::{Report, Running};

/// A check: its id, what the report calls it, and how it runs.
pub struct Check<Run> {
    /// Stable id (`docs/verifier-checks.md`).
    pub id: &'static str,
    /// The report's name for it.
    pub name: &'static str,
    /// What it checks, as the report prints it.
    pub description: &'static str,
    /// Runs it, reporting failures and notes with their location.
    pub run: Run,
}

impl<Run> Check<Run> {
    /// Starts its line of the report.
    pub fn start(&self) -> Running {
        Report::start(self.id, self.name, self.description)
    }
}

/// How a check after the opening ones runs: it reads what the checks before it found and adds
/// what it finds.
pub type Step = fn(&mut Findings<'_>, &mut Running);
