//! Fixtures for tests: a professionally monitored account, and for tests that need a
//! PostgreSQL store a fresh, empty database per test on the server named
//! by `WATCHPOST_TEST_PG` (e.g. `postgres://postgres@127.0.0.1:5432`), dropped afterwards.
//!
//! ```no_run
//! # async fn t() {
//! use watchpost_store::{PgStore, testing::TestDatabase};
//! let db = TestDatabase::new(&watchpost_store::testing::server_url()).await.unwrap();
//! let store = PgStore::connect(db.url()).await.unwrap();
//! # }
//! ```

use crate::Result;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::hash::BuildHasher;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use watchpost_core::Account;
use watchpost_core::account::{Contact, Monitoring, Premises, Responder};
use watchpost_core::password::{HashCost, VerbalPassword};

/// A residential account numbered `number`, professionally monitored in IL, with one contact
/// (Ann, +15555550101) and verbal password "blue falcon" (hashed at the fast test cost).
pub fn account(number: &str) -> Account {
    Account {
        number: number.into(),
        premises: Premises::Residential,
        address: "12 Elm St".into(),
        country: "US".into(),
        region: "IL".into(),
        monitoring: Monitoring::Professional,
        enrolled_at: 0,
        verbal_password: VerbalPassword::hash("blue falcon", HashCost::Fast),
        responder: Responder::Police,
        test_until: None,
        contacts: vec![Contact {
            name: "Ann".into(),
            phone: "+15555550101".into(),
            phone2: None,
        }],
        zones: vec![],
        dc09_key: None,
        supervision_ms: None,
        details: Default::default(),
        dealer: None,
        premises_phone: None,
    }
}

/// The environment variable naming the PostgreSQL server tests may create databases on.
pub const SERVER_ENV: &str = "WATCHPOST_TEST_PG";

/// The server URL from `WATCHPOST_TEST_PG`; panics, saying what to set, when it is not set.
pub fn server_url() -> String {
    std::env::var(SERVER_ENV).unwrap_or_else(|_| {
        panic!("{SERVER_ENV} is not set: give a PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432")
    })
}

/// Creates an empty database with a random name (`watchpost_test_…`) on the server at
/// `server_url` (a URL without a database; the `postgres` database is used to create it) and
/// returns the new database's URL.
pub async fn fresh_database(server_url: &str) -> Result<String> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let random = std::collections::hash_map::RandomState::new().hash_one((
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now(),
    ));
    let name = format!("watchpost_test_{random:016x}");
    let mut admin = PgConnectOptions::from_str(server_url)?
        .database("postgres")
        .connect()
        .await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    let (base, query) = match server_url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (server_url, String::new()),
    };
    Ok(format!("{}/{name}{query}", base.trim_end_matches('/')))
}

/// Drops a database made by [`fresh_database`], closing whatever connections it still has.
pub async fn drop_database(database_url: &str) -> Result<()> {
    let options = PgConnectOptions::from_str(database_url)?;
    let name = options
        .get_database()
        .unwrap_or_default()
        .replace('"', "\"\"");
    let mut admin = options.database("postgres").connect().await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    Ok(())
}

/// A database from [`fresh_database`] that is dropped, best effort, when this is dropped —
/// also when the test panics.
pub struct TestDatabase {
    url: String,
}

impl TestDatabase {
    pub async fn new(server_url: &str) -> Result<TestDatabase> {
        Ok(TestDatabase {
            url: fresh_database(server_url).await?,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop may run inside a runtime, which must not block on another future: use a thread
        // with its own.
        let url = std::mem::take(&mut self.url);
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(drop_database(&url)).ok()
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("could not drop a test database; it is left behind");
        }
    }
}
