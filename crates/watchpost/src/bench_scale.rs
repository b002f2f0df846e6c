//! `watchpost bench scale`: what a large center costs to keep running. Seeds a SQLite center
//! with many accounts (a share of them keyed, a share supervised), serves it with `watchpost
//! serve` as a child process, and samples that process's resident memory (/proc/PID/status
//! `VmRSS`, `bench_proc::rss_bytes`) and CPU (`bench_proc::cpu_time`) at start, idle, under a traffic phase from the
//! intake load generator (`bench::run_load`) and after it; then kills it (SIGKILL) and times
//! a restart to its first ACK. Prints one table.

use crate::bench::{FIRST_ACCOUNT, IntakeArgs, IntakeReport, run_load, sia_dcs_frame};
use crate::bench_proc::cpu_time;
use anyhow::Context;
use clap::Parser;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio::time::{Instant, sleep, timeout};
use watchpost_wire::{Chunk, FrameSplitter, MessageId, parse_header_only};

/// The master key the bench's centers seal their DC-09 keys with (a bench secret, public).
const BENCH_MASTER_KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
/// Supervision interval of the supervised bench accounts: a day and an hour, as panels
/// reporting daily are usually given.
const BENCH_SUPERVISION_MS: i64 = 25 * 60 * 60 * 1000;
/// The template account the bench copies; removed once copied.
const TEMPLATE: &str = "FFFFFFFFFFFF";
/// How long the bench waits for a started center's first ACK.
const START_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(clap::Args, Debug, Clone)]
pub struct ScaleArgs {
    /// Accounts to enrol, numbered from 100000 (as `bench intake` numbers them).
    #[arg(long, value_name = "N", default_value_t = 1_000_000,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub accounts: u32,
    /// Percent of the accounts with a DC-09 key (the highest-numbered, so the traffic's
    /// plain frames come from accounts without one) and percent supervised (every n-th).
    #[arg(long, value_name = "P", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(0..=100))]
    pub keyed_percent: u32,
    /// Accounts the traffic comes from (the first N).
    #[arg(long, value_name = "N", default_value_t = 100_000,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub distinct: u32,
    /// Seconds of traffic.
    #[arg(long, value_name = "S", default_value_t = 60.0)]
    pub traffic_seconds: f64,
    /// Seconds watched idle after start, and again after the traffic.
    #[arg(long, value_name = "S", default_value_t = 30.0)]
    pub idle_seconds: f64,
    /// Seconds watched after the traffic, when not --idle-seconds (memory given back over
    /// minutes, idle CPU after a long run).
    #[arg(long, value_name = "S")]
    pub after_seconds: Option<f64>,
    /// Print a row every S seconds of the traffic and of the watch after it (resident
    /// memory then, CPU over the S seconds), as they come: a long run shows its course and
    /// is not lost if cut short. 0: only the phases' rows.
    #[arg(long, value_name = "S", default_value_t = 0.0)]
    pub sample_seconds: f64,
    /// Connections of the traffic phase, one frame in flight each.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub connections: u32,
    /// More `bench intake` options for the traffic phase, e.g. "--mix realistic --rate 2000"
    /// where that load generator has them.
    #[arg(
        long,
        value_name = "ARGS",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub load_args: String,
    /// Put the traffic's accounts on test: their alarms are stored and closed at once, so a
    /// traffic of alarms leaves no open alarm per account behind.
    #[arg(long)]
    pub on_test: bool,
    /// The SQLite database to serve: seeded when it does not exist (kept after), served as
    /// it is when it does. Default: a temporary one, seeded and removed after.
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// The `watchpost` executable that serves (default: this one), to compare versions.
    #[arg(long, value_name = "FILE")]
    pub bin: Option<PathBuf>,
}

/// One row of the table: a moment of the run and what the server process used then.
struct Sample {
    phase: &'static str,
    rss_mb: f64,
    /// CPU over the phase, % of one core.
    cpu_pct: Option<f64>,
    note: String,
}

