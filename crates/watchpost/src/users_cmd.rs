//! `watchpost users add NAME --role ROLE [--dealer ID]` (the password is the first line of
//! stdin; a dealer's roles name their dealer),
//! `users list`, and taking access away or giving it back: `disable`, `enable`, `passwd`
//! (stdin again), `logout` (end every session), `unlock` (forget failed sign-ins). Each change
//! is written to the audit trail as done by `cli:<os user>` (`watchpost audit list`).

use crate::database;
use clap::Subcommand;
use std::io::BufRead;
use std::process::ExitCode;
use watchpost_server::auth::{Auth, AuthError};
use watchpost_store::Role;

#[derive(clap::Args)]
pub struct Db {
    #[arg(
        long,
        env = "WATCHPOST_DB",
        hide_env_values = true,
        default_value = "watchpost.db"
    )]
    db: String,
}

#[derive(Subcommand)]
pub enum UsersCommand {
    /// Add a user; the password is read from the first line of standard input. Creates the
    /// database if it is new.
    Add {
        name: String,
        /// agent, supervisor or admin (the center's users); dealer_admin or dealer_viewer
        /// (a dealer's users, with --dealer).
        #[arg(long)]
        role: Role,
        /// The dealer a dealer_admin or dealer_viewer belongs to (`watchpost dealers add`).
        #[arg(long)]
        dealer: Option<String>,
        #[command(flatten)]
        db: Db,
    },
    /// Set the SIP URI of an agent's phone (sip:amy@10.0.0.21:5060), which the center calls
    /// to connect the agent to a contact when it places calls itself (telephony.adapter =
    /// "sip"); without a URI, clear it.
    Phone {
        name: String,
        uri: Option<String>,
        #[command(flatten)]
        db: Db,
    },
    /// List the users, their roles, and whether they are disabled or must wait before their
    /// next sign-in attempt.
    List {
        #[command(flatten)]
        db: Db,
    },
    /// Disable a user: they cannot sign in, and every session of theirs ends now.
    Disable {
        name: String,
        #[command(flatten)]
        db: Db,
    },
    /// Enable a disabled user again.
    Enable {
        name: String,
        #[command(flatten)]
        db: Db,
    },
    /// Give a user a new password, read from the first line of standard input; every
    /// session of theirs ends.
    Passwd {
        name: String,
        #[command(flatten)]
        db: Db,
    },
    /// End every session of a user (sign them out everywhere).
    Logout {
        name: String,
        #[command(flatten)]
        db: Db,
    },
    /// Forget a user's failed sign-ins: their next attempt need not wait.
    Unlock {
        name: String,
        #[command(flatten)]
        db: Db,
    },
}

impl Db {
    /// The database as given (`--db` or `WATCHPOST_DB`).
    pub fn path(&self) -> &str {
        &self.db
    }
}

/// Who is acting, for the audit trail: `cli:` and the operating-system user.
pub fn actor() -> String {
    // The operating system's account of the process, not $USER, which anyone can set.
    let uid = nix::unistd::getuid();
    let user = nix::unistd::User::from_uid(uid)
        .ok()
        .flatten()
        .map_or_else(|| format!("uid {uid}"), |u| u.name);
    format!("cli:{user}")
}

fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    Ok(password.strip_suffix('\r').unwrap_or(password).to_string())
}

/// A refusal said on stderr with exit code 2; the center's faults are errors naming the
/// database.
fn refused(db: &str, e: AuthError) -> anyhow::Result<ExitCode> {
    match e {
        AuthError::Invalid {
            field: "password",
            reason,
        } => {
            err!("{reason} (the password is read from the first line of standard input)");
            Ok(ExitCode::from(2))
        }
        e if !e.is_internal() => {
            err!("{e}");
            Ok(ExitCode::from(2))
        }
        e => Err(database::named(db, e)),
    }
}

