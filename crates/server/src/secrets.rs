//! DC-09 keys sealed at rest (issue 13, item 11). The database holds each panel's AES key only
//! as `sealed:v1:<key id>:<base64 of nonce and ciphertext>`: AES-256-GCM under the center's
//! master key, a random 96-bit nonce per value, the account number as associated data (a
//! sealed key copied onto another account does not open). The master key (32 bytes) comes from
//! a file or the environment, never from the database; the store never sees it. Keys are
//! unsealed only into memory (`crate::keys`). README, "Secrets".

use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::{AeadCore, Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use thiserror::Error;
use watchpost_core::Account;
use watchpost_store::{Database, Store, StoreError};

/// What every sealed value starts with.
pub const PREFIX: &str = "sealed:v1:";

/// The environment variable that may hold the master key (64 hex digits or base64).
pub const MASTER_KEY_ENV: &str = "WATCHPOST_MASTER_KEY";

/// The AES-GCM nonce, 12 bytes.
const NONCE_BYTES: usize = 12;

/// The center's master key: 32 bytes, and the short id sealed values name it by.
#[derive(Clone)]
pub struct MasterKey {
    key: [u8; 32],
    id: String,
}

impl std::fmt::Debug for MasterKey {
    /// Only the id: the key never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.id)
    }
}

/// Why a sealed value cannot be opened, or a key cannot be sealed.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SealError {
    #[error("the DC-09 key is stored in clear, not sealed")]
    NotSealed,
    #[error(
        "the DC-09 key is sealed under master key {found}, but the master key given is {ours} \
         (a rotation not finished, or the wrong key file)"
    )]
    OtherKey { found: String, ours: String },
    #[error("the sealed DC-09 key is damaged: {0}")]
    Damaged(&'static str),
    #[error(
        "the sealed DC-09 key does not open under master key {0}: altered, or sealed for \
         another account"
    )]
    Forged(String),
}

impl MasterKey {
    /// Reads a master key written as 64 hex digits or as base64 of 32 bytes (surrounding
    /// white space ignored). The error says what was wrong, never the text.
    pub fn parse(text: &str) -> Result<MasterKey, String> {
        let text = text.trim();
        // Base64 of 32 bytes ends in `=`: a text of hex digits only is hex.
        let bytes = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text).map_err(|e| e.to_string())?
        } else {
            BASE64.decode(text).map_err(|_| {
                "must be 32 bytes written as 64 hex digits or as base64 (e.g. the output of \
                 `openssl rand -hex 32`)"
                    .to_string()
            })?
        };
        let key: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            format!(
                "is {} bytes; a master key is 32 (64 hex digits, e.g. `openssl rand -hex 32`)",
                b.len()
            )
        })?;
        Ok(MasterKey::from_bytes(key))
    }

    /// A master key of these bytes.
    pub fn from_bytes(key: [u8; 32]) -> MasterKey {
        // The id names the key without revealing it: a hash of it under a fixed label.
        let digest = Sha256::new()
            .chain_update(b"watchpost master key id\0")
            .chain_update(key)
            .finalize();
        MasterKey {
            key,
            id: hex::encode(&digest[..4]),
        }
    }

    /// Reads the master key from the file at `path` (`what` names the setting in errors).
    pub fn from_file(path: &std::path::Path, what: &str) -> Result<MasterKey, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{what}: cannot read {}: {e}", path.display()))?;
        MasterKey::parse(&text).map_err(|e| format!("{what}: the key in {}: {e}", path.display()))
    }

    /// The key's id: 8 hex digits, as sealed values name it.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(&self.key.into())
    }

    /// Seals `clear` (a DC-09 key as hex) for `account`.
    pub fn seal(&self, account: &str, clear: &str) -> String {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: clear.as_bytes(),
                    aad: account.as_bytes(),
                },
            )
            .expect("AES-GCM seals any key of this size");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{PREFIX}{}:{}", self.id, BASE64.encode(bytes))
    }

    /// Opens a value `seal` made for `account`.
    pub fn unseal(&self, account: &str, value: &str) -> Result<String, SealError> {
        let rest = value.strip_prefix(PREFIX).ok_or(SealError::NotSealed)?;
        let (id, body) = rest
            .split_once(':')
            .ok_or(SealError::Damaged("no key id"))?;
        if id != self.id {
            return Err(SealError::OtherKey {
                found: id.to_string(),
                ours: self.id.clone(),
            });
        }
        let bytes = BASE64
            .decode(body)
            .map_err(|_| SealError::Damaged("not base64"))?;
        if bytes.len() <= NONCE_BYTES {
            return Err(SealError::Damaged("too short"));
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let clear = self
            .cipher()
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: account.as_bytes(),
                },
            )
            .map_err(|_| SealError::Forged(self.id.clone()))?;
        String::from_utf8(clear).map_err(|_| SealError::Damaged("not text"))
    }
}

