//! The rules against a real SQLite file: lockout, expiry, no user enumeration, API keys, roles.

use super::*;
use watchpost_core::Account;
use watchpost_core::Millis;
use watchpost_core::account::{Monitoring, Premises, Responder};
use watchpost_core::password::{HashCost, VerbalPassword};
use watchpost_store::SqliteStore;

const MINUTE: Millis = 60_000;
const HOUR: Millis = 60 * MINUTE;
const T0: Millis = 1_773_100_000_000;

struct Fixture {
    auth: Auth,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("auth.db"))
        .await
        .unwrap();
    let policy = Policy {
        hash_cost: HashCost::Fast,
        ..Policy::default()
    };
    let auth = Auth::with_policy(std::sync::Arc::new(store), policy);
    auth.add_user("ann", Role::Agent, "correct horse", T0)
        .await
        .unwrap();
    Fixture { auth, _dir: dir }
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

#[tokio::test]
async fn right_password_opens_a_session_that_authenticates() {
    let f = fixture().await;
    let session = f.auth.login("ann", "correct horse", T0).await.unwrap();
    assert_eq!(session.token.len(), 64);
    assert_eq!(session.user.name, "ann");
    assert_eq!(session.expires_at, T0 + 12 * HOUR);
    assert!(!format!("{session:?}").contains(&session.token));
    let user = f
        .auth
        .authenticate(&session.token, T0 + MINUTE)
        .await
        .unwrap();
    assert_eq!((user.name.as_str(), user.role), ("ann", Role::Agent));
    // Only the hash is stored.
    assert!(
        f.auth
            .store()
            .session(&session.token)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn unknown_user_and_wrong_password_read_the_same() {
    let f = fixture().await;
    let unknown = f.auth.login("bob", "correct horse", T0).await.unwrap_err();
    let wrong = f.auth.login("ann", "wrong horse", T0).await.unwrap_err();
    assert!(matches!(unknown, AuthError::InvalidCredentials));
    assert!(matches!(wrong, AuthError::InvalidCredentials));
    assert_eq!(unknown.to_string(), wrong.to_string());
    // The unknown name was checked against a hash as costly as a real one.
    let dummy = f.auth.dummy_hash.get().expect("the dummy hash was used");
    let real = f
        .auth
        .store()
        .user("ann")
        .await
        .unwrap()
        .unwrap()
        .password_hash;
    let params = |phc: &str| phc.split('$').nth(3).unwrap().to_string();
    assert_eq!(params(dummy), params(&real));
}

#[tokio::test]
async fn five_failures_lock_even_the_right_password_out() {
    let f = fixture().await;
    for attempt in 1..=4 {
        let e = f
            .auth
            .login("ann", "nope nope", T0 + attempt)
            .await
            .unwrap_err();
        assert!(
            matches!(e, AuthError::InvalidCredentials),
            "attempt {attempt}: {e}"
        );
    }
    let e = f.auth.login("ann", "nope nope", T0 + 5).await.unwrap_err();
    let until = T0 + 5 + 15 * MINUTE;
    assert!(
        matches!(e, AuthError::Locked { until: u } if u == until),
        "{e}"
    );
    assert!(e.to_string().contains("locked until 20"), "{e}");
    let e = f
        .auth
        .login("ann", "correct horse", T0 + 6)
        .await
        .unwrap_err();
    assert!(matches!(e, AuthError::Locked { .. }), "{e}");
    let e = f
        .auth
        .login("ann", "correct horse", until - 1)
        .await
        .unwrap_err();
    assert!(matches!(e, AuthError::Locked { .. }), "{e}");
}

#[tokio::test]
async fn the_lock_ends_after_the_window_and_a_success_clears_the_count() {
    let f = fixture().await;
    for attempt in 1..=5 {
        let _ = f.auth.login("ann", "nope nope", T0 + attempt).await;
    }
    let until = T0 + 5 + 15 * MINUTE;
    f.auth.login("ann", "correct horse", until).await.unwrap();
    let ann = f.auth.store().user("ann").await.unwrap().unwrap();
    assert_eq!((ann.failed_logins, ann.locked_until), (0, None));

    // Four failures, a success, four more: never five in a row, never locked.
    let mut now = until;
    for round in 0..2 {
        for _ in 0..4 {
            now += 1;
            let e = f.auth.login("ann", "nope nope", now).await.unwrap_err();
            assert!(
                matches!(e, AuthError::InvalidCredentials),
                "round {round}: {e}"
            );
        }
        now += 1;
        f.auth.login("ann", "correct horse", now).await.unwrap();
    }
}

#[tokio::test]
async fn lockout_is_configurable() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("auth.db"))
        .await
        .unwrap();
    let policy = Policy {
        max_failures: 2,
        lockout: HOUR,
        hash_cost: HashCost::Fast,
        ..Policy::default()
    };
    let auth = Auth::with_policy(std::sync::Arc::new(store), policy);
    auth.add_user("ann", Role::Agent, "correct horse", T0)
        .await
        .unwrap();
    let _ = auth.login("ann", "nope nope", T0).await;
    let e = auth.login("ann", "nope nope", T0).await.unwrap_err();
    assert!(
        matches!(e, AuthError::Locked { until } if until == T0 + HOUR),
        "{e}"
    );
}

