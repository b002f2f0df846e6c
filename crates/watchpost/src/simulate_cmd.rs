//! `watchpost simulate`: the center simulator. Generated accounts and alarms through the real
//! engine in virtual time, with a limited pool of agents, at one automation level or all four
//! (`--compare`); a table by default, one JSON object with `--json`, the smallest staffing that
//! meets a target with `--find-agents`. Throughput goes to stderr.

use clap::Args;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use watchpost_core::{AlarmKind, Millis};
use watchpost_sim::simulate::config::{
    Answers, Storm, Threshold, Timing, parse_answers, parse_duration, parse_mix, parse_storm,
    parse_threshold,
};
use watchpost_sim::simulate::staffing::{Target, find_agents};
use watchpost_sim::simulate::{Config, Level, Volume, simulate, table};

#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// Random seed: the same seed and options give byte-identical JSON.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Monitored accounts (each with 1–3 contacts).
    #[arg(long, default_value_t = 100_000)]
    accounts: u32,
    /// Simulated hours of alarms, a Poisson process (default 24 unless --alarms is given).
    #[arg(long, conflicts_with = "alarms")]
    hours: Option<f64>,
    /// Exactly this many alarms instead of --hours.
    #[arg(long)]
    alarms: Option<u64>,
    /// Alarms per hour across the center, outside storms.
    #[arg(long, default_value_t = 240.0)]
    rate: f64,
    /// Agents on duty.
    #[arg(long, default_value_t = 20)]
    agents: u32,
    /// Automation level: manual | voicemail-drop | auto-dial | electronic-dispatch.
    #[arg(long, default_value = "voicemail-drop", conflicts_with = "compare")]
    level: Level,
    /// Run all four levels on the same alarms and people.
    #[arg(long)]
    compare: bool,
    /// Alarm mix by kind, relative weights
    /// [default: burglary=70,fire=6,carbon_monoxide=2,panic=6,duress=1,medical=7,water=5,freeze=3].
    #[arg(long, value_parser = |s: &str| parse_mix(s).map(Mix))]
    mix: Option<Mix>,
    /// Share of accounts in their practice week.
    #[arg(long, default_value_t = 0.05)]
    practice_share: f64,
    /// Share of commercial premises (no smoke/CO monitoring there).
    #[arg(long, default_value_t = 0.2)]
    commercial_share: f64,
    /// How phones are answered [default: human=0.45,voicemail=0.3,no_answer=0.2,busy=0.05].
    #[arg(long, value_parser = parse_answers)]
    answer: Option<Answers>,
    /// A person who answers knows the verbal password.
    #[arg(long, default_value_t = 0.85)]
    knows_password: f64,
    /// A person who answers says it is a false alarm.
    #[arg(long, default_value_t = 0.7)]
    says_cancel: f64,
    /// A practice-call person presses 1 for an agent.
    #[arg(long, default_value_t = 0.3)]
    wants_agent: f64,
    /// Share of burglary alarms disarmed 30 s – 5 min after the signal.
    #[arg(long, default_value_t = 0.1)]
    disarm_share: f64,
    /// Storm: START:DURATION:xFACTOR multiplies the alarm rate (repeatable), e.g. 2h:1h:x10.
    #[arg(long, value_parser = parse_storm)]
    storm: Vec<Storm>,
    /// Threshold KIND:METRIC:LIMIT to count breaches of (repeatable) [default: fire:dispatch:90s].
    #[arg(long, value_parser = parse_threshold)]
    threshold: Vec<Threshold>,
    /// Smallest agent count meeting a target, e.g. "p90 first_call <= 30s".
    #[arg(long)]
    find_agents: Option<Target>,
    /// Also write a self-contained HTML report with charts.
    #[arg(long, value_name = "FILE.html")]
    report: Option<std::path::PathBuf>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// Mean time for a person to answer.
    #[arg(long, value_parser = parse_duration, default_value = "6s")]
    answer_after: Millis,
    /// Mean agent conversation (verify, decide).
    #[arg(long, value_parser = parse_duration, default_value = "25s")]
    conversation: Millis,
    /// Voicemail message length (a manual agent stays on for it).
    #[arg(long, value_parser = parse_duration, default_value = "15s")]
    message: Millis,
    /// An agent opens an alarm from the queue.
    #[arg(long, value_parser = parse_duration, default_value = "8s")]
    pickup: Millis,
    /// An agent's notes after an alarm.
    #[arg(long, value_parser = parse_duration, default_value = "20s")]
    wrap_up: Millis,
    /// Phone dispatch: hold time at the 911 center.
    #[arg(long, value_parser = parse_duration, default_value = "60s")]
    dispatch_hold: Millis,
    /// Phone dispatch: talking to the call-taker.
    #[arg(long, value_parser = parse_duration, default_value = "60s")]
    dispatch_talk: Millis,
    /// Electronic ASAP-to-PSAP dispatch: agent time per request.
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    asap: Millis,
    /// Follow-up window after dispatch (0: close when the plan is done).
    #[arg(long, value_parser = parse_duration, default_value = "0s")]
    follow_up: Millis,
}

