//! Users, sessions and API keys in each store (SQLite on a real file, PostgreSQL): they
//! round-trip and survive a reopen, failed sign-ins are counted and lock at the limit, sessions
//! are touched and swept, and only hashes are looked up.

mod common;

use watchpost_core::Account;
use watchpost_core::account::{Monitoring, Premises, Responder};
use watchpost_core::password::{HashCost, VerbalPassword};
use watchpost_store::{
    ApiKeyRecord, AuditEntry, PgStore, Role, SessionRecord, SqliteStore, Store, User,
};

fn user(name: &str, role: Role) -> User {
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
        dealer: None,
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

async fn failures_are_counted_and_the_latest_wait_is_kept(store: &dyn Store) {
    store.put_user(&user("ann", Role::Agent)).await.unwrap();
    let fail = |until| store.record_login_failure("ann", until);
    let state = |u: Option<User>| u.map(|u| (u.failed_logins, u.locked_until));
    assert_eq!(state(fail(None).await.unwrap()), Some((1, None)));
    assert_eq!(
        state(fail(Some(2_100)).await.unwrap()),
        Some((2, Some(2_100)))
    );
    // An earlier wait (another address's) never shortens the one shown.
    assert_eq!(
        state(fail(Some(1_000)).await.unwrap()),
        Some((3, Some(2_100)))
    );
    assert_eq!(state(fail(None).await.unwrap()), Some((4, Some(2_100))));
    assert_eq!(
        state(fail(Some(6_100)).await.unwrap()),
        Some((5, Some(6_100)))
    );
    // A success clears the count; the wait shown is another address's and stays.
    store.reset_login_failures("ann").await.unwrap();
    let ann = store.user("ann").await.unwrap().unwrap();
    assert_eq!((ann.failed_logins, ann.locked_until), (0, Some(6_100)));
    // A lift clears both and says when; writing the user back keeps when.
    fail(Some(9_000)).await.unwrap();
    store.lift_login_waits("ann", 7_000).await.unwrap();
    let ann = store.user("ann").await.unwrap().unwrap();
    let lifted = |u: &User| (u.failed_logins, u.locked_until, u.waits_lifted_at);
    assert_eq!(lifted(&ann), (0, None, Some(7_000)));
    store.put_user(&ann).await.unwrap();
    store.put_user(&user("ann", Role::Agent)).await.unwrap();
    let ann = store.user("ann").await.unwrap().unwrap();
    assert_eq!(lifted(&ann), (0, None, Some(7_000)));
    assert!(
        store
            .record_login_failure("bob", Some(100))
            .await
            .unwrap()
            .is_none()
    );
}

async fn disabling_a_user_and_ending_sessions(store: &dyn Store) {
    store.put_user(&user("ann", Role::Agent)).await.unwrap();
    store.put_user(&user("bob", Role::Agent)).await.unwrap();
    for (hash, name) in [("h1", "ann"), ("h2", "ann"), ("h3", "bob")] {
        store
            .put_session(&session(hash, name, 50_000))
            .await
            .unwrap();
    }
    let mut ann = store.user("ann").await.unwrap().unwrap();
    assert!(!ann.disabled);
    ann.disabled = true;
    store.put_user(&ann).await.unwrap();
    assert!(store.user("ann").await.unwrap().unwrap().disabled);
    assert_eq!(store.end_sessions("ann").await.unwrap(), 2);
    assert!(store.session("h1").await.unwrap().is_none());
    assert!(store.session("h3").await.unwrap().is_some());
    assert_eq!(store.end_sessions("ann").await.unwrap(), 0);
}

#[tokio::test]
async fn disabling_a_user_and_ending_sessions_on_sqlite() {
    let (store, _dir) = common::sqlite().await;
    disabling_a_user_and_ending_sessions(&store).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn disabling_a_user_and_ending_sessions_on_postgres() {
    let (store, _database) = common::postgres().await;
    disabling_a_user_and_ending_sessions(&store).await;
}

async fn keys_are_listed_revoked_and_die_with_their_account(store: &dyn Store) {
    store.put_account(&account("4F39")).await.unwrap();
    store.put_account(&account("5000")).await.unwrap();
    for (hash, number, at) in [("k2", "4F39", 20), ("k1", "4F39", 10), ("k3", "5000", 5)] {
        store
            .put_api_key(&ApiKeyRecord {
                key_hash: hash.into(),
                account: number.into(),
                label: format!("key {hash}"),
                created_at: at,
                last_used: None,
            })
            .await
            .unwrap();
    }
    let hashes = |keys: Vec<ApiKeyRecord>| keys.into_iter().map(|k| k.key_hash).collect::<Vec<_>>();
    assert_eq!(
        hashes(store.api_keys(None).await.unwrap()),
        ["k1", "k2", "k3"]
    );
    assert_eq!(
        hashes(store.api_keys(Some("4F39")).await.unwrap()),
        ["k1", "k2"]
    );
    store.touch_api_key("k1", 99).await.unwrap();
    let keys = store.api_keys(Some("4F39")).await.unwrap();
    assert_eq!((keys[0].last_used, keys[1].last_used), (Some(99), None));
    assert!(store.delete_api_key("k2").await.unwrap());
    assert!(!store.delete_api_key("k2").await.unwrap());
    assert_eq!(store.api_key("k2").await.unwrap(), None);
    // Deleting the account revokes its keys; re-enrolling the number brings none back.
    assert!(store.delete_account("4F39").await.unwrap());
    assert_eq!(store.api_key("k1").await.unwrap(), None);
    store.put_account(&account("4F39")).await.unwrap();
    assert_eq!(store.api_key("k1").await.unwrap(), None);
    assert_eq!(hashes(store.api_keys(None).await.unwrap()), ["k3"]);
}

#[tokio::test]
async fn keys_are_listed_revoked_and_die_with_their_account_on_sqlite() {
    let (store, _dir) = common::sqlite().await;
    keys_are_listed_revoked_and_die_with_their_account(&store).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn keys_are_listed_revoked_and_die_with_their_account_on_postgres() {
    let (store, _database) = common::postgres().await;
    keys_are_listed_revoked_and_die_with_their_account(&store).await;
}

async fn the_audit_trail_is_kept_newest_first(store: &dyn Store) {
    for (at, action) in [
        (10, "user.disable"),
        (30, "key.revoke"),
        (20, "user.enable"),
    ] {
        store
            .put_audit(&AuditEntry {
                at,
                actor: "cli:root".into(),
                action: action.into(),
                subject: "ann".into(),
                detail: String::new(),
            })
            .await
            .unwrap();
    }
    let actions: Vec<String> = store
        .audit(2)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["key.revoke", "user.enable"]);
}

#[tokio::test]
async fn the_audit_trail_is_kept_newest_first_on_sqlite() {
    let (store, _dir) = common::sqlite().await;
    the_audit_trail_is_kept_newest_first(&store).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn the_audit_trail_is_kept_newest_first_on_postgres() {
    let (store, _database) = common::postgres().await;
    the_audit_trail_is_kept_newest_first(&store).await;
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
        dealer: None,
        premises_phone: None,
    }
}

async fn api_keys_name_their_account_and_survive_a_reimport(store: &dyn Store) {
    store.put_account(&account("4F39")).await.unwrap();
    let key = ApiKeyRecord {
        key_hash: "abc".into(),
        account: "4F39".into(),
        label: "front door app".into(),
        created_at: 7,
        last_used: None,
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
async fn failures_are_counted_and_the_latest_wait_is_kept_on_sqlite() {
    let (store, _dir) = common::sqlite().await;
    failures_are_counted_and_the_latest_wait_is_kept(&store).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn failures_are_counted_and_the_latest_wait_is_kept_on_postgres() {
    let (store, _database) = common::postgres().await;
    failures_are_counted_and_the_latest_wait_is_kept(&store).await;
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

/// Failures recorded at once, by as many connections as the store has (as several nodes
/// would): not one is lost, and the latest wait wins.
async fn concurrent_failures_are_all_counted(store: &dyn Store) {
    store.put_user(&user("ann", Role::Agent)).await.unwrap();
    let fail_five = |base: i64| async move {
        for n in 0..5 {
            store
                .record_login_failure("ann", Some(base + n))
                .await
                .unwrap()
                .expect("ann exists");
        }
    };
    tokio::join!(
        fail_five(1_000),
        fail_five(2_000),
        fail_five(3_000),
        fail_five(4_000),
        fail_five(5_000),
        fail_five(6_000),
        fail_five(7_000),
        fail_five(8_000)
    );
    let ann = store.user("ann").await.unwrap().unwrap();
    assert_eq!((ann.failed_logins, ann.locked_until), (40, Some(8_004)));
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
            .contains("agent, supervisor, admin, dealer_admin or dealer_viewer")
    );
}

#[test]
fn a_serialised_user_carries_no_hash() {
    let json = serde_json::to_string(&user("ann", Role::Agent)).unwrap();
    assert!(!json.contains("argon2"), "{json}");
    assert!(!format!("{:?}", user("ann", Role::Agent)).contains("argon2"));
}
