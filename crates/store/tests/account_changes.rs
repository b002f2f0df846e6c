//! The account-change feed and the bulk reads of a start (issue 16, items 2 and 3), in each
//! store: every write of an account adds a feed entry in its transaction, a reader picks up
//! exactly the entries after the last it saw, the feed is pruned by age, and open alarms'
//! logs and their accounts' dealers are read in one statement each.

mod common;

use watchpost_core::password::{HashCost, VerbalPassword};
use watchpost_store::{Store, testing::account};

async fn feed(store: &dyn Store) {
    assert_eq!(store.last_account_change().await.unwrap(), 0);
    let keyed = watchpost_core::Account {
        dc09_key: Some("00112233445566778899AABBCCDDEEFF".into()),
        supervision_ms: Some(60_000),
        ..account("1001")
    };
    store.put_accounts(&[keyed, account("1002")]).await.unwrap();
    let start = store.last_account_change().await.unwrap();
    let changes = store.account_changes(0, 100).await.unwrap();
    let accounts: Vec<&str> = changes.iter().map(|(_, a)| a.as_str()).collect();
    assert_eq!(accounts, ["1001", "1002"]);
    assert_eq!(changes.last().unwrap().0, start);
    assert_eq!(store.account_changes(0, 1).await.unwrap().len(), 1, "limit");

    store
        .set_dc09_keys(&[("1002".into(), "FFEEDDCCBBAA99887766554433221100".into())])
        .await
        .unwrap();
    let keys = store.dc09_keys().await.unwrap();
    assert!(
        keys.contains(&("1002".into(), "FFEEDDCCBBAA99887766554433221100".into())),
        "{keys:?}"
    );
    // A verbal password's hash is upgraded only over the hash it was checked against.
    let checked = store
        .account("1002")
        .await
        .unwrap()
        .unwrap()
        .verbal_password;
    let stronger = VerbalPassword::hash("blue falcon", HashCost::Fast);
    assert!(
        !store
            .upgrade_verbal_password("1002", &stronger, &stronger)
            .await
            .unwrap(),
        "the hash changed meanwhile: nothing written"
    );
    assert!(
        store
            .upgrade_verbal_password("1002", &checked, &stronger)
            .await
            .unwrap()
    );
    let upgraded = store.account("1002").await.unwrap().unwrap();
    assert_eq!(upgraded.verbal_password, stronger);
    assert_eq!(
        upgraded.dc09_key.as_deref(),
        Some("FFEEDDCCBBAA99887766554433221100"),
        "nothing else of the account changes"
    );
    assert!(
        !store
            .upgrade_verbal_password("9999", &checked, &stronger)
            .await
            .unwrap(),
        "no such account"
    );
    assert!(store.delete_account("1001").await.unwrap());
    assert!(!store.delete_account("1001").await.unwrap(), "gone already");
    let later: Vec<String> = store
        .account_changes(start, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    assert_eq!(
        later,
        ["1002", "1002", "1001"],
        "an upgrade that wrote nothing and a removal that removed nothing add none"
    );

    let mut settings = store
        .receiver_settings(&["1001".into(), "1002".into(), "9999".into()])
        .await
        .unwrap();
    settings.sort();
    assert_eq!(
        settings,
        [(
            "1002".to_string(),
            Some("FFEEDDCCBBAA99887766554433221100".to_string()),
            None
        )],
        "only enrolled accounts, with what the receivers hold"
    );

    // Pruned by age, in bounded steps; ids are never reused after.
    let last = store.last_account_change().await.unwrap();
    let future = watchpost_core::Millis::MAX;
    assert_eq!(store.forget_account_changes(future, 2).await.unwrap(), 2);
    assert_eq!(store.forget_account_changes(future, 100).await.unwrap(), 3);
    assert_eq!(store.forget_account_changes(future, 100).await.unwrap(), 0);
    store.put_account(&account("1003")).await.unwrap();
    let next = store.account_changes(last, 100).await.unwrap();
    assert_eq!(next.len(), 1);
    assert!(
        next[0].0 > last,
        "a new entry after an emptied feed is still after"
    );
}

async fn bulk_reads(store: &dyn Store) {
    store
        .put_dealer(&watchpost_store::Dealer {
            id: "D1".into(),
            name: "Acme".into(),
            created_at: 1,
        })
        .await
        .unwrap();
    let dealt = watchpost_core::Account {
        dealer: Some("D1".into()),
        ..account("5001")
    };
    store.put_accounts(&[dealt, account("4F39")]).await.unwrap();
    common::alarm_of(store, "5001", 1, 100, None).await;
    common::alarm_of(store, "4F39", 2, 200, None).await;
    let logs = store.logs(&[1, 2, 3]).await.unwrap();
    assert_eq!(logs.len(), 2, "an alarm without a log is missing");
    for id in [1, 2] {
        assert_eq!(logs[&id], store.log(id).await.unwrap(), "alarm {id}");
    }
    let dealers = store
        .account_dealers(&["5001".into(), "4F39".into(), "0000".into()])
        .await
        .unwrap();
    assert_eq!(dealers.len(), 1);
    assert_eq!(dealers["5001"], "D1");
}

#[tokio::test]
async fn the_feed_on_sqlite() {
    let (store, _dir) = common::sqlite().await;
    feed(&store).await;
    bulk_reads(&store).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn the_feed_on_postgres() {
    let (store, _database) = common::postgres().await;
    feed(&store).await;
    bulk_reads(&store).await;
}
