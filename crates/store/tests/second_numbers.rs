//! Second numbers and the premises phone (migration 0019) in each store: they round-trip with
//! the account, are replaced with it, are absent for accounts without them, and a call from
//! any of them finds the account.

mod common;

use watchpost_store::Store;
use watchpost_store::testing::account;

async fn second_numbers(store: &dyn Store) {
    let mut both = account("4F39");
    both.contacts[0].phone2 = Some("+15555550111".into());
    both.premises_phone = Some("+15555550100".into());
    let plain = account("5A5B");
    store
        .put_accounts(&[both.clone(), plain.clone()])
        .await
        .unwrap();
    assert_eq!(store.account("4F39").await.unwrap().unwrap(), both);
    assert_eq!(store.account("5A5B").await.unwrap().unwrap(), plain);
    assert_eq!(
        store.accounts_with_phone("+15555550111").await.unwrap(),
        ["4F39"],
        "a contact's second number"
    );
    assert_eq!(
        store.accounts_with_phone("+15555550100").await.unwrap(),
        ["4F39"],
        "the premises phone"
    );
    assert_eq!(
        store.accounts_with_phone("+15555550101").await.unwrap(),
        ["4F39", "5A5B"],
        "first numbers as before, each account once"
    );
    let mut replaced = both.clone();
    replaced.contacts[0].phone2 = None;
    replaced.premises_phone = None;
    store.put_account(&replaced).await.unwrap();
    assert_eq!(store.account("4F39").await.unwrap().unwrap(), replaced);
    assert!(
        store
            .accounts_with_phone("+15555550100")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn second_numbers_on_sqlite() {
    let (store, _dir) = common::sqlite().await;
    second_numbers(&store).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn second_numbers_on_postgres() {
    let (store, _db) = common::postgres().await;
    second_numbers(&store).await;
}
