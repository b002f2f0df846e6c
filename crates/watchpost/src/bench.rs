//! `watchpost bench intake`: a load generator that measures any SIA DC-09 receiver. N TCP
//! connections each send plain `SIA-DCS` frames one at a time (burglary alarms, or a
//! realistic mix), wait for the ACK and time it, as fast as the receiver answers or paced to
//! a fixed offered rate; the report gives signals, errors, signals/s and ACK latency
//! percentiles, and the receiver process's memory and CPU when its pid is known. Several
//! receivers (the nodes of one center) can be loaded at once: the connections are spread
//! over them, as panels are spread over a center's receivers.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until, timeout_at};
use watchpost_wire::{
    Chunk, CrcForm, EncodeError, FixedPad, Frame, FrameSplitter, Header, MessageId, encode_frame,
    parse_frame, parse_header_only,
};

/// First account number; the bench uses `FIRST_ACCOUNT ..FIRST_ACCOUNT + accounts`.
pub const FIRST_ACCOUNT: u64 = 100_000;
/// How long a frame may wait for its reply before it counts as a timeout.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause after a failed connect, so a dead receiver is not hammered in a tight loop.
const RECONNECT_PAUSE: Duration = Duration::from_millis(100);

#[derive(clap::Args, Debug, Clone)]
pub struct IntakeArgs {
    /// Receivers to load, host:port[,host:port...]; connections are spread over them.
    /// Without it the bench starts its own nodes (--nodes, on --db) with the accounts
    /// enrolled.
    #[arg(long, value_name = "ADDR[,ADDR...]")]
    pub target: Option<String>,
    /// Without --target: the database of the bench's own nodes: a temporary SQLite file by
    /// default, or a postgres:// URL (its bench accounts are enrolled again; use a database
    /// kept for benchmarks).
    #[arg(long, value_name = "DB")]
    pub db: Option<String>,
    /// Without --target: how many nodes to start on --db (more than one needs PostgreSQL).
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=16))]
    pub nodes: u32,
    /// Concurrent TCP connections, each with one frame in flight.
    #[arg(long, value_name = "N", default_value_t = 50,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub connections: u32,
    /// Seconds measured, after the warm-up.
    #[arg(long, value_name = "S", default_value_t = 10.0, value_parser = positive_seconds)]
    pub seconds: f64,
    /// Accounts sending, numbered 100000, 100001, ...
    #[arg(long, value_name = "N", default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub accounts: u32,
    /// One JSON object on stdout instead of the human summary.
    #[arg(long)]
    pub json: bool,
    /// Seconds of load before measuring starts (not counted).
    #[arg(long, value_name = "S", default_value_t = 1.0, value_parser = non_negative_seconds)]
    pub warmup: f64,
    /// What the panels send: `burglary` (every frame a burglary alarm, joining its account's
    /// open alarm) or `realistic` (of every 100 frames: 70 periodic tests, 14 openings, 14
    /// closings, 1 burglary alarm, 1 burglary restore).
    #[arg(long, value_enum, default_value_t = Mix::Burglary)]
    pub mix: Mix,
    /// Offered load, signals/s over all connections: each connection sends on a fixed
    /// schedule (still one frame in flight), and an ACK's latency counts from when its frame
    /// was due, so a stall is counted in full. Without it each connection sends its next frame
    /// as soon as the last one is answered.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub rate: Option<u32>,
    /// The receiver's process id (`serve`'s), to sample its memory and CPU during the load
    /// and after it. Without --target the bench samples its own process (node and generator).
    #[arg(long, value_name = "PID")]
    pub pid: Option<u32>,
    /// Seconds the process is watched idle after the load (memory given back, idle CPU).
    #[arg(long, value_name = "S", default_value_t = 0.0, value_parser = non_negative_seconds)]
    pub after: f64,
    /// Writes every measured ACK to FILE as a CSV line `due_ms,latency_ms` (ms since the
    /// measuring began, in due order), to see when the slow ones came: one stall or many.
    #[arg(long, value_name = "FILE")]
    pub timeline: Option<std::path::PathBuf>,
}

/// The traffic `bench intake` sends.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mix {
    /// Every frame a burglary alarm (`BA`): the heaviest path, each signal joining an alarm.
    Burglary,
    /// Mostly periodic tests and openings/closings, a few alarms and restores.
    Realistic,
}

