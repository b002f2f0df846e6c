//! `watchpost backup --db DB TO` and `watchpost restore FROM --db DB`: an online copy of a
//! SQLite center while it runs, and putting a copy back (README, "Backup and restore"). A
//! PostgreSQL center is backed up with PostgreSQL's own tools; both commands say which.

use crate::database;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use watchpost_store::backup::{self, Summary};
use watchpost_store::{is_shared, printable, sqlite_path};

/// What to run instead for a PostgreSQL center.
const POSTGRES_BACKUP: &str = "a PostgreSQL center is backed up with PostgreSQL's tools: \
    `pg_dump -Fc -f center.dump \"$WATCHPOST_DB\"` (a consistent dump while the center runs) or \
    `pg_basebackup` with WAL archiving for point-in-time recovery; see README, \"Backup and \
    restore\"";
const POSTGRES_RESTORE: &str = "a PostgreSQL center is restored with PostgreSQL's tools: \
    stop every node, then `pg_restore --clean --if-exists --no-owner -d \"$WATCHPOST_DB\" \
    center.dump`; see README, \"Backup and restore\"";

#[derive(Args)]
pub struct BackupArgs {
    /// The center's database (a SQLite file; it may be running).
    #[arg(
        long,
        env = "WATCHPOST_DB",
        hide_env_values = true,
        default_value = "watchpost.db"
    )]
    db: String,
    /// The backup file to write; it must not exist.
    to: PathBuf,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// The backup file (made by `watchpost backup`).
    from: PathBuf,
    /// The database to put it in place of (a SQLite file).
    #[arg(
        long,
        env = "WATCHPOST_DB",
        hide_env_values = true,
        default_value = "watchpost.db"
    )]
    db: String,
    /// Replace a database that exists (never one a center is running on).
    #[arg(long)]
    force: bool,
}

pub async fn backup(args: BackupArgs) -> anyhow::Result<ExitCode> {
    if is_shared(&args.db) {
        err!("watchpost: {POSTGRES_BACKUP}");
        return Ok(ExitCode::from(2));
    }
    let started = std::time::Instant::now();
    let summary = backup::backup(sqlite_path(&args.db), &args.to)
        .await
        .map_err(|e| database::named(&args.db, e))?;
    out!(
        "backup of {} written to {} in {:.1?}: {}",
        printable(&args.db),
        args.to.display(),
        started.elapsed(),
        described(&summary)
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn restore(args: RestoreArgs) -> anyhow::Result<ExitCode> {
    if is_shared(&args.db) {
        err!("watchpost: {POSTGRES_RESTORE}");
        return Ok(ExitCode::from(2));
    }
    let target = sqlite_path(&args.db);
    if target.exists() {
        if !args.force {
            err!(
                "watchpost: database {} exists: restoring would replace it; give --force to \
                 replace it",
                printable(&args.db)
            );
            return Ok(ExitCode::from(2));
        }
        if let Some(refusal) = running_on(&args.db).await {
            err!("watchpost: {refusal}");
            return Ok(ExitCode::from(2));
        }
    }
    let summary = backup::restore(&args.from, target)
        .await
        .map_err(|e| database::named(&args.db, e))?;
    out!(
        "restored {} into {}: {}",
        args.from.display(),
        printable(&args.db),
        described(&summary)
    );
    Ok(ExitCode::SUCCESS)
}

/// Why `db` may not be replaced now: a node of its center was seen running. A database that
/// cannot be read (the damage a restore repairs) cannot tell, and is replaced with a warning.
async fn running_on(db: &str) -> Option<String> {
    let since = chrono::Utc::now().timestamp_millis() - database::RUNNING_WITHIN_MS;
    match backup::nodes_seen(sqlite_path(db), since).await {
        Ok(nodes) if nodes.is_empty() => None,
        Ok(nodes) => Some(format!(
            "a center is running on {} (node {} seen less than {} s ago): stop it first",
            printable(db),
            nodes.join(", "),
            database::RUNNING_WITHIN_MS / 1000
        )),
        Err(e) => {
            err!(
                "watchpost: warning: database {} cannot be read ({e}), so whether a center \
                 runs on it is unknown: replacing it",
                printable(db)
            );
            None
        }
    }
}

fn described(s: &Summary) -> String {
    format!(
        "{} accounts, {} signals, {} alarms ({} open), {} bytes",
        s.accounts, s.signals, s.alarms, s.open_alarms, s.bytes
    )
}
