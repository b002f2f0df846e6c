//! The center's verbal-password pepper in its store: created once (the first process with a
//! master key stores it, sealed; every other node and command reads that one), opened with
//! the master key at start and by the commands that hash, and re-sealed when the master key
//! is rotated. It is never the master key nor derived from it: a rotation changes the master
//! key, and a hash cannot be made again without the spoken phrase. README, "Secrets".

use crate::secrets::{MASTER_KEY_ENV, MasterKey, PREFIX, SealError};
use thiserror::Error;
use watchpost_core::pepper::Pepper;
use watchpost_store::{CenterSecrets, PEPPER, StoreError};

/// What the pepper is sealed for (AES-GCM associated data): a sealed pepper does not open as
/// a DC-09 key or a webhook secret, nor they as it.
const SEALED_FOR: &str = "pepper:verbal_password";

/// Why the pepper cannot be had.
#[derive(Debug, Error)]
pub enum PepperError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "verbal passwords are hashed with a pepper stored sealed, but no master key is set to \
         open it: give [secrets] master_key_file or {MASTER_KEY_ENV} (README, \"Secrets\")"
    )]
    NoMasterKey,
    #[error("the verbal-password pepper: {0}")]
    Unsealable(String),
}

/// Opens a sealed pepper.
fn open(master: &MasterKey, sealed: &str) -> Result<Pepper, PepperError> {
    let clear = master
        .unseal(SEALED_FOR, sealed)
        .map_err(|e| PepperError::Unsealable(why(e)))?;
    Pepper::from_hex(&clear).map_err(PepperError::Unsealable)
}

/// A seal error, worded for the pepper.
fn why(e: SealError) -> String {
    e.to_string()
        .replace("the DC-09 key", "it")
        .replace("the sealed DC-09 key", "the sealed pepper")
}

/// The stored pepper, opened with `master`, without writing anything; `None` when the center
/// has none yet. Errors: `NoMasterKey` when a pepper is stored and no master key given (its
/// hashes could not be checked), `Unsealable` when it does not open under `master`.
pub async fn load<S: CenterSecrets + ?Sized>(
    store: &S,
    master: Option<&MasterKey>,
) -> Result<Option<Pepper>, PepperError> {
    match (store.center_secret(PEPPER).await?, master) {
        (None, _) => Ok(None),
        (Some(_), None) => Err(PepperError::NoMasterKey),
        (Some(sealed), Some(master)) => open(master, &sealed).map(Some),
    }
}

/// A new random pepper and its value sealed under `master`, to be stored with `keep`.
pub fn create(master: &MasterKey) -> (Pepper, String) {
    let pepper = Pepper::generate();
    let sealed = master.seal(SEALED_FOR, &pepper.to_hex());
    (pepper, sealed)
}

/// Stores a pepper `create` sealed unless the center has one (insert-if-absent, so nodes
/// starting at once agree), and returns the sealed value stored: `sealed`, or the one
/// another process stored first.
pub async fn keep<S: CenterSecrets + ?Sized>(
    store: &S,
    sealed: &str,
) -> Result<String, PepperError> {
    Ok(store.keep_center_secret(PEPPER, sealed).await?)
}

/// The center's pepper, for a process that hashes or checks verbal passwords: with a
/// master key, the stored one opened, or a new one stored first (`create`, `keep`);
/// without one, `None` while no pepper is stored. Errors as `load`.
pub async fn load_or_create<S: CenterSecrets + ?Sized>(
    store: &S,
    master: Option<&MasterKey>,
) -> Result<Option<Pepper>, PepperError> {
    match (load(store, master).await?, master) {
        (Some(pepper), _) => Ok(Some(pepper)),
        (None, None) => Ok(None),
        (None, Some(master)) => {
            let (_, sealed) = create(master);
            let kept = keep(store, &sealed).await?;
            open(master, &kept).map(Some)
        }
    }
}

/// The stored pepper sealed again under `new` (`watchpost secrets rotate`), opened with `old`
/// or, when a rotation already sealed it so, with `new`; `None` when no pepper is stored.
/// Nothing is written here: the caller stores it with `set_center_secret`.
pub async fn resealed<S: CenterSecrets + ?Sized>(
    store: &S,
    old: Option<&MasterKey>,
    new: &MasterKey,
) -> Result<Option<String>, PepperError> {
    let Some(sealed) = store.center_secret(PEPPER).await? else {
        return Ok(None);
    };
    let opener = match old {
        _ if sealed.starts_with(&format!("{PREFIX}{}:", new.id())) => new,
        Some(old) => old,
        None => {
            return Err(PepperError::Unsealable(
                "it is sealed under the current master key; give it with --master-key-file".into(),
            ));
        }
    };
    let pepper = open(opener, &sealed)?;
    Ok(Some(new.seal(SEALED_FOR, &pepper.to_hex())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use watchpost_store::SqliteStore;

    fn key(byte: u8) -> MasterKey {
        MasterKey::from_bytes([byte; 32])
    }

    #[tokio::test]
    async fn created_once_sealed_and_opened_only_with_the_master_key() {
        let store = SqliteStore::memory().await.unwrap();
        assert!(load_or_create(&store, None).await.unwrap().is_none());
        let first = load_or_create(&store, Some(&key(1)))
            .await
            .unwrap()
            .unwrap();
        let again = load_or_create(&store, Some(&key(1)))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first, again, "created once");
        let sealed = store.center_secret(PEPPER).await.unwrap().unwrap();
        assert!(sealed.starts_with(&format!("{PREFIX}{}:", key(1).id())));
        assert!(!sealed.contains(&first.to_hex()));
        assert!(matches!(
            load_or_create(&store, None).await,
            Err(PepperError::NoMasterKey)
        ));
        let wrong = load_or_create(&store, Some(&key(2))).await.unwrap_err();
        assert!(
            wrong.to_string().contains("sealed under master key"),
            "{wrong}"
        );
    }

    #[tokio::test]
    async fn a_second_node_keeps_the_first_nodes_pepper() {
        let store = SqliteStore::memory().await.unwrap();
        let sealed = key(1).seal(SEALED_FOR, &Pepper::from_bytes([9; 32]).to_hex());
        assert_eq!(
            store.keep_center_secret(PEPPER, &sealed).await.unwrap(),
            sealed
        );
        let later = key(1).seal(SEALED_FOR, &Pepper::from_bytes([8; 32]).to_hex());
        assert_eq!(
            store.keep_center_secret(PEPPER, &later).await.unwrap(),
            sealed,
            "the first one stays"
        );
        let pepper = load_or_create(&store, Some(&key(1)))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(pepper, Pepper::from_bytes([9; 32]));
    }

    #[tokio::test]
    async fn rotation_reseals_the_same_pepper() {
        let store = SqliteStore::memory().await.unwrap();
        assert_eq!(resealed(&store, None, &key(2)).await.unwrap(), None);
        let pepper = load_or_create(&store, Some(&key(1)))
            .await
            .unwrap()
            .unwrap();
        assert!(resealed(&store, None, &key(2)).await.is_err());
        assert!(resealed(&store, Some(&key(3)), &key(2)).await.is_err());
        let new = resealed(&store, Some(&key(1)), &key(2))
            .await
            .unwrap()
            .unwrap();
        store.set_center_secret(PEPPER, &new).await.unwrap();
        let opened = load_or_create(&store, Some(&key(2)))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(opened, pepper);
        // Run twice (a rotation interrupted after this step): opened with the new key.
        assert!(resealed(&store, Some(&key(1)), &key(2)).await.is_ok());
    }
}
