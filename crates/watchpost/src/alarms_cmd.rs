//! `watchpost alarms`: the alarms in a database, rebuilt from their logs. Safe to run while
//! `serve` uses the same database.

use clap::{Args, ValueEnum};
use watchpost_server::view::alarm_view;
use watchpost_store::{AlarmState, replay};

#[derive(Clone, Copy, ValueEnum)]
pub enum StateArg {
    Open,
    Closed,
    All,
}

#[derive(Args)]
pub struct AlarmsArgs {
    #[arg(long, default_value = "watchpost.db")]
    db: String,
    #[arg(long, value_enum, default_value = "all")]
    state: StateArg,
    /// One JSON object per alarm, one per line.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: AlarmsArgs) -> anyhow::Result<()> {
    if !watchpost_store::is_shared(&args.db) && !std::path::Path::new(&args.db).exists() {
        anyhow::bail!("--db {}: no such database", args.db);
    }
    let store = watchpost_store::open(&args.db).await?;
    let state = match args.state {
        StateArg::Open => AlarmState::Open,
        StateArg::Closed => AlarmState::Closed,
        StateArg::All => AlarmState::All,
    };
    for row in store.alarms(state).await? {
        let log = store.log(row.id).await?;
        let alarm = replay(&log).map_err(|e| anyhow::anyhow!("alarm {}: {e}", row.id))?;
        let listed = alarm_view(row.id, &alarm);
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