/// `watchpost bench scale`.
pub async fn scale(args: ScaleArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.traffic_seconds > 0.0 && args.idle_seconds >= 0.0,
        "--traffic-seconds must be positive and --idle-seconds at least 0"
    );
    anyhow::ensure!(
        args.sample_seconds >= 0.0 && args.after_seconds.is_none_or(|s| s >= 0.0),
        "--sample-seconds and --after-seconds must be at least 0"
    );
    let dir = tempfile::tempdir()?;
    let db = args
        .db
        .clone()
        .unwrap_or_else(|| dir.path().join("scale.db"));
    if !db.exists() {
        let started = Instant::now();
        seed(&db, &args).await?;
        eprintln!(
            "seeded {} accounts in {:.1} s",
            args.accounts,
            started.elapsed().as_secs_f64()
        );
    }
    let bin = match &args.bin {
        Some(bin) => bin.clone(),
        None => std::env::current_exe()?,
    };
    let dc09 = free_port()?;
    let mut samples = Vec::new();
    let mut server = Server::start(&bin, &db, dc09, dir.path(), "first").await?;
    samples.push(server.started_sample("start (first ACK)").await?);
    samples.push(server.watch("idle", args.idle_seconds, 0.0).await?);

    let report = server.traffic(&args, dc09).await?;
    samples.push(Sample {
        phase: "traffic",
        rss_mb: report.1,
        cpu_pct: Some(report.2),
        note: format!(
            "peak; {} signals/s, ACK p99 {} ms, {} errors",
            report.0.signals_per_s, report.0.ack_p99_ms, report.0.errors
        ),
    });
    let after = args.after_seconds.unwrap_or(args.idle_seconds);
    samples.push(
        server
            .watch("after traffic", after, args.sample_seconds)
            .await?,
    );

    server.kill().await;
    let mut restarted = Server::start(&bin, &db, dc09, dir.path(), "restart").await?;
    samples.push(
        restarted
            .started_sample("restart after SIGKILL (first ACK)")
            .await?,
    );
    restarted.kill().await;

    println!(
        "{} accounts, {} % keyed (DC-09 key) and {} % supervised, traffic from {} of them",
        args.accounts, args.keyed_percent, args.keyed_percent, args.distinct
    );
    println!("{:<36} {:>9} {:>8}  note", "phase", "RSS MB", "CPU %");
    for s in &samples {
        let cpu = s.cpu_pct.map_or("-".into(), |c| format!("{c:.1}"));
        println!("{:<36} {:>9.1} {:>8}  {}", s.phase, s.rss_mb, cpu, s.note);
    }
    Ok(())
}

/// A free TCP port on the loopback (it may be taken again before use: a bench, not a
/// product).
fn free_port() -> anyhow::Result<SocketAddr> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

/// Enrols the accounts with direct SQL in one transaction: one template account goes
/// through the store (so its columns are as the store writes them, its verbal password
/// hashed once with argon2), and is copied for every number — the same hash for all, which
/// is what makes a million accounts take seconds.
async fn seed(db: &Path, args: &ScaleArgs) -> anyhow::Result<()> {
    use watchpost_core::password::{HashCost, VerbalPassword};
    let store = watchpost_store::SqliteStore::open(db).await?;
    let password = VerbalPassword::hash("bench", HashCost::Fast);
    let template =
        crate::bench::account(TEMPLATE, chrono::Utc::now().timestamp_millis(), &password);
    watchpost_store::Store::put_account(&store, &template).await?;
    watchpost_store::Store::close(&store).await;

    use sqlx::ConnectOptions;
    // Its statements take seconds on purpose: not "slow statement" warnings.
    let pool = sqlx::SqlitePool::connect_with(
        sqlx::sqlite::SqliteConnectOptions::new()
            .filename(db)
            .foreign_keys(true)
            .disable_statement_logging(),
    )
    .await?;
    let accounts = i64::from(args.accounts);
    let keyed_from = accounts - accounts * i64::from(args.keyed_percent) / 100;
    let every = (100 / i64::from(args.keyed_percent.max(1))).max(1);
    let supervised = i64::from(args.keyed_percent > 0);
    let on_test_until = args
        .on_test
        .then_some(i64::MAX / 2)
        .map(|until| (until, i64::from(args.distinct)));
    let mut tx = pool.begin().await?;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?1) \
         INSERT INTO accounts (number, premises, address, country, region, monitoring, \
         enrolled_at, password_hash, responder, test_until, dc09_key, supervision_ms, details, \
         dealer, premises_phone) \
         SELECT CAST(?2 + i AS TEXT), t.premises, (?2 + i) || ' Bench St, Springfield, IL', \
         t.country, t.region, t.monitoring, t.enrolled_at, t.password_hash, t.responder, \
         CASE WHEN i < ?7 THEN ?6 END, \
         CASE WHEN i >= ?3 THEN printf('%032X', i) END, \
         CASE WHEN ?5 AND i % ?4 = 0 THEN ?8 END, t.details, t.dealer, t.premises_phone \
         FROM n, accounts t WHERE t.number = ?9",
    )
    .bind(accounts)
    .bind(FIRST_ACCOUNT as i64)
    .bind(keyed_from)
    .bind(every)
    .bind(supervised)
    .bind(on_test_until.map(|(until, _)| until))
    .bind(on_test_until.map_or(0, |(_, n)| n))
    .bind(BENCH_SUPERVISION_MS)
    .bind(TEMPLATE)
    .execute(&mut *tx)
    .await
    .context("seeding accounts")?;
    sqlx::query(
        "INSERT INTO contacts (account, position, name, phone, phone2) \
         SELECT a.number, c.position, c.name, c.phone, c.phone2 \
         FROM accounts a, contacts c WHERE c.account = ?1 AND a.number <> ?1",
    )
    .bind(TEMPLATE)
    .execute(&mut *tx)
    .await
    .context("seeding contacts")?;
    sqlx::query("DELETE FROM accounts WHERE number = ?")
        .bind(TEMPLATE)
        .execute(&mut *tx)
        .await?;
    // Not announced in the account-change feed: a center starting on it reads everything.
    sqlx::query("DELETE FROM account_changes")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    pool.close().await;
    Ok(())
}

