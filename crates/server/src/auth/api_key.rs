//! Account-scoped API keys for IP devices and apps: `wp_` and 64 hex digits, shown once when
//! issued, kept as SHA-256. A key speaks for exactly one enrolled account.

use super::token::{is_api_key, new_api_key, sha256_hex};
use super::{Auth, AuthError};
use watchpost_core::Millis;
use watchpost_core::account_number::canonical;
use watchpost_store::ApiKeyRecord;

impl Auth {
    /// Makes a key for an enrolled account (its number in any case) and returns it: the only
    /// time it is ever seen.
    pub async fn issue_api_key(
        &self,
        account: &str,
        label: &str,
        now: Millis,
    ) -> Result<String, AuthError> {
        let account = &canonical(account).map_err(|reason| AuthError::Invalid {
            field: "account",
            reason: format!("{account:?} {reason}"),
        })?;
        if self.store.account(account).await?.is_none() {
            return Err(AuthError::NoSuchAccount(account.to_string()));
        }
        let key = new_api_key();
        self.store
            .put_api_key(&ApiKeyRecord {
                key_hash: sha256_hex(&key),
                account: account.to_string(),
                label: label.to_string(),
                created_at: now,
                last_used: None,
            })
            .await?;
        Ok(key)
    }

    /// The account a key speaks for; `None` for a key never issued (or not shaped like one).
    /// Records the use at `now`, at most once an hour per key (a write per signal would slow
    /// the intake down), for `keys list`.
    pub async fn account_for_key(
        &self,
        key: &str,
        now: Millis,
    ) -> Result<Option<String>, AuthError> {
        if !is_api_key(key) {
            return Ok(None);
        }
        let hash = sha256_hex(key);
        let account = self.store.api_key(&hash).await?;
        if account.is_some() && self.key_uses.due(&hash, now) {
            self.store.touch_api_key(&hash, now).await?;
        }
        Ok(account)
    }
}

/// When this node last wrote each key's use, so that it writes at most once an hour per key.
#[derive(Default)]
pub(super) struct KeyUses(std::sync::Mutex<std::collections::HashMap<String, Millis>>);

/// How often a key's use is written.
const USE_EVERY: Millis = 3_600_000;
/// Keys remembered at most; past that the memory starts again (a few extra writes).
const USES_KEPT: usize = 10_000;

impl KeyUses {
    /// Whether the use of `hash` at `now` should be written (and notes that it will be).
    fn due(&self, hash: &str, now: Millis) -> bool {
        let mut uses = self.0.lock().expect("key uses lock");
        if uses.get(hash).is_some_and(|at| now - at < USE_EVERY) {
            return false;
        }
        if uses.len() >= USES_KEPT {
            uses.clear();
        }
        uses.insert(hash.to_string(), now);
        true
    }
}

/// A key as `watchpost keys list` shows it: never the key, nor its whole hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// The first 12 hex digits of the key's SHA-256: enough to name it, useless to use it.
    pub id: String,
    pub account: String,
    pub label: String,
    pub created_at: Millis,
    /// When it was last used, to the hour; `None`: not yet.
    pub last_used: Option<Millis>,
}

/// The id `keys list` shows for `key`: the first 12 hex digits of its SHA-256.
pub fn key_id(key: &str) -> String {
    sha256_hex(key).chars().take(ID_DIGITS).collect()
}

/// How many hex digits of the hash name a key.
const ID_DIGITS: usize = 12;
/// The shortest id a revocation accepts.
const MIN_ID_DIGITS: usize = 8;

impl From<&ApiKeyRecord> for KeyInfo {
    fn from(k: &ApiKeyRecord) -> Self {
        KeyInfo {
            id: k.key_hash.chars().take(ID_DIGITS).collect(),
            account: k.account.clone(),
            label: k.label.clone(),
            created_at: k.created_at,
            last_used: k.last_used,
        }
    }
}

impl Auth {
    /// The keys of one account (its number in any case) or of all.
    pub async fn api_keys(&self, account: Option<&str>) -> Result<Vec<KeyInfo>, AuthError> {
        let account = match account {
            Some(a) => Some(canonical(a).map_err(|reason| AuthError::Invalid {
                field: "account",
                reason: format!("{a:?} {reason}"),
            })?),
            None => None,
        };
        let keys = self.store.api_keys(account.as_deref()).await?;
        Ok(keys.iter().map(KeyInfo::from).collect())
    }

    /// Revokes the one key whose id starts with `id` (at least 8 hex digits), and audits it
    /// as done by `actor`. Errors name the field: an id too short, matching no key or several.
    pub async fn revoke_api_key(
        &self,
        id: &str,
        actor: &str,
        now: Millis,
    ) -> Result<KeyInfo, AuthError> {
        let id = id.to_ascii_lowercase();
        let invalid = |reason: String| AuthError::Invalid {
            field: "id",
            reason,
        };
        if id.len() < MIN_ID_DIGITS || !id.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(invalid(format!(
                "{id:?} is not a key id (at least {MIN_ID_DIGITS} hex digits, as `keys list` shows)"
            )));
        }
        let keys = self.store.api_keys(None).await?;
        let matching: Vec<&ApiKeyRecord> = keys
            .iter()
            .filter(|k| k.key_hash.starts_with(&id))
            .collect();
        let key = match matching[..] {
            [key] => key,
            [] => return Err(invalid(format!("no key has the id {id}"))),
            _ => {
                return Err(invalid(format!(
                    "{id} names several keys: give more digits"
                )));
            }
        };
        self.store.delete_api_key(&key.key_hash).await?;
        let info = KeyInfo::from(key);
        self.audit(
            actor,
            "key.revoke",
            &info.id,
            &format!("account {} ({})", info.account, info.label),
            now,
        )
        .await?;
        Ok(info)
    }
}