/// Whether a stored key is sealed (by any master key).
pub fn is_sealed(value: &str) -> bool {
    value.starts_with(PREFIX)
}

/// The `[secrets]` settings the server runs with.
#[derive(Debug, Clone, Default)]
pub struct SecretsConfig {
    /// The master key DC-09 keys are sealed with; `None`: no keyed account may be enrolled,
    /// and the center does not start while one is.
    pub master_key: Option<Arc<MasterKey>>,
}

/// Seals the account's DC-09 key before it is stored (one already sealed is kept). Without a
/// master key, a keyed account is refused: the error is `"<field>: <reason>"`, `field` being
/// the setting that gave the key (e.g. `account.dc09_key_hex`).
pub fn seal_account(
    master: Option<&MasterKey>,
    account: &mut Account,
    field: &str,
) -> Result<(), String> {
    let Some(clear) = account.dc09_key.as_deref().filter(|k| !is_sealed(k)) else {
        return Ok(());
    };
    let Some(master) = master else {
        return Err(format!(
            "{field}: this center has no master key to seal DC-09 keys with, so it cannot keep \
             one; set [secrets] master_key_file or {MASTER_KEY_ENV} (README, \"Secrets\")"
        ));
    };
    account.dc09_key = Some(master.seal(&account.number, clear));
    Ok(())
}

/// Why the stored keys and the master key do not go together.
#[derive(Debug, Error)]
pub enum SecretsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "accounts with a DC-09 key: {0} (e.g. {1}), but no master key is set: give one in \
         [secrets] master_key_file or {MASTER_KEY_ENV} (32 bytes as 64 hex digits; README, \
         \"Secrets\")"
    )]
    NoMasterKey(usize, String),
    #[error("account {0}: {1}")]
    Unsealable(String, SealError),
    /// The verbal-password pepper does not open under the old key (`crate::pepper`).
    #[error("{0}")]
    Pepper(String),
}

/// What [`seal_stored`] found: how many keys it sealed, and every stored key opened, as
/// `(account, stored text, key in clear as hex)`: the receivers' key table is built from
/// them (`crate::keys::Keys::opened`), so a start reads and unseals each key once.
pub struct StoredKeys {
    pub sealed: usize,
    pub opened: Vec<(String, String, String)>,
}

impl std::fmt::Debug for StoredKeys {
    /// Counts only: the opened keys are secrets and never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKeys")
            .field("sealed", &self.sealed)
            .field("opened", &self.opened.len())
            .finish()
    }
}

/// At start: with keyed accounts, the master key must be given and open every sealed key;
/// keys still in clear (stored before sealing existed) are sealed, in one transaction.
pub async fn seal_stored<S: Store + ?Sized>(
    store: &S,
    master: Option<&MasterKey>,
) -> Result<StoredKeys, SecretsError> {
    let stored = store.dc09_keys().await?;
    let Some(master) = master else {
        return match stored.first() {
            Some((account, _)) => Err(SecretsError::NoMasterKey(stored.len(), account.clone())),
            None => Ok(StoredKeys {
                sealed: 0,
                opened: Vec::new(),
            }),
        };
    };
    let mut sealed = Vec::new();
    let mut opened = Vec::with_capacity(stored.len());
    for (account, value) in stored {
        if is_sealed(&value) {
            let clear = master
                .unseal(&account, &value)
                .map_err(|e| SecretsError::Unsealable(account.clone(), e))?;
            opened.push((account, value, clear));
        } else {
            let sealed_value = master.seal(&account, &value);
            sealed.push((account.clone(), sealed_value.clone()));
            opened.push((account, sealed_value, value));
        }
    }
    store.set_dc09_keys(&sealed).await?;
    Ok(StoredKeys {
        sealed: sealed.len(),
        opened,
    })
}

