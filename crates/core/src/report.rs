//! An alarm as people and tools read it: the alarm fields of the scenario report
//! (docs/scenarios.md), times in seconds from a chosen origin. A contract: extend, never rename.

use crate::account::Millis;
use crate::alarm::{Alarm, CallResult, Purpose};
use serde::Serialize;

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
    /// Extension, filled by the live center's view only: the agency's incident number, whom
    /// an agent told to stand down, and why the alarm was closed without the number (each
    /// JSON null until known).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub confirmed: Option<DispatchConfirmation>,
}

/// What agents recorded of a dispatch (`DispatchReport::confirmed`).
#[derive(Debug, Serialize)]
pub struct DispatchConfirmation {
    pub reference: Option<String>,
    pub stood_down: Option<String>,
    pub waived: Option<String>,
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
    /// Extension: the number dialled (E.164).
    pub phone: String,
    /// Extension: which of the account's numbers that is: `phone` (the contact's first),
    /// `phone2` (its second) or `premises` (the premises phone, whose `to` is `premises`).
    pub line: &'static str,
    /// Extension, filled by the live center's view only: the password check on this call,
    /// `not_checked` | `match` | `no_match`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct CallbackReport {
    pub from: String,
    pub received_at_s: f64,
    pub ended_at_s: Option<f64>,
    pub verified: Option<bool>,
    pub decision: Option<&'static str>,
    /// Extension, as `CallReport::password`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct TimelineReport {
    pub at_s: f64,
    pub event: String,
    pub detail: String,
    /// Extension, filled by the live center's view only: who caused the row, in words
    /// (`agent ann`, `panel`, `system`…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// Seconds since the scenario's start.
fn secs(start: Millis, at: Millis) -> f64 {
    (at - start) as f64 / 1000.0
}

/// The report of `alarm`, with times counted from `start`.
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
                confirmed: None,
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
                    phone: alarm.phone_of(c).to_string(),
                    line: c.line.as_str(),
                    password: None,
                })
            })
            .collect(),
        notifications: vec![],
        timeline: alarm
            .timeline()
            .iter()
            .map(|t| TimelineReport {
                at_s: s(t.at),
                event: t.event.to_string(),
                detail: t.detail.to_string(),
                by: None,
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
                password: None,
            })
            .collect(),
    }
}
