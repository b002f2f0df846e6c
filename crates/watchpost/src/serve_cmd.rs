//! `watchpost serve`: runs the live center until SIGTERM or Ctrl-C. With `--demo`, a demo
//! center: demo accounts and user, simulated people on the phone, a trickle of signals.

use clap::Args;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use watchpost_core::Settings;
use watchpost_server::adapters::{self, Dispatch, Manual, Telephony};
use watchpost_server::sim_telephony::{self, SimDispatch, SimTelephony};
use watchpost_server::{Config, NodeConfig, Server, demo};
use watchpost_wire::Window;

#[derive(Args)]
pub struct ServeArgs {
    /// The database: a SQLite file (default: watchpost.db, or watchpost-demo.db with --demo)
    /// or a PostgreSQL URL (postgres://user@host/db), which several nodes can share.
    #[arg(long)]
    db: Option<String>,
    /// This node's name among the nodes sharing the database: unique, and the same across
    /// its restarts (default: the host name and the HTTP port).
    #[arg(long)]
    node: Option<String>,
    /// How long a node's leases last unless renewed (e.g. 6s, 10s): the longest its alarms
    /// wait for another node to take them over if it dies.
    #[arg(long, default_value = "6s", value_parser = humantime::parse_duration)]
    lease: Duration,
    /// Where the DC-09 receivers listen (TCP and UDP).
    #[arg(long, default_value = "127.0.0.1:7100")]
    dc09: SocketAddr,
    /// Where the HTTP API listens.
    #[arg(long, default_value = "127.0.0.1:8080")]
    http: SocketAddr,
    /// Seconds a DC-09 timestamp may lag the receiver clock.
    #[arg(long, default_value_t = 40)]
    window_past: u32,
    /// Seconds a DC-09 timestamp may lead the receiver clock.
    #[arg(long, default_value_t = 20)]
    window_future: u32,
    /// How long a dispatched alarm stays open for follow-up (seconds; 3600, or 120 with --demo).
    #[arg(long)]
    follow_up: Option<u64>,
    /// A demo center: demo accounts and a demo/demo admin, simulated people answering the
    /// phone, and a steady trickle of signals of every kind.
    #[arg(long)]
    demo: bool,
    /// With --demo: about how often a new signal arrives (seconds).
    #[arg(long, default_value_t = 8)]
    demo_every: u64,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let db = args.db.clone().unwrap_or_else(|| {
        if args.demo {
            "watchpost-demo.db".into()
        } else {
            "watchpost.db".into()
        }
    });
    if args.lease < Duration::from_secs(1) {
        anyhow::bail!("--lease {:?}: must be at least 1s", args.lease);
    }
    let node = NodeConfig {
        lease: args.lease,
        ..NodeConfig::new(
            &args
                .node
                .clone()
                .unwrap_or_else(|| default_node_name(args.http.port())),
            &db,
        )
    };
    let follow_up = args.follow_up.unwrap_or(if args.demo { 120 } else { 3600 });
    let settings = Settings {
        follow_up_ms: follow_up as i64 * 1000,
        ..Settings::default()
    };
    if args.demo {
        let store = watchpost_store::open(&db).await?;
        let enrolled = demo::prepare(&*store, watchpost_server::now_ms()).await?;
        if enrolled > 0 {
            println!(
                "watchpost: demo database {} created with {enrolled} accounts",
                watchpost_store::printable(&db)
            );
        }
    }
    let mut server = Server::start(Config {
        db: db.clone(),
        node: node.clone(),
        dc09: args.dc09,
        http: Some(args.http),
        window: Window::new(args.window_past, args.window_future),
        settings,
    })
    .await?;
    println!(
        "watchpost: database {}, node {} (leases of {:?})",
        watchpost_store::printable(&db),
        node.name,
        node.lease
    );
    println!(
        "watchpost: DC-09 receiver on tcp://{0} and udp://{0}",
        server.dc09_addr
    );
    let http = server.http_addr.expect("serve always listens for HTTP");
    println!(
        "watchpost: console on http://{http}/ and API on http://{http}/api (OpenAPI: /api/openapi.json)"
    );
    let (_, none) = tokio::sync::mpsc::unbounded_channel();
    let effects = std::mem::replace(&mut server.effects, none);
    let (_, none) = tokio::sync::mpsc::unbounded_channel();
    let adopted = std::mem::replace(&mut server.adopted, none);
    let (stop_demo, demo_stopping) = tokio::sync::watch::channel(false);
    let (telephony, dispatch): (Arc<dyn Telephony>, Arc<dyn Dispatch>) = if args.demo {
        let telephony = SimTelephony::start(
            server.commands.clone(),
            server.board.clone(),
            sim_telephony::CallTiming::default(),
        );
        let agency = SimDispatch {
            commands: server.commands.clone(),
            confirms_after: Duration::from_secs(20),
        };
        (Arc::new(telephony), Arc::new(agency))
    } else {
        (Arc::new(Manual), Arc::new(Manual))
    };
    tokio::spawn(adapters::carry_out(
        effects,
        adopted,
        server.board.clone(),
        telephony,
        dispatch,
    ));
    if args.demo {
        let accounts = demo::accounts(watchpost_server::now_ms(), 36);
        let accounts = {
            let mut enrolled = Vec::new();
            for a in accounts {
                if server.store.account(&a.number).await?.is_some() {
                    enrolled.push(a);
                }
            }
            enrolled
        };
        tokio::spawn(demo::trickle(
            accounts,
            server.intake.clone(),
            Duration::from_secs(args.demo_every.max(1)),
            demo_stopping,
        ));
        println!(
            "watchpost: demo: log in as {} / {} (every account's verbal password: {:?}); simulated people answer the phone",
            demo::USER,
            demo::PASSWORD,
            demo::VERBAL_PASSWORD
        );
    }
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let failure = tokio::select! {
        _ = tokio::signal::ctrl_c() => None,
        _ = terminate.recv() => None,
        e = server.failed() => Some(e),
    };
    if let Some(e) = failure {
        return Err(e.into());
    }
    println!("watchpost: stopping");
    let _ = stop_demo.send(true);
    server.stop().await?;
    println!("watchpost: stopped");
    Ok(())
}

fn default_node_name(http_port: u16) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "watchpost".into());
    format!("{host}-{http_port}")
}
