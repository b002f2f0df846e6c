//! `watchpost serve`: runs the live center until SIGTERM or Ctrl-C. With `--demo`, a demo
//! center: demo accounts and user, simulated people on the phone, a trickle of signals.

use crate::config::telephony::Choice;
use crate::config::values::{CenterName, PhoneNumber, Runaway, Span, TimeZone};
use crate::config::{self, ConfigFile};
use anyhow::Context;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use watchpost_core::plan_book::PlanBook;
use watchpost_core::{RunawayLimit, Settings};
use watchpost_server::adapters::{self, Dispatch, Manual, Telephony};
use watchpost_server::sim_telephony::{self, SimDispatch, SimTelephony};
use watchpost_server::{Config, NodeConfig, Server, demo};
use watchpost_telephony::SipTelephony;
use watchpost_wire::Window;

/// Each option overrides its key in `--config` (README, Configuration).
#[derive(Args)]
pub struct ServeArgs {
    /// The center configuration file (TOML); each option below overrides its key.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The database: a SQLite file (default: watchpost.db, or watchpost-demo.db with --demo)
    /// or a PostgreSQL URL (postgres://user@host/db), which several nodes can share.
    /// [key: database.url]
    #[arg(long, env = "WATCHPOST_DB", hide_env_values = true)]
    db: Option<String>,
    /// Make a new, empty center if the database holds none (without it, serve refuses to
    /// start on a database it would have to create, such as a misspelt file name).
    /// [key: database.create]
    #[arg(long)]
    create: bool,
    /// The center's name as voicemails and automated calls say it ("This is NAME with an
    /// urgent message..."). [key: center.name]
    #[arg(long)]
    center_name: Option<CenterName>,
    /// The number people are asked to call back, in E.164 (+15555550199).
    /// [key: center.callback_number]
    #[arg(long)]
    callback_number: Option<PhoneNumber>,
    /// The IANA time zone the console shows times in (default UTC). [key: center.timezone]
    #[arg(long)]
    timezone: Option<TimeZone>,
    /// This node's name among the nodes sharing the database: unique, and the same across
    /// its restarts (default: the host name and the HTTP port). [key: cluster.node]
    #[arg(long)]
    node: Option<String>,
    /// How long a node's leases last unless renewed (default 6s): the longest its alarms
    /// wait for another node to take them over if it dies. [key: cluster.lease]
    #[arg(long)]
    lease: Option<Span>,
    /// Where the DC-09 receivers listen, TCP and UDP (default 127.0.0.1:7100).
    /// [key: receiver.listen]
    #[arg(long)]
    dc09: Option<SocketAddr>,
    /// Where the HTTP API and console listen (default 127.0.0.1:8080). [key: http.listen]
    #[arg(long)]
    http: Option<SocketAddr>,
    /// How far a DC-09 timestamp may lag the receiver clock (default 40s).
    /// [key: receiver.window_past]
    #[arg(long)]
    window_past: Option<Span>,
    /// How far a DC-09 timestamp may lead the receiver clock (default 20s).
    /// [key: receiver.window_future]
    #[arg(long)]
    window_future: Option<Span>,
    /// An account sending more than SIGNALS within WINDOW is a runaway: its signals that only
    /// join an alarm are counted instead of listed (default 30/60s; `off` for never).
    /// [key: receiver.runaway]
    #[arg(long, value_name = "SIGNALS/WINDOW")]
    runaway: Option<Runaway>,
    /// How long a dispatched alarm stays open for follow-up (default 60m, or 2m with
    /// --demo). [key: alarms.follow_up]
    #[arg(long)]
    follow_up: Option<Span>,
    /// A plan file (docs/plans.md) whose plans the center runs in place of the built-in
    /// ones, kind by kind. [key: alarms.plans]
    #[arg(long, value_name = "PLAN_FILE")]
    plans: Option<PathBuf>,
    /// A demo center: demo accounts and a demo/demo admin, simulated people answering the
    /// phone, and a steady trickle of signals of every kind.
    #[arg(long)]
    demo: bool,
    /// With --demo: about how often a new signal arrives (seconds).
    #[arg(long, default_value_t = 8)]
    demo_every: u64,
}

impl ServeArgs {
    /// `log.format` from `--config`, if the file says; a file that does not read is reported
    /// by `run`.
    pub fn log_format(&self) -> Option<config::ops::LogFormat> {
        config::load(self.config.as_ref()?).ok()?.log.format
    }
}

/// What `serve` runs with: each option, else its key in the file, else the default.
struct Resolved {
    db: String,
    create: bool,
    node: NodeConfig,
    dc09: SocketAddr,
    http: SocketAddr,
    window: Window,
    settings: Settings,
    timezone: chrono_tz::Tz,
    telephony: config::telephony::Choice,
    recordings: watchpost_server::RecordingsConfig,
    retention: watchpost_server::RetentionConfig,
    resolution_codes: watchpost_server::resolution::ResolutionCodes,
    console: watchpost_server::ConsoleConfig,
    limits: watchpost_server::ReceiverLimits,
    secrets: watchpost_server::SecretsConfig,
    listen: watchpost_server::ListenConfig,
    login: watchpost_server::auth::LoginConfig,
    metrics_token: Option<watchpost_server::api::MetricsToken>,
}

