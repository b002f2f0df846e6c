//! Migration 0006 on each store: rows written under a lower-case account number before
//! numbers were canonical move to the upper-case number, contacts and zones with their
//! account; where both spellings were enrolled, the upper-case one is kept in use and the other
//! is left as it was. 0006 changes no schema, so a database is brought back to "before 0006"
//! by writing the old rows and forgetting that 0006 ran.

mod common;

use watchpost_core::Account;
use watchpost_core::account::{Contact, DeviceType, Zone};
use watchpost_core::router::Event;
use watchpost_core::{AlarmKind, SignalClass};
use watchpost_store::{AlarmState, PgStore, SqliteStore, Store};

fn account(number: &str, contact: &str) -> Account {
    Account {
        contacts: vec![Contact {
            name: contact.into(),
            phone: "+15555550101".into(),
            phone2: None,
        }],
        zones: vec![Zone {
            zone: 4,
            device: DeviceType::Smoke,
        }],
        dc09_key: Some("30313233343536373839414243444546".into()),
        ..watchpost_store::testing::account(number)
    }
}

/// What a center wrote before 0006, in SQL both stores speak, and "0006 has not run".
fn legacy_rows() -> String {
    let event = serde_json::to_string(&Event::Panel {
        class: SignalClass::Alarm(AlarmKind::Fire),
        code: "FA".into(),
        zone: Some(4),
    })
    .unwrap();
    format!(
        "INSERT INTO signals (account, received_at, source, event, raw) \
             VALUES ('5a5b', 1, 'sia', '{event}', '#5a5b|Nri1/FA4');
         INSERT INTO alarms (id, account, kind, mode, priority, opened_at) \
             VALUES (1, '5a5b', 'fire', 'professional', 1, 1);
         INSERT INTO api_keys (key_hash, account, label, created_at) VALUES ('h1', '5a5b', '', 0);
         INSERT INTO panels_heard (account, heard_at) VALUES ('5a5b', 20), ('5A5b', 10), ('abc', 5);
         DELETE FROM _sqlx_migrations WHERE version = 6;"
    )
}

async fn write_legacy(store: &dyn Store) {
    store
        .put_accounts(&[
            account("5a5b", "Ann"),
            account("abc", "Old"),
            account("ABC", "New"),
        ])
        .await
        .unwrap();
}

/// Plain SQL read after the migration, and what each must give: the API key moved, one row
/// per heard panel with the latest time, every contact kept.
const QUERIES: [(&str, i64); 4] = [
    ("SELECT COUNT(*) FROM api_keys WHERE account = '5A5B'", 1),
    (
        "SELECT heard_at FROM panels_heard WHERE account = '5A5B'",
        20,
    ),
    ("SELECT COUNT(*) FROM panels_heard", 2),
    ("SELECT COUNT(*) FROM contacts", 3),
];

/// After 0006 ran again on the legacy rows.
async fn check_migrated(store: &dyn Store) {
    let moved = store.account("5A5B").await.unwrap().unwrap();
    assert_eq!(moved.contacts[0].name, "Ann");
    assert_eq!(moved.zones.len(), 1);
    assert!(moved.dc09_key.is_some());
    assert_eq!(store.account("5a5b").await.unwrap(), None);
    assert_eq!(store.signals("5A5B").await.unwrap().len(), 1);
    let alarms = store.alarms(AlarmState::All).await.unwrap();
    assert_eq!(alarms[0].account, "5A5B");
    assert_eq!(
        store.account("ABC").await.unwrap().unwrap().contacts[0].name,
        "New"
    );
    assert_eq!(
        store.account("abc").await.unwrap().unwrap().contacts[0].name,
        "Old",
        "both spellings were enrolled: the other is left for an administrator"
    );
    let mut keys: Vec<String> = store
        .dc09_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    keys.sort();
    assert_eq!(keys, ["5A5B", "ABC", "abc"]);
}

#[tokio::test]
async fn lower_case_rows_move_to_the_canonical_number_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("center.db");
    let store = SqliteStore::open(&path).await.unwrap();
    write_legacy(&store).await;
    let url = format!("sqlite://{}", path.display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::raw_sql(&legacy_rows()).execute(&pool).await.unwrap();
    drop(store);

    let store = SqliteStore::open(&path).await.unwrap();
    check_migrated(&store).await;
    for (sql, want) in QUERIES {
        let got: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        assert_eq!(got, want, "{sql}");
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn lower_case_rows_move_to_the_canonical_number_on_postgres() {
    let database = common::database().await;
    let store = PgStore::connect(database.url()).await.unwrap();
    write_legacy(&store).await;
    let pool = sqlx::PgPool::connect(database.url()).await.unwrap();
    sqlx::raw_sql(&legacy_rows()).execute(&pool).await.unwrap();
    drop(store);

    let store = PgStore::connect(database.url()).await.unwrap();
    check_migrated(&store).await;
    for (sql, want) in QUERIES {
        let got: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        assert_eq!(got, want, "{sql}");
    }
}
