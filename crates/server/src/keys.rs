//! Per-account DC-09 keys, held in memory for the receivers and refreshed from the store, so
//! accounts imported while the center runs are heard without a restart.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use watchpost_store::Store;
use watchpost_wire::Key;

#[derive(Clone, Default)]
pub struct Keys {
    by_account: Arc<RwLock<HashMap<String, Key>>>,
}

const REFRESH: Duration = Duration::from_secs(5);

impl Keys {
    pub async fn load<S: Store + ?Sized>(store: &S) -> Result<Keys, watchpost_store::StoreError> {
        let keys = Keys::default();
        keys.reload(store).await?;
        Ok(keys)
    }

    pub fn get(&self, account: &str) -> Option<Key> {
        self.by_account
            .read()
            .expect("key map lock")
            .get(account)
            .cloned()
    }

    async fn reload<S: Store + ?Sized>(
        &self,
        store: &S,
    ) -> Result<(), watchpost_store::StoreError> {
        let mut fresh = HashMap::new();
        for (account, hex) in store.dc09_keys().await? {
            match Key::from_hex(&hex) {
                Ok(key) => {
                    fresh.insert(account, key);
                }
                Err(e) => tracing::error!("account {account}: stored DC-09 key unusable: {e}"),
            }
        }
        *self.by_account.write().expect("key map lock") = fresh;
        Ok(())
    }

    /// Reloads the keys every few seconds, for as long as the center runs.
    pub fn refresh(&self, store: watchpost_store::Db) -> tokio::task::JoinHandle<()> {
        let keys = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(REFRESH).await;
                if let Err(e) = keys.reload(&*store).await {
                    tracing::warn!("DC-09 keys not refreshed: {e}");
                }
            }
        })
    }
}
