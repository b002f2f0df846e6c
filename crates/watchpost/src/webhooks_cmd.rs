//! `watchpost webhooks add --url URL [--dealer D] [--events a,b] [--signals]`: an endpoint the
//! center posts signed events to; its secret is printed once and stored sealed with the master
//! key. `webhooks list` shows the endpoints and what each is still owed, `webhooks log ID` an
//! endpoint's delivery log, `webhooks remove ID` ends one. Adding and removing are audited
//! (`webhook.add`, `webhook.remove`). docs/webhooks.md.

use crate::database;
use crate::users_cmd::{actor, time};
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;
use watchpost_server::webhooks::endpoints::{NewEndpoint, new_endpoint};
use watchpost_store::AuditEntry;

#[derive(Subcommand)]
pub enum WebhooksCommand {
    /// Add an endpoint and print its signing secret (only this once).
    Add {
        /// Where events are posted: an http:// or https:// URL.
        #[arg(long)]
        url: String,
        /// Only this dealer's accounts; without it, every account (the center's own).
        #[arg(long, value_name = "D")]
        dealer: Option<String>,
        /// The event types wanted, comma-separated (default: all but signal.received).
        #[arg(long, value_delimiter = ',', value_name = "TYPES")]
        events: Option<Vec<String>>,
        /// Also signal.received: one event per signal received.
        #[arg(long)]
        signals: bool,
        /// The master key that seals the secret (or give it in WATCHPOST_MASTER_KEY).
        #[arg(long, value_name = "PATH")]
        master_key_file: Option<PathBuf>,
        #[command(flatten)]
        db: crate::users_cmd::Db,
    },
    /// List the endpoints: id, dealer, events, deliveries still owed, URL.
    List {
        #[command(flatten)]
        db: crate::users_cmd::Db,
    },
    /// Remove an endpoint; what it was still owed is dropped.
    Remove {
        id: String,
        #[command(flatten)]
        db: crate::users_cmd::Db,
    },
    /// An endpoint's delivery log, newest first.
    Log {
        id: String,
        /// At most this many lines (1-1000).
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[command(flatten)]
        db: crate::users_cmd::Db,
    },
}

pub async fn run(command: WebhooksCommand) -> anyhow::Result<ExitCode> {
    let now = chrono::Utc::now().timestamp_millis();
    match command {
        WebhooksCommand::Add {
            url,
            dealer,
            events,
            signals,
            master_key_file,
            db,
        } => {
            let master = crate::config::secrets::SecretsTable::default()
                .config(master_key_file.as_deref(), |name| std::env::var(name).ok())
                .map_err(anyhow::Error::msg)?
                .master_key;
            let new = NewEndpoint {
                url,
                dealer,
                events,
                signals,
            };
            let (endpoint, secret) = match new_endpoint(master.as_deref(), &new, now) {
                Ok(made) => made,
                Err(e) => {
                    err!("{e}");
                    return Ok(ExitCode::from(2));
                }
            };
            let store = database::open_existing(db.path()).await?;
            store
                .put_endpoint(&endpoint)
                .await
                .map_err(|e| database::named(db.path(), e))?;
            let whose = endpoint
                .dealer
                .as_deref()
                .map_or("every account".to_string(), |d| format!("dealer {d}"));
            let audit = AuditEntry {
                at: now,
                actor: actor(),
                action: "webhook.add".into(),
                subject: endpoint.id.clone(),
                detail: format!("{} ({whose}; {})", endpoint.url, endpoint.events.join(",")),
            };
            store
                .put_audit(&audit)
                .await
                .map_err(|e| database::named(db.path(), e))?;
            err!(
                "webhook {} for {whose}: its signing secret is shown this once, keep it now \
                 (docs/webhooks.md, \"Verifying a delivery\")",
                endpoint.id
            );
            out!("{} {secret}", endpoint.id);
            Ok(ExitCode::SUCCESS)
        }
        WebhooksCommand::List { db } => {
            let store = database::open_existing(db.path()).await?;
            let named = |e| database::named(db.path(), e);
            let endpoints = store.endpoints().await.map_err(named)?;
            let owed = store.pending_counts().await.map_err(named)?;
            if endpoints.is_empty() {
                out!("no webhooks");
            }
            for e in endpoints {
                let pending = owed
                    .iter()
                    .find(|(id, _)| *id == e.id)
                    .map_or(0, |(_, n)| *n);
                out!(
                    "{}  {:<12} {} pending  made {}  {}  {}",
                    e.id,
                    e.dealer.as_deref().unwrap_or("(center)"),
                    pending,
                    time(e.created_at),
                    e.events.join(","),
                    e.url
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        WebhooksCommand::Remove { id, db } => {
            let store = database::open_existing(db.path()).await?;
            let named = |e| database::named(db.path(), e);
            if !store.delete_endpoint(&id).await.map_err(named)? {
                err!("id: no webhook {id:?} (see `watchpost webhooks list`)");
                return Ok(ExitCode::from(2));
            }
            let audit = AuditEntry {
                at: now,
                actor: actor(),
                action: "webhook.remove".into(),
                subject: id.clone(),
                detail: "removed with what it was still owed".into(),
            };
            store.put_audit(&audit).await.map_err(named)?;
            out!("webhook {id} removed");
            Ok(ExitCode::SUCCESS)
        }
        WebhooksCommand::Log { id, limit, db } => {
            if !(1..=1000).contains(&limit) {
                err!("limit: {limit} is not within 1-1000");
                return Ok(ExitCode::from(2));
            }
            let store = database::open_existing(db.path()).await?;
            let named = |e| database::named(db.path(), e);
            if !store
                .endpoints()
                .await
                .map_err(named)?
                .iter()
                .any(|e| e.id == id)
            {
                err!("id: no webhook {id:?} (see `watchpost webhooks list`)");
                return Ok(ExitCode::from(2));
            }
            let attempts = store.attempts(&id, limit).await.map_err(named)?;
            if attempts.is_empty() {
                out!("no deliveries yet");
            }
            for a in attempts {
                let status = a.status.map_or("-".to_string(), |s| s.to_string());
                let outcome = match &a.error {
                    None => "delivered".to_string(),
                    Some(e) => e.clone(),
                };
                out!(
                    "{}  {}  {:<18} attempt {:<3} status {:<3}  {outcome}",
                    time(a.at),
                    a.event,
                    a.kind,
                    a.attempt,
                    status
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
