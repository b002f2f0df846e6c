//! Unknown-account items in each store: written with their batch, later signals from the same
//! number join the open item (the most urgent kind kept), and an item is resolved once.

mod common;

use watchpost_core::router::Event;
use watchpost_core::{AlarmKind, SignalClass};
use watchpost_store::{Batch, Outcome, Resolution, SignalRecord, Store, UnknownSignal};

fn unknown(account: &str, at: i64, kind: AlarmKind, code: &str) -> UnknownSignal {
    UnknownSignal {
        signal: SignalRecord {
            account: account.into(),
            received_at: at,
            source: "sia".into(),
            event: Event::Panel {
                class: SignalClass::Alarm(kind),
                code: code.into(),
                zone: Some(3),
            },
            raw: format!("#{account}|Nri1/{code}003"),
        },
        kind,
        line: Some("R1 L0".into()),
    }
}

async fn write(store: &dyn Store, items: Vec<UnknownSignal>) {
    let batch = Batch {
        signals: items.iter().map(|u| u.signal.clone()).collect(),
        unknown: items,
        ..Batch::default()
    };
    store.write(&batch).await.unwrap();
}

async fn items_join_and_resolve_once(store: &dyn Store) {
    write(
        store,
        vec![
            unknown("9999", 1_000, AlarmKind::Burglary, "BA"),
            unknown("9999", 2_000, AlarmKind::Fire, "FA"),
            unknown("9998", 2_500, AlarmKind::Burglary, "BA"),
        ],
    )
    .await;
    write(
        store,
        vec![unknown("9999", 3_000, AlarmKind::Burglary, "BA")],
    )
    .await;
    let open = store.unknown_items(false).await.unwrap();
    assert_eq!(open.len(), 2, "{open:?}");
    let first = &open[0];
    assert_eq!((first.account.as_str(), first.count), ("9999", 3));
    assert_eq!((first.received_at, first.last_at), (1_000, 3_000));
    assert_eq!(first.kind, AlarmKind::Fire, "the most urgent kind is kept");
    assert_eq!(first.priority, 1);
    assert_eq!(first.raw, "#9999|Nri1/BA003", "the latest raw event");
    assert_eq!(first.line.as_deref(), Some("R1 L0"));
    assert_eq!(store.signals("9999").await.unwrap().len(), 3);

    let noise = Resolution {
        outcome: Outcome::Noise,
        account: None,
        reason: Some("installer".into()),
        by: "agent:amy".into(),
        at: 4_000,
    };
    assert!(store.resolve_unknown(first.id, &noise).await.unwrap());
    assert!(
        !store.resolve_unknown(first.id, &noise).await.unwrap(),
        "once"
    );
    assert!(!store.resolve_unknown(999, &noise).await.unwrap());
    let resolved = store.unknown_item(first.id).await.unwrap().unwrap();
    assert_eq!(resolved.resolution, Some(noise));
    assert_eq!(store.unknown_items(false).await.unwrap().len(), 1);
    assert_eq!(store.unknown_items(true).await.unwrap().len(), 2);

    // A resolved item is not joined: the number's next alarm makes a new one.
    write(store, vec![unknown("9999", 5_000, AlarmKind::Panic, "PA")]).await;
    let open = store.unknown_items(false).await.unwrap();
    assert_eq!(open.len(), 2);
    assert!(open.iter().any(|i| i.account == "9999" && i.count == 1));
}

#[tokio::test]
async fn items_join_and_resolve_once_on_sqlite() {
    let (store, _dir) = common::sqlite().await;
    items_join_and_resolve_once(&store).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn items_join_and_resolve_once_on_postgres() {
    let (store, _db) = common::postgres().await;
    items_join_and_resolve_once(&store).await;
}
