//! An alarm's log entry: the spec it opened with, an input it took, or an action it asked
//! for, each with its time and who did it. Replaying the inputs rebuilds the alarm.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use watchpost_core::account_number::canonical;
use watchpost_core::{Action, Alarm, AlarmSpec, Input, Millis, Rejected};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "entry", rename_all = "snake_case")]
pub enum LogBody {
    Opened { spec: Box<AlarmSpec> },
    Input { input: Input },
    Action { action: Action },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    pub seq: u32,
    pub at: Millis,
    /// `panel`, `app`, `telephony`, `agent:NAME`, `engine`, `timer`...
    pub actor: String,
    pub body: LogBody,
}

/// Rebuilds an alarm from its log and checks that every action it derives is the one that
/// was logged. Returns the alarm, or where the replay went a different way.
pub fn replay(entries: &[LogEntry]) -> Result<Alarm, String> {
    let mut entries = entries.iter();
    let Some(LogEntry {
        body: LogBody::Opened { spec },
        actor: opened_by,
        ..
    }) = entries.next()
    else {
        return Err("the log does not start with the alarm's opening".into());
    };
    let mut spec = (**spec).clone();
    // Logs written before account numbers were canonical may carry a lower-case one.
    if let Ok(number) = canonical(&spec.account) {
        spec.account = number;
    }
    let mut alarm = Alarm::open_by(spec, opened_by);
    let mut derived: VecDeque<Action> = std::iter::from_fn(|| alarm.poll_action()).collect();
    for entry in entries {
        match &entry.body {
            LogBody::Opened { .. } => return Err(format!("entry {}: opened twice", entry.seq)),
            LogBody::Action { action } => match derived.pop_front() {
                Some(a) if &a == action => {}
                Some(a) => {
                    return Err(format!(
                        "entry {}: logged {action:?}, replay derived {a:?}",
                        entry.seq
                    ));
                }
                None => return Err(format!("entry {}: {action:?} was not derived", entry.seq)),
            },
            LogBody::Input { input } => {
                if let Some(a) = derived.front() {
                    return Err(format!("entry {}: {a:?} derived but not logged", entry.seq));
                }
                alarm
                    .handle_by(entry.at, &entry.actor, input.clone())
                    .map_err(|e: Rejected| format!("entry {}: {e}", entry.seq))?;
                derived.extend(std::iter::from_fn(|| alarm.poll_action()));
            }
        }
    }
    match derived.front() {
        Some(a) => Err(format!("{a:?} derived but not logged")),
        None => Ok(alarm),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use watchpost_core::router::{Event, open_spec};
    use watchpost_core::{AlarmKind, Settings, SignalClass};

    #[test]
    fn a_log_written_under_a_lower_case_number_replays_under_the_canonical_one() {
        let account = crate::testing::account("5a5b");
        let event = Event::Panel {
            class: SignalClass::Alarm(AlarmKind::Fire),
            code: "FA".into(),
            zone: Some(4),
        };
        let spec = open_spec(&account, AlarmKind::Fire, &event, 0, &Settings::default());
        let mut opened = Alarm::open(spec.clone());
        let actions =
            std::iter::from_fn(|| opened.poll_action()).map(|action| LogBody::Action { action });
        let log: Vec<LogEntry> = std::iter::once(LogBody::Opened {
            spec: Box::new(spec),
        })
        .chain(actions)
        .zip(0..)
        .map(|(body, seq)| LogEntry {
            seq,
            at: 0,
            actor: "engine".into(),
            body,
        })
        .collect();
        let alarm = replay(&log).unwrap();
        assert_eq!(alarm.spec().account, "5A5B");
    }
}
