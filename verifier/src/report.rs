//! The verifier's report: one line per check, with counts, time and located failures.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

/// Told each time a check counts items: the check's name and its count so far. The command line
/// draws a progress bar with it (`main.rs`); the library never prints.
pub type Progress = Arc<dyn Fn(&'static str, u64) + Send + Sync>;

/// The outcome of one check.
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    /// Stable id, e.g. `V06` (`docs/verifier-checks.md`).
    pub id: &'static str,
    /// Short name, e.g. `ballots`.
    pub name: &'static str,
    /// What it checks.
    pub description: &'static str,
    /// Whether it held.
    pub passed: bool,
    /// How many items it checked.
    pub count: u64,
    /// Wall time in milliseconds.
    pub millis: u128,
    /// Located failures (at most 50 listed; `failure_count` has them all).
    pub failures: Vec<String>,
    /// Number of failures.
    pub failure_count: u64,
    /// Information that is not a failure (e.g. a disqualified dealer, a share set aside).
    pub notes: Vec<String>,
}

/// All checks of a run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// Checks in order.
    pub checks: Vec<CheckReport>,
}

/// A check being run.
pub struct Running {
    id: &'static str,
    name: &'static str,
    description: &'static str,
    start: Instant,
    count: u64,
    failures: Vec<String>,
    failure_count: u64,
    notes: Vec<String>,
    progress: Option<Progress>,
}

impl Running {
    /// Counts `n` more checked items.
    pub fn items(&mut self, n: u64) {
        self.count += n;
        if let Some(p) = &self.progress {
            p(self.name, self.count);
        }
    }
    /// Reports its item counts to `progress` from now on.
    pub fn with_progress(mut self, progress: Option<Progress>) -> Self {
        self.progress = progress;
        self
    }
    /// Records a located failure.
    pub fn fail(&mut self, msg: impl Into<String>) {
        self.failure_count += 1;
        if self.failures.len() < 50 {
            self.failures.push(msg.into());
        }
    }
    /// Records information that is not a failure (at most 50 kept).
    pub fn note(&mut self, msg: impl Into<String>) {
        if self.notes.len() < 50 {
            self.notes.push(msg.into());
        }
    }
    /// Records a failure if `ok` is false.
    pub fn require(&mut self, ok: bool, msg: impl FnOnce() -> String) {
        if !ok {
            self.fail(msg());
        }
    }
}

impl Report {
    /// Starts a check.
    pub fn start(id: &'static str, name: &'static str, description: &'static str) -> Running {
        Running {
            id,
            name,
            description,
            start: Instant::now(),
            count: 0,
            failures: vec![],
            failure_count: 0,
            notes: vec![],
            progress: None,
        }
    }

    /// Finishes a check.
    pub fn finish(&mut self, r: Running) {
        self.checks.push(CheckReport {
            id: r.id,
            name: r.name,
            description: r.description,
            passed: r.failure_count == 0,
            count: r.count,
            millis: r.start.elapsed().as_millis(),
            failures: r.failures,
            failure_count: r.failure_count,
            notes: r.notes,
        });
    }

    /// Whether every check held (and there was at least one).
    pub fn passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.passed)
    }

    /// The notes (information, not failures) of the named check.
    pub fn notes_of(&self, name: &str) -> Vec<String> {
        self.checks.iter().filter(|c| c.name == name).flat_map(|c| c.notes.clone()).collect()
    }

    /// The failures of the named check.
    pub fn failures_of(&self, name: &str) -> Vec<String> {
        self.checks.iter().filter(|c| c.name == name).flat_map(|c| c.failures.clone()).collect()
    }

    /// Human-readable text.
    pub fn text(&self) -> String {
        let mut s = String::new();
        for c in &self.checks {
            s.push_str(&format!(
                "{} {} {:<14} {:>8} items {:>7} ms  {}\n",
                if c.passed { "PASS" } else { "FAIL" },
                c.id,
                c.name,
                c.count,
                c.millis,
                c.description
            ));
            for n in &c.notes {
                s.push_str(&format!("       · {n}\n"));
            }
            for f in &c.failures {
                s.push_str(&format!("       - {f}\n"));
            }
            if c.failure_count > c.failures.len() as u64 {
                s.push_str(&format!("       … and {} more\n", c.failure_count - c.failures.len() as u64));
            }
        }
        s.push_str(if self.passed() {
            "RESULT: the record verifies\n"
        } else {
            "RESULT: the record does NOT verify\n"
        });
        s
    }
}
