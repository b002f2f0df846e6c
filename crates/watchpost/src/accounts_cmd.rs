//! `watchpost accounts import FILE...`: enrols accounts from TOML files (`[account]` or
//! `[[accounts]]` tables, as in scenario files, plus DC-09 keys and supervision). Every file
//! is checked first; one refusal and nothing at all is written. An account already enrolled
//! is replaced only with `--replace`, and the command says which it created and replaced.
//! DC-09 keys are sealed with the master key before they are written (README, "Secrets").

use crate::database;
use clap::Subcommand;
use serde::Deserialize;
use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;
use watchpost_core::account_file::AccountTable;
use watchpost_core::password::HashCost;
use watchpost_core::toml_file;
use watchpost_core::{Account, EnrolmentError};
use watchpost_server::enrolment::{refuse_leading_zero_twins, unknown_dealer};
use watchpost_server::secrets::seal_account;

#[derive(Subcommand)]
pub enum AccountsCommand {
    /// Enrol the accounts in TOML files (all or nothing). Creates the database if it is new.
    Import {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Replace accounts already enrolled (without it, one is refused and nothing is
        /// imported).
        #[arg(long)]
        replace: bool,
        /// The master key that seals the accounts' DC-09 keys (or give it in
        /// WATCHPOST_MASTER_KEY); without one, a file with a DC-09 key is refused.
        #[arg(long, value_name = "PATH")]
        master_key_file: Option<std::path::PathBuf>,
        #[arg(
            long,
            env = "WATCHPOST_DB",
            hide_env_values = true,
            default_value = "watchpost.db"
        )]
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
    let AccountsCommand::Import {
        files,
        replace,
        master_key_file,
        db,
    } = command;
    let master = crate::config::secrets::SecretsTable::default()
        .config(master_key_file.as_deref(), |name| std::env::var(name).ok())
        .map_err(anyhow::Error::msg)?
        .master_key;
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
                    err!("{name}: warning: {warning}");
                }
                file
            }
            Err(e) => {
                err!("{name}: {e}");
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
            let key_field = match table.dc09_key_ascii {
                Some(_) => format!("{field}.dc09_key_ascii"),
                None => format!("{field}.dc09_key_hex"),
            };
            let sealed = table
                .into_account(&field, now, HashCost::Standard)
                .and_then(|mut account| {
                    seal_account(master.as_deref(), &mut account, &key_field).map(|()| account)
                });
            match sealed {
                Ok(account) => accounts.push((name.to_string(), account)),
                Err(e) => {
                    err!("{name}: {e}");
                    refused += 1;
                }
            }
        }
        if !found {
            err!("{name}: no [account] or [[accounts]] table");
            refused += 1;
        }
    }
    for (i, (file, account)) in accounts.iter().enumerate() {
        if accounts[..i]
            .iter()
            .any(|(_, a)| a.number == account.number)
        {
            err!("{file}: account {} is given twice", account.number);
            refused += 1;
        }
    }
    if refused > 0 {
        err!("nothing imported: {refused} refused");
        return Ok(ExitCode::from(2));
    }
    let store = database::open_or_create(&db).await?;
    let numbers: Vec<&str> = accounts.iter().map(|(_, a)| a.number.as_str()).collect();
    if let Err(refusal) = refuse_leading_zero_twins(&*store, &numbers)
        .await
        .map_err(|e| database::named(&db, e))?
    {
        let refused = match &refusal {
            EnrolmentError::LeadingZeroTwin { number, .. } => number.as_str(),
            _ => "",
        };
        let (file, _) = accounts
            .iter()
            .find(|(_, a)| a.number == refused)
            .unwrap_or(&accounts[0]);
        err!("{file}: {refusal}");
        err!("nothing imported: 1 refused");
        return Ok(ExitCode::from(2));
    }
    let listed: Vec<&Account> = accounts.iter().map(|(_, a)| a).collect();
    if let Some((i, reason)) = unknown_dealer(&*store, &listed)
        .await
        .map_err(|e| database::named(&db, e))?
    {
        err!(
            "{}: account {}: dealer: {reason}",
            accounts[i].0,
            accounts[i].1.number
        );
        err!("nothing imported: 1 refused");
        return Ok(ExitCode::from(2));
    }
    let wanted: Vec<String> = numbers.iter().map(|n| n.to_string()).collect();
    let enrolled: HashSet<String> = store
        .enrolled_among(&wanted)
        .await
        .map_err(|e| database::named(&db, e))?
        .into_iter()
        .collect();
    let (replaced, created): (Vec<_>, Vec<_>) = accounts
        .into_iter()
        .partition(|(_, a)| enrolled.contains(&a.number));
    if !replace && !replaced.is_empty() {
        for (file, account) in &replaced {
            err!(
                "{file}: account {} is already enrolled (give --replace to replace it)",
                account.number
            );
        }
        err!("nothing imported: {} already enrolled", replaced.len());
        return Ok(ExitCode::from(2));
    }
    let numbers = |list: &[(String, Account)]| {
        list.iter()
            .map(|(_, a)| a.number.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (created_numbers, replaced_numbers) = (numbers(&created), numbers(&replaced));
    let mut before = Vec::new();
    for (_, account) in &replaced {
        if let Some(old) = store
            .account(&account.number)
            .await
            .map_err(|e| database::named(&db, e))?
        {
            before.push((old, account.clone()));
        }
    }
    let accounts: Vec<Account> = created
        .into_iter()
        .chain(replaced)
        .map(|(_, a)| a)
        .collect();
    store
        .put_accounts(&accounts)
        .await
        .map_err(|e| database::named(&db, e))?;
    out!(
        "imported {} accounts into {}",
        accounts.len(),
        watchpost_store::printable(&db)
    );
    if !created_numbers.is_empty() {
        out!("created: {created_numbers}");
    }
    if !replaced_numbers.is_empty() {
        out!("replaced: {replaced_numbers}");
    }
    // A replacement that is a new enrolment (another `enrolled` time) ends the old keys.
    let auth = watchpost_server::auth::Auth::new(store.clone());
    let now = chrono::Utc::now().timestamp_millis();
    for (old, new) in &before {
        let revoked = auth
            .end_keys_of_replaced_enrolment(old, new, &crate::users_cmd::actor(), now)
            .await?;
        if revoked > 0 {
            out!(
                "account {}: re-enrolled, its {revoked} API key(s) revoked",
                new.number
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
