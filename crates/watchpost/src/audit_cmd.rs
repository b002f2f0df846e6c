//! `watchpost audit list`: the audit trail, newest first — who disabled, enabled or signed out
//! a user, gave a new password, lifted a sign-in delay, made or revoked an API key, deleted an
//! account, and which users the sign-in rules delayed.

use crate::database;
use crate::users_cmd::time;
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// The most recent lines, newest first.
    List {
        /// At most this many lines.
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[command(flatten)]
        db: crate::users_cmd::Db,
    },
}

pub async fn run(command: AuditCommand) -> anyhow::Result<ExitCode> {
    let AuditCommand::List { limit, db } = command;
    let store = database::open_existing(db.path()).await?;
    let lines = store
        .audit(limit.max(1))
        .await
        .map_err(|e| database::named(db.path(), e))?;
    if lines.is_empty() {
        out!("the audit trail is empty");
    }
    for e in lines {
        out!(
            "{}  {:<16} {:<16} {:<24} {}",
            time(e.at),
            e.actor,
            e.action,
            e.subject,
            e.detail
        );
    }
    Ok(ExitCode::SUCCESS)
}
