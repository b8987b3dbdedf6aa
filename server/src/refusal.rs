//! Refused access: logged, counted, written to the audit log with an alert, then answered. The
//! HTTP layer decides what is a refusal; the audit chain records it (`audit::record_refusal`).
//!
//! A refusal of someone not signed in is aggregated instead (`audit::record_anonymous_refusal`):
//! one audit entry and one alert per kind and window (`[alerts] refusal_window_secs`), the rest
//! counted. The count is kept in this server's memory ([`AnonymousRefusals`]) and added to the
//! database's `refusal_counts` row about once a second ([`FLUSH_EVERY`], one write transaction
//! for every window that grew), so that a crowd of invalid tokens costs no write per request
//! and queues on no row lock (review 18-hardening M2); only a window's first refusal on this
//! server is written while the request waits. The count holds across servers (each adds its own
//! to the same row); refusals counted but not yet added when a server stops are lost.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::HttpRequest;

use crate::audit::{Refusal, record_anonymous_refusal, record_refusal};
use crate::db::Db;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::state::AppState;

/// How often the counted anonymous refusals are added to the database.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// The client's address: the peer, or behind a trusted proxy the address it forwarded
/// (`crate::client_address`; a client's own `X-Forwarded-For` is never believed).
pub fn client_ip(state: &AppState, req: &HttpRequest) -> Option<String> {
    state.proxies.client(req.peer_addr().map(|a| a.ip()), req.headers()).map(|ip| ip.to_string())
}

/// One refusal as the audit log records it.
#[derive(Debug, Clone)]
struct Refused {
    at: i64,
    actor: String,
    ip: Option<String>,
    path: String,
    reason: String,
}

/// Whether a window's first refusal (its audit entry, alert and `refusal_counts` row) is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opening {
    /// Being written by the request that opened the window.
    Writing,
    /// Written (here or by another server).
    Written,
    /// Its write failed: the next flush writes it, with the count.
    Failed,
}

/// One kind's window as this server counts it.
#[derive(Debug)]
struct Window {
    opening: Opening,
    /// Refusals counted here and not yet added to the database.
    unflushed: i64,
    /// The latest of them.
    last_at: i64,
    /// The window's first refusal here (for the audit entry if it still has to be written).
    first: Refused,
}

/// Anonymous refusals counted in memory, per kind and window, between two flushes.
#[derive(Debug, Default)]
pub struct AnonymousRefusals {
    windows: Mutex<HashMap<(&'static str, i64), Window>>,
    /// Refusals taken by the flush that is writing them now.
    flushing: AtomicI64,
}

impl AnonymousRefusals {
    /// Counts a refusal; true if it opens its window on this server (then the caller writes it).
    fn count(&self, kind: &'static str, window_start: i64, refused: &Refused) -> bool {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        match windows.get_mut(&(kind, window_start)) {
            Some(w) => {
                w.unflushed = w.unflushed.saturating_add(1);
                w.last_at = w.last_at.max(refused.at);
                false
            }
            None => {
                let w = Window { opening: Opening::Writing, unflushed: 0, last_at: refused.at, first: refused.clone() };
                windows.insert((kind, window_start), w);
                true
            }
        }
    }

    fn opened(&self, kind: &'static str, window_start: i64, written: bool) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = windows.get_mut(&(kind, window_start)) {
            w.opening = if written { Opening::Written } else { Opening::Failed };
            if !written {
                // the failed first refusal is counted with the rest
                w.unflushed = w.unflushed.saturating_add(1);
            }
        }
    }

    /// Takes what the next flush writes: every window whose opening is not being written and
    /// that counted refusals since the last flush; forgets the windows that ended before `now`
    /// and have nothing left to write (so the map holds at most two windows per kind).
    fn take(&self, now: i64, window_secs: i64) -> Vec<Flush> {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::new();
        for (&(kind, window_start), w) in windows.iter_mut() {
            if w.opening == Opening::Writing || w.unflushed == 0 {
                continue;
            }
            out.push(Flush {
                kind,
                window_start,
                n: w.unflushed,
                last_at: w.last_at,
                first: w.first.clone(),
                opening_failed: w.opening == Opening::Failed,
            });
            w.unflushed = 0;
            w.opening = Opening::Written;
        }
        let taken: i64 = out.iter().map(|f| f.n).sum();
        self.flushing.fetch_add(taken, Ordering::SeqCst);
        windows.retain(|&(_, start), w| {
            w.unflushed > 0 || w.opening != Opening::Written || start.saturating_add(window_secs) > now
        });
        out
    }

    /// Refusals counted here and not yet in the database (tests wait for 0).
    pub fn unflushed(&self) -> i64 {
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        windows.values().map(|w| w.unflushed).sum::<i64>() + self.flushing.load(Ordering::SeqCst)
    }

    /// Ends a flush: puts back what it took if it failed.
    fn flushed(&self, batch: Vec<Flush>, written: bool) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        self.flushing.fetch_sub(batch.iter().map(|f| f.n).sum(), Ordering::SeqCst);
        if written {
            return;
        }
        for f in batch {
            // (a window that ended meanwhile was forgotten: it is counted again)
            let w = windows.entry((f.kind, f.window_start)).or_insert_with(|| Window {
                opening: Opening::Written,
                unflushed: 0,
                last_at: f.last_at,
                first: f.first.clone(),
            });
            w.unflushed = w.unflushed.saturating_add(f.n);
            if f.opening_failed {
                w.opening = Opening::Failed;
            }
        }
    }
}

