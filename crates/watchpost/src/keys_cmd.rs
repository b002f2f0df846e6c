//! `watchpost keys add --account NUMBER`: makes an API key with which an enrolled account's IP
//! devices and apps send signals over HTTP. The key is printed once and never again.
//! `keys list [--account NUMBER]` shows each key's id (the start of its hash, never the key),
//! account, label and age; `keys revoke ID` ends one. Adding and revoking are audited.

use crate::database;
use crate::users_cmd::{actor, time};
use clap::Subcommand;
use std::process::ExitCode;
use watchpost_server::auth::Auth;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Make an API key for an enrolled account and print it (only this once).
    Add {
        #[arg(long, value_name = "NUMBER")]
        account: String,
        /// What the key is for ("front door app"), to tell keys apart later.
        #[arg(long, default_value = "")]
        label: String,
        #[command(flatten)]
        db: crate::users_cmd::Db,
    },
    /// List the keys (id, account, label, made): of one account, or all.
    List {
        #[arg(long, value_name = "NUMBER")]
        account: Option<String>,
        #[command(flatten)]
        db: crate::users_cmd::Db,
    },
    /// Revoke a key by its id as `keys list` shows it (at least 8 of its hex digits).
    Revoke {
        id: String,
        #[command(flatten)]
        db: crate::users_cmd::Db,
    },
}

pub async fn run(command: KeysCommand) -> anyhow::Result<ExitCode> {
    let now = chrono::Utc::now().timestamp_millis();
    match command {
        KeysCommand::Add { account, label, db } => {
            let auth = Auth::new(database::open_or_create(db.path()).await?);
            match auth.issue_api_key(&account, &label, now).await {
                Ok(key) => {
                    let id = watchpost_server::auth::key_id(&key);
                    let account = account.to_ascii_uppercase();
                    auth.audit(
                        &actor(),
                        "key.add",
                        &id,
                        &format!("account {account} ({label})"),
                        now,
                    )
                    .await
                    .map_err(|e| database::named(db.path(), e))?;
                    err!(
                        "API key {id} for account {account}: shown this once, keep it now \
                         (send it as Authorization: Bearer <key>)"
                    );
                    out!("{key}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) if !e.is_internal() => {
                    err!("{e}");
                    Ok(ExitCode::from(2))
                }
                Err(e) => Err(database::named(db.path(), e)),
            }
        }
        KeysCommand::List { account, db } => {
            let auth = Auth::new(database::open_existing(db.path()).await?);
            match auth.api_keys(account.as_deref()).await {
                Ok(keys) => {
                    if keys.is_empty() {
                        out!("no API keys");
                    }
                    for k in keys {
                        let used = k.last_used.map_or("never".to_string(), time);
                        out!(
                            "{}  {:<12} made {}  last used {used}  {}",
                            k.id,
                            k.account,
                            time(k.created_at),
                            k.label
                        );
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) if !e.is_internal() => {
                    err!("{e}");
                    Ok(ExitCode::from(2))
                }
                Err(e) => Err(database::named(db.path(), e)),
            }
        }
        KeysCommand::Revoke { id, db } => {
            let auth = Auth::new(database::open_existing(db.path()).await?);
            match auth.revoke_api_key(&id, &actor(), now).await {
                Ok(k) => {
                    out!("key {} of account {} revoked", k.id, k.account);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) if !e.is_internal() => {
                    err!("{e}");
                    Ok(ExitCode::from(2))
                }
                Err(e) => Err(database::named(db.path(), e)),
            }
        }
    }
}
