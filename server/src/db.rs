//! One code path over PostgreSQL and SQLite: a `diesel::MultiConnection` enum, an r2d2 pool, the
//! embedded migrations, and helpers that run diesel off the actix workers.

use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::ApiError;
use crate::telemetry::spawn_blocking_with_tracing;

/// PostgreSQL migrations (`migrations/postgres`).
pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");
/// SQLite migrations (`migrations/sqlite`), the same names as the PostgreSQL ones.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");

/// A connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    /// PostgreSQL (production).
    Postgresql(diesel::PgConnection),
    /// SQLite (embedded default, demo).
    Sqlite(diesel::SqliteConnection),
}

/// Which backend a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `postgres://` or `postgresql://`
    Postgres,
    /// `sqlite://<path>`
    Sqlite,
}

/// SQLite settings applied to every connection: enforce foreign keys, wait on locks instead of
/// failing, WAL for concurrent readers, and fsync on every commit (nothing accepted is lost).
const SQLITE_PRAGMAS: &str = "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 15000; \
     PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;";

/// Opens connections for the pool; the backend is chosen by the URL scheme, never by trial.
#[derive(Debug, Clone)]
pub struct Manager {
    backend: Backend,
    target: String,
}

impl Manager {
    /// Parses a database URL.
    pub fn new(url: &str) -> anyhow::Result<Self> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                anyhow::bail!("sqlite:// URL without a path");
            }
            Ok(Self { backend: Backend::Sqlite, target: path.to_string() })
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self { backend: Backend::Postgres, target: url.to_string() })
        } else {
            anyhow::bail!("unsupported database URL scheme (use sqlite:// or postgres://)")
        }
    }

    /// Opens one connection.
    pub fn establish(&self) -> Result<AnyConnection, r2d2::Error> {
        match self.backend {
            Backend::Postgres => diesel::PgConnection::establish(&self.target)
                .map(AnyConnection::Postgresql)
                .map_err(r2d2::Error::ConnectionError),
            Backend::Sqlite => {
                let mut c = diesel::SqliteConnection::establish(&self.target).map_err(r2d2::Error::ConnectionError)?;
                c.batch_execute(SQLITE_PRAGMAS).map_err(r2d2::Error::QueryError)?;
                Ok(AnyConnection::Sqlite(c))
            }
        }
    }
}

/// A connection that went back to the pool unbroken less than this long ago is handed out again
/// without a `SELECT 1` first: under load every connection is in use all the time, and the check
/// was one round trip more for every request (docs/load.md §Fewer round trips). An older one is
/// checked as before. A connection lost meanwhile fails its request, which [`Db::run_blocking`]
/// answers 503 and marks the connection lost, so that the pool drops it and opens a new one.
const CHECKED_RECENTLY: Duration = Duration::from_secs(1);

/// A connection in the pool, with what the pool knows of its health.
pub struct PoolConnection {
    conn: AnyConnection,
    /// When it last went back to the pool unbroken (or was opened).
    returned: Instant,
    /// Known to be lost (no longer answering): the pool drops it instead of taking it back.
    lost: bool,
}

/// A connection taken from the pool ([`Db::get`]); dereferences to the [`AnyConnection`] and goes
/// back to the pool when dropped.
pub struct Pooled(PooledConnection<Manager>);

impl Deref for Pooled {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.0.conn
    }
}

impl DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.0.conn
    }
}

impl ManageConnection for Manager {
    type Connection = PoolConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<PoolConnection, r2d2::Error> {
        Ok(PoolConnection { conn: self.establish()?, returned: Instant::now(), lost: false })
    }

    fn is_valid(&self, conn: &mut PoolConnection) -> Result<(), r2d2::Error> {
        if conn.returned.elapsed() < CHECKED_RECENTLY {
            return Ok(());
        }
        conn.conn.batch_execute("SELECT 1").map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut PoolConnection) -> bool {
        if conn.lost || std::thread::panicking() || r2d2::R2D2Connection::is_broken(&mut conn.conn) {
            return true;
        }
        conn.returned = Instant::now();
        false
    }
}

/// The pool and the backend it talks to.
#[derive(Clone)]
pub struct Db {
    pool: Pool<Manager>,
    backend: Backend,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("backend", &self.backend).finish_non_exhaustive()
    }
}

