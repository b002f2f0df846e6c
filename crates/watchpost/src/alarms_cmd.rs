//! `watchpost alarms`: the alarms in a database, rebuilt from their logs. Safe to run while
//! `serve` uses the same database; never creates one.

use crate::database;
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
    #[arg(
        long,
        env = "WATCHPOST_DB",
        hide_env_values = true,
        default_value = "watchpost.db"
    )]
    db: String,
    #[arg(long, value_enum, default_value = "all")]
    state: StateArg,
    /// One JSON object per alarm, one per line.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: AlarmsArgs) -> anyhow::Result<()> {
    let store = database::open_existing(&args.db).await?;
    let state = match args.state {
        StateArg::Open => AlarmState::Open,
        StateArg::Closed => AlarmState::Closed,
        StateArg::All => AlarmState::All,
    };
    let named = |e| database::named(&args.db, e);
    for row in store.alarms(state).await.map_err(named)? {
        let log = store.log(row.id).await.map_err(named)?;
        let alarm = replay(&log).map_err(|e| anyhow::anyhow!("alarm {}: {e}", row.id))?;
        // Read from the store, not a running center: next steps as agents who dial would see them.
        let listed = alarm_view(row.id, &alarm, false);
        if args.json {
            out!("{}", serde_json::to_string(&listed)?);
        } else {
            out!(
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