/// Weights by alarm kind (a newtype, so clap takes it as one value).
#[derive(Debug, Clone)]
struct Mix(Vec<(AlarmKind, f64)>);

impl SimulateArgs {
    fn config(&self) -> Config {
        let d = Config::default();
        Config {
            seed: self.seed,
            accounts: self.accounts.max(1),
            volume: match (self.alarms, self.hours) {
                (Some(n), _) => Volume::Alarms(n),
                (None, Some(h)) => Volume::Hours(h),
                (None, None) => d.volume,
            },
            rate_per_hour: self.rate,
            agents: self.agents,
            mix: self.mix.clone().map_or(d.mix, |m| m.0),
            practice_share: self.practice_share,
            commercial_share: self.commercial_share,
            guard_share: d.guard_share,
            answers: self.answer.unwrap_or(d.answers),
            knows_password: self.knows_password,
            says_cancel: self.says_cancel,
            wants_agent: self.wants_agent,
            disarm_share: self.disarm_share,
            timing: Timing {
                answer_after: self.answer_after,
                conversation: self.conversation,
                message: self.message,
                pickup: self.pickup,
                wrap_up: self.wrap_up,
                dispatch_hold: self.dispatch_hold,
                dispatch_talk: self.dispatch_talk,
                asap: self.asap,
                follow_up: self.follow_up,
                ..d.timing
            },
            storms: self.storm.clone(),
            thresholds: if self.threshold.is_empty() {
                d.thresholds
            } else {
                self.threshold.clone()
            },
        }
    }
}

pub fn run(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    let config = args.config();
    if config.rate_per_hour <= 0.0 {
        anyhow::bail!("--rate must be more than zero");
    }
    let levels: Vec<Level> = if args.compare {
        Level::ALL.to_vec()
    } else {
        vec![args.level]
    };
    let started = Instant::now();
    let progress = AtomicU64::new(0);
    let done = AtomicBool::new(false);
    let expected = match config.volume {
        Volume::Alarms(n) => n,
        Volume::Hours(h) => (h * config.rate_per_hour) as u64,
    } * levels.len() as u64;
    let results = std::thread::scope(|scope| {
        if std::io::stderr().is_terminal() && args.find_agents.is_none() {
            scope.spawn(|| show_progress(&progress, &done, expected));
        }
        let mut results = simulate(&config, &levels, Some(&progress));
        if let Some(target) = &args.find_agents {
            results.staffing = Some(find_agents(&config, &levels, target));
        }
        done.store(true, Ordering::Relaxed);
        results
    });
    let elapsed = started.elapsed().as_secs_f64();
    if args.json {
        out!("{}", serde_json::to_string(&results)?);
    } else {
        out!("{}", table::render(&results).trim_end_matches('\n'));
    }
    if let Some(path) = &args.report {
        std::fs::write(path, watchpost_sim::simulate::html::render(&results))
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    }
    let simulated: u64 = results.levels.iter().map(|l| l.alarms).sum();
    err!(
        "simulated {simulated} alarms in {elapsed:.2} s: {:.0} alarms/s ({:.2} M/min)",
        simulated as f64 / elapsed,
        simulated as f64 / elapsed * 60.0 / 1e6
    );
    Ok(ExitCode::SUCCESS)
}

fn show_progress(progress: &AtomicU64, done: &AtomicBool, expected: u64) {
    let mut shown = false;
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(200));
        let n = progress.load(Ordering::Relaxed);
        let pct = (n as f64 / expected.max(1) as f64 * 100.0).min(100.0);
        let bar = "#".repeat((pct / 5.0) as usize);
        eprint!("\r[{bar:<20}] {pct:5.1}% {n} alarms");
        shown = true;
    }
    if shown {
        eprint!("\r{:60}\r", "");
    }
}