#[tokio::test]
async fn an_idle_session_expires() {
    let f = fixture().await;
    let token = f
        .auth
        .login("ann", "correct horse", T0)
        .await
        .unwrap()
        .token;
    // Each use pushes the idle end back.
    f.auth.authenticate(&token, T0 + 11 * HOUR).await.unwrap();
    f.auth.authenticate(&token, T0 + 22 * HOUR).await.unwrap();
    let e = f
        .auth
        .authenticate(&token, T0 + 34 * HOUR)
        .await
        .unwrap_err();
    assert!(matches!(e, AuthError::SessionExpired), "{e}");
    // And it is gone.
    let e = f
        .auth
        .authenticate(&token, T0 + 34 * HOUR)
        .await
        .unwrap_err();
    assert!(matches!(e, AuthError::NotSignedIn), "{e}");
}

#[tokio::test]
async fn a_busy_session_still_ends_after_seven_days() {
    let f = fixture().await;
    let token = f
        .auth
        .login("ann", "correct horse", T0)
        .await
        .unwrap()
        .token;
    let end = T0 + 7 * 24 * HOUR;
    let mut now = T0;
    while now + 6 * HOUR < end {
        now += 6 * HOUR;
        f.auth.authenticate(&token, now).await.unwrap();
    }
    f.auth.authenticate(&token, end - 1).await.unwrap();
    let e = f.auth.authenticate(&token, end).await.unwrap_err();
    assert!(matches!(e, AuthError::SessionExpired), "{e}");
}

#[tokio::test]
async fn logout_ends_the_session_and_purge_sweeps_ended_ones() {
    let f = fixture().await;
    let a = f
        .auth
        .login("ann", "correct horse", T0)
        .await
        .unwrap()
        .token;
    let b = f
        .auth
        .login("ann", "correct horse", T0)
        .await
        .unwrap()
        .token;
    f.auth.logout(&a).await.unwrap();
    f.auth.logout(&a).await.unwrap();
    f.auth.logout("garbage").await.unwrap();
    let e = f.auth.authenticate(&a, T0 + 1).await.unwrap_err();
    assert!(matches!(e, AuthError::NotSignedIn), "{e}");
    f.auth.authenticate(&b, T0 + 1).await.unwrap();
    assert_eq!(f.auth.purge_expired(T0 + HOUR).await.unwrap(), 0);
    assert_eq!(f.auth.purge_expired(T0 + 13 * HOUR).await.unwrap(), 1);
    let e = f.auth.authenticate(&b, T0 + 1).await.unwrap_err();
    assert!(matches!(e, AuthError::NotSignedIn), "{e}");
}

#[tokio::test]
async fn malformed_tokens_are_refused() {
    let f = fixture().await;
    for token in ["", "abc", &"g".repeat(64), &"a".repeat(65)] {
        let e = f.auth.authenticate(token, T0).await.unwrap_err();
        assert!(matches!(e, AuthError::NotSignedIn), "{token:?}: {e}");
    }
}

