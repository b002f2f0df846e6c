//! What a simulation run is told: the center's size and load, how people answer, how long
//! agents take, the automation level, storms and thresholds, with their documented defaults
//! and the parsers the command line uses (`90s`, `2h:1h:x10`, `burglary=60,fire=8`).

use serde::Serialize;
use std::fmt;
use watchpost_core::{AlarmKind, Millis};

/// How much of the work the system does instead of an agent. Each level keeps what the one
/// before it automates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// The agent dials every contact and, on voicemail, stays on to leave the message.
    Manual,
    /// The system leaves the voicemail; the agent moves on at once (the seed's automation).
    VoicemailDrop,
    /// Calls are placed the instant the signal arrives; an agent joins once a person answers.
    AutoDial,
    /// Dispatch requests go to the PSAP electronically (ASAP-to-PSAP) instead of by phone.
    ElectronicDispatch,
}

impl Level {
    pub const ALL: [Level; 4] = [
        Level::Manual,
        Level::VoicemailDrop,
        Level::AutoDial,
        Level::ElectronicDispatch,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Manual => "manual",
            Level::VoicemailDrop => "voicemail-drop",
            Level::AutoDial => "auto-dial",
            Level::ElectronicDispatch => "electronic-dispatch",
        }
    }

    pub fn voicemail_drop(self) -> bool {
        self >= Level::VoicemailDrop
    }

    pub fn auto_dial(self) -> bool {
        self >= Level::AutoDial
    }

    pub fn electronic_dispatch(self) -> bool {
        self >= Level::ElectronicDispatch
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Level, String> {
        Level::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown level {s:?}: manual | voicemail-drop | auto-dial | electronic-dispatch"
                )
            })
    }
}

/// How a contact's phone behaves for one alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Human,
    Voicemail,
    NoAnswer,
    Busy,
}

/// Probabilities of each way a phone is answered (normalised when used).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Answers {
    pub human: f64,
    pub voicemail: f64,
    pub no_answer: f64,
    pub busy: f64,
}

impl Default for Answers {
    fn default() -> Self {
        Answers {
            human: 0.45,
            voicemail: 0.30,
            no_answer: 0.20,
            busy: 0.05,
        }
    }
}

/// Seconds of everything that takes time, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Timing {
    /// An agent (or the auto-dialer) dials a call.
    pub dial: Millis,
    /// Mean time for a person to pick up (each person draws 50%–150% of it).
    pub answer_after: Millis,
    pub voicemail_after: Millis,
    pub ring_timeout: Millis,
    pub busy_after: Millis,
    pub detect_voicemail: Millis,
    /// Mean agent conversation: verify the password, take the decision (50%–150%).
    pub conversation: Millis,
    /// A recorded message, or a voicemail left by hand.
    pub message: Millis,
    /// An agent opens an alarm from the queue and reads it.
    pub pickup: Millis,
    /// An agent finishes an alarm's notes before the next one.
    pub wrap_up: Millis,
    /// Phone dispatch: on hold at the 911 center, then talking to its call-taker.
    pub dispatch_hold: Millis,
    pub dispatch_talk: Millis,
    /// Electronic ASAP-to-PSAP dispatch: agent time to send the request.
    pub asap: Millis,
    /// A dispatched alarm stays open this long (0: it closes when its plan is done).
    pub follow_up: Millis,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            dial: 1_000,
            answer_after: 6_000,
            voicemail_after: 20_000,
            ring_timeout: 30_000,
            busy_after: 3_000,
            detect_voicemail: 3_000,
            conversation: 25_000,
            message: 15_000,
            pickup: 8_000,
            wrap_up: 20_000,
            dispatch_hold: 60_000,
            dispatch_talk: 60_000,
            asap: 5_000,
            follow_up: 0,
        }
    }
}

/// A window in which the alarm rate is multiplied.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Storm {
    pub start: Millis,
    pub duration: Millis,
    pub factor: f64,
}

/// A limit on one result, e.g. fire `dispatch` within 90 s.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Threshold {
    pub kind: AlarmKind,
    pub metric: Metric,
    pub limit: Millis,
}

/// The measured intervals, each from the signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// The first call placed (any call, automated ones included).
    FirstCall,
    /// The first person who answered.
    Reached,
    /// The first dispatch request passed on to the agency.
    Dispatch,
    /// The alarm closed and no agent work was left on it.
    Closed,
    /// Waiting in the operator queue until an agent first picked the alarm up.
    QueueWait,
}

