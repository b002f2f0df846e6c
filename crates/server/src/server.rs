//! Starting and stopping a live center (one node of it): the store, the center that picks up
//! the partitions it takes leases on, the intake, the DC-09 receivers (TCP and UDP on one
//! address), supervision, the board following the other nodes, and the runtime.

use crate::board::{self, Board};
use crate::cluster::{Cluster, NodeConfig};
use crate::dc09::{self, Receiver};
use crate::health::Health;
use crate::intake::{Commands, Intake};
use crate::keys::Keys;
use crate::metrics::Metrics;
use crate::recordings::Recordings;
use crate::runtime;
use crate::supervision::Supervision;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use watchpost_center::{Center, CenterError, Effect};
use watchpost_core::Settings;
use watchpost_core::router::Event;
use watchpost_store::{AlarmId, Db, StoreError};
use watchpost_wire::Window;

#[derive(Debug, Clone)]
pub struct Config {
    /// The store: a SQLite file path or a `postgres://` URL (see `watchpost_store::open`).
    pub db: String,
    pub node: NodeConfig,
    pub dc09: SocketAddr,
    /// Where the HTTP API (and console) listens; `None`: no HTTP.
    pub http: Option<SocketAddr>,
    /// Accepted DC-09 timestamp skew.
    pub window: Window,
    pub settings: Settings,
    /// The time zone the console shows clock times in (an IANA zone).
    pub timezone: chrono_tz::Tz,
    /// Where call recordings are kept, and for how long.
    pub recordings: crate::recordings::RecordingsConfig,
    /// How long signals and alarms are kept, and how the sweep paces itself.
    pub retention: crate::retention::RetentionConfig,
    /// Where national phone numbers (typed in an account search, presented by callers) are
    /// from.
    pub region: crate::phone::Region,
    /// What the handler may close an alarm with.
    pub resolution_codes: crate::resolution::ResolutionCodes,
    /// The console's attention thresholds (waiting colours, unattended alarms).
    pub console: crate::attention::ConsoleConfig,
    /// What the DC-09 receivers let in: allow-list, UDP rates, unknown-account limits.
    pub limits: crate::admission::ReceiverLimits,
    /// The master key DC-09 keys are sealed with (`crate::secrets`).
    pub secrets: crate::secrets::SecretsConfig,
    /// The listeners' connection caps and timeouts, and HTTP's TLS identity.
    pub listen: crate::listen::ListenConfig,
    /// How sign-ins are bounded: the password-hashing gate and the rate limits.
    pub login: crate::auth::LoginConfig,
    /// How webhook deliveries are retried and paced.
    pub webhooks: crate::webhooks::WebhookConfig,
    /// The bearer token `/metrics` asks for (`metrics.token_env`); `None`: open on a loopback
    /// listener, signed-in supervisors and admins elsewhere.
    pub metrics_token: Option<crate::api::MetricsToken>,
}