#[tokio::test]
async fn api_keys_round_trip_and_unknown_keys_speak_for_nobody() {
    let f = fixture().await;
    f.auth.store().put_account(&account("4F39")).await.unwrap();
    let key = f
        .auth
        .issue_api_key("4F39", "front door app", T0)
        .await
        .unwrap();
    assert!(key.starts_with("wp_") && key.len() == 67, "{key}");
    assert!(key[3..].bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(
        f.auth.account_for_key(&key).await.unwrap().as_deref(),
        Some("4F39")
    );
    let other = f.auth.issue_api_key("4F39", "", T0).await.unwrap();
    assert_ne!(key, other);
    // Only the hash is stored.
    assert!(f.auth.store().api_key(&key).await.unwrap().is_none());
    let unknown = format!("wp_{}", "0".repeat(64));
    for key in [unknown.as_str(), "", "wp_", &key[3..], &key.to_uppercase()] {
        assert_eq!(f.auth.account_for_key(key).await.unwrap(), None, "{key:?}");
    }
}

#[tokio::test]
async fn keys_are_only_issued_for_enrolled_accounts() {
    let f = fixture().await;
    let e = f.auth.issue_api_key("NOPE", "", T0).await.unwrap_err();
    assert!(matches!(e, AuthError::NoSuchAccount(_)), "{e}");
    assert_eq!(e.to_string(), "account \"NOPE\" is not enrolled");
}

#[tokio::test]
async fn a_key_asked_for_in_lower_case_speaks_for_the_canonical_number() {
    let f = fixture().await;
    f.auth.store().put_account(&account("4F39")).await.unwrap();
    let key = f.auth.issue_api_key("4f39", "", T0).await.unwrap();
    assert_eq!(
        f.auth.account_for_key(&key).await.unwrap().as_deref(),
        Some("4F39")
    );
    let e = f.auth.issue_api_key("4F-39", "", T0).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "account: \"4F-39\" has '-' at position 3 (an account number is 1 to 16 letters and digits)"
    );
}

#[tokio::test]
async fn roles_are_ordered_admin_supervisor_agent() {
    assert!(Role::Admin > Role::Supervisor && Role::Supervisor > Role::Agent);
    let user = |role| User {
        name: "x".into(),
        role,
        password_hash: String::new(),
        failed_logins: 0,
        locked_until: None,
        created_at: 0,
        phone: None,
    };
    for have in Role::ALL {
        for needed in Role::ALL {
            assert_eq!(require(&user(have), needed).is_ok(), have >= needed);
        }
    }
    let e = require(&user(Role::Agent), Role::Admin).unwrap_err();
    assert_eq!(
        e.to_string(),
        "this needs the admin role; you are signed in as agent"
    );
}

#[tokio::test]
async fn new_users_are_checked() {
    let f = fixture().await;
    let cases = [
        ("bob", "", "password"),
        ("bob", "short", "password"),
        ("bob", "sevench", "password"),
        ("", "long enough", "name"),
        ("b b", "long enough", "name"),
    ];
    for (name, password, field) in cases {
        let e = f
            .auth
            .add_user(name, Role::Agent, password, T0)
            .await
            .unwrap_err();
        assert!(
            matches!(e, AuthError::Invalid { field: f, .. } if f == field),
            "{name:?} {password:?}: {e}"
        );
    }
    let e = f
        .auth
        .add_user("ann", Role::Admin, "long enough", T0)
        .await
        .unwrap_err();
    assert!(matches!(e, AuthError::UserExists(_)), "{e}");
    // Eight characters (not bytes) are enough.
    f.auth
        .add_user("zoë", Role::Admin, "ééééèèèè", T0)
        .await
        .unwrap();
    f.auth.login("zoë", "ééééèèèè", T0).await.unwrap();
}

#[test]
fn user_passwords_are_standard_argon2id_and_exact() {
    let phc = hash_user_password("Correct Horse");
    assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
    assert!(password::verify("Correct Horse", &phc));
    assert!(!password::verify("correct horse", &phc));
    assert!(!password::verify("Correct Horse", "not a hash"));
}

#[test]
fn users_never_show_their_hash() {
    let phc = hash_user_password_with("correct horse", HashCost::Fast);
    let user = User {
        name: "ann".into(),
        role: Role::Agent,
        password_hash: phc.clone(),
        failed_logins: 0,
        locked_until: None,
        created_at: 0,
        phone: None,
    };
    assert!(!format!("{user:?}").contains(&phc));
}
