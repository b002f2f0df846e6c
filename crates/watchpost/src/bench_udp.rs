//! `watchpost bench udp-flood`: a panel's ACK latency while one script floods the DC-09 UDP
//! receiver (issue 13, item 6). The bench starts its own center (the bench accounts of
//! `bench intake`, on a temporary SQLite file); one source (127.0.1.1; or `--sources` of them)
//! sends `--datagrams` as fast as it can, one-byte garbage and well-formed alarm frames from account numbers that
//! are not enrolled in turn; meanwhile a panel on another source (127.0.0.3) sends an alarm
//! every `--every-ms` and times its ACK. The report gives the panel's ACK p50/p99/max and
//! losses, the answers the flooder got, and the rows and unknown-account items stored.
//! `--no-limits` runs the same with the receivers' limits off, for comparison.

use crate::bench::{FIRST_ACCOUNT, IntakeArgs, percentile, signal_frame};
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;
use watchpost_server::ReceiverLimits;
use watchpost_wire::{MessageId, parse_frame};

/// First number of the unknown accounts the flood is sent from (never enrolled).
const FIRST_UNKNOWN: u64 = 900_000;
/// How long the panel waits for an ACK before it counts the frame lost.
const ACK_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(clap::Args, Debug, Clone)]
pub struct UdpFloodArgs {
    /// Datagrams the flooder sends, half garbage, half unknown-account frames.
    #[arg(long, value_name = "N", default_value_t = 200_000)]
    pub datagrams: u64,
    /// Source addresses the flood is spread over (127.0.1.1, 127.0.1.2, ...), one socket each.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u8).range(1..=250))]
    pub sources: u8,
    /// Distinct unknown account numbers the flood's frames cycle through.
    #[arg(long, value_name = "N", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub unknown: u64,
    /// The panel sends one alarm every this many milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 200,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub every_ms: u64,
    /// Run with the receivers' limits off (no rates, no caps), as before issue 13.
    #[arg(long)]
    pub no_limits: bool,
    /// One JSON object on stdout instead of the summary.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct UdpFloodReport {
    pub limits: bool,
    pub datagrams: u64,
    pub sources: u8,
    /// How long the flooder took to send them.
    pub flood_s: f64,
    /// Answers the flooder received (ACK, NAK, DUH together).
    pub flood_answers: u64,
    pub panel_frames: u64,
    pub panel_acks: u64,
    pub panel_lost: u64,
    pub ack_p50_ms: f64,
    pub ack_p99_ms: f64,
    pub ack_max_ms: f64,
    /// Signals stored for the unknown numbers after the flood.
    pub unknown_rows: u64,
    /// Unknown-account items open after the flood.
    pub unknown_items: u64,
}

