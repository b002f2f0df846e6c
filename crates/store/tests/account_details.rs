//! Account details, search and account events in each store: details round-trip with the
//! account (and are replaced with it), search matches number, address and contact names without
//! wildcards, and events come newest first.

mod common;

use watchpost_core::Agency;
use watchpost_core::details::{AccountDetails, AgencyContact, ZoneName};
use watchpost_store::{AccountEvent, Store};

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

    for (at, what) in [(1_000, "on test"), (2_000, "test mode ended")] {
        let event = AccountEvent {
            account: "4F39".into(),
            at,
            actor: "agent:amy".into(),
            what: what.into(),
        };
        store.log_account_event(&event).await.unwrap();
    }
    let events = store.account_events("4F39", 10).await.unwrap();
    let whats: Vec<&str> = events.iter().map(|e| e.what.as_str()).collect();
    assert_eq!(whats, ["test mode ended", "on test"]);
    assert!(store.account_events("5A5B", 10).await.unwrap().is_empty());
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
