//! The JSON report of SCENARIOS.md, field for field, and the `[expect]` checks against it.
//! A contract read by tools outside the project: extend, never rename or drop.

use super::format::Expect;
use serde::Serialize;
use watchpost_core::alarm::{CallResult, Purpose};
use watchpost_core::{Alarm, Millis};

#[derive(Debug, Serialize)]
pub struct FileReport {
    pub scenario: Option<String>,
    pub file: String,
    pub passed: bool,
    pub failures: Vec<String>,
    pub alarms: Vec<AlarmReport>,
    /// Set when the file was refused or could not run (exit status 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct AlarmReport {
    pub kind: &'static str,
    pub mode: &'static str,
    pub priority: u8,
    pub opened_at_s: f64,
    pub closed_at_s: Option<f64>,
    pub disposition: Option<&'static str>,
    pub dispatch: Vec<DispatchReport>,
    pub calls: Vec<CallReport>,
    pub notifications: Vec<serde_json::Value>,
    pub timeline: Vec<TimelineReport>,
    /// Extension: calls from contacts back to the center.
    pub callbacks: Vec<CallbackReport>,
}

#[derive(Debug, Serialize)]
pub struct DispatchReport {
    pub agency: &'static str,
    pub requested_at_s: f64,
    pub canceled_at_s: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct CallReport {
    pub to: String,
    pub purpose: &'static str,
    pub placed_at_s: f64,
    pub ended_at_s: Option<f64>,
    pub result: Option<&'static str>,
    pub voicemail_left: bool,
    pub verified: Option<bool>,
    pub decision: Option<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct CallbackReport {
    pub from: String,
    pub received_at_s: f64,
    pub ended_at_s: Option<f64>,
    pub verified: Option<bool>,
    pub decision: Option<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct TimelineReport {
    pub at_s: f64,
    pub event: String,
    pub detail: String,
}

/// Seconds since the scenario's start.
fn secs(start: Millis, at: Millis) -> f64 {
    (at - start) as f64 / 1000.0
}

pub fn alarm_report(start: Millis, alarm: &Alarm) -> AlarmReport {
    let spec = alarm.spec();
    let s = |at| secs(start, at);
    let outbound = alarm
        .calls()
        .iter()
        .filter(|c| c.purpose != Purpose::Callback);
    AlarmReport {
        kind: spec.kind.as_str(),
        mode: spec.mode.as_str(),
        priority: spec.kind.priority(),
        opened_at_s: s(spec.opened_at),
        closed_at_s: alarm.closed().map(|(at, _)| s(at)),
        disposition: alarm.closed().map(|(_, d)| d.as_str()),
        dispatch: alarm
            .dispatches()
            .iter()
            .map(|d| DispatchReport {
                agency: d.agency.as_str(),
                requested_at_s: s(d.requested_at),
                canceled_at_s: d.canceled_at.map(s),
            })
            .collect(),
        // A call hung up before it was ever placed never rang anyone.
        calls: outbound
            .filter_map(|c| {
                Some(CallReport {
                    to: c.to.clone(),
                    purpose: c.purpose.as_str(),
                    placed_at_s: s(c.placed_at?),
                    ended_at_s: c.ended_at.map(s),
                    result: c.result.map(CallResult::as_str),
                    voicemail_left: c.voicemail_left,
                    verified: c.verified,
                    decision: c.decision.map(|d| d.as_str()),
                })
            })
            .collect(),
        notifications: vec![],
        timeline: alarm
            .timeline()
            .iter()
            .map(|t| TimelineReport {
                at_s: s(t.at),
                event: t.event.clone(),
                detail: t.detail.clone(),
            })
            .collect(),
        callbacks: alarm
            .calls()
            .iter()
            .filter(|c| c.purpose == Purpose::Callback)
            .map(|c| CallbackReport {
                from: c.to.clone(),
                received_at_s: s(c.requested_at),
                ended_at_s: c.ended_at.map(s),
                verified: c.verified,
                decision: c.decision.map(|d| d.as_str()),
            })
            .collect(),
    }
}

/// Every failed expectation, as a sentence.
pub fn check(expect: &Expect, alarms: &[AlarmReport]) -> Vec<String> {
    let mut failures = Vec::new();
    if let Some(wanted) = &expect.dispositions {
        let wanted: Vec<&str> = wanted.iter().map(|d| d.as_str()).collect();
        let got: Vec<&str> = alarms
            .iter()
            .map(|a| a.disposition.unwrap_or("open"))
            .collect();
        let compared = if wanted.len() == 1 {
            got.first().map(|g| vec![*g]).unwrap_or_default()
        } else {
            got.clone()
        };
        if compared != wanted {
            let show = |v: &[&str]| match v {
                [one] => format!("{one:?}"),
                _ => format!("{v:?}"),
            };
            failures.push(format!(
                "disposition: expected {}, got {}",
                show(&wanted),
                if got.is_empty() {
                    "no alarm".to_string()
                } else {
                    show(&got)
                }
            ));
        }
    }
    if let Some(wanted) = &expect.dispatch {
        let wanted: Vec<&str> = wanted.iter().map(|a| a.as_str()).collect();
        let mut got: Vec<(f64, &str)> = alarms
            .iter()
            .flat_map(|a| a.dispatch.iter().map(|d| (d.requested_at_s, d.agency)))
            .collect();
        got.sort_by(|a, b| a.0.total_cmp(&b.0));
        let got: Vec<&str> = got.into_iter().map(|(_, agency)| agency).collect();
        if got != wanted {
            failures.push(format!("dispatch: expected {wanted:?}, got {got:?}"));
        }
    }
    if let Some(wanted) = &expect.calls {
        let mut got: Vec<(f64, String)> = alarms
            .iter()
            .flat_map(|a| {
                a.calls.iter().map(|c| {
                    (
                        c.placed_at_s,
                        format!("{}: {}", c.to, c.result.unwrap_or("unfinished")),
                    )
                })
            })
            .collect();
        got.sort_by(|a, b| a.0.total_cmp(&b.0));
        let got: Vec<String> = got.into_iter().map(|(_, call)| call).collect();
        if &got != wanted {
            failures.push(format!("calls: expected {wanted:?}, got {got:?}"));
        }
    }
    failures
}
