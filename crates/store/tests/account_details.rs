//! Account details, search and account events in each store: details round-trip with the
//! account (and are replaced with it), search matches number, address and contact names without
//! wildcards, and events come newest first.

mod common;

use watchpost_core::Agency;
use watchpost_core::details::{AccountDetails, AgencyContact, ZoneName};
use watchpost_core::router::{Event, open_spec};
use watchpost_core::{AlarmKind, Settings, SignalClass};
use watchpost_store::{AccountEvent, Batch, SignalRecord, Store};

/// Three burglary signals for 4F39 at 1, 2 and 3 s, and alarms 1 and 2 opened at 1 and 3 s
/// (and one of 5A5B).
async fn history(store: &dyn Store) {
    let event = Event::Panel {
        class: SignalClass::Alarm(AlarmKind::Burglary),
        code: "BA".into(),
        zone: Some(3),
    };
    let signal = |at: i64| SignalRecord {
        account: "4F39".into(),
        received_at: at,
        source: "sia".into(),
        event: event.clone(),
        raw: format!("#4F39|Nri1/BA003 at {at}"),
    };
    let spec = |number: &str, at: i64| {
        let account = watchpost_store::testing::account(number);
        open_spec(
            &account,
            AlarmKind::Burglary,
            &event,
            at,
            &Settings::default(),
        )
    };
    let batch = Batch {
        signals: vec![signal(1_000), signal(2_000), signal(3_000)],
        opened: vec![
            (1, spec("4F39", 1_000)),
            (2, spec("4F39", 3_000)),
            (3, spec("5A5B", 4_000)),
        ],
        ..Batch::default()
    };
    store.write(&batch).await.unwrap();
    let alarms = store.recent_alarms("4F39", 10).await.unwrap();
    let ids: Vec<i64> = alarms.iter().map(|a| a.id).collect();
    assert_eq!(ids, [2, 1], "newest first, this account's only");
    assert_eq!(store.recent_alarms("4F39", 1).await.unwrap().len(), 1);
    let signals = store.recent_signals("4F39", 2).await.unwrap();
    let times: Vec<i64> = signals.iter().map(|s| s.received_at).collect();
    assert_eq!(times, [3_000, 2_000]);
}

async fn details_search_and_events(store: &dyn Store) {
    let mut account = watchpost_store::testing::account("4F39");
    account.details = AccountDetails {
        zone_names: vec![ZoneName {
            zone: 3,
            name: "back door".into(),
            location: "ground floor rear".into(),
        }],
        instructions: "Dog in the yard".into(),
        notes: String::new(),
        agencies: vec![AgencyContact {
            agency: Agency::Fire,
            name: "Springfield FD".into(),
            phone: "+12175550198".into(),
            permit: None,
        }],
    };
    store.put_account(&account).await.unwrap();
    store
        .put_account(&watchpost_store::testing::account("5A5B"))
        .await
        .unwrap();
    assert_eq!(store.account("4F39").await.unwrap().unwrap(), account);
    assert!(
        store
            .account("5A5B")
            .await
            .unwrap()
            .unwrap()
            .details
            .is_empty()
    );
    account.details.instructions = "No dog any more".into();
    store
        .put_accounts(std::slice::from_ref(&account))
        .await
        .unwrap();
    let read = store.account("4F39").await.unwrap().unwrap();
    assert_eq!(read.details.instructions, "No dog any more");

    assert_eq!(store.search_accounts("4f", 10).await.unwrap(), ["4F39"]);
    assert_eq!(
        store.search_accounts("ELM", 10).await.unwrap(),
        ["4F39", "5A5B"]
    );
    assert_eq!(store.search_accounts("ann", 1).await.unwrap(), ["4F39"]);
    assert!(store.search_accounts("%", 10).await.unwrap().is_empty());
    assert!(store.search_accounts("_", 10).await.unwrap().is_empty());

    for (at, what, until) in [
        (1_000, "on test", Some(90_000)),
        (2_000, "test mode ended", None),
    ] {
        let event = AccountEvent {
            account: "4F39".into(),
            at,
            actor: "agent:amy".into(),
            what: what.into(),
        };
        let mut before = store.account("4F39").await.unwrap().unwrap();
        assert!(store.set_test_until(&event, until).await.unwrap());
        let after = store.account("4F39").await.unwrap().unwrap();
        before.test_until = until;
        assert_eq!(after, before, "only test_until changes");
    }
    let nobody = AccountEvent {
        account: "0000".into(),
        at: 3_000,
        actor: "agent:amy".into(),
        what: "on test".into(),
    };
    assert!(!store.set_test_until(&nobody, Some(1)).await.unwrap());
    let events = store.account_events("4F39", 10).await.unwrap();
    let whats: Vec<&str> = events.iter().map(|e| e.what.as_str()).collect();
    assert_eq!(whats, ["test mode ended", "on test"]);
    assert!(store.account_events("5A5B", 10).await.unwrap().is_empty());
    history(store).await;
}

#[tokio::test]
async fn details_search_and_events_on_sqlite() {
    let (store, _dir) = common::sqlite().await;
    details_search_and_events(&store).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn details_search_and_events_on_postgres() {
    let (store, _db) = common::postgres().await;
    details_search_and_events(&store).await;
}
