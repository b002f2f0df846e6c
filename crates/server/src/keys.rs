//! Per-account DC-09 keys, held in memory for the receivers and refreshed from the store, so
//! accounts imported while the center runs are heard without a restart. The store holds them
//! sealed (`crate::secrets`); they are unsealed here, into memory only.

use crate::secrets::{MasterKey, is_sealed};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use watchpost_store::Store;
use watchpost_wire::Key;

#[derive(Clone, Default)]
pub struct Keys {
    /// Each account's key, with the stored (sealed) text it was opened from.
    by_account: Arc<RwLock<HashMap<String, (String, Key)>>>,
    /// What the stored keys are sealed with.
    master: Option<Arc<MasterKey>>,
}

const REFRESH: Duration = Duration::from_secs(5);

impl Keys {
    /// The keys in `store`, unsealed with `master`.
    pub async fn load<S: Store + ?Sized>(
        store: &S,
        master: Option<Arc<MasterKey>>,
    ) -> Result<Keys, watchpost_store::StoreError> {
        let keys = Keys {
            by_account: Default::default(),
            master,
        };
        keys.reload(store).await?;
        Ok(keys)
    }

    pub fn get(&self, account: &str) -> Option<Key> {
        self.by_account
            .read()
            .expect("key map lock")
            .get(account)
            .map(|(_, key)| key.clone())
    }

    async fn reload<S: Store + ?Sized>(
        &self,
        store: &S,
    ) -> Result<(), watchpost_store::StoreError> {
        let stored_keys = store.dc09_keys().await?;
        let mut fresh = HashMap::with_capacity(stored_keys.len());
        for (account, stored) in stored_keys {
            // An unchanged stored text is not opened again: a refresh costs a comparison.
            let known = self
                .by_account
                .read()
                .expect("key map lock")
                .get(&account)
                .filter(|(text, _)| *text == stored)
                .map(|(_, key)| key.clone());
            if let Some(key) = known {
                fresh.insert(account, (stored, key));
                continue;
            }
            // In clear only if written by an older center since this one started: still heard.
            let hex = match (&self.master, is_sealed(&stored)) {
                (_, false) => Ok(stored.clone()),
                (Some(master), true) => master.unseal(&account, &stored).map_err(|e| e.to_string()),
                (None, true) => Err("sealed, and this center has no master key".to_string()),
            };
            let hex = match hex {
                Ok(hex) => hex,
                Err(e) => {
                    tracing::error!(%account, "stored DC-09 key unusable: {e}");
                    continue;
                }
            };
            match Key::from_hex(&hex) {
                Ok(key) => {
                    fresh.insert(account, (stored, key));
                }
                Err(e) => tracing::error!(%account, "stored DC-09 key unusable: {e}"),
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
