//! Dealers in each store (issue 14, item 6): dealers round-trip, accounts and users name
//! their dealer, the store refuses an account or user of a dealer it does not have and a user
//! whose role and dealer do not pair; migration 0015 keeps every user and session of SQLite.

mod common;

use watchpost_store::{Dealer, Role, SessionRecord, SqliteStore, Store, User};

fn dealer(id: &str, name: &str) -> Dealer {
    Dealer {
        id: id.into(),
        name: name.into(),
        created_at: 7,
    }
}

fn user(name: &str, role: Role, dealer: Option<&str>) -> User {
    User {
        name: name.into(),
        role,
        password_hash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".into(),
        failed_logins: 0,
        locked_until: None,
        waits_lifted_at: None,
        disabled: false,
        created_at: 1_000,
        phone: None,
        dealer: dealer.map(str::to_string),
    }
}

fn account_of(number: &str, dealer: Option<&str>) -> watchpost_core::Account {
    watchpost_core::Account {
        dealer: dealer.map(str::to_string),
        ..watchpost_store::testing::account(number)
    }
}

async fn dealers_accounts_and_users(store: &dyn Store) {
    store.put_dealer(&dealer("D1", "Acme")).await.unwrap();
    store.put_dealer(&dealer("D2", "Bolt")).await.unwrap();
    store
        .put_dealer(&dealer("D1", "Acme Alarms"))
        .await
        .unwrap();
    assert_eq!(
        store.dealers().await.unwrap(),
        vec![dealer("D1", "Acme Alarms"), dealer("D2", "Bolt")]
    );
    assert_eq!(store.dealer("D3").await.unwrap(), None);

    store
        .put_accounts(&[
            account_of("1001", Some("D1")),
            account_of("1002", Some("D1")),
            account_of("2001", Some("D2")),
            account_of("3001", None),
        ])
        .await
        .unwrap();
    assert_eq!(
        store
            .account("1002")
            .await
            .unwrap()
            .unwrap()
            .dealer
            .as_deref(),
        Some("D1")
    );
    assert_eq!(store.account("3001").await.unwrap().unwrap().dealer, None);
    assert_eq!(
        store.dealer_accounts("D1", "", 10).await.unwrap(),
        vec!["1001", "1002"]
    );
    assert_eq!(
        store.dealer_accounts("D1", "1001", 10).await.unwrap(),
        vec!["1002"]
    );
    assert_eq!(
        store.dealer_accounts("D1", "", 1).await.unwrap(),
        vec!["1001"]
    );
    assert!(
        store
            .dealer_accounts("D3", "", 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Moving an account to the center takes it from the dealer.
    store.put_account(&account_of("1002", None)).await.unwrap();
    assert_eq!(
        store.dealer_accounts("D1", "", 10).await.unwrap(),
        vec!["1001"]
    );
    // A dealer the store does not have: refused, nothing written.
    assert!(
        store
            .put_account(&account_of("4001", Some("D9")))
            .await
            .is_err()
    );
    assert!(store.account("4001").await.unwrap().is_none());

    store
        .put_user(&user("dana", Role::DealerAdmin, Some("D1")))
        .await
        .unwrap();
    store
        .put_user(&user("vic", Role::DealerViewer, Some("D2")))
        .await
        .unwrap();
    let dana = store.user("dana").await.unwrap().unwrap();
    assert_eq!(
        (dana.role, dana.dealer.as_deref()),
        (Role::DealerAdmin, Some("D1"))
    );
    assert_eq!(
        store.user("vic").await.unwrap().unwrap().role,
        Role::DealerViewer
    );
    // Role and dealer must pair, and the dealer must exist.
    for refused in [
        user("x1", Role::DealerAdmin, None),
        user("x2", Role::DealerViewer, Some("D9")),
        user("x3", Role::Agent, Some("D1")),
        user("x4", Role::Admin, Some("D1")),
    ] {
        assert!(store.put_user(&refused).await.is_err(), "{refused:?}");
        assert!(store.user(&refused.name).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn dealers_accounts_and_users_on_sqlite() {
    let (store, _dir) = common::sqlite().await;
    dealers_accounts_and_users(&store).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn dealers_accounts_and_users_on_postgres() {
    let (store, _database) = common::postgres().await;
    dealers_accounts_and_users(&store).await;
}

/// SQLite rebuilds `users` to change its CHECK; dropping the old table would cascade to the
/// sessions. A database at 0014 with a user and a session keeps both through 0015.
#[tokio::test]
async fn migration_0015_keeps_users_and_sessions_on_sqlite() {
    use sqlx::sqlite::SqliteConnectOptions;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("center.db");
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .foreign_keys(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    let all = sqlx::migrate::Migrator::new(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite"),
    )
    .await
    .unwrap();
    let mut before = sqlx::migrate::Migrator::new(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite"),
    )
    .await
    .unwrap();
    before.migrations = all
        .migrations
        .iter()
        .filter(|m| m.version < 15)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    before.run(&pool).await.unwrap();
    sqlx::query(
        "INSERT INTO users (name, role, password_hash, created_at, phone, disabled) \
         VALUES ('amy', 'admin', 'h', 5, 'sip:amy@10.0.0.1', TRUE); \
         INSERT INTO sessions (token_hash, user_name, created_at, expires_at, last_seen) \
         VALUES ('t1', 'amy', 1, 2, 3);",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let store = SqliteStore::open(&path).await.unwrap();
    let amy = store.user("amy").await.unwrap().unwrap();
    assert_eq!(amy.role, Role::Admin);
    assert_eq!(amy.phone.as_deref(), Some("sip:amy@10.0.0.1"));
    assert!(amy.disabled);
    assert_eq!(amy.dealer, None);
    assert_eq!(
        store.session("t1").await.unwrap(),
        Some(SessionRecord {
            token_hash: "t1".into(),
            user: "amy".into(),
            created_at: 1,
            expires_at: 2,
            last_seen: 3,
        })
    );
    // The rebuilt table still cascades: a session still needs its user.
    assert!(
        store
            .put_session(&SessionRecord {
                token_hash: "t2".into(),
                user: "nobody".into(),
                created_at: 1,
                expires_at: 2,
                last_seen: 3,
            })
            .await
            .is_err()
    );
}
