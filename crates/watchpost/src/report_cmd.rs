//! `watchpost report`: the period report of the center, a dealer or an account, as JSON, CSV
//! or an HTML page with charts (README "Reports"). Safe to run while `serve` uses the same
//! database; never creates one.

use crate::database;
use anyhow::{anyhow, bail};
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use watchpost_core::account_number::canonical;
use watchpost_core::period_report::Audience;
use watchpost_server::report::{self, Period, Styles};
use watchpost_store::ReportScope;

#[derive(Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Csv,
    Html,
    Json,
}

#[derive(Args)]
pub struct ReportArgs {
    #[arg(
        long,
        env = "WATCHPOST_DB",
        hide_env_values = true,
        default_value = "watchpost.db"
    )]
    db: String,
    /// The first day (2026-11-01, in --timezone) or instant (RFC 3339) of the period.
    #[arg(long)]
    from: String,
    /// The last day, included (2026-11-30), or the instant the period ends before.
    #[arg(long)]
    to: String,
    /// The IANA time zone whose days a date names (the center's `center.timezone`).
    #[arg(long, default_value = "UTC", value_parser = zone)]
    timezone: chrono_tz::Tz,
    /// Only the accounts of this dealer (silent alarms left out, as for the dealer's users).
    #[arg(long, conflicts_with = "account")]
    dealer: Option<String>,
    /// Only this account.
    #[arg(long)]
    account: Option<String>,
    #[arg(long, value_enum, default_value = "json")]
    format: FormatArg,
    /// Write the report to this file instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
}

pub async fn run(args: ReportArgs) -> anyhow::Result<()> {
    let period = Period::parse(&args.from, &args.to, args.timezone)
        .map_err(|(field, why)| anyhow!("--{field}: {why}"))?;
    let store = database::open_existing(&args.db).await?;
    let named = |e| database::named(&args.db, e);
    let scope = match (args.dealer, args.account) {
        (Some(id), _) => {
            if store.dealer(&id).await.map_err(named)?.is_none() {
                bail!("--dealer: there is no dealer {id:?} (`watchpost dealers list`)");
            }
            ReportScope::Dealer(id)
        }
        (None, Some(given)) => {
            let number = canonical(&given).map_err(|e| anyhow!("--account: {given:?}: {e}"))?;
            if !report::known_account(store.as_ref(), &number)
                .await
                .map_err(named)?
            {
                bail!(
                    "--account: there is no account {number:?}: not enrolled, and no alarm of it"
                );
            }
            ReportScope::Account(number)
        }
        (None, None) => ReportScope::Center,
    };
    let built = report::build(store.as_ref(), period, scope, Audience::Center)
        .await
        .map_err(named)?;
    let text = match args.format {
        FormatArg::Json => serde_json::to_string_pretty(&built)? + "\n",
        FormatArg::Csv => report::to_csv(&built)?,
        FormatArg::Html => report::to_html(&built, &Styles::Inline),
    };
    match args.output {
        Some(path) => {
            std::fs::write(&path, text).map_err(|e| anyhow!("--output {}: {e}", path.display()))?
        }
        None => out!("{}", text.trim_end()),
    }
    Ok(())
}

fn zone(text: &str) -> Result<chrono_tz::Tz, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not an IANA time zone (like America/Chicago)"))
}
