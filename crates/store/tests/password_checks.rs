//! Verbal-password checks in each store (SQLite on a real file, PostgreSQL): misses are counted
//! per account across alarms, a check is counted before it is settled, parallel reservations
//! never exceed the limit, a match is not a miss, and DC-09 keys are replaced all at once.

mod common;

use watchpost_store::testing::account;
use watchpost_store::{Database, MissLimit, PasswordCheck, Reservation};

const LIMIT: MissLimit = MissLimit {
    misses: 3,
    window_ms: 1_000,
};

fn check(account: &str, alarm: i64, at: i64) -> PasswordCheck {
    PasswordCheck {
        account: account.into(),
        alarm,
        call: 0,
        agent: "amy".into(),
        at,
    }
}

async fn misses_are_counted_per_account(store: &dyn Database) {
    store.put_account(&account("4F39")).await.unwrap();
    store.put_account(&account("5A5B")).await.unwrap();
    // A match is not a miss.
    let Reservation::Granted(id) = store
        .reserve_password_check(&check("4F39", 1, 100), LIMIT)
        .await
        .unwrap()
    else {
        panic!("the first check is refused")
    };
    store.settle_password_check(id, true).await.unwrap();
    // Two misses on alarm 1, one unsettled check on alarm 2: the account's three.
    for (alarm, at) in [(1, 200), (1, 300)] {
        let Reservation::Granted(id) = store
            .reserve_password_check(&check("4F39", alarm, at), LIMIT)
            .await
            .unwrap()
        else {
            panic!("refused within the limit")
        };
        store.settle_password_check(id, false).await.unwrap();
    }
    assert!(matches!(
        store
            .reserve_password_check(&check("4F39", 2, 400), LIMIT)
            .await
            .unwrap(),
        Reservation::Granted(_)
    ));
    assert_eq!(
        store
            .reserve_password_check(&check("4F39", 3, 500), LIMIT)
            .await
            .unwrap(),
        Reservation::Refused { retry_at: 1_200 },
        "the third newest miss (at 200) leaves the window at 1200"
    );
    // Another account is not affected; the window slides.
    assert!(matches!(
        store
            .reserve_password_check(&check("5A5B", 4, 500), LIMIT)
            .await
            .unwrap(),
        Reservation::Granted(_)
    ));
    assert!(matches!(
        store
            .reserve_password_check(&check("4F39", 3, 1_201), LIMIT)
            .await
            .unwrap(),
        Reservation::Granted(_)
    ));
    let misses = store.password_misses(Some("4F39"), 0).await.unwrap();
    let alarms: Vec<i64> = misses.iter().map(|m| m.alarm).collect();
    assert_eq!(alarms, [1, 1, 2, 3]);
    assert_eq!(store.password_misses(None, 450).await.unwrap().len(), 2);
}

async fn parallel_checks_never_exceed_the_limit(store: &dyn Database) {
    store.put_account(&account("4F39")).await.unwrap();
    // Polled together: they interleave at every await.
    let checks: Vec<PasswordCheck> = (0..20).map(|n| check("4F39", n, 100 + n)).collect();
    let answers = futures::future::join_all(
        checks
            .iter()
            .map(|c| store.reserve_password_check(c, LIMIT)),
    )
    .await;
    let granted = answers
        .iter()
        .filter(|r| matches!(r, Ok(Reservation::Granted(_))))
        .count();
    assert_eq!(granted, 3);
}

async fn keys_are_replaced_together(store: &dyn Database) {
    let mut keyed = account("4F39");
    keyed.dc09_key = Some("00".repeat(16));
    store.put_account(&keyed).await.unwrap();
    store
        .set_dc09_keys(&[
            ("4F39".into(), "sealed:v1:k:AAAA".into()),
            ("NOPE".into(), "ignored".into()),
        ])
        .await
        .unwrap();
    assert_eq!(
        store.dc09_keys().await.unwrap(),
        [("4F39".to_string(), "sealed:v1:k:AAAA".to_string())]
    );
}

#[tokio::test]
async fn password_checks_on_sqlite() {
    let (store, _dir) = common::sqlite().await;
    misses_are_counted_per_account(&store).await;
    let (store, _dir) = common::sqlite().await;
    parallel_checks_never_exceed_the_limit(&store).await;
    let (store, _dir) = common::sqlite().await;
    keys_are_replaced_together(&store).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn password_checks_on_postgres() {
    let (store, _db) = common::postgres().await;
    misses_are_counted_per_account(&store).await;
    let (store, _db) = common::postgres().await;
    parallel_checks_never_exceed_the_limit(&store).await;
    let (store, _db) = common::postgres().await;
    keys_are_replaced_together(&store).await;
}
