//! `watchpost bench invite`: how long from a panel's signal to the first call's INVITE on the
//! wire (issue 11: p99 ≤ 50 ms). An in-process center on a temporary SQLite file, with the SIP
//! telephony pointed at a fake trunk the bench holds ([`crate::bench_trunk`]); each signal is
//! a water alarm from an account of its own, whose plan's first step is an automated call
//! (`watchpost_core::plan`, water and freeze). Each signal is timed from the moment its
//! DC-09 frame is written to the moment the INVITE for that account's contact reaches the
//! trunk; the trunk answers 486 Busy Here so the call ends at once.

use crate::bench::percentile;
use crate::bench_trunk::{self, Arrival};
use anyhow::Context;
use chrono::Utc;
use serde::Serialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tokio::time::Instant;
use watchpost_core::account::{Account, Contact, DAY_MS, Monitoring, Premises, Responder};
use watchpost_core::password::{HashCost, VerbalPassword};
use watchpost_server::adapters::{self, Manual, Telephony};
use watchpost_telephony::tts::Voice;
use watchpost_telephony::{SipConfig, SipTelephony, Trunk};

#[derive(clap::Args, Debug, Clone)]
pub struct InviteArgs {
    /// Signals sent, one at a time, each a water alarm from an account of its own.
    #[arg(long, value_name = "N", default_value_t = 200,
          value_parser = clap::value_parser!(u32).range(1..=99_999))]
    pub signals: u32,
    /// Milliseconds from one signal to the next.
    #[arg(long, value_name = "MS", default_value_t = 50,
          value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub every_ms: u64,
    /// One JSON object on stdout instead of the human summary.
    #[arg(long)]
    pub json: bool,
}

/// First account number of the bench; signal `i` comes from `FIRST_ACCOUNT + i`.
const FIRST_ACCOUNT: u32 = 300_000;
/// The RTP ports the bench's center may bind (a call binds one before its INVITE): away from
/// the default `telephony.rtp_ports` (20000-20999) so a running center is not disturbed.
pub const RTP_PORTS: std::ops::RangeInclusive<u16> = 31_000..=31_999;
/// How long after the last signal an INVITE still counts; later ones are missing.
const GRACE: Duration = Duration::from_secs(5);
const ACK_TIMEOUT: Duration = Duration::from_secs(5);

/// Signal → INVITE latencies in milliseconds. `missing`: signals whose INVITE never came
/// within 5 s of the last signal. `ack_*`: the same frames' DC-09 ACKs (the signal stored),
/// the part of the wait before the engine acts.
#[derive(Debug, Clone, Serialize)]
pub struct InviteReport {
    pub signals: u32,
    pub invites: u32,
    pub missing: u32,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub ack_p50_ms: f64,
    pub ack_p99_ms: f64,
    pub every_ms: u64,
}

/// The contact phone of the bench account `i`: `+1555` and 7 digits, E.164.
fn phone(i: u32) -> String {
    format!("+1555{:07}", 1_000_000 + i)
}

/// The center's voice: espeak-ng, or flite when only it is installed. The SIP telephony
/// renders each automated call's message (alongside the INVITE, not before it) and checks
/// its voice at start. Errors: neither program runs.
pub fn voice() -> anyhow::Result<Voice> {
    let runs = |program: &str| {
        std::process::Command::new(program)
            .arg("--version")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok()
    };
    if runs("espeak-ng") {
        Ok(Voice::default())
    } else if runs("flite") {
        Ok(Voice::Flite)
    } else {
        anyhow::bail!(
            "this bench needs espeak-ng or flite (apt-get install espeak-ng): the SIP \
             telephony speaks each automated call's message"
        )
    }
}

