//! The rules against a real SQLite file: delays after repeated attempts, expiry, no user
//! enumeration, disabling and revocation, API keys, roles.

use super::attempts::Claim;
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
        dealer: None,
        premises_phone: None,
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
async fn after_five_attempts_each_one_waits_even_with_the_right_password() {
    let f = fixture().await;
    for attempt in 1..=5 {
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
    // The fifth attempt set a wait of 2 s: inside it, the right password is refused, with
    // the same words as a wrong one, and the refusal is not counted.
    let ann = f.auth.store().user("ann").await.unwrap().unwrap();
    assert_eq!(
        (ann.failed_logins, ann.locked_until),
        (5, Some(T0 + 5 + 2_000))
    );
    let e = f
        .auth
        .login("ann", "correct horse", T0 + 6)
        .await
        .unwrap_err();
    assert!(matches!(e, AuthError::InvalidCredentials), "{e}");
    assert_eq!(e.to_string(), REFUSED);
    let ann = f.auth.store().user("ann").await.unwrap().unwrap();
    assert_eq!(ann.failed_logins, 5);
    // After the wait, the next wrong attempt doubles it; the right one then gets in.
    let _ = f.auth.login("ann", "nope nope", T0 + 5 + 2_000).await;
    let ann = f.auth.store().user("ann").await.unwrap().unwrap();
    assert_eq!(ann.locked_until, Some(T0 + 5 + 2_000 + 4_000));
    f.auth
        .login("ann", "correct horse", T0 + 5 + 6_000)
        .await
        .unwrap();
    // The success clears the count; the wait shown stays until it is over.
    let ann = f.auth.store().user("ann").await.unwrap().unwrap();
    assert_eq!(
        (ann.failed_logins, ann.locked_until),
        (0, Some(T0 + 5 + 6_000))
    );
}

/// Item 3 of issue 13: nobody can keep a user out by failing as them. The wait belongs to
/// the address that failed; the user signs in at once from their own.
#[tokio::test]
async fn failures_from_one_address_never_keep_the_user_out_at_another() {
    let f = fixture().await;
    let attacker: std::net::IpAddr = "203.0.113.7".parse().unwrap();
    let desk: std::net::IpAddr = "10.1.2.3".parse().unwrap();
    let mut now = T0;
    for _ in 0..12 {
        let e = f
            .auth
            .login_from(attacker, "ann", "nope nope", now)
            .await
            .unwrap_err();
        assert_eq!(e.to_string(), REFUSED);
        // The attacker tries again as soon as each wait ends, and in the middle of it the
        // user signs in from the desk with the right password.
        let ann = f.auth.store().user("ann").await.unwrap().unwrap();
        let until = ann.locked_until.unwrap_or(now);
        f.auth
            .login_from(desk, "ann", "correct horse", (now + until) / 2)
            .await
            .unwrap();
        now = until.max(now + 1);
    }
    // The attacker still waits, even with the right password: the count is theirs alone.
    let ann = f.auth.store().user("ann").await.unwrap().unwrap();
    assert!(ann.locked_until.unwrap() > now - 1, "{ann:?}");
    let e = f
        .auth
        .login_from(attacker, "ann", "correct horse", now - 1)
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), REFUSED);
    // Another address in the attacker's IPv6 /64 is the same source.
    let v6 = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
    for _ in 0..5 {
        let _ = f
            .auth
            .login_from(v6("2001:db8::1"), "ann", "nope nope", now)
            .await;
    }
    let e = f
        .auth
        .login_from(v6("2001:db8::2"), "ann", "correct horse", now + 1)
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), REFUSED);
    f.auth
        .login_from(v6("2001:db8:0:1::1"), "ann", "correct horse", now + 1)
        .await
        .unwrap();
}