impl Metric {
    pub const ALL: [Metric; 5] = [
        Metric::FirstCall,
        Metric::Reached,
        Metric::Dispatch,
        Metric::Closed,
        Metric::QueueWait,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::FirstCall => "first_call",
            Metric::Reached => "reached",
            Metric::Dispatch => "dispatch",
            Metric::Closed => "closed",
            Metric::QueueWait => "queue_wait",
        }
    }

    pub fn parse(s: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// How many alarms a run generates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Volume {
    /// A Poisson process over this many hours (milliseconds here).
    Hours(f64),
    /// Exactly this many alarms, arriving as the same Poisson process.
    Alarms(u64),
}

/// Everything a run depends on. The same config and seed give the same results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    pub seed: u64,
    pub accounts: u32,
    pub volume: Volume,
    /// Alarms per hour across the center, outside storms.
    pub rate_per_hour: f64,
    pub agents: u32,
    /// Weights by alarm kind, in `AlarmKind::ALL` order.
    #[serde(serialize_with = "kind_map")]
    pub mix: Vec<(AlarmKind, f64)>,
    /// Share of accounts in their practice week.
    pub practice_share: f64,
    pub commercial_share: f64,
    /// Share of accounts whose burglary responder is a guard service.
    pub guard_share: f64,
    pub answers: Answers,
    /// A person who answers knows the verbal password.
    pub knows_password: f64,
    /// A person who answers says it is a false alarm (most alarms are).
    pub says_cancel: f64,
    /// A practice-call person presses 1 to speak with an agent.
    pub wants_agent: f64,
    /// Share of burglary alarms disarmed at the keypad 30 s – 5 min after the signal.
    pub disarm_share: f64,
    pub timing: Timing,
    pub storms: Vec<Storm>,
    pub thresholds: Vec<Threshold>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 1,
            accounts: 100_000,
            volume: Volume::Hours(24.0),
            rate_per_hour: 240.0,
            agents: 20,
            mix: default_mix(),
            practice_share: 0.05,
            commercial_share: 0.2,
            guard_share: 0.05,
            answers: Answers::default(),
            knows_password: 0.85,
            says_cancel: 0.7,
            wants_agent: 0.3,
            disarm_share: 0.1,
            timing: Timing::default(),
            storms: Vec::new(),
            thresholds: vec![Threshold {
                kind: AlarmKind::Fire,
                metric: Metric::Dispatch,
                limit: 90_000,
            }],
        }
    }
}

fn kind_map<S: serde::Serializer>(mix: &[(AlarmKind, f64)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(mix.iter().map(|(k, w)| (k, w)))
}

/// Burglary-heavy, as at a residential center: most signals are intrusion alarms.
pub fn default_mix() -> Vec<(AlarmKind, f64)> {
    use AlarmKind::*;
    vec![
        (Burglary, 70.0),
        (Fire, 6.0),
        (CarbonMonoxide, 2.0),
        (Panic, 6.0),
        (Duress, 1.0),
        (Medical, 7.0),
        (Water, 5.0),
        (Freeze, 3.0),
    ]
}

/// `90`, `90s`, `1.5m`, `2h`, `1h30m`, `250ms` → milliseconds (a bare number is seconds).
pub fn parse_duration(text: &str) -> Result<Millis, String> {
    let text = text.trim();
    let bad = || format!("not a duration: {text:?} (e.g. 90s, 5m, 2h, 1h30m)");
    if text.is_empty() {
        return Err(bad());
    }
    let mut total = 0.0;
    let mut rest = text;
    while !rest.is_empty() {
        let split = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..split].parse().map_err(|_| bad())?;
        rest = &rest[split..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "" | "s" => 1_000.0,
            "ms" => 1.0,
            "m" | "min" => 60_000.0,
            "h" => 3_600_000.0,
            "d" => 86_400_000.0,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total += number * scale;
    }
    Ok(total.round() as Millis)
}

/// `KEY=NUMBER,KEY=NUMBER` pairs.
fn pairs(text: &str) -> Result<Vec<(&str, f64)>, String> {
    text.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let (k, v) = p
                .split_once('=')
                .ok_or_else(|| format!("expected KEY=NUMBER, got {p:?}"))?;
            let v: f64 = v
                .trim()
                .parse()
                .map_err(|_| format!("not a number in {p:?}"))?;
            if !(v >= 0.0 && v.is_finite()) {
                return Err(format!("{p:?}: must be zero or more"));
            }
            Ok((k.trim(), v))
        })
        .collect()
}

