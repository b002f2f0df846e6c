//! `watchpost bench flood`: what one more signal costs an alarm that has already taken many.
//! A panel in a fault loop repeats its alarm for hours; each repeat must cost the center the
//! same at the ten-thousandth as at the tenth. For each history length it opens a burglary
//! alarm, joins that many signals to it, then times further signals one commit each through
//! the same path as `serve`: the center routes and applies it, the store commits it, this
//! node's board shows the alarm, and a second board follows it from the store as another
//! node's would. Each history is measured twice: with runaway accounts off, every signal
//! is a timeline row; with the default limit, the flood is counted in one grouped row.

use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use watchpost_center::Center;
use watchpost_core::account::{Account, DAY_MS};
use watchpost_core::password::{HashCost, VerbalPassword};
use watchpost_core::router::parse_sia;
use watchpost_core::{Millis, RunawayLimit, Settings};
use watchpost_server::Board;
use watchpost_store::{Db, SignalRecord, SqliteStore, Store};

#[derive(clap::Args, Debug, Clone)]
pub struct FloodArgs {
    /// Joined signals the alarm holds before measuring, one run each.
    #[arg(long, value_name = "N[,N...]", value_delimiter = ',',
          default_values_t = [10u32, 1_000, 100_000])]
    pub history: Vec<u32>,
    /// Signals timed at each history length, one commit each.
    #[arg(long, value_name = "N", default_value_t = 500,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub signals: u32,
    /// One JSON object on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// The cost of one joined signal at one history length, in microseconds per signal.
#[derive(Debug, Clone, Serialize)]
pub struct FloodRow {
    pub history: u32,
    /// `listed` (runaway accounts off) or `grouped` (the default runaway limit).
    pub mode: &'static str,
    /// Routed and applied by the center, and committed (an in-memory SQLite store, so that
    /// the disk does not hide the center's own cost).
    pub commit_us: f64,
    /// This node's board taking the alarm's new state.
    pub board_us: f64,
    /// Another node's board reading the new log entries and applying them.
    pub follow_us: f64,
    pub total_us: f64,
    /// The slowest signal, all steps.
    pub max_us: f64,
}

const ACCOUNT: &str = "F100D";
/// Signals joined per commit while the history is built (as a busy round would).
const FILL_ROUND: u32 = 8192;

pub async fn flood(args: FloodArgs) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for &history in &args.history {
        for runaway in [None, Some(RunawayLimit::default())] {
            rows.push(measure(history, args.signals, runaway).await?);
        }
    }
    if args.json {
        println!("{}", serde_json::to_string(&rows)?);
    } else {
        println!(
            "{:>9} {:>8} {:>10} {:>9} {:>10} {:>10} {:>9}",
            "history", "mode", "commit µs", "board µs", "follow µs", "total µs", "max µs"
        );
        for r in &rows {
            println!(
                "{:>9} {:>8} {:>10.1} {:>9.1} {:>10.1} {:>10.1} {:>9.0}",
                r.history, r.mode, r.commit_us, r.board_us, r.follow_us, r.total_us, r.max_us
            );
        }
    }
    Ok(())
}

fn account(now: Millis) -> Account {
    let password = VerbalPassword::hash("bench", HashCost::Fast);
    crate::bench::account(ACCOUNT, now - 30 * DAY_MS, &password)
}

fn burglary(at: Millis) -> SignalRecord {
    SignalRecord {
        account: ACCOUNT.into(),
        received_at: at,
        source: "sia".into(),
        event: parse_sia("BA003").expect("a SIA code"),
        raw: "Nri1/BA003".into(),
    }
}

async fn measure(
    history: u32,
    signals: u32,
    runaway: Option<RunawayLimit>,
) -> anyhow::Result<FloodRow> {
    let store = SqliteStore::memory().await?;
    let start: Millis = 1_800_000_000_000;
    store.put_account(&account(start)).await?;
    let store: Db = Arc::new(store);
    let settings = Settings {
        runaway,
        ..Settings::default()
    };
    let mut center = Center::resume(store.clone(), settings).await?;
    let board = Board::default();
    let follower = Board::default();
    let mut now = start;
    let id = *center
        .receive(now, burglary(now), "panel")
        .await?
        .opened
        .first()
        .ok_or_else(|| anyhow::anyhow!("the first burglary signal opened no alarm"))?;
    center.commit().await?;
    let mut joined = 0;
    while joined < history {
        let round = FILL_ROUND.min(history - joined);
        for _ in 0..round {
            now += 1;
            center.receive(now, burglary(now), "panel").await?;
        }
        let (_, touched) = center.commit_changes().await?;
        board.update(&center, &touched);
        joined += round;
    }
    follower.reload(&store, id).await;
    let (mut commit, mut shown, mut follow) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut max = Duration::ZERO;
    for _ in 0..signals {
        now += 1;
        let t0 = Instant::now();
        center.receive(now, burglary(now), "panel").await?;
        let (_, touched) = center.commit_changes().await?;
        let t1 = Instant::now();
        board.update(&center, &touched);
        let t2 = Instant::now();
        follower.reload(&store, id).await;
        let t3 = Instant::now();
        commit += t1 - t0;
        shown += t2 - t1;
        follow += t3 - t2;
        max = max.max(t3 - t0);
    }
    anyhow::ensure!(
        follower.get(id).is_some_and(|a| a.is_open()),
        "the followed alarm is not shown"
    );
    let per = |d: Duration| (d.as_secs_f64() * 1e6 / f64::from(signals) * 10.0).round() / 10.0;
    Ok(FloodRow {
        history,
        mode: if runaway.is_some() {
            "grouped"
        } else {
            "listed"
        },
        commit_us: per(commit),
        board_us: per(shown),
        follow_us: per(follow),
        total_us: per(commit + shown + follow),
        max_us: (max.as_secs_f64() * 1e6).round(),
    })
}
