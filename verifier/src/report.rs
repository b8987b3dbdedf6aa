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
    /// True when the check failed only because what it checks has not happened yet (a v2
    /// campaign's result before the filter runs), not because anything was refused.
    pub pending: bool,
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
    pending: u64,
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
    /// Records that what this check verifies has not happened yet: a failure (nothing is proved),
    /// which the report tells apart from a refusal when it is the check's only kind.
    pub fn pending(&mut self, msg: impl Into<String>) {
        self.fail(msg);
        self.pending += 1;
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

/// `s` with every control character (C0, DEL, C1) and every bidirectional or invisible format
/// character written as `\u{…}`: notes and failures quote record content, which must not move
/// the terminal's cursor, hide lines or reorder text (review of the report, F2).
pub fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        let bidi_or_invisible =
            matches!(ch, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}');
        if ch.is_control() || bidi_or_invisible {
            out.push_str(&format!("\\u{{{:x}}}", ch as u32));
        } else {
            out.push(ch);
        }
    }
    out
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
            pending: 0,
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
            pending: r.failure_count > 0 && r.pending == r.failure_count,
            notes: r.notes,
        });
    }

    /// Whether every check held (and there was at least one).
    pub fn passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.passed)
    }

    /// Whether the record is refused by nothing and only awaits what a result needs (every
    /// failing check [`CheckReport::pending`]): it proves no result yet.
    pub fn pending(&self) -> bool {
        !self.passed() && self.checks.iter().all(|c| c.passed || c.pending)
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
                if c.passed {
                    "PASS"
                } else if c.pending {
                    "PEND"
                } else {
                    "FAIL"
                },
                c.id,
                c.name,
                c.count,
                c.millis,
                c.description
            ));
            for n in &c.notes {
                s.push_str(&format!("       · {}\n", printable(n)));
            }
            for f in &c.failures {
                s.push_str(&format!("       - {}\n", printable(f)));
            }
            if c.failure_count > c.failures.len() as u64 {
                s.push_str(&format!("       … and {} more\n", c.failure_count - c.failures.len() as u64));
            }
        }
        s.push_str(if self.passed() {
            "RESULT: the record verifies\n"
        } else if self.pending() {
            "RESULT: nothing is refused, and NO RESULT IS PROVED YET: the checks marked PEND await the filter and the tally\n"
        } else {
            "RESULT: the record does NOT verify\n"
        });
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Record content quoted in a note or a failure cannot move the cursor, erase lines, hide
    /// text or reorder it on the terminal (review of the report, F2).
    #[test]
    fn record_text_in_the_report_cannot_drive_the_terminal() {
        let mut rep = Report::default();
        let mut c = Report::start("V06", "web app", "-");
        c.note("/\u{1b}[1A\u{1b}[2KRESULT: the record verifies\u{1b}[8m");
        c.fail("name \u{202e}evil\u{202c} \u{200b}\u{7f}\u{9b}");
        rep.finish(c);
        let text = rep.text();
        assert!(
            !text.chars().any(|ch| ch != '\n' && (ch.is_control() || ('\u{200b}'..='\u{206f}').contains(&ch))),
            "{text:?}"
        );
        assert!(text.contains("\\u{1b}[1A") && text.contains("\\u{202e}evil") && text.ends_with("NOT verify\n"));
    }
}
