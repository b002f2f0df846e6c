//! Opening each backend for one test: SQLite on a file in a temporary directory, PostgreSQL as
//! a fresh database on the server named by `WATCHPOST_TEST_PG`, dropped when the test ends.

// Each test file uses some of these.
#![allow(dead_code)]

use watchpost_core::router::{Event, open_spec};
use watchpost_core::{AlarmKind, Disposition, Settings, SignalClass};
use watchpost_store::testing::{TestDatabase, server_url};
use watchpost_store::{Batch, LogBody, LogEntry, PgStore, SqliteStore, Store};

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

/// Opens alarm `id` of account 4F39 at `at`, closing it at `closed` if given.
pub async fn alarm(store: &dyn Store, id: i64, at: i64, closed: Option<i64>) {
    alarm_of(store, "4F39", id, at, closed).await
}

/// Opens alarm `id` of `account` at `at`, closing it at `closed` if given.
pub async fn alarm_of(store: &dyn Store, account: &str, id: i64, at: i64, closed: Option<i64>) {
    let account = watchpost_store::testing::account(account);
    let event = Event::Panel {
        class: SignalClass::Alarm(AlarmKind::Fire),
        code: "FA".into(),
        zone: Some(1),
    };
    let spec = open_spec(&account, AlarmKind::Fire, &event, at, &Settings::default());
    let opened = LogEntry {
        seq: 0,
        at,
        actor: "panel".into(),
        body: LogBody::Opened {
            spec: Box::new(spec.clone()),
        },
    };
    store
        .write(&Batch {
            opened: vec![(id, spec)],
            entries: vec![(id, opened)],
            closed: closed
                .map(|c| (id, c, Disposition::OnTest))
                .into_iter()
                .collect(),
            ..Batch::default()
        })
        .await
        .unwrap();
}
