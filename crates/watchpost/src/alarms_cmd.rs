//! `watchpost alarms`: the alarms in a database, rebuilt from their logs. Safe to run while
//! `serve` uses the same database.

use chrono::{DateTime, SecondsFormat};
use clap::{Args, ValueEnum};
use serde::Serialize;
use std::path::PathBuf;
use watchpost_core::Millis;
use watchpost_core::report::{AlarmReport, alarm_report};
use watchpost_store::{AlarmState, SqliteStore, Store, replay};

#[derive(Clone, Copy, ValueEnum)]
pub enum StateArg {
    Open,
    Closed,
    All,
}

#[derive(Args)]
pub struct AlarmsArgs {
    #[arg(long, default_value = "watchpost.db")]
    db: PathBuf,
    #[arg(long, value_enum, default_value = "all")]
    state: StateArg,
    /// One JSON object per alarm, one per line.
    #[arg(long)]
    json: bool,
}

/// An alarm as listed: its report (times in seconds from its opening) and where it belongs.
#[derive(Serialize)]
pub struct Listed {
    pub id: i64,
    pub account: String,
    pub opened_at: String,
    pub closed_at: Option<String>,
    #[serde(flatten)]
    pub report: AlarmReport,
}

fn rfc3339(at: Millis) -> String {
    DateTime::from_timestamp_millis(at)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_default()
}

pub async fn run(args: AlarmsArgs) -> anyhow::Result<()> {
    if !args.db.exists() {
        anyhow::bail!("--db {}: no such database", args.db.display());
    }
    let store = SqliteStore::open(&args.db).await?;
    let state = match args.state {
        StateArg::Open => AlarmState::Open,
        StateArg::Closed => AlarmState::Closed,
        StateArg::All => AlarmState::All,
    };
    for row in store.alarms(state).await? {
        let log = store.log(row.id).await?;
        let alarm = replay(&log).map_err(|e| anyhow::anyhow!("alarm {}: {e}", row.id))?;
        let spec = alarm.spec();
        let listed = Listed {
            id: row.id,
            account: spec.account.clone(),
            opened_at: rfc3339(spec.opened_at),
            closed_at: alarm.closed().map(|(at, _)| rfc3339(at)),
            report: alarm_report(spec.opened_at, &alarm),
        };
        if args.json {
            println!("{}", serde_json::to_string(&listed)?);
        } else {
            println!(
                "{:>6}  {:<10} {:<16} {:<12} p{}  {}  {}",
                listed.id,
                listed.account,
                listed.report.kind,
                listed.report.mode,
                listed.report.priority,
                listed.opened_at,
                listed.report.disposition.unwrap_or("open"),
            );
        }
    }
    Ok(())
}
