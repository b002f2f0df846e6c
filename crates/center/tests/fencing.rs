//! Two centers on one store, as two nodes would be: the one holding a partition's lease drives
//! its alarms; once another node takes the lease (the first was paused past its expiry), the
//! first one's writes are refused whole, and the new holder goes on from the stored log. A
//! signal for a partition another center drives is stored and handed over through the inbox;
//! an unknown account's alarm handed over so becomes an unknown-account item at its driver.

use std::sync::Arc;
use watchpost_center::{Center, CenterError};
use watchpost_core::router::Event;
use watchpost_core::{Account, AlarmKind, Input, Settings, SignalClass};
use watchpost_store::testing::{TestDatabase, server_url};
use watchpost_store::{
    AlarmState, Db, PgStore, SignalRecord, SqliteStore, Store, StoreError, partition_of,
};

fn account(number: &str) -> Account {
    watchpost_store::testing::account(number)
}

fn burglary(account: &str, at: i64) -> SignalRecord {
    SignalRecord {
        account: account.into(),
        received_at: at,
        source: "sia".into(),
        event: Event::Panel {
            class: SignalClass::Alarm(AlarmKind::Burglary),
            code: "BA".into(),
            zone: Some(3),
        },
        raw: "BA003".into(),
    }
}

async fn on_sqlite(test: impl AsyncFnOnce(Db)) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("center.db"))
        .await
        .unwrap();
    store.put_account(&account("4F39")).await.unwrap();
    test(Arc::new(store)).await;
}

async fn on_postgres(test: impl AsyncFnOnce(Db)) {
    let db = TestDatabase::new(&server_url()).await.unwrap();
    let store = PgStore::connect(db.url()).await.unwrap();
    store.put_account(&account("4F39")).await.unwrap();
    test(Arc::new(store)).await;
}

