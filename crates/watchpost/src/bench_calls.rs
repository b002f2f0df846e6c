//! `watchpost bench calls`: how many automated calls this machine holds at once with media
//! flowing both ways (issue 11: ≥ 200 calls, RTP send lateness p99 ≤ 5 ms, CPU per call).
//! sipp is the far end (`bench/uas_talk.xml`: answers at once and plays a short "hello"
//! then silence as RTP for longer than the run); the center's side is `watchpost_telephony`'s own call driver
//! (`call::run`, as `watchpost call test` uses it) speaking a message longer than the run.
//! Once every call is up, the steady state is measured for `--seconds`, then all hang up.
//!
//! Ports, all on 127.0.0.1 and away from a center's defaults (SIP 5060, RTP 20000-20999):
//! the center's SIP on 35070 (UDP and TCP), its RTP on 36000-37999 (1,000 calls), sipp's SIP on
//! 35080 and sipp's RTP on 38000 (sipp 3.6.1 streams every call from that one port).

use crate::bench_invite::voice;
use crate::bench_proc::{cpu_time, udp_counters, udp_drops};
use anyhow::Context;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use watchpost_core::Input;
use watchpost_core::alarm::Purpose;
use watchpost_telephony::call::{self, Command, Dial};
use watchpost_telephony::{Event, Events, Shared, SipConfig, Trunk};

#[derive(clap::Args, Debug, Clone)]
pub struct CallsArgs {
    /// Calls placed and held at once (the bench's RTP ports hold 1,000).
    #[arg(long, value_name = "N", default_value_t = 200,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub calls: u32,
    /// Seconds of steady state measured once every call is up.
    #[arg(long, value_name = "S", default_value_t = 20,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub seconds: u64,
    /// Calls placed per second while ramping up.
    #[arg(long, value_name = "N", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub rate: u32,
    /// One JSON object on stdout instead of the human summary.
    #[arg(long)]
    pub json: bool,
}

const SIP_LISTEN: ([u8; 4], u16) = ([127, 0, 0, 1], 35_070);
const SIPP_PORT: u16 = 35_080;
const RTP_PORTS: std::ops::RangeInclusive<u16> = 36_000..=37_999;
const SIPP_MEDIA_PORT: u16 = 38_000;
/// How long calls may take to come up after the last one was placed.
const SETTLE: Duration = Duration::from_secs(15);
/// How long the calls may take to end once hung up.
const HANGUP_WAIT: Duration = Duration::from_secs(15);
const SCENARIO: &str = include_str!("../bench/uas_talk.xml");
const SENTENCE: &str =
    "This is the watchpost monitoring center, with a long message for the concurrency bench.";

/// One run. Rates are per call and per second of the steady state; CPU in % of one core.
#[derive(Debug, Clone, Serialize)]
pub struct CallsReport {
    pub placed: u32,
    /// 200 OK to the INVITE.
    pub answered: u32,
    /// The most calls answered and not yet ended at one time.
    pub peak_concurrent: u32,
    /// Calls up when the steady state began, and the fewest during it.
    pub steady_calls: u32,
    pub steady_min_calls: u32,
    pub steady_seconds: f64,
    /// The center's 20 ms sends in the steady state, how late against their schedule
    /// (`watchpost_telephony::jitter`), rounded up to 100 µs; 100.1 means 100 ms or more.
    pub rtp_late_p50_ms: f64,
    pub rtp_late_p99_ms: f64,
    pub rtp_late_max_ms: f64,
    /// The same over every send of the run, ramp-up and hang-up included.
    pub rtp_late_all_p99_ms: f64,
    pub rtp_late_all_max_ms: f64,
    /// RTP packets the center sent per call per second (50 is every 20 ms).
    pub sent_per_call_s: f64,
    /// RTP packets the center read per call per second (50 expected): the UDP datagrams read
    /// on the host during the steady state (/proc/net/snmp InDatagrams, which Linux counts
    /// as a socket is read). sipp reads only SIP there (it never reads its rtp_stream socket,
    /// whose buffer fills and drops what the center sends it), and no SIP flows in the
    /// steady state. A quiet host is assumed: other UDP reads would count as received.
    pub received_per_call_s: f64,
    /// Datagrams dropped at the center's RTP sockets in the steady state (a full receive
    /// buffer: the center did not read in time).
    pub center_rtp_drops: u64,
    pub center_cpu_pct: f64,
    pub center_cpu_pct_per_call: f64,
    pub sipp_cpu_pct: f64,
    /// What the detector made of the far end: a person, or a machine.
    pub detected_person: u32,
    pub detected_machine: u32,
    /// Final responses other than 200, by code.
    pub rejected: BTreeMap<u16, u32>,
    /// Why calls failed, by reason, as the telephony said.
    pub failures: BTreeMap<String, u32>,
}

