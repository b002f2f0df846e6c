//! Retention in each store: old signals go unless their account has an open alarm, closed
//! alarms go with their log once their recordings are gone, open ones never, resolved
//! unknown-account items go, open ones stay; each delete takes a bounded batch and counts only
//! what it removed.

mod common;

use common::alarm_of;
use watchpost_core::router::Event;
use watchpost_core::{AlarmKind, SignalClass};
use watchpost_store::{
    Batch, Outcome, Recording, Resolution, SignalRecord, Store, StoreError, UnknownSignal,
};

fn signal(account: &str, at: i64) -> SignalRecord {
    SignalRecord {
        account: account.into(),
        received_at: at,
        source: "sia".into(),
        event: Event::Panel {
            class: SignalClass::Alarm(AlarmKind::Burglary),
            code: "BA".into(),
            zone: Some(1),
        },
        raw: format!("#{account}|NBA1 at {at}"),
    }
}

async fn retention(store: &dyn Store) {
    // 4F39 has an open alarm (2) opened long ago; 5000 has none open.
    alarm_of(store, "4F39", 1, 100, Some(1_000)).await;
    alarm_of(store, "4F39", 2, 200, None).await;
    alarm_of(store, "5000", 3, 300, Some(20_000)).await;
    store
        .put_recording(&Recording {
            alarm: 1,
            call: 0,
            started_at: 500,
            duration_ms: 1_000,
            bytes: 44,
            file: "1/0.wav".into(),
        })
        .await
        .unwrap();
    let signals = [
        signal("4F39", 150),
        signal("5000", 150),
        signal("5000", 160),
        signal("5000", 170),
        signal("5000", 30_000),
    ];
    let unknown = |at| UnknownSignal {
        signal: signal(&format!("99{at}"), at),
        kind: AlarmKind::Burglary,
        line: None,
    };
    store
        .write(&Batch {
            signals: signals.to_vec(),
            unknown: vec![unknown(40), unknown(50)],
            ..Batch::default()
        })
        .await
        .unwrap();

    // Signals: a batch at most, oldest first; 4F39's stay while its alarm is open.
    assert_eq!(store.expire_signals(10_000, 2).await.unwrap(), 2);
    assert_eq!(store.expire_signals(10_000, 500).await.unwrap(), 1);
    assert_eq!(store.expire_signals(10_000, 500).await.unwrap(), 0);
    assert_eq!(store.signals("4F39").await.unwrap(), [signals[0].clone()]);
    assert_eq!(store.signals("5000").await.unwrap(), [signals[4].clone()]);

    // Alarm 1 lists a recording: it stays until the recording (file, then row) is gone.
    assert_eq!(store.expire_alarms(10_000, 500).await.unwrap(), 0);
    assert!(store.delete_recording(1, 0).await.unwrap());
    assert_eq!(store.expire_alarms(10_000, 500).await.unwrap(), 1);
    assert!(matches!(
        store.log(1).await,
        Err(StoreError::NoSuchAlarm(1))
    ));
    // Alarm 2 is open and alarm 3 closed after the cut: both stay, however old.
    assert_eq!(store.expire_alarms(10_000, 500).await.unwrap(), 0);
    assert_eq!(store.log(2).await.unwrap().len(), 1);
    assert_eq!(store.log(3).await.unwrap().len(), 1);

    // Once alarm 2 is closed, 4F39's old signal goes too.
    store
        .write(&Batch {
            closed: vec![(2, 5_000, watchpost_core::Disposition::OnTest)],
            ..Batch::default()
        })
        .await
        .unwrap();
    assert_eq!(store.expire_signals(10_000, 500).await.unwrap(), 1);
    assert_eq!(store.expire_alarms(10_000, 500).await.unwrap(), 1);

    // Unknown-account items: the resolved one goes, the open one stays.
    let items = store.unknown_items(true).await.unwrap();
    assert_eq!(items.len(), 2);
    let resolution = Resolution {
        outcome: Outcome::Noise,
        account: None,
        reason: Some("installer".into()),
        by: "agent:amy".into(),
        at: 600,
    };
    assert!(
        store
            .resolve_unknown(items[0].id, &resolution)
            .await
            .unwrap()
    );
    assert_eq!(store.expire_unknown_items(500, 500).await.unwrap(), 0);
    assert_eq!(store.expire_unknown_items(10_000, 500).await.unwrap(), 1);
    let left = store.unknown_items(true).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, items[1].id);
}

#[tokio::test]
async fn retention_on_sqlite() {
    let (store, _dir) = common::sqlite().await;
    retention(&store).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn retention_on_postgres() {
    let (store, _db) = common::postgres().await;
    retention(&store).await;
}