impl Mix {
    /// The SIA event (code and zone) of the `n`-th frame of a run.
    pub fn event(self, n: u64, zone: u32) -> String {
        let code = match self {
            Mix::Burglary => "BA",
            Mix::Realistic => match n % 100 {
                0..70 => "RP",
                70..84 => "OP",
                84..98 => "CL",
                98 => "BA",
                _ => "BR",
            },
        };
        format!("{code}{zone:03}")
    }
}

fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 => Ok(s),
        _ => Err(format!("`{text}` is not a positive number of seconds")),
    }
}

fn non_negative_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s >= 0.0 => Ok(s),
        _ => Err(format!("`{text}` is not a number of seconds >= 0")),
    }
}

/// Errors by cause; their sum is `IntakeReport::errors`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ErrorCounts {
    /// The TCP connect failed or timed out.
    pub connect: u64,
    /// The receiver closed the connection (or a read/write failed); the bench reconnects.
    pub disconnect: u64,
    /// No whole reply within the reply timeout; the bench reconnects.
    pub timeout: u64,
    pub nak: u64,
    pub duh: u64,
    /// A well-formed reply that is not an ACK for the sequence sent.
    pub wrong_reply: u64,
    /// A reply that is not a readable DC-09 frame (bad length, CRC, header...).
    pub garbage: u64,
}

impl ErrorCounts {
    pub fn total(&self) -> u64 {
        self.connect
            + self.disconnect
            + self.timeout
            + self.nak
            + self.duh
            + self.wrong_reply
            + self.garbage
    }

    fn add(&mut self, other: &ErrorCounts) {
        self.connect += other.connect;
        self.disconnect += other.disconnect;
        self.timeout += other.timeout;
        self.nak += other.nak;
        self.duh += other.duh;
        self.wrong_reply += other.wrong_reply;
        self.garbage += other.garbage;
    }

    fn count(&mut self, fault: Fault) {
        let slot = match fault {
            Fault::Connect => &mut self.connect,
            Fault::Disconnect => &mut self.disconnect,
            Fault::Timeout => &mut self.timeout,
            Fault::Nak => &mut self.nak,
            Fault::Duh => &mut self.duh,
            Fault::WrongReply => &mut self.wrong_reply,
            Fault::Garbage => &mut self.garbage,
        };
        *slot += 1;
    }
}

/// The result of one run. Serialized, the first six fields come first, in this order.
#[derive(Debug, Clone, Serialize)]
pub struct IntakeReport {
    pub signals: u64,
    pub errors: u64,
    pub signals_per_s: f64,
    pub ack_p50_ms: f64,
    pub ack_p99_ms: f64,
    pub ack_max_ms: f64,
    pub connections: u32,
    pub accounts: u32,
    pub seconds: f64,
    pub warmup_s: f64,
    pub target: String,
    pub error_kinds: ErrorCounts,
    pub mix: Mix,
    /// The offered load (`--rate`), signals/s; absent when each connection sent flat out.
    pub rate: Option<u32>,
    /// The receiver process's memory and CPU, when its pid was known.
    pub process: Option<crate::bench_sample::ProcessSamples>,
}

/// `watchpost bench intake`: runs the load and prints the report (JSON with `--json`).
/// Fails when the target cannot be reached at all, or when no signal was acknowledged.
pub async fn intake(args: IntakeArgs) -> anyhow::Result<()> {
    let mut args = args;
    let (target, hosted) = match args.target.clone() {
        Some(t) => (t, None),
        None => {
            let (servers, dir) = self_hosted(&args, Default::default(), Default::default()).await?;
            let targets: Vec<String> = servers.iter().map(|s| s.dc09_addr.to_string()).collect();
            args.pid = args.pid.or(Some(std::process::id()));
            (targets.join(","), Some((servers, dir)))
        }
    };
    let report = run_load(&target, &args).await?;
    if let Some((servers, _dir)) = hosted {
        for server in servers {
            server.stop().await?;
        }
    }
    if args.json {
        out!("{}", serde_json::to_string(&report)?);
    } else {
        out!("{}", human(&report).trim_end_matches('\n'));
    }
    if report.signals == 0 {
        anyhow::bail!("{target} acknowledged no signal");
    }
    Ok(())
}

