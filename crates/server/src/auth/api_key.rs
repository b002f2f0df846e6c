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
            })
            .await?;
        Ok(key)
    }

    /// The account a key speaks for; `None` for a key never issued (or not shaped like one).
    pub async fn account_for_key(&self, key: &str) -> Result<Option<String>, AuthError> {
        if !is_api_key(key) {
            return Ok(None);
        }
        Ok(self.store.api_key(&sha256_hex(key)).await?)
    }
}
