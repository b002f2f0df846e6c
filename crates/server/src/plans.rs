//! The center's plans as the store holds them (docs/plans.md, "Where a plan applies"): the
//! latest version of each set, applied where the assignments say, and the plan file given at
//! start (`alarms.plans`), which is the center's default ahead of a stored one. Every node
//! polls the store's plan stamp and hands a changed book to its runtime, so a set loaded or
//! assigned with `watchpost plans` reaches every node within `POLL`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use watchpost_core::plan_book::PlanBook;
use watchpost_core::plan_file::PlanSet;
use watchpost_store::{Db, PlanScope, StoreError};

/// How often each node looks for changed plans.
pub const POLL: Duration = Duration::from_secs(2);

/// The book from the store, with `file_default` (from `alarms.plans`) as the center's default
/// when given. A stored version that no longer reads (it was checked when loaded, so only a
/// newer program's format could do that) is left out and logged: its scopes fall back.
pub async fn load(store: &Db, file_default: Option<&PlanSet>) -> Result<PlanBook, StoreError> {
    let mut sets = BTreeMap::new();
    for version in store.latest_plans().await? {
        match PlanSet::parse(&version.text) {
            // The store numbers versions; the file's own `version` is only what it said.
            Ok(set) => {
                let set = PlanSet {
                    version: version.version,
                    ..set
                };
                sets.insert(version.name.clone(), Arc::new(set));
            }
            Err(e) => tracing::error!(
                "plan set {} v{} does not read, left out: {e}",
                version.name,
                version.version
            ),
        }
    }
    let mut book = PlanBook::default();
    for (scope, name) in store.plan_assignments().await? {
        let Some(set) = sets.get(&name) else {
            tracing::warn!("{scope} is assigned plan set {name:?}, which is not loaded");
            continue;
        };
        match scope {
            PlanScope::Center => book.set_center(set.clone()),
            PlanScope::Dealer(id) => book.set_dealer(&id, set.clone()),
            PlanScope::Account(number) => book.set_account(&number, set.clone()),
        }
    }
    if let Some(set) = file_default {
        book.set_center(Arc::new(set.clone()));
    }
    Ok(book)
}

/// Reloads the book whenever the store's plan stamp moves, until `stop`.
pub async fn follow(
    store: Db,
    file_default: Option<PlanSet>,
    book: watch::Sender<PlanBook>,
    mut stop: watch::Receiver<bool>,
) {
    let mut seen = store.plans_stamp().await.ok();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = stop.changed() => return,
        }
        let stamp = match store.plans_stamp().await {
            Ok(stamp) => stamp,
            Err(e) => {
                tracing::warn!("plans: cannot read the stamp: {e}");
                continue;
            }
        };
        if seen == Some(stamp) {
            continue;
        }
        match load(&store, file_default.as_ref()).await {
            Ok(loaded) => {
                seen = Some(stamp);
                book.send_if_modified(|current| {
                    let changed = *current != loaded;
                    *current = loaded;
                    changed
                });
            }
            Err(e) => tracing::warn!("plans: cannot reload: {e}"),
        }
    }
}