pub async fn udp_flood(args: UdpFloodArgs) -> anyhow::Result<()> {
    let limits = if args.no_limits {
        ReceiverLimits {
            allow: Vec::new(),
            udp_per_source: None,
            udp_in_flight: 1 << 30,
            unknown_per_account: None,
            unknown_total: None,
            unknown_open_items: usize::MAX,
        }
    } else {
        ReceiverLimits::default()
    };
    let hosted = IntakeArgs {
        target: None,
        db: None,
        nodes: 1,
        connections: 1,
        seconds: 1.0,
        accounts: 1,
        json: false,
        warmup: 0.0,
        mix: crate::bench::Mix::Burglary,
        rate: None,
        pid: None,
        after: 0.0,
        timeline: None,
    };
    let (servers, _dir) = crate::bench::self_hosted(&hosted, limits, Default::default()).await?;
    let server = servers.into_iter().next().expect("one node");
    let to = server.dc09_addr;

    let mut flooders = Vec::new();
    for n in 1..=args.sources {
        flooders.push(Arc::new(UdpSocket::bind(format!("127.0.1.{n}:0")).await?));
    }
    let answers = Arc::new(AtomicU64::new(0));
    let counting: Vec<_> = flooders
        .iter()
        .map(|flooder| {
            let (flooder, answers) = (flooder.clone(), answers.clone());
            tokio::spawn(async move {
                let mut buffer = [0u8; 2048];
                while flooder.recv_from(&mut buffer).await.is_ok() {
                    answers.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let flooding = {
        let flooders = flooders.clone();
        let (count, unknown) = (args.datagrams, args.unknown);
        tokio::spawn(async move {
            let started = Instant::now();
            for n in 0..count {
                let datagram = if n % 2 == 0 {
                    vec![b'x']
                } else {
                    let i = n / 2;
                    let sequence = u16::try_from(i % 9999 + 1).unwrap_or(1);
                    let zone = u32::try_from(i % 999 + 1).unwrap_or(1);
                    signal_frame(
                        FIRST_UNKNOWN + i % unknown,
                        sequence,
                        zone,
                        chrono::Utc::now(),
                    )
                    .expect("a frame")
                };
                let flooder = &flooders[(n / 2) as usize % flooders.len()];
                let _ = flooder.send_to(&datagram, to).await;
            }
            started.elapsed()
        })
    };

    let panel = UdpSocket::bind("127.0.0.3:0").await?;
    let mut latencies = Vec::new();
    let (mut frames, mut lost) = (0u64, 0u64);
    let every = Duration::from_millis(args.every_ms);
    // The panel runs through the flood and one second after it.
    let mut flood_over: Option<Instant> = None;
    while flood_over.is_none_or(|at| at.elapsed() < Duration::from_secs(1)) {
        if flood_over.is_none() && flooding.is_finished() {
            flood_over = Some(Instant::now());
        }
        frames += 1;
        let sequence = u16::try_from(frames % 9999 + 1).unwrap_or(1);
        let frame = signal_frame(FIRST_ACCOUNT, sequence, 3, chrono::Utc::now())?;
        let sent = Instant::now();
        panel.send_to(&frame, to).await?;
        match ack_within(&panel, sequence, sent + ACK_TIMEOUT).await {
            true => latencies.push(sent.elapsed()),
            false => lost += 1,
        }
        tokio::time::sleep(every.saturating_sub(sent.elapsed())).await;
    }
    let flood_time = flooding.await?;
    // Late answers to the flood arrive within the ACK timeout.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for task in counting {
        task.abort();
    }

    let store = server.store.clone();
    let mut unknown_rows = 0u64;
    for i in 0..args.unknown {
        unknown_rows += store.signals(&(FIRST_UNKNOWN + i).to_string()).await?.len() as u64;
    }
    let unknown_items = store.unknown_items(false).await?.len() as u64;
    server.stop().await?;

    let mut micros: Vec<u64> = latencies.iter().map(|d| d.as_micros() as u64).collect();
    micros.sort_unstable();
    let ms = |us: u64| (us as f64 / 10.0).round() / 100.0;
    let report = UdpFloodReport {
        limits: !args.no_limits,
        datagrams: args.datagrams,
        sources: args.sources,
        flood_s: (flood_time.as_secs_f64() * 100.0).round() / 100.0,
        flood_answers: answers.load(Ordering::Relaxed),
        panel_frames: frames,
        panel_acks: latencies.len() as u64,
        panel_lost: lost,
        ack_p50_ms: ms(percentile(&micros, 0.50)),
        ack_p99_ms: ms(percentile(&micros, 0.99)),
        ack_max_ms: ms(micros.last().copied().unwrap_or(0)),
        unknown_rows,
        unknown_items,
    };
    if args.json {
        out!("{}", serde_json::to_string(&report)?);
    } else {
        let r = &report;
        out!(
            "limits {}: {} datagrams from {} sources in {:.2}s, {} answered",
            if r.limits { "on" } else { "off" },
            r.datagrams,
            r.sources,
            r.flood_s,
            r.flood_answers
        );
        out!(
            "panel: {} frames, {} ACKed, {} lost; ACK p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            r.panel_frames,
            r.panel_acks,
            r.panel_lost,
            r.ack_p50_ms,
            r.ack_p99_ms,
            r.ack_max_ms
        );
        out!(
            "stored for unknown accounts: {} signals, {} open items",
            r.unknown_rows,
            r.unknown_items
        );
    }
    Ok(())
}

/// Whether the ACK of frame `sequence` arrives before `deadline` (a late answer to an earlier
/// frame is skipped).
async fn ack_within(panel: &UdpSocket, sequence: u16, deadline: Instant) -> bool {
    let mut buffer = [0u8; 2048];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, panel.recv_from(&mut buffer)).await {
            Ok(Ok((n, _))) => {
                if parse_frame(&buffer[..n], None)
                    .is_ok_and(|f| f.header.id == MessageId::Ack && f.header.sequence == sequence)
                {
                    return true;
                }
            }
            _ => return false,
        }
    }
}