/// A `watchpost serve` child process.
struct Server {
    child: Child,
    pid: u32,
    /// When it first ACKed, from `spawned`.
    first_ack: Duration,
}

impl Server {
    async fn start(
        bin: &Path,
        db: &Path,
        dc09: SocketAddr,
        dir: &Path,
        name: &str,
    ) -> anyhow::Result<Server> {
        let log = std::fs::File::create(dir.join(format!("serve-{name}.log")))?;
        let http = free_port()?;
        let spawned = Instant::now();
        let mut child = Command::new(bin)
            .arg("serve")
            .arg("--db")
            .arg(db)
            .arg("--dc09")
            .arg(dc09.to_string())
            .arg("--http")
            .arg(http.to_string())
            .args([
                "--center-name",
                "Bench Center",
                "--callback-number",
                "+15555550199",
            ])
            .env("WATCHPOST_MASTER_KEY", BENCH_MASTER_KEY)
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let pid = child.id().context("the server exited at once")?;
        let deadline = spawned + START_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait()? {
                anyhow::bail!(
                    "the server exited ({status}); see {}",
                    dir.join(format!("serve-{name}.log")).display()
                );
            }
            if acked(dc09).await {
                break;
            }
            anyhow::ensure!(Instant::now() < deadline, "no ACK within {START_TIMEOUT:?}");
            sleep(Duration::from_millis(20)).await;
        }
        Ok(Server {
            child,
            pid,
            first_ack: spawned.elapsed(),
        })
    }

    /// Resident memory one second after the first ACK.
    async fn started_sample(&mut self, phase: &'static str) -> anyhow::Result<Sample> {
        sleep(Duration::from_secs(1)).await;
        Ok(Sample {
            phase,
            rss_mb: rss_mb(self.pid)?,
            cpu_pct: None,
            note: format!(
                "first ACK {:.3} s after the process started; RSS 1 s later",
                self.first_ack.as_secs_f64()
            ),
        })
    }

    /// Watches the process for `seconds`: CPU over them, resident memory at their end;
    /// prints a row every `every` seconds (none when 0) as it goes.
    async fn watch(
        &mut self,
        phase: &'static str,
        seconds: f64,
        every: f64,
    ) -> anyhow::Result<Sample> {
        let cpu = cpu_time(Some(self.pid))?;
        let started = Instant::now();
        if every <= 0.0 {
            sleep(Duration::from_secs_f64(seconds)).await;
        } else {
            let mut ticker = Ticker::new(self.pid, every)?;
            while started.elapsed().as_secs_f64() < seconds {
                let left = seconds - started.elapsed().as_secs_f64();
                sleep(Duration::from_secs_f64(left.min(every / 4.0).max(0.01))).await;
                ticker.tick(phase)?;
            }
        }
        let used = cpu_time(Some(self.pid))? - cpu;
        Ok(Sample {
            phase,
            rss_mb: rss_mb(self.pid)?,
            cpu_pct: Some(share(used, started.elapsed())),
            note: format!("at the end of {seconds} s"),
        })
    }

    /// Runs the traffic phase; returns the load's report, the peak resident memory (MB)
    /// and the CPU share (%) during it.
    async fn traffic(
        &mut self,
        args: &ScaleArgs,
        dc09: SocketAddr,
    ) -> anyhow::Result<(IntakeReport, f64, f64)> {
        #[derive(Parser)]
        struct Load {
            #[command(flatten)]
            args: IntakeArgs,
        }
        let mut argv = vec![
            "intake".to_string(),
            "--connections".into(),
            args.connections.to_string(),
            "--accounts".into(),
            args.distinct.to_string(),
            "--seconds".into(),
            args.traffic_seconds.to_string(),
            "--warmup".into(),
            "0".into(),
        ];
        argv.extend(args.load_args.split_whitespace().map(str::to_string));
        let load = Load::try_parse_from(&argv).context("--load-args")?.args;
        let target = dc09.to_string();
        let cpu = cpu_time(Some(self.pid))?;
        let started = Instant::now();
        let running = tokio::spawn(async move { run_load(&target, &load).await });
        let mut peak = 0.0f64;
        let mut ticker = (args.sample_seconds > 0.0)
            .then(|| Ticker::new(self.pid, args.sample_seconds))
            .transpose()?;
        while !running.is_finished() {
            peak = peak.max(rss_mb(self.pid)?);
            if let Some(ticker) = &mut ticker {
                ticker.tick("traffic")?;
            }
            sleep(Duration::from_millis(250)).await;
        }
        let report = running.await??;
        let used = cpu_time(Some(self.pid))? - cpu;
        Ok((report, peak, share(used, started.elapsed())))
    }

    async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }
}

