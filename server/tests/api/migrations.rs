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

crate::backend_tests!(up_down_up);