impl Db {
    /// Builds the pool (creating the SQLite file's directory if needed) and checks one connection.
    pub fn connect(url: &str, max_connections: u32, timeout: Duration) -> anyhow::Result<Self> {
        let manager = Manager::new(url)?;
        if manager.backend == Backend::Sqlite
            && let Some(dir) = std::path::Path::new(&manager.target).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let backend = manager.backend;
        let pool = Pool::builder()
            .max_size(max_connections)
            .min_idle(Some(1))
            .connection_timeout(timeout)
            .build(manager)
            .context("opening the database")?;
        Ok(Self { pool, backend })
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies pending migrations of the right folder.
    pub fn migrate(&self) -> anyhow::Result<()> {
        let mut conn = self.pool.get().context("database connection for migrations")?;
        run_migrations(&mut conn.conn)
    }

    /// A pooled connection (blocking; use inside [`Db::run`] or in tests).
    pub fn get(&self) -> Result<Pooled, ApiError> {
        Ok(Pooled(self.pool.get()?))
    }

    /// Runs `f` with a connection on the blocking pool.
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        spawn_blocking_with_tracing(move || db.run_blocking(f))
            .await
            .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("blocking task failed: {e}")))?
    }

    /// Runs `f` with a connection on the calling thread, which may block (a thread of its own,
    /// such as a campaign's committer, `crate::cast::commit`). A connection lost meanwhile is a 503.
    pub fn run_blocking<T>(&self, f: impl FnOnce(&mut AnyConnection) -> Result<T, ApiError>) -> Result<T, ApiError> {
        let mut conn = self.pool.get()?;
        match f(&mut conn.conn) {
            Err(ApiError::Unexpected(e)) if connection_lost(&mut conn.conn) => {
                // e.g. the server terminated the session ("terminating connection due to
                // administrator command", SQLSTATE 57P01) or the primary went away mid-query:
                // the transaction did not commit (or its outcome is unknown to us), so the
                // client is told to try again, not that the server failed; the pool drops the
                // connection
                conn.lost = true;
                tracing::error!(error = ?e, "database connection lost during the request");
                Err(ApiError::Unavailable("the database is unavailable; try again".into()))
            }
            other => other,
        }
    }

    /// Runs `f` in a write transaction on the blocking pool (see [`write_transaction`]).
    pub async fn write<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |conn| write_transaction(conn, f)).await
    }
}

/// True if the connection no longer answers (checked after an unexpected failure).
fn connection_lost(conn: &mut AnyConnection) -> bool {
    conn.batch_execute("SELECT 1").is_err()
}

/// Runs the embedded migrations matching the connection's backend.
pub fn run_migrations(conn: &mut AnyConnection) -> anyhow::Result<()> {
    let applied = match conn {
        AnyConnection::Postgresql(c) => c.run_pending_migrations(PG_MIGRATIONS).map(|v| v.len()),
        AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
    }
    .map_err(|e| anyhow::anyhow!("migrations failed: {e}"))?;
    tracing::info!(applied, "database migrations up to date");
    Ok(())
}

/// Reverts every migration (tests of the down scripts).
pub fn revert_all_migrations(conn: &mut AnyConnection) -> anyhow::Result<usize> {
    match conn {
        AnyConnection::Postgresql(c) => c.revert_all_migrations(PG_MIGRATIONS).map(|v| v.len()),
        AnyConnection::Sqlite(c) => c.revert_all_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
    }
    .map_err(|e| anyhow::anyhow!("reverting migrations failed: {e}"))
}

/// A transaction that writes. On SQLite it first takes the write lock (by updating `write_lock`)
/// so that concurrent writers queue on `busy_timeout` instead of failing with SQLITE_BUSY when a
/// read transaction tries to upgrade. PostgreSQL needs no such lock.
pub fn write_transaction<T, F>(conn: &mut AnyConnection, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, ApiError>,
{
    conn.transaction(|c| {
        if matches!(c, AnyConnection::Sqlite(_)) {
            use crate::schema::write_lock::dsl;
            diesel::update(dsl::write_lock.filter(dsl::id.eq(1))).set(dsl::n.eq(dsl::n + 1)).execute(c)?;
        }
        f(c)
    })
}

/// Refreshes PostgreSQL's planner statistics of the tables a cast reads (at the opening of
/// voting, inside its transaction: `ANALYZE` samples, it does not block writers). The register
/// and the e-voter list were filled since the last automatic analysis, possibly minutes before;
/// with statistics of near-empty tables the planner scans a whole campaign's rows instead of
/// looking voters up by key (measured: docs/load.md). SQLite needs nothing.
pub fn refresh_statistics(conn: &mut AnyConnection) -> Result<(), ApiError> {
    if matches!(conn, AnyConnection::Postgresql(_)) {
        conn.batch_execute("ANALYZE voters, evoter_credentials, ballots, ballot_ciphertexts, ballots_issued")?;
    }
    Ok(())
}

/// The `VALUES` rows of a multi-row insert: `rows` rows, each the `fixed` parameters shared by
/// every row (`$1 … $fixed`) followed by `per_row` parameters of its own, numbered in order of
/// first appearance — SQLite numbers `$name` parameters in that order, so any other numbering
/// would bind the wrong values there. Bind the shared values first, then each row's in order.
pub fn values_rows(rows: usize, fixed: usize, per_row: usize) -> String {
    let shared: Vec<String> = (1..=fixed).map(|i| format!("${i}")).collect();
    (0..rows)
        .map(|r| {
            let own = (0..per_row).map(|k| format!("${}", fixed + 1 + r * per_row + k));
            format!("({})", shared.iter().cloned().chain(own).collect::<Vec<_>>().join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// True if the error is a unique-constraint violation (on either backend).
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(e, diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
}

#[cfg(test)]
mod tests {
    #[test]
    fn values_rows_number_parameters_in_order_of_first_appearance() {
        assert_eq!(super::values_rows(2, 1, 2), "($1, $2, $3), ($1, $4, $5)");
        assert_eq!(super::values_rows(3, 2, 1), "($1, $2, $3), ($1, $2, $4), ($1, $2, $5)");
        assert_eq!(super::values_rows(1, 0, 3), "($1, $2, $3)");
    }
}