/// Prints a row every `every` seconds: seconds into the phase, resident memory (MB) now,
/// CPU (% of one core) since the last row.
struct Ticker {
    pid: u32,
    every: Duration,
    started: Instant,
    last: Instant,
    last_cpu: Duration,
}

impl Ticker {
    fn new(pid: u32, every: f64) -> anyhow::Result<Ticker> {
        let now = Instant::now();
        Ok(Ticker {
            pid,
            every: Duration::from_secs_f64(every),
            started: now,
            last: now,
            last_cpu: cpu_time(Some(pid))?,
        })
    }

    fn tick(&mut self, phase: &str) -> anyhow::Result<()> {
        let now = Instant::now();
        if now - self.last < self.every {
            return Ok(());
        }
        let cpu = cpu_time(Some(self.pid))?;
        println!(
            "{phase:<14} +{:>6.0} s  RSS {:>7.1} MB  CPU {:>5.1} %",
            (now - self.started).as_secs_f64(),
            rss_mb(self.pid)?,
            share(cpu - self.last_cpu, now - self.last)
        );
        self.last = now;
        self.last_cpu = cpu;
        Ok(())
    }
}

fn share(cpu: Duration, over: Duration) -> f64 {
    100.0 * cpu.as_secs_f64() / over.as_secs_f64().max(1e-9)
}

/// Resident memory of `pid` in MB (10^6 bytes), from `bench_proc::rss_bytes`.
fn rss_mb(pid: u32) -> anyhow::Result<f64> {
    Ok(crate::bench_proc::rss_bytes(pid)? as f64 / 1e6)
}

/// Whether the receiver at `dc09` ACKs a periodic test from the first bench account now.
async fn acked(dc09: SocketAddr) -> bool {
    let exchange = async {
        let mut stream = TcpStream::connect(dc09).await.ok()?;
        let frame = sia_dcs_frame(FIRST_ACCOUNT, 1, "RP000", chrono::Utc::now()).ok()?;
        stream.write_all(&frame).await.ok()?;
        let mut splitter = FrameSplitter::new();
        let mut buf = [0u8; 512];
        loop {
            let n = stream.read(&mut buf).await.ok()?;
            if n == 0 {
                return None;
            }
            if let Some(Chunk::Frame(reply)) = splitter.push(&buf[..n]).into_iter().next() {
                let (_, header) = parse_header_only(&reply).ok()?;
                return Some(header.id == MessageId::Ack);
            }
        }
    };
    matches!(
        timeout(Duration::from_secs(5), exchange).await,
        Ok(Some(true))
    )
}
