//! `watchpost bench retention`: what the retention sweep costs intake. It fills a center's
//! database with expired records (signals received and alarms closed 500 days ago, each
//! alarm with its log), then loads the live DC-09 receiver as `bench intake` does twice: once
//! with no sweep, once while a sweep removes the expired records with the center's batch
//! size and pause. It prints the DC-09 ACK latency percentiles of both runs and what the
//! sweep removed, how fast. README, "Retention".

use crate::bench::{IntakeArgs, IntakeReport, human, run_load, self_hosted};
use std::time::{Duration, Instant};
use watchpost_core::account::DAY_MS;
use watchpost_core::password::{HashCost, VerbalPassword};
use watchpost_core::router::{Event, open_spec};
use watchpost_core::{AlarmKind, Disposition, Settings, SignalClass};
use watchpost_server::RetentionConfig;
use watchpost_server::retention::{Retention, Swept};
use watchpost_store::{Batch, LogBody, LogEntry, SignalRecord};

#[derive(clap::Args, Debug, Clone)]
pub struct RetentionArgs {
    /// Expired signals put in the database before measuring (of accounts with no open alarm).
    #[arg(long, value_name = "N", default_value_t = 500_000)]
    pub signals: u32,
    /// Expired alarms (closed, each with its opening and closing log entries).
    #[arg(long, value_name = "N", default_value_t = 20_000)]
    pub alarms: u32,
    /// Rows the sweep removes per transaction.
    #[arg(long, value_name = "N", default_value_t = RetentionConfig::default().batch,
          value_parser = clap::value_parser!(i64).range(1..))]
    pub batch: i64,
    /// The sweep's pause after each full batch, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = RetentionConfig::default().pause.as_millis() as u64)]
    pub pause_ms: u64,
    /// The load, as `bench intake` takes it.
    #[command(flatten)]
    pub load: IntakeArgs,
}

/// Ids far above any the center hands out while the bench runs.
const FIRST_OLD_ALARM: i64 = 1_000_000_000;
/// Rows per commit while filling.
const FILL_CHUNK: u32 = 10_000;

pub async fn retention(args: RetentionArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.load.target.is_none(),
        "--target: the retention bench runs its own center (it fills its database)"
    );
    anyhow::ensure!(
        !args.load.json,
        "--json: this bench prints its summary only"
    );
    // The center's own sweep is off: the bench runs the sweep when it measures it.
    let off = RetentionConfig {
        signals: None,
        alarms: None,
        ..RetentionConfig::default()
    };
    let (servers, _dir) = self_hosted(&args.load, Default::default(), off).await?;
    let server = &servers[0];
    let filled = Instant::now();
    fill(server, &args).await?;
    let fill_time = filled.elapsed();
    let target = server.dc09_addr.to_string();

    let quiet = run_load(&target, &args.load).await?;
    let sweep = Retention::new(
        server.store.clone(),
        server.recordings.clone(),
        RetentionConfig {
            batch: args.batch,
            pause: Duration::from_millis(args.pause_ms),
            ..RetentionConfig::default()
        },
    );
    // The sweep begins with the measured window, after the load's warm-up.
    let warmup = Duration::from_secs_f64(args.load.warmup);
    let sweeping = tokio::spawn(async move {
        tokio::time::sleep(warmup).await;
        let started = Instant::now();
        let swept = sweep.sweep(watchpost_server::now_ms()).await;
        (swept, started.elapsed())
    });
    let started = Instant::now();
    let during = run_load(&target, &args.load).await?;
    let measured = started.elapsed().saturating_sub(warmup);
    let (swept, took) = sweeping.await?;
    let swept = swept?;
    for server in servers {
        server.stop().await?;
    }
    report(&args, fill_time, &quiet, &during, &swept, took, measured);
    Ok(())
}

/// Puts the expired records in: signals of accounts the load does not use, and closed alarms
/// with their log, all 500 days old.
async fn fill(server: &watchpost_server::Server, args: &RetentionArgs) -> anyhow::Result<()> {
    let old = watchpost_server::now_ms() - 500 * DAY_MS;
    let event = Event::Panel {
        class: SignalClass::Alarm(AlarmKind::Burglary),
        code: "BA".into(),
        zone: Some(1),
    };
    let mut n = 0;
    while n < args.signals {
        let signals = (n..args.signals.min(n + FILL_CHUNK))
            .map(|i| SignalRecord {
                account: format!("OLD{}", i % 1000),
                received_at: old + i64::from(i),
                source: "sia".into(),
                event: event.clone(),
                raw: format!("#OLD{}|Nri1/BA{i}", i % 1000),
            })
            .collect();
        server
            .store
            .write(&Batch {
                signals,
                ..Batch::default()
            })
            .await?;
        n += FILL_CHUNK;
    }
    let password = VerbalPassword::hash("bench", HashCost::Fast);
    let account = crate::bench::account("OLD0", old - 30 * DAY_MS, &password);
    let mut n = 0;
    while n < args.alarms {
        let mut batch = Batch::default();
        for i in n..args.alarms.min(n + FILL_CHUNK / 4) {
            let id = FIRST_OLD_ALARM + i64::from(i);
            let at = old + i64::from(i);
            let spec = open_spec(
                &account,
                AlarmKind::Burglary,
                &event,
                at,
                &Settings::default(),
            );
            batch.entries.push((
                id,
                LogEntry {
                    seq: 0,
                    at,
                    actor: "panel".into(),
                    body: LogBody::Opened {
                        spec: Box::new(spec.clone()),
                    },
                },
            ));
            batch.opened.push((id, spec));
            batch.closed.push((id, at + 60_000, Disposition::OnTest));
        }
        server.store.write(&batch).await?;
        n += FILL_CHUNK / 4;
    }
    Ok(())
}

fn report(
    args: &RetentionArgs,
    fill: Duration,
    quiet: &IntakeReport,
    during: &IntakeReport,
    swept: &Swept,
    took: Duration,
    measured: Duration,
) {
    let rows = swept.signals + swept.alarms;
    out!(
        "expired      {} signals, {} alarms (filled in {:.1?})\n\
         sweep        batches of {}, pause {} ms: removed {} signals, {} alarms in {:.1?} \
         ({:.0} rows/s){}",
        args.signals,
        args.alarms,
        fill,
        args.batch,
        args.pause_ms,
        swept.signals,
        swept.alarms,
        took,
        rows as f64 / took.as_secs_f64().max(1e-9),
        if took < measured {
            " — over before the measured run ended"
        } else {
            ""
        }
    );
    out!("--- without a sweep ---\n{}", human(quiet).trim_end());
    out!("--- while the sweep runs ---\n{}", human(during).trim_end());
}
