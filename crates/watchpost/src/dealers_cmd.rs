//! `watchpost dealers add ID NAME` (or rename the dealer ID) and `dealers list`: the dealers
//! (installers) a wholesale center monitors for. Their accounts name them (`dealer` in an
//! account file), their users are added with `users add NAME --role dealer_admin --dealer ID`.
//! Each change is written to the audit trail as done by `cli:<os user>`.

use crate::database;
use crate::users_cmd::{Db, actor, time};
use clap::Subcommand;
use std::process::ExitCode;
use watchpost_server::auth::Auth;

#[derive(Subcommand)]
pub enum DealersCommand {
    /// Add a dealer, or give an existing one a new name. ID: 1 to 16 of A-Z, 0-9 and -
    /// (kept in upper case). Creates the database if it is new.
    Add {
        id: String,
        name: String,
        #[command(flatten)]
        db: Db,
    },
    /// List the dealers with how many accounts and users each has.
    List {
        #[command(flatten)]
        db: Db,
    },
}

pub async fn run(command: DealersCommand) -> anyhow::Result<ExitCode> {
    let now = chrono::Utc::now().timestamp_millis();
    match command {
        DealersCommand::Add { id, name, db } => {
            let auth = Auth::new(database::open_or_create(db.path()).await?);
            match auth.put_dealer(&id, &name, now).await {
                Ok(dealer) => {
                    auth.audit(&actor(), "dealer.put", &dealer.id, &dealer.name, now)
                        .await
                        .map_err(|e| database::named(db.path(), e))?;
                    out!("dealer {} ({}) saved", dealer.id, dealer.name);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) if !e.is_internal() => {
                    err!("{e}");
                    Ok(ExitCode::from(2))
                }
                Err(e) => Err(database::named(db.path(), e)),
            }
        }
        DealersCommand::List { db } => {
            let store = database::open_existing(db.path()).await?;
            let named = |e| database::named(db.path(), e);
            let dealers = store.dealers().await.map_err(named)?;
            if dealers.is_empty() {
                out!("no dealers in {}", watchpost_store::printable(db.path()));
            }
            let users = store.users().await.map_err(named)?;
            for dealer in dealers {
                let accounts = store
                    .dealer_accounts(&dealer.id, "", i64::MAX)
                    .await
                    .map_err(named)?
                    .len();
                let people = users
                    .iter()
                    .filter(|u| u.dealer.as_deref() == Some(dealer.id.as_str()))
                    .count();
                out!(
                    "{:<16} {}  {accounts} account(s), {people} user(s), added {}",
                    dealer.id,
                    dealer.name,
                    time(dealer.created_at)
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
