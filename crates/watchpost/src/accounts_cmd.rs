//! `watchpost accounts import FILE...`: enrols accounts from TOML files (`[account]` or
//! `[[accounts]]` tables, as in scenario files, plus DC-09 keys and supervision). Every file
//! is checked first; one refusal and nothing at all is written.

use clap::Subcommand;
use serde::Deserialize;
use std::path::PathBuf;
use std::process::ExitCode;
use watchpost_core::EnrolmentError;
use watchpost_core::account_file::AccountTable;
use watchpost_core::password::HashCost;
use watchpost_core::toml_file;
use watchpost_server::enrolment::refuse_leading_zero_twins;

#[derive(Subcommand)]
pub enum AccountsCommand {
    /// Enrol (or update) the accounts in TOML files.
    Import {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        #[arg(long, default_value = "watchpost.db")]
        db: String,
    },
}

#[derive(Deserialize)]
struct AccountsFile {
    account: Option<AccountTable>,
    #[serde(default)]
    accounts: Vec<AccountTable>,
}

pub async fn run(command: AccountsCommand) -> anyhow::Result<ExitCode> {
    let AccountsCommand::Import { files, db } = command;
    let now = chrono::Utc::now().timestamp_millis();
    let mut accounts = Vec::new();
    let mut refused = 0;
    for path in &files {
        let name = path.display();
        let parsed = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the file: {e}"))
            .and_then(|text| toml_file::read::<AccountsFile>(&text));
        let file = match parsed {
            Ok((file, warnings)) => {
                for warning in warnings {
                    eprintln!("{name}: warning: {warning}");
                }
                file
            }
            Err(e) => {
                eprintln!("{name}: {e}");
                refused += 1;
                continue;
            }
        };
        let tables = file
            .account
            .map(|a| ("account".to_string(), a))
            .into_iter()
            .chain(
                file.accounts
                    .into_iter()
                    .enumerate()
                    .map(|(i, a)| (format!("accounts[{i}]"), a)),
            );
        let mut found = false;
        for (field, table) in tables {
            found = true;
            match table.into_account(&field, now, HashCost::Standard) {
                Ok(account) => accounts.push((name.to_string(), account)),
                Err(e) => {
                    eprintln!("{name}: {e}");
                    refused += 1;
                }
            }
        }
        if !found {
            eprintln!("{name}: no [account] or [[accounts]] table");
            refused += 1;
        }
    }
    for (i, (file, account)) in accounts.iter().enumerate() {
        if accounts[..i]
            .iter()
            .any(|(_, a)| a.number == account.number)
        {
            eprintln!("{file}: account {} is given twice", account.number);
            refused += 1;
        }
    }
    if refused > 0 {
        eprintln!("nothing imported: {refused} refused");
        return Ok(ExitCode::from(2));
    }
    let store = watchpost_store::open(&db).await?;
    let numbers: Vec<&str> = accounts.iter().map(|(_, a)| a.number.as_str()).collect();
    if let Err(refusal) = refuse_leading_zero_twins(&*store, &numbers).await? {
        let refused = match &refusal {
            EnrolmentError::LeadingZeroTwin { number, .. } => number.as_str(),
            _ => "",
        };
        let (file, _) = accounts
            .iter()
            .find(|(_, a)| a.number == refused)
            .unwrap_or(&accounts[0]);
        eprintln!("{file}: {refusal}");
        eprintln!("nothing imported: 1 refused");
        return Ok(ExitCode::from(2));
    }
    let accounts: Vec<_> = accounts.into_iter().map(|(_, a)| a).collect();
    store.put_accounts(&accounts).await?;
    println!(
        "imported {} accounts into {}",
        accounts.len(),
        watchpost_store::printable(&db)
    );
    Ok(ExitCode::SUCCESS)
}
