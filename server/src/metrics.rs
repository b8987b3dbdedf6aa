//! Prometheus metrics in the text exposition format (a small hand-written registry; the gauges
//! that live in the database are read at scrape time).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Process-wide counters.
#[derive(Debug, Default)]
pub struct Metrics {
    http_by_class: [AtomicU64; 5],
    access_refused: AtomicU64,
    logins_ok: AtomicU64,
    logins_failed: AtomicU64,
    import_inserted: AtomicU64,
    import_updated: AtomicU64,
    import_unchanged: AtomicU64,
    import_rejected: AtomicU64,
    applications: AtomicU64,
    withdrawals: AtomicU64,
    rate_limited: AtomicU64,
    connections_open: AtomicU64,
    connections_unguarded: AtomicU64,
    connections_timed_out: AtomicU64,
    refusal_writes: AtomicU64,
}

/// Values read from the database at scrape time.
#[derive(Debug, Default)]
pub struct DbGauges {
    /// Unacknowledged alerts.
    pub open_alerts: i64,
    /// Unacknowledged alerts older than 24 hours (the regulation's reporting deadline).
    pub overdue_alerts: i64,
    /// Audit log length.
    pub audit_entries: i64,
}

impl Metrics {
    /// Counts a response by status class.
    pub fn http_response(&self, status: u16) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        if let Some(c) = self.http_by_class.get(class) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }
    /// Counts a refused access.
    pub fn access_refused(&self) {
        self.access_refused.fetch_add(1, Ordering::Relaxed);
    }
    /// Counts a login.
    pub fn login(&self, ok: bool) {
        let c = if ok { &self.logins_ok } else { &self.logins_failed };
        c.fetch_add(1, Ordering::Relaxed);
    }
    /// Counts import rows.
    pub fn import(&self, inserted: u64, updated: u64, unchanged: u64, rejected: u64) {
        self.import_inserted.fetch_add(inserted, Ordering::Relaxed);
        self.import_updated.fetch_add(updated, Ordering::Relaxed);
        self.import_unchanged.fetch_add(unchanged, Ordering::Relaxed);
        self.import_rejected.fetch_add(rejected, Ordering::Relaxed);
    }
    /// Counts an e-voting application (or withdrawal).
    pub fn application(&self, withdraw: bool) {
        let c = if withdraw { &self.withdrawals } else { &self.applications };
        c.fetch_add(1, Ordering::Relaxed);
    }
    /// Counts a rate-limited request.
    pub fn rate_limited(&self) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a database write transaction spent recording refusals (`crate::refusal`).
    pub fn refusal_write(&self) {
        self.refusal_writes.fetch_add(1, Ordering::Relaxed);
    }
    /// Database write transactions spent recording refusals so far.
    pub fn refusal_writes(&self) -> u64 {
        self.refusal_writes.load(Ordering::Relaxed)
    }
    /// Counts an accepted connection (`crate::connection`).
    pub fn connection_opened(&self) {
        self.connections_open.fetch_add(1, Ordering::Relaxed);
    }
    /// Counts a connection the server dropped.
    pub fn connection_closed(&self) {
        let _ = self.connections_open.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }
    /// Counts a connection that got no watchdog (refused, `crate::connection::Unguarded`).
    pub fn connection_unguarded(&self) {
        self.connections_unguarded.fetch_add(1, Ordering::Relaxed);
    }
    /// Counts a connection closed by its watchdog (a deadline passed, `crate::connection`).
    pub fn connection_timed_out(&self) {
        self.connections_timed_out.fetch_add(1, Ordering::Relaxed);
    }
    /// Connections closed by their watchdog so far.
    pub fn connections_timed_out(&self) -> u64 {
        self.connections_timed_out.load(Ordering::Relaxed)
    }
    /// Connections open now (those with a watchdog, `crate::connection`).
    pub fn connections_open(&self) -> u64 {
        self.connections_open.load(Ordering::Relaxed)
    }

    /// The exposition text.
    pub fn render(&self, db: &DbGauges) -> String {
        let mut out = String::new();
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let _ = writeln!(out, "# HELP dobush_build_info Build information.\n# TYPE dobush_build_info gauge");
        let _ = writeln!(out, "dobush_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"));
        let _ = writeln!(
            out,
            "# HELP dobush_http_responses_total HTTP responses by status class.\n# TYPE dobush_http_responses_total counter"
        );
        for (i, c) in self.http_by_class.iter().enumerate() {
            let _ = writeln!(out, "dobush_http_responses_total{{class=\"{}xx\"}} {}", i + 1, get(c));
        }
        let _ = writeln!(
            out,
            "# HELP dobush_access_refused_total Refused accesses (each one is an alert).\n# TYPE dobush_access_refused_total counter"
        );
        let _ = writeln!(out, "dobush_access_refused_total {}", get(&self.access_refused));
        let _ = writeln!(
            out,
            "# HELP dobush_open_alerts Security alerts not yet acknowledged.\n# TYPE dobush_open_alerts gauge"
        );
        let _ = writeln!(out, "dobush_open_alerts {}", db.open_alerts);
        let _ = writeln!(
            out,
            "# HELP dobush_overdue_alerts Open alerts older than 24 hours (past the reporting deadline).\n# TYPE dobush_overdue_alerts gauge"
        );
        let _ = writeln!(out, "dobush_overdue_alerts {}", db.overdue_alerts);
        let _ = writeln!(
            out,
            "# HELP dobush_audit_log_entries Entries in the audit log.\n# TYPE dobush_audit_log_entries gauge"
        );
        let _ = writeln!(out, "dobush_audit_log_entries {}", db.audit_entries);
        let _ = writeln!(out, "# HELP dobush_logins_total OIDC logins by result.\n# TYPE dobush_logins_total counter");
        let _ = writeln!(out, "dobush_logins_total{{result=\"ok\"}} {}", get(&self.logins_ok));
        let _ = writeln!(out, "dobush_logins_total{{result=\"failed\"}} {}", get(&self.logins_failed));
        let _ = writeln!(
            out,
            "# HELP dobush_register_import_rows_total Voter-register import rows by outcome.\n# TYPE dobush_register_import_rows_total counter"
        );
        for (k, c) in [
            ("inserted", &self.import_inserted),
            ("updated", &self.import_updated),
            ("unchanged", &self.import_unchanged),
            ("rejected", &self.import_rejected),
        ] {
            let _ = writeln!(out, "dobush_register_import_rows_total{{outcome=\"{k}\"}} {}", get(c));
        }
        let _ = writeln!(
            out,
            "# HELP dobush_evoter_applications_total E-voting applications and withdrawals.\n# TYPE dobush_evoter_applications_total counter"
        );
        let _ = writeln!(out, "dobush_evoter_applications_total{{kind=\"apply\"}} {}", get(&self.applications));
        let _ = writeln!(out, "dobush_evoter_applications_total{{kind=\"withdraw\"}} {}", get(&self.withdrawals));
        let _ = writeln!(
            out,
            "# HELP dobush_rate_limited_total Requests refused by a rate limit.\n# TYPE dobush_rate_limited_total counter"
        );
        let _ = writeln!(out, "dobush_rate_limited_total {}", get(&self.rate_limited));
        let _ = writeln!(
            out,
            "# HELP dobush_http_connections_open HTTP connections open now.\n# TYPE dobush_http_connections_open gauge"
        );
        let _ = writeln!(out, "dobush_http_connections_open {}", get(&self.connections_open));
        let _ = writeln!(
            out,
            "# HELP dobush_http_connections_unguarded_total Connections refused (503, closed) because no watchdog could be started (out of file descriptors).\n# TYPE dobush_http_connections_unguarded_total counter"
        );
        let _ = writeln!(out, "dobush_http_connections_unguarded_total {}", get(&self.connections_unguarded));
        let _ = writeln!(
            out,
            "# HELP dobush_http_connections_timed_out_total Connections closed by their deadline (idle, or a response the client did not take).\n# TYPE dobush_http_connections_timed_out_total counter"
        );
        let _ = writeln!(out, "dobush_http_connections_timed_out_total {}", get(&self.connections_timed_out));
        let _ = writeln!(
            out,
            "# HELP dobush_refusal_writes_total Database write transactions spent recording refusals.\n# TYPE dobush_refusal_writes_total counter"
        );
        let _ = writeln!(out, "dobush_refusal_writes_total {}", get(&self.refusal_writes));
        out
    }
}