/// The demo center's words: not a real center's, so a demo never passes for one.
const DEMO_NAME: &str = "the watchpost demo center";
const DEMO_CALLBACK: &str = "+15555550199";

fn resolve(args: &ServeArgs, file: ConfigFile) -> anyhow::Result<Resolved> {
    let db = args.db.clone().or(file.database.url).unwrap_or_else(|| {
        if args.demo {
            "watchpost-demo.db".into()
        } else {
            "watchpost.db".into()
        }
    });
    let lease = args
        .lease
        .or(file.cluster.lease)
        .map_or(NodeConfig::DEFAULT_LEASE, |s| s.0);
    if lease < Duration::from_secs(1) {
        anyhow::bail!("cluster.lease (--lease) {lease:?}: must be at least 1s");
    }
    let http = args
        .http
        .or(file.http.listen)
        .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8080)));
    let name = args
        .node
        .clone()
        .or(file.cluster.node)
        .unwrap_or_else(|| default_node_name(http.port()));
    if name.trim().is_empty() {
        anyhow::bail!("cluster.node (--node): is empty");
    }
    let node = NodeConfig {
        lease,
        ..NodeConfig::new(&name, &db)
    };
    let window = |option: Option<Span>, key: Option<Span>, name: &str, default: u32| {
        option
            .or(key)
            .map_or(Ok(default), Span::whole_seconds)
            .map_err(|e| anyhow::anyhow!("receiver.{name} (--{}): {e}", name.replace('_', "-")))
    };
    let window = Window::new(
        window(
            args.window_past,
            file.receiver.window_past,
            "window_past",
            40,
        )?,
        window(
            args.window_future,
            file.receiver.window_future,
            "window_future",
            20,
        )?,
    );
    let follow_up = args
        .follow_up
        .or(file.alarms.follow_up)
        .map_or(if args.demo { 120 } else { 3600 } * 1000, |s| {
            s.0.as_millis() as i64
        });
    let center_name = args.center_name.clone().or(file.center.name).map(|n| n.0);
    let center_phone = args
        .callback_number
        .clone()
        .or(file.center.callback_number)
        .map(|n| n.0);
    let (center_name, center_phone) = match (center_name, center_phone) {
        (Some(name), Some(phone)) => (name, phone),
        (name, phone) if args.demo => (
            name.unwrap_or_else(|| DEMO_NAME.into()),
            phone.unwrap_or_else(|| DEMO_CALLBACK.into()),
        ),
        (None, _) => anyhow::bail!(
            "center.name is not set: voicemails and automated calls say who is calling \
             (\"This is NAME with an urgent message\"); set it in the [center] table of \
             --config FILE, or give --center-name"
        ),
        (_, None) => anyhow::bail!(
            "center.callback_number is not set: voicemails and automated calls ask people to \
             call the center back at it; set it in the [center] table of --config FILE, or \
             give --callback-number"
        ),
    };
    let recordings = file.telephony.recordings(&db).map_err(anyhow::Error::msg)?;
    let retention = file.retention.config().map_err(anyhow::Error::msg)?;
    let console = file.console.config().map_err(anyhow::Error::msg)?;
    let limits = file.receiver.limits().map_err(anyhow::Error::msg)?;
    let secrets = file
        .secrets
        .config(None, |name| std::env::var(name).ok())
        .map_err(anyhow::Error::msg)?;
    let listen = config::listen::config(&file.receiver, &file.http).map_err(anyhow::Error::msg)?;
    let login = file.login.config().map_err(anyhow::Error::msg)?;
    let metrics_token = file
        .metrics
        .token(|name| std::env::var(name).ok())
        .map_err(anyhow::Error::msg)?;
    let telephony = file
        .telephony
        .choose(&center_phone, args.demo, |name| std::env::var(name).ok())
        .map_err(anyhow::Error::msg)?;
    Ok(Resolved {
        console,
        limits,
        secrets,
        listen,
        login,
        metrics_token,
        telephony,
        recordings,
        retention,
        db,
        create: args.create || file.database.create.unwrap_or(false) || args.demo,
        node,
        dc09: args
            .dc09
            .or(file.receiver.listen)
            .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 7100))),
        http,
        window,
        settings: Settings {
            follow_up_ms: follow_up,
            center_phone,
            center_name,
            runaway: args
                .runaway
                .or(file.receiver.runaway)
                .map_or(Some(RunawayLimit::default()), |r| r.0),
            plans: match args.plans.clone().or(file.alarms.plans.map(PathBuf::from)) {
                Some(path) => PlanBook::with_default(
                    crate::plans_cmd::read(&path)
                        .map_err(|e| anyhow::anyhow!("alarms.plans: {e}"))?,
                ),
                None => PlanBook::default(),
            },
        },
        timezone: args
            .timezone
            .or(file.center.timezone)
            .map_or(chrono_tz::Tz::UTC, |z| z.0),
        resolution_codes: file.alarms.resolution_codes.unwrap_or_default(),
    })
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let file = match &args.config {
        Some(path) => config::load(path).map_err(anyhow::Error::msg)?,
        None => ConfigFile::default(),
    };
    let Resolved {
        db,
        create,
        node,
        dc09,
        http,
        window,
        settings,
        timezone,
        telephony,
        recordings,
        retention,
        resolution_codes,
        console,
        limits,
        secrets,
        listen,
        login,
        metrics_token,
    } = resolve(&args, file)?;
    let shown = watchpost_store::printable(&db);
    let existed = watchpost_store::exists(&db).await?;
    if !existed && !create {
        anyhow::bail!(
            "database {shown} holds no center: check the name, or give --create (or \
             database.create = true) to start a new, empty one"
        );
    }
    if args.demo {
        let store = watchpost_store::open(&db).await?;
        let enrolled = demo::prepare(&*store, watchpost_server::now_ms())
            .await
            .with_context(|| format!("database {shown}"))?;
        if enrolled > 0 {
            say!("watchpost: demo database {shown} created with {enrolled} accounts");
        }
    }
    let scheme = if listen.http.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let mut server = Server::start(Config {
        db: db.clone(),
        node: node.clone(),
        dc09,
        http: Some(http),
        window,
        settings,
        timezone,
        recordings: recordings.clone(),
        retention: retention.clone(),
        // Callers' numbers and the numbers agents type are read alike.
        region: match &telephony {
            Choice::Sip(config) => config.region,
            _ => watchpost_server::phone::Region::US,
        },
        resolution_codes,
        console,
        limits,
        secrets,
        listen,
        login,
        webhooks: Default::default(),
        metrics_token,
    })
    .await
    .map_err(|e| crate::database::named(&db, e))?;
    if !existed && !args.demo {
        say!("watchpost: created a new, empty center in {shown}");
    }
    say!(
        "watchpost: database {shown}, node {} (leases of {:?})",
        node.name,
        node.lease
    );
    say!(
        "watchpost: DC-09 receiver on tcp://{0} and udp://{0}",
        server.dc09_addr
    );
    say!(
        "watchpost: call recordings in {}, kept {}; signals kept {}, alarms kept {}",
        recordings.dir.display(),
        kept(Some(recordings.keep)),
        kept(retention.signals),
        kept(retention.alarms)
    );
    let http = server.http_addr.expect("serve always listens for HTTP");
    say!(
        "watchpost: console on {scheme}://{http}/ and API on {scheme}://{http}/api (OpenAPI: \
         /api/openapi.json)"
    );
    let (_, none) = tokio::sync::mpsc::unbounded_channel();
    let effects = std::mem::replace(&mut server.effects, none);
    let (_, none) = tokio::sync::mpsc::unbounded_channel();
    let adopted = std::mem::replace(&mut server.adopted, none);
    let (stop_demo, demo_stopping) = tokio::sync::watch::channel(false);
    let telephony: Arc<dyn Telephony> = match telephony {
        Choice::Manual => Arc::new(Manual),
        Choice::Sim => Arc::new(SimTelephony::start(
            server.commands.clone(),
            server.board.clone(),
            sim_telephony::CallTiming::default(),
        )),
        Choice::Sip(config) => {
            let (listen, trunk) = (config.listen, config.trunk.uri());
            let agents = watchpost_telephony::agent::Agents {
                board: server.board.clone(),
                store: server.store.clone(),
                lines: server.lines.clone(),
            };
            let recordings = Some(server.recordings.clone());
            let (sip, events) = SipTelephony::start(*config, Some(agents), recordings).await?;
            tokio::spawn(watchpost_telephony::feed(
                events,
                server.commands.clone(),
                server.metrics.clone(),
            ));
            server.board.set_center_dials(true);
            say!(
                "watchpost: SIP telephony on udp://{listen} and tcp://{listen}, calls through {trunk}"
            );
            Arc::new(sip)
        }
    };
    let dispatch: Arc<dyn Dispatch> = if args.demo {
        Arc::new(SimDispatch {
            commands: server.commands.clone(),
            confirms_after: Duration::from_secs(20),
        })
    } else {
        Arc::new(Manual)
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
        say!(
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
        return Err(crate::database::named(&db, e));
    }
    say!("watchpost: stopping");
    let _ = stop_demo.send(true);
    let store = server.store.clone();
    server
        .stop()
        .await
        .map_err(|e| crate::database::named(&db, e))?;
    // Nothing uses the store any more: a SQLite center is left as one file, its WAL
    // checkpointed into it.
    store.close().await;
    say!("watchpost: stopped");
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

/// A retention period as the start says it: humantime would say 400 days as "1year 1month
/// 4days 7h 26m 24s".
fn kept(keep: Option<std::time::Duration>) -> String {
    match keep.map(|k| (k, k.as_secs())) {
        None => "for ever".into(),
        Some((_, s)) if s % 86_400 == 0 => format!("{} days", s / 86_400),
        Some((k, _)) => humantime::format_duration(k).to_string(),
    }
}