/// `burglary=60,fire=8,...`: kinds not named get weight 0.
pub fn parse_mix(text: &str) -> Result<Vec<(AlarmKind, f64)>, String> {
    let mut mix: Vec<(AlarmKind, f64)> = AlarmKind::ALL.iter().map(|k| (*k, 0.0)).collect();
    for (key, weight) in pairs(text)? {
        let key = if key == "co" { "carbon_monoxide" } else { key };
        let slot = mix
            .iter_mut()
            .find(|(k, _)| k.as_str() == key)
            .ok_or_else(|| format!("unknown alarm kind {key:?}"))?;
        slot.1 = weight;
    }
    if mix.iter().all(|(_, w)| *w == 0.0) {
        return Err("the mix needs at least one kind with a weight".into());
    }
    Ok(mix)
}

/// `human=0.45,voicemail=0.3,no_answer=0.2,busy=0.05`: kinds not named get 0.
pub fn parse_answers(text: &str) -> Result<Answers, String> {
    let mut a = Answers {
        human: 0.0,
        voicemail: 0.0,
        no_answer: 0.0,
        busy: 0.0,
    };
    for (key, p) in pairs(text)? {
        match key {
            "human" => a.human = p,
            "voicemail" => a.voicemail = p,
            "no_answer" => a.no_answer = p,
            "busy" => a.busy = p,
            _ => {
                return Err(format!(
                    "unknown answer {key:?}: human | voicemail | no_answer | busy"
                ));
            }
        }
    }
    if a.human + a.voicemail + a.no_answer + a.busy <= 0.0 {
        return Err("the answer probabilities add up to zero".into());
    }
    Ok(a)
}

/// `START:DURATION:xFACTOR`, e.g. `2h:1h:x10`.
pub fn parse_storm(text: &str) -> Result<Storm, String> {
    let parts: Vec<&str> = text.split(':').collect();
    let [start, duration, factor] = parts[..] else {
        return Err(format!(
            "a storm is START:DURATION:xFACTOR, e.g. 2h:1h:x10, not {text:?}"
        ));
    };
    let factor: f64 = factor
        .trim()
        .trim_start_matches(['x', 'X'])
        .parse()
        .map_err(|_| format!("not a factor: {factor:?} (e.g. x10)"))?;
    if !(factor >= 0.0 && factor.is_finite()) {
        return Err(format!(
            "the storm factor must be zero or more, not {factor}"
        ));
    }
    Ok(Storm {
        start: parse_duration(start)?,
        duration: parse_duration(duration)?,
        factor,
    })
}

/// `KIND:METRIC:LIMIT`, e.g. `fire:dispatch:90s`.
pub fn parse_threshold(text: &str) -> Result<Threshold, String> {
    let parts: Vec<&str> = text.split(':').collect();
    let [kind, metric, limit] = parts[..] else {
        return Err(format!(
            "a threshold is KIND:METRIC:LIMIT, e.g. fire:dispatch:90s, not {text:?}"
        ));
    };
    let kind = AlarmKind::ALL
        .into_iter()
        .find(|k| k.as_str() == kind)
        .ok_or_else(|| format!("unknown alarm kind {kind:?}"))?;
    let metric = Metric::parse(metric).ok_or_else(|| {
        format!("unknown metric {metric:?}: first_call | reached | dispatch | closed | queue_wait")
    })?;
    Ok(Threshold {
        kind,
        metric,
        limit: parse_duration(limit)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Ok(90_000));
        assert_eq!(parse_duration("90s"), Ok(90_000));
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration("250ms"), Ok(250));
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn storms_and_mixes() {
        let s = parse_storm("2h:1h:x10").unwrap();
        assert_eq!(
            (s.start, s.duration, s.factor),
            (7_200_000, 3_600_000, 10.0)
        );
        let mix = parse_mix("burglary=60,fire=8").unwrap();
        assert_eq!(mix[0], (AlarmKind::Burglary, 60.0));
        assert_eq!(mix[2], (AlarmKind::CarbonMonoxide, 0.0));
        assert!(parse_mix("bogus=1").is_err());
        assert_eq!(parse_answers("human=1").unwrap().busy, 0.0);
        assert_eq!(parse_threshold("fire:dispatch:90s").unwrap().limit, 90_000);
    }
}
