//! `watchpost keys add --account NUMBER`: makes an API key with which an enrolled account's IP
//! devices and apps send signals over HTTP. The key is printed once and never again.

use crate::database;
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
        #[arg(
            long,
            env = "WATCHPOST_DB",
            hide_env_values = true,
            default_value = "watchpost.db"
        )]
        db: String,
    },
}

pub async fn run(command: KeysCommand) -> anyhow::Result<ExitCode> {
    let KeysCommand::Add { account, label, db } = command;
    let now = chrono::Utc::now().timestamp_millis();
    let auth = Auth::new(database::open_or_create(&db).await?);
    match auth.issue_api_key(&account, &label, now).await {
        Ok(key) => {
            err!(
                "API key for account {}: shown this once, keep it now \
                 (send it as Authorization: Bearer <key>)",
                account.to_ascii_uppercase()
            );
            out!("{key}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) if !e.is_internal() => {
            err!("{e}");
            Ok(ExitCode::from(2))
        }
        Err(e) => Err(database::named(&db, e)),
    }
}
