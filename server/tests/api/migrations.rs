use std::collections::BTreeSet;
use std::path::PathBuf;

use dobush_server::db::{Db, revert_all_migrations, run_migrations};

use crate::helpers::{Backend, TestDb};

fn names(backend: &str) -> BTreeSet<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("migrations").join(backend);
    std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| {
            for f in ["up.sql", "down.sql"] {
                assert!(e.path().join(f).exists(), "{}/{f} missing", e.path().display());
            }
            e.file_name().to_string_lossy().into_owned()
        })
        .collect()
}

#[test]
fn both_backends_have_the_same_migration_names() {
    let pg = names("postgres");
    let sqlite = names("sqlite");
    assert!(!pg.is_empty());
    assert_eq!(pg, sqlite);
}

async fn up_down_up(b: Backend) {
    let tdb = TestDb::new(b);
    let url = tdb.url.clone();
    tokio::task::spawn_blocking(move || {
        let db = Db::connect(&url, 1, std::time::Duration::from_secs(5)).unwrap();
        let mut c = db.get().unwrap();
        run_migrations(&mut c).unwrap();
        let reverted = revert_all_migrations(&mut c).unwrap();
        assert_eq!(reverted, names("postgres").len());
        run_migrations(&mut c).unwrap();
        // idempotent
        run_migrations(&mut c).unwrap();
    })
    .await
    .unwrap();
}

#[derive(diesel::QueryableByName, Debug)]
struct Pair {
    #[diesel(sql_type = diesel::sql_types::Text)]
    a: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    b: String,
}

/// (table, column) pairs and explicitly created index names of a migrated database.
fn shape(backend: Backend) -> (BTreeSet<(String, String)>, BTreeSet<String>) {
    use diesel::RunQueryDsl;
    let tdb = TestDb::new(backend);
    let db = Db::connect(&tdb.url, 1, std::time::Duration::from_secs(5)).unwrap();
    let mut c = db.get().unwrap();
    run_migrations(&mut c).unwrap();
    let (cols, idx) = match backend {
        Backend::Postgres => (
            "SELECT table_name::text AS a, column_name::text AS b FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
            "SELECT tablename::text AS a, indexname::text AS b FROM pg_indexes \
             WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey'",
        ),
        Backend::Sqlite => (
            "SELECT m.name AS a, p.name AS b FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations'",
            "SELECT tbl_name AS a, name AS b FROM sqlite_master \
             WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex_%'",
        ),
    };
    let cols: Vec<Pair> = diesel::sql_query(cols).load(&mut *c).unwrap();
    let idx: Vec<Pair> = diesel::sql_query(idx).load(&mut *c).unwrap();
    (cols.into_iter().map(|p| (p.a, p.b)).collect(), idx.into_iter().map(|p| format!("{}.{}", p.a, p.b)).collect())
}

#[tokio::test]
async fn both_backends_migrate_to_the_same_tables_columns_and_indexes() {
    let (pg, sqlite) =
        tokio::task::spawn_blocking(|| (shape(Backend::Postgres), shape(Backend::Sqlite))).await.unwrap();
    assert!(pg.0.len() > 50, "{:?}", pg.0);
    assert_eq!(pg.0, sqlite.0, "columns differ between migrations/postgres and migrations/sqlite");
    assert_eq!(pg.1, sqlite.1, "indexes differ");
    assert!(pg.1.contains("ballots.ballots_one_counted"));
}

crate::backend_tests!(up_down_up);