/// `users unlock` runs in its own process (another `Auth` over the same store): the running
/// server's waits are lifted all the same, and only those begun before it.
#[tokio::test]
async fn an_unlock_from_the_command_line_lifts_a_running_servers_waits() {
    let f = fixture().await;
    let desk: std::net::IpAddr = "10.1.2.3".parse().unwrap();
    for n in 0..5 {
        let _ = f.auth.login_from(desk, "ann", "nope nope", T0 + n).await;
    }
    let refused = f
        .auth
        .login_from(desk, "ann", "correct horse", T0 + 10)
        .await;
    assert!(refused.is_err());
    let cli = Auth::with_policy(f.auth.store().clone(), *f.auth.policy());
    let ann = cli.unlock("ann", "cli:root", T0 + 11).await.unwrap();
    assert_eq!((ann.failed_logins, ann.locked_until), (0, None));
    f.auth
        .login_from(desk, "ann", "correct horse", T0 + 12)
        .await
        .unwrap();
    // Failures after the unlock count again.
    for n in 0..5 {
        let _ = f
            .auth
            .login_from(desk, "ann", "nope nope", T0 + 20 + n)
            .await;
    }
    let refused = f
        .auth
        .login_from(desk, "ann", "correct horse", T0 + 30)
        .await;
    assert!(refused.is_err());
    // So does a new password set from the command line.
    cli.set_password("ann", "battery staple", "cli:root", T0 + 31)
        .await
        .unwrap();
    f.auth
        .login_from(desk, "ann", "battery staple", T0 + 32)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_wait_is_capped_and_a_success_clears_the_count() {
    let f = fixture().await;
    let mut now = T0;
    for _ in 0..20 {
        let _ = f.auth.login("ann", "nope nope", now).await;
        let ann = f.auth.store().user("ann").await.unwrap().unwrap();
        let wait = ann.locked_until.map_or(0, |u| u - now);
        assert!(wait <= 5 * MINUTE, "{wait}");
        now += wait;
    }
    let ann = f.auth.store().user("ann").await.unwrap().unwrap();
    assert_eq!(ann.locked_until, Some(now));
    assert!(ann.locked_until.unwrap() - T0 > 30 * MINUTE);
    f.auth.login("ann", "correct horse", now).await.unwrap();

    // Four failures, a success, four more: never five in a row, never delayed.
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
async fn unknown_names_wait_exactly_as_real_ones() {
    let f = fixture().await;
    for attempt in 1..=5 {
        let _ = f.auth.login("ann", "nope nope", T0 + attempt).await;
        let _ = f.auth.login("nobody", "nope nope", T0 + attempt).await;
    }
    let ann = f.auth.store().user("ann").await.unwrap().unwrap();
    assert_eq!(ann.locked_until, Some(T0 + 5 + 2_000));
    // Inside the wait neither is hashed: a dummy hash made now would show in the timing.
    let claim = |name: &str, now| f.auth.attempts.claim(None, name, now, &f.auth.policy, None);
    assert_eq!(claim("nobody", T0 + 6), Claim::Refused);
    // A name no user can have is not even remembered.
    let long = "x".repeat(10_000);
    for _ in 0..6 {
        let e = f.auth.login(&long, "nope nope", T0).await.unwrap_err();
        assert!(matches!(e, AuthError::InvalidCredentials), "{e}");
    }
    let free = Claim::Counted { wait_until: None };
    assert_eq!(claim(&long, T0), free);
    assert_ne!(claim("nobody", T0 + 5 + 2_000), Claim::Refused);
}

/// 40 guesses at once: the attempts are counted before any is checked, so only the five free
/// ones are checked; then 40 more with the right password among them are all refused unhashed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_guesses_are_counted_before_they_are_checked() {
    let f = fixture().await;
    let login = LoginConfig {
        gate: GateConfig {
            workers: 4,
            queue: 100,
            retry_after_s: 1,
        },
        ..LoginConfig::default()
    };
    let auth = Auth::configured(f.auth.store().clone(), *f.auth.policy(), login);
    let guess_all = |now: Millis| {
        let tasks: Vec<_> = (0..40)
            .map(|n| {
                let auth = auth.clone();
                let password = if n == 20 {
                    "correct horse"
                } else {
                    "nope nope"
                };
                tokio::spawn(async move { auth.login("ann", password, now).await })
            })
            .collect();
        async move {
            let mut signed_in = 0;
            for task in tasks {
                match task.await.unwrap() {
                    Ok(_) => signed_in += 1,
                    Err(e) => assert!(matches!(e, AuthError::InvalidCredentials), "{e}"),
                }
            }
            signed_in
        }
    };
    let wrong: Vec<_> = (0..40)
        .map(|_| {
            let auth = auth.clone();
            tokio::spawn(async move { auth.login("ann", "nope nope", T0).await })
        })
        .collect();
    for task in wrong {
        assert!(task.await.unwrap().is_err());
    }
    let ann = auth.store().user("ann").await.unwrap().unwrap();
    assert_eq!((ann.failed_logins, ann.locked_until), (5, Some(T0 + 2_000)));
    assert_eq!(guess_all(T0 + 1).await, 0);
    let ann = auth.store().user("ann").await.unwrap().unwrap();
    assert_eq!(ann.failed_logins, 5);
}

#[tokio::test]
async fn free_attempts_and_the_longest_wait_are_configurable() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("auth.db"))
        .await
        .unwrap();
    let policy = Policy {
        free_attempts: 2,
        max_delay: 3_000,
        hash_cost: HashCost::Fast,
        ..Policy::default()
    };
    let auth = Auth::with_policy(std::sync::Arc::new(store), policy);
    auth.add_user("ann", Role::Agent, "correct horse", T0)
        .await
        .unwrap();
    let _ = auth.login("ann", "nope nope", T0).await;
    let _ = auth.login("ann", "nope nope", T0).await;
    let _ = auth.login("ann", "nope nope", T0 + 2_000).await;
    let ann = auth.store().user("ann").await.unwrap().unwrap();
    assert_eq!(ann.locked_until, Some(T0 + 2_000 + 3_000));
    assert_eq!(policy.delay_after(1), 0);
    assert_eq!(policy.delay_after(2), 2_000);
    assert_eq!(policy.delay_after(40), 3_000);
}

