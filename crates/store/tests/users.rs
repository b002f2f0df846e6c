//! Users, sessions and API keys in each store (SQLite on a real file, PostgreSQL): they
//! round-trip and survive a reopen, failed sign-ins are counted and lock at the limit, sessions
//! are touched and swept, and only hashes are looked up.

mod common;

use watchpost_core::Account;
use watchpost_core::account::{Monitoring, Premises, Responder};
use watchpost_core::password::{HashCost, VerbalPassword};
use watchpost_store::{ApiKeyRecord, PgStore, Role, SessionRecord, SqliteStore, Store, User};

fn user(name: &str, role: Role) -> User {
    User {
        name: name.into(),
        role,
        password_hash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".into(),
        failed_logins: 0,
        locked_until: None,
        created_at: 1_000,
        phone: None,
    }
}

fn session(token_hash: &str, user: &str, expires_at: i64) -> SessionRecord {
    SessionRecord {
        token_hash: token_hash.into(),
        user: user.into(),
        created_at: 1_000,
        expires_at,
        last_seen: 1_000,
    }
}

/// Two users and a session; one user is then replaced.
async fn put_users_and_a_session(store: &dyn Store) {
    store.put_user(&user("zed", Role::Admin)).await.unwrap();
    store.put_user(&user("ann", Role::Agent)).await.unwrap();
    store
        .put_session(&session("h1", "ann", 50_000))
        .await
        .unwrap();
    // Replacing a user keeps its sessions.
    let mut ann = user("ann", Role::Supervisor);
    ann.locked_until = Some(9);
    ann.phone = Some("sip:ann@10.0.0.21:5060".into());
    store.put_user(&ann).await.unwrap();
}

/// What [`put_users_and_a_session`] wrote, read back by a store opened afresh.
async fn read_users_and_the_session(store: &dyn Store) {
    let ann = store.user("ann").await.unwrap().unwrap();
    assert_eq!(ann.role, Role::Supervisor);
    assert_eq!(ann.locked_until, Some(9));
    assert_eq!(ann, {
        let mut u = user("ann", Role::Supervisor);
        u.locked_until = Some(9);
        u.phone = Some("sip:ann@10.0.0.21:5060".into());
        u
    });
    assert!(store.user("bob").await.unwrap().is_none());
    let names: Vec<_> = store
        .users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["ann", "zed"]);
    assert!(store.session("h1").await.unwrap().is_some());
}

#[tokio::test]
async fn users_round_trip_and_survive_a_reopen_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("center.db");
    put_users_and_a_session(&SqliteStore::open(&path).await.unwrap()).await;
    read_users_and_the_session(&SqliteStore::open(&path).await.unwrap()).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn users_round_trip_and_survive_a_reconnect_on_postgres() {
    let database = common::database().await;
    put_users_and_a_session(&PgStore::connect(database.url()).await.unwrap()).await;
    read_users_and_the_session(&PgStore::connect(database.url()).await.unwrap()).await;
}

async fn failures_are_counted_and_the_limit_locks(store: &dyn Store) {
    store.put_user(&user("ann", Role::Agent)).await.unwrap();
    for n in 1..=2 {
        let ann = store
            .record_login_failure("ann", 3, 500)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((ann.failed_logins, ann.locked_until), (n, None));
    }
    let ann = store
        .record_login_failure("ann", 3, 500)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((ann.failed_logins, ann.locked_until), (0, Some(500)));
    // The count starts again; the lock stays until the next lock or a reset.
    let ann = store
        .record_login_failure("ann", 3, 900)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((ann.failed_logins, ann.locked_until), (1, Some(500)));
    store.reset_login_failures("ann").await.unwrap();
    let ann = store.user("ann").await.unwrap().unwrap();
    assert_eq!((ann.failed_logins, ann.locked_until), (0, None));
    assert!(
        store
            .record_login_failure("bob", 3, 500)
            .await
            .unwrap()
            .is_none()
    );
}

async fn sessions_are_touched_deleted_and_swept(store: &dyn Store) {
    store.put_user(&user("ann", Role::Agent)).await.unwrap();
    store
        .put_session(&session("h1", "ann", 2_000))
        .await
        .unwrap();
    store
        .put_session(&session("h2", "ann", 3_000))
        .await
        .unwrap();
    store
        .put_session(&session("h3", "ann", 4_000))
        .await
        .unwrap();
    assert_eq!(
        store.session("h1").await.unwrap(),
        Some(session("h1", "ann", 2_000))
    );
    assert!(store.session("nope").await.unwrap().is_none());

    store.touch_session("h1", 1_500, 5_000).await.unwrap();
    let h1 = store.session("h1").await.unwrap().unwrap();
    assert_eq!(
        (h1.last_seen, h1.expires_at, h1.created_at),
        (1_500, 5_000, 1_000)
    );

    store.delete_session("h2").await.unwrap();
    store.delete_session("h2").await.unwrap();
    assert!(store.session("h2").await.unwrap().is_none());

    assert_eq!(store.delete_expired_sessions(3_999).await.unwrap(), 0);
    assert_eq!(store.delete_expired_sessions(4_000).await.unwrap(), 1);
    assert!(store.session("h3").await.unwrap().is_none());
    assert!(store.session("h1").await.unwrap().is_some());
}

