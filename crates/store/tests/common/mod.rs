//! Opening each backend for one test: SQLite on a file in a temporary directory, PostgreSQL as
//! a fresh database on the server named by `WATCHPOST_TEST_PG`, dropped when the test ends.

// Each test file uses some of these.
#![allow(dead_code)]

use watchpost_store::testing::{TestDatabase, server_url};
use watchpost_store::{PgStore, SqliteStore};

/// A store on a new file, and the directory to keep alive while it is used.
pub async fn sqlite() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("center.db"))
        .await
        .unwrap();
    (store, dir)
}

/// A fresh PostgreSQL database, dropped when this is; connect to it with `PgStore::connect`.
pub async fn database() -> TestDatabase {
    TestDatabase::new(&server_url()).await.unwrap()
}

/// A store on a fresh PostgreSQL database, and the database to keep alive while it is used.
pub async fn postgres() -> (PgStore, TestDatabase) {
    let database = database().await;
    let store = PgStore::connect(database.url()).await.unwrap();
    (store, database)
}