/// A free loopback port for both UDP and TCP (the SIP user agent listens on both).
pub fn free_sip_port() -> anyhow::Result<u16> {
    for _ in 0..20 {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0")?;
        let port = udp.local_addr()?.port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    anyhow::bail!("no loopback port is free for both UDP and TCP")
}

fn account(i: u32, enrolled_at: i64, password: &VerbalPassword) -> Account {
    Account {
        number: (FIRST_ACCOUNT + i).to_string(),
        premises: Premises::Residential,
        address: format!("{i} Invite St, Springfield, IL"),
        country: "US".into(),
        region: "IL".into(),
        monitoring: Monitoring::Professional,
        enrolled_at,
        verbal_password: password.clone(),
        responder: Responder::Police,
        test_until: None,
        // One contact: after the 486 the plan has nobody else to call.
        contacts: vec![Contact {
            name: "Bench Contact".into(),
            phone: phone(i),
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

/// A plain `SIA-DCS` water alarm (`WA`, zone 1) from `account`.
fn water_frame(account: u32, sequence: u16) -> anyhow::Result<Vec<u8>> {
    Ok(crate::bench::sia_dcs_frame(
        u64::from(account),
        sequence,
        "WA001",
        Utc::now(),
    )?)
}

/// `watchpost bench invite`: runs the bench and prints the report. Errors: no voice, a port
/// cannot be bound, the center does not start, or no INVITE came at all.
pub async fn invite(args: InviteArgs) -> anyhow::Result<()> {
    let report = measure(&args).await?;
    if args.json {
        out!("{}", serde_json::to_string(&report)?);
    } else {
        out!(
            "signals      {} water alarms, one every {} ms, each from its own account\n\
             INVITEs      {} ({} missing)\n\
             signal → INVITE  p50 {} ms, p90 {} ms, p99 {} ms, max {} ms\n\
             signal → ACK     p50 {} ms, p99 {} ms",
            report.signals,
            report.every_ms,
            report.invites,
            report.missing,
            report.p50_ms,
            report.p90_ms,
            report.p99_ms,
            report.max_ms,
            report.ack_p50_ms,
            report.ack_p99_ms
        );
    }
    anyhow::ensure!(report.invites > 0, "no INVITE reached the bench's trunk");
    Ok(())
}

async fn measure(args: &InviteArgs) -> anyhow::Result<InviteReport> {
    let voice = voice()?;
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("bench.db").display().to_string();
    let store = watchpost_store::open(&db).await?;
    let password = VerbalPassword::hash("bench", HashCost::Fast);
    let enrolled_at = Utc::now().timestamp_millis() - 30 * DAY_MS;
    let accounts: Vec<Account> = (0..args.signals)
        .map(|i| account(i, enrolled_at, &password))
        .collect();
    for chunk in accounts.chunks(1000) {
        store.put_accounts(chunk).await?;
    }
    drop(store);
    let mut server = watchpost_server::Server::start(watchpost_server::Config {
        node: watchpost_server::NodeConfig::new("bench-invite", &db),
        db: db.clone(),
        dc09: "127.0.0.1:0".parse()?,
        http: None,
        window: watchpost_wire::Window::default(),
        settings: watchpost_core::Settings::default(),
        timezone: chrono_tz::Tz::UTC,
        recordings: watchpost_server::RecordingsConfig::beside(&db),
        retention: Default::default(),
        region: watchpost_server::phone::Region::US,
        resolution_codes: Default::default(),
        limits: Default::default(),
        console: Default::default(),
        secrets: Default::default(),
        listen: Default::default(),
        login: Default::default(),
        webhooks: Default::default(),
        metrics_token: None,
    })
    .await?;

    let trunk = Arc::new(UdpSocket::bind("127.0.0.1:0").await?);
    let trunk_port = trunk.local_addr()?.port();
    let listen: SocketAddr = ([127, 0, 0, 1], free_sip_port()?).into();
    let trunk_at = Trunk {
        host: "127.0.0.1".into(),
        port: trunk_port,
    };
    let mut config = SipConfig::new(listen, trunk_at, "+15555550199".into());
    config.rtp_ports = RTP_PORTS;
    config.voice = voice;
    let (sip, events) = SipTelephony::start(config, None, None)
        .await
        .context("the bench's SIP telephony")?;
    tokio::spawn(watchpost_telephony::feed(
        events,
        server.commands.clone(),
        server.metrics.clone(),
    ));
    let (_, none) = mpsc::unbounded_channel();
    let effects = std::mem::replace(&mut server.effects, none);
    let (_, none) = mpsc::unbounded_channel();
    let adopted = std::mem::replace(&mut server.adopted, none);
    let telephony: Arc<dyn Telephony> = Arc::new(sip);
    tokio::spawn(adapters::carry_out(
        effects,
        adopted,
        server.board.clone(),
        telephony,
        Arc::new(Manual),
    ));
    let (arrived, mut arrivals) = mpsc::unbounded_channel();
    let trunk_task = tokio::spawn(bench_trunk::serve(trunk, arrived));

    let (written, mut acks) = send_signals(server.dc09_addr, args).await?;
    let by_phone: HashMap<String, usize> =
        (0..args.signals).map(|i| (phone(i), i as usize)).collect();
    let mut first: Vec<Option<Instant>> = vec![None; args.signals as usize];
    let deadline = Instant::now() + GRACE;
    while first.iter().any(Option::is_none) {
        let Ok(Some(Arrival { number, at, .. })) =
            tokio::time::timeout_at(deadline, arrivals.recv()).await
        else {
            break;
        };
        if let Some(&i) = by_phone.get(&number) {
            first[i].get_or_insert(at);
        }
    }
    trunk_task.abort();
    server.stop().await?;

    let mut latencies: Vec<u64> = first
        .iter()
        .zip(&written)
        .filter_map(|(at, sent)| Some(at.as_ref()?.saturating_duration_since((*sent)?)))
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .collect();
    latencies.sort_unstable();
    let ms = |us: u64| (us as f64 / 10.0).round() / 100.0;
    acks.sort_unstable();
    let invites = latencies.len() as u32;
    Ok(InviteReport {
        signals: args.signals,
        invites,
        missing: args.signals - invites,
        p50_ms: ms(percentile(&latencies, 0.50)),
        p90_ms: ms(percentile(&latencies, 0.90)),
        p99_ms: ms(percentile(&latencies, 0.99)),
        max_ms: ms(latencies.last().copied().unwrap_or(0)),
        ack_p50_ms: ms(percentile(&acks, 0.50)),
        ack_p99_ms: ms(percentile(&acks, 0.99)),
        every_ms: args.every_ms,
    })
}

/// Sends one water alarm per account on one TCP connection, every `every_ms`, each after
/// the last one's ACK. Returns when each frame was written (none for a frame not sent), and
/// each one's wait for its reply in microseconds.
async fn send_signals(
    dc09: SocketAddr,
    args: &InviteArgs,
) -> anyhow::Result<(Vec<Option<Instant>>, Vec<u64>)> {
    let mut conn = TcpStream::connect(dc09).await?;
    conn.set_nodelay(true)?;
    let mut written = vec![None; args.signals as usize];
    let mut acks = Vec::with_capacity(args.signals as usize);
    let mut splitter = watchpost_wire::FrameSplitter::new();
    let mut buf = vec![0u8; 4096];
    let start = Instant::now();
    for i in 0..args.signals {
        tokio::time::sleep_until(start + Duration::from_millis(args.every_ms * u64::from(i))).await;
        let sequence = u16::try_from(i % 9999 + 1).unwrap_or(1);
        let frame = water_frame(FIRST_ACCOUNT + i, sequence)?;
        let sent = Instant::now();
        written[i as usize] = Some(sent);
        conn.write_all(&frame).await?;
        let deadline = Instant::now() + ACK_TIMEOUT;
        loop {
            let n = tokio::time::timeout_at(deadline, conn.read(&mut buf))
                .await
                .with_context(|| format!("signal {i}: no reply within 5 s"))??;
            anyhow::ensure!(n > 0, "the center closed the DC-09 connection");
            if !splitter.push(&buf[..n]).is_empty() {
                acks.push(u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX));
                break;
            }
        }
    }
    Ok((written, acks))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn water_frames_open_a_water_alarm_for_their_account() {
        let raw = water_frame(300_007, 8).expect("encodes");
        let got = watchpost_wire::receive(
            &raw,
            None,
            Utc::now(),
            watchpost_wire::Window::default(),
            &mut watchpost_wire::FixedPad(b'0'),
        );
        let message = got.message.expect("accepted");
        assert_eq!(message.account, "300007");
        let event = watchpost_core::router::parse_sia("WA001").expect("a SIA code");
        assert_eq!(
            event.alarm_kind(),
            Some(watchpost_core::kind::AlarmKind::Water)
        );
    }

    #[test]
    fn phones_are_e164_and_distinct() {
        assert!(watchpost_core::account::is_e164(&phone(0)));
        assert!(watchpost_core::account::is_e164(&phone(99_998)));
        assert_ne!(phone(1), phone(10));
    }

    #[tokio::test(flavor = "multi_thread")]
    #[ignore = "needs espeak-ng or flite (.ci/run installs them)"]
    async fn every_signal_reaches_the_trunk_as_an_invite() {
        let args = InviteArgs {
            signals: 5,
            every_ms: 20,
            json: true,
        };
        let report = measure(&args).await.expect("runs");
        assert_eq!((report.invites, report.missing), (5, 0), "{report:?}");
        assert!(report.p50_ms > 0.0, "{report:?}");
        assert!(report.p50_ms <= report.p99_ms && report.p99_ms <= report.max_ms);
    }
}
