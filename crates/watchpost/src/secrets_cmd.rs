//! `watchpost secrets rotate --new-key-file PATH`: re-seals every stored DC-09 key under a new
//! master key, in one transaction (all or nothing). Run it with the center stopped: a running
//! center keeps the old master key in memory and could not read keys sealed under the new
//! one. Webhook secrets and the verbal-password pepper are re-sealed too, after the DC-09
//! keys (each in its own transaction; every secret is opened before anything is written).
//! README, "Secrets".

use crate::config::secrets::SecretsTable;
use crate::database;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;
use watchpost_server::secrets::{self, MasterKey};
use watchpost_server::webhooks::endpoints::resealed;

#[derive(Subcommand)]
pub enum SecretsCommand {
    /// Re-seal every DC-09 key under a new master key (center stopped), then start the center
    /// with the new key.
    Rotate {
        /// The new master key: a file holding 32 bytes as 64 hex digits or base64.
        #[arg(long, value_name = "PATH")]
        new_key_file: PathBuf,
        /// The current master key's file (or give it in WATCHPOST_MASTER_KEY). Without one,
        /// only keys stored in clear can be sealed.
        #[arg(long, value_name = "PATH")]
        master_key_file: Option<PathBuf>,
        #[arg(
            long,
            env = "WATCHPOST_DB",
            hide_env_values = true,
            default_value = "watchpost.db"
        )]
        db: String,
    },
}

pub async fn run(command: SecretsCommand) -> anyhow::Result<ExitCode> {
    let SecretsCommand::Rotate {
        new_key_file,
        master_key_file,
        db,
    } = command;
    let old = SecretsTable::default()
        .config(master_key_file.as_deref(), |name| std::env::var(name).ok())
        .map_err(anyhow::Error::msg)?
        .master_key;
    let new = MasterKey::from_file(&new_key_file, "--new-key-file").map_err(anyhow::Error::msg)?;
    let store = database::open_existing(&db).await?;
    let now = chrono::Utc::now().timestamp_millis();
    let running = store
        .live_nodes(now - database::RUNNING_WITHIN_MS)
        .await
        .map_err(|e| database::named(&db, e))?;
    if !running.is_empty() {
        err!(
            "node {} of this center was running less than {} s ago: stop every node first \
             (a running center keeps the old master key and could not read the new seals), \
             then run this again",
            running.join(", "),
            database::RUNNING_WITHIN_MS / 1000
        );
        return Ok(ExitCode::from(2));
    }
    // Webhook secrets are opened first: one that does not open stops it all before anything
    // is written.
    let endpoints = store
        .endpoints()
        .await
        .map_err(|e| database::named(&db, e))?;
    let webhooks = match resealed(&endpoints, old.as_deref(), &new) {
        Ok(webhooks) => webhooks,
        Err(e) => {
            err!("{e}; nothing was changed");
            return Ok(ExitCode::from(2));
        }
    };
    // The pepper keeps its value (every keyed hash needs it): `rotate` changes only its seal.
    let pepper = store
        .center_secret(watchpost_store::PEPPER)
        .await
        .map_err(|e| database::named(&db, e))?;
    match secrets::rotate(&*store, old.as_deref(), &new).await {
        Ok(n) => {
            store
                .set_endpoint_secrets(&webhooks)
                .await
                .map_err(|e| database::named(&db, e))?;
            if !webhooks.is_empty() {
                out!("re-sealed {} webhook secrets", webhooks.len());
            }
            if pepper.is_some() {
                out!("re-sealed the verbal-password pepper");
            }
            out!(
                "re-sealed {n} DC-09 keys under master key {}{}; start the center with the \
                 new key (secrets.master_key_file or WATCHPOST_MASTER_KEY)",
                new.id(),
                old.map(|o| format!(" (was {})", o.id()))
                    .unwrap_or_default()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(secrets::SecretsError::Store(e)) => Err(database::named(&db, e)),
        Err(e) => {
            err!("{e}; nothing was changed");
            Ok(ExitCode::from(2))
        }
    }
}
