//! `put_accounts` with more accounts than one multi-row statement holds, in each store: every
//! account round-trips with its contacts and zones, a second batch replaces some (their old
//! contacts and zones gone) beside new ones, and a number given twice in one batch is written
//! as its last occurrence.

mod common;

use watchpost_core::Account;
use watchpost_core::account::{Contact, DeviceType, Zone};
use watchpost_store::Store;
use watchpost_store::testing::account;

/// Account `n` with `contacts` contacts and zones 1..=`zones`.
fn numbered(n: usize, contacts: usize, zones: u32) -> Account {
    Account {
        contacts: (0..contacts)
            .map(|c| Contact {
                name: format!("contact {c}"),
                phone: format!("+1555{:07}", n * 10 + c),
                phone2: None,
            })
            .collect(),
        zones: (1..=zones)
            .map(|zone| Zone {
                zone,
                device: DeviceType::Motion,
            })
            .collect(),
        ..account(&format!("{:06}", 100_000 + n))
    }
}

async fn bulk(store: &dyn Store) {
    const MANY: usize = 1_234;
    let first: Vec<Account> = (0..MANY).map(|n| numbered(n, 3, 2)).collect();
    store.put_accounts(&first).await.unwrap();
    assert_eq!(store.count_accounts().await.unwrap(), MANY as i64);
    for n in [0, 499, 500, 1_233] {
        let stored = store.account(&first[n].number).await.unwrap().unwrap();
        assert_eq!(stored, first[n], "account {n}");
    }

    // Replace every other one with one contact and no zones, add new ones, and give one
    // number twice: its last occurrence is what is stored.
    let mut second: Vec<Account> = (0..MANY)
        .step_by(2)
        .chain(MANY..MANY + 600)
        .map(|n| numbered(n, 1, 0))
        .collect();
    let mut last = numbered(2, 2, 5);
    last.address = "the last occurrence".into();
    second.push(last.clone());
    store.put_accounts(&second).await.unwrap();
    assert_eq!(store.count_accounts().await.unwrap(), (MANY + 600) as i64);
    assert_eq!(store.account(&last.number).await.unwrap().unwrap(), last);
    let replaced = store.account(&first[4].number).await.unwrap().unwrap();
    assert_eq!((replaced.contacts.len(), replaced.zones.len()), (1, 0));
    let kept = store.account(&first[5].number).await.unwrap().unwrap();
    assert_eq!(
        kept, first[5],
        "an account not in the second batch is untouched"
    );
    let new = &second[second.len() - 2];
    assert_eq!(new.number, format!("{}", 100_000 + MANY + 599));
    assert_eq!(&store.account(&new.number).await.unwrap().unwrap(), new);
    // One contact's number belongs to exactly the account it was written for.
    let phone = &first[7].contacts[2].phone;
    assert_eq!(
        store.accounts_with_phone(phone).await.unwrap(),
        [first[7].number.clone()]
    );
}

#[tokio::test]
async fn many_accounts_on_sqlite() {
    let (store, _dir) = common::sqlite().await;
    bulk(&store).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn many_accounts_on_postgres() {
    let (store, _db) = common::postgres().await;
    bulk(&store).await;
}