/// `watchpost bench calls`: runs the bench and prints the report. Errors: sipp, sox or a
/// voice is missing, a port is taken, sipp stops early, or no call was answered.
pub async fn calls(args: CallsArgs) -> anyhow::Result<()> {
    let report = run(&args).await?;
    if args.json {
        out!("{}", serde_json::to_string(&report)?);
    } else {
        out!("{}", human(&report));
    }
    anyhow::ensure!(report.answered > 0, "sipp answered no call");
    Ok(())
}

fn human(r: &CallsReport) -> String {
    let mut out = format!(
        "calls        {} placed, {} answered, peak {} at once\n\
         steady       {} calls up (fewest {}) for {:.1} s\n\
         RTP late     p50 {} ms, p99 {} ms, max {} ms (whole run: p99 {} ms, max {} ms)\n\
         RTP packets  {:.1} sent and {:.1} received per call per second; {} dropped at the center\n\
         CPU          center {:.1}% of a core ({:.2}% per call), sipp {:.1}%\n\
         detected     {} person, {} machine",
        r.placed,
        r.answered,
        r.peak_concurrent,
        r.steady_calls,
        r.steady_min_calls,
        r.steady_seconds,
        r.rtp_late_p50_ms,
        r.rtp_late_p99_ms,
        r.rtp_late_max_ms,
        r.rtp_late_all_p99_ms,
        r.rtp_late_all_max_ms,
        r.sent_per_call_s,
        r.received_per_call_s,
        r.center_rtp_drops,
        r.center_cpu_pct,
        r.center_cpu_pct_per_call,
        r.sipp_cpu_pct,
        r.detected_person,
        r.detected_machine,
    );
    for (code, n) in &r.rejected {
        out.push_str(&format!("\nrejected     {n} × {code}"));
    }
    for (reason, n) in &r.failures {
        out.push_str(&format!("\nfailed       {n} × {reason}"));
    }
    out
}

/// A program the bench runs, or a clear one-line error.
fn require(program: &str, why: &str) -> anyhow::Result<()> {
    match std::process::Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            anyhow::bail!("{program} is not installed; bench calls needs it {why}")
        }
        Err(e) => anyhow::bail!("{program} does not run ({e}); bench calls needs it {why}"),
    }
}

/// Writes the scenario and the far end's audio into `dir`: "hello" (0.6 s of a 300 Hz
/// tone, a word to the energy detector) and silence up to `seconds`, µ-law 8 kHz as sipp's
/// rtp_stream wants it. One long file rather than a loop: sipp 3.6.1 stopped after one pass
/// of `rtp_stream="audio.wav,-1,0"`.
fn stage(dir: &Path, seconds: f64) -> anyhow::Result<()> {
    std::fs::write(dir.join("uas_talk.xml"), SCENARIO)?;
    let status = std::process::Command::new("sox")
        .current_dir(dir)
        .args(["-n", "-r", "8000", "-c", "1", "-e", "u-law", "audio.wav"])
        .args(["synth", "0.6", "sine", "300", "vol", "0.5", "pad", "0"])
        .arg(format!("{:.0}", seconds.ceil()))
        .stderr(Stdio::null())
        .status()
        .context("running sox")?;
    anyhow::ensure!(status.success(), "sox could not write the far end's audio");
    Ok(())
}