/// Starts the built-in nodes with the bench accounts enrolled, the receivers' `limits` and
/// the nodes' `retention`, on `--db` or a temporary SQLite database that lives as long as the
/// returned directory.
pub(crate) async fn self_hosted(
    args: &IntakeArgs,
    limits: watchpost_server::ReceiverLimits,
    retention: watchpost_server::RetentionConfig,
) -> anyhow::Result<(Vec<watchpost_server::Server>, tempfile::TempDir)> {
    use watchpost_core::account::Account;
    use watchpost_core::password::{HashCost, VerbalPassword};

    let dir = tempfile::tempdir()?;
    let db = match &args.db {
        Some(db) => db.clone(),
        None => dir.path().join("bench.db").display().to_string(),
    };
    anyhow::ensure!(
        args.nodes == 1 || watchpost_store::is_shared(&db),
        "--nodes {}: several nodes need a shared database (--db postgres://...)",
        args.nodes
    );
    let store = watchpost_store::open(&db).await?;
    let password = VerbalPassword::hash("bench", HashCost::Fast);
    let enrolled_at = chrono::Utc::now().timestamp_millis() - 30 * watchpost_core::account::DAY_MS;
    let accounts: Vec<Account> = (0..args.accounts)
        .map(|i| {
            account(
                &(FIRST_ACCOUNT + i as u64).to_string(),
                enrolled_at,
                &password,
            )
        })
        .collect();
    for chunk in accounts.chunks(1000) {
        store.put_accounts(chunk).await?;
    }
    drop(store);
    let mut servers = Vec::new();
    for n in 0..args.nodes {
        let mut server = watchpost_server::Server::start(watchpost_server::Config {
            node: watchpost_server::NodeConfig::new(&format!("bench-{n}"), &db),
            db: db.clone(),
            dc09: "127.0.0.1:0".parse()?,
            http: None,
            window: watchpost_wire::Window::default(),
            settings: watchpost_core::Settings::default(),
            timezone: chrono_tz::Tz::UTC,
            recordings: watchpost_server::RecordingsConfig::beside(&db),
            retention: retention.clone(),
            region: watchpost_server::phone::Region::US,
            resolution_codes: Default::default(),
            limits: limits.clone(),
            console: Default::default(),
            secrets: Default::default(),
            listen: Default::default(),
            login: Default::default(),
            webhooks: Default::default(),
            metrics_token: None,
        })
        .await?;
        // Nobody works these alarms; their actions are in the log.
        let (_, none) = tokio::sync::mpsc::unbounded_channel();
        let mut effects = std::mem::replace(&mut server.effects, none);
        tokio::spawn(async move { while effects.recv().await.is_some() {} });
        servers.push(server);
    }
    if args.nodes > 1 {
        // Until every node holds its share, signals for partitions still to be taken wait
        // in the inbox: let the leases settle first.
        let share = (watchpost_store::PARTITIONS as usize).div_ceil(args.nodes as usize);
        let settled = tokio::time::Instant::now() + Duration::from_secs(30);
        while tokio::time::Instant::now() < settled {
            let leases = servers[0].cluster.view().leases;
            let balanced = servers.iter().all(|s| {
                let held = leases.iter().filter(|l| l.node == s.cluster.name()).count();
                held + 1 >= share
            });
            if balanced {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    Ok((servers, dir))
}

/// A bench account: a house with one contact, the police as responder.
pub(crate) fn account(
    number: &str,
    enrolled_at: watchpost_core::Millis,
    password: &watchpost_core::password::VerbalPassword,
) -> watchpost_core::Account {
    use watchpost_core::account::{Contact, Monitoring, Premises, Responder};
    watchpost_core::Account {
        number: number.into(),
        premises: Premises::Residential,
        address: format!("{number} Bench St, Springfield, IL"),
        country: "US".into(),
        region: "IL".into(),
        monitoring: Monitoring::Professional,
        enrolled_at,
        verbal_password: password.clone(),
        responder: Responder::Police,
        test_until: None,
        contacts: vec![Contact {
            name: "Bench Contact".into(),
            phone: "+15555550100".into(),
            phone2: None,
        }],
        zones: vec![],
        dc09_key: None,
        supervision_ms: None,
        details: Default::default(),
        dealer: None,
        premises_phone: None,
    }
}

/// Loads the receiver at `target` (host:port) as `args` say (`args.target` and
/// `args.json` are ignored) and returns the measurements; with `args.pid`, that process's
/// memory and CPU too (the call then lasts `args.after` longer).
pub async fn run_load(target: &str, args: &IntakeArgs) -> anyhow::Result<IntakeReport> {
    anyhow::ensure!(args.connections > 0, "--connections must be at least 1");
    anyhow::ensure!(args.accounts > 0, "--accounts must be at least 1");
    anyhow::ensure!(
        args.seconds.is_finite() && args.seconds > 0.0,
        "--seconds must be positive"
    );
    anyhow::ensure!(
        args.warmup.is_finite() && args.warmup >= 0.0,
        "--warmup must be >= 0"
    );
    let mut addrs = Vec::new();
    for target in target.split(',').map(str::trim) {
        let addr = tokio::net::lookup_host(target)
            .await
            .map_err(|e| anyhow::anyhow!("cannot resolve {target}: {e}"))?
            .next()
            .ok_or_else(|| anyhow::anyhow!("{target} resolves to no address"))?;
        // Fail fast on a wrong address rather than report a run made only of connect errors.
        match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
            Ok(Ok(_probe)) => {}
            Ok(Err(e)) => anyhow::bail!("cannot connect to {target}: {e}"),
            Err(_) => anyhow::bail!("cannot connect to {target}: timed out"),
        }
        addrs.push(addr);
    }

    let start = Instant::now();
    let plan = Plan {
        addrs,
        connections: u64::from(args.connections),
        accounts: u64::from(args.accounts),
        mix: args.mix,
        // Each connection's share of the offered load.
        every: args
            .rate
            .map(|rate| Duration::from_secs_f64(f64::from(args.connections) / f64::from(rate))),
        start,
        measure_from: start + Duration::from_secs_f64(args.warmup),
        end: start + Duration::from_secs_f64(args.warmup + args.seconds),
    };
    let sampler = args.pid.map(|pid| {
        let after = Duration::from_secs_f64(args.after);
        tokio::spawn(crate::bench_sample::sample(
            pid,
            plan.measure_from,
            plan.end,
            after,
        ))
    });
    let mut workers = JoinSet::new();
    for index in 0..plan.connections {
        workers.spawn(connection(plan.clone(), index));
    }
    let mut total = Tally::default();
    while let Some(joined) = workers.join_next().await {
        total.add(joined?);
    }
    let process = match sampler {
        Some(sampler) => Some(sampler.await??),
        None => None,
    };

    if let Some(path) = &args.timeline {
        let mut acks = total.acks_us.clone();
        acks.sort_unstable();
        let mut csv = String::from("due_ms,latency_ms\n");
        for (due, latency) in acks {
            csv += &format!("{:.3},{:.3}\n", due as f64 / 1e3, latency as f64 / 1e3);
        }
        std::fs::write(path, csv)
            .map_err(|e| anyhow::anyhow!("cannot write --timeline {}: {e}", path.display()))?;
    }
    let mut latencies: Vec<u64> = total.acks_us.iter().map(|(_, latency)| *latency).collect();
    latencies.sort_unstable();
    let ms = |us: u64| round3(us as f64 / 1000.0);
    Ok(IntakeReport {
        signals: total.signals,
        errors: total.errors.total(),
        signals_per_s: round3(total.signals as f64 / args.seconds),
        ack_p50_ms: ms(percentile(&latencies, 0.50)),
        ack_p99_ms: ms(percentile(&latencies, 0.99)),
        ack_max_ms: ms(latencies.last().copied().unwrap_or(0)),
        connections: args.connections,
        accounts: args.accounts,
        seconds: args.seconds,
        warmup_s: args.warmup,
        target: target.to_owned(),
        error_kinds: total.errors,
        mix: args.mix,
        rate: args.rate,
        process,
    })
}

/// The few human lines printed without `--json`.
pub fn human(report: &IntakeReport) -> String {
    let offered = match report.rate {
        Some(rate) => format!("{rate} signals/s offered"),
        None => "as fast as answered".to_owned(),
    };
    let mix = match report.mix {
        Mix::Burglary => "burglary",
        Mix::Realistic => "realistic",
    };
    let mut out = format!(
        "target       {}\n\
         load         {} connections, {} accounts, {} s measured after {} s warm-up\n\
         traffic      {mix} mix, {offered}\n\
         signals      {} ({} signals/s)\n\
         errors       {}\n",
        report.target,
        report.connections,
        report.accounts,
        report.seconds,
        report.warmup_s,
        report.signals,
        report.signals_per_s,
        report.errors,
    );
    if report.errors > 0 {
        let e = &report.error_kinds;
        out.push_str(&format!(
            "             connect {}, disconnect {}, timeout {}, NAK {}, DUH {}, \
             wrong reply {}, garbage {}\n",
            e.connect, e.disconnect, e.timeout, e.nak, e.duh, e.wrong_reply, e.garbage
        ));
    }
    out.push_str(&format!(
        "ACK latency  p50 {} ms, p99 {} ms, max {} ms\n",
        report.ack_p50_ms, report.ack_p99_ms, report.ack_max_ms
    ));
    if let Some(p) = &report.process {
        out.push_str(&format!(
            "process      {}: RSS {} MB at start, {} MB peak, {} MB at end; CPU {} % of a core\n",
            p.pid, p.rss_start_mb, p.rss_peak_mb, p.rss_end_mb, p.cpu_load_pct
        ));
        if let (Some(rss), Some(cpu)) = (p.rss_after_mb, p.cpu_after_pct) {
            out.push_str(&format!(
                "after        {} s idle: RSS {rss} MB, CPU {cpu} % of a core\n",
                p.after_s
            ));
        }
    }
    out
}

/// A plain `SIA-DCS` burglary frame for `account`: `#acct`, `R0` and `L0` in the header, data
/// `#acct|Nri1/BAzzz` and the timestamp `at`.
pub fn signal_frame(
    account: u64,
    sequence: u16,
    zone: u32,
    at: DateTime<Utc>,
) -> Result<Vec<u8>, EncodeError> {
    sia_dcs_frame(account, sequence, &Mix::Burglary.event(0, zone), at)
}

/// A plain `SIA-DCS` frame for `account` carrying one event (`BA003`, `WA001`): `#acct`,
/// `R0` and `L0` in the header, data `#acct|Nri1/<event>` and the timestamp `at`.
pub fn sia_dcs_frame(
    account: u64,
    sequence: u16,
    event: &str,
    at: DateTime<Utc>,
) -> Result<Vec<u8>, EncodeError> {
    let account = account.to_string();
    let frame = Frame {
        crc: CrcForm::Hex,
        data: format!("#{account}|Nri1/{event}"),
        header: Header {
            id: MessageId::SiaDcs,
            encrypted: false,
            sequence,
            // A receiver number as most panels send: pysiaalarm answers a frame without one
            // with `None` in its ACK's header, which no panel could read.
            receiver: Some("0".to_owned()),
            line: Some("0".to_owned()),
            account: Some(account),
        },
        xdata: Vec::new(),
        timestamp: Some(at),
    };
    // A plain frame draws no pad bytes.
    encode_frame(&frame, None, &mut FixedPad(b'0'))
}

/// What every connection task shares.
#[derive(Clone)]
struct Plan {
    /// Connection `index` goes to `addrs[index % addrs.len()]`.
    addrs: Vec<SocketAddr>,
    connections: u64,
    accounts: u64,
    mix: Mix,
    /// With an offered rate, how often each connection sends.
    every: Option<Duration>,
    start: Instant,
    /// Frames written before this instant (and errors before it) are warm-up.
    measure_from: Instant,
    end: Instant,
}

impl Plan {
    /// The `sent`-th frame of connection `index`: account, sequence 1..=9999 and zone.
    /// Connection `index` cycles through the accounts `index`, `index + N`, ... (mod accounts).
    fn nth(&self, index: u64, sent: u64) -> (u64, u16, u32) {
        let slot = (index + (sent % self.accounts) * self.connections) % self.accounts;
        let sequence = u16::try_from(sent % 9999 + 1).unwrap_or(1);
        let zone = u32::try_from(sent % 16 + 1).unwrap_or(1);
        (FIRST_ACCOUNT + slot, sequence, zone)
    }

    /// When the `sent`-th frame of connection `index` is due, paced: the connections'
    /// schedules are spread evenly over one period, so the load arrives smoothly.
    fn due(&self, index: u64, sent: u64) -> Option<Instant> {
        let every = self.every?;
        let offset = every.mul_f64(index as f64 / self.connections as f64);
        Some(self.start + offset + every.mul_f64(sent as f64))
    }
}

/// One connection's counts.
#[derive(Debug, Default)]
struct Tally {
    signals: u64,
    errors: ErrorCounts,
    /// Each ACK's due time (µs after the measuring began) and latency (µs).
    acks_us: Vec<(u64, u64)>,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.signals += other.signals;
        self.errors.add(&other.errors);
        self.acks_us.extend(other.acks_us);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Connect,
    Disconnect,
    Timeout,
    Nak,
    Duh,
    WrongReply,
    Garbage,
}

/// Why waiting for a reply ended without one.
enum NoReply {
    Fault(Fault),
    /// The run ended while waiting: the frame is neither a signal nor an error.
    Stopped,
}

/// One connection: send, wait for the reply, repeat until the end; reconnect when dropped.
async fn connection(plan: Plan, index: u64) -> Tally {
    let mut tally = Tally::default();
    let mut stream: Option<TcpStream> = None;
    let mut splitter = FrameSplitter::new();
    let mut buf = vec![0u8; 4096];
    let mut sent = 0u64;
    while Instant::now() < plan.end {
        let conn = match stream.as_mut() {
            Some(conn) => conn,
            None => match connect(&plan, index).await {
                Ok(conn) => {
                    splitter = FrameSplitter::new();
                    stream.insert(conn)
                }
                Err(NoReply::Stopped) => break,
                Err(NoReply::Fault(fault)) => {
                    if Instant::now() >= plan.measure_from {
                        tally.errors.count(fault);
                    }
                    sleep_until((Instant::now() + RECONNECT_PAUSE).min(plan.end)).await;
                    continue;
                }
            },
        };
        let due = plan.due(index, sent);
        if let Some(due) = due {
            if due >= plan.end {
                break;
            }
            sleep_until(due).await;
        }
        let (account, sequence, zone) = plan.nth(index, sent);
        // Connections out of phase, so that the mix's rare events are spread in time.
        let event = plan.mix.event(sent + index * 7, zone);
        sent += 1;
        let Ok(frame) = sia_dcs_frame(account, sequence, &event, Utc::now()) else {
            // Cannot happen for these accounts and sequences; stop rather than spin.
            break;
        };
        // Paced, latency counts from when the frame was due (a late send is the receiver's
        // doing: the previous ACK came late).
        let written = due.unwrap_or_else(Instant::now);
        let measured = written >= plan.measure_from;
        let deadline = (Instant::now() + REPLY_TIMEOUT).min(plan.end);
        let outcome = match timeout_at(deadline, conn.write_all(&frame)).await {
            Ok(Ok(())) => read_reply(conn, &mut splitter, &mut buf, deadline, plan.end).await,
            Ok(Err(_)) => Err(NoReply::Fault(Fault::Disconnect)),
            Err(_) if Instant::now() >= plan.end => Err(NoReply::Stopped),
            Err(_) => Err(NoReply::Fault(Fault::Timeout)),
        };
        let verdict = match outcome {
            Ok(chunk) => judge(&chunk, sequence),
            Err(NoReply::Stopped) => break,
            Err(NoReply::Fault(fault)) => {
                // The stream is gone or out of step: start over on a fresh connection.
                stream = None;
                Err(fault)
            }
        };
        if !measured {
            continue;
        }
        match verdict {
            Ok(()) => {
                tally.signals += 1;
                let us = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
                tally.acks_us.push((
                    us(written.duration_since(plan.measure_from)),
                    us(written.elapsed()),
                ));
            }
            Err(fault) => tally.errors.count(fault),
        }
    }
    tally
}

async fn connect(plan: &Plan, index: u64) -> Result<TcpStream, NoReply> {
    let deadline = (Instant::now() + CONNECT_TIMEOUT).min(plan.end);
    let addr = plan.addrs[(index % plan.addrs.len() as u64) as usize];
    match timeout_at(deadline, TcpStream::connect(addr)).await {
        Ok(Ok(conn)) => {
            // One small frame in flight at a time: Nagle would only add delay.
            let _ = conn.set_nodelay(true);
            Ok(conn)
        }
        Ok(Err(_)) => Err(NoReply::Fault(Fault::Connect)),
        Err(_) if Instant::now() >= plan.end => Err(NoReply::Stopped),
        Err(_) => Err(NoReply::Fault(Fault::Connect)),
    }
}

/// Reads until the splitter yields one whole chunk; anything after it in the same read is
/// unsolicited and dropped.
async fn read_reply(
    conn: &mut TcpStream,
    splitter: &mut FrameSplitter,
    buf: &mut [u8],
    deadline: Instant,
    end: Instant,
) -> Result<Chunk, NoReply> {
    loop {
        let n = match timeout_at(deadline, conn.read(buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Err(NoReply::Fault(Fault::Disconnect)),
            Ok(Ok(n)) => n,
            Err(_) if Instant::now() >= end => return Err(NoReply::Stopped),
            Err(_) => return Err(NoReply::Fault(Fault::Timeout)),
        };
        let read = buf.get(..n).unwrap_or_default();
        if let Some(chunk) = splitter.push(read).into_iter().next() {
            return Ok(chunk);
        }
    }
}

/// An `ACK` or `*ACK` echoing `sequence` is a signal; anything else is an error.
fn judge(chunk: &Chunk, sequence: u16) -> Result<(), Fault> {
    let Chunk::Frame(bytes) = chunk else {
        return Err(Fault::Garbage);
    };
    let Ok((_, header)) = parse_header_only(bytes) else {
        return Err(Fault::Garbage);
    };
    // A `*ACK` payload needs the key; its clear header is enough to count it.
    if !header.encrypted && parse_frame(bytes, None).is_err() {
        return Err(Fault::Garbage);
    }
    match header.id {
        MessageId::Ack if header.sequence == sequence => Ok(()),
        MessageId::Nak => Err(Fault::Nak),
        MessageId::Duh => Err(Fault::Duh),
        _ => Err(Fault::WrongReply),
    }
}

/// Nearest-rank percentile of sorted samples; 0 when there are none.
pub(crate) fn percentile(sorted: &[u64], q: f64) -> u64 {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted
        .get(rank.clamp(1, sorted.len().max(1)) - 1)
        .copied()
        .unwrap_or(0)
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::sync::{Arc, Mutex};
    use tokio::net::TcpListener;
    use watchpost_wire::{Window, nak, receive};

    #[derive(Clone, Copy)]
    enum Behaviour {
        /// Answer what `receive` decides (an ACK for good frames).
        Ack,
        /// Answer every frame with a NAK.
        Nak,
        /// Answer one frame, then close the connection.
        AckThenClose,
    }

    /// A fake receiver on 127.0.0.1:0; returns its address and the accounts it accepted.
    async fn fake_receiver(behaviour: Behaviour) -> (String, Arc<Mutex<BTreeSet<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let accepted = Arc::new(Mutex::new(BTreeSet::new()));
        let seen = accepted.clone();
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                tokio::spawn(serve(conn, behaviour, seen.clone()));
            }
        });
        (addr, accepted)
    }

    async fn serve(mut conn: TcpStream, behaviour: Behaviour, seen: Arc<Mutex<BTreeSet<String>>>) {
        let mut splitter = FrameSplitter::new();
        let mut buf = vec![0u8; 4096];
        loop {
            let n = match conn.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            for chunk in splitter.push(&buf[..n]) {
                let (Chunk::Frame(raw) | Chunk::Malformed(raw)) = chunk;
                let now = Utc::now();
                let reply = match behaviour {
                    Behaviour::Nak => nak(now, CrcForm::Hex).bytes,
                    Behaviour::Ack | Behaviour::AckThenClose => {
                        let got = receive(&raw, None, now, Window::default(), &mut FixedPad(b'0'));
                        if let Some(message) = &got.message {
                            seen.lock().unwrap().insert(message.account.clone());
                        }
                        got.reply.expect("an event frame gets a reply").bytes
                    }
                };
                if conn.write_all(&reply).await.is_err() {
                    return;
                }
                if matches!(behaviour, Behaviour::AckThenClose) {
                    return;
                }
            }
        }
    }

    fn args(seconds: f64) -> IntakeArgs {
        IntakeArgs {
            target: None,
            db: None,
            nodes: 1,
            connections: 4,
            seconds,
            accounts: 10,
            json: true,
            warmup: 0.2,
            mix: Mix::Burglary,
            rate: None,
            pid: None,
            after: 0.0,
            timeline: None,
        }
    }

    #[test]
    fn frames_are_valid_dc09_the_receiver_acks() {
        let at = Utc::now();
        let raw = signal_frame(100_042, 17, 3, at).expect("encodes");
        let text = String::from_utf8(raw.clone()).expect("ascii");
        assert!(text.contains("\"SIA-DCS\"0017R0L0#100042[#100042|Nri1/BA003]_"));
        let got = receive(&raw, None, at, Window::default(), &mut FixedPad(b'0'));
        let message = got.message.expect("accepted");
        assert_eq!(message.account, "100042");
        assert_eq!(message.sequence, 17);
        assert_eq!(message.events.len(), 1);
        assert!(judge(&Chunk::Frame(got.reply.expect("ack").bytes), 17).is_ok());
    }

    #[test]
    fn plan_spreads_accounts_and_cycles_sequences() {
        let plan = Plan {
            addrs: vec!["127.0.0.1:1".parse().unwrap()],
            connections: 3,
            accounts: 7,
            mix: Mix::Burglary,
            every: None,
            start: Instant::now(),
            measure_from: Instant::now(),
            end: Instant::now(),
        };
        let mut accounts = BTreeSet::new();
        for index in 0..3 {
            for sent in 0..7 {
                accounts.insert(plan.nth(index, sent).0);
            }
        }
        assert_eq!(accounts, (100_000..100_007).collect());
        assert_eq!(plan.nth(0, 0).1, 1);
        assert_eq!(plan.nth(0, 9998).1, 9999);
        assert_eq!(plan.nth(0, 9999).1, 1);
    }

    #[test]
    fn the_realistic_mix_is_mostly_tests_openings_and_closings() {
        let mut counts = std::collections::BTreeMap::new();
        for n in 0..1000 {
            let event = Mix::Realistic.event(n, 1);
            *counts.entry(event[..2].to_owned()).or_insert(0) += 1;
        }
        let expected = [
            ("BA", 10),
            ("BR", 10),
            ("CL", 140),
            ("OP", 140),
            ("RP", 700),
        ];
        assert_eq!(
            counts,
            expected.iter().map(|(c, n)| (c.to_string(), *n)).collect()
        );
        assert_eq!(Mix::Burglary.event(7, 3), "BA003");
        assert_eq!(Mix::Realistic.event(0, 12), "RP012");
    }

    #[tokio::test]
    async fn a_paced_run_offers_its_rate_and_no_more() {
        let (addr, _) = fake_receiver(Behaviour::Ack).await;
        let paced = IntakeArgs {
            rate: Some(200),
            ..args(1.0)
        };
        let report = run_load(&addr, &paced).await.expect("runs");
        // Flat out, this receiver answers thousands a second; paced, each of the 4
        // connections sends 50 a second, and at most one frame more in the window.
        assert!(report.signals > 0, "{report:?}");
        assert!(report.signals <= 200 + 4, "{report:?}");
        assert_eq!(report.rate, Some(200));
        assert_eq!(report.errors, 0, "{report:?}");
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let samples: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&samples, 0.50), 50);
        assert_eq!(percentile(&samples, 0.99), 99);
        assert_eq!(percentile(&[7], 0.99), 7);
        assert_eq!(percentile(&[], 0.5), 0);
    }

    #[tokio::test]
    async fn load_against_an_acking_receiver() {
        let (addr, accepted) = fake_receiver(Behaviour::Ack).await;
        let report = run_load(&addr, &args(1.0)).await.expect("runs");
        assert!(report.signals > 0, "{report:?}");
        assert_eq!(report.errors, 0, "{report:?}");
        assert!(report.ack_p50_ms <= report.ack_p99_ms);
        assert!(report.ack_p99_ms <= report.ack_max_ms);
        let seen = accepted.lock().unwrap().clone();
        let all: BTreeSet<String> = (100_000..100_010).map(|a| a.to_string()).collect();
        assert_eq!(seen, all, "every account sent");

        let json = serde_json::to_string(&report).expect("serializes");
        let value: serde_json::Value = serde_json::from_str(&json).expect("one object");
        let fields = [
            "signals",
            "errors",
            "signals_per_s",
            "ack_p50_ms",
            "ack_p99_ms",
            "ack_max_ms",
        ];
        for field in fields {
            assert!(value[field].is_number(), "{field} in {json}");
        }
        let positions: Vec<usize> = fields
            .iter()
            .map(|f| json.find(&format!("\"{f}\":")).expect("present"))
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "order: {json}");
        assert!(json.starts_with("{\"signals\":"));
        err!("{}", human(&report));
    }

    #[tokio::test]
    async fn a_nak_is_an_error_not_a_signal() {
        let (addr, _) = fake_receiver(Behaviour::Nak).await;
        let report = run_load(&addr, &args(0.5)).await.expect("runs");
        assert_eq!(report.signals, 0, "{report:?}");
        assert!(report.errors > 0, "{report:?}");
        assert_eq!(report.error_kinds.nak, report.errors);
        assert_eq!(report.ack_max_ms, 0.0);
    }

    #[tokio::test]
    async fn dropped_connections_are_errors_and_reconnected() {
        let (addr, _) = fake_receiver(Behaviour::AckThenClose).await;
        let report = run_load(&addr, &args(0.5)).await.expect("runs");
        assert!(report.signals > 4, "reconnects: {report:?}");
        assert!(report.error_kinds.disconnect > 0, "{report:?}");
        assert_eq!(report.errors, report.error_kinds.disconnect, "{report:?}");
    }

    #[tokio::test]
    async fn an_unreachable_target_fails_fast() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        drop(listener);
        assert!(run_load(&addr, &args(0.5)).await.is_err());
    }
}