async fn a_session_needs_a_user_and_a_fresh_hash(store: &dyn Store) {
    assert!(
        store
            .put_session(&session("h1", "ghost", 2_000))
            .await
            .is_err()
    );
    store.put_user(&user("ann", Role::Agent)).await.unwrap();
    store
        .put_session(&session("h1", "ann", 2_000))
        .await
        .unwrap();
    assert!(
        store
            .put_session(&session("h1", "ann", 2_000))
            .await
            .is_err()
    );
}

fn account(number: &str) -> Account {
    Account {
        number: number.into(),
        premises: Premises::Residential,
        address: "12 Elm St".into(),
        country: "US".into(),
        region: "IL".into(),
        monitoring: Monitoring::SelfMonitored,
        enrolled_at: 0,
        verbal_password: VerbalPassword::hash("blue falcon", HashCost::Fast),
        responder: Responder::Guard,
        test_until: None,
        contacts: vec![],
        zones: vec![],
        dc09_key: None,
        supervision_ms: None,
        details: Default::default(),
    }
}

async fn api_keys_name_their_account_and_survive_a_reimport(store: &dyn Store) {
    store.put_account(&account("4F39")).await.unwrap();
    let key = ApiKeyRecord {
        key_hash: "abc".into(),
        account: "4F39".into(),
        label: "front door app".into(),
        created_at: 7,
    };
    store.put_api_key(&key).await.unwrap();
    assert!(store.put_api_key(&key).await.is_err(), "a hash is unique");
    assert_eq!(store.api_key("abc").await.unwrap().as_deref(), Some("4F39"));
    assert_eq!(store.api_key("abd").await.unwrap(), None);
    // Importing the account again replaces its row; its keys stay.
    store.put_account(&account("4F39")).await.unwrap();
    assert_eq!(store.api_key("abc").await.unwrap().as_deref(), Some("4F39"));
}

#[tokio::test]
async fn failures_are_counted_and_the_limit_locks_on_sqlite() {
    let (store, _dir) = common::sqlite().await;
    failures_are_counted_and_the_limit_locks(&store).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn failures_are_counted_and_the_limit_locks_on_postgres() {
    let (store, _database) = common::postgres().await;
    failures_are_counted_and_the_limit_locks(&store).await;
}

#[tokio::test]
async fn sessions_are_touched_deleted_and_swept_on_sqlite() {
    let (store, _dir) = common::sqlite().await;
    sessions_are_touched_deleted_and_swept(&store).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn sessions_are_touched_deleted_and_swept_on_postgres() {
    let (store, _database) = common::postgres().await;
    sessions_are_touched_deleted_and_swept(&store).await;
}

#[tokio::test]
async fn a_session_needs_a_user_and_a_fresh_hash_on_sqlite() {
    let (store, _dir) = common::sqlite().await;
    a_session_needs_a_user_and_a_fresh_hash(&store).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn a_session_needs_a_user_and_a_fresh_hash_on_postgres() {
    let (store, _database) = common::postgres().await;
    a_session_needs_a_user_and_a_fresh_hash(&store).await;
}

#[tokio::test]
async fn api_keys_name_their_account_and_survive_a_reimport_on_sqlite() {
    let (store, _dir) = common::sqlite().await;
    api_keys_name_their_account_and_survive_a_reimport(&store).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn api_keys_name_their_account_and_survive_a_reimport_on_postgres() {
    let (store, _database) = common::postgres().await;
    api_keys_name_their_account_and_survive_a_reimport(&store).await;
}

/// Failures recorded at once, by as many connections as the store has, are all counted.
async fn concurrent_failures_are_all_counted(store: &dyn Store) {
    store.put_user(&user("ann", Role::Agent)).await.unwrap();
    let fail_five = || async {
        for _ in 0..5 {
            store
                .record_login_failure("ann", 1_000, 500)
                .await
                .unwrap()
                .unwrap();
        }
    };
    tokio::join!(
        fail_five(),
        fail_five(),
        fail_five(),
        fail_five(),
        fail_five(),
        fail_five(),
        fail_five(),
        fail_five()
    );
    let ann = store.user("ann").await.unwrap().unwrap();
    assert_eq!((ann.failed_logins, ann.locked_until), (40, None));
}

#[tokio::test]
async fn concurrent_failures_are_all_counted_on_sqlite() {
    let (store, _dir) = common::sqlite().await;
    concurrent_failures_are_all_counted(&store).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn concurrent_failures_are_all_counted_on_postgres() {
    let (store, _database) = common::postgres().await;
    concurrent_failures_are_all_counted(&store).await;
}

#[test]
fn roles_read_and_write_their_names() {
    for role in Role::ALL {
        assert_eq!(Role::parse(role.as_str()), Some(role));
        assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        assert_eq!(role.to_string(), role.as_str());
        assert_eq!(
            serde_json::to_string(&role).unwrap(),
            format!("\"{}\"", role.as_str())
        );
    }
    assert_eq!(Role::parse("root"), None);
    assert!(
        "Admin"
            .parse::<Role>()
            .unwrap_err()
            .contains("agent, supervisor or admin")
    );
}

#[test]
fn a_serialised_user_carries_no_hash() {
    let json = serde_json::to_string(&user("ann", Role::Agent)).unwrap();
    assert!(!json.contains("argon2"), "{json}");
    assert!(!format!("{:?}", user("ann", Role::Agent)).contains("argon2"));
}
