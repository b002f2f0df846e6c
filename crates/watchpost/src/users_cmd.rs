//! `watchpost users add NAME --role ROLE` (the password is the first line of stdin) and
//! `watchpost users list`: the people who sign in to the console and the API.

use crate::database;
use clap::Subcommand;
use std::io::BufRead;
use std::process::ExitCode;
use watchpost_server::auth::{Auth, AuthError};
use watchpost_store::Role;

#[derive(Subcommand)]
pub enum UsersCommand {
    /// Add a user; the password is read from the first line of standard input. Creates the
    /// database if it is new.
    Add {
        name: String,
        /// agent, supervisor or admin.
        #[arg(long)]
        role: Role,
        #[arg(
            long,
            env = "WATCHPOST_DB",
            hide_env_values = true,
            default_value = "watchpost.db"
        )]
        db: String,
    },
    /// Set the SIP URI of an agent's phone (sip:amy@10.0.0.21:5060), which the center calls
    /// to connect the agent to a contact when it places calls itself (telephony.adapter =
    /// "sip"); without a URI, clear it.
    Phone {
        name: String,
        uri: Option<String>,
        #[arg(
            long,
            env = "WATCHPOST_DB",
            hide_env_values = true,
            default_value = "watchpost.db"
        )]
        db: String,
    },
    /// List the users, their roles and any lock.
    List {
        #[arg(
            long,
            env = "WATCHPOST_DB",
            hide_env_values = true,
            default_value = "watchpost.db"
        )]
        db: String,
    },
}

pub async fn run(command: UsersCommand) -> anyhow::Result<ExitCode> {
    let now = chrono::Utc::now().timestamp_millis();
    match command {
        UsersCommand::Add { name, role, db } => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            let password = line.strip_suffix('\n').unwrap_or(&line);
            let password = password.strip_suffix('\r').unwrap_or(password);
            let auth = Auth::new(database::open_or_create(&db).await?);
            match auth.add_user(&name, role, password, now).await {
                Ok(user) => {
                    out!("user {} ({}) added", user.name, user.role);
                    Ok(ExitCode::SUCCESS)
                }
                Err(AuthError::Invalid {
                    field: "password",
                    reason,
                }) => {
                    err!("{reason} (the password is read from the first line of standard input)");
                    Ok(ExitCode::from(2))
                }
                Err(e) if !e.is_internal() => {
                    err!("{e}");
                    Ok(ExitCode::from(2))
                }
                Err(e) => Err(database::named(&db, e)),
            }
        }
        UsersCommand::Phone { name, uri, db } => {
            let auth = Auth::new(database::open_existing(&db).await?);
            match auth.set_phone(&name, uri.as_deref()).await {
                Ok(user) => {
                    match &user.phone {
                        Some(phone) => out!("user {} has the phone {phone}", user.name),
                        None => out!("user {} has no phone", user.name),
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) if !e.is_internal() => {
                    err!("{e}");
                    Ok(ExitCode::from(2))
                }
                Err(e) => Err(database::named(&db, e)),
            }
        }
        UsersCommand::List { db } => {
            let store = database::open_existing(&db).await?;
            let users = store.users().await.map_err(|e| database::named(&db, e))?;
            if users.is_empty() {
                out!("no users in {}", watchpost_store::printable(&db));
            }
            for user in users {
                let lock = match user.locked_until {
                    Some(until) if until > now => format!("  locked until {}", time(until)),
                    _ => String::new(),
                };
                let phone = user
                    .phone
                    .as_deref()
                    .map_or(String::new(), |p| format!("  phone {p}"));
                out!(
                    "{:<24} {:<10} added {}{lock}{phone}",
                    user.name,
                    user.role,
                    time(user.created_at)
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| ms.to_string())
}