#[tokio::test]
async fn a_disabled_user_cannot_sign_in_and_their_sessions_stop_at_once() {
    let f = fixture().await;
    let token = f
        .auth
        .login("ann", "correct horse", T0)
        .await
        .unwrap()
        .token;
    let other = f
        .auth
        .login("ann", "correct horse", T0)
        .await
        .unwrap()
        .token;
    f.auth
        .set_disabled("ann", true, "cli:root", T0 + 1)
        .await
        .unwrap();
    for t in [&token, &other] {
        let e = f.auth.authenticate(t, T0 + 2).await.unwrap_err();
        assert!(matches!(e, AuthError::NotSignedIn), "{e}");
    }
    let e = f
        .auth
        .login("ann", "correct horse", T0 + 3)
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), REFUSED);
    f.auth
        .set_disabled("ann", false, "cli:root", T0 + 4)
        .await
        .unwrap();
    f.auth.login("ann", "correct horse", T0 + 5).await.unwrap();
    let audit = f.auth.store().audit(10).await.unwrap();
    let lines: Vec<(&str, &str, &str)> = audit
        .iter()
        .map(|e| (e.actor.as_str(), e.action.as_str(), e.subject.as_str()))
        .collect();
    assert_eq!(
        lines,
        [
            ("cli:root", "user.enable", "ann"),
            ("cli:root", "user.disable", "ann")
        ]
    );
    assert_eq!(audit[1].detail, "2 session(s) ended");
}

#[tokio::test]
async fn a_new_password_ends_the_sessions_and_unlock_forgets_the_attempts() {
    let f = fixture().await;
    let token = f
        .auth
        .login("ann", "correct horse", T0)
        .await
        .unwrap()
        .token;
    f.auth
        .set_password("ann", "battery staple", "cli:root", T0 + 1)
        .await
        .unwrap();
    assert!(f.auth.authenticate(&token, T0 + 2).await.is_err());
    assert!(f.auth.login("ann", "correct horse", T0 + 3).await.is_err());
    let e = f
        .auth
        .set_password("ann", "short", "cli:root", T0 + 4)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            AuthError::Invalid {
                field: "password",
                ..
            }
        ),
        "{e}"
    );
    for n in 0..5 {
        let _ = f.auth.login("ann", "nope nope", T0 + 10 + n).await;
    }
    assert!(
        f.auth
            .login("ann", "battery staple", T0 + 20)
            .await
            .is_err()
    );
    f.auth.unlock("ann", "cli:root", T0 + 21).await.unwrap();
    let token = f
        .auth
        .login("ann", "battery staple", T0 + 22)
        .await
        .unwrap()
        .token;
    assert_eq!(
        f.auth
            .end_sessions("ann", "cli:root", T0 + 23)
            .await
            .unwrap(),
        1
    );
    assert!(f.auth.authenticate(&token, T0 + 24).await.is_err());
    let e = f.auth.unlock("bob", "cli:root", T0).await.unwrap_err();
    assert!(matches!(e, AuthError::NoSuchUser(_)), "{e}");
    let actions: Vec<String> = f
        .auth
        .store()
        .audit(10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "user.logout",
            "user.unlock",
            "login.throttled",
            "user.passwd"
        ]
    );
}