/// One window's refusals to add to the database.
#[derive(Debug, Clone)]
struct Flush {
    kind: &'static str,
    window_start: i64,
    n: i64,
    last_at: i64,
    /// The window's first refusal here: its audit entry and alert, if the database has none.
    first: Refused,
    /// The first refusal's own write failed.
    opening_failed: bool,
}

impl Refused {
    fn as_refusal<'a>(&'a self, kind: &'a str) -> Refusal<'a> {
        Refusal {
            at: self.at,
            actor: &self.actor,
            ip: self.ip.as_deref(),
            path: &self.path,
            kind,
            reason: &self.reason,
        }
    }
}

/// Starts the task that adds the counted anonymous refusals to the database every
/// [`FLUSH_EVERY`], in one write transaction (on the current Tokio runtime; it runs as long as
/// the runtime does). A failed flush is retried with the next.
pub fn start_flushing(
    db: Db,
    refusals: Arc<AnonymousRefusals>,
    clock: Arc<dyn crate::clock::Clock>,
    metrics: Arc<Metrics>,
    window_secs: u64,
) {
    let window = i64::try_from(window_secs).unwrap_or(i64::MAX).max(1);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(FLUSH_EVERY).await;
            let batch = refusals.take(clock.now().timestamp(), window);
            if batch.is_empty() {
                continue;
            }
            metrics.refusal_write();
            let written = batch.clone();
            let result = db
                .write(move |c| {
                    for f in &written {
                        record_anonymous_refusal(c, &f.first.as_refusal(f.kind), window, f.n, f.last_at)?;
                    }
                    Ok(())
                })
                .await;
            if let Err(e) = &result {
                tracing::error!(error = %e, "could not add the counted refusals to the database; retrying");
            }
            refusals.flushed(batch, result.is_ok());
        }
    });
}

/// Logs, audits and raises an alert for a refused access, then returns `error` for the client.
/// A refusal of someone not signed in is counted in memory unless it opens its window on this
/// server ([`AnonymousRefusals`]).
pub async fn refuse(
    state: &AppState,
    req: &HttpRequest,
    actor: Option<&str>,
    kind: &'static str,
    error: ApiError,
) -> ApiError {
    let ip = client_ip(state, req);
    let anonymous = actor.is_none();
    let actor = match actor {
        Some(a) => a.to_string(),
        None => format!("anonymous@{}", ip.as_deref().unwrap_or("unknown")),
    };
    let path = req.path().to_string();
    let reason = error.to_string();
    // the application log names neither the person nor the path (a PIN may be in either) nor
    // the reason (it may echo the input); the audit row below has them all
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
    let who = if anonymous { "anonymous" } else { "signed-in person" };
    tracing::warn!(who, %route, kind, code = error.code(), "access refused (details in the audit log)");
    state.metrics.access_refused();
    let refused = Refused { at: state.clock.now().timestamp(), actor, ip, path, reason };
    let result = if anonymous {
        let window = i64::try_from(state.settings.alerts.refusal_window_secs).unwrap_or(i64::MAX).max(1);
        let window_start = refused.at - refused.at.rem_euclid(window);
        if !state.refusals.count(kind, window_start, &refused) {
            // counted; the next flush adds it to the database
            return error;
        }
        let mut result = Ok(false);
        // a second try counts in the window another server opened meanwhile
        for _ in 0..2 {
            state.metrics.refusal_write();
            let first = refused.clone();
            result = state
                .db
                .write(move |c| record_anonymous_refusal(c, &first.as_refusal(kind), window, 1, first.at))
                .await;
            if result.is_ok() {
                break;
            }
        }
        state.refusals.opened(kind, window_start, result.is_ok());
        result.map(drop)
    } else {
        state.metrics.refusal_write();
        state
            .db
            .write(move |c| {
                let r = refused.as_refusal(kind);
                record_refusal(c, r.at, r.actor, r.ip, r.path, kind, r.reason).map(drop)
            })
            .await
    };
    if let Err(e) = result {
        tracing::error!(error = %e, "could not record a refused access in the audit log");
    }
    error
}