/// Re-seals every stored DC-09 key under `new`, in one transaction: keys sealed under `old`
/// are opened with it, keys in clear are sealed, keys already under `new` (a rotation run
/// twice) are checked and sealed again. The verbal-password pepper, when the center has one,
/// is re-sealed too, keeping its value (`crate::pepper::resealed`). Nothing is written if one
/// key or the pepper does not open. Returns how many DC-09 keys were re-sealed.
pub async fn rotate<S: Database + ?Sized>(
    store: &S,
    old: Option<&MasterKey>,
    new: &MasterKey,
) -> Result<usize, SecretsError> {
    let pepper = crate::pepper::resealed(store, old, new)
        .await
        .map_err(|e| match e {
            crate::pepper::PepperError::Store(e) => SecretsError::Store(e),
            e => SecretsError::Pepper(e.to_string()),
        })?;
    let stored = store.dc09_keys().await?;
    let mut resealed = Vec::with_capacity(stored.len());
    for (account, value) in stored {
        let under_new = value.starts_with(&format!("{PREFIX}{}:", new.id()));
        let clear = match (is_sealed(&value), old) {
            (false, _) => Ok(value),
            (true, _) if under_new => new.unseal(&account, &value),
            (true, Some(old)) => old.unseal(&account, &value),
            (true, None) => Err(SealError::OtherKey {
                found: value[PREFIX.len()..]
                    .split(':')
                    .next()
                    .unwrap_or_default()
                    .to_string(),
                ours: new.id().to_string(),
            }),
        }
        .map_err(|e| SecretsError::Unsealable(account.clone(), e))?;
        let value = new.seal(&account, &clear);
        resealed.push((account, value));
    }
    store.set_dc09_keys(&resealed).await?;
    if let Some(sealed) = &pepper {
        store
            .set_center_secret(watchpost_store::PEPPER, sealed)
            .await?;
    }
    Ok(resealed.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> MasterKey {
        MasterKey::from_bytes([byte; 32])
    }

    #[test]
    fn a_sealed_key_opens_only_for_its_account_under_its_master_key() {
        let master = key(7);
        let sealed = master.seal("4F39", "00112233445566778899AABBCCDDEEFF");
        assert!(sealed.starts_with(&format!("{PREFIX}{}:", master.id())));
        assert!(!sealed.contains("00112233"));
        assert_ne!(
            sealed,
            master.seal("4F39", "00112233445566778899AABBCCDDEEFF")
        );
        assert_eq!(
            master.unseal("4F39", &sealed).unwrap(),
            "00112233445566778899AABBCCDDEEFF"
        );
        assert_eq!(
            master.unseal("5A5B", &sealed),
            Err(SealError::Forged(master.id().into()))
        );
        assert!(matches!(
            key(8).unseal("4F39", &sealed),
            Err(SealError::OtherKey { .. })
        ));
        assert_eq!(master.unseal("4F39", "0011"), Err(SealError::NotSealed));
    }

    #[test]
    fn master_keys_are_read_as_hex_or_base64_and_nothing_else() {
        let hex = "07".repeat(32);
        assert_eq!(
            MasterKey::parse(&format!(" {hex}\n")).unwrap().id(),
            key(7).id()
        );
        let b64 = BASE64.encode([7u8; 32]);
        assert_eq!(MasterKey::parse(&b64).unwrap().id(), key(7).id());
        let short = MasterKey::parse("0011").unwrap_err();
        assert!(short.contains("is 2 bytes"), "{short}");
        assert!(MasterKey::parse("not a key!").is_err());
        assert_eq!(
            format!("{:?}", key(7)),
            format!("MasterKey({})", key(7).id())
        );
    }

    #[test]
    fn an_account_is_sealed_once_and_refused_without_a_master_key() {
        let mut a = watchpost_store::testing::account("4F39");
        a.dc09_key = Some("00".repeat(16));
        let refused = seal_account(None, &mut a, "account.dc09_key_hex").unwrap_err();
        assert!(
            refused.starts_with("account.dc09_key_hex: ") && refused.contains("master key"),
            "{refused}"
        );
        seal_account(Some(&key(1)), &mut a, "k").unwrap();
        let sealed = a.dc09_key.clone().unwrap();
        assert!(is_sealed(&sealed));
        seal_account(Some(&key(1)), &mut a, "k").unwrap();
        assert_eq!(a.dc09_key.unwrap(), sealed, "sealed once");
    }
}