fn sipp(dir: &Path, calls: u32) -> anyhow::Result<tokio::process::Child> {
    let log = std::fs::File::create(dir.join("sipp.log"))?;
    let child = tokio::process::Command::new("sipp")
        .current_dir(dir)
        .args(["-sf", "uas_talk.xml", "-i", "127.0.0.1", "-mi", "127.0.0.1"])
        .args([
            "-p",
            &SIPP_PORT.to_string(),
            "-mp",
            &SIPP_MEDIA_PORT.to_string(),
        ])
        .args(["-m", &calls.to_string(), "-nostdin", "-trace_err"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .context("starting sipp")?;
    Ok(child)
}

/// The bench's message: whole sentences lasting at least `seconds` once spoken.
async fn message(shared: &Shared, seconds: f64) -> anyhow::Result<String> {
    let one = shared.speaker.say(SENTENCE).await?;
    let one_s = (one.len() as f64 / 8000.0).max(0.5);
    let times = (seconds / one_s).ceil() as usize + 1;
    let text = vec![SENTENCE; times].join(" ");
    // Rendered now, once: 200 calls must not each start the voice at the same moment.
    shared.speaker.say(&text).await?;
    Ok(text)
}

/// What the events said so far.
#[derive(Default)]
struct Tally {
    answered: Vec<bool>,
    ended: Vec<bool>,
    answered_count: u32,
    ended_count: u32,
    live: u32,
    peak: u32,
    person: u32,
    machine: u32,
    rejected: BTreeMap<u16, u32>,
    failures: BTreeMap<String, u32>,
}

impl Tally {
    fn new(calls: u32) -> Tally {
        Tally {
            answered: vec![false; calls as usize],
            ended: vec![false; calls as usize],
            ..Tally::default()
        }
    }

    /// Every call placed is up or over.
    fn settled(&self, placed: u32) -> bool {
        (0..placed as usize).all(|i| self.answered[i] || self.ended[i])
    }

    /// Takes one event; returns the command the engine would give back, if any.
    fn take(&mut self, call: usize, event: Event, text: &str) -> Option<Command> {
        if call >= self.answered.len() {
            return None;
        }
        match event {
            Event::Final { code: 200, .. } if !self.answered[call] => {
                self.answered[call] = true;
                self.answered_count += 1;
                self.live += 1;
                self.peak = self.peak.max(self.live);
            }
            Event::Final { code, .. } if code != 200 => {
                *self.rejected.entry(code).or_default() += 1;
            }
            Event::Input(Input::Answered { .. }) => self.person += 1,
            Event::Input(Input::Voicemail { .. }) => {
                self.machine += 1;
                // What the engine does on a machine: leave the message after the beep.
                return Some(Command::Voicemail(text.to_string()));
            }
            Event::Failed(reason) => *self.failures.entry(reason).or_default() += 1,
            Event::Ended if !self.ended[call] => {
                self.ended[call] = true;
                self.ended_count += 1;
                if self.answered[call] {
                    self.live -= 1;
                }
            }
            _ => {}
        }
        None
    }
}

/// The calls' events until `until`, or until `done` says so.
async fn pump(
    events: &mut Events,
    tally: &mut Tally,
    hang: &[mpsc::UnboundedSender<Command>],
    text: &str,
    until: Instant,
    mut done: impl FnMut(&Tally) -> bool,
) {
    while !done(tally) {
        let Ok(Some((_, call, event))) = tokio::time::timeout_at(until, events.recv()).await else {
            return;
        };
        if let Some(command) = tally.take(call as usize, event, text)
            && let Some(tx) = hang.get(call as usize)
        {
            let _ = tx.send(command);
        }
    }
}

async fn run(args: &CallsArgs) -> anyhow::Result<CallsReport> {
    require(
        "sipp",
        "as the far end that answers the calls (apt-get install sip-tester)",
    )?;
    require("sox", "to write the far end's audio (apt-get install sox)")?;
    let voice = voice()?;
    anyhow::ensure!(
        std::net::UdpSocket::bind(("127.0.0.1", SIPP_PORT)).is_ok(),
        "port {SIPP_PORT} (sipp's SIP) is taken: is another bench calls running?"
    );
    let ramp = f64::from(args.calls) / f64::from(args.rate);
    let longest = ramp + SETTLE.as_secs_f64() + args.seconds as f64 + 10.0;
    let dir = tempfile::Builder::new().prefix("bench-calls-").tempdir()?;
    stage(dir.path(), longest)?;

    let listen: SocketAddr = SIP_LISTEN.into();
    let trunk = Trunk {
        host: "127.0.0.1".into(),
        port: SIPP_PORT,
    };
    let mut config = SipConfig::new(listen, trunk, "+15555550199".into());
    config.rtp_ports = RTP_PORTS;
    config.voice = voice;
    let (shared, mut events) = Shared::start(config, None, None)
        .await
        .context("the bench's SIP telephony")?;
    let text = message(&shared, longest).await?;

    let mut far_end = sipp(dir.path(), args.calls)?;
    let sipp_pid = far_end.id().context("sipp has no process id")?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    if let Some(status) = far_end.try_wait()? {
        anyhow::bail!("sipp stopped at once ({status}): {}", sipp_log(dir.path()));
    }

    let mut hang = Vec::new();
    let mut tally = Tally::new(args.calls);
    let start = Instant::now();
    for i in 0..args.calls {
        let at = start + Duration::from_secs_f64(f64::from(i) / f64::from(args.rate));
        pump(&mut events, &mut tally, &hang, &text, at, |_| false).await;
        let (tx, rx) = mpsc::unbounded_channel();
        hang.push(tx);
        let dial = Dial {
            alarm: None,
            call: i,
            to: format!("+1555{:07}", 2_000_000 + i),
            purpose: Purpose::Automated,
            message: Some(text.clone()),
            offers_agent: false,
            attached: None,
        };
        tokio::spawn(call::run(shared.clone(), dial, rx));
    }
    let placed = args.calls;
    pump(
        &mut events,
        &mut tally,
        &hang,
        &text,
        Instant::now() + SETTLE,
        |t| t.settled(placed),
    )
    .await;
    if let Some(status) = far_end.try_wait()? {
        anyhow::bail!(
            "sipp stopped during the ramp ({status}): {}",
            sipp_log(dir.path())
        );
    }

    let steady_calls = tally.live;
    let (cpu0, sipp0, udp0, drops0, sent0) = (
        cpu_time(None)?,
        cpu_time(Some(sipp_pid))?,
        udp_counters()?,
        Drops::now()?,
        shared.jitter.buckets(),
    );
    let t0 = Instant::now();
    let mut steady_min = tally.live;
    let until = t0 + Duration::from_secs(args.seconds);
    while Instant::now() < until {
        let tick = (Instant::now() + Duration::from_millis(250)).min(until);
        pump(&mut events, &mut tally, &hang, &text, tick, |_| false).await;
        steady_min = steady_min.min(tally.live);
    }
    let (cpu1, sipp1, udp1, drops1, sent1) = (
        cpu_time(None)?,
        cpu_time(Some(sipp_pid))?,
        udp_counters()?,
        Drops::now()?,
        shared.jitter.buckets(),
    );
    let steady = t0.elapsed().as_secs_f64();

    for tx in &hang {
        let _ = tx.send(Command::HangUp);
    }
    pump(
        &mut events,
        &mut tally,
        &hang,
        &text,
        Instant::now() + HANGUP_WAIT,
        |t| t.ended_count == placed,
    )
    .await;
    let _ = far_end.kill().await;

    let delta = |name: &str| {
        let at = |c: &std::collections::HashMap<String, u64>| c.get(name).copied().unwrap_or(0);
        at(&udp1).saturating_sub(at(&udp0))
    };
    let window: Vec<u64> = sent1
        .iter()
        .zip(&sent0)
        .map(|(a, b)| a.saturating_sub(*b))
        .collect();
    let sent: u64 = window.iter().sum();
    let per_call_s = |n: f64| {
        if steady_calls == 0 {
            0.0
        } else {
            round1(n / f64::from(steady_calls) / steady)
        }
    };
    let pct = |d: Duration| d.as_secs_f64() / steady * 100.0;
    let center_cpu = pct(cpu1.saturating_sub(cpu0));
    let ms = |d: Duration| round1(d.as_secs_f64() * 1000.0);
    Ok(CallsReport {
        placed,
        answered: tally.answered_count,
        peak_concurrent: tally.peak,
        steady_calls,
        steady_min_calls: steady_min,
        steady_seconds: round1(steady),
        rtp_late_p50_ms: ms(quantile(&window, 0.50)),
        rtp_late_p99_ms: ms(quantile(&window, 0.99)),
        rtp_late_max_ms: ms(quantile(&window, 1.0)),
        rtp_late_all_p99_ms: ms(shared.jitter.quantile(0.99)),
        rtp_late_all_max_ms: ms(shared.jitter.quantile(1.0)),
        sent_per_call_s: per_call_s(sent as f64),
        received_per_call_s: per_call_s(delta("InDatagrams") as f64),
        center_rtp_drops: drops1.center.saturating_sub(drops0.center),
        center_cpu_pct: round1(center_cpu),
        center_cpu_pct_per_call: if steady_calls == 0 {
            0.0
        } else {
            (center_cpu / f64::from(steady_calls) * 100.0).round() / 100.0
        },
        sipp_cpu_pct: round1(pct(sipp1.saturating_sub(sipp0))),
        detected_person: tally.person,
        detected_machine: tally.machine,
        rejected: tally.rejected,
        failures: tally.failures,
    })
}

/// Drops so far at the center's RTP sockets.
struct Drops {
    center: u64,
}

impl Drops {
    fn now() -> anyhow::Result<Drops> {
        let center = udp_drops()?
            .into_iter()
            .filter(|(port, _)| RTP_PORTS.contains(port))
            .map(|(_, n)| n)
            .sum();
        Ok(Drops { center })
    }
}

/// The lateness below which `share` (0..=1) of the sends counted in `buckets` (100 µs each,
/// as `Jitter::buckets`) were, rounded up to the bucket's end as `Jitter::quantile` does.
fn quantile(buckets: &[u64], share: f64) -> Duration {
    let total: u64 = buckets.iter().sum();
    let wanted = ((total as f64 * share).ceil() as u64).max(1);
    let mut seen = 0;
    for (i, n) in buckets.iter().enumerate() {
        seen += n;
        if seen >= wanted {
            return Duration::from_micros((i as u64 + 1) * 100);
        }
    }
    Duration::ZERO
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The last lines sipp wrote on stderr, on one line.
fn sipp_log(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("sipp.log")).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = lines[lines.len().saturating_sub(3)..].join(" / ");
    if tail.is_empty() {
        "sipp wrote nothing on stderr".into()
    } else {
        tail
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tally_counts_calls_up_at_once_and_what_ended_them() {
        let mut t = Tally::new(3);
        let ok = || Event::Final {
            code: 200,
            reason: "OK".into(),
        };
        assert!(t.take(0, ok(), "m").is_none());
        t.take(1, ok(), "m");
        t.take(
            2,
            Event::Final {
                code: 503,
                reason: "Service Unavailable".into(),
            },
            "m",
        );
        t.take(2, Event::Ended, "m");
        assert!(t.settled(3));
        assert_eq!((t.live, t.peak, t.answered_count), (2, 2, 2));
        let reply = t.take(0, Event::Input(Input::Voicemail { call: 0 }), "the message");
        assert!(matches!(reply, Some(Command::Voicemail(m)) if m == "the message"));
        t.take(0, Event::Ended, "m");
        t.take(0, Event::Ended, "m");
        t.take(9, Event::Ended, "m");
        assert_eq!((t.live, t.peak, t.ended_count), (1, 2, 2));
        assert_eq!(t.rejected[&503], 1);
        assert_eq!(t.machine, 1);
    }

    #[test]
    fn steady_state_quantiles_leave_the_ramp_out() {
        let jitter = watchpost_telephony::jitter::Jitter::default();
        jitter.record(Duration::from_millis(40));
        let before = jitter.buckets();
        for _ in 0..99 {
            jitter.record(Duration::from_micros(50));
        }
        jitter.record(Duration::from_micros(2_050));
        let after = jitter.buckets();
        let window: Vec<u64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
        assert_eq!(quantile(&window, 0.5), Duration::from_micros(100));
        assert_eq!(quantile(&window, 1.0), Duration::from_micros(2_100));
        assert_eq!(quantile(&window, 0.99), Duration::from_micros(100));
        assert_eq!(jitter.quantile(1.0), Duration::from_micros(40_100));
        assert_eq!(quantile(&[0, 0], 0.99), Duration::ZERO);
    }

    #[test]
    fn the_scenario_answers_and_plays_its_audio() {
        assert!(SCENARIO.contains("SIP/2.0 200 OK"));
        assert!(SCENARIO.contains("rtp_stream=\"audio.wav,1,0\""));
        assert!(SCENARIO.contains("<recv request=\"BYE\"/>"));
    }

    #[test]
    fn ports_stay_clear_of_a_center_s_defaults() {
        let defaults = SipConfig::new(
            "127.0.0.1:5060".parse().unwrap(),
            "127.0.0.1:5080".parse().unwrap(),
            "+15555550100".into(),
        );
        assert!(!RTP_PORTS.contains(defaults.rtp_ports.start()));
        assert!(!defaults.rtp_ports.contains(RTP_PORTS.start()));
        assert!(!RTP_PORTS.contains(&SIPP_MEDIA_PORT));
        assert!(!RTP_PORTS.contains(&SIP_LISTEN.1) && !RTP_PORTS.contains(&SIPP_PORT));
    }

    #[tokio::test(flavor = "multi_thread")]
    #[ignore = "needs sipp, sox and espeak-ng (.ci/run installs them); binds the bench's ports"]
    async fn calls_come_up_and_media_flows_both_ways() {
        let args = CallsArgs {
            calls: 3,
            seconds: 2,
            rate: 10,
            json: true,
        };
        let r = run(&args).await.expect("runs");
        assert_eq!(
            (r.placed, r.answered, r.peak_concurrent),
            (3, 3, 3),
            "{r:?}"
        );
        assert_eq!(r.steady_min_calls, 3, "{r:?}");
        assert!((45.0..=55.0).contains(&r.sent_per_call_s), "{r:?}");
        assert!((40.0..=55.0).contains(&r.received_per_call_s), "{r:?}");
        assert!(r.failures.is_empty() && r.rejected.is_empty(), "{r:?}");
    }
}
