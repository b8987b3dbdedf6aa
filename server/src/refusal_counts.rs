//! Anonymous refusals counted in this server's memory, per kind and window, and added to the
//! database's `refusal_counts` row about once a second ([`FLUSH_EVERY`]; review 18-hardening
//! M2). Kept apart from `refusal` (which answers the request and needs the application state)
//! so that the state can hold the counts without a cycle.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::audit::{Refusal, record_anonymous_refusal};
use crate::db::Db;
use crate::metrics::Metrics;

/// How often the counted anonymous refusals are added to the database.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// One refusal as the audit log records it.
#[derive(Debug, Clone)]
pub(crate) struct Refused {
    pub(crate) at: i64,
    pub(crate) actor: String,
    pub(crate) ip: Option<String>,
    pub(crate) path: String,
    pub(crate) reason: String,
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
    pub(crate) fn count(&self, kind: &'static str, window_start: i64, refused: &Refused) -> bool {
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

    pub(crate) fn opened(&self, kind: &'static str, window_start: i64, written: bool) {
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
    pub(crate) fn as_refusal<'a>(&'a self, kind: &'a str) -> Refusal<'a> {
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
