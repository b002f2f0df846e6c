//! Per-account DC-09 keys, held in memory for the receivers: only the keyed accounts, read
//! once at start, then kept current from the store's account-change feed
//! (`crate::account_feed`), so accounts enrolled or re-keyed while the center runs are heard
//! without a restart. A frame encrypted for an account with no key known yet makes one
//! (rate-limited) lookup in the store, so a key enrolled a moment ago works on the very next
//! frame. The store holds keys sealed (`crate::secrets`); they are unsealed into memory
//! only, at start once (`crate::secrets::seal_stored` opens them, [`Keys::opened`] keeps them).

use crate::secrets::{MasterKey, is_sealed};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use watchpost_store::{Db, Store, StoreError};
use watchpost_wire::Key;

/// A keyed account's key, with a digest of the stored (sealed) text it was opened from: a
/// full reload opens again only keys whose text changed, and keeps no copy of the text.
type Entry = (u64, Key);

#[derive(Clone, Default)]
pub struct Keys {
    by_account: Arc<RwLock<HashMap<Box<str>, Entry>>>,
    /// What the stored keys are sealed with.
    master: Option<Arc<MasterKey>>,
    /// Where a key not known yet is looked up; `None`: never (tests of the receivers alone).
    store: Option<Db>,
    misses: Arc<Misses>,
}

/// Lookups of accounts that had no key: bounded in rate and remembered for a moment, so a
/// flood of encrypted frames for unknown numbers costs the store little.
struct Misses {
    recent: Mutex<HashMap<Box<str>, Instant>>,
    rate: DefaultDirectRateLimiter,
}

impl Default for Misses {
    fn default() -> Self {
        Misses {
            recent: Mutex::new(HashMap::new()),
            rate: RateLimiter::direct(Quota::per_second(
                NonZeroU32::new(MISS_LOOKUPS_PER_SECOND).expect("non-zero"),
            )),
        }
    }
}

/// How many lookups of accounts with no key known the store gets at most per second.
const MISS_LOOKUPS_PER_SECOND: u32 = 50;
/// How long an account found without a key is not looked up again: by then the feed has
/// been read (`crate::account_feed::POLL`).
const MISS_KEPT: Duration = Duration::from_secs(2);
/// At most this many accounts found without a key are remembered.
const MISSES_MAX: usize = 10_000;

fn digest(stored: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    stored.hash(&mut hasher);
    hasher.finish()
}

impl Keys {
    /// The keys `crate::secrets::seal_stored` opened at start (`(account, stored text, key in
    /// clear as hex)`); keys not known yet are looked up in `store`, and a full reload opens
    /// with `master`. A start reads and unseals each key once. A key whose clear text is not
    /// a key is logged and left out, as [`Keys::reload`] does.
    pub fn opened(
        store: Db,
        master: Option<Arc<MasterKey>>,
        opened: Vec<(String, String, String)>,
    ) -> Keys {
        let mut table = HashMap::with_capacity(opened.len());
        for (account, stored, clear) in opened {
            match Key::from_hex(&clear) {
                Ok(key) => {
                    table.insert(account.into_boxed_str(), (digest(&stored), key));
                }
                Err(e) => tracing::error!(%account, "stored DC-09 key unusable: {e}"),
            }
        }
        Keys {
            by_account: Arc::new(RwLock::new(table)),
            master,
            store: Some(store),
            ..Keys::default()
        }
    }

    pub fn get(&self, account: &str) -> Option<Key> {
        self.by_account
            .read()
            .expect("key map lock")
            .get(account)
            .map(|(_, key)| key.clone())
    }

    /// How many accounts have a key here.
    pub fn count(&self) -> usize {
        self.by_account.read().expect("key map lock").len()
    }

    /// Reads every keyed account again (at start, and when the feed cannot say what changed).
    pub async fn reload<S: Store + ?Sized>(&self, store: &S) -> Result<(), StoreError> {
        let stored_keys = store.dc09_keys().await?;
        let mut fresh = HashMap::with_capacity(stored_keys.len());
        for (account, stored) in stored_keys {
            let sum = digest(&stored);
            // An unchanged stored text is not opened again: a reload costs a comparison.
            let known = self
                .by_account
                .read()
                .expect("key map lock")
                .get(account.as_str())
                .filter(|(known, _)| *known == sum)
                .map(|(_, key)| key.clone());
            if let Some(key) = known.or_else(|| self.open(&account, &stored)) {
                fresh.insert(account.into_boxed_str(), (sum, key));
            }
        }
        fresh.shrink_to_fit();
        *self.by_account.write().expect("key map lock") = fresh;
        Ok(())
    }