#[tokio::test]
async fn keys_are_listed_without_secrets_and_revoked_by_id() {
    let f = fixture().await;
    f.auth.store().put_account(&account("4F39")).await.unwrap();
    f.auth.store().put_account(&account("5000")).await.unwrap();
    let key = f.auth.issue_api_key("4f39", "door", T0).await.unwrap();
    let other = f.auth.issue_api_key("5000", "app", T0).await.unwrap();
    let keys = f.auth.api_keys(Some("4f39")).await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(
        (keys[0].account.as_str(), keys[0].label.as_str()),
        ("4F39", "door")
    );
    assert_eq!(keys[0].id.len(), 12);
    assert!(!key.contains(&keys[0].id));
    assert_eq!(f.auth.api_keys(None).await.unwrap().len(), 2);
    let e = f
        .auth
        .revoke_api_key("abc", "cli:root", T0)
        .await
        .unwrap_err();
    assert!(matches!(e, AuthError::Invalid { field: "id", .. }), "{e}");
    let e = f
        .auth
        .revoke_api_key("00000000", "cli:root", T0)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no key has the id"), "{e}");
    let revoked = f
        .auth
        .revoke_api_key(&keys[0].id.to_uppercase(), "cli:root", T0)
        .await
        .unwrap();
    assert_eq!(revoked.account, "4F39");
    assert_eq!(f.auth.account_for_key(&key, T0).await.unwrap(), None);
    assert_eq!(
        f.auth.account_for_key(&other, T0).await.unwrap().as_deref(),
        Some("5000")
    );
    let audit = f.auth.store().audit(1).await.unwrap();
    assert_eq!(
        (audit[0].action.as_str(), audit[0].subject.as_str()),
        ("key.revoke", keys[0].id.as_str())
    );
    // A key's use is written when first seen, then at most once an hour.
    let used = |auth: Auth| async move { auth.api_keys(Some("5000")).await.unwrap()[0].last_used };
    assert_eq!(used(f.auth.clone()).await, Some(T0));
    f.auth.account_for_key(&other, T0 + MINUTE).await.unwrap();
    assert_eq!(used(f.auth.clone()).await, Some(T0));
    f.auth.account_for_key(&other, T0 + HOUR).await.unwrap();
    assert_eq!(used(f.auth.clone()).await, Some(T0 + HOUR));
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
        f.auth.account_for_key(&key, T0).await.unwrap().as_deref(),
        Some("4F39")
    );
    let other = f.auth.issue_api_key("4F39", "", T0).await.unwrap();
    assert_ne!(key, other);
    // Only the hash is stored.
    assert!(f.auth.store().api_key(&key).await.unwrap().is_none());
    let unknown = format!("wp_{}", "0".repeat(64));
    for key in [unknown.as_str(), "", "wp_", &key[3..], &key.to_uppercase()] {
        assert_eq!(
            f.auth.account_for_key(key, T0).await.unwrap(),
            None,
            "{key:?}"
        );
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
        f.auth.account_for_key(&key, T0).await.unwrap().as_deref(),
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
        waits_lifted_at: None,
        disabled: false,
        created_at: 0,
        phone: None,
        dealer: None,
    };
    for have in Role::ALL {
        for needed in Role::ALL {
            let same_side = have.is_dealer() == needed.is_dealer();
            assert_eq!(
                require(&user(have), needed).is_ok(),
                same_side && have >= needed,
                "{have} for {needed}"
            );
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
        waits_lifted_at: None,
        disabled: false,
        created_at: 0,
        phone: None,
        dealer: None,
    };
    assert!(!format!("{user:?}").contains(&phc));
}