#[tokio::test]
async fn a_paused_driver_cannot_write_after_its_lease_was_taken_on_sqlite() {
    on_sqlite(a_paused_driver_cannot_write_after_its_lease_was_taken).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn a_paused_driver_cannot_write_after_its_lease_was_taken_on_postgres() {
    on_postgres(a_paused_driver_cannot_write_after_its_lease_was_taken).await;
}

#[tokio::test]
async fn a_signal_for_another_nodes_partition_goes_through_its_inbox_on_sqlite() {
    on_sqlite(a_signal_for_another_nodes_partition_goes_through_its_inbox).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn a_signal_for_another_nodes_partition_goes_through_its_inbox_on_postgres() {
    on_postgres(a_signal_for_another_nodes_partition_goes_through_its_inbox).await;
}

async fn a_paused_driver_cannot_write_after_its_lease_was_taken(store: Db) {
    let partition = partition_of("4F39");
    let first = store
        .acquire(partition, "a", 1, 6_000)
        .await
        .unwrap()
        .unwrap();
    let mut a = Center::new(store.clone(), Settings::default());
    a.adopt(&[first]).await.unwrap();
    a.receive(1_000, burglary("4F39", 1_000), "sia")
        .await
        .unwrap();
    a.commit().await.unwrap();
    let id = store.alarms(AlarmState::Open).await.unwrap()[0].id;
    let logged = store.log(id).await.unwrap().len();

    // "a" stalls; its lease runs out and "b" takes the partition, with a newer token.
    assert!(
        store
            .acquire(partition, "b", 5_000, 11_000)
            .await
            .unwrap()
            .is_none(),
        "a lease is not taken before it expires"
    );
    let second = store
        .acquire(partition, "b", 7_000, 13_000)
        .await
        .unwrap()
        .unwrap();
    assert!(second.token > first.token);
    let mut b = Center::new(store.clone(), Settings::default());
    assert_eq!(b.adopt(&[second]).await.unwrap(), [id]);

    // "a" wakes up and acts on the alarm it still has in memory: nothing of it is stored.
    let take = |agent: &str| Input::Take {
        agent: agent.into(),
    };
    a.input(8_000, id, take("amy"), "agent:amy").unwrap();
    a.receive(8_000, burglary("4F39", 8_000), "sia")
        .await
        .unwrap();
    match a.commit().await {
        Err(CenterError::Store(StoreError::Fenced(p))) => assert_eq!(p, partition),
        other => panic!("a's write must be fenced off, got {other:?}"),
    }
    assert_eq!(store.log(id).await.unwrap().len(), logged);
    assert_eq!(
        store.signals("4F39").await.unwrap().len(),
        1,
        "not even the signal"
    );
    let held = a.reset();
    assert!(store.renew("a", &held, 20_000).await.unwrap().is_empty());

    // "b" goes on from the stored log.
    b.input(8_500, id, take("bob"), "agent:bob").unwrap();
    b.commit().await.unwrap();
    let log = store.log(id).await.unwrap();
    assert_eq!(log.len(), logged + 1);
    let alarm = watchpost_store::replay(&log).unwrap();
    assert_eq!(alarm.handler(), Some("bob"));
}

async fn a_signal_for_another_nodes_partition_goes_through_its_inbox(store: Db) {
    let partition = partition_of("4F39");
    let other = (partition + 1) % watchpost_store::PARTITIONS;
    let lease_a = store.acquire(other, "a", 1, 60_000).await.unwrap().unwrap();
    let lease_b = store
        .acquire(partition, "b", 1, 60_000)
        .await
        .unwrap()
        .unwrap();
    let mut a = Center::new(store.clone(), Settings::default());
    let mut b = Center::new(store.clone(), Settings::default());
    a.adopt(&[lease_a]).await.unwrap();
    b.adopt(&[lease_b]).await.unwrap();

    let received = a
        .receive(1_000, burglary("4F39", 1_000), "sia")
        .await
        .unwrap();
    assert!(received.forwarded && received.opened.is_empty());
    a.commit().await.unwrap();
    assert_eq!(
        store.signals("4F39").await.unwrap().len(),
        1,
        "stored at once"
    );
    assert!(store.alarms(AlarmState::All).await.unwrap().is_empty());

    assert!(store.inbox(&[other], 10).await.unwrap().is_empty());
    let items = store.inbox(&[partition], 10).await.unwrap();
    assert_eq!(items.len(), 1);
    for item in items {
        // Not a's to settle: left alone.
        a.settle(1_100, item.clone()).await.unwrap();
        b.settle(1_100, item).await.unwrap();
    }
    a.commit().await.unwrap();
    b.commit().await.unwrap();
    assert!(store.inbox(&[partition], 10).await.unwrap().is_empty());
    let alarms = store.alarms(AlarmState::Open).await.unwrap();
    assert_eq!(alarms.len(), 1);
    assert!(b.alarm(alarms[0].id).is_some() && a.alarm(alarms[0].id).is_none());
    assert_eq!(store.signals("4F39").await.unwrap().len(), 1, "stored once");
}

#[tokio::test]
async fn an_unknown_accounts_alarm_forwarded_to_its_driver_becomes_an_item_on_sqlite() {
    on_sqlite(an_unknown_accounts_alarm_forwarded_to_its_driver_becomes_an_item).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn an_unknown_accounts_alarm_forwarded_to_its_driver_becomes_an_item_on_postgres() {
    on_postgres(an_unknown_accounts_alarm_forwarded_to_its_driver_becomes_an_item).await;
}

/// The node that drives an unknown number's partition makes its item, when it routes the
/// signal another node stored and posted to it.
async fn an_unknown_accounts_alarm_forwarded_to_its_driver_becomes_an_item(store: Db) {
    let partition = partition_of("9999");
    let other = (partition + 1) % watchpost_store::PARTITIONS;
    let lease_a = store.acquire(other, "a", 1, 60_000).await.unwrap().unwrap();
    let lease_b = store
        .acquire(partition, "b", 1, 60_000)
        .await
        .unwrap()
        .unwrap();
    let mut a = Center::new(store.clone(), Settings::default());
    let mut b = Center::new(store.clone(), Settings::default());
    a.adopt(&[lease_a]).await.unwrap();
    b.adopt(&[lease_b]).await.unwrap();

    let received = a.receive(1_000, burglary("9999", 1_000), "sia").await;
    assert!(received.unwrap().forwarded);
    a.commit().await.unwrap();
    assert!(
        store.unknown_items(false).await.unwrap().is_empty(),
        "not a's to make"
    );
    for item in store.inbox(&[partition], 10).await.unwrap() {
        b.settle(1_100, item).await.unwrap();
    }
    assert_eq!(b.pending_unknown(), 1);
    b.commit().await.unwrap();
    let items = store.unknown_items(false).await.unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        (items[0].account.as_str(), items[0].kind),
        ("9999", AlarmKind::Burglary)
    );
    assert_eq!(store.signals("9999").await.unwrap().len(), 1, "stored once");
}
