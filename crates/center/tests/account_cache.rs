//! The accounts a center keeps read stay few (issue 16, item 2): however many panels are
//! heard, at most `ACCOUNT_CACHE_MAX` accounts are held, stale ones go first, and a burst
//! from one account still reads it once. After a flood, with no signal coming, what was
//! read and counted for it goes within a minute.

use std::sync::Arc;
use watchpost_center::{ACCOUNT_CACHE_MAX, Center};
use watchpost_core::Settings;
use watchpost_core::router::parse_sia;
use watchpost_store::{Db, SignalRecord, SqliteStore};

const START: i64 = 1_800_000_000_000;

fn opening(account: &str, at: i64) -> SignalRecord {
    SignalRecord {
        account: account.into(),
        received_at: at,
        source: "sia".into(),
        event: parse_sia("OP001").unwrap(),
        raw: "OP001".into(),
    }
}

#[tokio::test]
async fn many_accounts_heard_keep_at_most_the_bound_read() {
    let store: Db = Arc::new(SqliteStore::memory().await.unwrap());
    let template = watchpost_store::testing::account("1000");
    let numbers: Vec<String> = (0..ACCOUNT_CACHE_MAX + 500)
        .map(|n| format!("{}", 100_000 + n))
        .collect();
    let accounts: Vec<_> = numbers
        .iter()
        .map(|number| watchpost_core::Account {
            number: number.clone(),
            ..template.clone()
        })
        .collect();
    store.put_accounts(&accounts).await.unwrap();
    let mut center = Center::resume(store, Settings::default()).await.unwrap();

    center
        .receive(START, opening(&numbers[0], START), "panel")
        .await
        .unwrap();
    assert_eq!(center.cached_accounts(), 1);
    center
        .receive(START, opening(&numbers[0], START), "panel")
        .await
        .unwrap();
    assert_eq!(
        center.cached_accounts(),
        1,
        "a burst reads its account once"
    );

    // All heard within moments: all fresh, so past the bound they all go.
    let mut most = 0;
    for number in &numbers {
        center
            .receive(START, opening(number, START), "panel")
            .await
            .unwrap();
        most = most.max(center.cached_accounts());
    }
    assert_eq!(most, ACCOUNT_CACHE_MAX);
    assert!(center.cached_accounts() < ACCOUNT_CACHE_MAX);

    // Later, past the bound again, with stale ones among them: still bounded.
    let later = START + 60_000;
    let fresh = ACCOUNT_CACHE_MAX / 4;
    for number in &numbers[..fresh] {
        center
            .receive(later, opening(number, later), "panel")
            .await
            .unwrap();
    }
    for (n, number) in numbers[fresh..].iter().enumerate() {
        center
            .receive(later + 10_000, opening(number, later + 10_000), "panel")
            .await
            .unwrap();
        assert!(center.cached_accounts() <= ACCOUNT_CACHE_MAX, "after {n}");
    }
}

#[tokio::test]
async fn after_a_flood_the_accounts_read_and_counted_go_without_further_signals() {
    let store: Db = Arc::new(SqliteStore::memory().await.unwrap());
    let template = watchpost_store::testing::account("1000");
    let accounts: Vec<_> = (0..2_000)
        .map(|n| watchpost_core::Account {
            number: format!("{}", 200_000 + n),
            ..template.clone()
        })
        .collect();
    store.put_accounts(&accounts).await.unwrap();
    let mut center = Center::resume(store, Settings::default()).await.unwrap();
    assert!(
        Settings::default().runaway.is_some(),
        "runaway counts are kept by default"
    );
    center.fire_due(START).unwrap();
    for account in &accounts {
        center
            .receive(START, opening(&account.number, START), "panel")
            .await
            .unwrap();
    }
    assert_eq!(center.cached_accounts(), accounts.len());
    assert_eq!(center.counted_accounts(), accounts.len());
    // Still fresh a moment later: kept.
    center.fire_due(START + 1_000).unwrap();
    assert_eq!(center.counted_accounts(), accounts.len());
    // A minute of silence: the rounds (which fire timers) forget them.
    center.fire_due(START + 61_000).unwrap();
    assert_eq!(center.cached_accounts(), 0);
    assert_eq!(center.counted_accounts(), 0);
}

#[tokio::test]
async fn a_rounds_accounts_are_read_in_one_look_up_and_the_missing_ones_known_missing() {
    let store: Db = Arc::new(SqliteStore::memory().await.unwrap());
    let accounts = ["2001", "2002"].map(watchpost_store::testing::account);
    store.put_accounts(&accounts).await.unwrap();
    let mut center = Center::resume(store.clone(), Settings::default())
        .await
        .unwrap();
    center
        .read_accounts(&["2001", "2002", "2001", "7777"], START)
        .await
        .unwrap();
    assert_eq!(
        center.cached_accounts(),
        2,
        "both enrolled accounts read ahead"
    );

    // Deleted meanwhile: the round still routes on what it read (one snapshot per round).
    store.delete_account("2002").await.unwrap();
    for number in ["2001", "2002"] {
        center
            .receive(START, opening(number, START), "panel")
            .await
            .unwrap();
    }
    assert!(matches!(
        center.receive(START, opening("7777", START), "panel").await,
        Err(watchpost_center::CenterError::UnknownAccount(_))
    ));
    // Enrolled since: at the next round's time it is asked for again.
    store
        .put_account(&watchpost_store::testing::account("7777"))
        .await
        .unwrap();
    center
        .receive(START + 1, opening("7777", START + 1), "panel")
        .await
        .expect("enrolled now");
}