#[derive(Debug, Error)]
pub enum ServerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Center(#[from] CenterError),
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    /// The TLS certificate or key cannot be used: the file and the reason.
    #[error("{0}")]
    Tls(String),
    #[error("the center stopped: {0}")]
    Stopped(String),
    #[error("DC-09 keys: {0}")]
    Secrets(#[from] crate::secrets::SecretsError),
    #[error(transparent)]
    Pepper(#[from] crate::pepper::PepperError),
}

pub struct Server {
    pub dc09_addr: SocketAddr,
    pub http_addr: Option<SocketAddr>,
    pub store: Db,
    pub cluster: Arc<Cluster>,
    /// The open alarms as of the last commit, and their changes.
    pub board: Arc<Board>,
    /// Inputs from agents and adapters.
    pub commands: Commands,
    /// Signals from other sources than DC-09 (the HTTP API, supervision).
    pub intake: Intake,
    /// Call recordings: telephony saves each call's audio here.
    pub recordings: Arc<Recordings>,
    /// What this node's retention sweeps removed since it started.
    pub retention: Arc<crate::retention::RetentionCounts>,
    /// Calls to the center not yet attached to an alarm: the telephony registers them, agents
    /// attach them.
    pub lines: Arc<crate::lines::Lines>,
    /// What the engine asked for, batch by batch, after each was committed.
    pub effects: mpsc::UnboundedReceiver<Vec<Effect>>,
    /// Alarms this node took over (at its start, or from a node that died), whose calls and
    /// dispatches in progress the adapters carry on.
    pub adopted: mpsc::UnboundedReceiver<Vec<AlarmId>>,
    /// The node's metrics: adapters count their failures here.
    pub metrics: Arc<Metrics>,
    stop: watch::Sender<bool>,
    background: Vec<JoinHandle<()>>,
    runtime: JoinHandle<Result<(), CenterError>>,
}

const SUPERVISION_TICK: Duration = Duration::from_secs(1);

impl Server {
    pub async fn start(config: Config) -> Result<Server, ServerError> {
        // A bad certificate stops the start before anything listens.
        let tls = match (&config.http, &config.listen.http.tls) {
            (Some(_), Some(files)) => Some(crate::tls::acceptor(files).map_err(ServerError::Tls)?),
            _ => None,
        };
        let fd_limit = crate::listen::raise_fd_limit();
        let (dc09_caps, http_caps) =
            crate::listen::fit(config.listen.dc09.caps, config.listen.http.caps, fd_limit);
        let caps = format!(
            "connection caps: DC-09 {} ({} per source), HTTP {} ({} per source)",
            dc09_caps.total, dc09_caps.per_source, http_caps.total, http_caps.per_source
        );
        if (dc09_caps, http_caps) == (config.listen.dc09.caps, config.listen.http.caps) {
            tracing::info!("{caps}");
        } else {
            // The operator set (or left) caps the open-file limit cannot carry.
            let limit = fd_limit.map_or("unknown".into(), |l| l.to_string());
            tracing::warn!("open-file limit {limit}: {caps}, lowered to fit it");
        }
        let dc09_rules = crate::listen::Dc09Listen {
            caps: dc09_caps,
            ..config.listen.dc09.clone()
        };
        let http_rules = crate::listen::HttpListen {
            caps: http_caps,
            ..config.listen.http.clone()
        };
        let store = watchpost_store::open(&config.db).await?;
        // Before anything listens: keyed accounts need the master key, and keys stored in
        // clear are sealed now.
        let master = config.secrets.master_key.clone();
        // Read before the keys and intervals: what changes while they are read is applied
        // again from the feed.
        let since = store.last_account_change().await?;
        let stored_keys = crate::secrets::seal_stored(&*store, master.as_deref()).await?;
        if stored_keys.sealed > 0 {
            tracing::info!("sealed {} DC-09 keys stored in clear", stored_keys.sealed);
        }
        // The verbal-password pepper: created by the first node with a master key, opened by
        // every one. A stored pepper without the master key does not stop the center (alarms
        // must flow): it starts, says so, and each keyed verbal password it is asked to check
        // is answered with that reason (`PepperError::Missing`) instead of a verdict.
        let pepper = match crate::pepper::load_or_create(&*store, master.as_deref()).await {
            Ok(pepper) => pepper.map(Arc::new),
            Err(crate::pepper::PepperError::NoMasterKey) => {
                tracing::error!(
                    "{}; until then verbal passwords hashed with it cannot be checked",
                    crate::pepper::PepperError::NoMasterKey
                );
                None
            }
            Err(e) => return Err(e.into()),
        };
        let cluster = Arc::new(Cluster::new(config.node.clone(), store.clone()));
        let file_plans = config.settings.plans.default_set().cloned();
        let plans = crate::plans::load(&store, file_plans.as_ref()).await?;
        let (plans_tx, plans_rx) = watch::channel(plans.clone());
        let settings = Settings {
            plans,
            ..config.settings.clone()
        };
        let mut center = Center::new(store.clone(), settings);
        // Webhook events are derived only while some endpoint exists (read now, so a restart
        // misses none), at no cost to a center without webhooks.
        let webhooks_wanted = Arc::new(std::sync::atomic::AtomicBool::new(
            !store.endpoints().await?.is_empty(),
        ));
        center.report_webhooks_while(webhooks_wanted.clone());
        let (effects_tx, effects) = mpsc::unbounded_channel();
        let (adopted_tx, adopted) = mpsc::unbounded_channel();

        let tcp =
            crate::listen::bind(config.dc09).map_err(|e| ServerError::Bind(config.dc09, e))?;
        let dc09_addr = tcp
            .local_addr()
            .map_err(|e| ServerError::Bind(config.dc09, e))?;
        let udp = UdpSocket::bind(dc09_addr)
            .await
            .map_err(|e| ServerError::Bind(dc09_addr, e))?;

        let (stop, stopping) = watch::channel(false);
        let metrics = Arc::new(Metrics::default());
        let health = Arc::new(Health::default());
        let (intake, submissions) = Intake::new();
        let (commands, orders) = Commands::new();
        let board = Arc::new(Board::default());
        let recordings = Arc::new(Recordings::new(
            store.clone(),
            commands.clone(),
            config.recordings.clone(),
        ));
        // The partitions this node can take now are driven before anything is received.
        let taken = cluster.keep_leases(&mut center, crate::now_ms()).await?;
        board.follow_center(&center, &taken);
        let _ = adopted_tx.send(taken);
        // The keys as opened above: each unsealed once per start.
        let keys = Keys::opened(store.clone(), master, stored_keys.opened);
        let supervision = Supervision::load(&*store, crate::now_ms(), config.node.shared).await?;
        let feed = crate::account_feed::Follower::new(
            store.clone(),
            keys.clone(),
            supervision.clone(),
            since,
            crate::now_ms(),
        );
        let intake_handle = intake.clone();
        let tally = Arc::new(crate::admission::Tally::default());
        let receiver = Arc::new(Receiver {
            intake: intake.clone(),
            keys: keys.clone(),
            supervision: supervision.clone(),
            window: config.window,
            admission: crate::admission::Admission::new(&config.limits, tally.clone()),
            unknown: crate::unknown_budget::UnknownBudget::new(
                store.clone(),
                keys.clone(),
                &config.limits,
                tally,
            ),
            metrics: metrics.clone(),
            health: health.clone(),
        });
        let mut background = vec![
            tokio::spawn(feed.run(stopping.clone())),
            tokio::spawn(dc09::serve_tcp(
                tcp,
                receiver.clone(),
                dc09_rules,
                stopping.clone(),
            )),
            tokio::spawn(dc09::serve_udp(udp, receiver, stopping.clone())),
            tokio::spawn(watch_supervision(
                store.clone(),
                supervision,
                intake.clone(),
                board.clone(),
                cluster.clone(),
                metrics.clone(),
                stopping.clone(),
            )),
            tokio::spawn(crate::health::watch_commits(
                health.clone(),
                intake.clone(),
                commands.clone(),
                metrics.clone(),
                stopping.clone(),
            )),
        ];
        let lines = Arc::new(crate::lines::Lines::new(config.region));
        let sweep = crate::retention::Retention::new(
            store.clone(),
            recordings.clone(),
            config.retention.clone(),
        )
        .with_counts(metrics.retention.clone());
        let retention = sweep.counts();
        background.push(tokio::spawn(sweep.run(stopping.clone())));
        let delivery = crate::webhooks::delivery::Delivery {
            store: store.clone(),
            master: config.secrets.master_key.clone(),
            node: config.node.name.clone(),
            shared: config.node.shared,
            config: config.webhooks,
            wanted: webhooks_wanted,
            metrics: metrics.clone(),
        };
        background.push(tokio::spawn(delivery.run(stopping.clone())));
        if config.node.shared {
            background.push(tokio::spawn(board::follow(
                board.clone(),
                store.clone(),
                stopping.clone(),
            )));
        }
        let channels = runtime::Channels {
            submissions,
            commands: orders,
            effects: effects_tx,
            adopted: adopted_tx,
            plans: plans_rx,
            stop: stopping.clone(),
            metrics: metrics.clone(),
            health: health.clone(),
        };
        background.push(tokio::spawn(crate::plans::follow(
            store.clone(),
            file_plans,
            plans_tx,
            stopping,
        )));
        let runtime = tokio::spawn(runtime::run(
            center,
            board.clone(),
            cluster.clone(),
            channels,
        ));
        let http_addr = match config.http {
            Some(addr) => {
                crate::auth::return_freed_hash_memory();
                let listener = crate::listen::bind(addr).map_err(|e| ServerError::Bind(addr, e))?;
                let local = listener
                    .local_addr()
                    .map_err(|e| ServerError::Bind(addr, e))?;
                let api = crate::api::router(crate::api::ApiState {
                    store: store.clone(),
                    cluster: cluster.clone(),
                    board: board.clone(),
                    commands: commands.clone(),
                    intake: intake_handle.clone(),
                    auth: Arc::new(crate::auth::Auth::configured(
                        store.clone(),
                        crate::auth::Policy::default(),
                        config.login,
                    )),
                    recordings: recordings.clone(),
                    lines: lines.clone(),
                    timezone: config.timezone,
                    resolution_codes: Arc::new(config.resolution_codes.clone()),
                    console: config.console,
                    secrets: config.secrets.clone(),
                    pepper: pepper.clone(),
                    cookie: crate::api::SessionCookie {
                        secure: tls.is_some(),
                    },
                    password_checks: Default::default(),
                    metrics: metrics.clone(),
                    health: health.clone(),
                    metrics_access: crate::api::MetricsAccess::new(
                        config.metrics_token.clone(),
                        local.ip().is_loopback(),
                    ),
                });
                background.push(tokio::spawn(crate::http::serve(
                    listener,
                    api,
                    http_rules,
                    tls,
                    stop.subscribe(),
                )));
                Some(local)
            }
            None => None,
        };
        Ok(Server {
            dc09_addr,
            http_addr,
            store,
            cluster,
            board,
            commands,
            intake: intake_handle,
            recordings,
            retention,
            lines,
            effects,
            adopted,
            metrics,
            stop,
            background,
            runtime,
        })
    }

    /// Stops listening, lets the runtime route and commit what was accepted, and returns.
    pub async fn stop(self) -> Result<(), ServerError> {
        let _ = self.stop.send(true);
        for task in &self.background {
            task.abort();
        }
        match self.runtime.await {
            Ok(result) => Ok(result?),
            Err(e) => Err(ServerError::Stopped(e.to_string())),
        }
    }

    /// Waits until the runtime ends by itself (it only does on a failure).
    pub async fn failed(&mut self) -> ServerError {
        match (&mut self.runtime).await {
            Ok(Ok(())) => ServerError::Stopped("the runtime ended".into()),
            Ok(Err(e)) => e.into(),
            Err(e) => ServerError::Stopped(e.to_string()),
        }
    }
}

/// Raises a comm_failure signal for every supervised panel this node watches that missed
/// its interval, and a restore for each of their failures another node heard the panel
/// after.
async fn watch_supervision(
    store: Db,
    supervision: Supervision,
    intake: Intake,
    board: Arc<Board>,
    cluster: Arc<Cluster>,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(SUPERVISION_TICK) => {}
            _ = stop.changed() => return,
        }
        let now = crate::now_ms();
        let watched = |account: &str| cluster.drives(account, now);
        let mut signals = Vec::new();
        if cluster.shared() {
            match supervision.share(&store, &board, now, watched).await {
                // Heard by another node after their failure opened.
                Ok(restored) => signals.extend(
                    restored
                        .iter()
                        .map(|account| dc09::supervision_signal(account, now, Event::CommRestored)),
                ),
                Err(e) => tracing::warn!("supervision not shared with the other nodes: {e}"),
            }
        }
        let overdue = supervision.overdue(now, watched);
        metrics.supervision_failures.inc_by(overdue.len() as u64);
        signals.extend(
            overdue
                .iter()
                .map(|account| dc09::supervision_signal(account, now, Event::CommFailure)),
        );
        if !signals.is_empty() && !intake.submit(signals, None).await {
            tracing::error!("supervision signals could not be stored");
        }
    }
}