pub async fn run(command: UsersCommand) -> anyhow::Result<ExitCode> {
    let now = chrono::Utc::now().timestamp_millis();
    match command {
        UsersCommand::Add {
            name,
            role,
            dealer,
            db,
        } => {
            let password = read_password()?;
            let auth = Auth::new(database::open_or_create(&db.db).await?);
            match auth
                .add_user_of(&name, role, dealer.as_deref(), &password, now)
                .await
            {
                Ok(user) => {
                    let what = match &user.dealer {
                        Some(dealer) => format!("{} of dealer {dealer}", user.role),
                        None => user.role.to_string(),
                    };
                    auth.audit(&actor(), "user.add", &user.name, &what, now)
                        .await
                        .map_err(|e| database::named(&db.db, e))?;
                    out!("user {} ({what}) added", user.name);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(&db.db, e),
            }
        }
        UsersCommand::Phone { name, uri, db } => {
            let auth = Auth::new(database::open_existing(&db.db).await?);
            match auth.set_phone(&name, uri.as_deref()).await {
                Ok(user) => {
                    match &user.phone {
                        Some(phone) => out!("user {} has the phone {phone}", user.name),
                        None => out!("user {} has no phone", user.name),
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(&db.db, e),
            }
        }
        UsersCommand::List { db } => {
            let store = database::open_existing(&db.db).await?;
            let users = store
                .users()
                .await
                .map_err(|e| database::named(&db.db, e))?;
            if users.is_empty() {
                out!("no users in {}", watchpost_store::printable(&db.db));
            }
            for user in users {
                let disabled = if user.disabled { "  DISABLED" } else { "" };
                let wait = match user.locked_until {
                    Some(until) if until > now => format!(
                        "  an address is delayed until {} ({} failed sign-ins since the last success)",
                        time(until),
                        user.failed_logins
                    ),
                    _ => String::new(),
                };
                let phone = user
                    .phone
                    .as_deref()
                    .map_or(String::new(), |p| format!("  phone {p}"));
                let dealer = user
                    .dealer
                    .as_deref()
                    .map_or(String::new(), |d| format!("  dealer {d}"));
                out!(
                    "{:<24} {:<13} added {}{disabled}{wait}{phone}{dealer}",
                    user.name,
                    user.role,
                    time(user.created_at)
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        UsersCommand::Disable { name, db } => set_disabled(&name, true, &db.db, now).await,
        UsersCommand::Enable { name, db } => set_disabled(&name, false, &db.db, now).await,
        UsersCommand::Passwd { name, db } => {
            let password = read_password()?;
            let auth = Auth::new(database::open_existing(&db.db).await?);
            match auth.set_password(&name, &password, &actor(), now).await {
                Ok(user) => {
                    out!(
                        "user {} has a new password; their sessions have ended",
                        user.name
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(&db.db, e),
            }
        }
        UsersCommand::Logout { name, db } => {
            let auth = Auth::new(database::open_existing(&db.db).await?);
            match auth.end_sessions(&name, &actor(), now).await {
                Ok(ended) => {
                    out!("user {name}: {ended} session(s) ended");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(&db.db, e),
            }
        }
        UsersCommand::Unlock { name, db } => {
            let auth = Auth::new(database::open_existing(&db.db).await?);
            match auth.unlock(&name, &actor(), now).await {
                Ok(user) => {
                    out!("user {}: failed sign-ins forgotten", user.name);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(&db.db, e),
            }
        }
    }
}

async fn set_disabled(name: &str, disable: bool, db: &str, now: i64) -> anyhow::Result<ExitCode> {
    let auth = Auth::new(database::open_existing(db).await?);
    match auth.set_disabled(name, disable, &actor(), now).await {
        Ok(user) if disable => {
            out!("user {} disabled; their sessions have ended", user.name);
            Ok(ExitCode::SUCCESS)
        }
        Ok(user) => {
            out!("user {} enabled", user.name);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => refused(db, e),
    }
}

pub fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| ms.to_string())
}