    /// Takes `stored` (sealed, or `None`: no key) as `account`'s key from now on.
    pub fn apply(&self, account: &str, stored: Option<&str>) {
        let entry = stored.and_then(|s| Some((digest(s), self.open(account, s)?)));
        let mut by_account = self.by_account.write().expect("key map lock");
        match entry {
            Some(entry) => {
                by_account.insert(account.into(), entry);
            }
            None => {
                by_account.remove(account);
            }
        }
    }

    /// For a frame encrypted for `account`, which has no key here: asks the store once for
    /// its key (enrolled since the feed was last read). True when it has one now.
    pub async fn look_up(&self, account: &str) -> bool {
        let Some(store) = &self.store else {
            return false;
        };
        if self.get(account).is_some() {
            return true;
        }
        if !self.may_look_up(account) {
            return false;
        }
        match store.receiver_settings(&[account.to_string()]).await {
            Ok(found) => {
                let stored = found.into_iter().next().and_then(|(_, key, _)| key);
                self.apply(account, stored.as_deref());
            }
            Err(e) => tracing::warn!(%account, "DC-09 key not looked up: {e}"),
        }
        self.get(account).is_some()
    }

    /// Whether `account` may be looked up now: not looked up a moment ago, within the rate.
    fn may_look_up(&self, account: &str) -> bool {
        let now = Instant::now();
        let mut recent = self.misses.recent.lock().expect("misses lock");
        if recent
            .get(account)
            .is_some_and(|at| now.duration_since(*at) < MISS_KEPT)
        {
            return false;
        }
        if recent.len() >= MISSES_MAX {
            recent.retain(|_, at| now.duration_since(*at) < MISS_KEPT);
            if recent.len() >= MISSES_MAX {
                return false;
            }
        }
        if self.misses.rate.check().is_err() {
            return false;
        }
        recent.insert(account.into(), now);
        true
    }

    /// The key `stored` holds for `account`, unsealed; `None` (logged) when it is unusable.
    fn open(&self, account: &str, stored: &str) -> Option<Key> {
        // In clear only if written by an older center since this one started: still heard.
        let hex = match (&self.master, is_sealed(stored)) {
            (_, false) => Ok(stored.to_string()),
            (Some(master), true) => master.unseal(account, stored).map_err(|e| e.to_string()),
            (None, true) => Err("sealed, and this center has no master key".to_string()),
        };
        match hex.and_then(|hex| Key::from_hex(&hex).map_err(|e| e.to_string())) {
            Ok(key) => Some(key),
            Err(e) => {
                tracing::error!(%account, "stored DC-09 key unusable: {e}");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::seal_stored;
    use watchpost_store::SqliteStore;

    const KEY_HEX: &str = "000102030405060708090A0B0C0D0E0F";

    /// The table a start builds from what `seal_stored` opened is the one a full read makes:
    /// a later full read finds every key unchanged and opens none again — it could not,
    /// here, without the master key.
    #[tokio::test]
    async fn keys_opened_at_start_are_what_a_full_read_keeps_without_opening_again() {
        let store: Db = Arc::new(SqliteStore::memory().await.unwrap());
        let master = MasterKey::from_bytes([7; 32]);
        let sealed = watchpost_store::testing::account("5001");
        let clear = watchpost_store::testing::account("5002");
        store
            .put_accounts(&[
                watchpost_core::Account {
                    dc09_key: Some(master.seal("5001", KEY_HEX)),
                    ..sealed
                },
                watchpost_core::Account {
                    dc09_key: Some(KEY_HEX.into()),
                    ..clear
                },
            ])
            .await
            .unwrap();
        let found = seal_stored(&*store, Some(&master)).await.unwrap();
        assert_eq!(found.sealed, 1, "the key in clear is sealed");
        let keys = Keys::opened(store.clone(), None, found.opened);
        let expected = Key::from_hex(KEY_HEX).unwrap();
        assert_eq!(keys.count(), 2);
        for account in ["5001", "5002"] {
            assert!(keys.get(account) == Some(expected.clone()), "{account}");
        }
        keys.reload(&*store).await.unwrap();
        assert_eq!(
            keys.count(),
            2,
            "a full read keeps the keys it need not open"
        );
    }
}
